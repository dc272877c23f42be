//! Updating an event: a timeline entry, perhaps a new status, perhaps changes of the affected
//! set.

use time::OffsetDateTime;
use uuid::Uuid;

use super::changes::{
    Changes, SetChange, Transition, log_effective_changes, log_reason, record_set_changes, resolve_affected,
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
/// concurrent update cannot close it between the check and the write). Call it inside a
/// transaction.
///
/// # Errors
/// 404 for an unknown event; 409 `event_closed` once it is resolved or completed; 400 for a
/// status of the other type, services that are not affected (`service_updates`,
/// `remove_service_ids`), unknown services or groups to add.
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
    let mut set = Vec::new();
    for (service, service_status) in
        added.iter().map(|(s, st)| (*s, *st)).chain(command.service_updates.iter().copied())
    {
        match events::upsert_affected(db, id, service, service_status)? {
            None => set.push(SetChange { service, kind: ChangeKind::Added, from: None, to: Some(service_status) }),
            Some(old) if old != service_status => set.push(SetChange {
                service,
                kind: ChangeKind::StatusChanged,
                from: Some(old),
                to: Some(service_status),
            }),
            Some(_) => {}
        }
    }
    for service in &command.remove_service_ids {
        if let Some(old) = events::remove_affected(db, id, *service)? {
            set.push(SetChange { service: *service, kind: ChangeKind::Removed, from: Some(old), to: None });
        }
    }
    record_set_changes(db, id, update_id, &set, now)?;
    let reason = log_reason(current.event_type, &current.title, status);
    let effective = log_effective_changes(db, &before, &reason, actor, now)?;
    let changes = Changes {
        event_id: id,
        event_type: current.event_type,
        update_id,
        at: now,
        actor: actor.clone(),
        status: Transition { before: Some(current.status), after: status },
        affected: set,
        effective,
        notify_subscribers: command.notify_subscribers,
    };
    Ok(Updated { event: find(db, id)?, changes })
}

/// `service_updates` and `remove_service_ids` may only name services the event affects.
fn check_affected(command: &EventUpdateCommand, affected: &[Uuid]) -> Result<(), Error> {
    let mut errors = Vec::new();
    for (i, (service, _)) in command.service_updates.iter().enumerate() {
        if !affected.contains(service) {
            errors.push(FieldError::new(format!("service_updates[{i}].service_id"), "is not affected by this event"));
        }
    }
    for (i, service) in command.remove_service_ids.iter().enumerate() {
        if !affected.contains(service) {
            errors.push(FieldError::new(format!("remove_service_ids[{i}]"), "is not affected by this event"));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Invalid(errors)) }
}
