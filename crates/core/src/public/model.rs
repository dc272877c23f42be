//! What the public documents are rendered from: the catalog, the events that matter to the
//! page, the recent status log and cancelled windows, read in one statement
//! ([`crate::repo::public`]); and the overall status derived from them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{ChangeKind, Event, EventStatus, EventType, EventUpdate, EventWithTimeline, Group, Service};
use crate::domain::{ServiceStatus, Severity};

/// A change of an event's affected set made with one timeline entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateChange {
    /// The service.
    pub service_id: Uuid,
    /// Its name.
    pub name: String,
    /// What happened.
    pub kind: ChangeKind,
    /// Its status in the event before (none when added).
    pub from: Option<ServiceStatus>,
    /// After (none when removed).
    pub to: Option<ServiceStatus>,
}

/// A timeline entry with the affected-set changes it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicUpdate {
    /// The entry.
    #[serde(flatten)]
    pub update: EventUpdate,
    /// Its changes.
    pub changes: Vec<UpdateChange>,
}

/// An event with its timeline (newest first) as the public documents show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicEvent {
    /// The event.
    #[serde(flatten)]
    pub event: Event,
    /// Its timeline, newest first.
    pub updates: Vec<PublicUpdate>,
}

impl PublicEvent {
    /// The API's shape of it (`GET /api/v1/events/{id}`).
    #[must_use]
    pub fn with_timeline(&self) -> EventWithTimeline {
        EventWithTimeline {
            event: self.event.clone(),
            updates: self.updates.iter().map(|u| u.update.clone()).collect(),
        }
    }

    /// When it happened, for ordering history: its start, else its window's start, else its
    /// creation.
    #[must_use]
    pub fn happened_at(&self) -> OffsetDateTime {
        self.event.started_at.or(self.event.scheduled_start_at).unwrap_or(self.event.created_at)
    }

    /// Its iCalendar `SEQUENCE`: one more with every timeline entry after the first.
    #[must_use]
    pub fn sequence(&self) -> u32 {
        u32::try_from(self.updates.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }
}

/// One point of a service's effective-status timeline (read as `[service_id, unix_ms, status]`,
/// the compact form the snapshot query builds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "(Uuid, i64, ServiceStatus)")]
pub struct LogPoint {
    /// The service.
    pub service_id: Uuid,
    /// From when.
    #[serde(with = "crate::time::serde")]
    pub at: OffsetDateTime,
    /// The effective status from then on.
    pub status: ServiceStatus,
}

impl TryFrom<(Uuid, i64, ServiceStatus)> for LogPoint {
    type Error = String;

    fn try_from((service_id, unix_ms, status): (Uuid, i64, ServiceStatus)) -> Result<Self, Self::Error> {
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
            .map_err(|e| format!("status log time {unix_ms}: {e}"))?;
        Ok(Self { service_id, at, status })
    }
}

/// A maintenance window cancelled before it started (its event row is gone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelledWindow {
    /// The event it was.
    pub event_id: Uuid,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: String,
    /// The window.
    #[serde(with = "crate::time::serde")]
    pub scheduled_start_at: OffsetDateTime,
    /// The window's end.
    #[serde(with = "crate::time::serde")]
    pub scheduled_end_at: OffsetDateTime,
    /// The `SEQUENCE` of the cancellation.
    pub sequence: u32,
    /// When the event was created.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
    /// When it was cancelled.
    #[serde(with = "crate::time::serde")]
    pub cancelled_at: OffsetDateTime,
}

/// Everything the page-wide documents are rendered from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Live services, by order then name.
    pub services: Vec<Service>,
    /// Live groups, by order then name.
    pub groups: Vec<Group>,
    /// Open and scheduled events, the 50 newest of each type, and maintenance of the last 90
    /// days; newest first.
    pub events: Vec<PublicEvent>,
    /// The live services' effective-status points of the last 90 days, with the one before,
    /// oldest first.
    pub log: Vec<LogPoint>,
    /// Cancelled windows of the last 90 days and later.
    pub cancelled: Vec<CancelledWindow>,
    /// The live services' rolled-up days of the last 90 days.
    #[serde(default)]
    pub rollups: Vec<ServiceDay>,
}

/// A service's rolled-up day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDay {
    /// The service.
    pub service_id: Uuid,
    /// The day and its seconds.
    #[serde(flatten)]
    pub rollup: crate::public::uptime::DayRollup,
}

/// How many recent events of each type the page-wide documents carry.
pub const RECENT_PER_TYPE: usize = 50;

impl Snapshot {
    /// Events affecting their services now (open incidents, maintenance in progress).
    pub fn active(&self) -> impl Iterator<Item = &PublicEvent> {
        self.events.iter().filter(|e| e.event.is_active())
    }

    /// Maintenance scheduled and not started, soonest first.
    #[must_use]
    pub fn upcoming(&self) -> Vec<&PublicEvent> {
        let mut upcoming: Vec<_> = self.events.iter().filter(|e| e.event.status == EventStatus::Scheduled).collect();
        upcoming.sort_by_key(|e| (e.event.scheduled_start_at, e.event.id));
        upcoming
    }

    /// The newest events of `event_type`, at most [`RECENT_PER_TYPE`].
    pub fn recent(&self, event_type: EventType) -> impl Iterator<Item = &PublicEvent> {
        self.events.iter().filter(move |e| e.event.event_type == event_type).take(RECENT_PER_TYPE)
    }

    /// The overall status of the page.
    #[must_use]
    pub fn indicator(&self) -> Indicator {
        let from_services = self.services.iter().map(|s| Indicator::of_service(s.effective_status));
        let from_incidents = self
            .active()
            .filter(|e| e.event.event_type == EventType::Incident)
            .map(|e| e.event.severity.map_or(Indicator::Minor, Indicator::of_severity));
        from_services.chain(from_incidents).max().unwrap_or(Indicator::None)
    }

    /// When what the page shows last changed (the newest change of a service, group, event
    /// or cancellation); the epoch for an empty page.
    #[must_use]
    pub fn updated_at(&self) -> OffsetDateTime {
        let services = self.services.iter().map(|s| s.lifecycle.updated_at);
        let groups = self.groups.iter().map(|g| g.lifecycle.updated_at);
        let events = self.events.iter().map(|e| e.event.updated_at);
        let cancelled = self.cancelled.iter().map(|c| c.cancelled_at);
        services.chain(groups).chain(events).chain(cancelled).max().unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// A live service by id.
    #[must_use]
    pub fn service(&self, id: Uuid) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }
}

/// The overall status, in Statuspage's vocabulary, least bad first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// Everything operational.
    None,
    /// Something under maintenance, nothing worse.
    Maintenance,
    /// Degraded performance or a minor incident.
    Minor,
    /// A partial outage or a major incident.
    Major,
    /// A major outage or a critical incident.
    Critical,
}

impl Indicator {
    fn of_service(status: ServiceStatus) -> Self {
        match status {
            ServiceStatus::Operational => Self::None,
            ServiceStatus::Maintenance => Self::Maintenance,
            ServiceStatus::Degraded => Self::Minor,
            ServiceStatus::PartialOutage => Self::Major,
            ServiceStatus::MajorOutage => Self::Critical,
        }
    }

    fn of_severity(severity: Severity) -> Self {
        match severity {
            Severity::Minor => Self::Minor,
            Severity::Major => Self::Major,
            Severity::Critical => Self::Critical,
        }
    }

    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Maintenance => "maintenance",
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
        }
    }

    /// Statuspage's description of it.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Self::None => "All Systems Operational",
            Self::Maintenance => "Service Under Maintenance",
            Self::Minor => "Partially Degraded Service",
            Self::Major => "Partial System Outage",
            Self::Critical => "Major System Outage",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_indicator_is_the_worst_of_services_and_open_incidents() {
        assert_eq!(Snapshot::default().indicator(), Indicator::None);
        let order = [Indicator::None, Indicator::Maintenance, Indicator::Minor, Indicator::Major, Indicator::Critical];
        assert!(order.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Indicator::of_service(ServiceStatus::Degraded), Indicator::Minor);
        assert_eq!(Indicator::of_service(ServiceStatus::MajorOutage), Indicator::Critical);
        assert_eq!(Indicator::of_severity(Severity::Major), Indicator::Major);
        assert_eq!(Indicator::Maintenance.description(), "Service Under Maintenance");
    }
}
