//! Updating an event: a timeline entry, perhaps a new status, perhaps changes of the affected
//! set.

use time::OffsetDateTime;
use uuid::Uuid;

use super::changes::{
    Affected, Changes, SetChange, Transition, add_services, log_effective_changes, log_reason, record_set_changes,
    resolve_affected,
};
use super::command::EventUpdateCommand;
use super::{find, locked};
use crate::actor::Actor;
use crate::audit::Entry;
use crate::db::Db;
use crate::domain::{ChangeKind, EventStatus, EventWithTimeline};
use crate::error::{Error, FieldError};
use crate::repo::events::{self, NewUpdateRow};

/// An updated event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updated {
    /// The event with its timeline.
    pub event: EventWithTimeline,
    /// What the write changed.
    pub changes: Changes,
}

impl Updated {
    /// The audit row of the update.
    #[must_use]
    pub fn audit(&self) -> Entry {
        Entry::new("event.update", "event", self.changes.event_id)
            .after(serde_json::json!({ "update_id": self.changes.update_id, "status": self.changes.status.after }))
    }
}

/// Applies `command` to event `id` as `actor` at `now`, under the event's row lock (so a
/// concurrent update cannot close it between the check and the write). Services added that the
/// event already affects keep their status (`service_updates` change it); removing one it does
/// not affect changes nothing. Closing the event sets the stored status of each of its
/// services that no other active event affects back to `operational`, as the old service did.
/// Call it inside a transaction.
///
/// # Errors
/// 404 for an unknown event; 409 `event_closed` once it is resolved or completed; 400 for a
/// status of the other type, `service_updates` of services that are not affected, unknown
/// services or groups to add.
pub fn apply_update(
    db: &dyn Db,
    actor: &Actor,
    now: OffsetDateTime,
    id: Uuid,
    command: EventUpdateCommand,
) -> Result<Updated, Error> {
    let current = locked(db, id)?;
    if current.status.is_terminal() {
        return Err(Error::conflict(
            "event_closed",
            format!("the event is {}; a closed event takes no updates", current.status.as_str()),
        ));
    }
    let status = match command.status {
        Some(status) => {
            EventStatus::parse(status.as_str(), current.event_type).map_err(|m| Error::invalid("status", m))?
        }
        None => current.status,
    };
    let affected_now: Vec<Uuid> = current.affected_services.iter().map(|a| a.service_id).collect();
    check_affected(&command, &affected_now)?;
    let added = resolve_affected(db, &command.add, ("add_services", "add_groups"))?;
    let mut touched = affected_now.clone();
    touched.extend(added.keys());
    let before = events::effective_statuses(db, &touched)?;
    let at = command.at.unwrap_or(now);
    let update = NewUpdateRow {
        event: id,
        status,
        message: &command.message,
        notify: command.notify_subscribers,
        by: actor.id(),
        at,
    };
    let update_id = events::insert_update(db, &update)?;
    if status == current.status {
        events::touch_event(db, id, now)?;
    } else {
        events::set_event_status(db, id, status, at, now)?;
    }
    let set = change_set(db, id, &command, &added, &affected_now)?;
    let reason = command.reason.as_deref().unwrap_or_default();
    record_set_changes(db, (id, update_id), &set, &command.add.groups, (actor, reason, now))?;
    let transition = Transition { before: Some(current.status), after: status };
    if transition.closed() {
        events::reset_services_of_closed_event(db, id, now)?;
    }
    let log = log_reason(current.event_type, &current.title, status);
    let effective = log_effective_changes(db, id, &before, &log, actor, now)?;
    let changes = Changes {
        event_id: id,
        event_type: current.event_type,
        update_id,
        at: now,
        actor: actor.clone(),
        status: transition,
        affected: set,
        effective,
        notify_subscribers: command.notify_subscribers,
    };
    Ok(Updated { event: find(db, id)?, changes })
}

/// Applies the affected-set part of `command`; answers what changed.
fn change_set(
    db: &dyn Db,
    id: Uuid,
    command: &EventUpdateCommand,
    added: &Affected,
    affected_now: &[Uuid],
) -> Result<Vec<SetChange>, Error> {
    let mut set = add_services(db, id, added.iter().filter(|(s, _)| !affected_now.contains(s)))?;
    for (service, status) in &command.service_updates {
        if let Some(old) = events::upsert_affected(db, id, *service, *status)?.filter(|old| old != status) {
            let restated = SetChange {
                service: *service,
                group: None,
                kind: ChangeKind::StatusChanged,
                from: Some(old),
                to: Some(*status),
            };
            set.push(restated);
        }
    }
    for service in &command.remove_service_ids {
        if let Some(old) = events::remove_affected(db, id, *service)? {
            set.push(SetChange {
                service: *service,
                group: None,
                kind: ChangeKind::Removed,
                from: Some(old),
                to: None,
            });
        }
    }
    Ok(set)
}

/// `service_updates` may only name services the event affects.
fn check_affected(command: &EventUpdateCommand, affected: &[Uuid]) -> Result<(), Error> {
    let errors: Vec<FieldError> = command
        .service_updates
        .iter()
        .enumerate()
        .filter(|(_, (service, _))| !affected.contains(service))
        .map(|(i, _)| FieldError::new(format!("service_updates[{i}].service_id"), "is not affected by this event"))
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(Error::Invalid(errors)) }
}
