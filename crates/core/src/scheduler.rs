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
    /// What maintenance automation did (claimed ticks only).
    pub maintenance: Option<crate::automation::maintenance::MaintenanceReport>,
    /// What the day's housekeeping did (the first claimed tick of each UTC day).
    pub housekeeping: Option<crate::automation::housekeeping::HousekeepingReport>,
    /// What the safety-net refresh of the public snapshot did (claimed ticks only).
    pub published: Option<Published>,
    /// Digests composed.
    pub digests: usize,
    /// What the delivery run did.
    pub deliveries: Option<crate::notify::deliver::RunReport>,
    /// Operator alert episodes opened or cleared.
    pub alerts: Vec<String>,
    /// Steps that failed (the others still ran).
    pub errors: Vec<String>,
}

/// How long a tick's delivery run may take (ticks come every minute; another replica's, or
/// the next, tick goes on where it stopped).
const DELIVERY_BUDGET: std::time::Duration = std::time::Duration::from_secs(50);

/// Runs the tick scheduled at `at`: makes sure the schema is current, claims the tick (one
/// replica wins), and does its work: maintenance automation, refreshing the public snapshot (a
/// safety net behind the refresh every write makes, and what moves the page's uptime bars with
/// the clock), digests, a delivery run, the operators' alerts. Each step's failure is recorded
/// and the others still run.
///
/// # Errors
/// The failure's text; the cron trigger logs it and the next tick runs as usual.
pub fn tick(env: &dyn Env, at: OffsetDateTime) -> Result<TickReport, String> {
    let started = std::time::Instant::now();
    let config = env.config().map_err(|e| e.to_string())?;
    let db = env.db().map_err(|e| e.to_string())?;
    migrate::ensure_schema(db, config.dev_seed).map_err(|e| e.to_string())?;
    let claim = runs::claim_tick(db, at).map_err(|e| e.to_string())?;
    let mut report = TickReport {
        scheduled_at: crate::time::format_rfc3339(at),
        claimed: claim.claimed,
        pruned_runs: claim.pruned,
        maintenance: None,
        housekeeping: None,
        published: None,
        digests: 0,
        deliveries: None,
        alerts: Vec::new(),
        errors: Vec::new(),
    };
    if claim.claimed {
        // Maintenance first: what it changes is in this tick's snapshot and deliveries.
        match crate::automation::maintenance::run(db, at) {
            Ok(done) => report.maintenance = Some(done),
            Err(e) => report.errors.push(format!("maintenance: {e}")),
        }
        match crate::db::transaction(db, |db| {
            crate::automation::housekeeping::run(db, at, config.outbox_retention_days)
        }) {
            Ok(done) => report.housekeeping = done,
            Err(e) => report.errors.push(format!("housekeeping: {e}")),
        }
        let kv = env.kv().map_err(|e| e.to_string())?;
        match publish::refresh(db, kv, &Site::of(config), at) {
            Ok(published) => report.published = Some(published),
            Err(e) => report.errors.push(format!("publishing: {e}")),
        }
        notifications(env, db, at, &mut report);
        let details = serde_json::json!({
            "pruned_runs": report.pruned_runs, "maintenance": report.maintenance, "housekeeping": report.housekeeping,
            "published": report.published, "digests": report.digests,
            "deliveries": report.deliveries, "alerts": report.alerts, "errors": report.errors,
        });
        runs::record_tick_details(db, at, &details).map_err(|e| e.to_string())?;
    }
    let millis = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    crate::metrics::count_tick(db, report.claimed, millis).map_err(|e| e.to_string())?;
    Ok(report)
}

/// The tick's notification work: due digests, a delivery run, the operators' alerts (and
/// their delivery).
fn notifications(env: &dyn Env, db: &dyn crate::db::Db, at: OffsetDateTime, report: &mut TickReport) {
    use crate::notify::{deliver, housekeeping};
    match crate::db::transaction(db, |db| housekeeping::compose_digests(db, at)) {
        Ok(composed) => report.digests = composed,
        Err(e) => report.errors.push(format!("digests: {e}")),
    }
    match deliver::run(env, DELIVERY_BUDGET) {
        Ok(run) => report.deliveries = Some(run),
        Err(e) => report.errors.push(format!("deliveries: {e}")),
    }
    match crate::db::transaction(db, |db| housekeeping::check_alerts(db, at)) {
        Ok(changed) if !changed.is_empty() => {
            report.alerts = changed;
            if let Err(e) = deliver::run(env, std::time::Duration::from_secs(5)) {
                report.errors.push(format!("alert deliveries: {e}"));
            }
        }
        Ok(_) => {}
        Err(e) => report.errors.push(format!("alerts: {e}")),
    }
}
