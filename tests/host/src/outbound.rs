//! Outbound HTTP as Spin does it: `allowed_outbound_hosts` enforced (a denied request is
//! `HttpRequestDenied`), and `http://self.alt/...` served by the app itself when `http://self`
//! is allowed. Relative URIs are refused here (Spin resolves them; this host is stricter).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::allowed::AllowedHosts;
use crate::app::App;

type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;
type SendFuture = Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), Error>> + Send>;

/// The hooks of one component run.
pub struct Outbound {
    pub(crate) allowed: AllowedHosts,
    pub(crate) app: Arc<App>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound").field("allowed", &self.allowed).finish()
    }
}

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _: IoFuture,
    ) -> SendFuture {
        let uri = request.uri().clone();
        let host = uri.host().unwrap_or_default().to_owned();
        let scheme = uri.scheme_str().unwrap_or("https").to_owned();
        let port = uri.port_u16().unwrap_or(if scheme == "https" { 443 } else { 80 });
        if host == "self.alt" || host == "self" {
            if !self.allowed.allows_self() {
                return Box::new(async { Err(Error::HttpRequestDenied) });
            }
            let app = self.app.clone();
            return Box::new(async move {
                let (parts, body) = request.into_parts();
                let body = body.collect().await?.to_bytes();
                let request = hyper::Request::from_parts(parts, Full::new(body));
                let response = app.handle(request, "127.0.0.1:0".parse().ok()).await;
                let (parts, body) = response.into_parts();
                let body = body.map_err(|never| match never {}).boxed_unsync();
                Ok((http::Response::from_parts(parts, body), Box::new(async { Ok(()) }) as IoFuture))
            });
        }
        if !self.allowed.allows(&scheme, &host, port) {
            eprintln!("test host: outbound request to {scheme}://{host}:{port} denied by allowed_outbound_hosts");
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        Box::new(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((response.map(BodyExt::boxed_unsync), Box::new(io) as IoFuture))
        })
    }
}

/// A complete response body.
pub type FullBody = Full<Bytes>;
