//! SQL for the notification outbox: messages, their deliveries (one per channel, unique), the
//! claim with a lease, and each delivery's outcome.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt, Param, Window};
use crate::notify::model::{Delivery, MessageKind};
use crate::repo::{Listed, list_page};

/// Queues an e-mail at `at`, in the caller's transaction (a direct message, not a fan-out).
///
/// # Errors
/// Database errors.
pub fn queue_email(
    db: &dyn Db,
    kind: &str,
    recipient: &str,
    payload: serde_json::Value,
    at: OffsetDateTime,
) -> Result<Uuid, DbError> {
    queue_direct(db, &Direct { kind, channel_type: "email", recipient, language: "en", channel: None, payload }, at)
}

/// A message for one recipient (verification codes, confirmations, alerts, password resets).
#[derive(Debug, Clone)]
pub struct Direct<'a> {
    /// What it says.
    pub kind: &'a str,
    /// How it goes (`email`, `telegram`, `webhook`, `mattermost`).
    pub channel_type: &'a str,
    /// The address.
    pub recipient: &'a str,
    /// Its language.
    pub language: &'a str,
    /// The channel it is about (for the channel's secret and the admin view).
    pub channel: Option<Uuid>,
    /// What it is rendered from.
    pub payload: serde_json::Value,
}

/// Queues a direct message; answers the delivery's id.
///
/// # Errors
/// Database errors.
pub fn queue_direct(db: &dyn Db, direct: &Direct<'_>, at: OffsetDateTime) -> Result<Uuid, DbError> {
    db.query_as(
        "with queued as (
             insert into notification_outbox (kind, channel, recipient, language, channel_id, payload, status,
                                              next_attempt_at, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, 'pending',
                     $7::text::timestamptz, $7::text::timestamptz, $7::text::timestamptz)
             returning id)
         select to_jsonb(id) from queued",
        &[
            direct.kind.into(),
            direct.channel_type.into(),
            direct.recipient.into(),
            direct.language.into(),
            direct.channel.into(),
            Param::Jsonb(direct.payload.clone()),
            at.into(),
        ],
    )
}

/// Queues message `message` for the one channel `direct` names (a digest, say).
///
/// # Errors
/// Database errors.
pub fn queue_for_message(db: &dyn Db, message: Uuid, direct: &Direct<'_>, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "insert into notification_outbox (message_id, kind, channel, recipient, language, channel_id, payload, status,
                                          next_attempt_at, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, '{}'::jsonb, 'pending',
                 $7::text::timestamptz, $7::text::timestamptz, $7::text::timestamptz)
         on conflict on constraint notification_outbox_delivery_key do nothing",
        &[
            message.into(),
            direct.kind.into(),
            direct.channel_type.into(),
            direct.recipient.into(),
            direct.language.into(),
            direct.channel.into(),
            at.into(),
        ],
    )?;
    Ok(())
}

/// Stores a message an event write produced; answers its id.
///
/// # Errors
/// Database errors.
pub fn insert_message(
    db: &dyn Db,
    kind: MessageKind,
    (event, update): (Option<Uuid>, Option<Uuid>),
    payload: serde_json::Value,
    at: OffsetDateTime,
) -> Result<Uuid, DbError> {
    db.query_as(
        "with inserted as (
             insert into notification_messages (kind, event_id, update_id, payload, created_at)
             values ($1, $2, $3, $4, $5::text::timestamptz) returning id)
         select to_jsonb(id) from inserted",
        &[kind.as_str().into(), event.into(), update.into(), Param::Jsonb(payload), at.into()],
    )
}

/// Which channels a fan-out reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience<'a> {
    /// Every deliverable channel subscribed to any of these services (all-services channels
    /// included).
    Services(&'a [Uuid]),
    /// Deliverable webhook channels subscribed to this service.
    WebhooksOf(Uuid),
}

/// Queues message `message` for every deliverable (enabled, verified) channel `audience`
/// names: `pending` for immediate channels, `held` for digests; one row per channel, ever
/// (`notification_outbox_delivery_key`).
/// Answers how many rows it queued.
///
/// # Errors
/// Database errors.
pub fn fan_out(
    db: &dyn Db,
    message: Uuid,
    kind: MessageKind,
    audience: Audience<'_>,
    at: OffsetDateTime,
) -> Result<i64, DbError> {
    let (services, webhooks_only): (Vec<Uuid>, bool) = match audience {
        Audience::Services(ids) => (ids.to_vec(), false),
        Audience::WebhooksOf(id) => (vec![id], true),
    };
    db.query_as(
        "with matched as (
             select c.* from channels c
             where c.enabled and c.verified_at is not null
               and ($4 = false or c.type = 'webhook')
               and (c.subscribe_all
                    or exists (select 1 from channel_services cs
                               where cs.channel_id = c.id and cs.service_id = any($3::text[]::uuid[]))
                    or exists (select 1 from channel_groups cg join service_groups sg on sg.group_id = cg.group_id
                               where cg.channel_id = c.id and sg.service_id = any($3::text[]::uuid[])))),
         queued as (
             insert into notification_outbox (message_id, kind, channel, channel_id, recipient, language, payload,
                                              status, next_attempt_at, created_at, updated_at)
             select $1, $2, m.type, m.id, m.target, m.language, '{}'::jsonb,
                    case when m.digest = 'immediate' or m.type in ('webhook', 'mattermost') then 'pending' else 'held' end,
                    $5::text::timestamptz, $5::text::timestamptz, $5::text::timestamptz
             from matched m
             on conflict on constraint notification_outbox_delivery_key do nothing
             returning 1)
         select to_jsonb(count(*)) from queued",
        &[message.into(), kind.as_str().into(), services.as_slice().into(), webhooks_only.into(), at.into()],
    )
}

/// A delivery claimed for sending, with what it needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Claimed {
    /// The row.
    pub id: Uuid,
    /// Its kind.
    pub kind: String,
    /// Its channel type.
    pub channel: String,
    /// The channel (direct e-mails may have none).
    pub channel_id: Option<Uuid>,
    /// The address.
    pub recipient: String,
    /// Its language.
    pub language: String,
    /// The message it delivers.
    pub message_id: Option<Uuid>,
    /// What it is rendered from (the message's, or its own for direct messages).
    pub payload: serde_json::Value,
    /// Attempts, this one included.
    pub attempts: i32,
    /// The channel's signing secret (webhooks).
    pub secret: Option<String>,
    /// Whether the channel (if any) may still receive.
    pub deliverable: bool,
    /// Whether it was a fan-out row whose channel has gone.
    pub orphaned: bool,
}

/// Claims up to `limit` due deliveries (pending and due, or sending with an expired lease: a
/// run that died) for `lease`, skipping rows another run holds.
///
/// # Errors
/// Database errors.
pub fn claim(db: &dyn Db, now: OffsetDateTime, lease: time::Duration, limit: i64) -> Result<Vec<Claimed>, DbError> {
    db.query_as(
        "with due as (
             select id from notification_outbox
             where (status = 'pending' and next_attempt_at <= $1::text::timestamptz)
                or (status = 'sending' and leased_until < $1::text::timestamptz)
             order by next_attempt_at, seq
             limit $3
             for update skip locked),
         claimed as (
             update notification_outbox o
             set status = 'sending', leased_until = $2::text::timestamptz, attempts = o.attempts + 1,
                 updated_at = $1::text::timestamptz
             from due where o.id = due.id
             returning o.*)
         select coalesce(jsonb_agg(jsonb_build_object(
                    'id', c.id, 'kind', c.kind, 'channel', c.channel, 'channel_id', c.channel_id,
                    'recipient', coalesce(ch.target, c.recipient), 'language', coalesce(ch.language, c.language),
                    'message_id', c.message_id, 'payload', coalesce(m.payload, c.payload), 'attempts', c.attempts,
                    'secret', ch.secret,
                    'deliverable', c.channel_id is null or (ch.enabled and ch.verified_at is not null)
                                   or c.kind in ('channel_verification', 'channel_test', 'telegram_connected',
                                                 'subscriber_confirmation'),
                    'orphaned', c.message_id is not null and ch.id is null)
                  order by c.next_attempt_at, c.seq), '[]'::jsonb)
         from claimed c
         left join channels ch on ch.id = c.channel_id
         left join notification_messages m on m.id = c.message_id",
        &[now.into(), (now + lease).into(), Param::Int64(limit)],
    )
}

/// Marks deliveries `ids` sent at `at`.
///
/// # Errors
/// Database errors.
pub fn mark_sent(db: &dyn Db, ids: &[Uuid], at: OffsetDateTime) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    db.execute(
        "update notification_outbox set status = 'sent', sent_at = $2::text::timestamptz, leased_until = null,
                                        last_error = null, updated_at = $2::text::timestamptz
         where id = any($1::text[]::uuid[])",
        &[ids.into(), at.into()],
    )?;
    db.execute(
        "update channels set consecutive_failures = 0
         where consecutive_failures > 0
           and id in (select channel_id from notification_outbox where id = any($1::text[]::uuid[]))",
        &[ids.into()],
    )?;
    Ok(())
}

/// Gives deliveries `ids` back to the queue as they were before this run claimed them (the
/// attempt it counted was never made).
///
/// # Errors
/// Database errors.
pub fn release(db: &dyn Db, ids: &[Uuid], at: OffsetDateTime) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    db.execute(
        "update notification_outbox set status = 'pending', attempts = greatest(attempts - 1, 0), leased_until = null,
                                        updated_at = $2::text::timestamptz
         where id = any($1::text[]::uuid[]) and status = 'sending'",
        &[ids.into(), at.into()],
    )?;
    Ok(())
}

/// Puts delivery `id` back for another attempt at `next`, or kills it when it has had
/// `max_attempts`; answers whether it died.
///
/// # Errors
/// Database errors.
pub fn mark_failed(
    db: &dyn Db,
    id: Uuid,
    reason: &str,
    next: OffsetDateTime,
    max_attempts: i32,
    at: OffsetDateTime,
) -> Result<bool, DbError> {
    db.query_as(
        "with failed as (
             update notification_outbox
             set status = case when attempts >= $4 then 'dead' else 'pending' end,
                 next_attempt_at = $3::text::timestamptz, leased_until = null, last_error = $2,
                 updated_at = $5::text::timestamptz
             where id = $1 returning status)
         select coalesce((select to_jsonb(status = 'dead') from failed), 'false'::jsonb)",
        &[id.into(), reason.into(), next.into(), Param::Int32(max_attempts), at.into()],
    )
}

/// Ends delivery `id` with `status` (`dead` for a refusal, `cancelled` when its channel may no
/// longer receive) and the reason.
///
/// # Errors
/// Database errors.
pub fn finish(db: &dyn Db, id: Uuid, status: &str, reason: &str, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update notification_outbox set status = $2, last_error = $3, leased_until = null, updated_at = $4::text::timestamptz
         where id = $1",
        &[id.into(), status.into(), reason.into(), at.into()],
    )?;
    Ok(())
}

/// Counts a failed delivery against channel `id`; answers the consecutive failures.
///
/// # Errors
/// Database errors.
pub fn count_channel_failure(db: &dyn Db, id: Uuid) -> Result<i32, DbError> {
    db.query_as(
        "with counted as (update channels set consecutive_failures = consecutive_failures + 1 where id = $1
                          returning consecutive_failures)
         select coalesce((select to_jsonb(consecutive_failures) from counted), '0'::jsonb)",
        &[id.into()],
    )
}

/// The queue's health: what is waiting, the oldest waiting delivery's age, and the dead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueueStats {
    /// Pending or being sent.
    pub pending: i64,
    /// Seconds since the oldest pending delivery was queued (0 when none).
    pub oldest_pending_seconds: i64,
    /// Dead deliveries.
    pub dead: i64,
    /// Held for digests.
    pub held: i64,
}

/// The queue's health at `now`.
///
/// # Errors
/// Database errors.
pub fn stats(db: &dyn Db, now: OffsetDateTime) -> Result<QueueStats, DbError> {
    db.query_as(
        "select jsonb_build_object(
            'pending', count(*) filter (where status in ('pending', 'sending')),
            'oldest_pending_seconds', coalesce(extract(epoch from $1::text::timestamptz
                                               - min(created_at) filter (where status in ('pending', 'sending')))::bigint, 0),
            'dead', count(*) filter (where status = 'dead'),
            'held', count(*) filter (where status = 'held'))
         from notification_outbox",
        &[now.into()],
    )
}

/// Filters of the admin view.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// A state.
    pub status: Option<String>,
    /// An event.
    pub event_id: Option<Uuid>,
    /// A channel.
    pub channel_id: Option<Uuid>,
    /// A kind.
    pub kind: Option<String>,
}

/// Deliveries, newest first.
///
/// # Errors
/// Database errors.
pub fn list(db: &dyn Db, filter: &DeliveryFilter, window: Window) -> Result<Listed<Delivery>, DbError> {
    let matching = "select o.*, m.event_id from notification_outbox o
                    left join notification_messages m on m.id = o.message_id
                    where ($1::text is null or o.status = $1::text)
                      and ($2::uuid is null or m.event_id = $2::uuid)
                      and ($3::uuid is null or o.channel_id = $3::uuid)
                      and ($4::text is null or o.kind = $4::text)";
    let shape = "jsonb_build_object(
                     'id', d.id, 'kind', d.kind, 'channel', d.channel, 'channel_id', d.channel_id,
                     'recipient', d.recipient, 'message_id', d.message_id, 'event_id', d.event_id,
                     'status', d.status, 'attempts', d.attempts, 'next_attempt_at', rfc3339(d.next_attempt_at),
                     'last_error', d.last_error, 'sent_at', rfc3339(d.sent_at),
                     'created_at', rfc3339(d.created_at), 'updated_at', rfc3339(d.updated_at))";
    let params = vec![
        filter.status.clone().into(),
        filter.event_id.into(),
        filter.channel_id.into(),
        filter.kind.clone().into(),
    ];
    list_page(db, (matching, shape, "d", "created_at desc, id"), params, window)
}

/// Puts dead delivery `id` back in the queue for `at`, with a fresh count of attempts; answers
/// whether there was such a dead delivery.
///
/// # Errors
/// Database errors.
pub fn retry(db: &dyn Db, id: Uuid, at: OffsetDateTime) -> Result<bool, DbError> {
    db.query_as(
        "with retried as (
             update notification_outbox set status = 'pending', attempts = 0, next_attempt_at = $2::text::timestamptz,
                                            leased_until = null, updated_at = $2::text::timestamptz
             where id = $1 and status = 'dead' returning 1)
         select to_jsonb(exists (select 1 from retried))",
        &[id.into(), at.into()],
    )
}

/// One delivery by id.
///
/// # Errors
/// Database errors.
pub fn find(db: &dyn Db, id: Uuid) -> Result<Option<Delivery>, DbError> {
    db.query_as(
        "select (select jsonb_build_object(
                     'id', d.id, 'kind', d.kind, 'channel', d.channel, 'channel_id', d.channel_id,
                     'recipient', d.recipient, 'message_id', d.message_id, 'event_id', m.event_id,
                     'status', d.status, 'attempts', d.attempts, 'next_attempt_at', rfc3339(d.next_attempt_at),
                     'last_error', d.last_error, 'sent_at', rfc3339(d.sent_at),
                     'created_at', rfc3339(d.created_at), 'updated_at', rfc3339(d.updated_at))
                 from notification_outbox d left join notification_messages m on m.id = d.message_id where d.id = $1)",
        &[id.into()],
    )
}
