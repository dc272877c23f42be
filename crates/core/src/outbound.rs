//! Outbound HTTP behind a small trait of our own (as [`crate::db`] hides PostgreSQL): the
//! notification engine hands it a batch of requests and gets each one's outcome, sent with
//! bounded concurrency and a timeout each. The Spin adapter (feature `spin`) drives spin-sdk's
//! `send` on its executor; [`Unavailable`] stands in where a platform has no HTTP.

use std::time::Duration;

/// A request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRequest {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The absolute URL.
    pub url: String,
    /// Headers (names as written).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// How long to wait for the answer before giving up.
    pub timeout: Duration,
}

impl OutRequest {
    /// A `POST` of a JSON body.
    #[must_use]
    pub fn post_json(url: String, body: &serde_json::Value, timeout: Duration) -> Self {
        Self {
            method: "POST",
            url,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: serde_json::to_vec(body).unwrap_or_default(),
            timeout,
        }
    }

    /// The request with a header added.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutResponse {
    /// Status code.
    pub status: u16,
    /// Headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl OutResponse {
    /// A header's value.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` when it is not JSON).
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutError {
    /// No answer within the request's timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The platform refused the destination (`allowed_outbound_hosts`).
    #[error("the destination is not allowed by allowed_outbound_hosts: {0}")]
    Denied(String),
    /// The destination could not be reached (refused, reset, no such host, TLS).
    #[error("unreachable: {0}")]
    Unreachable(String),
}

/// Outbound HTTP.
pub trait Http {
    /// Sends `requests`, at most `concurrency` at a time, and answers each one's outcome in
    /// the same order.
    fn send_all(&self, requests: Vec<OutRequest>, concurrency: usize) -> Vec<Result<OutResponse, OutError>>;

    /// Waits (to pace sends to a rate limit).
    fn sleep(&self, duration: Duration);
}

/// One `allowed_outbound_hosts` entry, read as Spin reads it (`<scheme>://<host>[:<port>]`,
/// `*` for any part, `*.example.com` for subdomains, a port range `8000..9000`), so that a
/// destination the platform would refuse is refused up front with a clear reason (the
/// platform's own refusal reaches the guest only as a closed stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostRule,
    ports: Option<(u16, u16)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostRule {
    Any,
    Suffix(String),
    Exact(String),
    /// Address ranges and anything else: left to the platform.
    Unchecked,
}

fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl AllowedHost {
    /// Reads an entry; `None` when it is not one (the platform refuses such a manifest).
    #[must_use]
    pub fn parse(entry: &str) -> Option<Self> {
        let (scheme, rest) = entry.trim().split_once("://")?;
        let (host, port) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = port.strip_suffix('/').unwrap_or(port);
        let scheme = (scheme != "*").then(|| scheme.to_ascii_lowercase());
        let ports = match port {
            "*" => None,
            "" => Some(well_known_port(scheme.as_deref()?)?).map(|p| (p, p)),
            range if range.contains("..") => {
                let (from, to) = range.split_once("..")?;
                let (from, to) = (from.parse::<u16>().ok()?, to.parse::<u16>().ok()?);
                Some((from, to.checked_sub(1)?))
            }
            one => Some(one.parse::<u16>().ok()?).map(|p| (p, p)),
        };
        let host = host.trim().trim_end_matches('/').to_ascii_lowercase();
        let host = if host == "*" {
            HostRule::Any
        } else if let Some(domain) = host.strip_prefix("*.") {
            HostRule::Suffix(format!(".{domain}"))
        } else if host.contains('/') || host.contains('*') {
            HostRule::Unchecked
        } else {
            HostRule::Exact(host)
        };
        Some(Self { scheme, host, ports })
    }

    /// Whether `url` (`scheme://host[:port]/...`) is a destination this entry allows (an
    /// entry this check cannot read fully allows it: the platform decides).
    #[must_use]
    pub fn allows(&self, url: &str) -> bool {
        let Some((scheme, rest)) = url.split_once("://") else { return false };
        let scheme = scheme.to_ascii_lowercase();
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, port.parse::<u16>().ok()),
            _ => (authority, None),
        };
        let host = host.to_ascii_lowercase();
        let Some(port) = port.or_else(|| well_known_port(&scheme)) else { return false };
        self.scheme.as_ref().is_none_or(|s| *s == scheme)
            && self.ports.is_none_or(|(from, to)| (from..=to).contains(&port))
            && match &self.host {
                HostRule::Any | HostRule::Unchecked => true,
                HostRule::Suffix(suffix) => host.ends_with(suffix.as_str()),
                HostRule::Exact(exact) => host == *exact,
            }
    }
}

/// A platform without outbound HTTP: every request is unreachable.
#[derive(Debug, Default)]
pub struct Unavailable;

impl Http for Unavailable {
    fn send_all(&self, requests: Vec<OutRequest>, _: usize) -> Vec<Result<OutResponse, OutError>> {
        requests.iter().map(|_| Err(OutError::Unreachable("no outbound HTTP here".to_owned()))).collect()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// spin-sdk's outbound HTTP, driven on its executor.
#[cfg(feature = "spin")]
#[derive(Debug, Default)]
pub struct SpinHttp;

#[cfg(feature = "spin")]
impl Http for SpinHttp {
    fn send_all(&self, requests: Vec<OutRequest>, concurrency: usize) -> Vec<Result<OutResponse, OutError>> {
        use futures::StreamExt as _;
        spin_sdk::http::run(async move {
            futures::stream::iter(requests.into_iter().map(spin::send)).buffered(concurrency.max(1)).collect().await
        })
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

#[cfg(feature = "spin")]
mod spin {
    use std::future::Future;
    use std::pin::pin;
    use std::task::Poll;
    use std::time::Duration;

    use spin_sdk::http::{ErrorCode, Method, Request, Response, SendError};
    use wasi::clocks::monotonic_clock;

    use super::{OutError, OutRequest, OutResponse};

    /// Resolves once `timeout` has passed (a pollable on WASI's monotonic clock, registered with
    /// spin-sdk's executor).
    fn sleep(timeout: Duration) -> impl Future<Output = ()> {
        let deadline = monotonic_clock::now().saturating_add(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX));
        std::future::poll_fn(move |context| {
            if monotonic_clock::now() >= deadline {
                Poll::Ready(())
            } else {
                spin_executor::push_waker(monotonic_clock::subscribe_instant(deadline), context.waker().clone());
                Poll::Pending
            }
        })
    }

    fn method(raw: &str) -> Method {
        match raw {
            "GET" => Method::Get,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => Method::Post,
        }
    }

    pub(super) async fn send(request: OutRequest) -> Result<OutResponse, OutError> {
        let mut builder = Request::builder();
        builder.method(method(request.method)).uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder.header(name.as_str(), value.as_str());
        }
        let outgoing = builder.body(request.body).build();
        let sent = pin!(spin_sdk::http::send::<_, Response>(outgoing));
        let timer = pin!(sleep(request.timeout));
        match futures::future::select(sent, timer).await {
            futures::future::Either::Left((Ok(response), _)) => Ok(OutResponse {
                status: *response.status(),
                headers: response
                    .headers()
                    .filter_map(|(name, value)| Some((name.to_ascii_lowercase(), value.as_str()?.to_owned())))
                    .collect(),
                body: response.into_body(),
            }),
            futures::future::Either::Left((Err(e), _)) => Err(error(&e)),
            futures::future::Either::Right(((), _)) => Err(OutError::Timeout(request.timeout)),
        }
    }

    fn error(e: &SendError) -> OutError {
        match e {
            SendError::Http(ErrorCode::HttpRequestDenied) => OutError::Denied(e.to_string()),
            SendError::Http(
                ErrorCode::ConnectionTimeout | ErrorCode::ConnectionReadTimeout | ErrorCode::ConnectionWriteTimeout,
            ) => OutError::Timeout(Duration::ZERO),
            other => OutError::Unreachable(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AllowedHost;

    #[test]
    fn entries_allow_what_spin_allows() {
        let cases = [
            ("https://hooks.example.com", "https://hooks.example.com/x", true),
            ("https://hooks.example.com", "https://hooks.example.com:8443/x", false),
            ("https://hooks.example.com", "http://hooks.example.com/x", false),
            ("https://hooks.example.com", "https://evil.example.com/x", false),
            ("https://*.example.com", "https://a.b.example.com/x", true),
            ("https://*.example.com", "https://example.com/x", false),
            ("https://*:443", "https://anything.test/x?y", true),
            ("*://*:*", "http://127.0.0.1:9/x", true),
            ("http://127.0.0.1:*", "http://127.0.0.1:40111/hook", true),
            ("http://127.0.0.1:*", "http://localhost:40111/hook", false),
            ("http://127.0.0.1:8000..9000", "http://127.0.0.1:8999/", true),
            ("http://127.0.0.1:8000..9000", "http://127.0.0.1:9000/", false),
            ("https://webhooks.invalid", "https://hooks.example.com/", false),
            ("https://10.0.0.0/8", "https://10.1.2.3/x", true),
        ];
        for (entry, url, allowed) in cases {
            let rule = AllowedHost::parse(entry).unwrap_or_else(|| panic!("{entry} parses"));
            assert_eq!(rule.allows(url), allowed, "{entry} for {url}");
        }
        assert_eq!(AllowedHost::parse("hooks.example.com"), None, "a scheme is required");
    }
}
