//! The request pipeline every HTTP component shares: request id, body limit, routing, the one
//! error mapping, the schema safety net, and the access log.

use std::cell::OnceCell;
use std::time::Instant;

use crate::audit::{self, Actor, Change};
use crate::auth::{self, Action, Principal, ratelimit};
use crate::db::Db;
use crate::http::{ApiError, MAX_BODY_BYTES, Params, Request, Response, RouteMatch, Router, request_id};
use crate::log::AccessLog;

/// What a component's platform gives a request: the database and configuration variables.
pub trait Env {
    /// The request's database session, opened on first use.
    ///
    /// # Errors
    /// 503 when the database cannot be reached; 500 when `db_url` is not configured.
    fn db(&self) -> Result<&dyn Db, ApiError>;

    /// A configuration variable; `None` when it is set to the empty string.
    ///
    /// # Errors
    /// 500 when the component may not read it (not mapped in `spin.toml`).
    fn variable(&self, name: &str) -> Result<Option<String>, ApiError>;

    /// Whether the `dev_seed` variable is `true`.
    ///
    /// # Errors
    /// As [`Env::variable`], or when the value is not `true`/`false`.
    fn dev_seed(&self) -> Result<bool, ApiError> {
        match self.variable("dev_seed")?.as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::Internal(format!("variable dev_seed must be true or false, not {other:?}"))),
        }
    }
}

/// Everything a handler sees.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// The request.
    pub request: &'a Request,
    /// Path captures.
    pub params: &'a Params,
    /// The request id (echoed in `X-Request-Id`).
    pub request_id: &'a str,
    /// Database and variables.
    pub env: &'a dyn Env,
    /// The client's address, when known.
    pub client_ip: Option<&'a str>,
    principal: &'a OnceCell<Option<Principal>>,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("request", self.request).field("request_id", &self.request_id).finish()
    }
}

impl Ctx<'_> {
    /// The request's database session.
    ///
    /// # Errors
    /// As [`Env::db`].
    pub fn db(&self) -> Result<&dyn Db, ApiError> {
        self.env.db()
    }

    /// A path capture the route pattern declares.
    #[must_use]
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).unwrap_or_default()
    }

    /// The caller, authenticated once per request (and counted against its rate limit);
    /// `None` without credentials.
    ///
    /// # Errors
    /// 401 for bad credentials; 429 past the per-principal limit.
    pub fn principal(&self) -> Result<Option<&Principal>, ApiError> {
        if let Some(known) = self.principal.get() {
            return Ok(known.as_ref());
        }
        let found = auth::authenticate(self.env, self.request)?;
        if let Some(principal) = &found {
            ratelimit::check(self.db()?, ratelimit::API_PER_PRINCIPAL, &principal.subject())?;
        }
        Ok(self.principal.get_or_init(|| found).as_ref())
    }

    /// The caller, who must be allowed to perform `action`: 401 without (valid) credentials,
    /// then 403 when the role or key scope does not allow it. Handlers call this before they
    /// look at the body, so the order of checks is 401, 403, 400.
    ///
    /// # Errors
    /// 401, 403, 429.
    pub fn require(&self, action: Action) -> Result<&Principal, ApiError> {
        let principal = self.principal()?.ok_or_else(|| {
            ApiError::Unauthorized("sign in, or send an API key, as `Authorization: Bearer <token>`".into())
        })?;
        auth::authorize(principal, action).map_err(|denied| ApiError::Forbidden(denied.0))?;
        Ok(principal)
    }

    /// The actor to record for the caller (anonymous without credentials).
    #[must_use]
    pub fn actor(&self) -> Actor {
        self.principal.get().and_then(Option::as_ref).map_or_else(Actor::anonymous, Actor::from)
    }

    /// Records a mutation in the audit log, on `db` (inside the mutation's transaction).
    ///
    /// # Errors
    /// Database errors.
    pub fn audit(&self, db: &dyn Db, actor: &Actor, change: Change<'_>) -> Result<(), ApiError> {
        audit::record(db, actor, self.request_id, self.client_ip, change)?;
        Ok(())
    }
}

/// A request handler.
pub type Handler = fn(&Ctx<'_>) -> Result<Response, ApiError>;

/// Runs `request` through `router` and answers the response, never an error: every failure
/// becomes its JSON error response, every response carries `X-Request-Id`, and one access-log
/// line is written.
pub fn dispatch(component: &str, router: &Router<Handler>, env: &dyn Env, request: &Request) -> Response {
    let started = Instant::now();
    let request_id = request_id(request.header("x-request-id"));
    let (route, result) = route(router, env, request, &request_id);
    let mut cause = None;
    let mut response = match result {
        Ok(response) => response,
        Err(error) => {
            if error.status() >= 500 {
                cause = Some(error.log_text());
            }
            if matches!(&error, ApiError::SchemaBehind) {
                prepare_schema(component, env, &request_id);
            }
            error.into_response(&request_id)
        }
    };
    if request.method == "HEAD" {
        response.body.clear();
    }
    let response = response.with_header("x-request-id", request_id.clone());
    AccessLog {
        component,
        request_id: &request_id,
        method: &request.method,
        route,
        status: response.status,
        duration: started.elapsed(),
        error: cause.as_deref(),
    }
    .emit();
    response
}

fn route<'r>(
    router: &'r Router<Handler>,
    env: &dyn Env,
    request: &'r Request,
    request_id: &str,
) -> (&'r str, Result<Response, ApiError>) {
    if request.body.len() > MAX_BODY_BYTES {
        return (&request.path, Err(ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES }));
    }
    match router.at(&request.method, &request.path) {
        RouteMatch::Found { handler, params, pattern } => {
            let client_ip = client_ip(env, request);
            let principal = OnceCell::new();
            let ctx = Ctx {
                request,
                params: &params,
                request_id,
                env,
                client_ip: client_ip.as_deref(),
                principal: &principal,
            };
            let limited = if is_write(&request.method) {
                let subject = client_ip.as_deref().unwrap_or("unknown");
                env.db().and_then(|db| ratelimit::check(db, ratelimit::API_WRITES_PER_IP, subject))
            } else {
                Ok(())
            };
            (pattern, limited.and_then(|()| handler(&ctx)))
        }
        RouteMatch::MethodNotAllowed(allowed) => {
            (&request.path, Err(ApiError::MethodNotAllowed { method: request.method.clone(), allowed }))
        }
        RouteMatch::NotFound => (&request.path, Err(ApiError::NotFound(format!("no route for {}", request.path)))),
    }
}

fn is_write(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// The client's address: the first `X-Forwarded-For` entry when `trust_proxy_headers` is
/// `true` (behind a proxy that sets it), else the connection's address Spin reports in
/// `spin-client-addr` (`ip:port`).
fn client_ip(env: &dyn Env, request: &Request) -> Option<String> {
    let trust_proxy = env.variable("trust_proxy_headers").ok().flatten().is_some_and(|v| v == "true");
    if trust_proxy
        && let Some(first) = request.header("x-forwarded-for").and_then(|v| v.split(',').next())
        && !first.trim().is_empty()
    {
        return Some(first.trim().to_owned());
    }
    let addr = request.header("spin-client-addr")?;
    let ip = addr.parse::<std::net::SocketAddr>().map(|a| a.ip().to_string()).unwrap_or_else(|_| addr.to_owned());
    Some(ip)
}

/// The safety net for a deploy whose schema is behind the code (the readiness probe normally
/// migrates first): apply what is pending, so that the client's retry succeeds.
fn prepare_schema(component: &str, env: &dyn Env, request_id: &str) {
    let outcome = env.dev_seed().and_then(|seed| Ok(crate::migrate::ensure_schema(env.db()?, seed)?));
    let (level, message) = match &outcome {
        Ok(_) => ("info", "applied pending migrations after a request found the schema behind".to_owned()),
        Err(e) => ("error", format!("could not apply pending migrations: {e}")),
    };
    crate::log::event(level, component, &message, serde_json::json!({ "request_id": request_id }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{DbError, Param};

    struct NoDb;

    impl Env for NoDb {
        fn db(&self) -> Result<&dyn Db, ApiError> {
            Err(DbError::Connection("refused".into()).into())
        }
        fn variable(&self, _: &str) -> Result<Option<String>, ApiError> {
            Ok(None)
        }
    }

    fn ok(_: &Ctx<'_>) -> Result<Response, ApiError> {
        Ok(Response::data(&serde_json::json!({"ok": true})))
    }

    fn needs_db(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
        ctx.db()?.execute("select 1", &[Param::Null])?;
        Ok(Response::no_content())
    }

    fn router() -> Router<Handler> {
        Router::new().get("/ok", ok as Handler).get("/db", needs_db as Handler)
    }

    fn send(method: &str, path: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Response {
        dispatch("test", &router(), &NoDb, &Request::new(method, path, headers, body))
    }

    #[test]
    fn every_response_carries_a_request_id_echoed_or_generated() {
        let echoed = send("GET", "/ok", vec![("X-Request-Id".into(), "abc-1".into())], vec![]);
        assert_eq!(echoed.header("x-request-id"), Some("abc-1"));
        let generated = send("GET", "/nope", vec![], vec![]);
        assert!(generated.header("x-request-id").is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()));
    }

    #[test]
    fn failures_become_json_errors_with_their_status() {
        let cases = [
            (send("GET", "/nope", vec![], vec![]), 404, "not_found"),
            (send("POST", "/ok", vec![], vec![]), 405, "method_not_allowed"),
            (send("GET", "/db", vec![], vec![]), 503, "unavailable"),
            (send("POST", "/ok", vec![], vec![0; MAX_BODY_BYTES + 1]), 413, "payload_too_large"),
        ];
        for (response, status, code) in cases {
            assert_eq!(response.status, status, "{code}");
            assert_eq!(response.header("content-type"), Some("application/json"), "{code}");
            let body: serde_json::Value = serde_json::from_slice(&response.body).expect("json");
            assert_eq!(body["error"]["code"], code);
        }
    }

    #[test]
    fn head_is_served_by_get_without_a_body() {
        let response = send("HEAD", "/ok", vec![], vec![]);
        assert_eq!(response.status, 200);
        assert!(response.body.is_empty());
    }
}
