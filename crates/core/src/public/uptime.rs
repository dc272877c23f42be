//! Uptime from the status log: a service's effective-status timeline cut into calendar buckets
//! (UTC days or months), with the seconds spent in each status. The 90-day bars of the page and
//! the uptime report API are the same computation over the same timeline.
//!
//! A service is observed from its creation until it is archived (or now); time outside that is
//! not counted. Uptime is the observed time not spent in `partial_outage` or `major_outage`
//! (degraded performance and maintenance count as up, as in most SLAs); the per-status seconds
//! let a reader apply another definition.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime, Time};
use uuid::Uuid;

use crate::domain::ServiceStatus;

/// A point of a timeline: from `.0` on, the service's effective status was `.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point(#[serde(with = "crate::time::serde")] pub OffsetDateTime, pub ServiceStatus);

/// A whole UTC day of a service, rolled up by housekeeping: the seconds it spent in each
/// status. Reports and bars read these for the days they cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRollup {
    /// The day.
    #[serde(with = "crate::time::serde::date")]
    pub day: Date,
    /// Its seconds.
    pub seconds: StatusSeconds,
}

/// A service's whole effective-status timeline (what an uptime report is computed from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// The service.
    pub service_id: Uuid,
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Created: observation starts.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
    /// Archived: observation ends.
    #[serde(with = "crate::time::serde::option")]
    pub archived_at: Option<OffsetDateTime>,
    /// Oldest first.
    pub points: Vec<Point>,
    /// Its rolled-up days, oldest first.
    #[serde(default)]
    pub rollups: Vec<DayRollup>,
}

/// Bucket size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// UTC calendar days.
    Day,
    /// UTC calendar months.
    Month,
}

impl Granularity {
    /// Parses `day` or `month`.
    ///
    /// # Errors
    /// A message naming both.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "day" => Ok(Self::Day),
            "month" => Ok(Self::Month),
            _ => Err("must be day or month".to_owned()),
        }
    }

    /// The start of the calendar bucket after the one holding `at`.
    fn next_boundary(self, at: OffsetDateTime) -> OffsetDateTime {
        let date = at.date();
        let next = match self {
            Self::Day => date.next_day().unwrap_or(Date::MAX),
            Self::Month => {
                let (year, month) = if date.month() == Month::December {
                    (date.year() + 1, Month::January)
                } else {
                    (date.year(), date.month().next())
                };
                Date::from_calendar_date(year, month, 1).unwrap_or(Date::MAX)
            }
        };
        next.with_time(Time::MIDNIGHT).assume_utc()
    }
}

/// Seconds in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusSeconds {
    /// Operational.
    pub operational: i64,
    /// Degraded performance.
    pub degraded: i64,
    /// Partial outage.
    pub partial_outage: i64,
    /// Major outage.
    pub major_outage: i64,
    /// Under maintenance.
    pub maintenance: i64,
}

impl StatusSeconds {
    /// Adds `seconds` in `status`.
    pub fn add(&mut self, status: ServiceStatus, seconds: i64) {
        let slot = match status {
            ServiceStatus::Operational => &mut self.operational,
            ServiceStatus::Degraded => &mut self.degraded,
            ServiceStatus::PartialOutage => &mut self.partial_outage,
            ServiceStatus::MajorOutage => &mut self.major_outage,
            ServiceStatus::Maintenance => &mut self.maintenance,
        };
        *slot += seconds;
    }

    /// The seconds of `status`.
    #[must_use]
    pub fn of(&self, status: ServiceStatus) -> i64 {
        match status {
            ServiceStatus::Operational => self.operational,
            ServiceStatus::Degraded => self.degraded,
            ServiceStatus::PartialOutage => self.partial_outage,
            ServiceStatus::MajorOutage => self.major_outage,
            ServiceStatus::Maintenance => self.maintenance,
        }
    }

    /// All observed seconds.
    #[must_use]
    pub fn total(&self) -> i64 {
        self.operational + self.degraded + self.partial_outage + self.major_outage + self.maintenance
    }
}

/// One bucket of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Start (inclusive).
    pub start: OffsetDateTime,
    /// End (exclusive).
    pub end: OffsetDateTime,
    /// Time in each status, within the observation.
    pub seconds: StatusSeconds,
}

impl Bucket {
    /// The share of observed time up (not in a partial or major outage); `None` when nothing was
    /// observed.
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // seconds of a report fit f64's 52 bits many times over
    pub fn uptime(&self) -> Option<f64> {
        let observed = self.seconds.total();
        (observed > 0)
            .then(|| (observed - self.seconds.partial_outage - self.seconds.major_outage) as f64 / observed as f64)
    }

    /// The worst status the bucket saw, `None` when nothing was observed.
    #[must_use]
    pub fn worst(&self) -> Option<ServiceStatus> {
        let mut seen: Vec<ServiceStatus> = ServiceStatus::ALL.into_iter().filter(|s| self.seconds.of(*s) > 0).collect();
        seen.sort();
        seen.last().copied()
    }
}

/// The buckets of `[from, to)` at `granularity` (calendar boundaries, the first and last cut at
/// `from` and `to`), with the time `points` spent in each status, observed over `observed`.
#[must_use]
pub fn buckets(
    points: &[Point],
    observed: (OffsetDateTime, OffsetDateTime),
    (from, to): (OffsetDateTime, OffsetDateTime),
    granularity: Granularity,
) -> Vec<Bucket> {
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let end = granularity.next_boundary(start).min(to);
        out.push(Bucket { start, end, seconds: StatusSeconds::default() });
        start = end;
    }
    // Each segment of the timeline, clipped to the observation, spread over the buckets; at
    // whole seconds, so that a bucket's seconds add up to its length exactly.
    let (observed_from, observed_to) = (whole_second(observed.0), whole_second(observed.1));
    let mut first_bucket = 0;
    for (i, Point(at, status)) in points.iter().enumerate() {
        let next = points.get(i + 1).map_or(observed_to, |p| whole_second(p.0));
        let (seg_start, seg_end) = (whole_second(*at).max(observed_from).max(from), next.min(observed_to).min(to));
        if seg_start >= seg_end {
            continue;
        }
        while first_bucket < out.len() && out[first_bucket].end <= seg_start {
            first_bucket += 1;
        }
        for bucket in out.iter_mut().skip(first_bucket) {
            if bucket.start >= seg_end {
                break;
            }
            let overlap = seg_end.min(bucket.end) - seg_start.max(bucket.start);
            bucket.seconds.add(*status, overlap.whole_seconds());
        }
    }
    out
}

/// [`buckets`], reading `rollups` for the whole UTC days they cover: each whole day of the
/// range that has a roll-up counts its rolled-up seconds, the rest (today, partial days at the
/// range's edges, days not rolled up yet) is computed from `points`.
#[must_use]
pub fn buckets_with_rollups(
    points: &[Point],
    rollups: &[DayRollup],
    observed: (OffsetDateTime, OffsetDateTime),
    range: (OffsetDateTime, OffsetDateTime),
    granularity: Granularity,
) -> Vec<Bucket> {
    if rollups.is_empty() {
        return buckets(points, observed, range, granularity);
    }
    let by_day: std::collections::HashMap<Date, StatusSeconds> = rollups.iter().map(|r| (r.day, r.seconds)).collect();
    let days: Vec<Bucket> = buckets(points, observed, range, Granularity::Day)
        .into_iter()
        .map(|mut day| {
            let whole = day.end - day.start == Duration::DAY;
            if let Some(rolled) = by_day.get(&day.start.date()).filter(|_| whole) {
                day.seconds = *rolled;
            }
            day
        })
        .collect();
    if granularity == Granularity::Day {
        return days;
    }
    let mut out = buckets(&[], observed, range, granularity);
    let mut month = 0;
    for day in &days {
        while month + 1 < out.len() && out[month].end <= day.start {
            month += 1;
        }
        for status in ServiceStatus::ALL {
            out[month].seconds.add(status, day.seconds.of(status));
        }
    }
    out
}

fn whole_second(at: OffsetDateTime) -> OffsetDateTime {
    at - Duration::nanoseconds(i64::from(at.nanosecond()))
}

/// One bucket spanning `buckets` (none: an empty one at the epoch), with their seconds summed.
#[must_use]
pub fn combined(buckets: &[Bucket]) -> Bucket {
    let mut seconds = StatusSeconds::default();
    for bucket in buckets {
        for status in ServiceStatus::ALL {
            seconds.add(status, bucket.seconds.of(status));
        }
    }
    let start = buckets.first().map_or(OffsetDateTime::UNIX_EPOCH, |b| b.start);
    let end = buckets.last().map_or(OffsetDateTime::UNIX_EPOCH, |b| b.end);
    Bucket { start, end, seconds }
}

/// The start of the UTC month `n` months before the month of `at` (`n = 0`: its own).
#[must_use]
pub fn month_start_before(at: OffsetDateTime, n: u32) -> OffsetDateTime {
    let months = at.year() * 12 + i32::from(u8::from(at.month())) - 1 - i32::try_from(n).unwrap_or(0);
    let (year, month) = (months.div_euclid(12), months.rem_euclid(12) + 1);
    let month = u8::try_from(month).ok().and_then(|m| Month::try_from(m).ok()).unwrap_or(Month::January);
    Date::from_calendar_date(year, month, 1).unwrap_or(Date::MIN).with_time(Time::MIDNIGHT).assume_utc()
}

/// The 90 UTC days ending with `now`'s (today's bucket ends at `now`), for the page's bars.
#[must_use]
pub fn last_90_days(now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let today = now.date().with_time(Time::MIDNIGHT).assume_utc();
    (today - Duration::days(89), now)
}

/// `at` as a 0-to-100 percentage with up to three decimals, never rounding a loss up to 100.
#[must_use]
pub fn percent(share: f64) -> String {
    let thousandths = (share * 100_000.0).floor() / 1000.0;
    let text = format!("{thousandths:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use ServiceStatus::{MajorOutage, Operational, PartialOutage};

    #[test]
    fn splits_a_timeline_across_day_boundaries() {
        let points = [
            Point(datetime!(2026-11-01 12:00 UTC), Operational),
            Point(datetime!(2026-11-02 23:00 UTC), MajorOutage),
            Point(datetime!(2026-11-03 01:00 UTC), Operational),
        ];
        let observed = (datetime!(2026-11-01 12:00 UTC), datetime!(2026-11-04 00:00 UTC));
        let days = buckets(&points, observed, (datetime!(2026-11-01 0:00 UTC), observed.1), Granularity::Day);
        assert_eq!(days.len(), 3);
        assert_eq!(days[0].seconds.total(), 12 * 3600, "created at noon: half a day observed");
        assert_eq!(days[0].uptime(), Some(1.0));
        assert_eq!(days[1].seconds.major_outage, 3600);
        assert_eq!(days[2].seconds.major_outage, 3600, "the outage crosses midnight");
        assert_eq!(days[2].worst(), Some(MajorOutage));
        assert_eq!(percent(days[1].uptime().expect("observed")), "95.833");
    }

    #[test]
    fn months_and_partial_ranges() {
        let points =
            [Point(datetime!(2026-01-01 0:00 UTC), Operational), Point(datetime!(2026-01-31 0:00 UTC), PartialOutage)];
        let observed = (datetime!(2026-01-01 0:00 UTC), datetime!(2026-02-10 00:00 UTC));
        let months = buckets(
            &points,
            observed,
            (datetime!(2025-12-15 0:00 UTC), datetime!(2026-03-01 0:00 UTC)),
            Granularity::Month,
        );
        assert_eq!(
            months.iter().map(|b| b.start).collect::<Vec<_>>(),
            [datetime!(2025-12-15 0:00 UTC), datetime!(2026-01-01 0:00 UTC), datetime!(2026-02-01 0:00 UTC)]
        );
        assert_eq!(months[0].uptime(), None, "before the service existed");
        assert_eq!(months[1].seconds.partial_outage, 86_400);
        assert_eq!(months[2].seconds.total(), 9 * 86_400, "observed until archived or now");
        assert_eq!(months[2].uptime(), Some(0.0));
    }

    #[test]
    fn rolled_up_days_are_read_for_the_whole_days_they_cover() {
        let points = [Point(datetime!(2026-11-01 0:00 UTC), Operational)];
        let observed = (datetime!(2026-11-01 0:00 UTC), datetime!(2026-11-03 12:00 UTC));
        let mut rolled = StatusSeconds::default();
        rolled.add(MajorOutage, 3600);
        rolled.add(Operational, 82_800);
        let rollups = [DayRollup { day: time::macros::date!(2026 - 11 - 02), seconds: rolled }];
        let range = (datetime!(2026-11-01 0:00 UTC), observed.1);
        let days = buckets_with_rollups(&points, &rollups, observed, range, Granularity::Day);
        assert_eq!(days.iter().map(|d| d.seconds.major_outage).collect::<Vec<_>>(), [0, 3600, 0], "the roll-up wins");
        assert_eq!(days[2].seconds.total(), 12 * 3600, "today comes from the timeline");
        let partial = buckets_with_rollups(
            &points,
            &rollups,
            observed,
            (datetime!(2026-11-02 12:00 UTC), observed.1),
            Granularity::Day,
        );
        assert_eq!(partial[0].seconds.major_outage, 0, "half a day is not the rolled-up day");
        let months = buckets_with_rollups(&points, &rollups, observed, range, Granularity::Month);
        assert_eq!(
            (months.len(), months[0].seconds.major_outage, months[0].seconds.total()),
            (1, 3600, 2 * 86_400 + 12 * 3600)
        );
        assert_eq!(
            buckets_with_rollups(&points, &[], observed, range, Granularity::Month),
            buckets(&points, observed, range, Granularity::Month)
        );
    }

    #[test]
    fn percentages_never_round_a_loss_away() {
        assert_eq!(percent(1.0), "100");
        assert_eq!(percent(0.999_999), "99.999");
        assert_eq!(percent(0.5), "50");
        assert_eq!(last_90_days(datetime!(2026-12-03 10:00 UTC)).0, datetime!(2026-09-05 0:00 UTC));
        assert_eq!(month_start_before(datetime!(2026-12-03 10:00 UTC), 11), datetime!(2026-01-01 0:00 UTC));
        assert_eq!(month_start_before(datetime!(2026-03-31 10:00 UTC), 3), datetime!(2025-12-01 0:00 UTC));
    }
}
