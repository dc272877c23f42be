//! Incidents and maintenance: types, statuses, severities, and the typed event
//! model the repositories return ([`Event`], [`EventUpdate`], [`EventChange`]).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ServiceStatus;

/// What kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// Something broke.
    Incident,
    /// Planned work.
    Maintenance,
}

impl EventType {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incident => "incident",
            Self::Maintenance => "maintenance",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// A message listing the types.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "incident" => Ok(Self::Incident),
            "maintenance" => Ok(Self::Maintenance),
            _ => Err("must be incident or maintenance".into()),
        }
    }

    /// Its statuses, in lifecycle order.
    #[must_use]
    pub fn statuses(self) -> &'static [EventStatus] {
        use EventStatus::*;
        match self {
            Self::Incident => &[Investigating, Identified, Monitoring, Resolved],
            Self::Maintenance => &[Scheduled, InProgress, Completed],
        }
    }
}

/// An event's status; each belongs to one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Incident: looking into it.
    Investigating,
    /// Incident: cause known.
    Identified,
    /// Incident: fixed, watching.
    Monitoring,
    /// Incident: over (terminal).
    Resolved,
    /// Maintenance: planned.
    Scheduled,
    /// Maintenance: under way.
    InProgress,
    /// Maintenance: done (terminal).
    Completed,
}

impl EventStatus {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Investigating => "investigating",
            Self::Identified => "identified",
            Self::Monitoring => "monitoring",
            Self::Resolved => "resolved",
            Self::Scheduled => "scheduled",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
        }
    }

    /// Parses a status of `event_type`.
    ///
    /// # Errors
    /// A message naming the statuses of that type.
    pub fn parse(raw: &str, event_type: EventType) -> Result<Self, String> {
        let allowed = event_type.statuses();
        allowed.iter().copied().find(|s| s.as_str() == raw).ok_or_else(|| {
            let names: Vec<_> = allowed.iter().map(|s| s.as_str()).collect();
            format!("must be a status of an {}: {}", event_type.as_str(), names.join(", "))
        })
    }

    /// Parses a status of either type (the caller checks it fits its event).
    ///
    /// # Errors
    /// A message naming every status.
    pub fn parse_any(raw: &str) -> Result<Self, String> {
        let all = EventType::Incident.statuses().iter().chain(EventType::Maintenance.statuses());
        all.copied().find(|s| s.as_str() == raw).ok_or_else(|| {
            let names: Vec<_> = EventType::Incident
                .statuses()
                .iter()
                .chain(EventType::Maintenance.statuses())
                .map(|s| s.as_str())
                .collect();
            format!("must be an event status: {}", names.join(", "))
        })
    }

    /// Whether nothing may follow it.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Resolved | Self::Completed)
    }

    /// Whether an event in this status affects its services' effective status (an incident
    /// until resolved; maintenance only while in progress). The SQL function
    /// `event_is_active` of migration 0004 is the same rule.
    #[must_use]
    pub fn is_active(self) -> bool {
        matches!(self, Self::Investigating | Self::Identified | Self::Monitoring | Self::InProgress)
    }
}

/// How bad an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Few users, small impact.
    Minor,
    /// Many users or a key feature.
    Major,
    /// Everyone, everything.
    Critical,
}

impl Severity {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// A message listing the severities.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "minor" => Ok(Self::Minor),
            "major" => Ok(Self::Major),
            "critical" => Ok(Self::Critical),
            _ => Err("must be minor, major or critical".into()),
        }
    }
}

/// A service an event affects, and its status in that event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedService {
    /// The service.
    pub service_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its slug.
    pub slug: String,
    /// Its status in this event.
    pub status: ServiceStatus,
}

/// An incident or a maintenance, as the API shows it (its timeline apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Id.
    pub id: Uuid,
    /// Incident or maintenance.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Current status (of the type's statuses).
    pub status: EventStatus,
    /// Incidents only.
    pub severity: Option<Severity>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Whether subscribers are told of it.
    pub notify_subscribers: bool,
    /// Maintenance window start.
    #[serde(with = "crate::time::serde::option")]
    pub scheduled_start_at: Option<OffsetDateTime>,
    /// Maintenance window end.
    #[serde(with = "crate::time::serde::option")]
    pub scheduled_end_at: Option<OffsetDateTime>,
    /// Maintenance moves itself through its window (starts and completes by itself).
    pub auto_transition: bool,
    /// Maintenance starts by itself at `scheduled_start_at`.
    #[serde(default)]
    pub auto_start: bool,
    /// Maintenance completes by itself at `scheduled_end_at`.
    #[serde(default)]
    pub auto_complete: bool,
    /// Subscribers are reminded this many minutes before the start.
    #[serde(default)]
    pub remind_before_minutes: Option<i32>,
    /// When they were.
    #[serde(default, with = "crate::time::serde::option")]
    pub reminded_at: Option<OffsetDateTime>,
    /// When it started (the first open status).
    #[serde(with = "crate::time::serde::option")]
    pub started_at: Option<OffsetDateTime>,
    /// When it went to monitoring.
    #[serde(with = "crate::time::serde::option")]
    pub monitoring_at: Option<OffsetDateTime>,
    /// When it closed.
    #[serde(with = "crate::time::serde::option")]
    pub resolved_at: Option<OffsetDateTime>,
    /// Author (user or API key).
    pub created_by: Option<Uuid>,
    /// Created.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
    /// Last changed.
    #[serde(with = "crate::time::serde")]
    pub updated_at: OffsetDateTime,
    /// The services it affects, by order then name.
    pub affected_services: Vec<AffectedService>,
    /// The ids of `affected_services` (the old service's field).
    pub service_ids: Vec<Uuid>,
    /// The groups it was declared or updated with (their services are in
    /// `affected_services`).
    pub group_ids: Vec<Uuid>,
    /// The template it was made from.
    pub template_id: Option<Uuid>,
}

impl Event {
    /// Whether it affects its services' effective status now.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.status.is_active()
    }
}

/// One entry of an event's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventUpdate {
    /// Id.
    pub id: Uuid,
    /// The event.
    pub event_id: Uuid,
    /// The event's status with this entry.
    pub status: EventStatus,
    /// What was said.
    pub message: String,
    /// Whether subscribers were told.
    pub notify_subscribers: bool,
    /// Author.
    pub created_by: Option<Uuid>,
    /// When (may be backdated).
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
}

/// An event with its timeline, newest entry first: what the API answers for one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventWithTimeline {
    /// The event.
    #[serde(flatten)]
    pub event: Event,
    /// Its timeline.
    pub updates: Vec<EventUpdate>,
}

/// What happened to a service in an event's affected set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// It joined the event.
    Added,
    /// It left the event.
    Removed,
    /// Its status in the event changed.
    StatusChanged,
}

impl ChangeKind {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::StatusChanged => "status_changed",
        }
    }
}

/// One recorded change of an event's affected set. It carries the old service's field names
/// beside ours (`batch_id` for `update_id`, `action` for `kind`), filled by the same SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventChange {
    /// Sequence number.
    pub id: i64,
    /// The event.
    pub event_id: Uuid,
    /// The timeline entry (create or update) it was part of.
    pub update_id: Option<Uuid>,
    /// What happened.
    pub kind: ChangeKind,
    /// The service.
    pub service_id: Uuid,
    /// The group it came with, when a group was added.
    pub group_id: Option<Uuid>,
    /// Its status before (none when added).
    pub from_status: Option<ServiceStatus>,
    /// Its status after (none when removed).
    pub to_status: Option<ServiceStatus>,
    /// Why (the update's `reason`).
    pub reason: String,
    /// Who.
    pub created_by: Option<Uuid>,
    /// `update_id` by its old name: one batch per create or update.
    pub batch_id: Option<Uuid>,
    /// `kind` by its old name (`added`, `removed`; `status_changed` is ours).
    pub action: ChangeKind,
    /// When.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
}

/// How planned maintenance runs itself: the scheduler starts it at `scheduled_start_at`,
/// completes it at `scheduled_end_at`, and reminds subscribers some minutes before the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Automation {
    /// Starts by itself.
    pub auto_start: bool,
    /// Completes by itself.
    pub auto_complete: bool,
    /// Minutes before the start to remind subscribers (1 to 10,080, a week); none for no
    /// reminder.
    pub remind_before_minutes: Option<i32>,
}

impl Automation {
    /// The longest reminder lead: a week.
    pub const MAX_REMIND_BEFORE_MINUTES: i32 = 10_080;

    /// Starts and completes by itself, no reminder (the default).
    pub const ON: Self = Self { auto_start: true, auto_complete: true, remind_before_minutes: None };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_belong_to_one_type_and_the_last_is_terminal() {
        for event_type in [EventType::Incident, EventType::Maintenance] {
            let statuses = event_type.statuses();
            for (i, status) in statuses.iter().enumerate() {
                assert_eq!(EventStatus::parse(status.as_str(), event_type), Ok(*status));
                assert_eq!(status.is_terminal(), i == statuses.len() - 1, "{status:?}");
            }
        }
        assert!(EventStatus::parse("in_progress", EventType::Incident).is_err());
        let active: Vec<_> = [EventType::Incident, EventType::Maintenance]
            .iter()
            .flat_map(|t| t.statuses().iter().filter(|s| s.is_active()))
            .collect();
        assert_eq!(
            active,
            [&EventStatus::Investigating, &EventStatus::Identified, &EventStatus::Monitoring, &EventStatus::InProgress],
            "scheduled maintenance affects nothing yet"
        );
        let message = EventStatus::parse("resolved", EventType::Maintenance).expect_err("not a maintenance status");
        assert!(message.contains("scheduled, in_progress, completed"), "{message}");
    }
}
