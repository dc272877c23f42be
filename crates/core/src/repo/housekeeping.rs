//! SQL for the daily housekeeping: its claim, the clean-up statements, and the uptime roll-ups.

use std::collections::BTreeMap;

use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt, Param};
use crate::public::uptime::DayRollup;

/// Claims job `job` for `period` at `at`; answers whether this caller got it.
///
/// # Errors
/// Database errors.
pub fn claim(db: &dyn Db, job: &str, period: Date, at: OffsetDateTime) -> Result<bool, DbError> {
    db.query_as(
        "with claimed as (
             insert into housekeeping_runs (job, period, started_at)
             values ($1, ($2::text::timestamptz at time zone 'UTC')::date, $3::text::timestamptz)
             on conflict (job, period) do nothing returning 1)
         select to_jsonb(exists (select 1 from claimed))",
        &[job.into(), period.midnight().assume_utc().into(), at.into()],
    )
}

/// Stores what job `job` of `period` did.
///
/// # Errors
/// Database errors.
pub fn record(db: &dyn Db, job: &str, period: Date, details: &serde_json::Value) -> Result<(), DbError> {
    db.execute(
        "update housekeeping_runs set details = $3
         where job = $1 and period = ($2::text::timestamptz at time zone 'UTC')::date",
        &[job.into(), period.midnight().assume_utc().into(), Param::Jsonb(details.clone())],
    )?;
    Ok(())
}

/// What is removed, and the statement that removes it (`$1` the time, `$2` the retention in
/// days); each answers how many rows it removed.
const PRUNING: &[(&str, &str)] = &[
    ("sessions", "delete from sessions where expires_at < $1::text::timestamptz - interval '1 day'"),
    ("one_time_tokens", "delete from one_time_tokens where expires_at < $1::text::timestamptz - interval '1 day'"),
    ("subscriber_codes", "delete from subscriber_codes where expires_at < $1::text::timestamptz or used_at is not null"),
    ("rate_limit_windows", "delete from rate_limits where window_started_at < $1::text::timestamptz - interval '1 day'"),
    ("sso_sign_ins", "delete from oidc_logins where expires_at < $1::text::timestamptz"),
    (
        "unconfirmed_subscribers",
        "delete from channels where user_id is null and verified_at is null
                                and created_at < $1::text::timestamptz - interval '7 days'",
    ),
    (
        "expired_verification_codes",
        "update channels set verify_code_hash = null, verify_token_hash = null
         where verify_expires_at < $1::text::timestamptz and (verify_code_hash is not null or verify_token_hash is not null)",
    ),
    (
        "outbox_rows",
        "delete from notification_outbox
         where status in ('sent', 'cancelled', 'digested', 'dead')
           and updated_at < $1::text::timestamptz - make_interval(days => $2)",
    ),
    (
        "notification_messages",
        "delete from notification_messages m
         where m.created_at < $1::text::timestamptz - make_interval(days => $2)
           and not exists (select 1 from notification_outbox o where o.message_id = m.id)",
    ),
    (
        "cleared_alerts",
        "delete from integration_alerts
         where status = 'resolved' and updated_at < $1::text::timestamptz - make_interval(days => $2)",
    ),
    ("housekeeping_runs", "delete from housekeeping_runs where started_at < $1::text::timestamptz - interval '90 days'"),
];

/// Runs every clean-up statement at `at` with `retention_days`; answers the rows each removed.
///
/// # Errors
/// Database errors.
pub fn prune(db: &dyn Db, at: OffsetDateTime, retention_days: u32) -> Result<BTreeMap<&'static str, i64>, DbError> {
    let retention = i32::try_from(retention_days).unwrap_or(i32::MAX);
    let mut removed = BTreeMap::new();
    for (what, statement) in PRUNING {
        // `$2` is bound only by the statements that use it: an unused parameter has no type.
        let params: Vec<Param> =
            if statement.contains("$2") { vec![at.into(), Param::Int32(retention)] } else { vec![at.into()] };
        let count = db.execute(statement, &params)?;
        removed.insert(*what, i64::try_from(count).unwrap_or(i64::MAX));
    }
    Ok(removed)
}

/// A service's days to roll up: `first_day` to `last_day`, both whole and past.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct DaysDue {
    /// The service.
    pub service_id: Uuid,
    /// The first day not rolled up yet (its creation day at first).
    #[serde(with = "crate::time::serde::date")]
    pub first_day: Date,
    /// The last whole day to roll up (yesterday, or the day before it was archived).
    #[serde(with = "crate::time::serde::date")]
    pub last_day: Date,
}

/// Every service with whole days before `today` not rolled up yet.
///
/// # Errors
/// Database errors.
pub fn days_to_roll_up(db: &dyn Db, today: Date) -> Result<Vec<DaysDue>, DbError> {
    db.query_as(
        "with bounds as (
             select s.id as service_id,
                    coalesce((select max(d.day) + 1 from service_uptime_days d where d.service_id = s.id),
                             (s.created_at at time zone 'UTC')::date) as first_day,
                    least(($1::text::timestamptz at time zone 'UTC')::date - 1,
                          coalesce((s.archived_at at time zone 'UTC')::date, 'infinity'::date)) as last_day
             from services s)
         select coalesce(jsonb_agg(jsonb_build_object('service_id', service_id, 'first_day', first_day,
                                                      'last_day', last_day) order by service_id), '[]'::jsonb)
         from bounds where first_day <= last_day",
        &[today.midnight().assume_utc().into()],
    )
}

/// Stores `rows` of rolled-up days at `at` (a day rolled up again is replaced).
///
/// # Errors
/// Database errors.
pub fn insert_rollups(db: &dyn Db, rows: &[(Uuid, DayRollup)], at: OffsetDateTime) -> Result<(), DbError> {
    if rows.is_empty() {
        return Ok(());
    }
    let json: Vec<serde_json::Value> = rows
        .iter()
        .map(|(service, rollup)| {
            let mut value = serde_json::to_value(rollup).unwrap_or_default();
            value["service_id"] = service.to_string().into();
            value
        })
        .collect();
    db.execute(
        "insert into service_uptime_days (service_id, day, seconds, rolled_at)
         select x.service_id, x.day, x.seconds, $2::text::timestamptz
         from jsonb_to_recordset($1) as x(service_id uuid, day date, seconds jsonb)
         on conflict (service_id, day) do update set seconds = excluded.seconds, rolled_at = excluded.rolled_at",
        &[Param::Jsonb(serde_json::Value::Array(json)), at.into()],
    )?;
    Ok(())
}
