//! What callers ask of the event use cases: commands built by the HTTP API's parsers, the
//! scheduler and incoming webhooks alike. Invariants a command can carry by construction, it
//! does ([`MaintenanceWindow`], [`EventKind`]); the rest the use cases check.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{Automation, EventStatus, EventType, ServiceStatus, Severity, Title};

/// A maintenance window: `start` strictly before `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaintenanceWindow {
    start: OffsetDateTime,
    end: OffsetDateTime,
}

impl MaintenanceWindow {
    /// A window from `start` to `end`.
    ///
    /// # Errors
    /// `must be after scheduled_start_at` when it does not end after it starts.
    pub fn new(start: OffsetDateTime, end: OffsetDateTime) -> Result<Self, String> {
        if start < end { Ok(Self { start, end }) } else { Err("must be after scheduled_start_at".into()) }
    }

    /// When it starts.
    #[must_use]
    pub fn start(self) -> OffsetDateTime {
        self.start
    }

    /// When it ends.
    #[must_use]
    pub fn end(self) -> OffsetDateTime {
        self.end
    }
}

/// What kind of event, with what that kind requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Something broke; how badly.
    Incident {
        /// Required for incidents.
        severity: Severity,
    },
    /// Planned work in a window.
    Maintenance {
        /// Required for maintenance.
        window: MaintenanceWindow,
        /// How the scheduler moves it through its window.
        automation: Automation,
    },
}

impl EventKind {
    /// Its type.
    #[must_use]
    pub fn event_type(self) -> EventType {
        match self {
            Self::Incident { .. } => EventType::Incident,
            Self::Maintenance { .. } => EventType::Maintenance,
        }
    }
}

/// Services (and the groups that expand to their services) with the status each has in an
/// event. An explicit service wins over its group's status.
///
/// The old service's `service_ids` (without statuses) are services at the status its
/// severity implies ([`status_for`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AffectedInput {
    /// `[(service, status)]`.
    pub services: Vec<(Uuid, ServiceStatus)>,
    /// `[(group, status)]`: the group's live services at this moment.
    pub groups: Vec<(Uuid, ServiceStatus)>,
}

/// The status a service named without one gets in an event of `kind` (the old service's
/// back-fill: minor → degraded, major → partial outage, critical → major outage, maintenance →
/// maintenance).
#[must_use]
pub fn status_for(kind: EventKind) -> ServiceStatus {
    match kind {
        EventKind::Incident { severity: Severity::Minor } => ServiceStatus::Degraded,
        EventKind::Incident { severity: Severity::Major } => ServiceStatus::PartialOutage,
        EventKind::Incident { severity: Severity::Critical } => ServiceStatus::MajorOutage,
        EventKind::Maintenance { .. } => ServiceStatus::Maintenance,
    }
}

impl AffectedInput {
    /// Whether it names nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.services.is_empty() && self.groups.is_empty()
    }
}

/// Which template: by slug, or by id (as the old service's `template_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateRef {
    /// `template_slug`.
    Slug(String),
    /// `template_id`.
    Id(Uuid),
}

/// A template to render the title and description from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateUse {
    /// The template.
    pub reference: TemplateRef,
    /// Values of the caller-supplied placeholders.
    pub variables: BTreeMap<String, String>,
}

/// Declare an incident or plan maintenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Kind, with severity or window.
    pub kind: EventKind,
    /// First status (one of the kind's).
    pub status: EventStatus,
    /// Title; `None` when a template renders it.
    pub title: Option<Title>,
    /// Description; `None`: the template's body, or empty.
    pub description: Option<String>,
    /// Text of the first timeline entry; `None`: the description, else the title.
    pub message: Option<String>,
    /// Whether subscribers are told.
    pub notify_subscribers: bool,
    /// A past start (backdating); `None`: now.
    pub started_at: Option<OffsetDateTime>,
    /// When it closed, for an event declared resolved or completed (backfilling); `None`: its
    /// start.
    pub resolved_at: Option<OffsetDateTime>,
    /// What it affects.
    pub affected: AffectedInput,
    /// A template for title and description (explicit ones win).
    pub template: Option<TemplateUse>,
}

/// Post an update: a timeline entry, maybe a new status, maybe changes of the affected set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventUpdateCommand {
    /// A new status (of the event's type); `None`: unchanged.
    pub status: Option<EventStatus>,
    /// What is said.
    pub message: String,
    /// Whether subscribers are told.
    pub notify_subscribers: bool,
    /// A past time for the entry (backdating); `None`: now.
    pub at: Option<OffsetDateTime>,
    /// New statuses of services already affected.
    pub service_updates: Vec<(Uuid, ServiceStatus)>,
    /// Services and groups to add; a service already affected keeps its status (change it with
    /// `service_updates`).
    pub add: AffectedInput,
    /// Services to remove (one the event does not affect is ignored, as the old service did).
    pub remove_service_ids: Vec<Uuid>,
    /// Why the affected set changes (recorded with each change).
    pub reason: Option<String>,
}
