//! Incidents and maintenance as use cases: typed commands in, typed results and [`Changes`]
//! out, the actor and the time as arguments. The HTTP API, the scheduler (maintenance
//! automation) and incoming webhooks all declare, update and remove events through these
//! functions, inside their own transaction, and write what follows from the [`Changes`]
//! (audit rows, notifications, the public snapshot) in that same transaction.
//!
//! ```text
//! transaction(db, |db| {
//!     let declared = events::declare(db, &actor, now, command)?;
//!     audit::record(db, &origin, declared.audit())?;
//!     Ok(declared.event)
//! })
//! ```

mod changes;
mod command;
mod declare;
mod remove;
mod update;

pub use changes::{Changes, EffectiveChange, SetChange, Transition};
pub use command::{
    AffectedInput, EventKind, EventUpdateCommand, MaintenanceWindow, NewEvent, TemplateRef, TemplateUse, status_for,
};
pub use declare::{Declared, declare};
pub use remove::{Removed, remove};
pub use update::{Updated, apply_update};

use uuid::Uuid;

use crate::db::Db;
use crate::domain::{Event, EventWithTimeline};
use crate::error::Error;
use crate::repo::events;

/// Event `id` with its timeline (newest first).
///
/// # Errors
/// 404 for an unknown event.
pub fn find(db: &dyn Db, id: Uuid) -> Result<EventWithTimeline, Error> {
    let event = events::find_event(db, id)?.ok_or_else(|| not_found(id))?;
    Ok(EventWithTimeline { updates: events::list_updates(db, id)?, event })
}

/// Event `id`, locked until the transaction ends.
fn locked(db: &dyn Db, id: Uuid) -> Result<Event, Error> {
    events::lock_event(db, id)?;
    events::find_event(db, id)?.ok_or_else(|| not_found(id))
}

fn not_found(id: Uuid) -> Error {
    Error::NotFound(format!("no event has id {id}"))
}
