//! SQL for incoming-webhook integrations and the alerts they have seen.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::alerts::{Integration, SeverityRule};
use crate::db::{Db, DbError, DbExt, Param};
use crate::domain::Severity;

/// The unique slug (409 `slug_taken`).
pub const SLUG_KEY: &str = "integrations_slug_key";

/// The shape of [`Integration`] for the row aliased `i`.
const INTEGRATION_JSON: &str = "jsonb_build_object(
    'id', i.id, 'name', i.name, 'slug', i.slug, 'kind', i.kind,
    'webhook_path', '/api/v1/webhooks/' || i.kind || '/' || i.slug,
    'service_label', i.service_label, 'fallback_service_id', i.fallback_service_id,
    'severity_label', i.severity_label, 'severity_map', i.severity_map, 'default_severity', i.default_severity,
    'title_template', i.title_template, 'notify_subscribers', i.notify_subscribers, 'enabled', i.enabled,
    'created_at', rfc3339(i.created_at), 'updated_at', rfc3339(i.updated_at))";

/// An integration's settings, as stored.
#[derive(Debug, Clone)]
pub struct IntegrationFields<'a> {
    /// Name.
    pub name: &'a str,
    /// Slug.
    pub slug: &'a str,
    /// `alertmanager`, `grafana` or `generic`.
    pub kind: &'a str,
    /// The service label.
    pub service_label: &'a str,
    /// The fallback service.
    pub fallback_service_id: Option<Uuid>,
    /// The severity label.
    pub severity_label: &'a str,
    /// The severity map.
    pub severity_map: &'a BTreeMap<String, SeverityRule>,
    /// The default severity.
    pub default_severity: Severity,
    /// The title template.
    pub title_template: &'a str,
    /// Whether its incidents notify.
    pub notify_subscribers: bool,
    /// Whether it takes deliveries.
    pub enabled: bool,
}

impl IntegrationFields<'_> {
    fn params(&self) -> Vec<Param> {
        vec![
            self.name.into(),
            self.slug.into(),
            self.kind.into(),
            self.service_label.into(),
            self.fallback_service_id.into(),
            self.severity_label.into(),
            Param::Jsonb(serde_json::to_value(self.severity_map).unwrap_or_default()),
            self.default_severity.as_str().into(),
            self.title_template.into(),
            Param::Bool(self.notify_subscribers),
            Param::Bool(self.enabled),
        ]
    }
}

/// Stores a new integration with `secret` at `at`; answers its id.
///
/// # Errors
/// Database errors (a taken slug is [`SLUG_KEY`]).
pub fn insert(db: &dyn Db, fields: &IntegrationFields<'_>, secret: &str, at: OffsetDateTime) -> Result<Uuid, DbError> {
    let mut params = fields.params();
    params.extend([secret.into(), at.into()]);
    db.query_as(
        "with i as (
             insert into integrations (name, slug, kind, service_label, fallback_service_id, severity_label, severity_map,
                                       default_severity, title_template, notify_subscribers, enabled, secret,
                                       created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::text::timestamptz, $13::text::timestamptz)
             returning id)
         select to_jsonb(id) from i",
        &params,
    )
}

/// Replaces integration `id`'s settings at `at`.
///
/// # Errors
/// Database errors (a taken slug is [`SLUG_KEY`]).
pub fn update(db: &dyn Db, id: Uuid, fields: &IntegrationFields<'_>, at: OffsetDateTime) -> Result<(), DbError> {
    let mut params = fields.params();
    params.extend([id.into(), at.into()]);
    db.execute(
        "update integrations set name = $1, slug = $2, kind = $3, service_label = $4, fallback_service_id = $5,
                                 severity_label = $6, severity_map = $7, default_severity = $8, title_template = $9,
                                 notify_subscribers = $10, enabled = $11, updated_at = $13::text::timestamptz
         where id = $12",
        &params,
    )?;
    Ok(())
}

/// Replaces integration `id`'s secret.
///
/// # Errors
/// Database errors.
pub fn set_secret(db: &dyn Db, id: Uuid, secret: &str, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update integrations set secret = $2, updated_at = $3::text::timestamptz where id = $1",
        &[id.into(), secret.into(), at.into()],
    )?;
    Ok(())
}

/// Deletes integration `id` (its incidents stay, no longer joined by its alerts).
///
/// # Errors
/// Database errors.
pub fn delete(db: &dyn Db, id: Uuid) -> Result<(), DbError> {
    db.execute("delete from integrations where id = $1", &[id.into()])?;
    Ok(())
}

/// Every integration, by name.
///
/// # Errors
/// Database errors.
pub fn list(db: &dyn Db) -> Result<Vec<Integration>, DbError> {
    db.query_as(
        &format!(
            "select coalesce(jsonb_agg({INTEGRATION_JSON} order by i.name, i.id), '[]'::jsonb) from integrations i"
        ),
        &[],
    )
}

/// Integration `id`.
///
/// # Errors
/// Database errors.
pub fn find(db: &dyn Db, id: Uuid) -> Result<Option<Integration>, DbError> {
    db.query_as(&format!("select (select {INTEGRATION_JSON} from integrations i where i.id = $1)"), &[id.into()])
}

/// The integration at `/api/v1/webhooks/<kind>/<slug>`, with its secret.
///
/// # Errors
/// Database errors.
pub fn find_by_path(db: &dyn Db, kind: &str, slug: &str) -> Result<Option<(Integration, String)>, DbError> {
    #[derive(serde::Deserialize)]
    struct Row {
        integration: Integration,
        secret: String,
    }
    let row: Option<Row> = db.query_as(
        &format!(
            "select (select jsonb_build_object('integration', {INTEGRATION_JSON}, 'secret', i.secret)
                     from integrations i where i.kind = $1 and i.slug = $2)"
        ),
        &[kind.into(), slug.into()],
    )?;
    Ok(row.map(|r| (r.integration, r.secret)))
}

/// Locks integration `id` until the transaction ends (its deliveries apply one at a time).
///
/// # Errors
/// Database errors.
pub fn lock(db: &dyn Db, id: Uuid) -> Result<(), DbError> {
    let _: bool = db.query_as(
        "select to_jsonb(exists (select 1 from (select id from integrations where id = $1 for update) i))",
        &[id.into()],
    )?;
    Ok(())
}

/// What an integration last saw of an alert.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SeenAlert {
    /// `firing` or `resolved`.
    pub status: String,
    /// Its service.
    pub service_id: Uuid,
    /// The incident it went to.
    pub event_id: Option<Uuid>,
}

/// Alert `fingerprint` of integration `integration`, if seen.
///
/// # Errors
/// Database errors.
pub fn find_alert(db: &dyn Db, integration: Uuid, fingerprint: &str) -> Result<Option<SeenAlert>, DbError> {
    db.query_as(
        "select (select jsonb_build_object('status', status, 'service_id', service_id, 'event_id', event_id)
                 from integration_alerts where integration_id = $1 and fingerprint = $2)",
        &[integration.into(), fingerprint.into()],
    )
}

/// Records alert `fingerprint`'s state.
///
/// # Errors
/// Database errors.
pub fn record_alert(
    db: &dyn Db,
    (integration, fingerprint): (Uuid, &str),
    (status, service, event): (&str, Uuid, Option<Uuid>),
    title: &str,
    at: OffsetDateTime,
) -> Result<(), DbError> {
    db.execute(
        "insert into integration_alerts (integration_id, fingerprint, status, service_id, event_id, title, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7::text::timestamptz)
         on conflict (integration_id, fingerprint) do update
             set status = excluded.status, service_id = excluded.service_id, event_id = excluded.event_id,
                 title = excluded.title, updated_at = excluded.updated_at",
        &[integration.into(), fingerprint.into(), status.into(), service.into(), event.into(), title.into(), at.into()],
    )?;
    Ok(())
}

/// The open incident integration `integration` opened, if any.
///
/// # Errors
/// Database errors.
pub fn open_incident(db: &dyn Db, integration: Uuid) -> Result<Option<Uuid>, DbError> {
    db.query_as(
        "select (select to_jsonb(id) from events
                 where integration_id = $1 and type = 'incident' and status <> 'resolved'
                 order by created_at desc limit 1)",
        &[integration.into()],
    )
}

/// Marks event `event` as opened by integration `integration`.
///
/// # Errors
/// Database errors.
pub fn set_event_integration(db: &dyn Db, event: Uuid, integration: Uuid) -> Result<(), DbError> {
    db.execute("update events set integration_id = $2 where id = $1", &[event.into(), integration.into()])?;
    Ok(())
}

/// The services of the alerts still firing into event `event`.
///
/// # Errors
/// Database errors.
pub fn firing_services(db: &dyn Db, event: Uuid) -> Result<Vec<Uuid>, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(service_id), '[]'::jsonb) from integration_alerts
         where event_id = $1 and status = 'firing'",
        &[event.into()],
    )
}

/// Whether a person (not an integration, a key or the scheduler) has posted on event `event`:
/// then it is theirs to close.
///
/// # Errors
/// Database errors.
pub fn human_took_over(db: &dyn Db, event: Uuid) -> Result<bool, DbError> {
    db.query_as(
        "select to_jsonb(exists (select 1 from event_updates u join users p on p.id = u.created_by
                                 where u.event_id = $1))",
        &[event.into()],
    )
}

/// The live (not archived) services with these slugs: slug → (id, name).
///
/// # Errors
/// Database errors.
pub fn services_by_slug(db: &dyn Db, slugs: &[String]) -> Result<BTreeMap<String, (Uuid, String)>, DbError> {
    #[derive(serde::Deserialize)]
    struct Row {
        slug: String,
        id: Uuid,
        name: String,
    }
    let rows: Vec<Row> = db.query_as(
        "select coalesce(jsonb_agg(jsonb_build_object('slug', slug, 'id', id, 'name', name)), '[]'::jsonb)
         from services where slug = any($1::text[]) and archived_at is null",
        &[Param::TextArray(slugs.to_vec())],
    )?;
    Ok(rows.into_iter().map(|r| (r.slug, (r.id, r.name))).collect())
}

/// The name of live service `id`.
///
/// # Errors
/// Database errors.
pub fn service_name(db: &dyn Db, id: Uuid) -> Result<Option<String>, DbError> {
    db.query_as("select (select to_jsonb(name) from services where id = $1 and archived_at is null)", &[id.into()])
}
