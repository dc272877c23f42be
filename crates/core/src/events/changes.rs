//! What an event write changed ([`Changes`]), and the steps every write shares: resolving the
//! affected set, recording its changes, and logging the effective statuses that moved.

use std::collections::{BTreeMap, HashMap};

use time::OffsetDateTime;
use uuid::Uuid;

use super::command::AffectedInput;
use crate::actor::Actor;
use crate::db::Db;
use crate::domain::{ChangeKind, EventStatus, EventType, ServiceStatus, StatusSource};
use crate::error::{Error, FieldError};
use crate::repo::events::{self, NewChangeRow};
use crate::repo::memberships::{self, Side};
use crate::repo::services::{self, StatusChange};

/// The event's status before and after a write (`before` is `None` for a new event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// Before.
    pub before: Option<EventStatus>,
    /// After.
    pub after: EventStatus,
}

impl Transition {
    /// Whether the status changed (a new event always "changes" into its first status).
    #[must_use]
    pub fn changed(self) -> bool {
        self.before != Some(self.after)
    }

    /// Whether this write closed the event.
    #[must_use]
    pub fn closed(self) -> bool {
        self.changed() && self.after.is_terminal()
    }
}

/// A service whose effective (public) status moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveChange {
    /// The service.
    pub service: Uuid,
    /// Before the write.
    pub before: ServiceStatus,
    /// After it.
    pub after: ServiceStatus,
}

/// A change of one service in the affected set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetChange {
    /// The service.
    pub service: Uuid,
    /// The group it came with, when it joined through a group.
    pub group: Option<Uuid>,
    /// What happened.
    pub kind: ChangeKind,
    /// Its status in the event before (none when added).
    pub from: Option<ServiceStatus>,
    /// After (none when removed).
    pub to: Option<ServiceStatus>,
}

/// Everything one event write changed: what the notification outbox, the public snapshot and
/// the audit log are written from, by the caller, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// The event.
    pub event_id: Uuid,
    /// Its type.
    pub event_type: EventType,
    /// The timeline entry the write made.
    pub update_id: Uuid,
    /// When the write happened.
    pub at: OffsetDateTime,
    /// Who made it.
    pub actor: Actor,
    /// The event's status.
    pub status: Transition,
    /// The affected set's changes, in the order made.
    pub affected: Vec<SetChange>,
    /// Services whose effective status moved.
    pub effective: Vec<EffectiveChange>,
    /// Whether the author asked for subscribers to be told.
    pub notify_subscribers: bool,
}

impl Changes {
    /// Services that joined the event.
    pub fn added(&self) -> impl Iterator<Item = &SetChange> {
        self.affected.iter().filter(|c| c.kind == ChangeKind::Added)
    }

    /// Services that left the event.
    pub fn removed(&self) -> impl Iterator<Item = &SetChange> {
        self.affected.iter().filter(|c| c.kind == ChangeKind::Removed)
    }
}

/// A service to affect, its status, and the group it comes with (none when named explicitly).
pub(super) type Affected = BTreeMap<Uuid, (ServiceStatus, Option<Uuid>)>;

/// Services of `input` plus the live services of its groups at this moment; an explicit
/// service wins over its group's status.
///
/// # Errors
/// 400 on `service_field` / `group_field` for unknown or archived ids.
pub(super) fn resolve_affected(
    db: &dyn Db,
    input: &AffectedInput,
    (service_field, group_field): (&str, &str),
) -> Result<Affected, Error> {
    let mut errors = Vec::new();
    let service_ids: Vec<Uuid> = input.services.iter().map(|(id, _)| *id).collect();
    let missing = memberships::missing(db, Side::Services, &service_ids)?;
    if !missing.is_empty() {
        errors.push(FieldError::new(service_field, format!("unknown or archived services: {}", join(&missing))));
    }
    let group_ids: Vec<Uuid> = input.groups.iter().map(|(id, _)| *id).collect();
    let missing = memberships::missing(db, Side::Groups, &group_ids)?;
    if !missing.is_empty() {
        errors.push(FieldError::new(group_field, format!("unknown or archived groups: {}", join(&missing))));
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let group_status: HashMap<Uuid, ServiceStatus> = input.groups.iter().copied().collect();
    let mut affected = BTreeMap::new();
    for (group, service) in events::group_members(db, &group_ids)? {
        if let Some(status) = group_status.get(&group) {
            affected.insert(service, (*status, Some(group)));
        }
    }
    affected.extend(input.services.iter().map(|(service, status)| (*service, (*status, None))));
    Ok(affected)
}

fn join(ids: &[Uuid]) -> String {
    ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(", ")
}

/// Adds `services` (with their status and the group they come with) to event `event`;
/// answers the additions.
pub(super) fn add_services<'a>(
    db: &dyn Db,
    event: Uuid,
    services: impl Iterator<Item = (&'a Uuid, &'a (ServiceStatus, Option<Uuid>))>,
) -> Result<Vec<SetChange>, Error> {
    let mut added = Vec::new();
    for (service, (status, group)) in services {
        events::upsert_affected(db, event, *service, *status)?;
        added.push(SetChange {
            service: *service,
            group: *group,
            kind: ChangeKind::Added,
            from: None,
            to: Some(*status),
        });
    }
    Ok(added)
}

/// Records the affected-set changes of timeline entry `update`, and the groups that brought
/// services in (`groups`, with the status they gave).
pub(super) fn record_set_changes(
    db: &dyn Db,
    (event, update): (Uuid, Uuid),
    changes: &[SetChange],
    groups: &[(Uuid, ServiceStatus)],
    (actor, reason, at): (&Actor, &str, OffsetDateTime),
) -> Result<(), Error> {
    for (group, status) in groups {
        events::upsert_event_group(db, event, *group, *status)?;
    }
    for change in changes {
        let row = NewChangeRow {
            event,
            update,
            kind: change.kind,
            service: change.service,
            from: change.from,
            to: change.to,
            group: change.group,
            reason,
            by: actor.id(),
            at,
        };
        events::insert_change(db, &row)?;
    }
    Ok(())
}

/// Compares the effective statuses of `before`'s services now with `before`, appends a
/// status-log entry (source `event`) for each that moved, and answers the moves.
pub(super) fn log_effective_changes(
    db: &dyn Db,
    event: Uuid,
    before: &HashMap<Uuid, ServiceStatus>,
    reason: &str,
    actor: &Actor,
    at: OffsetDateTime,
) -> Result<Vec<EffectiveChange>, Error> {
    let ids: Vec<Uuid> = before.keys().copied().collect();
    let after = events::effective_statuses(db, &ids)?;
    let mut moved: Vec<EffectiveChange> = before
        .iter()
        .filter_map(|(service, old)| {
            let new = after.get(service).filter(|new| *new != old)?;
            Some(EffectiveChange { service: *service, before: *old, after: *new })
        })
        .collect();
    moved.sort_by_key(|m| m.service);
    for m in &moved {
        let change = StatusChange {
            service: m.service,
            from: Some(m.before),
            to: m.after,
            source: StatusSource::Event,
            reason,
            actor: actor.id(),
            event: Some(event),
            at,
        };
        services::log_status_change(db, &change)?;
    }
    Ok(moved)
}

/// The status-log reason of an event write: `incident "API errors": resolved`.
pub(super) fn log_reason(event_type: EventType, title: &str, status: EventStatus) -> String {
    format!("{} {:?}: {}", event_type.as_str(), title, status.as_str())
}
