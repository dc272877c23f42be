//! SQL for scheduler runs.

use serde::Deserialize;
use time::OffsetDateTime;

use crate::db::{Db, DbError, DbExt, Param};

/// Days of scheduler run history kept.
pub const RUN_RETENTION_DAYS: i32 = 30;

/// The outcome of [`claim_tick`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct TickClaim {
    /// Whether this caller recorded the tick (and so does its work).
    pub claimed: bool,
    /// Old runs deleted by this claim.
    pub pruned: i64,
}

/// Claims the cron tick at `scheduled_at` by recording it and, when it got the claim,
/// prunes runs older than [`RUN_RETENTION_DAYS`] before it. When several cron triggers (one per
/// replica) fire for one tick, exactly one gets the claim and only it does the tick's work.
///
/// # Errors
/// Database errors.
pub fn claim_tick(db: &dyn Db, scheduled_at: OffsetDateTime) -> Result<TickClaim, DbError> {
    db.query_as(
        "with claimed as (
             insert into scheduler_runs (scheduled_at) values ($1::text::timestamptz)
             on conflict (scheduled_at) do nothing
             returning id),
         pruned as (
             delete from scheduler_runs
             where scheduled_at < $1::text::timestamptz - make_interval(days => $2)
               and exists (select 1 from claimed)
             returning id)
         select jsonb_build_object('claimed', exists (select 1 from claimed),
                                   'pruned', (select count(*) from pruned))",
        &[scheduled_at.into(), Param::Int32(RUN_RETENTION_DAYS)],
    )
}

/// Stores what the tick at `scheduled_at` did.
///
/// # Errors
/// Database errors.
pub fn record_tick_details(
    db: &dyn Db,
    scheduled_at: OffsetDateTime,
    details: &serde_json::Value,
) -> Result<(), DbError> {
    db.execute(
        "update scheduler_runs set details = $2 where scheduled_at = $1::text::timestamptz",
        &[scheduled_at.into(), Param::Jsonb(details.clone())],
    )?;
    Ok(())
}
