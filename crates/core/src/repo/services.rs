//! SQL for services and their status log.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt, Param, Window};
use crate::domain::{Name, Service, ServiceStatus, Slug, StatusLogEntry, StatusSource, Tags};
use crate::repo::{Listed, list_page};

/// The unique constraint on `services.slug`.
pub const SLUG_KEY: &str = "services_slug_key";

/// The API shape of the service aliased `s`, built in SQL. `effective_status` and
/// `has_active_events` follow `service_effective_status()` and `service_has_active_events()` of
/// migration 0004 (the definition of derived status), written inline: PostgreSQL cannot inline
/// those functions (their bodies hold subqueries) and calls them per row, five times slower
/// than these subplans. A database test holds both to the same answers.
macro_rules! service_json {
    () => {
        "jsonb_build_object(
            'id', s.id, 'name', s.name, 'slug', s.slug, 'description', s.description,
            'status', s.status,
            'effective_status', coalesce((
                select es.status from event_services es join events e on e.id = es.event_id
                where es.service_id = s.id and event_is_active(e.type, e.status)
                order by service_status_rank(es.status) desc limit 1), s.status),
            'has_active_events', exists (
                select 1 from event_services es join events e on e.id = es.event_id
                where es.service_id = s.id and event_is_active(e.type, e.status)),
            'group_ids', coalesce((select jsonb_agg(sg.group_id order by g.display_order, g.name)
                                   from service_groups sg join groups g on g.id = sg.group_id
                                   where sg.service_id = s.id and g.archived_at is null), '[]'::jsonb),
            'group_id', (select sg.group_id from service_groups sg join groups g on g.id = sg.group_id
                         where sg.service_id = s.id and g.archived_at is null
                         order by g.display_order, g.name limit 1),
            'order', s.display_order, 'tags', s.tags,
            'created_at', rfc3339(s.created_at), 'updated_at', rfc3339(s.updated_at),
            'archived_at', rfc3339(s.archived_at))"
    };
}
pub(crate) use service_json;

/// Filters of the service list.
#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    /// Only services in this group.
    pub group_id: Option<Uuid>,
    /// Only services with this effective status.
    pub status: Option<ServiceStatus>,
    /// Include archived services.
    pub include_archived: bool,
    /// Case-insensitive text in name, slug or description.
    pub text: Option<String>,
}

/// Lists services by `order`, then name.
///
/// # Errors
/// Database errors.
pub fn list_services(db: &dyn Db, filter: &ServiceFilter, window: Window) -> Result<Listed<Service>, DbError> {
    let matching = "select s.* from services s
                    where ($1 or s.archived_at is null)
                      and ($2::uuid is null or exists (select 1 from service_groups sg
                                                      where sg.service_id = s.id and sg.group_id = $2::uuid))
                      and ($3::text is null or service_effective_status(s.id, s.status) = $3::text)
                      and ($4::text is null or strpos(lower(s.name || ' ' || s.slug || ' ' || s.description),
                                                      lower($4::text)) > 0)";
    let params = vec![
        Param::Bool(filter.include_archived),
        filter.group_id.into(),
        filter.status.map(|s| s.as_str()).into(),
        filter.text.clone().into(),
    ];
    list_page(db, (matching, service_json!(), "s", "display_order, name"), params, window)
}

/// A service by slug, archived or not.
///
/// # Errors
/// Database errors.
pub fn find_service_by_slug(db: &dyn Db, slug: &str) -> Result<Option<Service>, DbError> {
    db.query_as(concat!("select (select ", service_json!(), " from services s where s.slug = $1)"), &[slug.into()])
}

/// A service by id, archived or not.
///
/// # Errors
/// Database errors.
pub fn find_service(db: &dyn Db, id: Uuid) -> Result<Option<Service>, DbError> {
    db.query_as(concat!("select (select ", service_json!(), " from services s where s.id = $1)"), &[id.into()])
}

/// The stored fields of a service, for create (name and slug required) and update (`None`:
/// unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceFields {
    /// Display name.
    pub name: Option<Name>,
    /// URL name.
    pub slug: Option<Slug>,
    /// Free text.
    pub description: Option<String>,
    /// Stored status.
    pub status: Option<ServiceStatus>,
    /// Sort key.
    pub order: Option<i32>,
    /// Labels.
    pub tags: Option<Tags>,
}

impl ServiceFields {
    /// The fields as statement parameters, in column order: name, slug, description, status,
    /// display_order, tags (`NULL` for `None`).
    fn params(&self) -> Vec<Param> {
        vec![
            self.name.as_ref().map(Name::as_str).into(),
            self.slug.as_ref().map(Slug::as_str).into(),
            self.description.clone().into(),
            self.status.map(ServiceStatus::as_str).into(),
            self.order.into(),
            self.tags.as_ref().and_then(|t| serde_json::to_value(t).ok()).map_or(Param::Null, Param::Jsonb),
        ]
    }
}

/// Creates a service at `at`; answers its id.
///
/// # Errors
/// A violation of [`SLUG_KEY`]; database errors.
pub fn insert_service(db: &dyn Db, fields: &ServiceFields, at: OffsetDateTime) -> Result<Uuid, DbError> {
    db.query_as(
        "with s as (insert into services (name, slug, description, status, display_order, tags, created_at, updated_at)
                    values ($1, $2, coalesce($3, ''), coalesce($4, 'operational'), coalesce($5, 0),
                            coalesce($6, '{}'::jsonb), $7::text::timestamptz, $7::text::timestamptz)
                    returning id)
         select to_jsonb(id) from s",
        &[fields.params(), vec![at.into()]].concat(),
    )
}

/// Changes the given fields of service `id`.
///
/// # Errors
/// A violation of [`SLUG_KEY`]; database errors.
pub fn update_service(db: &dyn Db, id: Uuid, fields: &ServiceFields, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update services set name = coalesce($2, name), slug = coalesce($3, slug),
                             description = coalesce($4, description), status = coalesce($5, status),
                             display_order = coalesce($6, display_order), tags = coalesce($7, tags),
                             updated_at = $8::text::timestamptz
         where id = $1",
        &[vec![id.into()], fields.params(), vec![at.into()]].concat(),
    )?;
    Ok(())
}

/// Archives (`true`) or restores (`false`) a service; archiving an archived one keeps its time.
///
/// # Errors
/// Database errors.
pub fn set_service_archived(db: &dyn Db, id: Uuid, archived: bool, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update services set archived_at = case when $2 then coalesce(archived_at, $3::text::timestamptz) else null end,
                             updated_at = $3::text::timestamptz
         where id = $1",
        &[id.into(), Param::Bool(archived), at.into()],
    )?;
    Ok(())
}

/// A change of a service's status, for its status log.
#[derive(Debug, Clone)]
pub struct StatusChange<'a> {
    /// The service.
    pub service: Uuid,
    /// Before (none for a new service).
    pub from: Option<ServiceStatus>,
    /// After.
    pub to: ServiceStatus,
    /// What changed it.
    pub source: StatusSource,
    /// Why.
    pub reason: &'a str,
    /// Who.
    pub actor: Option<Uuid>,
    /// The event that changed it.
    pub event: Option<Uuid>,
    /// When.
    pub at: OffsetDateTime,
}

/// Appends to a service's status log, with the effective status the service has now (call it
/// after the change it logs).
///
/// # Errors
/// Database errors.
pub fn log_status_change(db: &dyn Db, change: &StatusChange<'_>) -> Result<(), DbError> {
    db.execute(
        "insert into service_status_log
             (service_id, from_status, to_status, source, reason, actor_id, created_at, event_id, effective_status)
         select $1, $2, $3, $4, $5, $6, $7::text::timestamptz, $8, service_effective_status(s.id, s.status)
         from services s where s.id = $1",
        &[
            change.service.into(),
            change.from.map(ServiceStatus::as_str).into(),
            change.to.as_str().into(),
            change.source.as_str().into(),
            change.reason.into(),
            change.actor.into(),
            change.at.into(),
            change.event.into(),
        ],
    )?;
    Ok(())
}

/// A service's status log, newest first.
///
/// # Errors
/// Database errors.
pub fn list_status_log(db: &dyn Db, service: Uuid, window: Window) -> Result<Listed<StatusLogEntry>, DbError> {
    let shape = "jsonb_build_object(
                     'id', l.id, 'service_id', l.service_id, 'from_status', l.from_status, 'to_status', l.to_status,
                     'source', l.source, 'event_id', l.event_id, 'reason', l.reason, 'actor_id', l.actor_id,
                     'created_at', rfc3339(l.created_at), 'old_status', l.from_status, 'new_status', l.to_status,
                     'source_type', l.source, 'created_by', l.actor_id)";
    let matching = "select * from service_status_log l where service_id = $1";
    list_page(db, (matching, shape, "l", "created_at desc, id desc"), vec![service.into()], window)
}

/// The names of `ids`, by order then name.
///
/// # Errors
/// Database errors.
pub fn service_names(db: &dyn Db, ids: &[Uuid]) -> Result<Vec<String>, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(name order by display_order, name), '[]'::jsonb)
         from services where id = any($1::text[]::uuid[])",
        &[ids.into()],
    )
}
