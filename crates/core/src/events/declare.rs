//! Declaring an incident or planning maintenance.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use uuid::Uuid;

use super::changes::{
    Changes, Transition, add_services, log_effective_changes, log_reason, record_set_changes, resolve_affected,
};
use super::command::{EventKind, NewEvent, TemplateRef, TemplateUse};
use super::find;
use crate::actor::Actor;
use crate::audit::Entry;
use crate::db::Db;
use crate::domain::{Automation, EventStatus, EventType, EventWithTimeline, Severity, Title, template};
use crate::error::{Error, FieldError};
use crate::repo::events::{self, NewEventRow, NewUpdateRow};
use crate::repo::{groups, services, templates};

/// A declared event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The event with its first timeline entry.
    pub event: EventWithTimeline,
    /// What the write changed.
    pub changes: Changes,
}

impl Declared {
    /// The audit row of the declaration.
    #[must_use]
    pub fn audit(&self) -> Entry {
        Entry::new("event.create", "event", self.event.event.id).after(&self.event)
    }
}

/// Declares `command` as `actor` at `now`: stores the event, its affected services (groups
/// expanded to their live services now; an explicit service wins) and its first timeline
/// entry, records each addition, and logs the effective statuses that moved. Call it inside a
/// transaction; the caller writes the audit row, notifications and snapshot from the result.
///
/// # Errors
/// 400 for a status not of the kind, a missing title, unknown services or groups, a template
/// that does not exist, makes the other type or lacks variables.
pub fn declare(db: &dyn Db, actor: &Actor, now: OffsetDateTime, command: NewEvent) -> Result<Declared, Error> {
    let event_type = command.kind.event_type();
    EventStatus::parse(command.status.as_str(), event_type).map_err(|m| Error::invalid("status", m))?;
    let started = command.started_at.unwrap_or(now);
    if command.resolved_at.is_some() && !command.status.is_terminal() {
        return Err(Error::invalid("resolved_at", "applies to an event declared resolved or completed"));
    }
    let affected = resolve_affected(db, &command.affected, ("affected_services", "affected_groups"))?;
    let ids: Vec<Uuid> = affected.keys().copied().collect();
    let (title, description, template_id) = title_and_description(db, &command, &ids, started)?;
    let (severity, window, automation) = match command.kind {
        EventKind::Incident { severity } => (Some(severity), None, Automation::ON),
        EventKind::Maintenance { window, automation } => (None, Some((window.start(), window.end())), automation),
    };
    let row = NewEventRow {
        event_type,
        status: command.status,
        severity,
        title: &title,
        description: &description,
        notify_subscribers: command.notify_subscribers,
        window,
        automation,
        created_by: actor.id(),
        template_id,
    };
    let first_message = command
        .message
        .clone()
        .or_else(|| Some(description.clone()))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| title.clone());
    let before = events::effective_statuses(db, &ids)?;
    let id = events::insert_event(db, &row, now)?;
    if command.status != EventStatus::Scheduled {
        events::set_event_status(db, id, command.status, started, now)?;
    }
    if let Some(resolved) = command.resolved_at.filter(|_| command.status.is_terminal()) {
        events::set_resolved_at(db, id, resolved)?;
    }
    let update = NewUpdateRow {
        event: id,
        status: command.status,
        message: &first_message,
        notify: command.notify_subscribers,
        by: actor.id(),
        at: started,
    };
    let update_id = events::insert_update(db, &update)?;
    let set = add_services(db, id, affected.iter())?;
    record_set_changes(db, (id, update_id), &set, &command.affected.groups, (actor, "", now))?;
    let reason = log_reason(event_type, &title, command.status);
    let effective = log_effective_changes(db, id, &before, &reason, actor, now)?;
    let changes = Changes {
        event_id: id,
        event_type,
        update_id,
        at: now,
        actor: actor.clone(),
        status: Transition { before: None, after: command.status },
        affected: set,
        effective,
        notify_subscribers: command.notify_subscribers,
    };
    Ok(Declared { event: find(db, id)?, changes })
}

/// The title and description: the explicit ones, else rendered from the template; and the
/// template's id.
fn title_and_description(
    db: &dyn Db,
    command: &NewEvent,
    affected: &[Uuid],
    started: OffsetDateTime,
) -> Result<(String, String, Option<Uuid>), Error> {
    let explicit_title = command.title.as_ref().map(Title::as_str).map(str::to_owned);
    let Some(template) = &command.template else {
        let title = explicit_title.ok_or_else(|| Error::invalid("title", "is required"))?;
        return Ok((title, command.description.clone().unwrap_or_default(), None));
    };
    let (severity, window) = match command.kind {
        EventKind::Incident { severity } => (Some(severity), None),
        EventKind::Maintenance { window, .. } => (None, Some(window)),
    };
    let format = |t: Option<OffsetDateTime>| t.map(crate::time::format_rfc3339).unwrap_or_default();
    let derived = BTreeMap::from([
        ("service_names".to_owned(), services::service_names(db, affected)?.join(", ")),
        (
            "group_names".to_owned(),
            groups::group_names(db, &command.affected.groups.iter().map(|(g, _)| *g).collect::<Vec<_>>())?.join(", "),
        ),
        ("resolved_at".to_owned(), format(command.resolved_at.filter(|_| command.status.is_terminal()))),
        ("status".to_owned(), command.status.as_str().to_owned()),
        ("severity".to_owned(), severity.map(Severity::as_str).unwrap_or_default().to_owned()),
        ("started_at".to_owned(), crate::time::format_rfc3339(started)),
        ("scheduled_start_at".to_owned(), format(window.map(|w| w.start()))),
        ("scheduled_end_at".to_owned(), format(window.map(|w| w.end()))),
    ]);
    let (rendered_title, rendered_body, id) = render_template(db, template, command.kind.event_type(), derived)?;
    Ok((explicit_title.unwrap_or(rendered_title), command.description.clone().unwrap_or(rendered_body), Some(id)))
}

/// Renders `template` for an event of `event_type` with its variables and the values derived
/// from the event; answers the title, the body and the template's id.
fn render_template(
    db: &dyn Db,
    template: &TemplateUse,
    event_type: EventType,
    mut values: BTreeMap<String, String>,
) -> Result<(String, String, Uuid), Error> {
    let found = match &template.reference {
        TemplateRef::Slug(slug) => templates::find_template(db, slug)?
            .ok_or_else(|| Error::invalid("template_slug", format!("no template has the slug {slug:?}")))?,
        TemplateRef::Id(id) => templates::find_template_by_id(db, *id)?
            .ok_or_else(|| Error::invalid("template_id", format!("no template has id {id}")))?,
    };
    if found.event_type != event_type {
        return Err(Error::invalid("type", format!("the template makes {} events", found.event_type.as_str())));
    }
    values.extend(template.variables.iter().map(|(k, v)| (k.clone(), v.clone())));
    let (title, mut missing) = template::render(&found.title_template, &values);
    let (body, more) = template::render(&found.body_template, &values);
    missing.extend(more);
    missing.dedup();
    if !missing.is_empty() {
        let errors = missing
            .iter()
            .map(|name| FieldError::new(format!("variables.{name}"), "is required by the template"))
            .collect();
        return Err(Error::Invalid(errors));
    }
    let title = Title::parse(&title).map_err(|m| Error::invalid("title", format!("the rendered title {m}")))?;
    Ok((title.as_str().to_owned(), body.trim().to_owned(), found.id))
}
