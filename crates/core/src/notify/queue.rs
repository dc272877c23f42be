//! Queueing notifications in the event write's own transaction, from what the write
//! changed ([`Changes`]): one message per write, one delivery row per subscribed channel at that
//! moment (unique, so a retried write cannot queue twice), and, for webhook channels, one
//! `component_update` per service whose public status moved.

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::model::MessageKind;
use super::render::{EventFacts, UpdateFacts};
use crate::db::{Db, DbError};
use crate::domain::{Event, EventStatus, EventType, EventWithTimeline};
use crate::events::Changes;
use crate::repo::outbox::{self, Audience};

/// What a write queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Queued {
    /// The message (none when the write asked not to notify).
    pub message: Option<Uuid>,
    /// Delivery rows queued (held ones for digests included).
    pub deliveries: i64,
}

/// The kind of message a write makes.
#[must_use]
pub fn kind_of(changes: &Changes) -> MessageKind {
    let (before, after) = (changes.status.before, changes.status.after);
    match changes.event_type {
        EventType::Incident if after.is_terminal() => MessageKind::IncidentResolved,
        EventType::Incident if before.is_none() => MessageKind::IncidentCreated,
        EventType::Incident => MessageKind::IncidentUpdated,
        EventType::Maintenance if after == EventStatus::Completed => MessageKind::MaintenanceCompleted,
        EventType::Maintenance if after == EventStatus::InProgress && before != Some(EventStatus::InProgress) => {
            MessageKind::MaintenanceStarted
        }
        EventType::Maintenance if before.is_none() => MessageKind::MaintenanceScheduled,
        EventType::Maintenance => MessageKind::MaintenanceUpdated,
    }
}

/// Queues what event write `changes` tells subscribers, for `event` as it is after the write.
///
/// # Errors
/// Database errors.
pub fn queue_event(
    db: &dyn Db,
    changes: &Changes,
    event: &EventWithTimeline,
    at: OffsetDateTime,
) -> Result<Queued, DbError> {
    if !changes.notify_subscribers {
        return Ok(Queued::default());
    }
    let kind = kind_of(changes);
    let update = event.updates.iter().find(|u| u.id == changes.update_id).map(|u| UpdateFacts {
        id: u.id,
        status: u.status,
        message: u.message.clone(),
        created_at: u.created_at,
    });
    let facts = EventFacts { event: event.event.clone(), update };
    let payload = serde_json::to_value(&facts).unwrap_or_default();
    let message = outbox::insert_message(db, kind, (Some(event.event.id), Some(changes.update_id)), payload, at)?;
    // Who hears: the services affected now, and those this write removed (they were affected
    // when it was written).
    let mut services: Vec<Uuid> = event.event.service_ids.clone();
    services.extend(changes.removed().map(|r| r.service));
    let mut deliveries = outbox::fan_out(db, message, kind, Audience::Services(&services), at)?;
    for moved in &changes.effective {
        let name = event.event.affected_services.iter().find(|a| a.service_id == moved.service).map(|a| a.name.clone());
        let name = match name {
            Some(name) => name,
            None => crate::repo::services::find_service(db, moved.service)?.map(|s| s.name).unwrap_or_default(),
        };
        let id = Uuid::new_v4();
        let payload = json!({
            "id": id, "service": { "id": moved.service, "name": name }, "event_id": event.event.id,
            "old_status": moved.before, "new_status": moved.after, "at": crate::time::format_rfc3339(at),
        });
        let component =
            outbox::insert_message(db, MessageKind::ComponentUpdate, (Some(event.event.id), None), payload, at)?;
        deliveries +=
            outbox::fan_out(db, component, MessageKind::ComponentUpdate, Audience::WebhooksOf(moved.service), at)?;
    }
    Ok(Queued { message: Some(message), deliveries })
}

/// Queues the cancellation of maintenance `event` (still scheduled), before its row goes.
///
/// # Errors
/// Database errors.
pub fn queue_cancellation(db: &dyn Db, event: &Event, at: OffsetDateTime) -> Result<Queued, DbError> {
    if !event.notify_subscribers {
        return Ok(Queued::default());
    }
    let facts = EventFacts { event: event.clone(), update: None };
    let payload = serde_json::to_value(&facts).unwrap_or_default();
    let kind = MessageKind::MaintenanceCancelled;
    // The event's row is deleted in the same transaction: the message keeps its facts only.
    let message = outbox::insert_message(db, kind, (None, None), payload, at)?;
    let deliveries = outbox::fan_out(db, message, kind, Audience::Services(&event.service_ids), at)?;
    Ok(Queued { message: Some(message), deliveries })
}

/// Queues the reminder that maintenance `event` (still scheduled) starts soon.
///
/// # Errors
/// Database errors.
pub fn queue_reminder(db: &dyn Db, event: &Event, at: OffsetDateTime) -> Result<Queued, DbError> {
    let facts = EventFacts { event: event.clone(), update: None };
    let payload = serde_json::to_value(&facts).unwrap_or_default();
    let kind = MessageKind::MaintenanceReminder;
    let message = outbox::insert_message(db, kind, (Some(event.id), None), payload, at)?;
    let deliveries = outbox::fan_out(db, message, kind, Audience::Services(&event.service_ids), at)?;
    Ok(Queued { message: Some(message), deliveries })
}
