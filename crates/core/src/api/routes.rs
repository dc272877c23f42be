//! Each component's route table. A component serves exactly its table; keeping the tables here
//! lets one test hold them against `api/openapi.yaml` in both directions.

use super::{
    account, api_keys, audit_log, auth, catalog, channels, events, ops, public, sso, subscribers, templates, users,
    webhooks,
};
use crate::app::Handler;
use crate::http::{Policy, Router};

const PUBLIC: Policy = Policy::PUBLIC;
const AUTHENTICATED: Policy = Policy::AUTHENTICATED;
const WRITE: Policy = Policy::WRITE;

/// `auth`: identity and access.
#[must_use]
pub fn auth() -> Router<Handler> {
    Router::<Handler>::new()
        .route("POST", "/api/v1/auth/register", Policy::REGISTRATION, auth::register)
        .route("POST", "/api/v1/auth/login", Policy::SIGN_IN, auth::login)
        .route("POST", "/api/v1/auth/login/2fa", WRITE, auth::login_second_step)
        .route("POST", "/api/v1/auth/refresh", WRITE, auth::refresh)
        .route("POST", "/api/v1/auth/logout", WRITE, auth::logout)
        .route("POST", "/api/v1/auth/forgot-password", Policy::PASSWORD_RESET, auth::forgot_password)
        .route("POST", "/api/v1/auth/reset-password", Policy::PASSWORD_RESET, auth::reset_password)
        .get("/api/v1/auth/oidc/login", PUBLIC, sso::login)
        .get("/api/v1/auth/oidc/callback", PUBLIC, sso::callback)
        .route("POST", "/api/v1/auth/2fa/enroll", WRITE, account::enroll)
        .route("POST", "/api/v1/auth/2fa/confirm", WRITE, account::confirm)
        .route("POST", "/api/v1/auth/2fa/disable", WRITE, account::disable)
        .get("/api/v1/me", AUTHENTICATED, account::get_me)
        .route("PATCH", "/api/v1/me", WRITE, account::update_me)
        .route("PUT", "/api/v1/me/password", WRITE, account::change_password)
        .get("/api/v1/users", AUTHENTICATED, users::list)
        .route("POST", "/api/v1/users", WRITE, users::create)
        .get("/api/v1/users/:id", AUTHENTICATED, users::get)
        .route("PATCH", "/api/v1/users/:id", WRITE, users::update)
        .route("POST", "/api/v1/users/:id/deactivate", WRITE, users::deactivate)
        .route("POST", "/api/v1/users/:id/reactivate", WRITE, users::reactivate)
        .route("POST", "/api/v1/users/:id/reset-password", WRITE, users::reset_password)
        .get("/api/v1/api-keys", AUTHENTICATED, api_keys::list)
        .route("POST", "/api/v1/api-keys", WRITE, api_keys::create)
        .get("/api/v1/api-keys/:id", AUTHENTICATED, api_keys::get)
        .route("DELETE", "/api/v1/api-keys/:id", WRITE, api_keys::revoke)
        .get("/api/v1/audit-log", AUTHENTICATED, audit_log::list)
}

/// `catalog`: services and groups.
#[must_use]
pub fn catalog() -> Router<Handler> {
    Router::<Handler>::new()
        .get("/api/v1/services", PUBLIC, catalog::list_services)
        .route("POST", "/api/v1/services", WRITE, catalog::create_service)
        .get("/api/v1/services/:slug", PUBLIC, catalog::get_service)
        .route("PATCH", "/api/v1/services/:slug", WRITE, catalog::update_service)
        .route("DELETE", "/api/v1/services/:slug", WRITE, catalog::archive_service)
        .route("POST", "/api/v1/services/:slug/restore", WRITE, catalog::restore_service)
        .get("/api/v1/services/:slug/tags", PUBLIC, catalog::get_tags)
        .route("PUT", "/api/v1/services/:slug/tags", WRITE, catalog::put_tags)
        .get("/api/v1/services/:slug/status-log", AUTHENTICATED, catalog::status_log)
        .get("/api/v1/services/:slug/events", PUBLIC, events::service_events)
        .get("/api/v1/services/:slug/uptime", PUBLIC, public::service_uptime)
        .get("/api/v1/groups", PUBLIC, catalog::list_groups)
        .route("POST", "/api/v1/groups", WRITE, catalog::create_group)
        .get("/api/v1/groups/:slug", PUBLIC, catalog::get_group)
        .route("PATCH", "/api/v1/groups/:slug", WRITE, catalog::update_group)
        .route("DELETE", "/api/v1/groups/:slug", WRITE, catalog::archive_group)
        .route("POST", "/api/v1/groups/:slug/restore", WRITE, catalog::restore_group)
}

/// `events`: incidents, maintenance, templates, incoming webhooks.
#[must_use]
pub fn events() -> Router<Handler> {
    Router::<Handler>::new()
        .get("/api/v1/events", PUBLIC, events::list_events)
        .route("POST", "/api/v1/events", WRITE, events::create_event)
        .get("/api/v1/events/:id", PUBLIC, events::get_event)
        .route("DELETE", "/api/v1/events/:id", WRITE, events::delete_event)
        .get("/api/v1/events/:id/updates", PUBLIC, events::list_updates)
        .route("POST", "/api/v1/events/:id/updates", WRITE, events::post_update)
        .get("/api/v1/events/:id/changes", PUBLIC, events::list_changes)
        .get("/api/v1/templates", AUTHENTICATED, templates::list)
        .route("POST", "/api/v1/templates", WRITE, templates::create)
        .get("/api/v1/templates/:slug", AUTHENTICATED, templates::get)
        .route("PATCH", "/api/v1/templates/:slug", WRITE, templates::update)
        .route("DELETE", "/api/v1/templates/:slug", WRITE, templates::delete)
        .route("POST", "/api/v1/templates/:slug/preview", WRITE, templates::preview)
        .get("/api/v1/webhooks/integrations", AUTHENTICATED, webhooks::list)
        .route("POST", "/api/v1/webhooks/integrations", WRITE, webhooks::create)
        .get("/api/v1/webhooks/integrations/:id", AUTHENTICATED, webhooks::get)
        .route("PATCH", "/api/v1/webhooks/integrations/:id", WRITE, webhooks::update)
        .route("DELETE", "/api/v1/webhooks/integrations/:id", WRITE, webhooks::delete)
        .route("POST", "/api/v1/webhooks/integrations/:id/rotate-secret", WRITE, webhooks::rotate_secret)
        .route("POST", "/api/v1/webhooks/:kind/:slug", Policy::WEBHOOK, webhooks::deliver)
}

/// `subscriptions`: channels, subscribers, notifications.
#[must_use]
pub fn subscriptions() -> Router<Handler> {
    Router::<Handler>::new()
        .get("/api/v1/me/channels", AUTHENTICATED, channels::list)
        .route("POST", "/api/v1/me/channels", WRITE, channels::create)
        .get("/api/v1/me/channels/:id", AUTHENTICATED, channels::get)
        .route("PATCH", "/api/v1/me/channels/:id", WRITE, channels::update)
        .route("DELETE", "/api/v1/me/channels/:id", WRITE, channels::delete)
        .route("POST", "/api/v1/me/channels/:id/verify", WRITE, channels::verify)
        .route("POST", "/api/v1/me/channels/:id/resend-code", WRITE, channels::resend)
        .route("PUT", "/api/v1/me/channels/:id/subscriptions", WRITE, channels::put_subscriptions)
        .get("/api/v1/me/subscriptions", AUTHENTICATED, channels::my_subscriptions)
        .route("POST", "/api/v1/me/subscriptions", WRITE, channels::set_all_subscriptions)
        .route("DELETE", "/api/v1/me/subscriptions", WRITE, channels::reset_subscriptions)
        .route("POST", "/api/v1/subscribers", Policy::SUBSCRIPTION, subscribers::sign_up)
        .route("POST", "/api/v1/subscribers/confirm", WRITE, subscribers::confirm_api)
        .route("POST", "/api/v1/subscribers/manage", Policy::SUBSCRIPTION, subscribers::request_manage)
        .route("POST", "/api/v1/subscribers/unsubscribe", WRITE, subscribers::unsubscribe_api)
        .get("/subscribers/confirm", PUBLIC, subscribers::confirm_page)
        .route("POST", "/subscribers/confirm", WRITE, subscribers::confirm_submit)
        .get("/subscribers/manage", PUBLIC, subscribers::manage_page)
        .route("POST", "/subscribers/manage", WRITE, subscribers::manage_save)
        .route("POST", "/subscribers/manage/open", WRITE, subscribers::manage_open)
        .get("/subscribers/unsubscribe", PUBLIC, subscribers::unsubscribe_page)
        .route("POST", "/subscribers/unsubscribe", WRITE, subscribers::unsubscribe_submit)
        .route("POST", "/api/v1/telegram/webhook", WRITE, channels::telegram_webhook)
        .get("/api/v1/notifications/config", PUBLIC, channels::config)
        .get("/api/v1/notifications/deliveries", AUTHENTICATED, channels::deliveries)
        .route("POST", "/api/v1/notifications/deliveries/:id/retry", WRITE, channels::retry)
        .get("/api/v1/notifications/queue", AUTHENTICATED, channels::queue)
}

/// `status`: the public surface and operations; owns the catch-all route.
#[must_use]
pub fn status() -> Router<Handler> {
    Router::<Handler>::new()
        .get("/", PUBLIC, public::index)
        .get("/incidents/:id", PUBLIC, public::incident)
        .get("/history", PUBLIC, public::history)
        .get("/history.atom", PUBLIC, public::document)
        .get("/history.rss", PUBLIC, public::document)
        .get("/maintenance.ics", PUBLIC, public::document)
        .get("/badge.svg", PUBLIC, public::document)
        .get("/badge/:file", PUBLIC, public::badge)
        .get("/api/v1/status", PUBLIC, public::document)
        .get("/api/v1/status/history", PUBLIC, public::status_history)
        .get("/api/v2/summary.json", PUBLIC, public::document)
        .get("/api/v2/status.json", PUBLIC, public::document)
        .get("/api/v2/components.json", PUBLIC, public::document)
        .get("/api/v2/incidents.json", PUBLIC, public::document)
        .get("/api/v2/incidents/unresolved.json", PUBLIC, public::document)
        .get("/api/v2/scheduled-maintenances.json", PUBLIC, public::document)
        .get("/api/v2/scheduled-maintenances/upcoming.json", PUBLIC, public::document)
        .get("/api/v2/scheduled-maintenances/active.json", PUBLIC, public::document)
        .get("/healthz", PUBLIC, ops::healthz)
        .get("/readyz", PUBLIC, ops::readyz)
        .get("/version", PUBLIC, ops::version)
        .get("/metrics", Policy::AUTHENTICATED, ops::metrics)
        .get("/api/openapi.yaml", PUBLIC, ops::openapi)
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
    fn every_state_changing_route_is_limited_and_no_read_is() {
        for (component, router) in all() {
            for (method, pattern, policy) in router.policies() {
                let limited = !crate::auth::ratelimit::per_address(policy.rate).is_empty();
                assert_eq!(limited, method != "GET", "{component}: {method} {pattern} has {policy:?}");
            }
        }
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
