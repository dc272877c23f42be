//! The scheduler's cron tick.

use serde::Serialize;
use time::OffsetDateTime;

use crate::env::Env;
use crate::migrate;
use crate::public::publish::{self, Published};
use crate::public::site::Site;
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
    /// What the safety-net refresh of the public snapshot did (claimed ticks only).
    pub published: Option<Published>,
}

/// Runs the tick scheduled at `at`: makes sure the schema is current, claims the tick (one
/// replica wins), and does its work: refreshing the public snapshot (a safety net behind the
/// refresh every write makes, and what moves the page's uptime bars with the clock). Later
/// features add their jobs here, after the claim.
///
/// # Errors
/// The failure's text; the cron trigger logs it and the next tick runs as usual.
pub fn tick(env: &dyn Env, at: OffsetDateTime) -> Result<TickReport, String> {
    let config = env.config().map_err(|e| e.to_string())?;
    let db = env.db().map_err(|e| e.to_string())?;
    migrate::ensure_schema(db, config.dev_seed).map_err(|e| e.to_string())?;
    let claim = runs::claim_tick(db, at).map_err(|e| e.to_string())?;
    let mut report = TickReport {
        scheduled_at: crate::time::format_rfc3339(at),
        claimed: claim.claimed,
        pruned_runs: claim.pruned,
        published: None,
    };
    if claim.claimed {
        let kv = env.kv().map_err(|e| e.to_string())?;
        let published = publish::refresh(db, kv, &Site::of(config), at).map_err(|e| format!("publishing: {e}"))?;
        let details = serde_json::json!({ "pruned_runs": report.pruned_runs, "published": published });
        runs::record_tick_details(db, at, &details).map_err(|e| e.to_string())?;
        report.published = Some(published);
    }
    Ok(report)
}
