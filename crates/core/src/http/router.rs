//! A small path router: exact segments and `:param` captures, HEAD served by GET, a trailing
//! slash tolerated, parameters percent-decoded (the SDK router does not decode them). Every route
//! declares its [`Policy`]: how the pipeline rate-limits it and, for public reads, how long its
//! answers may be cached.

/// How the pipeline limits a route's callers before the handler runs (the limits of each class
/// are `crate::auth::ratelimit::per_address`). Per-principal limits apply wherever a caller
/// authenticates, whatever the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateClass {
    /// Anyone may read it; no counter is touched (public reads must stay cheap).
    PublicRead,
    /// A read that needs credentials.
    Authenticated,
    /// Changes state: the per-address write limit.
    StateChanging,
    /// Sign-in (password or second step, refresh, logout): the write limit and the sign-in limit.
    SignIn,
    /// Self-service registration: the write limit and the registration limit.
    Registration,
    /// Forgotten passwords: the write limit and the password-reset limit.
    PasswordReset,
    /// Public sign-ups and manage requests: the write limit and the subscription limit.
    Subscription,
    /// Incoming monitoring webhooks: their own per-address limit instead of the write limit
    /// (Alertmanager sends a group every few seconds), and a per-integration limit in the
    /// handler.
    Webhook,
}

/// How long a route's successful answers may be cached by clients and proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// No caching header: the API's own JSON (private, or changed by writes at any time).
    Unspecified,
    /// `Cache-Control: public, max-age=<max_age>, stale-while-revalidate=<stale>`.
    Public {
        /// Seconds an answer is fresh.
        max_age: u32,
        /// Seconds a stale answer may be served while it is refreshed.
        stale_while_revalidate: u32,
    },
}

/// A route's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Its rate-limit class.
    pub rate: RateClass,
    /// Its caching.
    pub cache: Cache,
}

impl Policy {
    /// A public read of the API (no counter, no caching header).
    pub const PUBLIC: Self = Self { rate: RateClass::PublicRead, cache: Cache::Unspecified };
    /// A read that needs credentials.
    pub const AUTHENTICATED: Self = Self { rate: RateClass::Authenticated, cache: Cache::Unspecified };
    /// A state-changing request.
    pub const WRITE: Self = Self { rate: RateClass::StateChanging, cache: Cache::Unspecified };
    /// Sign-in.
    pub const SIGN_IN: Self = Self { rate: RateClass::SignIn, cache: Cache::Unspecified };
    /// Registration.
    pub const REGISTRATION: Self = Self { rate: RateClass::Registration, cache: Cache::Unspecified };
    /// Password reset.
    pub const PASSWORD_RESET: Self = Self { rate: RateClass::PasswordReset, cache: Cache::Unspecified };
    /// Public sign-ups and manage requests.
    pub const SUBSCRIPTION: Self = Self { rate: RateClass::Subscription, cache: Cache::Unspecified };
    /// Incoming monitoring webhooks.
    pub const WEBHOOK: Self = Self { rate: RateClass::Webhook, cache: Cache::Unspecified };
}

/// Captured path parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    /// A captured parameter by name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
struct Route<H> {
    method: &'static str,
    pattern: &'static str,
    segments: Vec<&'static str>,
    policy: Policy,
    handler: H,
}

/// The outcome of routing a request.
#[derive(Debug)]
pub enum RouteMatch<'r, H> {
    /// A route matched.
    Found {
        /// Its handler.
        handler: &'r H,
        /// Its captures.
        params: Params,
        /// Its pattern, for logs (`/api/v1/services/:slug`).
        pattern: &'static str,
        /// Its policy.
        policy: Policy,
    },
    /// The path exists but not for this method.
    MethodNotAllowed(Vec<&'static str>),
    /// No route has this path.
    NotFound,
}

/// Routes requests to handlers of type `H`.
#[derive(Debug)]
pub struct Router<H> {
    routes: Vec<Route<H>>,
}

impl<H> Default for Router<H> {
    fn default() -> Self {
        Self { routes: Vec::new() }
    }
}

impl<H> Router<H> {
    /// An empty router.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route for `method` and `pattern` (`/api/v1/services/:slug`) with its policy.
    #[must_use]
    pub fn route(mut self, method: &'static str, pattern: &'static str, policy: Policy, handler: H) -> Self {
        let segments = split(pattern).collect();
        self.routes.push(Route { method, pattern, segments, policy, handler });
        self
    }

    /// Adds a GET route (which also serves HEAD).
    #[must_use]
    pub fn get(self, pattern: &'static str, policy: Policy, handler: H) -> Self {
        self.route("GET", pattern, policy, handler)
    }

    /// Every `(method, pattern, policy)`, in the order added.
    pub fn policies(&self) -> impl Iterator<Item = (&'static str, &'static str, Policy)> + '_ {
        self.routes.iter().map(|r| (r.method, r.pattern, r.policy))
    }

    /// Every `(method, pattern)`, in the order added.
    pub fn routes(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.routes.iter().map(|r| (r.method, r.pattern))
    }

    /// Routes `method` and `path`. Where patterns of several resources match, a literal segment
    /// outranks a parameter at the first place they differ (as in most routers): the path
    /// `/api/v1/webhooks/integrations/{id}` is that resource, whose methods a 405 lists, never
    /// `/api/v1/webhooks/:kind/:slug` with the kind "integrations".
    #[must_use]
    pub fn at(&self, method: &str, path: &str) -> RouteMatch<'_, H> {
        let wanted: Vec<&str> = split(path).collect();
        let method = if method == "HEAD" { "GET" } else { method };
        let matching: Vec<(&Route<H>, Params)> =
            self.routes.iter().filter_map(|r| capture(&r.segments, &wanted).map(|p| (r, p))).collect();
        let Some(most_specific) = matching.iter().map(|(r, _)| r.literal_places()).max() else {
            return RouteMatch::NotFound;
        };
        let mut allowed = Vec::new();
        for (route, params) in matching.into_iter().filter(|(r, _)| r.literal_places() == most_specific) {
            if route.method == method {
                return RouteMatch::Found {
                    handler: &route.handler,
                    params,
                    pattern: route.pattern,
                    policy: route.policy,
                };
            }
            if !allowed.contains(&route.method) {
                allowed.push(route.method);
            }
        }
        if allowed.contains(&"GET") {
            allowed.push("HEAD");
        }
        RouteMatch::MethodNotAllowed(allowed)
    }
}

impl<H> Route<H> {
    /// Which segments are literal, in order: compared, a literal first wins.
    fn literal_places(&self) -> Vec<bool> {
        self.segments.iter().map(|s| !s.starts_with(':')).collect()
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn capture(pattern: &[&'static str], path: &[&str]) -> Option<Params> {
    if pattern.len() != path.len() {
        return None;
    }
    let mut params = Vec::new();
    for (want, got) in pattern.iter().zip(path) {
        if let Some(name) = want.strip_prefix(':') {
            let decoded = percent_encoding::percent_decode_str(got).decode_utf8().ok()?;
            params.push((name, decoded.into_owned()));
        } else if want != got {
            return None;
        }
    }
    Some(Params(params))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router<u8> {
        Router::new()
            .get("/api/v1/services", Policy::PUBLIC, 1)
            .route("POST", "/api/v1/services", Policy::WRITE, 2)
            .get("/api/v1/services/:slug", Policy::PUBLIC, 3)
            .get("/api/v1/services/:slug/status-log", Policy::AUTHENTICATED, 4)
    }

    #[test]
    fn routes_by_method_and_path() {
        let cases = [
            ("GET", "/api/v1/services", Some(1)),
            ("POST", "/api/v1/services", Some(2)),
            ("GET", "/api/v1/services/", Some(1)),
            ("HEAD", "/api/v1/services", Some(1)),
            ("GET", "/api/v1/services/api", Some(3)),
            ("GET", "/api/v1/services/api/status-log", Some(4)),
            ("GET", "/api/v1/Services", None),
            ("GET", "/api/v1/services/api/other", None),
        ];
        for (method, path, expected) in cases {
            let got = match router().at(method, path) {
                RouteMatch::Found { handler, .. } => Some(*handler),
                _ => None,
            };
            assert_eq!(got, expected, "{method} {path}");
        }
    }

    #[test]
    fn captures_are_percent_decoded() {
        let router = router();
        let RouteMatch::Found { params, .. } = router.at("GET", "/api/v1/services/a%20b") else {
            panic!("no match");
        };
        assert_eq!(params.get("slug"), Some("a b"));
    }

    #[test]
    fn a_known_path_with_another_method_is_405_with_the_allowed_methods() {
        match router().at("DELETE", "/api/v1/services") {
            RouteMatch::MethodNotAllowed(allowed) => assert_eq!(allowed, vec!["GET", "POST", "HEAD"]),
            other => panic!("expected 405, got {other:?}"),
        }
        assert!(matches!(router().at("GET", "/nope"), RouteMatch::NotFound));
    }

    #[test]
    fn a_literal_segment_outranks_a_parameter() {
        let router = Router::new()
            .route("POST", "/webhooks/:kind/:slug", Policy::WEBHOOK, 1)
            .get("/webhooks/integrations/:id", Policy::AUTHENTICATED, 2)
            .route("PATCH", "/webhooks/integrations/:id", Policy::WRITE, 3);
        match router.at("POST", "/webhooks/integrations/42") {
            RouteMatch::MethodNotAllowed(allowed) => assert_eq!(allowed, vec!["GET", "PATCH", "HEAD"]),
            other => panic!("expected 405 for the integration resource, got {other:?}"),
        }
        assert!(matches!(router.at("GET", "/webhooks/integrations/42"), RouteMatch::Found { handler: 2, .. }));
        let RouteMatch::Found { handler, params, .. } = router.at("POST", "/webhooks/grafana/ops") else {
            panic!("the receiver should match");
        };
        assert_eq!((*handler, params.get("kind")), (1, Some("grafana")));
    }
}
