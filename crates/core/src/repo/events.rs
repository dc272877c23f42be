//! SQL for events, their affected services, timeline and change history. Reads return the typed
//! model of [`crate::domain`]; the one-row `jsonb` they are built from never leaves here.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt, Param, Window};
use crate::domain::{
    Automation, ChangeKind, Event, EventChange, EventStatus, EventType, EventUpdate, ServiceStatus, Severity,
};
use crate::repo::{Listed, list_page};

/// The shape of [`Event`] for the event aliased `e`.
macro_rules! event_json {
    () => {
        "jsonb_build_object(
            'id', e.id, 'type', e.type, 'status', e.status, 'severity', e.severity, 'title', e.title,
            'description', e.description, 'notify_subscribers', e.notify_subscribers,
            'scheduled_start_at', rfc3339(e.scheduled_start_at), 'scheduled_end_at', rfc3339(e.scheduled_end_at),
            'auto_transition', e.auto_start and e.auto_complete, 'auto_start', e.auto_start,
            'auto_complete', e.auto_complete, 'remind_before_minutes', e.remind_before_minutes,
            'reminded_at', rfc3339(e.reminded_at), 'started_at', rfc3339(e.started_at),
            'monitoring_at', rfc3339(e.monitoring_at), 'resolved_at', rfc3339(e.resolved_at),
            'created_by', e.created_by, 'created_at', rfc3339(e.created_at), 'updated_at', rfc3339(e.updated_at),
            'affected_services', coalesce((
                select jsonb_agg(jsonb_build_object('service_id', s.id, 'name', s.name, 'slug', s.slug, 'status', es.status)
                                 order by s.display_order, s.name)
                from event_services es join services s on s.id = es.service_id where es.event_id = e.id), '[]'::jsonb),
            'service_ids', coalesce((
                select jsonb_agg(s.id order by s.display_order, s.name)
                from event_services es join services s on s.id = es.service_id where es.event_id = e.id), '[]'::jsonb),
            'group_ids', coalesce((
                select jsonb_agg(g.id order by g.display_order, g.name)
                from event_groups eg join groups g on g.id = eg.group_id where eg.event_id = e.id), '[]'::jsonb),
            'template_id', e.template_id)"
    };
}
pub(crate) use event_json;

/// A new event's stored fields.
#[derive(Debug, Clone)]
pub struct NewEventRow<'a> {
    /// Type.
    pub event_type: EventType,
    /// Initial status.
    pub status: EventStatus,
    /// Incidents only.
    pub severity: Option<Severity>,
    /// Title.
    pub title: &'a str,
    /// Description.
    pub description: &'a str,
    /// Whether subscribers are told.
    pub notify_subscribers: bool,
    /// Maintenance window.
    pub window: Option<(OffsetDateTime, OffsetDateTime)>,
    /// How maintenance runs itself.
    pub automation: Automation,
    /// Author.
    pub created_by: Option<Uuid>,
    /// The template it was made from.
    pub template_id: Option<Uuid>,
}

/// Stores an event created at `at`; answers its id.
///
/// # Errors
/// Database errors.
pub fn insert_event(db: &dyn Db, event: &NewEventRow<'_>, at: OffsetDateTime) -> Result<Uuid, DbError> {
    db.query_as(
        "with e as (insert into events (type, status, severity, title, description, notify_subscribers,
                                         scheduled_start_at, scheduled_end_at, auto_start, auto_complete,
                                         remind_before_minutes, created_by, created_at, updated_at, template_id)
                    values ($1, $2, $3, $4, $5, $6, $7::text::timestamptz, $8::text::timestamptz, $9, $13, $14,
                            $10, $11::text::timestamptz, $11::text::timestamptz, $12)
                    returning id)
         select to_jsonb(id) from e",
        &[
            event.event_type.as_str().into(),
            event.status.as_str().into(),
            event.severity.map(Severity::as_str).into(),
            event.title.into(),
            event.description.into(),
            Param::Bool(event.notify_subscribers),
            event.window.map(|(start, _)| start).into(),
            event.window.map(|(_, end)| end).into(),
            Param::Bool(event.automation.auto_start),
            event.created_by.into(),
            at.into(),
            event.template_id.into(),
            Param::Bool(event.automation.auto_complete),
            event.automation.remind_before_minutes.map_or(Param::Null, Param::Int32),
        ],
    )
}

/// Sets when an event declared closed closed (`resolved_at` of a backfilled incident).
///
/// # Errors
/// Database errors.
pub fn set_resolved_at(db: &dyn Db, id: Uuid, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute("update events set resolved_at = $2::text::timestamptz where id = $1", &[id.into(), at.into()])?;
    Ok(())
}

/// Records that the event was declared or updated with `group` at `status`.
///
/// # Errors
/// Database errors.
pub fn upsert_event_group(db: &dyn Db, event: Uuid, group: Uuid, status: ServiceStatus) -> Result<(), DbError> {
    db.execute(
        "insert into event_groups (event_id, group_id, status) values ($1, $2, $3)
         on conflict (event_id, group_id) do update set status = excluded.status",
        &[event.into(), group.into(), status.as_str().into()],
    )?;
    Ok(())
}

/// Sets the stored status of each service of closed event `event` that no other active event
/// affects back to `operational` at `now`, as the old service did on closing; answers the
/// services changed. (The effective-status comparison of the write logs the change.)
///
/// # Errors
/// Database errors.
pub fn reset_services_of_closed_event(db: &dyn Db, event: Uuid, now: OffsetDateTime) -> Result<Vec<Uuid>, DbError> {
    db.query_as(
        "with reset as (
             update services s set status = 'operational', updated_at = $2::text::timestamptz
             where s.id in (select service_id from event_services where event_id = $1)
               and s.status <> 'operational' and not service_has_active_events(s.id)
             returning s.id)
         select coalesce(jsonb_agg(id), '[]'::jsonb) from reset",
        &[event.into(), now.into()],
    )
}

/// Moves an event to `status` as of `at` (which may be backdated), stamping `started_at` on the
/// first open status, `monitoring_at` on monitoring and `resolved_at` on a terminal status;
/// `updated_at` becomes `now`.
///
/// # Errors
/// Database errors.
pub fn set_event_status(
    db: &dyn Db,
    id: Uuid,
    status: EventStatus,
    at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    db.execute(
        "update events set status = $2, updated_at = $4::text::timestamptz,
             started_at = case when $2 <> 'scheduled' then coalesce(started_at, $3::text::timestamptz) else started_at end,
             monitoring_at = case when $2 = 'monitoring' then coalesce(monitoring_at, $3::text::timestamptz) else monitoring_at end,
             resolved_at = case when $2 in ('resolved', 'completed') then $3::text::timestamptz else resolved_at end
         where id = $1",
        &[id.into(), status.as_str().into(), at.into(), now.into()],
    )?;
    Ok(())
}

/// Marks an event changed at `at` (an update that changes nothing but the timeline).
///
/// # Errors
/// Database errors.
pub fn touch_event(db: &dyn Db, id: Uuid, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute("update events set updated_at = $2::text::timestamptz where id = $1", &[id.into(), at.into()])?;
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

/// A new timeline entry.
#[derive(Debug, Clone)]
pub struct NewUpdateRow<'a> {
    /// The event.
    pub event: Uuid,
    /// The event's status with it.
    pub status: EventStatus,
    /// What is said.
    pub message: &'a str,
    /// Whether subscribers are told.
    pub notify: bool,
    /// Author.
    pub by: Option<Uuid>,
    /// When (may be backdated).
    pub at: OffsetDateTime,
}

/// Appends a timeline entry; answers its id.
///
/// # Errors
/// Database errors.
pub fn insert_update(db: &dyn Db, update: &NewUpdateRow<'_>) -> Result<Uuid, DbError> {
    db.query_as(
        "with u as (insert into event_updates (event_id, status, message, notify_subscribers, created_by, created_at)
                    values ($1, $2, $3, $4, $5, $6::text::timestamptz) returning id)
         select to_jsonb(id) from u",
        &[
            update.event.into(),
            update.status.as_str().into(),
            update.message.into(),
            Param::Bool(update.notify),
            update.by.into(),
            update.at.into(),
        ],
    )
}

/// One change of an event's affected set, to record.
#[derive(Debug, Clone, Copy)]
pub struct NewChangeRow<'a> {
    /// The event.
    pub event: Uuid,
    /// The timeline entry it is part of.
    pub update: Uuid,
    /// What happened.
    pub kind: ChangeKind,
    /// The service.
    pub service: Uuid,
    /// Its status before.
    pub from: Option<ServiceStatus>,
    /// Its status after.
    pub to: Option<ServiceStatus>,
    /// The group it came with.
    pub group: Option<Uuid>,
    /// Why.
    pub reason: &'a str,
    /// Who.
    pub by: Option<Uuid>,
    /// When.
    pub at: OffsetDateTime,
}

/// Records one change of the affected set.
///
/// # Errors
/// Database errors.
pub fn insert_change(db: &dyn Db, change: &NewChangeRow<'_>) -> Result<(), DbError> {
    db.execute(
        "insert into event_changes (event_id, update_id, kind, service_id, from_status, to_status, created_at,
                                    group_id, reason, created_by)
         values ($1, $2, $3, $4, $5, $6, $7::text::timestamptz, $8, $9, $10)",
        &[
            change.event.into(),
            change.update.into(),
            change.kind.as_str().into(),
            change.service.into(),
            change.from.map(ServiceStatus::as_str).into(),
            change.to.map(ServiceStatus::as_str).into(),
            change.at.into(),
            change.group.into(),
            change.reason.into(),
            change.by.into(),
        ],
    )?;
    Ok(())
}

/// An event (without its timeline), `None` when it does not exist.
///
/// # Errors
/// Database errors.
pub fn find_event(db: &dyn Db, id: Uuid) -> Result<Option<Event>, DbError> {
    db.query_as(concat!("select (select ", event_json!(), " from events e where e.id = $1)"), &[id.into()])
}

/// An event's timeline, newest first.
///
/// # Errors
/// Database errors.
pub fn list_updates(db: &dyn Db, event: Uuid) -> Result<Vec<EventUpdate>, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(jsonb_build_object(
                    'id', u.id, 'event_id', u.event_id, 'status', u.status, 'message', u.message,
                    'notify_subscribers', u.notify_subscribers,
                    'created_by', u.created_by, 'created_at', rfc3339(u.created_at))
                  order by u.created_at desc, u.seq desc), '[]'::jsonb)
         from event_updates u where u.event_id = $1",
        &[event.into()],
    )
}

/// An event's change history, oldest first.
///
/// # Errors
/// Database errors.
pub fn list_changes(db: &dyn Db, event: Uuid) -> Result<Vec<EventChange>, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(jsonb_build_object(
                    'id', c.id, 'event_id', c.event_id, 'update_id', c.update_id, 'kind', c.kind,
                    'service_id', c.service_id, 'group_id', c.group_id, 'from_status', c.from_status,
                    'to_status', c.to_status, 'reason', c.reason, 'created_by', c.created_by,
                    'batch_id', c.update_id, 'action', c.kind, 'created_at', rfc3339(c.created_at))
                  order by c.id), '[]'::jsonb)
         from event_changes c where c.event_id = $1",
        &[event.into()],
    )
}

/// How the event list filters by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Open and affecting its services: not resolved, completed, or scheduled (the old
    /// service's `active`).
    Open,
    /// Resolved or completed.
    Closed,
    /// Exactly this status.
    Is(EventStatus),
}

/// Filters of the event list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// `incident` or `maintenance`.
    pub event_type: Option<EventType>,
    /// By status.
    pub status: Option<StatusFilter>,
    /// Only events affecting this service.
    pub service_id: Option<Uuid>,
    /// Created at or after.
    pub from: Option<OffsetDateTime>,
    /// Created before.
    pub to: Option<OffsetDateTime>,
}

/// Lists events, newest first.
///
/// # Errors
/// Database errors.
pub fn list_events(db: &dyn Db, filter: &EventFilter, window: Window) -> Result<Listed<Event>, DbError> {
    let status = match filter.status {
        None => None,
        Some(StatusFilter::Open) => Some("active"),
        Some(StatusFilter::Closed) => Some("resolved"),
        Some(StatusFilter::Is(status)) => Some(status.as_str()),
    };
    let matching = "select * from events e
                    where ($1::text is null or e.type = $1::text)
                      and ($2::text is null
                           or ($2::text = 'active' and e.status not in ('resolved', 'completed', 'scheduled'))
                           or ($2::text = 'resolved' and e.status in ('resolved', 'completed'))
                           or e.status = $2::text)
                      and ($3::uuid is null or exists (select 1 from event_services es
                                                      where es.event_id = e.id and es.service_id = $3::uuid))
                      and ($4::text is null or e.created_at >= $4::text::timestamptz)
                      and ($5::text is null or e.created_at < $5::text::timestamptz)";
    let params = vec![
        filter.event_type.map(EventType::as_str).into(),
        status.into(),
        filter.service_id.into(),
        filter.from.into(),
        filter.to.into(),
    ];
    list_page(db, (matching, event_json!(), "e", "created_at desc, id"), params, window)
}

/// The events affecting `service`, open ones first, then newest first (the old service's
/// service events).
///
/// # Errors
/// Database errors.
pub fn list_service_events(
    db: &dyn Db,
    service: Uuid,
    status: Option<StatusFilter>,
    window: Window,
) -> Result<Listed<Event>, DbError> {
    let status = match status {
        Some(StatusFilter::Open) => Some("active"),
        Some(StatusFilter::Closed) => Some("resolved"),
        Some(StatusFilter::Is(_)) | None => None,
    };
    let matching = "select e.*, e.status in ('resolved', 'completed') as closed from events e
                    where exists (select 1 from event_services es where es.event_id = e.id and es.service_id = $1)
                      and ($2::text is null
                           or ($2::text = 'active' and e.status not in ('resolved', 'completed', 'scheduled'))
                           or ($2::text = 'resolved' and e.status in ('resolved', 'completed')))";
    list_page(
        db,
        (matching, event_json!(), "e", "closed, created_at desc, id"),
        vec![service.into(), status.into()],
        window,
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
        &[services.into()],
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
        &[groups.into()],
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

/// A step of maintenance automation that is due.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct DueStep {
    /// `remind`, `start` or `complete`.
    pub step: String,
    /// The event.
    pub id: Uuid,
}

/// Every maintenance step due by `at`, in the order it fell due: reminders whose lead has begun
/// (the window not yet), starts that have come, and completions that have come, of windows in
/// progress or of windows this very run starts (a window missed entirely).
///
/// # Errors
/// Database errors.
pub fn due_maintenance_steps(db: &dyn Db, at: OffsetDateTime) -> Result<Vec<DueStep>, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(jsonb_build_object('step', step, 'id', id) order by due, rank, id), '[]'::jsonb)
         from (
             select 'remind' as step, 0 as rank, id, scheduled_start_at - make_interval(mins => remind_before_minutes) as due
             from events
             where type = 'maintenance' and status = 'scheduled' and remind_before_minutes is not null
               and reminded_at is null and scheduled_start_at > $1::text::timestamptz
               and scheduled_start_at - make_interval(mins => remind_before_minutes) <= $1::text::timestamptz
             union all
             select 'start', 1, id, scheduled_start_at from events
             where type = 'maintenance' and status = 'scheduled' and auto_start
               and scheduled_start_at <= $1::text::timestamptz
             union all
             select 'complete', 2, id, scheduled_end_at from events
             where type = 'maintenance' and auto_complete and scheduled_end_at <= $1::text::timestamptz
               and (status = 'in_progress'
                    or (status = 'scheduled' and auto_start and scheduled_start_at <= $1::text::timestamptz))
         ) due",
        &[at.into()],
    )
}

/// Records that event `id`'s reminder went out at `at`.
///
/// # Errors
/// Database errors.
pub fn set_reminded(db: &dyn Db, id: Uuid, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute("update events set reminded_at = $2::text::timestamptz where id = $1", &[id.into(), at.into()])?;
    Ok(())
}
