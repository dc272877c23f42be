//! A delivery of alerts, applied: firing alerts open an incident on the services their labels
//! map to, or join (and widen) the integration's open incident; the last alert to clear
//! resolves it, unless a person has posted on it (then it stays open for them, and its timeline
//! says the alerts cleared). An alert delivered again in the state it was in changes nothing.
//! Everything goes through the event use cases with the integration as the actor, with audit
//! rows and notifications in the caller's transaction.

use serde::Serialize;
use uuid::Uuid;

use super::integration::Integration;
use super::payload::{Alert, AlertState};
use crate::actor::Actor;
use crate::audit::{self, Entry, Origin};
use crate::db::Db;
use crate::domain::{EventStatus, EventWithTimeline, Title};
use crate::error::{Error, FieldError};
use crate::events::{self, AffectedInput, Changes, EventKind, EventUpdateCommand, NewEvent};
use crate::notify::queue;
use crate::repo::integrations as repo;

/// What a delivery did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Received {
    /// Incidents it opened.
    pub opened: Vec<Uuid>,
    /// Incidents it updated (joined, widened, narrowed, resolved or handed over).
    pub updated: Vec<Uuid>,
    /// Incidents it resolved.
    pub resolved: Vec<Uuid>,
    /// Alerts that were in the state delivered already (or resolved alerts never seen firing).
    pub unchanged: usize,
    /// Notifications queued.
    #[serde(skip)]
    pub deliveries: i64,
}

/// A live service an alert maps to.
#[derive(Debug, Clone)]
struct Target {
    id: Uuid,
    name: String,
}

/// Applies `alerts` from `integration` (inside a transaction; the integration is locked until it
/// ends, so its deliveries apply one after the other).
///
/// # Errors
/// 400 naming each firing alert whose labels name no live service (when the integration has no
/// fallback), before anything changes; database errors.
pub fn receive(db: &dyn Db, integration: &Integration, alerts: &[Alert], origin: &Origin) -> Result<Received, Error> {
    repo::lock(db, integration.id)?;
    let targets = targets(db, integration, alerts)?;
    let origin = origin.as_actor(Actor::Integration { id: integration.id, name: integration.name.clone() });
    let mut received = Received::default();
    for (alert, target) in alerts.iter().zip(targets) {
        let seen = repo::find_alert(db, integration.id, &alert.fingerprint)?;
        let was_firing = seen.as_ref().is_some_and(|s| s.status == AlertState::Firing.as_str());
        match (alert.state, target, seen) {
            (AlertState::Firing, Some(target), _) if !was_firing => {
                fire(db, integration, alert, &target, &origin, &mut received)?;
            }
            (AlertState::Resolved, _, Some(seen)) if was_firing => {
                clear(db, integration, alert, &seen, &origin, &mut received)?;
            }
            _ => received.unchanged += 1,
        }
    }
    Ok(received)
}

/// The service of each alert (firing ones must have one).
fn targets(db: &dyn Db, integration: &Integration, alerts: &[Alert]) -> Result<Vec<Option<Target>>, Error> {
    let slugs: Vec<String> = alerts.iter().filter_map(|a| a.labels.get(&integration.service_label).cloned()).collect();
    let known = repo::services_by_slug(db, &slugs)?;
    let fallback = match integration.fallback_service_id {
        Some(id) => repo::service_name(db, id)?.map(|name| Target { id, name }),
        None => None,
    };
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(alerts.len());
    for (i, alert) in alerts.iter().enumerate() {
        let label = alert.labels.get(&integration.service_label);
        let target = label
            .and_then(|slug| known.get(slug))
            .map(|(id, name)| Target { id: *id, name: name.clone() })
            .or_else(|| fallback.clone());
        if target.is_none() && alert.state == AlertState::Firing {
            let field = format!("alerts[{i}].labels.{}", integration.service_label);
            errors.push(FieldError::new(
                field,
                match label {
                    Some(slug) => {
                        format!("no live service has the slug {slug:?}, and the integration has no fallback service")
                    }
                    None => "is missing, and the integration has no fallback service".to_owned(),
                },
            ));
        }
        out.push(target);
    }
    if errors.is_empty() { Ok(out) } else { Err(Error::Invalid(errors)) }
}

/// Writes what follows an event write: its notifications and its audit row.
fn follow(
    db: &dyn Db,
    origin: &Origin,
    (changes, event, entry): (&Changes, &EventWithTimeline, Entry),
    received: &mut Received,
) -> Result<(), Error> {
    received.deliveries += queue::queue_event(db, changes, event, origin.at)?.deliveries;
    audit::record(db, origin, entry)?;
    if !received.opened.contains(&event.event.id) && !received.updated.contains(&event.event.id) {
        received.updated.push(event.event.id);
    }
    Ok(())
}

fn fire(
    db: &dyn Db,
    integration: &Integration,
    alert: &Alert,
    target: &Target,
    origin: &Origin,
    received: &mut Received,
) -> Result<(), Error> {
    let rule = integration.rule_for(alert);
    let title = integration.title_for(alert, &target.name);
    let event_id = match repo::open_incident(db, integration.id)? {
        None => {
            let command = NewEvent {
                kind: EventKind::Incident { severity: rule.severity },
                status: EventStatus::Investigating,
                title: Some(Title::parse(&title).map_err(|m| Error::invalid("title_template", m))?),
                description: Some(alert.summary()),
                message: Some(format!("{} is firing: {}", alert_name(alert), alert.summary())),
                notify_subscribers: integration.notify_subscribers,
                started_at: None,
                resolved_at: None,
                affected: AffectedInput { services: vec![(target.id, rule.status)], groups: Vec::new() },
                template: None,
            };
            let declared = events::declare(db, &origin.actor, origin.at, command)?;
            repo::set_event_integration(db, declared.changes.event_id, integration.id)?;
            received.opened.push(declared.changes.event_id);
            follow(db, origin, (&declared.changes, &declared.event, declared.audit()), received)?;
            declared.changes.event_id
        }
        Some(open) => {
            let affected = events::find(db, open)?.event.service_ids.contains(&target.id);
            let command = if affected {
                // Another alert on a service the incident has: said in the timeline, quietly.
                EventUpdateCommand {
                    message: format!("Also firing: {}: {}", alert_name(alert), alert.summary()),
                    ..EventUpdateCommand::default()
                }
            } else {
                EventUpdateCommand {
                    message: format!(
                        "{} is affected: {} is firing: {}",
                        target.name,
                        alert_name(alert),
                        alert.summary()
                    ),
                    notify_subscribers: integration.notify_subscribers,
                    add: AffectedInput { services: vec![(target.id, rule.status)], groups: Vec::new() },
                    ..EventUpdateCommand::default()
                }
            };
            let updated = events::apply_update(db, &origin.actor, origin.at, open, command)?;
            follow(db, origin, (&updated.changes, &updated.event, updated.audit()), received)?;
            open
        }
    };
    repo::record_alert(
        db,
        (integration.id, &alert.fingerprint),
        (AlertState::Firing.as_str(), target.id, Some(event_id)),
        &title,
        origin.at,
    )
    .map_err(Error::from)
}

fn clear(
    db: &dyn Db,
    integration: &Integration,
    alert: &Alert,
    seen: &repo::SeenAlert,
    origin: &Origin,
    received: &mut Received,
) -> Result<(), Error> {
    repo::record_alert(
        db,
        (integration.id, &alert.fingerprint),
        (AlertState::Resolved.as_str(), seen.service_id, seen.event_id),
        &alert_name(alert),
        origin.at,
    )?;
    let Some(event_id) = seen.event_id else { return Ok(()) };
    if events::find(db, event_id)?.event.status.is_terminal() {
        // Closed by a person already: nothing to say.
        return Ok(());
    }
    let still_firing = repo::firing_services(db, event_id)?;
    let service = repo::service_name(db, seen.service_id)?.unwrap_or_else(|| "a service".to_owned());
    let command = if still_firing.is_empty() && repo::human_took_over(db, event_id)? {
        EventUpdateCommand {
            message:
                "All alerts have cleared. A person has taken this incident over, so it stays open for them to resolve."
                    .to_owned(),
            ..EventUpdateCommand::default()
        }
    } else if still_firing.is_empty() {
        EventUpdateCommand {
            status: Some(EventStatus::Resolved),
            message: "All alerts have cleared.".to_owned(),
            notify_subscribers: integration.notify_subscribers,
            ..EventUpdateCommand::default()
        }
    } else if !still_firing.contains(&seen.service_id) {
        EventUpdateCommand {
            message: format!("The alerts on {service} have cleared."),
            notify_subscribers: integration.notify_subscribers,
            remove_service_ids: vec![seen.service_id],
            ..EventUpdateCommand::default()
        }
    } else {
        EventUpdateCommand { message: format!("Cleared: {}", alert_name(alert)), ..EventUpdateCommand::default() }
    };
    let resolves = command.status == Some(EventStatus::Resolved);
    let updated = events::apply_update(db, &origin.actor, origin.at, event_id, command)?;
    if resolves {
        received.resolved.push(event_id);
    }
    follow(db, origin, (&updated.changes, &updated.event, updated.audit()), received)
}

fn alert_name(alert: &Alert) -> String {
    alert.labels.get("alertname").cloned().unwrap_or_else(|| format!("Alert {}", alert.fingerprint))
}
