//! The scheduler's cron tick.

use serde::Serialize;
use time::OffsetDateTime;

use crate::db::{Db, DbError};
use crate::migrate;
use crate::repo::scheduler as runs;

/// What one tick did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TickReport {
    /// The tick's scheduled time, RFC 3339 UTC.
    pub scheduled_at: String,
    /// Whether this instance did the tick (another replica may have claimed it).
    pub claimed: bool,
    /// Old scheduler runs pruned.
    pub pruned_runs: i64,
}

/// Runs the tick scheduled at `at`: makes sure the schema is current, claims the tick (one
/// replica wins), and does its work. Later features add their jobs here, after the claim.
///
/// # Errors
/// Database errors; the cron trigger logs them and the next tick runs as usual.
pub fn tick(db: &dyn Db, at: OffsetDateTime, dev_seed: bool) -> Result<TickReport, DbError> {
    migrate::ensure_schema(db, dev_seed)?;
    let claim = runs::claim_tick(db, at)?;
    let report =
        TickReport { scheduled_at: crate::time::format_rfc3339(at), claimed: claim.claimed, pruned_runs: claim.pruned };
    if claim.claimed {
        runs::record_tick_details(db, at, &serde_json::json!({ "pruned_runs": report.pruned_runs }))?;
    }
    Ok(report)
}
