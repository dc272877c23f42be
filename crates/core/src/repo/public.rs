//! SQL of the public snapshot: what the page-wide documents are rendered from, a digest of
//! every event and service (so a refresh re-renders only what changed), events and service
//! timelines in full, the advisory lock refreshes take, and cancelled maintenance windows.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt};
use crate::public::model::{PublicEvent, Snapshot};
use crate::public::uptime::Timeline;
use crate::repo::events::event_json;
use crate::repo::groups::group_json;
use crate::repo::services::service_json;

/// The public shape of the event aliased `e`: the API's event, and its timeline (newest first)
/// with the affected-set changes each entry made.
macro_rules! public_event_json {
    () => {
        concat!(
            event_json!(),
            " || jsonb_build_object('updates', coalesce((
                select jsonb_agg(jsonb_build_object(
                           'id', u.id, 'event_id', u.event_id, 'status', u.status, 'message', u.message,
                           'notify_subscribers', u.notify_subscribers, 'created_by', u.created_by,
                           'created_at', rfc3339(u.created_at),
                           'changes', coalesce((
                               select jsonb_agg(jsonb_build_object('service_id', c.service_id, 'name', s.name,
                                                                   'kind', c.kind, 'from', c.from_status, 'to', c.to_status)
                                                order by c.id)
                               from event_changes c join services s on s.id = c.service_id
                               where c.update_id = u.id), '[]'::jsonb))
                       order by u.created_at desc, u.seq desc)
                from event_updates u where u.event_id = e.id), '[]'::jsonb))"
        )
    };
}

/// The advisory lock every snapshot refresh holds (so refreshes run one at a time, each reading
/// the state committed before it started).
const REFRESH_LOCK: i64 = 0x5354_4154_5553; // "STATUS"

/// Waits for the refresh lock, held until the transaction ends.
///
/// # Errors
/// Database errors.
pub fn lock_refresh(db: &dyn Db) -> Result<(), DbError> {
    db.execute("select pg_advisory_xact_lock($1)", &[REFRESH_LOCK.into()])?;
    Ok(())
}

/// What the page-wide documents need, as of `now` (see [`Snapshot`]).
///
/// # Errors
/// Database errors.
pub fn snapshot(db: &dyn Db, now: OffsetDateTime) -> Result<Snapshot, DbError> {
    let sql = concat!(
        "with since as (select $1::text::timestamptz - interval '90 days' as t)
         select jsonb_build_object(
           'services', coalesce((select jsonb_agg(",
        service_json!(),
        " order by s.display_order, s.name) from services s where s.archived_at is null), '[]'::jsonb),
           'groups', coalesce((select jsonb_agg(",
        group_json!(),
        " order by g.display_order, g.name) from groups g where g.archived_at is null), '[]'::jsonb),
           'events', coalesce((select jsonb_agg(",
        public_event_json!(),
        " order by e.created_at desc, e.id desc) from events e where e.id in (
                select id from events where status not in ('resolved', 'completed')
                union all (select id from events where type = 'incident' order by created_at desc, id desc limit 50)
                union all (select id from events where type = 'maintenance' order by created_at desc, id desc limit 50)
                union all select id from events, since where type = 'maintenance' and scheduled_end_at >= since.t)),
             '[]'::jsonb),
           'log', coalesce((select jsonb_agg(jsonb_build_array(l.service_id, (extract(epoch from l.created_at) * 1000)::bigint,
                                                               l.effective_status)
                                             order by l.service_id, l.created_at, l.id)
                            from services s, since
                            cross join lateral (
                                (select * from service_status_log b
                                 where b.service_id = s.id and b.created_at < since.t
                                 order by b.created_at desc, b.id desc limit 1)
                                union all
                                select * from service_status_log r where r.service_id = s.id and r.created_at >= since.t) l
                            where s.archived_at is null), '[]'::jsonb),
           'cancelled', coalesce((select jsonb_agg(jsonb_build_object(
                                      'event_id', c.event_id, 'title', c.title, 'description', c.description,
                                      'scheduled_start_at', rfc3339(c.scheduled_start_at),
                                      'scheduled_end_at', rfc3339(c.scheduled_end_at), 'sequence', c.sequence,
                                      'created_at', rfc3339(c.created_at), 'cancelled_at', rfc3339(c.cancelled_at))
                                  order by c.scheduled_start_at, c.event_id)
                                  from cancelled_maintenance c, since where c.scheduled_end_at >= since.t), '[]'::jsonb),
           'rollups', coalesce((select jsonb_agg(jsonb_build_object('service_id', d.service_id, 'day', d.day,
                                                                    'seconds', d.seconds)
                                                 order by d.service_id, d.day)
                                from service_uptime_days d join services s on s.id = d.service_id, since
                                where s.archived_at is null and d.day >= (since.t at time zone 'UTC')::date), '[]'::jsonb))"
    );
    db.query_as(sql, &[now.into()])
}

/// An event's digest: what identifies the version of it the public documents show.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct EventDigest {
    /// The event.
    pub id: Uuid,
    /// A hash of its public shape.
    pub digest: String,
    /// When it happened (its start, else its window's start, else its creation).
    #[serde(with = "crate::time::serde")]
    pub happened_at: OffsetDateTime,
    /// Scheduled maintenance that has not started (not in the history yet).
    pub upcoming: bool,
}

/// A service's digest: its slug and a hash of what its uptime timeline depends on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ServiceDigest {
    /// The service.
    pub id: Uuid,
    /// Its slug (the key of its timeline).
    pub slug: String,
    /// A hash of its name, slug, lifetime and status log.
    pub digest: String,
}

/// The digests of every event and every service (archived too: their uptime stays reportable).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Digests {
    /// Events, the history's order: newest happening first.
    pub events: Vec<EventDigest>,
    /// Services.
    pub services: Vec<ServiceDigest>,
}

/// Every event's and service's digest. An event's covers everything its own documents show:
/// its row, its timeline (entries are only ever added), its affected services with their
/// names, slugs and statuses, and its groups; built with one pass over each table rather than
/// its JSON, so that it stays cheap with thousands of events.
///
/// # Errors
/// Database errors.
pub fn digests(db: &dyn Db) -> Result<Digests, DbError> {
    db.query_as(
        "with updates as (
             select event_id, count(*) || ':' || max(created_at) || ':' || max(id::text) as v
             from event_updates group by event_id),
         affected as (
             select es.event_id,
                    string_agg(concat_ws(':', es.service_id, s.name, s.slug, s.display_order, es.status), ','
                               order by es.service_id) as v
             from event_services es join services s on s.id = es.service_id group by es.event_id),
         chosen as (
             select event_id, string_agg(group_id || ':' || status, ',' order by group_id) as v
             from event_groups group by event_id)
         select jsonb_build_object(
           'events', coalesce((select jsonb_agg(jsonb_build_object(
                        'id', e.id,
                        'digest', md5(concat_ws('|', e::text, u.v, a.v, c.v)),
                        'happened_at', rfc3339(coalesce(e.started_at, e.scheduled_start_at, e.created_at)),
                        'upcoming', e.status = 'scheduled')
                      order by coalesce(e.started_at, e.scheduled_start_at, e.created_at) desc, e.id desc)
                      from events e
                      left join updates u on u.event_id = e.id
                      left join affected a on a.event_id = e.id
                      left join chosen c on c.event_id = e.id), '[]'::jsonb),
           'services', coalesce((select jsonb_agg(jsonb_build_object(
                        'id', s.id, 'slug', s.slug,
                        'digest', md5(concat_ws('|', s.slug, s.name, rfc3339(s.created_at), rfc3339(s.archived_at), l.v, r.v)))
                        order by s.slug)
                      from services s
                      left join (select service_id, count(*) || ':' || max(id) as v
                                 from service_status_log group by service_id) l on l.service_id = s.id
                      left join (select service_id, count(*) || ':' || max(rolled_at) as v
                                 from service_uptime_days group by service_id) r on r.service_id = s.id), '[]'::jsonb))",
        &[],
    )
}

/// Events `ids` in full (those that exist).
///
/// # Errors
/// Database errors.
pub fn events(db: &dyn Db, ids: &[Uuid]) -> Result<Vec<PublicEvent>, DbError> {
    let sql = concat!(
        "select coalesce(jsonb_agg(",
        public_event_json!(),
        " order by e.created_at desc, e.id desc), '[]'::jsonb) from events e where e.id = any($1::text[]::uuid[])"
    );
    db.query_as(sql, &[ids.into()])
}

/// The whole effective-status timelines of services `ids`.
///
/// # Errors
/// Database errors.
pub fn timelines(db: &dyn Db, ids: &[Uuid]) -> Result<Vec<Timeline>, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(jsonb_build_object(
                    'service_id', s.id, 'slug', s.slug, 'name', s.name, 'created_at', rfc3339(s.created_at),
                    'archived_at', rfc3339(s.archived_at),
                    'points', coalesce((select jsonb_agg(jsonb_build_array(rfc3339(l.created_at), l.effective_status)
                                                         order by l.created_at, l.id)
                                        from service_status_log l where l.service_id = s.id), '[]'::jsonb),
                    'rollups', coalesce((select jsonb_agg(jsonb_build_object('day', d.day, 'seconds', d.seconds)
                                                          order by d.day)
                                         from service_uptime_days d where d.service_id = s.id), '[]'::jsonb))
                  order by s.slug), '[]'::jsonb)
         from services s where s.id = any($1::text[]::uuid[])",
        &[ids.into()],
    )
}

/// Keeps maintenance `event`'s window for iCalendar (`STATUS:CANCELLED`, its `SEQUENCE` one past
/// the event's last) before its row is deleted as cancelled.
///
/// # Errors
/// Database errors.
pub fn record_cancelled(db: &dyn Db, event: Uuid, cancelled_at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "insert into cancelled_maintenance
             (event_id, title, description, scheduled_start_at, scheduled_end_at, sequence, created_at, cancelled_at)
         select e.id, e.title, e.description, e.scheduled_start_at, e.scheduled_end_at,
                (select count(*) from event_updates u where u.event_id = e.id)::integer, e.created_at,
                $2::text::timestamptz
         from events e
         where e.id = $1 and e.scheduled_start_at is not null and e.scheduled_end_at is not null
         on conflict (event_id) do nothing",
        &[event.into(), cancelled_at.into()],
    )?;
    Ok(())
}
