//! What the scheduler does for notifications besides delivering: composing the digests that
//! are due (daily at 08:00 UTC, weekly on Mondays at 08:00 UTC), and telling operators when
//! deliveries are in trouble — once when an episode starts and once when it clears, never per
//! message.

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime, Time, Weekday};
use uuid::Uuid;

use super::model::MessageKind;
use crate::db::{Db, DbError, DbExt};
use crate::repo::outbox::{self, Direct};

/// The hour (UTC) digests go out.
pub const DIGEST_HOUR: u8 = 8;
/// A pending delivery older than this means the queue is stalled.
pub const STALLED_AFTER_SECONDS: i64 = 600;

/// The start of the current daily and weekly digest periods at `now`.
#[must_use]
pub fn digest_marks(now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let today = now.date().with_time(Time::from_hms(DIGEST_HOUR, 0, 0).unwrap_or(Time::MIDNIGHT)).assume_utc();
    let daily = if now >= today { today } else { today - Duration::days(1) };
    let back = i64::from(daily.weekday().number_days_from_monday());
    let monday = daily - Duration::days(back);
    let weekly = if now >= monday { monday } else { monday - Duration::weeks(1) };
    debug_assert_eq!(weekly.weekday(), Weekday::Monday);
    (daily, weekly)
}

#[derive(Debug, serde::Deserialize)]
struct Due {
    channel_id: Uuid,
    channel: String,
    target: String,
    language: String,
    period: String,
    held: Vec<Uuid>,
    items: Vec<Value>,
}

/// Composes every digest due at `now`: one message per channel with what was held for it
/// since its last digest (and at once for a channel switched back to immediate). Answers how
/// many it queued.
///
/// # Errors
/// Database errors.
pub fn compose_digests(db: &dyn Db, now: OffsetDateTime) -> Result<usize, DbError> {
    let (daily, weekly) = digest_marks(now);
    let due: Vec<Due> = db.query_as(
        "select coalesce(jsonb_agg(jsonb_build_object(
                    'channel_id', c.id, 'channel', c.type, 'target', c.target, 'language', c.language,
                    'period', c.digest,
                    'held', (select jsonb_agg(o.id order by o.created_at) from notification_outbox o
                             where o.channel_id = c.id and o.status = 'held'),
                    'items', (select jsonb_agg(m.payload || jsonb_build_object('kind', o.kind) order by o.created_at)
                              from notification_outbox o join notification_messages m on m.id = o.message_id
                              where o.channel_id = c.id and o.status = 'held'))), '[]'::jsonb)
         from channels c
         where c.enabled and c.verified_at is not null
           -- Something held from before the period began (a new subscriber's first item waits
           -- for the next digest hour too)...
           and exists (select 1 from notification_outbox o
                       where o.channel_id = c.id and o.status = 'held'
                         and (c.digest = 'immediate'
                              or (c.digest = 'daily' and o.created_at < $1::text::timestamptz)
                              or (c.digest = 'weekly' and o.created_at < $2::text::timestamptz)))
           -- ...and no digest yet in this period (a missed digest hour is caught up on).
           and (c.digest = 'immediate'
                or (c.digest = 'daily' and coalesce(c.last_digest_at, '-infinity') < $1::text::timestamptz)
                or (c.digest = 'weekly' and coalesce(c.last_digest_at, '-infinity') < $2::text::timestamptz))",
        &[daily.into(), weekly.into()],
    )?;
    for digest in &due {
        let payload = json!({ "period": digest.period, "items": digest.items });
        let message = outbox::insert_message(db, MessageKind::Digest, (None, None), payload, now)?;
        let direct = Direct {
            kind: MessageKind::Digest.as_str(),
            channel_type: &digest.channel,
            recipient: &digest.target,
            language: &digest.language,
            channel: Some(digest.channel_id),
            payload: json!({}),
        };
        outbox::queue_for_message(db, message, &direct, now)?;
        db.execute(
            "update notification_outbox set status = 'digested', updated_at = $2::text::timestamptz
             where id = any($1::text[]::uuid[])",
            &[digest.held.as_slice().into(), now.into()],
        )?;
        db.execute(
            "update channels set last_digest_at = $2::text::timestamptz where id = $1",
            &[digest.channel_id.into(), now.into()],
        )?;
    }
    Ok(due.len())
}

/// An operator channel: an admin's verified, enabled e-mail, Telegram or Mattermost channel.
#[derive(Debug, serde::Deserialize)]
struct OperatorChannel {
    id: Uuid,
    channel: String,
    target: String,
    language: String,
}

fn tell_operators(db: &dyn Db, kind: MessageKind, episode: &Value, now: OffsetDateTime) -> Result<(), DbError> {
    let channels: Vec<OperatorChannel> = db.query_as(
        "select coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'channel', c.type, 'target', c.target,
                                                      'language', c.language)), '[]'::jsonb)
         from channels c join users u on u.id = c.user_id
         where u.role = 'admin' and u.is_active and c.enabled and c.verified_at is not null
           and c.type in ('email', 'telegram', 'mattermost')",
        &[],
    )?;
    for channel in &channels {
        let direct = Direct {
            kind: kind.as_str(),
            channel_type: &channel.channel,
            recipient: &channel.target,
            language: &channel.language,
            channel: Some(channel.id),
            payload: episode.clone(),
        };
        outbox::queue_direct(db, &direct, now)?;
    }
    Ok(())
}

/// Opens or closes the operators' delivery-trouble episodes at `now`: the queue is stalled
/// (the oldest pending delivery is older than [`STALLED_AFTER_SECONDS`]), or deliveries died
/// in the last 24 hours. Each opening and each closing is one message to every admin's
/// channels (`{episode, count, minutes}`, rendered in each one's language). Answers the
/// episodes that opened or closed (`stalled`, `dead_letters`, with `cleared:` before those
/// that closed).
///
/// # Errors
/// Database errors.
pub fn check_alerts(db: &dyn Db, now: OffsetDateTime) -> Result<Vec<String>, DbError> {
    let stats = outbox::stats(db, now)?;
    let recent_dead: i64 = db.query_as(
        "select to_jsonb(count(*)) from notification_outbox
         where status = 'dead' and updated_at > $1::text::timestamptz - interval '24 hours'",
        &[now.into()],
    )?;
    let open: Vec<String> = db.query_as("select coalesce(jsonb_agg(kind), '[]'::jsonb) from delivery_alerts", &[])?;
    let conditions = [
        (
            "stalled",
            stats.oldest_pending_seconds > STALLED_AFTER_SECONDS,
            json!({ "episode": "stalled", "count": stats.pending, "minutes": stats.oldest_pending_seconds / 60 }),
        ),
        ("dead_letters", recent_dead > 0, json!({ "episode": "dead_letters", "count": recent_dead, "minutes": 0 })),
    ];
    let mut changed = Vec::new();
    for (kind, now_true, episode) in conditions {
        let was_open = open.iter().any(|k| k == kind);
        if now_true && !was_open {
            db.execute(
                "insert into delivery_alerts (kind, opened_at, detail) values ($1, $2::text::timestamptz, $3)
                 on conflict (kind) do nothing",
                &[kind.into(), now.into(), crate::db::Param::Jsonb(episode.clone())],
            )?;
            tell_operators(db, MessageKind::OperatorAlert, &episode, now)?;
            changed.push(kind.to_owned());
        } else if !now_true && was_open {
            db.execute("delete from delivery_alerts where kind = $1", &[kind.into()])?;
            tell_operators(db, MessageKind::OperatorAlertCleared, &episode, now)?;
            changed.push(format!("cleared:{kind}"));
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn digest_periods_start_at_eight_utc_and_on_mondays() {
        // 2026-12-03 is a Thursday.
        let (daily, weekly) = digest_marks(datetime!(2026-12-03 10:00 UTC));
        assert_eq!((daily, weekly), (datetime!(2026-12-03 8:00 UTC), datetime!(2026-11-30 8:00 UTC)));
        let (daily, _) = digest_marks(datetime!(2026-12-03 7:59 UTC));
        assert_eq!(daily, datetime!(2026-12-02 8:00 UTC), "before eight, yesterday's period");
        let (_, weekly) = digest_marks(datetime!(2026-11-30 7:00 UTC));
        assert_eq!(weekly, datetime!(2026-11-23 8:00 UTC), "a Monday before eight is still last week's");
    }
}
