//! Maintenance that runs itself: at each tick, the reminders that are due go out, then
//! every scheduled window whose start has come starts (`auto_start`), then every started window
//! whose end has come completes (`auto_complete`), each through [`events::apply_update`] with
//! the scheduler as the actor, its timeline entry dated at the scheduled time, its audit row, and
//! its notifications (when the event notifies) queued in the same transaction.
//!
//! Every step locks its event and looks again before acting, so two ticks that overlap do each
//! step once; a tick that was missed is caught up on by the next (everything due by then is
//! done, in order: a window missed entirely is started and then completed, with both notices).
//! Times are UTC instants, so a window across a daylight-saving change anywhere lasts exactly
//! what its two instants say.

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::actor::Actor;
use crate::audit::{self, Entry, Origin};
use crate::db::{Db, transaction};
use crate::domain::{Event, EventStatus, EventType};
use crate::error::Error;
use crate::events::{self, EventUpdateCommand};
use crate::notify::queue;
use crate::repo::events as repo;

/// What a tick did to maintenance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MaintenanceReport {
    /// Reminders sent (queued).
    pub reminded: usize,
    /// Windows started.
    pub started: usize,
    /// Windows completed.
    pub completed: usize,
    /// Deliveries queued by all of it.
    pub deliveries: i64,
}

/// The timeline entry of an automatic start.
pub const STARTED_MESSAGE: &str = "Maintenance has started as scheduled.";
/// The timeline entry of an automatic completion.
pub const COMPLETED_MESSAGE: &str = "Maintenance is complete as scheduled.";

/// One step of a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Remind,
    Start,
    Complete,
}

/// Does what is due at `at`, in the order it fell due: a tick that comes after several steps
/// were due (a missed tick, a whole missed window) does them as they would have been done.
///
/// # Errors
/// Database errors (the steps done before the error stand).
pub fn run(db: &dyn Db, at: OffsetDateTime) -> Result<MaintenanceReport, Error> {
    let mut report = MaintenanceReport::default();
    for due in repo::due_maintenance_steps(db, at)? {
        let step = match due.step.as_str() {
            "remind" => Step::Remind,
            "start" => Step::Start,
            _ => Step::Complete,
        };
        let Some(queued) = transaction(db, |db| act(db, step, due.id, at))? else { continue };
        report.deliveries += queued;
        match step {
            Step::Remind => report.reminded += 1,
            Step::Start => report.started += 1,
            Step::Complete => report.completed += 1,
        }
    }
    Ok(report)
}

/// Whether `step` is still due for `event` at `at` (looked at again under the event's lock).
fn still_due(step: Step, event: &Event, at: OffsetDateTime) -> bool {
    let (Some(start), Some(end)) = (event.scheduled_start_at, event.scheduled_end_at) else { return false };
    event.event_type == EventType::Maintenance
        && match step {
            Step::Remind => {
                let lead = time::Duration::minutes(i64::from(event.remind_before_minutes.unwrap_or(0)));
                event.status == EventStatus::Scheduled
                    && event.reminded_at.is_none()
                    && event.remind_before_minutes.is_some()
                    && start - lead <= at
                    && at < start
            }
            Step::Start => event.status == EventStatus::Scheduled && event.auto_start && start <= at,
            Step::Complete => event.status == EventStatus::InProgress && event.auto_complete && end <= at,
        }
}

/// Does `step` for event `id` at `at` unless it is no longer due; answers the deliveries it
/// queued, or `None` when it did nothing.
fn act(db: &dyn Db, step: Step, id: Uuid, at: OffsetDateTime) -> Result<Option<i64>, Error> {
    repo::lock_event(db, id)?;
    let Some(event) = repo::find_event(db, id)?.filter(|e| still_due(step, e, at)) else { return Ok(None) };
    let origin = Origin::scheduler(at);
    if step == Step::Remind {
        repo::set_reminded(db, id, at)?;
        let queued = if event.notify_subscribers { queue::queue_reminder(db, &event, at)?.deliveries } else { 0 };
        audit::record(
            db,
            &origin,
            Entry::new("event.remind", "event", id).after(serde_json::json!({ "deliveries": queued })),
        )?;
        return Ok(Some(queued));
    }
    let (status, message, when) = match step {
        Step::Start => (EventStatus::InProgress, STARTED_MESSAGE, event.scheduled_start_at),
        _ => (EventStatus::Completed, COMPLETED_MESSAGE, event.scheduled_end_at),
    };
    let command = EventUpdateCommand {
        status: Some(status),
        message: message.to_owned(),
        notify_subscribers: event.notify_subscribers,
        // Dated when it was due: a tick that comes late (or catches up) does not move the
        // window in the timeline.
        at: when.map(|w| w.min(at)),
        ..EventUpdateCommand::default()
    };
    let updated = events::apply_update(db, &Actor::Scheduler, at, id, command)?;
    let queued = queue::queue_event(db, &updated.changes, &updated.event, at)?;
    audit::record(db, &origin, updated.audit())?;
    Ok(Some(queued.deliveries))
}
