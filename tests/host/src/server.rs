//! Serves an [`App`] over HTTP/1.1 on a TCP listener.

use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::app::App;

/// Accepts connections until the task is dropped; each request goes to [`App::handle`].
pub async fn serve(app: Arc<App>, listener: TcpListener) {
    loop {
        let (stream, client) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("test host: accept failed: {e}");
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let app = app.clone();
                async move {
                    let (parts, body) = request.into_parts();
                    let body = body.collect().await?.to_bytes();
                    let response = app.handle(hyper::Request::from_parts(parts, Full::new(body)), Some(client)).await;
                    Ok::<_, hyper::Error>(response)
                }
            });
            let served = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
            if let Err(e) = served
                && !e.is_incomplete_message()
            {
                eprintln!("test host: connection from {client} failed: {e}");
            }
        });
    }
}
