//! SQL for events, their affected services, timeline and change history.

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt, Param};
use crate::domain::{EventStatus, EventType, ServiceStatus, Severity};
use crate::http::Page;

/// The API shape of the event aliased `e` (without its timeline).
macro_rules! event_json {
    () => {
        "jsonb_build_object(
            'id', e.id, 'type', e.type, 'status', e.status, 'severity', e.severity, 'title', e.title,
            'description', e.description, 'notify_subscribers', e.notify_subscribers,
            'scheduled_start_at', rfc3339(e.scheduled_start_at), 'scheduled_end_at', rfc3339(e.scheduled_end_at),
            'auto_transition', e.auto_transition, 'started_at', rfc3339(e.started_at),
            'monitoring_at', rfc3339(e.monitoring_at), 'resolved_at', rfc3339(e.resolved_at),
            'created_by', e.created_by, 'created_at', rfc3339(e.created_at), 'updated_at', rfc3339(e.updated_at),
            'affected_services', coalesce((
                select jsonb_agg(jsonb_build_object('service_id', s.id, 'name', s.name, 'slug', s.slug, 'status', es.status)
                                 order by s.display_order, s.name)
                from event_services es join services s on s.id = es.service_id where es.event_id = e.id), '[]'::jsonb))"
    };
}

/// A new event's stored fields.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Type.
    pub event_type: EventType,
    /// Initial status.
    pub status: EventStatus,
    /// Incidents only.
    pub severity: Option<Severity>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Whether subscribers are told.
    pub notify_subscribers: bool,
    /// Maintenance window (RFC 3339).
    pub scheduled_start_at: Option<String>,
    /// Maintenance window (RFC 3339).
    pub scheduled_end_at: Option<String>,
    /// Maintenance runs itself.
    pub auto_transition: bool,
    /// Creator.
    pub created_by: Option<Uuid>,
}

/// Stores an event; answers its id.
///
/// # Errors
/// Database errors.
pub fn insert_event(db: &dyn Db, event: &NewEvent) -> Result<Uuid, DbError> {
    db.query_as(
        "with e as (insert into events (type, status, severity, title, description, notify_subscribers,
                                         scheduled_start_at, scheduled_end_at, auto_transition, created_by)
                    values ($1, $2, $3, $4, $5, $6, $7::text::timestamptz, $8::text::timestamptz, $9, $10)
                    returning id)
         select to_jsonb(id) from e",
        &[
            event.event_type.as_str().into(),
            event.status.as_str().into(),
            event.severity.map(Severity::as_str).into(),
            event.title.clone().into(),
            event.description.clone().into(),
            Param::Bool(event.notify_subscribers),
            event.scheduled_start_at.clone().into(),
            event.scheduled_end_at.clone().into(),
            Param::Bool(event.auto_transition),
            event.created_by.into(),
        ],
    )
}

/// Moves an event to `status` at `at` (RFC 3339), stamping `started_at` on the first open
/// status, `monitoring_at` on monitoring and `resolved_at` on a terminal status.
///
/// # Errors
/// Database errors.
pub fn set_event_status(db: &dyn Db, id: Uuid, status: EventStatus, at: &str) -> Result<(), DbError> {
    db.execute(
        "update events set status = $2, updated_at = now(),
             started_at = case when $2 <> 'scheduled' then coalesce(started_at, $3::text::timestamptz) else started_at end,
             monitoring_at = case when $2 = 'monitoring' then coalesce(monitoring_at, $3::text::timestamptz) else monitoring_at end,
             resolved_at = case when $2 in ('resolved', 'completed') then $3::text::timestamptz else resolved_at end
         where id = $1",
        &[id.into(), status.as_str().into(), at.into()],
    )?;
    Ok(())
}

/// Sets the status of a service in an event (adding it when absent); answers the previous
/// status, `None` when it was not affected.
///
/// # Errors
/// Database errors.
pub fn upsert_affected(
    db: &dyn Db,
    event: Uuid,
    service: Uuid,
    status: ServiceStatus,
) -> Result<Option<ServiceStatus>, DbError> {
    db.query_as(
        "with before as (select status from event_services where event_id = $1 and service_id = $2),
              upserted as (insert into event_services (event_id, service_id, status) values ($1, $2, $3)
                           on conflict (event_id, service_id) do update set status = excluded.status)
         select (select to_jsonb(status) from before)",
        &[event.into(), service.into(), status.as_str().into()],
    )
}

/// Removes a service from an event; answers its status there, `None` when it was not affected.
///
/// # Errors
/// Database errors.
pub fn remove_affected(db: &dyn Db, event: Uuid, service: Uuid) -> Result<Option<ServiceStatus>, DbError> {
    db.query_as(
        "with removed as (delete from event_services where event_id = $1 and service_id = $2 returning status)
         select (select to_jsonb(status) from removed)",
        &[event.into(), service.into()],
    )
}

/// Appends a timeline entry; answers its id. `at` backdates it.
///
/// # Errors
/// Database errors.
pub fn insert_update(
    db: &dyn Db,
    event: Uuid,
    status: EventStatus,
    message: &str,
    notify: bool,
    by: Option<Uuid>,
    at: &str,
) -> Result<Uuid, DbError> {
    db.query_as(
        "with u as (insert into event_updates (event_id, status, message, notify_subscribers, created_by, created_at)
                    values ($1, $2, $3, $4, $5, $6::text::timestamptz) returning id)
         select to_jsonb(id) from u",
        &[event.into(), status.as_str().into(), message.into(), Param::Bool(notify), by.into(), at.into()],
    )
}

/// Records one change of the affected set.
///
/// # Errors
/// Database errors.
pub fn insert_change(
    db: &dyn Db,
    event: Uuid,
    update: Option<Uuid>,
    kind: &str,
    service: Uuid,
    from: Option<ServiceStatus>,
    to: Option<ServiceStatus>,
) -> Result<(), DbError> {
    db.execute(
        "insert into event_changes (event_id, update_id, kind, service_id, from_status, to_status)
         values ($1, $2, $3, $4, $5, $6)",
        &[
            event.into(),
            update.into(),
            kind.into(),
            service.into(),
            from.map(ServiceStatus::as_str).into(),
            to.map(ServiceStatus::as_str).into(),
        ],
    )?;
    Ok(())
}

/// An event (API shape, without timeline), `None` when it does not exist.
///
/// # Errors
/// Database errors.
pub fn find_event(db: &dyn Db, id: Uuid) -> Result<Option<Value>, DbError> {
    db.query_as(concat!("select (select ", event_json!(), " from events e where e.id = $1)"), &[id.into()])
}

/// An event's timeline, newest first.
///
/// # Errors
/// Database errors.
pub fn list_updates(db: &dyn Db, event: Uuid) -> Result<Value, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(jsonb_build_object(
                    'id', u.id, 'status', u.status, 'message', u.message, 'notify_subscribers', u.notify_subscribers,
                    'created_by', u.created_by, 'created_at', rfc3339(u.created_at))
                  order by u.created_at desc, u.id), '[]'::jsonb)
         from event_updates u where u.event_id = $1",
        &[event.into()],
    )
}

/// An event's change history, oldest first.
///
/// # Errors
/// Database errors.
pub fn list_changes(db: &dyn Db, event: Uuid) -> Result<Value, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(jsonb_build_object(
                    'id', c.id, 'update_id', c.update_id, 'kind', c.kind, 'service_id', c.service_id,
                    'from_status', c.from_status, 'to_status', c.to_status, 'created_at', rfc3339(c.created_at))
                  order by c.id), '[]'::jsonb)
         from event_changes c where c.event_id = $1",
        &[event.into()],
    )
}

/// Filters of the event list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// `incident` or `maintenance`.
    pub event_type: Option<EventType>,
    /// `active`, `resolved`, or an exact status.
    pub status: Option<String>,
    /// Only events affecting this service.
    pub service_id: Option<Uuid>,
    /// Created at or after (RFC 3339).
    pub from: Option<String>,
    /// Created before (RFC 3339).
    pub to: Option<String>,
}

/// Lists events, newest first; answers `{items, total}`.
///
/// # Errors
/// Database errors.
pub fn list_events(db: &dyn Db, filter: &EventFilter, page: Page) -> Result<Value, DbError> {
    db.query_as(
        concat!(
            "with matching as (
                 select * from events e
                 where ($1::text is null or e.type = $1::text)
                   and ($2::text is null
                        or ($2::text = 'active' and e.status not in ('resolved', 'completed'))
                        or ($2::text = 'resolved' and e.status in ('resolved', 'completed'))
                        or e.status = $2::text)
                   and ($3::uuid is null or exists (select 1 from event_services es
                                                   where es.event_id = e.id and es.service_id = $3::uuid))
                   and ($4::text is null or e.created_at >= $4::text::timestamptz)
                   and ($5::text is null or e.created_at < $5::text::timestamptz))
             select jsonb_build_object(
                 'total', (select count(*) from matching),
                 'items', coalesce((select jsonb_agg(",
            event_json!(),
            " order by e.created_at desc, e.id)
                                    from (select * from matching order by created_at desc, id limit $6 offset $7) e),
                                   '[]'::jsonb))"
        ),
        &[
            filter.event_type.map(EventType::as_str).into(),
            filter.status.clone().into(),
            filter.service_id.into(),
            filter.from.clone().into(),
            filter.to.clone().into(),
            Param::Int64(page.limit()),
            Param::Int64(page.offset()),
        ],
    )
}

/// Deletes an event (its services, timeline and changes go with it).
///
/// # Errors
/// Database errors.
pub fn delete_event(db: &dyn Db, id: Uuid) -> Result<(), DbError> {
    db.execute("delete from events where id = $1", &[id.into()])?;
    Ok(())
}

/// The effective status of each of `services`.
///
/// # Errors
/// Database errors.
pub fn effective_statuses(db: &dyn Db, services: &[Uuid]) -> Result<HashMap<Uuid, ServiceStatus>, DbError> {
    db.query_as(
        "select coalesce(jsonb_object_agg(s.id, service_effective_status(s.id, s.status)), '{}'::jsonb)
         from services s where s.id = any($1::text[]::uuid[])",
        &[Param::TextArray(services.iter().map(Uuid::to_string).collect())],
    )
}

/// The live services of each of `groups`, as `(group, service)` pairs.
///
/// # Errors
/// Database errors.
pub fn group_members(db: &dyn Db, groups: &[Uuid]) -> Result<Vec<(Uuid, Uuid)>, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(jsonb_build_array(sg.group_id, sg.service_id) order by s.display_order, s.name), '[]'::jsonb)
         from service_groups sg join services s on s.id = sg.service_id
         where sg.group_id = any($1::text[]::uuid[]) and s.archived_at is null",
        &[Param::TextArray(groups.iter().map(Uuid::to_string).collect())],
    )
}

/// The services affected by an event.
///
/// # Errors
/// Database errors.
pub fn affected_ids(db: &dyn Db, event: Uuid) -> Result<Vec<Uuid>, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(service_id), '[]'::jsonb) from event_services where event_id = $1",
        &[event.into()],
    )
}

/// Locks an event's row until the transaction ends (so a concurrent update cannot close it,
/// or start a maintenance, between a check and a write); answers whether it exists.
///
/// # Errors
/// Database errors.
pub fn lock_event(db: &dyn Db, id: Uuid) -> Result<bool, DbError> {
    db.query_as(
        "select to_jsonb(exists (select 1 from (select id from events where id = $1 for update) e))",
        &[id.into()],
    )
}
