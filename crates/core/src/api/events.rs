//! `/api/v1/events/*` (SPEC §5): incidents and maintenance, their timeline, the services they
//! affect (and so the services' effective status), and the history of those changes.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};
use uuid::Uuid;

use super::users::path_id;
use crate::app::Ctx;
use crate::audit::Change;
use crate::auth::{Action, Principal};
use crate::db::{Db, transaction};
use crate::domain::{EventStatus, EventType, ServiceStatus, Severity, template};
use crate::http::{ApiError, Body, FieldError, Page, Response, present};
use crate::repo::events::{self, EventFilter, NewEvent};
use crate::repo::{groups, services, templates};

const MAX_TITLE: usize = 200;
const MAX_TEXT: usize = 10_000;

fn now_rfc3339() -> String {
    crate::time::format_rfc3339(time::OffsetDateTime::now_utc())
}

fn principal_id(principal: &Principal) -> Option<Uuid> {
    match principal {
        Principal::User { id, .. } | Principal::ApiKey { id, .. } => Some(*id),
    }
}

fn text(max: usize, raw: &str, required: bool) -> Result<String, String> {
    let value = raw.trim();
    if required && value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().count() > max { Err(format!("must be at most {max} characters")) } else { Ok(value.to_owned()) }
}

/// A past or present time (RFC 3339, any offset), normalised to UTC.
fn past_time(raw: &str) -> Result<String, String> {
    let at = crate::time::parse_rfc3339(raw)?;
    if at > time::OffsetDateTime::now_utc() + time::Duration::minutes(5) {
        return Err("must not be in the future".into());
    }
    Ok(crate::time::format_rfc3339(at))
}

/// `[{<id_key>, status}]`, every bad item reported as `field[i].key`.
fn affected_list(body: &mut Body, field: &str, id_key: &str) -> Option<Vec<(Uuid, ServiceStatus)>> {
    let items = body.optional_array(field)?;
    let mut parsed = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let id = item.get(id_key).and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
        let status = item.get("status").and_then(Value::as_str).map(ServiceStatus::parse);
        match (id, status) {
            (Some(id), Some(Ok(status))) => parsed.push((id, status)),
            (id, status) => {
                ok = false;
                if id.is_none() {
                    body.error(&format!("{field}[{i}].{id_key}"), "must be a UUID");
                }
                match status {
                    Some(Err(message)) => body.error(&format!("{field}[{i}].status"), message),
                    None => body.error(&format!("{field}[{i}].status"), "is required"),
                    Some(Ok(_)) => {}
                }
            }
        }
    }
    ok.then_some(parsed)
}

/// Services of `explicit` plus the live services of `groups` at this moment; an explicit service
/// wins over its group's status. Refuses unknown or archived ids (400 on `service_field` /
/// `group_field`).
fn resolve_affected(
    db: &dyn Db,
    explicit: &[(Uuid, ServiceStatus)],
    groups_in: &[(Uuid, ServiceStatus)],
    (service_field, group_field): (&str, &str),
) -> Result<BTreeMap<Uuid, ServiceStatus>, ApiError> {
    let mut errors = Vec::new();
    let missing = groups::missing_services(db, &explicit.iter().map(|(id, _)| *id).collect::<Vec<_>>())?;
    if !missing.is_empty() {
        errors.push(FieldError::new(service_field, format!("unknown or archived services: {}", join(&missing))));
    }
    let group_ids: Vec<Uuid> = groups_in.iter().map(|(id, _)| *id).collect();
    let missing = services::missing_groups(db, &group_ids)?;
    if !missing.is_empty() {
        errors.push(FieldError::new(group_field, format!("unknown or archived groups: {}", join(&missing))));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let group_status: HashMap<Uuid, ServiceStatus> = groups_in.iter().copied().collect();
    let mut affected = BTreeMap::new();
    for (group, service) in events::group_members(db, &group_ids)? {
        if let Some(status) = group_status.get(&group) {
            affected.insert(service, *status);
        }
    }
    affected.extend(explicit.iter().copied());
    Ok(affected)
}

fn join(ids: &[Uuid]) -> String {
    ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(", ")
}

/// Appends a status-log entry (source `event`) for each service whose effective status differs
/// from `before`.
fn log_effective_changes(
    db: &dyn Db,
    before: &HashMap<Uuid, ServiceStatus>,
    reason: &str,
    actor: Option<Uuid>,
) -> Result<(), ApiError> {
    let ids: Vec<Uuid> = before.keys().copied().collect();
    let after = events::effective_statuses(db, &ids)?;
    for (service, old) in before {
        if let Some(new) = after.get(service).filter(|new| *new != old) {
            services::log_status_change(db, *service, Some(*old), *new, "event", reason, actor)?;
        }
    }
    Ok(())
}

fn event_with_timeline(db: &dyn Db, id: Uuid) -> Result<Value, ApiError> {
    let mut event = events::find_event(db, id)?.ok_or_else(|| ApiError::NotFound(format!("no event has id {id}")))?;
    event["updates"] = events::list_updates(db, id)?;
    Ok(event)
}

struct Current {
    event_type: EventType,
    status: EventStatus,
    title: String,
}

fn current(db: &dyn Db, id: Uuid) -> Result<(Value, Current), ApiError> {
    let event = events::find_event(db, id)?.ok_or_else(|| ApiError::NotFound(format!("no event has id {id}")))?;
    let event_type = EventType::parse(event["type"].as_str().unwrap_or_default()).map_err(ApiError::Internal)?;
    let status =
        EventStatus::parse(event["status"].as_str().unwrap_or_default(), event_type).map_err(ApiError::Internal)?;
    let title = event["title"].as_str().unwrap_or_default().to_owned();
    Ok((event, Current { event_type, status, title }))
}

/// `POST /api/v1/events`: declares an incident or plans maintenance, with its affected services
/// and groups (groups expand to their services now; an explicit service wins) and the first
/// timeline entry, in one transaction.
///
/// # Errors
/// 401, 403, 400 listing every bad field.
pub fn create_event(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let principal = ctx.require(Action::WriteEvents)?;
    let actor = principal_id(principal);
    let mut body = Body::parse(ctx.request)?;
    let template_slug = body.optional_str("template_slug");
    let title = if template_slug.is_some() { body.optional_str("title") } else { body.required_str("title") };
    let title = title.and_then(|t| body.check("title", text(MAX_TITLE, &t, true)));
    let variables = match body.optional_string_map("variables") {
        Some(_) if template_slug.is_none() => {
            body.error("variables", "apply to a template_slug only");
            BTreeMap::new()
        }
        Some(map) => match super::templates::check_variables(&map) {
            Ok(values) => values,
            Err((field, message)) => {
                body.error(&field, message);
                BTreeMap::new()
            }
        },
        None => BTreeMap::new(),
    };
    let event_type = body.required_str("type").and_then(|t| body.check("type", EventType::parse(&t)));
    let status = body.required_str("status");
    let status = match (status, event_type) {
        (Some(raw), Some(event_type)) => body.check("status", EventStatus::parse(&raw, event_type)),
        _ => None,
    };
    let severity = body.optional_str("severity").and_then(|s| body.check("severity", Severity::parse(&s)));
    match event_type {
        Some(EventType::Incident) if severity.is_none() && !body.has("severity") => {
            body.error("severity", "is required for incidents")
        }
        Some(EventType::Maintenance) if body.has("severity") => body.error("severity", "applies to incidents only"),
        _ => {}
    }
    let description =
        body.optional_str("description").and_then(|d| body.check("description", text(MAX_TEXT, &d, false)));
    let message = body.optional_str("message").and_then(|m| body.check("message", text(MAX_TEXT, &m, false)));
    let notify = body.optional_bool("notify_subscribers").unwrap_or(false);
    let auto_transition = body.optional_bool("auto_transition").unwrap_or(true);
    let started_at = body.optional_str("started_at").and_then(|t| body.check("started_at", past_time(&t)));
    let window_start = body
        .optional_str("scheduled_start_at")
        .and_then(|t| body.check("scheduled_start_at", crate::time::parse_rfc3339(&t)));
    let window_end = body
        .optional_str("scheduled_end_at")
        .and_then(|t| body.check("scheduled_end_at", crate::time::parse_rfc3339(&t)));
    if event_type == Some(EventType::Maintenance) {
        for (field, value) in [("scheduled_start_at", window_start), ("scheduled_end_at", window_end)] {
            if value.is_none() && !body.has(field) {
                body.error(field, "is required for maintenance");
            }
        }
        if let (Some(start), Some(end)) = (window_start, window_end)
            && start >= end
        {
            body.error("scheduled_end_at", "must be after scheduled_start_at");
        }
    }
    let explicit = affected_list(&mut body, "affected_services", "service_id").unwrap_or_default();
    let by_group = affected_list(&mut body, "affected_groups", "group_id").unwrap_or_default();
    body.finish()?;
    let (event_type, status) = (present(event_type)?, present(status)?);
    let maintenance = event_type == EventType::Maintenance;
    let severity = if maintenance { None } else { severity };
    let window = (
        window_start.filter(|_| maintenance).map(crate::time::format_rfc3339),
        window_end.filter(|_| maintenance).map(crate::time::format_rfc3339),
    );
    let at = started_at.unwrap_or_else(now_rfc3339);
    let db = ctx.db()?;
    let event = transaction(db, |db| {
        let affected = resolve_affected(db, &explicit, &by_group, ("affected_services", "affected_groups"))?;
        let ids: Vec<Uuid> = affected.keys().copied().collect();
        let (title, description) = match &template_slug {
            None => (present(title.clone())?, description.clone().unwrap_or_default()),
            Some(slug) => {
                let derived = BTreeMap::from([
                    ("service_names".to_owned(), services::service_names(db, &ids)?.join(", ")),
                    ("status".to_owned(), status.as_str().to_owned()),
                    ("severity".to_owned(), severity.map(Severity::as_str).unwrap_or_default().to_owned()),
                    ("started_at".to_owned(), at.clone()),
                    ("scheduled_start_at".to_owned(), window.0.clone().unwrap_or_default()),
                    ("scheduled_end_at".to_owned(), window.1.clone().unwrap_or_default()),
                ]);
                let (rendered_title, rendered_body) = render_template(db, slug, event_type, &variables, derived)?;
                (title.clone().unwrap_or(rendered_title), description.clone().unwrap_or(rendered_body))
            }
        };
        let new = NewEvent {
            event_type,
            status,
            severity,
            title: title.clone(),
            description: description.clone(),
            notify_subscribers: notify,
            scheduled_start_at: window.0.clone(),
            scheduled_end_at: window.1.clone(),
            auto_transition,
            created_by: actor,
        };
        let first_message =
            message.clone().or(Some(description)).filter(|m| !m.is_empty()).unwrap_or_else(|| title.clone());
        let before = events::effective_statuses(db, &ids)?;
        let id = events::insert_event(db, &new)?;
        if status != EventStatus::Scheduled {
            events::set_event_status(db, id, status, &at)?;
        }
        let update = events::insert_update(db, id, status, &first_message, notify, actor, &at)?;
        for (service, service_status) in &affected {
            events::upsert_affected(db, id, *service, *service_status)?;
            events::insert_change(db, id, Some(update), "added", *service, None, Some(*service_status))?;
        }
        log_effective_changes(
            db,
            &before,
            &format!("{} {:?}: {}", event_type.as_str(), title, status.as_str()),
            actor,
        )?;
        let event = event_with_timeline(db, id)?;
        ctx.audit(db, &ctx.actor(), Change::new("event.create", "event", id).after(&event))?;
        Ok::<_, ApiError>(event)
    })?;
    Ok(Response::created(&event))
}

/// Renders template `slug` for an event of `event_type` with the caller's `variables` and the
/// values `derived` from the event.
fn render_template(
    db: &dyn Db,
    slug: &str,
    event_type: EventType,
    variables: &BTreeMap<String, String>,
    mut values: BTreeMap<String, String>,
) -> Result<(String, String), ApiError> {
    let found = templates::find_template(db, slug)?
        .ok_or_else(|| ApiError::invalid("template_slug", format!("no template has the slug {slug:?}")))?;
    if found.event_type != event_type {
        return Err(ApiError::invalid("type", format!("the template makes {} events", found.event_type.as_str())));
    }
    values.extend(variables.iter().map(|(k, v)| (k.clone(), v.clone())));
    let (title, mut missing) = template::render(&found.title_template, &values);
    let (body, more) = template::render(&found.body_template, &values);
    missing.extend(more);
    missing.dedup();
    if !missing.is_empty() {
        let errors = missing
            .iter()
            .map(|name| FieldError::new(format!("variables.{name}"), "is required by the template"))
            .collect();
        return Err(ApiError::Validation(errors));
    }
    let title =
        text(MAX_TITLE, &title, true).map_err(|m| ApiError::invalid("title", format!("the rendered title {m}")))?;
    Ok((title, body.trim().to_owned()))
}

/// `POST /api/v1/events/{id}/updates`: a timeline entry (`message`, optional new `status`,
/// `notify_subscribers`, backdated `created_at`) and changes of the affected set
/// (`service_updates`, `add_services`, `add_groups`, `remove_service_ids`), each recorded in
/// the change history. 201 with the event.
///
/// # Errors
/// 401, 403, 400, 404, 409 `event_closed` once resolved or completed.
pub fn post_update(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let principal = ctx.require(Action::WriteEvents)?;
    let actor = principal_id(principal);
    let id = path_id(ctx, "id")?;
    let mut body = Body::parse(ctx.request)?;
    let raw_status = body.optional_str("status");
    let message = body.required_str("message").and_then(|m| body.check("message", text(MAX_TEXT, &m, true)));
    let notify = body.optional_bool("notify_subscribers").unwrap_or(false);
    let at = body.optional_str("created_at").and_then(|t| body.check("created_at", past_time(&t)));
    let service_updates = affected_list(&mut body, "service_updates", "service_id").unwrap_or_default();
    let add_services = affected_list(&mut body, "add_services", "service_id").unwrap_or_default();
    let add_groups = affected_list(&mut body, "add_groups", "group_id").unwrap_or_default();
    let remove = body.optional_uuid_list("remove_service_ids").unwrap_or_default();
    let db = ctx.db()?;
    let (_, now) = current(db, id)?;
    let status = match raw_status {
        Some(raw) => body.check("status", EventStatus::parse(&raw, now.event_type)),
        None => Some(now.status),
    };
    body.finish()?;
    let (status, message) = (present(status)?, present(message)?);
    let at = at.unwrap_or_else(now_rfc3339);
    let event = transaction(db, |db| {
        // Re-read under the row lock: a concurrent update may have closed the event since.
        events::lock_event(db, id)?;
        let (_, now) = current(db, id)?;
        if now.status.is_terminal() {
            return Err(ApiError::Conflict {
                code: "event_closed",
                message: format!("the event is {}; a closed event takes no updates", now.status.as_str()),
            });
        }
        let affected_now = events::affected_ids(db, id)?;
        let mut errors = Vec::new();
        for (i, (service, _)) in service_updates.iter().enumerate() {
            if !affected_now.contains(service) {
                errors
                    .push(FieldError::new(format!("service_updates[{i}].service_id"), "is not affected by this event"));
            }
        }
        for (i, service) in remove.iter().enumerate() {
            if !affected_now.contains(service) {
                errors.push(FieldError::new(format!("remove_service_ids[{i}]"), "is not affected by this event"));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let added = resolve_affected(db, &add_services, &add_groups, ("add_services", "add_groups"))?;
        let mut touched: Vec<Uuid> = affected_now.clone();
        touched.extend(added.keys());
        let before = events::effective_statuses(db, &touched)?;
        let update = events::insert_update(db, id, status, &message, notify, actor, &at)?;
        if status != now.status {
            events::set_event_status(db, id, status, &at)?;
        }
        let changes = added.iter().map(|(s, st)| (*s, *st)).chain(service_updates.iter().copied());
        for (service, service_status) in changes {
            let previous = events::upsert_affected(db, id, service, service_status)?;
            match previous {
                None => events::insert_change(db, id, Some(update), "added", service, None, Some(service_status))?,
                Some(old) if old != service_status => {
                    events::insert_change(
                        db,
                        id,
                        Some(update),
                        "status_changed",
                        service,
                        Some(old),
                        Some(service_status),
                    )?;
                }
                Some(_) => {}
            }
        }
        for service in &remove {
            if let Some(old) = events::remove_affected(db, id, *service)? {
                events::insert_change(db, id, Some(update), "removed", *service, Some(old), None)?;
            }
        }
        log_effective_changes(
            db,
            &before,
            &format!("{} {:?}: {}", now.event_type.as_str(), now.title, status.as_str()),
            actor,
        )?;
        let after = event_with_timeline(db, id)?;
        ctx.audit(
            db,
            &ctx.actor(),
            Change::new("event.update", "event", id).after(json!({ "update_id": update, "status": status })),
        )?;
        Ok::<_, ApiError>(after)
    })?;
    Ok(Response::created(&event))
}

/// `GET /api/v1/events`: public; `type`, `status` (`active`, `resolved` or an exact status),
/// `service_id`, `from`, `to`, `page`, `per_page`; newest first.
///
/// # Errors
/// 400 listing every bad parameter.
pub fn list_events(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let request = ctx.request;
    let mut errors = Vec::new();
    let page = Page::collect(request, &mut errors);
    let mut filter = EventFilter::default();
    if let Some(raw) = request.query_param("type") {
        match EventType::parse(raw) {
            Ok(t) => filter.event_type = Some(t),
            Err(m) => errors.push(FieldError::new("type", m)),
        }
    }
    if let Some(raw) = request.query_param("status") {
        let known = ["active", "resolved"].contains(&raw)
            || [EventType::Incident, EventType::Maintenance].iter().any(|t| EventStatus::parse(raw, *t).is_ok());
        if known {
            filter.status = Some(raw.to_owned());
        } else {
            errors.push(FieldError::new("status", "must be active, resolved, or an event status"));
        }
    }
    if let Some(raw) = request.query_param("service_id") {
        match Uuid::parse_str(raw) {
            Ok(id) => filter.service_id = Some(id),
            Err(_) => errors.push(FieldError::new("service_id", "must be a UUID")),
        }
    }
    for (field, slot) in [("from", &mut filter.from), ("to", &mut filter.to)] {
        if let Some(raw) = request.query_param(field) {
            match crate::time::parse_rfc3339(raw) {
                Ok(t) => *slot = Some(crate::time::format_rfc3339(t)),
                Err(m) => errors.push(FieldError::new(field, m)),
            }
        }
    }
    let (Some(page), true) = (page, errors.is_empty()) else { return Err(ApiError::Validation(errors)) };
    let found = events::list_events(ctx.db()?, &filter, page)?;
    let total = found["total"].as_u64().unwrap_or_default();
    let items = found["items"].as_array().cloned().unwrap_or_default();
    Ok(Response::list(&items, page.meta(total)))
}

/// `GET /api/v1/events/{id}`: public, with its timeline (newest first).
///
/// # Errors
/// 400 `invalid_id`, 404.
pub fn get_event(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let id = path_id(ctx, "id")?;
    Ok(Response::data(&event_with_timeline(ctx.db()?, id)?))
}

/// `GET /api/v1/events/{id}/updates`: the timeline, newest first (public).
///
/// # Errors
/// 400 `invalid_id`, 404.
pub fn list_updates(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let id = path_id(ctx, "id")?;
    let db = ctx.db()?;
    current(db, id)?;
    Ok(Response::data(&events::list_updates(db, id)?))
}

/// `GET /api/v1/events/{id}/changes`: every change of the affected set, oldest first (public).
///
/// # Errors
/// 400 `invalid_id`, 404.
pub fn list_changes(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let id = path_id(ctx, "id")?;
    let db = ctx.db()?;
    current(db, id)?;
    Ok(Response::data(&events::list_changes(db, id)?))
}

/// `DELETE /api/v1/events/{id}`: admins delete closed events, or cancel maintenance that is
/// still scheduled. 204.
///
/// # Errors
/// 401, 403, 400, 404, 409 `event_open`.
pub fn delete_event(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::AdministerEvents)?;
    let id = path_id(ctx, "id")?;
    let db = ctx.db()?;
    transaction(db, |db| {
        events::lock_event(db, id)?;
        let (event, now) = current(db, id)?;
        let cancelling = now.status == EventStatus::Scheduled;
        if !now.status.is_terminal() && !cancelling {
            return Err(ApiError::Conflict {
                code: "event_open",
                message: "only closed events, or maintenance still scheduled, can be deleted; close it first".into(),
            });
        }
        events::delete_event(db, id)?;
        let action = if cancelling { "event.cancel" } else { "event.delete" };
        ctx.audit(db, &ctx.actor(), Change::new(action, "event", id).before(&event))?;
        Ok(())
    })?;
    Ok(Response::no_content())
}
