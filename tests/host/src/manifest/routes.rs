//! HTTP routes as Spin builds and matches them (`crates/routes/src/lib.rs`, `Router::build` and
//! `route`): written routes are made absolute and lose a trailing `/`; `/...` (or `/*`) is a
//! trailing wildcard, `:name` a named segment; matching uses the same `routefinder` crate, so an
//! exact route wins over a wildcard and the longest wildcard wins among wildcards.
//!
//! Where Spin only logs an error and carries on, the host refuses to start (stricter, so the
//! mistake is seen): a route written twice (Spin serves the later one, and the earlier is never
//! used) and routes under `/.well-known/spin/`, which Spin answers itself.

use std::borrow::Cow;

use anyhow::{Result, anyhow, bail};

/// Routes under this prefix are Spin's own.
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// An HTTP route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// As written in the manifest.
    pub raw: String,
    /// The path without a trailing wildcard (`/api/v1/services`; empty for `/...`).
    pub base: String,
    /// Whether it ends with a wildcard.
    pub wildcard: bool,
    /// The component it serves.
    pub component: String,
}

/// The app's routes, ready to match.
#[derive(Debug, Clone)]
pub struct Routes {
    routes: Vec<Route>,
    finder: std::sync::Arc<routefinder::Router<usize>>,
}

/// A matched route and Spin's `spin-path-info` for the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'r> {
    /// The route.
    pub route: &'r Route,
    /// The part of the path the trailing wildcard took (`/api`), empty for exact routes.
    pub path_info: String,
}

impl Routes {
    /// Builds the table from `(trigger id, component, route)` entries in manifest order.
    ///
    /// # Errors
    /// A route `routefinder` cannot parse (Spin's `Error parsing route ...`), a duplicate, or a
    /// reserved route.
    pub fn build(entries: &[(String, String, String)]) -> Result<Self> {
        let mut routes: Vec<Route> = Vec::new();
        let mut owners: Vec<&str> = Vec::new();
        let mut finder = routefinder::Router::new();
        for (trigger, component, raw) in entries {
            if let Some(i) = routes.iter().position(|r| r.raw == *raw) {
                bail!(
                    "the following component routes are duplicates and would never be used under Spin: {}: {} (duplicate of {trigger})",
                    owners[i],
                    if raw.is_empty() { "/" } else { raw }
                );
            }
            let based = based_route(raw);
            if based.starts_with(WELL_KNOWN_PREFIX) {
                bail!(
                    "route {raw}: routes under {WELL_KNOWN_PREFIX} are handled by the Spin runtime and will never be reached"
                );
            }
            let (spec, base, wildcard) = match based.strip_suffix("/...").or_else(|| based.strip_suffix("/*")) {
                Some(base) => (format!("{base}/*"), base.to_owned(), true),
                None => (based.clone(), based.clone(), false),
            };
            finder
                .add(spec.as_str(), routes.len())
                .map_err(|e| anyhow!("Error parsing route {based} associated with component {component}: {e}"))?;
            routes.push(Route { raw: raw.clone(), base, wildcard, component: component.clone() });
            owners.push(trigger);
        }
        Ok(Self { routes, finder: std::sync::Arc::new(finder) })
    }

    /// The routes, in manifest order.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// The route serving `path`, chosen as Spin chooses it.
    #[must_use]
    pub fn route_for(&self, path: &str) -> Option<RouteMatch<'_>> {
        let found = self.finder.best_match(path)?;
        let route = self.routes.get(*found.handler())?;
        let captures = found.captures();
        let path_info =
            if route.wildcard { trailing_wildcard(captures.wildcard(), path).into_owned() } else { String::new() };
        Some(RouteMatch { route, path_info })
    }
}

/// Spin's `sanitize_with_base("/", route)`: absolute, without a trailing `/`.
fn based_route(raw: &str) -> String {
    let absolute = if raw.starts_with('/') { raw.to_owned() } else { format!("/{raw}") };
    absolute.strip_suffix('/').map_or(absolute.clone(), str::to_owned)
}

/// Spin keeps the trailing slash routefinder drops (`RouteMatchKind::trailing_wildcard`).
fn trailing_wildcard<'p>(captured: Option<&'p str>, path: &str) -> Cow<'p, str> {
    let Some(captured) = captured else { return Cow::Borrowed("") };
    match (captured.is_empty(), path.ends_with('/')) {
        (true, false) => Cow::Borrowed(captured),
        (true, true) => Cow::Borrowed("/"),
        (false, false) => Cow::Owned(format!("/{captured}")),
        (false, true) => Cow::Owned(format!("/{captured}/")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[(&str, &str)]) -> Result<Routes> {
        let entries: Vec<_> =
            routes.iter().map(|(r, c)| (format!("{c}-http-trigger"), (*c).to_owned(), (*r).to_owned())).collect();
        Routes::build(&entries)
    }

    #[test]
    fn exact_routes_win_then_the_longest_wildcard() {
        let routes = table(&[
            ("/...", "status"),
            ("/api/v1/me", "auth"),
            ("/api/v1/me/channels/...", "subs"),
            ("/api/v1/services/...", "catalog"),
        ])
        .expect("valid");
        let cases = [
            ("/", "status", "/"),
            ("/healthz", "status", "/healthz"),
            ("/api/v1/me", "auth", ""),
            ("/api/v1/me/", "auth", ""),
            ("/api/v1/me/channels", "subs", ""),
            ("/api/v1/me/channels/1", "subs", "/1"),
            ("/api/v1/services", "catalog", ""),
            ("/api/v1/services/", "catalog", "/"),
            ("/api/v1/services/api", "catalog", "/api"),
            ("/api/v1/servicesx", "status", "/api/v1/servicesx"),
            ("/api/v1/me/password", "status", "/api/v1/me/password"),
        ];
        for (path, component, info) in cases {
            let found = routes.route_for(path).expect(path);
            assert_eq!((found.route.component.as_str(), found.path_info.as_str()), (component, info), "{path}");
        }
    }

    #[test]
    fn duplicates_reserved_and_unparsable_routes_are_refused() {
        let duplicate = table(&[("/a/...", "one"), ("/a/...", "two")]).map(|_| ()).map_err(|e| e.to_string());
        assert!(duplicate.is_err_and(|e| e.contains("duplicates") && e.contains("one-http-trigger: /a/...")));
        let reserved = table(&[("/.well-known/spin/health", "x")]).map(|_| ()).map_err(|e| e.to_string());
        assert!(reserved.is_err_and(|e| e.contains("handled by the Spin runtime")));
        let unnamed = table(&[("/a/:/b", "x")]).map(|_| ()).map_err(|e| e.to_string());
        assert!(unnamed.is_err_and(|e| e.contains("params must be named")), "routefinder's own reason");
        assert!(table(&[("relative/path", "x")]).expect("made absolute").route_for("/relative/path").is_some());
    }
}
