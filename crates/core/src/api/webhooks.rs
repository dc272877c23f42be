//! `/api/v1/webhooks/*`: incoming monitoring webhooks. Admins configure integrations
//! (`/api/v1/webhooks/integrations`); Alertmanager, Grafana and anything that speaks the
//! generic format post to `/api/v1/webhooks/<kind>/<slug>`, authenticated by an API key with
//! `events:write` or by the integration's HMAC-SHA256 signature.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::alerts::integration::{self, Signature, check_title_template, default_severity_map};
use crate::alerts::{Format, Integration, SeverityRule, payload, receive};
use crate::api::parse::path_id;
use crate::app::Ctx;
use crate::audit::Entry;
use crate::auth::{Action, ratelimit, tokens};
use crate::domain::{Name, ServiceStatus, Severity, Slug};
use crate::error::{Error, OnConstraint};
use crate::http::{ApiError, Body, Request, Response};
use crate::repo::integrations::{self as repo, IntegrationFields};

/// The longest label name an integration reads.
const MAX_LABEL: usize = 100;

fn label_name(raw: &str) -> Result<String, String> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_LABEL
        && raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(format!("must be a label name (letters, digits, _ . -), at most {MAX_LABEL}"))
    }
}

fn severity_map(value: &Value) -> Result<BTreeMap<String, SeverityRule>, String> {
    let object = value.as_object().ok_or("must be an object: label value → {severity, status}")?;
    object
        .iter()
        .map(|(key, rule)| {
            let severity = rule["severity"].as_str().map(Severity::parse).transpose()?;
            let status = rule["status"].as_str().map(ServiceStatus::parse).transpose()?;
            match (severity, status, rule.as_object().map(serde_json::Map::len)) {
                (Some(severity), Some(status), Some(2)) => Ok((key.clone(), SeverityRule { severity, status })),
                _ => {
                    Err(format!("{key:?} must be {{\"severity\": minor|major|critical, \"status\": a service status}}"))
                }
            }
        })
        .collect()
}

/// An integration's settings from a body: every field for a new one (`name`, `slug`, `kind`
/// required), or those given over `current`'s.
fn settings(request: &Request, current: Option<&Integration>) -> Result<Integration, ApiError> {
    let mut body = Body::parse(request)?;
    let creating = current.is_none();
    let read =
        |body: &mut Body, field: &str| if creating { body.required_str(field) } else { body.optional_str(field) };
    let name = read(&mut body, "name").and_then(|n| body.check("name", Name::parse(&n)));
    let slug = read(&mut body, "slug").and_then(|s| body.check("slug", Slug::parse(&s)));
    let kind = read(&mut body, "kind").and_then(|k| body.check("kind", Format::parse(&k)));
    let service_label = body.optional_str("service_label").and_then(|l| body.check("service_label", label_name(&l)));
    let fallback_given = body.has("fallback_service_id");
    let fallback = body.optional_str("fallback_service_id").and_then(|id| {
        body.check("fallback_service_id", Uuid::parse_str(&id).map_err(|_| "must be a service's id".to_owned()))
    });
    let severity_label = body.optional_str("severity_label").and_then(|l| body.check("severity_label", label_name(&l)));
    let map = body.optional_value("severity_map").and_then(|m| body.check("severity_map", severity_map(&m)));
    let default_severity =
        body.optional_str("default_severity").and_then(|s| body.check("default_severity", Severity::parse(&s)));
    let title_template = body
        .optional_str("title_template")
        .and_then(|t| body.check("title_template", check_title_template(&t).map(|()| t)));
    let notify = body.optional_bool("notify_subscribers");
    let enabled = body.optional_bool("enabled");
    body.read_only(&["id", "webhook_path", "created_at", "updated_at"]);
    body.finish()?;
    let base = current.cloned().unwrap_or_else(|| Integration {
        id: Uuid::nil(),
        name: String::new(),
        slug: String::new(),
        kind: Format::Generic,
        webhook_path: String::new(),
        service_label: "service".into(),
        fallback_service_id: None,
        severity_label: "severity".into(),
        severity_map: default_severity_map(),
        default_severity: Severity::Major,
        title_template: "{{alertname}}".into(),
        notify_subscribers: true,
        enabled: true,
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        updated_at: time::OffsetDateTime::UNIX_EPOCH,
    });
    Ok(Integration {
        name: name.map_or(base.name, |n| n.as_str().to_owned()),
        slug: slug.map_or(base.slug, |s| s.as_str().to_owned()),
        kind: kind.unwrap_or(base.kind),
        service_label: service_label.unwrap_or(base.service_label),
        fallback_service_id: if fallback_given { fallback } else { base.fallback_service_id },
        severity_label: severity_label.unwrap_or(base.severity_label),
        severity_map: map.unwrap_or(base.severity_map),
        default_severity: default_severity.unwrap_or(base.default_severity),
        title_template: title_template.unwrap_or(base.title_template),
        notify_subscribers: notify.unwrap_or(base.notify_subscribers),
        enabled: enabled.unwrap_or(base.enabled),
        ..base
    })
}

fn fields(integration: &Integration) -> IntegrationFields<'_> {
    IntegrationFields {
        name: &integration.name,
        slug: &integration.slug,
        kind: integration.kind.as_str(),
        service_label: &integration.service_label,
        fallback_service_id: integration.fallback_service_id,
        severity_label: &integration.severity_label,
        severity_map: &integration.severity_map,
        default_severity: integration.default_severity,
        title_template: &integration.title_template,
        notify_subscribers: integration.notify_subscribers,
        enabled: integration.enabled,
    }
}

fn slug_taken() -> Error {
    Error::conflict("slug_taken", "an integration with this slug already exists")
}

/// The fallback service must be a live service.
fn check_fallback(db: &dyn crate::db::Db, integration: &Integration) -> Result<(), Error> {
    match integration.fallback_service_id {
        Some(id) if repo::service_name(db, id)?.is_none() => {
            Err(Error::invalid("fallback_service_id", "no live service has this id"))
        }
        _ => Ok(()),
    }
}

fn new_secret() -> Result<String, ApiError> {
    tokens::random_secret(32).map(|s| format!("whsec_{s}")).map_err(|e| ApiError::from(Error::Internal(e)))
}

fn with_secret(integration: &Integration, secret: &str) -> Value {
    let mut value = serde_json::to_value(integration).unwrap_or_default();
    value["secret"] = secret.into();
    value
}

fn find(ctx: &Ctx<'_>) -> Result<Integration, ApiError> {
    let id = path_id(ctx, "id")?;
    repo::find(ctx.db()?, id)?.ok_or_else(|| ApiError::NotFound(format!("no integration has id {id}")))
}

/// `GET /api/v1/webhooks/integrations` (admins).
///
/// # Errors
/// 401, 403.
pub fn list(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::ManageIntegrations)?;
    Ok(Response::data(&repo::list(ctx.db()?)?))
}

/// `POST /api/v1/webhooks/integrations {name, slug, kind, ...}` (admins): 201 with its
/// `webhook_path` and its `secret` (shown this once).
///
/// # Errors
/// 401, 403, 400, 409 `slug_taken`.
pub fn create(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::ManageIntegrations)?;
    let integration = settings(ctx.request, None)?;
    let secret = new_secret()?;
    let created = ctx.write(|db| {
        check_fallback(db, &integration)?;
        let id = repo::insert(db, &fields(&integration), &secret, ctx.now).on_constraint(repo::SLUG_KEY, slug_taken)?;
        let created = repo::find(db, id)?.ok_or_else(|| ApiError::NotFound("the integration vanished".into()))?;
        ctx.audit(db, Entry::new("integration.create", "integration", id).after(&created))?;
        Ok(created)
    })?;
    Ok(Response::created(&with_secret(&created, &secret)))
}

/// `GET /api/v1/webhooks/integrations/{id}` (admins).
///
/// # Errors
/// 401, 403, 400, 404.
pub fn get(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::ManageIntegrations)?;
    Ok(Response::data(&find(ctx)?))
}

/// `PATCH /api/v1/webhooks/integrations/{id}` (admins): changes what it names.
///
/// # Errors
/// 401, 403, 400, 404, 409 `slug_taken`.
pub fn update(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::ManageIntegrations)?;
    let current = find(ctx)?;
    let changed = settings(ctx.request, Some(&current))?;
    let updated = ctx.write(|db| {
        check_fallback(db, &changed)?;
        repo::update(db, current.id, &fields(&changed), ctx.now).on_constraint(repo::SLUG_KEY, slug_taken)?;
        let updated =
            repo::find(db, current.id)?.ok_or_else(|| ApiError::NotFound("the integration is gone".into()))?;
        ctx.audit(db, Entry::new("integration.update", "integration", current.id).before(&current).after(&updated))?;
        Ok(updated)
    })?;
    Ok(Response::data(&updated))
}

/// `DELETE /api/v1/webhooks/integrations/{id}` (admins): 204; its incidents stay.
///
/// # Errors
/// 401, 403, 400, 404.
pub fn delete(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::ManageIntegrations)?;
    let current = find(ctx)?;
    ctx.write(|db| {
        repo::delete(db, current.id)?;
        ctx.audit(db, Entry::new("integration.delete", "integration", current.id).before(&current))
    })?;
    Ok(Response::no_content())
}

/// `POST /api/v1/webhooks/integrations/{id}/rotate-secret` (admins): a new signing secret,
/// shown this once; the old one stops working at once.
///
/// # Errors
/// 401, 403, 400, 404.
pub fn rotate_secret(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::ManageIntegrations)?;
    let current = find(ctx)?;
    let secret = new_secret()?;
    ctx.write(|db| {
        repo::set_secret(db, current.id, &secret, ctx.now)?;
        ctx.audit(db, Entry::new("integration.rotate_secret", "integration", current.id))
    })?;
    Ok(Response::data(&json!({ "id": current.id, "secret": secret })))
}

/// `POST /api/v1/webhooks/{kind}/{slug}`: a delivery from Alertmanager, Grafana or the generic
/// format. Authenticated by `Authorization: Bearer <API key with events:write>` (or an
/// operator's token), or by the integration's signature (`X-StatusPage-Signature` with
/// `X-StatusPage-Timestamp`; Grafana's `X-Grafana-Alerting-Signature`). Answers 200 with what
/// it did.
///
/// # Errors
/// 404 for no such integration; 401 without valid credentials or signature; 403 for a
/// disabled integration or a caller without `events:write`; 429 past the integration's limit;
/// 400 for a payload that is not its format, or firing alerts whose labels name no service.
pub fn deliver(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let (kind, slug) = (ctx.param("kind"), ctx.param("slug"));
    let not_found = || ApiError::NotFound(format!("no integration receives at /api/v1/webhooks/{kind}/{slug}"));
    let format = Format::parse(kind).map_err(|_| not_found())?;
    let (integration, secret) = repo::find_by_path(ctx.db()?, format.as_str(), slug)?.ok_or_else(not_found)?;
    if ctx.request.header("authorization").is_some() {
        ctx.require(Action::WriteEvents)?;
    } else {
        let header = |name| ctx.request.header(name);
        let signature = Signature {
            ours: header("x-statuspage-signature"),
            timestamp: header("x-statuspage-timestamp"),
            grafana: header("x-grafana-alerting-signature"),
            grafana_timestamp: header("x-grafana-alerting-timestamp"),
        };
        integration::verify(&secret, &signature, &ctx.request.body, ctx.now).map_err(ApiError::Unauthorized)?;
    }
    if !integration.enabled {
        return Err(ApiError::Forbidden(format!("the integration {} is disabled", integration.name)));
    }
    let limit = ctx.config()?.rate_limits.get(ratelimit::WEBHOOKS_PER_INTEGRATION);
    ratelimit::check(ctx.db()?, limit, &integration.id.to_string(), ctx.now)?;
    let alerts = payload::parse(format, &ctx.request.body)
        .map_err(|message| ApiError::BadRequest { code: "malformed_payload", message })?;
    let received = ctx.write(|db| Ok(receive::receive(db, &integration, &alerts, &ctx.origin())?))?;
    if !received.opened.is_empty() || !received.updated.is_empty() {
        ctx.publish();
    }
    if received.deliveries > 0 {
        ctx.deliver_soon();
    }
    Ok(Response::data(&received))
}
