//! A small path router: exact segments and `:param` captures, HEAD served by GET, a trailing
//! slash tolerated, parameters percent-decoded (the SDK router does not decode them).

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

    /// Adds a route for `method` and `pattern` (`/api/v1/services/:slug`).
    #[must_use]
    pub fn route(mut self, method: &'static str, pattern: &'static str, handler: H) -> Self {
        let segments = split(pattern).collect();
        self.routes.push(Route { method, pattern, segments, handler });
        self
    }

    /// Adds a GET route (which also serves HEAD).
    #[must_use]
    pub fn get(self, pattern: &'static str, handler: H) -> Self {
        self.route("GET", pattern, handler)
    }

    /// Every `(method, pattern)`, in the order added.
    pub fn routes(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.routes.iter().map(|r| (r.method, r.pattern))
    }

    /// Routes `method` and `path`.
    #[must_use]
    pub fn at(&self, method: &str, path: &str) -> RouteMatch<'_, H> {
        let wanted: Vec<&str> = split(path).collect();
        let method = if method == "HEAD" { "GET" } else { method };
        let mut allowed = Vec::new();
        for route in &self.routes {
            let Some(params) = capture(&route.segments, &wanted) else { continue };
            if route.method == method {
                return RouteMatch::Found { handler: &route.handler, params, pattern: route.pattern };
            }
            if !allowed.contains(&route.method) {
                allowed.push(route.method);
            }
        }
        if allowed.is_empty() {
            RouteMatch::NotFound
        } else {
            if allowed.contains(&"GET") {
                allowed.push("HEAD");
            }
            RouteMatch::MethodNotAllowed(allowed)
        }
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
            .get("/api/v1/services", 1)
            .route("POST", "/api/v1/services", 2)
            .get("/api/v1/services/:slug", 3)
            .get("/api/v1/services/:slug/status-log", 4)
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
}
