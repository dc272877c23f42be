//! Deleting closed events and cancelling maintenance that has not started.

use time::OffsetDateTime;
use uuid::Uuid;

use super::locked;
use crate::actor::Actor;
use crate::audit::Entry;
use crate::db::Db;
use crate::domain::{Event, EventStatus};
use crate::error::Error;
use crate::repo::events;

/// A removed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// The event as it was.
    pub event: Event,
    /// Whether it was maintenance still scheduled (a cancellation) rather than a closed event.
    pub cancelled: bool,
}

impl Removed {
    /// The audit row.
    #[must_use]
    pub fn audit(&self) -> Entry {
        let action = if self.cancelled { "event.cancel" } else { "event.delete" };
        Entry::new(action, "event", self.event.id).before(&self.event)
    }
}

/// Deletes event `id`: a closed event, or maintenance still scheduled (which cancels it, and
/// keeps its window as cancelled for the maintenance calendar). Call it inside a transaction.
///
/// # Errors
/// 404 for an unknown event; 409 `event_open` for an open one.
pub fn remove(db: &dyn Db, _actor: &Actor, now: OffsetDateTime, id: Uuid) -> Result<Removed, Error> {
    let event = locked(db, id)?;
    let cancelled = event.status == EventStatus::Scheduled;
    if !event.status.is_terminal() && !cancelled {
        return Err(Error::conflict(
            "event_open",
            "only closed events, or maintenance still scheduled, can be deleted; close it first",
        ));
    }
    if cancelled {
        // Calendars that subscribed to the window learn of the cancellation from this.
        crate::repo::public::record_cancelled(db, id, now)?;
    }
    events::delete_event(db, id)?;
    Ok(Removed { event, cancelled })
}
