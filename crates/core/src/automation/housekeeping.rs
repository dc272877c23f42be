//! The daily housekeeping, claimed once per UTC day across replicas (the first tick of the day
//! does it): expired sessions, one-time tokens, codes and rate-limit windows removed; public
//! sign-ups never confirmed forgotten after a week; delivered (or given up) outbox rows and
//! their messages, and cleared alerts, pruned after `outbox_retention_days`; and each service's
//! completed UTC days rolled up from its status log into `service_uptime_days`, which the
//! 90-day bars and the uptime report read for past days.

use std::collections::BTreeMap;

use serde::Serialize;
use time::{Date, Duration, OffsetDateTime, Time};

use crate::db::Db;
use crate::error::Error;
use crate::public::uptime::{self, DayRollup, Granularity};
use crate::repo::housekeeping as repo;

/// The job's name in `housekeeping_runs`.
pub const DAILY: &str = "daily";
/// The most days one run rolls up per service (a first run over a long history catches up
/// over several days).
pub const MAX_DAYS_PER_RUN: i64 = 400;

/// What a day's housekeeping did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HousekeepingReport {
    /// Rows removed, by what they were.
    pub removed: BTreeMap<&'static str, i64>,
    /// Service-days rolled up.
    pub rolled_up_days: usize,
}

/// Does the day's housekeeping at `at`, unless another run (a replica's, an earlier tick's)
/// has claimed today's; answers what it did, or `None` when it was not this run's to do.
///
/// # Errors
/// Database errors.
pub fn run(db: &dyn Db, at: OffsetDateTime, retention_days: u32) -> Result<Option<HousekeepingReport>, Error> {
    if !repo::claim(db, DAILY, at.date(), at)? {
        return Ok(None);
    }
    let mut report = HousekeepingReport { removed: repo::prune(db, at, retention_days)?, rolled_up_days: 0 };
    report.rolled_up_days = roll_up(db, at)?;
    repo::record(db, DAILY, at.date(), &serde_json::to_value(&report).unwrap_or_default())?;
    Ok(Some(report))
}

/// Rolls up every service's completed days not rolled up yet (up to yesterday, or its
/// archiving); answers how many service-days it wrote.
///
/// # Errors
/// Database errors.
pub fn roll_up(db: &dyn Db, at: OffsetDateTime) -> Result<usize, Error> {
    let today = at.date();
    let due = repo::days_to_roll_up(db, today)?;
    if due.is_empty() {
        return Ok(0);
    }
    let ids: Vec<uuid::Uuid> = due.iter().map(|d| d.service_id).collect();
    let timelines = crate::repo::public::timelines(db, &ids)?;
    let mut rows = Vec::new();
    for service in &due {
        let Some(timeline) = timelines.iter().find(|t| t.service_id == service.service_id) else { continue };
        let last = service.last_day.min(service.first_day + Duration::days(MAX_DAYS_PER_RUN - 1));
        let (from, to) = (midnight(service.first_day), midnight(last) + Duration::DAY);
        let observed = (timeline.created_at, timeline.archived_at.unwrap_or(to).min(to));
        for day in uptime::buckets(&timeline.points, observed, (from, to), Granularity::Day) {
            rows.push((service.service_id, DayRollup { day: day.start.date(), seconds: day.seconds }));
        }
    }
    repo::insert_rollups(db, &rows, at)?;
    Ok(rows.len())
}

fn midnight(day: Date) -> OffsetDateTime {
    day.with_time(Time::MIDNIGHT).assume_utc()
}
