//! The request pipeline every HTTP component shares: request id, body limit, routing, the one
//! error mapping, the schema safety net, and the access log.

use std::cell::OnceCell;
use std::time::Instant;

use time::OffsetDateTime;

use crate::actor::Actor;
use crate::audit::{self, Audited, Entry, Origin};
use crate::auth::{self, Action, Principal, ratelimit};
use crate::config::Config;
use crate::db::{Db, transaction};
pub use crate::env::Env;
use crate::http::{ApiError, MAX_BODY_BYTES, Params, Policy, Request, Response, RouteMatch, Router, request_id};
use crate::log::AccessLog;

/// Everything a handler sees.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// The request.
    pub request: &'a Request,
    /// Path captures.
    pub params: &'a Params,
    /// The request id (echoed in `X-Request-Id`).
    pub request_id: &'a str,
    /// Database, configuration, clock.
    pub env: &'a dyn Env,
    /// The client's address, when known.
    pub client_ip: Option<&'a str>,
    /// The request's time, read once from the platform's clock: everything the request
    /// writes is dated with it.
    pub now: OffsetDateTime,
    principal: &'a OnceCell<Option<Principal>>,
    after: &'a std::cell::RefCell<Vec<After>>,
}

/// Work a request asks for after its response has gone (Spin keeps the component running until
/// it returns, and the client already has its answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Run the notification engine: the request queued deliveries.
    Deliver,
    /// Count the request for `/metrics`.
    Count {
        /// The route pattern (`unmatched` for none).
        route: &'static str,
        /// The answer's status.
        status: u16,
        /// How many requests this one stands for (sampled public reads count for several).
        weight: i64,
    },
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
    /// 503 when the database cannot be reached.
    pub fn db(&self) -> Result<&dyn Db, ApiError> {
        Ok(self.env.db()?)
    }

    /// The configuration.
    ///
    /// # Errors
    /// 500 when a variable's value does not parse.
    pub fn config(&self) -> Result<&Config, ApiError> {
        Ok(self.env.config()?)
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
            let limit = self.config()?.rate_limits.get(ratelimit::API_PER_PRINCIPAL);
            ratelimit::check(self.db()?, limit, &principal.subject(), self.now)?;
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
        self.principal.get().and_then(Option::as_ref).map_or(Actor::Anonymous, Actor::from)
    }

    /// Where this request's mutations come from: the caller, the request id, the address, the
    /// time.
    #[must_use]
    pub fn origin(&self) -> Origin {
        Origin {
            actor: self.actor(),
            request_id: self.request_id.to_owned(),
            ip: self.client_ip.map(str::to_owned),
            at: self.now,
        }
    }

    /// Records an audit row for the caller, on `db` (inside the mutation's transaction).
    ///
    /// # Errors
    /// Database errors.
    pub fn audit(&self, db: &dyn Db, entry: Entry) -> Result<(), ApiError> {
        Ok(audit::record(db, &self.origin(), entry)?)
    }

    /// Runs `work` in one transaction: commits on `Ok`, rolls back on `Err`.
    ///
    /// # Errors
    /// The error of `work`, or the database's.
    pub fn write<T>(&self, work: impl FnOnce(&dyn Db) -> Result<T, ApiError>) -> Result<T, ApiError> {
        // (The closure reborrows the session at the shorter lifetime `work` expects.)
        transaction(self.db()?, |db| work(db))
    }

    /// Runs a use case as the caller, at the request's time, in one transaction with the audit
    /// row it answers; answers its value.
    ///
    /// # Errors
    /// The use case's error, mapped to HTTP.
    pub fn audited<T>(
        &self,
        use_case: impl FnOnce(&dyn Db, &Actor, OffsetDateTime) -> Result<Audited<T>, crate::error::Error>,
    ) -> Result<T, ApiError> {
        let origin = self.origin();
        self.write(|db| {
            let written = use_case(db, &origin.actor, origin.at)?;
            audit::record(db, &origin, written.entry)?;
            Ok(written.value)
        })
    }
}

impl Ctx<'_> {
    /// Asks for the notification engine to run once the response has gone (the request queued
    /// deliveries); the scheduler's tick runs it anyway within a minute.
    pub fn deliver_soon(&self) {
        let mut after = self.after.borrow_mut();
        if !after.contains(&After::Deliver) {
            after.push(After::Deliver);
        }
    }

    /// Brings the public snapshot up to date after a write that changed what the public sees
    /// (call it once the write has committed, so the next read shows it). A failure is logged,
    /// not answered: the write stands, and the scheduler's next refresh catches up.
    pub fn publish(&self) {
        let outcome = (|| -> Result<crate::public::publish::Published, String> {
            let site = crate::public::site::Site::of(self.env.config().map_err(|e| e.to_string())?);
            let db = self.env.db().map_err(|e| e.to_string())?;
            let kv = self.env.kv().map_err(|e| e.to_string())?;
            crate::public::publish::refresh(db, kv, &site, self.now).map_err(|e| e.to_string())
        })();
        let (level, message, fields) = match outcome {
            Ok(report) => {
                ("info", "published the public snapshot".to_owned(), serde_json::to_value(&report).unwrap_or_default())
            }
            Err(e) => ("error", format!("could not publish the public snapshot: {e}"), serde_json::json!({})),
        };
        let mut fields = fields;
        fields["request_id"] = self.request_id.into();
        crate::log::event(level, "public", &message, fields);
    }
}

/// A request handler.
pub type Handler = fn(&Ctx<'_>) -> Result<Response, ApiError>;

/// Runs `request` through `router` and answers the response, never an error: every failure
/// becomes its JSON error response, every response carries `X-Request-Id`, and one access-log
/// line is written.
pub fn dispatch(component: &str, router: &Router<Handler>, env: &dyn Env, request: &Request) -> Response {
    dispatch_with_after(component, router, env, request).0
}

/// [`dispatch`], and the work the request asked for after its response ([`After`]).
pub fn dispatch_with_after(
    component: &str,
    router: &Router<Handler>,
    env: &dyn Env,
    request: &Request,
) -> (Response, Vec<After>) {
    let started = Instant::now();
    let request_id = request_id(request.header("x-request-id"));
    let after = std::cell::RefCell::new(Vec::new());
    let (route, (pattern, class), result) = route(router, env, request, &request_id, &after);
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
    if let Some(weight) = count_weight(class) {
        after.borrow_mut().push(After::Count { route: pattern, status: response.status, weight });
    }
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
    (response, after.into_inner())
}

/// How many requests this one counts for in `/metrics`: every request once, except public reads,
/// of which one in [`crate::metrics::PUBLIC_READ_SAMPLE`] counts for that many (the public path
/// must stay cheap under a refresh storm); `None`: not counted.
fn count_weight(class: Option<crate::http::RateClass>) -> Option<i64> {
    if class != Some(crate::http::RateClass::PublicRead) {
        return Some(1);
    }
    let mut byte = [0u8; 1];
    getrandom::fill(&mut byte).ok()?;
    let sample = crate::metrics::PUBLIC_READ_SAMPLE;
    (i64::from(byte[0]) % sample == 0).then_some(sample)
}

/// Runs what a request asked for after its response.
pub fn run_after(component: &str, env: &dyn Env, after: &[After]) {
    for work in after {
        match work {
            After::Count { route, status, weight } => {
                // Best effort: a count that cannot be written (the database is down) is dropped.
                if let Err(e) = env.db().map_err(|e| e.to_string()).and_then(|db| {
                    crate::metrics::count_request(db, component, route, *status, *weight).map_err(|e| e.to_string())
                }) {
                    crate::log::event(
                        "warn",
                        component,
                        "could not count the request",
                        serde_json::json!({ "error": e }),
                    );
                }
            }
            After::Deliver => {
                let (level, message, fields) = match crate::notify::deliver::run(env, DELIVER_AFTER_RESPONSE_FOR) {
                    Ok(report) => {
                        ("info", "delivered what the request queued", serde_json::to_value(&report).unwrap_or_default())
                    }
                    Err(e) => ("error", "could not deliver what the request queued", serde_json::json!({ "error": e })),
                };
                crate::log::event(level, component, message, fields);
            }
        }
    }
}

/// How long a request's own delivery run may take after its response: long enough for a
/// thousand Telegram chats at the Bot API's pace; the scheduler's next tick goes on from there.
const DELIVER_AFTER_RESPONSE_FOR: std::time::Duration = std::time::Duration::from_secs(50);

/// The route pattern a request counts under (`unmatched` for none) and its rate class.
type Counted = (&'static str, Option<crate::http::RateClass>);

fn route<'r>(
    router: &'r Router<Handler>,
    env: &dyn Env,
    request: &'r Request,
    request_id: &str,
    after: &std::cell::RefCell<Vec<After>>,
) -> (&'r str, Counted, Result<Response, ApiError>) {
    const UNMATCHED: Counted = ("unmatched", None);
    if request.body.len() > MAX_BODY_BYTES {
        return (&request.path, UNMATCHED, Err(ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES }));
    }
    match router.at(&request.method, &request.path) {
        RouteMatch::Found { handler, params, pattern, policy } => {
            let client_ip = client_ip(env, request);
            let principal = OnceCell::new();
            let ctx = Ctx {
                request,
                params: &params,
                request_id,
                env,
                client_ip: client_ip.as_deref(),
                now: env.now(),
                principal: &principal,
                after,
            };
            let result = limit(&ctx, policy).and_then(|()| handler(&ctx)).map(|r| cache(r, policy));
            (pattern, (pattern, Some(policy.rate)), result)
        }
        RouteMatch::MethodNotAllowed(allowed) => {
            (&request.path, UNMATCHED, Err(ApiError::MethodNotAllowed { method: request.method.clone(), allowed }))
        }
        RouteMatch::NotFound => {
            (&request.path, UNMATCHED, Err(ApiError::NotFound(format!("no route for {}", request.path))))
        }
    }
}

/// Counts the per-address limits of the route's class before the handler runs. Authenticated
/// state-changing traffic is limited per user or key instead (counted as it authenticates), so
/// that colleagues behind one company address do not throttle each other; a request whose
/// credentials do not hold is limited per address like anonymous traffic.
fn limit(ctx: &Ctx<'_>, policy: Policy) -> Result<(), ApiError> {
    let limits = ratelimit::per_address(policy.rate);
    if limits.is_empty() {
        return Ok(());
    }
    let per_principal = matches!(policy.rate, crate::http::RateClass::StateChanging | crate::http::RateClass::Webhook);
    if per_principal && ctx.request.header("authorization").is_some() {
        match ctx.principal() {
            Ok(Some(_)) => return Ok(()),
            Err(e @ ApiError::TooManyRequests { .. }) => return Err(e),
            _ => {}
        }
    }
    let db = ctx.db()?;
    let configured = &ctx.config()?.rate_limits;
    let subject = ctx.client_ip.unwrap_or("unknown");
    limits.iter().try_for_each(|limit| ratelimit::check(db, configured.get(*limit), subject, ctx.now))
}

/// The route's caching header on a successful answer.
fn cache(response: Response, policy: Policy) -> Response {
    match policy.cache {
        crate::http::Cache::Public { max_age, stale_while_revalidate } if (200..300).contains(&response.status) => {
            response.with_header(
                "cache-control",
                format!("public, max-age={max_age}, stale-while-revalidate={stale_while_revalidate}"),
            )
        }
        _ => response,
    }
}

/// The client's address: the first `X-Forwarded-For` entry when `trust_proxy_headers` is
/// `true` (behind a proxy that sets it), else the connection's address Spin reports in
/// `spin-client-addr` (`ip:port`).
fn client_ip(env: &dyn Env, request: &Request) -> Option<String> {
    let trust_proxy = env.config().is_ok_and(|c| c.trust_proxy_headers);
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
    let outcome = env
        .config()
        .map_err(ApiError::from)
        .and_then(|config| Ok(crate::migrate::ensure_schema(env.db()?, config.dev_seed)?));
    let (level, message) = match &outcome {
        Ok(_) => ("info", "applied pending migrations after a request found the schema behind".to_owned()),
        Err(e) => ("error", format!("could not apply pending migrations: {e}")),
    };
    crate::log::event(level, component, &message, serde_json::json!({ "request_id": request_id }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigError;
    use crate::db::{DbError, Param};

    struct NoDb(Config);

    impl Env for NoDb {
        fn db(&self) -> Result<&dyn Db, DbError> {
            Err(DbError::Connection("refused".into()))
        }
        fn kv(&self) -> Result<&dyn crate::kv::Kv, crate::kv::KvError> {
            Err(crate::kv::KvError("no store".into()))
        }
        fn http(&self) -> &dyn crate::outbound::Http {
            &crate::outbound::Unavailable
        }
        fn config(&self) -> Result<&Config, ConfigError> {
            Ok(&self.0)
        }
        fn now(&self) -> OffsetDateTime {
            OffsetDateTime::UNIX_EPOCH
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
        let cached = Policy {
            rate: crate::http::RateClass::PublicRead,
            cache: crate::http::Cache::Public { max_age: 5, stale_while_revalidate: 30 },
        };
        Router::new()
            .get("/ok", Policy::PUBLIC, ok as Handler)
            .get("/db", Policy::PUBLIC, needs_db as Handler)
            .get("/cached", cached, ok as Handler)
            .route("POST", "/write", Policy::WRITE, ok as Handler)
    }

    fn send(method: &str, path: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Response {
        let env = NoDb(Config::with(&[]).expect("defaults"));
        dispatch("test", &router(), &env, &Request::new(method, path, headers, body))
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
    fn the_route_policy_decides_limits_and_caching() {
        let write = send("POST", "/write", vec![], vec![]);
        assert_eq!(write.status, 503, "a state-changing route counts its per-address limit (in the database)");
        let read = send("GET", "/ok", vec![], vec![]);
        assert_eq!((read.status, read.header("cache-control")), (200, None), "a public read touches no counter");
        let cached = send("GET", "/cached", vec![], vec![]);
        assert_eq!(cached.header("cache-control"), Some("public, max-age=5, stale-while-revalidate=30"));
    }

    #[test]
    fn head_is_served_by_get_without_a_body() {
        let response = send("HEAD", "/ok", vec![], vec![]);
        assert_eq!(response.status, 200);
        assert!(response.body.is_empty());
    }
}
