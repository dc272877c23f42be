//! `/api/v1/events/*`: incidents and maintenance, their timeline, the services they
//! affect (and so the services' effective status), and the history of those changes. Writes
//! go through the [`crate::events`] use cases.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::api::parse::{self, Listing, affected_list, past_time, path_id, time_query, uuid_query};
use crate::app::Ctx;
use crate::auth::Action;
use crate::domain::{Automation, EventStatus, EventType, Severity, Title, bounded};
use crate::events::{
    self, AffectedInput, EventKind, EventUpdateCommand, MaintenanceWindow, NewEvent, TemplateRef, TemplateUse,
    status_for,
};
use crate::http::{ApiError, Body, FieldError, Request, Response, present};
use crate::notify;
use crate::repo::events::{self as repo, EventFilter, StatusFilter};

const MAX_TEXT: usize = 10_000;

fn text(body: &mut Body, field: &str) -> Option<String> {
    body.optional_str(field).and_then(|t| body.check(field, bounded(&t, MAX_TEXT)))
}

/// The template of a new event: `template_slug`, or the old service's `template_id`; its
/// `variables` only with a template, only supplied placeholders.
fn template_use(body: &mut Body) -> Option<TemplateUse> {
    let slug = body.optional_str("template_slug");
    let id = body
        .optional_str("template_id")
        .and_then(|raw| body.check("template_id", Uuid::parse_str(&raw).map_err(|_| "must be a UUID".into())));
    let reference = match (slug, id) {
        (Some(_), Some(_)) => {
            body.error("template_id", "give template_slug or template_id, not both");
            None
        }
        (Some(slug), None) => Some(TemplateRef::Slug(slug)),
        (None, Some(id)) => Some(TemplateRef::Id(id)),
        (None, None) => None,
    };
    let variables = match body.optional_string_map("variables") {
        Some(_) if reference.is_none() => {
            body.error("variables", "apply to a template_slug only");
            BTreeMap::new()
        }
        Some(map) => super::templates::check_variables(&map).unwrap_or_else(|(field, message)| {
            body.error(&field, message);
            BTreeMap::new()
        }),
        None => BTreeMap::new(),
    };
    reference.map(|reference| TemplateUse { reference, variables })
}

/// Fields of the event shape a client may send back unchanged.
const EVENT_READ_ONLY: &[&str] =
    &["id", "created_at", "updated_at", "created_by", "monitoring_at", "updates", "group_ids", "severity_label"];

/// How maintenance runs itself: `auto_start` and `auto_complete` (each on unless turned off;
/// `auto_transition` sets both, as the API had it first), and `remind_before_minutes`.
fn automation(body: &mut Body) -> Automation {
    let both = body.optional_bool("auto_transition");
    let auto_start = body.optional_bool("auto_start").or(both).unwrap_or(true);
    let auto_complete = body.optional_bool("auto_complete").or(both).unwrap_or(true);
    let remind_before_minutes = body.optional_i32("remind_before_minutes").and_then(|m| {
        let range = 1..=Automation::MAX_REMIND_BEFORE_MINUTES;
        body.check(
            "remind_before_minutes",
            if range.contains(&m) { Ok(m) } else { Err("must be from 1 to 10080 (a week)".to_owned()) },
        )
    });
    Automation { auto_start, auto_complete, remind_before_minutes }
}

/// `POST /api/v1/events` body, every field error at once (in the documented field order).
fn new_event(request: &Request, now: OffsetDateTime) -> Result<NewEvent, ApiError> {
    let mut body = Body::parse(request)?;
    let has_template = body.has_value("template_slug") || body.has_value("template_id");
    let title = if has_template { body.optional_str("title") } else { body.required_str("title") };
    let title = title.and_then(|t| body.check("title", Title::parse(&t)));
    let template = template_use(&mut body);
    let event_type = body.required_str("type").and_then(|t| body.check("type", EventType::parse(&t)));
    let status = match (body.required_str("status"), event_type) {
        (Some(raw), Some(event_type)) => body.check("status", EventStatus::parse(&raw, event_type)),
        _ => None,
    };
    let severity = incident_severity(&mut body, event_type);
    let description = text(&mut body, "description");
    let message = text(&mut body, "message");
    let notify_subscribers = body.optional_bool("notify_subscribers").unwrap_or(false);
    let automation = automation(&mut body);
    let started_at = body.optional_str("started_at").and_then(|t| body.check("started_at", past_time(&t, now)));
    let resolved_at = body.optional_str("resolved_at").and_then(|t| body.check("resolved_at", past_time(&t, now)));
    let window = maintenance_window(&mut body, event_type);
    let mut services = affected_list(&mut body, "affected_services", "service_id").unwrap_or_default();
    let groups = affected_list(&mut body, "affected_groups", "group_id").unwrap_or_default();
    let plain_ids = body.optional_uuid_list("service_ids").unwrap_or_default();
    body.read_only(EVENT_READ_ONLY);
    body.finish()?;
    let kind = match present(event_type)? {
        EventType::Incident => EventKind::Incident { severity: present(severity)? },
        EventType::Maintenance => EventKind::Maintenance { window: present(window)?, automation },
    };
    // The old service's `service_ids`: each at the status its severity implies, unless named
    // with a status in `affected_services` too.
    let named: Vec<Uuid> = services.iter().map(|(id, _)| *id).collect();
    services.extend(plain_ids.into_iter().filter(|id| !named.contains(id)).map(|id| (id, status_for(kind))));
    Ok(NewEvent {
        kind,
        status: present(status)?,
        title,
        description,
        message,
        notify_subscribers,
        started_at,
        resolved_at,
        affected: AffectedInput { services, groups },
        template,
    })
}

/// An incident's required severity (`null` is no severity); maintenance takes none (`null`
/// is accepted, as the old service sent it).
fn incident_severity(body: &mut Body, event_type: Option<EventType>) -> Option<Severity> {
    match event_type {
        Some(EventType::Incident) => body
            .required_str_because("severity", "is required for incidents")
            .and_then(|s| body.check("severity", Severity::parse(&s))),
        Some(EventType::Maintenance) => {
            if body.has_value("severity") {
                body.error("severity", "applies to incidents only");
            }
            None
        }
        None => body.optional_str("severity").and_then(|s| body.check("severity", Severity::parse(&s))),
    }
}

/// A maintenance's required window (`null` is no time); an incident's is ignored.
fn maintenance_window(body: &mut Body, event_type: Option<EventType>) -> Option<MaintenanceWindow> {
    let read = |body: &mut Body, field: &str| {
        let raw = if event_type == Some(EventType::Maintenance) {
            body.required_str_because(field, "is required for maintenance")
        } else {
            body.optional_str(field)
        };
        raw.and_then(|t| body.check(field, crate::time::parse_rfc3339(&t)))
    };
    let (start, end) = (read(body, "scheduled_start_at"), read(body, "scheduled_end_at"));
    if event_type != Some(EventType::Maintenance) {
        return None;
    }
    body.check("scheduled_end_at", MaintenanceWindow::new(start?, end?))
}

/// `POST /api/v1/events`: declares an incident or plans maintenance, with its affected services
/// and groups and the first timeline entry, in one transaction.
///
/// # Errors
/// 401, 403, 400 listing every bad field.
pub fn create_event(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteEvents)?;
    let command = new_event(ctx.request, ctx.now)?;
    let (event, queued) = ctx.write(|db| {
        let declared = events::declare(db, &ctx.actor(), ctx.now, command)?;
        let queued = notify::queue::queue_event(db, &declared.changes, &declared.event, ctx.now)?;
        ctx.audit(db, declared.audit())?;
        Ok((declared.event, queued))
    })?;
    ctx.publish();
    if queued.deliveries > 0 {
        ctx.deliver_soon();
    }
    Ok(Response::created(&event))
}

/// Fields of the update shape a client may send back unchanged.
const UPDATE_READ_ONLY: &[&str] = &["id", "event_id", "created_by"];

/// `POST /api/v1/events/{id}/updates` body.
fn update_command(request: &Request, now: OffsetDateTime) -> Result<EventUpdateCommand, ApiError> {
    let mut body = Body::parse(request)?;
    let status = body.optional_str("status").and_then(|raw| body.check("status", EventStatus::parse_any(&raw)));
    let message =
        body.required_str("message").and_then(|m| body.check("message", crate::domain::non_empty(&m, MAX_TEXT)));
    let notify_subscribers = body.optional_bool("notify_subscribers").unwrap_or(false);
    let at = body.optional_str("created_at").and_then(|t| body.check("created_at", past_time(&t, now)));
    let service_updates = affected_list(&mut body, "service_updates", "service_id").unwrap_or_default();
    let services = affected_list(&mut body, "add_services", "service_id").unwrap_or_default();
    let groups = affected_list(&mut body, "add_groups", "group_id").unwrap_or_default();
    let remove_service_ids = body.optional_uuid_list("remove_service_ids").unwrap_or_default();
    let reason = body.optional_str("reason").and_then(|r| body.check("reason", bounded(&r, MAX_TEXT)));
    body.read_only(UPDATE_READ_ONLY);
    body.finish()?;
    Ok(EventUpdateCommand {
        status,
        message: present(message)?,
        notify_subscribers,
        at,
        service_updates,
        add: AffectedInput { services, groups },
        remove_service_ids,
        reason,
    })
}

/// `POST /api/v1/events/{id}/updates`: a timeline entry (`message`, optional new `status`,
/// `notify_subscribers`, backdated `created_at`) and changes of the affected set
/// (`service_updates`, `add_services`, `add_groups`, `remove_service_ids`, with a `reason`).
/// 201 with the new entry as `data` (as the old service answered) and the event beside it as
/// `event`.
///
/// # Errors
/// 401, 403, 400, 404, 409 `event_closed` once resolved or completed.
pub fn post_update(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteEvents)?;
    let id = path_id(ctx, "id")?;
    let command = update_command(ctx.request, ctx.now)?;
    let (updated, queued) = ctx.write(|db| {
        let updated = events::apply_update(db, &ctx.actor(), ctx.now, id, command)?;
        let queued = notify::queue::queue_event(db, &updated.changes, &updated.event, ctx.now)?;
        ctx.audit(db, updated.audit())?;
        Ok((updated, queued))
    })?;
    ctx.publish();
    if queued.deliveries > 0 {
        ctx.deliver_soon();
    }
    let entry = updated.event.updates.iter().find(|u| u.id == updated.changes.update_id);
    Ok(Response::json(201, &serde_json::json!({ "data": entry, "event": updated.event })))
}

fn event_filter(request: &Request, errors: &mut Vec<FieldError>) -> EventFilter {
    let event_type = request
        .query_param("type")
        .and_then(|raw| EventType::parse(raw).map_err(|m| errors.push(FieldError::new("type", m))).ok());
    let status = request.query_param("status").and_then(|raw| match raw {
        "active" => Some(StatusFilter::Open),
        "resolved" => Some(StatusFilter::Closed),
        other => EventStatus::parse_any(other)
            .map(StatusFilter::Is)
            .map_err(|_| errors.push(FieldError::new("status", "must be active, resolved, or an event status")))
            .ok(),
    });
    let service_id = uuid_query(request, "service_id", errors);
    let from = time_query(request, "from", errors);
    let to = time_query(request, "to", errors);
    EventFilter { event_type, status, service_id, from, to }
}

/// `GET /api/v1/events`: public; `type`, `status` (`active`, `resolved` or an exact status),
/// `service_id`, `from`, `to`, `page`, `per_page`; newest first.
///
/// # Errors
/// 400 listing every bad parameter.
pub fn list_events(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    parse::list(ctx, Listing::PAGED, event_filter, repo::list_events)
}

/// `GET /api/v1/services/{slug}/events`: public; the events affecting the service, open ones
/// first, in the old service's envelope `{"events", "total", "limit", "offset"}`; `status`
/// `active` or `resolved`, `limit` (1–100, 50) and `offset`.
///
/// # Errors
/// 400 for bad parameters; 404 for an unknown service.
pub fn service_events(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let service = crate::catalog::read::service(ctx.db()?, ctx.param("slug"))?;
    let filters = |request: &Request, errors: &mut Vec<FieldError>| match request.query_param("status") {
        None => None,
        Some("active") => Some(StatusFilter::Open),
        Some("resolved") => Some(StatusFilter::Closed),
        Some(_) => {
            errors.push(FieldError::new("status", "must be active or resolved"));
            None
        }
    };
    let listing = Listing { legacy_only: true, ..Listing::either("events") };
    parse::list(ctx, listing, filters, |db, status, window| repo::list_service_events(db, service.id, *status, window))
}

/// `GET /api/v1/events/{id}`: public, with its timeline (newest first).
///
/// # Errors
/// 400 `invalid_id`, 404.
pub fn get_event(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let id = path_id(ctx, "id")?;
    Ok(Response::data(&events::find(ctx.db()?, id)?))
}

/// `GET /api/v1/events/{id}/updates`: the timeline, newest first (public).
///
/// # Errors
/// 400 `invalid_id`, 404.
pub fn list_updates(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let id = path_id(ctx, "id")?;
    Ok(Response::data(&events::find(ctx.db()?, id)?.updates))
}

/// `GET /api/v1/events/{id}/changes`: every change of the affected set, oldest first (public).
///
/// # Errors
/// 400 `invalid_id`, 404.
pub fn list_changes(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let id = path_id(ctx, "id")?;
    let db = ctx.db()?;
    events::find(db, id)?;
    Ok(Response::data(&repo::list_changes(db, id)?))
}

/// `DELETE /api/v1/events/{id}`: admins delete closed events, or cancel maintenance that is
/// still scheduled. 204.
///
/// # Errors
/// 401, 403, 400, 404, 409 `event_open`.
pub fn delete_event(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::AdministerEvents)?;
    let id = path_id(ctx, "id")?;
    let queued = ctx.write(|db| {
        let removed = events::remove(db, &ctx.actor(), ctx.now, id)?;
        let queued = if removed.cancelled {
            notify::queue::queue_cancellation(db, &removed.event, ctx.now)?
        } else {
            notify::queue::Queued::default()
        };
        ctx.audit(db, removed.audit())?;
        Ok(queued)
    })?;
    ctx.publish();
    if queued.deliveries > 0 {
        ctx.deliver_soon();
    }
    Ok(Response::no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<NewEvent, Vec<String>> {
        let request = Request::new("POST", "/api/v1/events", vec![], json.as_bytes().to_vec());
        new_event(&request, OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000)).map_err(|e| match e {
            ApiError::Validation(fields) => fields.into_iter().map(|f| f.field).collect(),
            other => vec![other.to_string()],
        })
    }

    #[test]
    fn an_explicit_null_is_a_missing_required_field() {
        let maintenance = r#"{"title": "x", "type": "maintenance", "status": "scheduled",
                              "scheduled_start_at": null, "scheduled_end_at": "2026-01-01T00:00:00Z"}"#;
        assert_eq!(parse(maintenance), Err(vec!["scheduled_start_at".to_owned()]));
        let incident = r#"{"title": "x", "type": "incident", "status": "investigating", "severity": null}"#;
        assert_eq!(parse(incident), Err(vec!["severity".to_owned()]));
        let title = r#"{"title": null, "type": "incident", "status": "investigating", "severity": "minor"}"#;
        assert_eq!(parse(title), Err(vec!["title".to_owned()]));
    }

    #[test]
    fn a_valid_body_becomes_a_command() {
        let command = parse(
            r#"{"title": "DB", "type": "maintenance", "status": "scheduled", "auto_transition": false,
                "scheduled_start_at": "2026-01-01T01:00:00+01:00", "scheduled_end_at": "2026-01-01T01:00:00Z"}"#,
        )
        .expect("valid");
        let EventKind::Maintenance { window, automation } = command.kind else { panic!("maintenance") };
        assert_eq!(
            (window.end() - window.start(), automation.auto_start, automation.auto_complete),
            (time::Duration::HOUR, false, false)
        );
    }
}
