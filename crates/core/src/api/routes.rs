//! Each component's route table. A component serves exactly its table; keeping the tables here
//! lets one test hold them against `api/openapi.yaml` in both directions.

use super::{account, api_keys, audit_log, auth, catalog, events, ops, templates, users};
use crate::app::Handler;
use crate::http::Router;

/// `auth`: identity and access (SPEC §3).
#[must_use]
pub fn auth() -> Router<Handler> {
    Router::<Handler>::new()
        .route("POST", "/api/v1/auth/register", auth::register)
        .route("POST", "/api/v1/auth/login", auth::login)
        .route("POST", "/api/v1/auth/login/2fa", auth::login_second_step)
        .route("POST", "/api/v1/auth/refresh", auth::refresh)
        .route("POST", "/api/v1/auth/logout", auth::logout)
        .route("POST", "/api/v1/auth/forgot-password", auth::forgot_password)
        .route("POST", "/api/v1/auth/reset-password", auth::reset_password)
        .route("POST", "/api/v1/auth/2fa/enroll", account::enroll)
        .route("POST", "/api/v1/auth/2fa/confirm", account::confirm)
        .route("POST", "/api/v1/auth/2fa/disable", account::disable)
        .get("/api/v1/me", account::get_me)
        .route("PATCH", "/api/v1/me", account::update_me)
        .route("PUT", "/api/v1/me/password", account::change_password)
        .get("/api/v1/users", users::list)
        .route("POST", "/api/v1/users", users::create)
        .get("/api/v1/users/:id", users::get)
        .route("PATCH", "/api/v1/users/:id", users::update)
        .route("POST", "/api/v1/users/:id/deactivate", users::deactivate)
        .route("POST", "/api/v1/users/:id/reactivate", users::reactivate)
        .route("POST", "/api/v1/users/:id/reset-password", users::reset_password)
        .get("/api/v1/api-keys", api_keys::list)
        .route("POST", "/api/v1/api-keys", api_keys::create)
        .get("/api/v1/api-keys/:id", api_keys::get)
        .route("DELETE", "/api/v1/api-keys/:id", api_keys::revoke)
        .get("/api/v1/audit-log", audit_log::list)
}

/// `catalog`: services and groups (SPEC §4).
#[must_use]
pub fn catalog() -> Router<Handler> {
    Router::<Handler>::new()
        .get("/api/v1/services", catalog::list_services)
        .route("POST", "/api/v1/services", catalog::create_service)
        .get("/api/v1/services/:slug", catalog::get_service)
        .route("PATCH", "/api/v1/services/:slug", catalog::update_service)
        .route("DELETE", "/api/v1/services/:slug", catalog::archive_service)
        .route("POST", "/api/v1/services/:slug/restore", catalog::restore_service)
        .get("/api/v1/services/:slug/tags", catalog::get_tags)
        .route("PUT", "/api/v1/services/:slug/tags", catalog::put_tags)
        .get("/api/v1/services/:slug/status-log", catalog::status_log)
        .get("/api/v1/groups", catalog::list_groups)
        .route("POST", "/api/v1/groups", catalog::create_group)
        .get("/api/v1/groups/:slug", catalog::get_group)
        .route("PATCH", "/api/v1/groups/:slug", catalog::update_group)
        .route("DELETE", "/api/v1/groups/:slug", catalog::archive_group)
        .route("POST", "/api/v1/groups/:slug/restore", catalog::restore_group)
}

/// `events`: incidents, maintenance, templates, incoming webhooks (SPEC §5).
#[must_use]
pub fn events() -> Router<Handler> {
    Router::<Handler>::new()
        .get("/api/v1/events", events::list_events)
        .route("POST", "/api/v1/events", events::create_event)
        .get("/api/v1/events/:id", events::get_event)
        .route("DELETE", "/api/v1/events/:id", events::delete_event)
        .get("/api/v1/events/:id/updates", events::list_updates)
        .route("POST", "/api/v1/events/:id/updates", events::post_update)
        .get("/api/v1/events/:id/changes", events::list_changes)
        .get("/api/v1/templates", templates::list)
        .route("POST", "/api/v1/templates", templates::create)
        .get("/api/v1/templates/:slug", templates::get)
        .route("PATCH", "/api/v1/templates/:slug", templates::update)
        .route("DELETE", "/api/v1/templates/:slug", templates::delete)
        .route("POST", "/api/v1/templates/:slug/preview", templates::preview)
}

/// `subscriptions`: channels, subscribers, notifications (SPEC §6).
#[must_use]
pub fn subscriptions() -> Router<Handler> {
    Router::new()
}

/// `status`: the public surface and operations (SPEC §7–8); owns the catch-all route.
#[must_use]
pub fn status() -> Router<Handler> {
    Router::<Handler>::new()
        .get("/healthz", ops::healthz)
        .get("/readyz", ops::readyz)
        .get("/version", ops::version)
        .get("/api/openapi.yaml", ops::openapi)
}

/// Every component's table, by component name.
#[must_use]
pub fn all() -> Vec<(&'static str, Router<Handler>)> {
    vec![
        ("auth", auth()),
        ("catalog", catalog()),
        ("events", events()),
        ("subscriptions", subscriptions()),
        ("status", status()),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// `(METHOD, /path/{param})` of every operation in the OpenAPI document.
    fn documented() -> BTreeSet<(String, String)> {
        let doc: serde_json::Value = serde_yaml_ng::from_str(ops::OPENAPI_YAML).expect("openapi.yaml parses");
        let paths = doc["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .into_iter()
                    .flat_map(|ops| ops.keys())
                    .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                    .map(move |method| (method.to_ascii_uppercase(), path.clone()))
            })
            .collect()
    }

    fn served() -> BTreeSet<(String, String)> {
        all()
            .iter()
            .flat_map(|(_, router)| router.routes().map(|(m, p)| (m.to_owned(), openapi_path(p))).collect::<Vec<_>>())
            .collect()
    }

    /// `/api/v1/services/:slug` → `/api/v1/services/{slug}`.
    fn openapi_path(pattern: &str) -> String {
        pattern
            .split('/')
            .map(|s| s.strip_prefix(':').map_or_else(|| s.to_owned(), |p| format!("{{{p}}}")))
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn every_route_is_documented_and_every_documented_operation_is_served() {
        let (documented, served) = (documented(), served());
        let undocumented: Vec<_> = served.difference(&documented).collect();
        let unserved: Vec<_> = documented.difference(&served).collect();
        assert!(undocumented.is_empty(), "routes missing from api/openapi.yaml: {undocumented:?}");
        assert!(unserved.is_empty(), "documented but not served: {unserved:?}");
    }
}
