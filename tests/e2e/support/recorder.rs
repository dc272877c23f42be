//! A recording HTTP server on loopback: stands in for mail relays, the Telegram Bot API,
//! webhook receivers and identity providers, so tests assert the exact requests the app sends
//! (method, path, headers, body) and script how the far side answers (statuses, bodies,
//! `Retry-After`, delays past a timeout, dropped connections).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `POST`.
    pub method: String,
    /// Path and query (`/v3/mail/send`).
    pub path: String,
    /// Headers, lower-case names, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// A header's first value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("request body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A status, extra headers and a body.
    Respond { status: u16, headers: Vec<(String, String)>, body: String },
    /// Wait, then answer with the inner reply (a hang past the client's timeout).
    Delay(Duration, Box<Reply>),
    /// Close the connection without answering.
    Drop,
}

impl Reply {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    /// `status` with an empty body.
    pub fn status(status: u16) -> Self {
        Self::Respond { status, headers: Vec::new(), body: String::new() }
    }

    /// 429 (or another status) with `Retry-After: seconds`.
    pub fn retry_after(status: u16, seconds: u64) -> Self {
        Self::Respond { status, headers: vec![("retry-after".into(), seconds.to_string())], body: String::new() }
    }
}

#[derive(Debug)]
struct State {
    requests: Vec<Recorded>,
    script: VecDeque<Reply>,
    default: Reply,
}

/// The server; it stops when dropped.
pub struct Recorder {
    /// `127.0.0.1:<port>`.
    pub address: SocketAddr,
    state: Arc<Mutex<State>>,
    notify: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    /// Starts a server answering every request with `default` unless a scripted reply is queued.
    pub async fn start(default: Reply) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binding the recorder");
        let address = listener.local_addr().expect("recorder address");
        let state = Arc::new(Mutex::new(State { requests: Vec::new(), script: VecDeque::new(), default }));
        let notify = Arc::new(tokio::sync::Notify::new());
        let task = tokio::spawn(accept(listener, state.clone(), notify.clone()));
        Self { address, state, notify, task }
    }

    /// A server answering `200 {}` to everything.
    pub async fn ok() -> Self {
        Self::start(Reply::json(200, serde_json::json!({}))).await
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Queues replies for the next requests, in order; afterwards the default applies again.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().expect("recorder state").script.extend(replies);
    }

    /// Replaces the default reply.
    pub fn set_default(&self, reply: Reply) {
        self.state.lock().expect("recorder state").default = reply;
    }

    /// Everything received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().expect("recorder state").requests.clone()
    }

    /// Waits until at least `count` requests arrived (or `timeout` passed); answers them all.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.notify.notified();
            let requests = self.requests();
            if requests.len() >= count || tokio::time::Instant::now() >= deadline {
                return requests;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An address on loopback where nothing listens: connections are refused.
pub fn refusing_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding");
    listener.local_addr().expect("address")
    // The listener drops here, so the port is closed.
}

async fn accept(listener: tokio::net::TcpListener, state: Arc<Mutex<State>>, notify: Arc<tokio::sync::Notify>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let (state, notify) = (state.clone(), notify.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let (state, notify) = (state.clone(), notify.clone());
                async move { answer(request, &state, &notify).await }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn answer(
    request: hyper::Request<hyper::body::Incoming>,
    state: &Mutex<State>,
    notify: &tokio::sync::Notify,
) -> Result<hyper::Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |p| p.to_string()),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body,
    };
    let mut reply = {
        let mut state = state.lock().expect("recorder state");
        state.requests.push(recorded);
        state.script.pop_front().unwrap_or_else(|| state.default.clone())
    };
    notify.notify_waiters();
    loop {
        match reply {
            Reply::Delay(wait, inner) => {
                tokio::time::sleep(wait).await;
                reply = *inner;
            }
            // An error from the service makes hyper close the connection unanswered.
            Reply::Drop => return Err(std::io::Error::other("dropping the connection as scripted")),
            Reply::Respond { status, headers, body } => {
                let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
                *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
                for (name, value) in headers {
                    if let (Ok(name), Ok(value)) = (
                        hyper::header::HeaderName::from_bytes(name.as_bytes()),
                        hyper::header::HeaderValue::from_str(&value),
                    ) {
                        response.headers_mut().insert(name, value);
                    }
                }
                return Ok(response);
            }
        }
    }
}
