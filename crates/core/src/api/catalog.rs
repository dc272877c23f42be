//! `/api/v1/services` and `/api/v1/groups` (SPEC §4): public reads; writes for admins or keys
//! with `catalog:write`; every write audited, every status change logged.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::app::Ctx;
use crate::audit::Change;
use crate::auth::{Action, Principal};
use crate::db::{Db, transaction};
use crate::domain::{Group, Service, ServiceStatus, check_slug};
use crate::http::{ApiError, Body, FieldError, Page, Request, Response, present};
use crate::repo::groups::{self, GroupFields};
use crate::repo::services::{self, ServiceFields, ServiceFilter};

const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 2000;
const MAX_REASON: usize = 500;
const MAX_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 64;
const MAX_TAG_VALUE: usize = 256;

/// `GET /api/v1/services`: public; `page`, `per_page`, `group_id`, `status` (matched against the
/// effective status), `include_archived`, `q`.
///
/// # Errors
/// 400 listing every bad query parameter; 503 when the database is down.
pub fn list_services(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let page = Page::collect(ctx.request, &mut errors);
    let filter = service_filter(ctx.request, &mut errors);
    let (Some(page), true) = (page, errors.is_empty()) else { return Err(ApiError::Validation(errors)) };
    let found = services::list_services(ctx.db()?, &filter, page)?;
    Ok(Response::list(&found.items, page.meta(found.total)))
}

/// `GET /api/v1/services/{slug}`: public, archived services included.
///
/// # Errors
/// 404 when no service has the slug.
pub fn get_service(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    Ok(Response::data(&service_at(ctx.db()?, ctx.param("slug"))?))
}

fn service_at(db: &dyn Db, slug: &str) -> Result<Service, ApiError> {
    services::find_service_by_slug(db, slug)?
        .ok_or_else(|| ApiError::NotFound(format!("no service has the slug {slug:?}")))
}

fn service_by_id(db: &dyn Db, id: Uuid) -> Result<Service, ApiError> {
    services::find_service(db, id)?.ok_or_else(|| ApiError::NotFound(format!("no service has id {id}")))
}

fn service_filter(request: &Request, errors: &mut Vec<FieldError>) -> ServiceFilter {
    let mut filter = ServiceFilter::default();
    if let Some(raw) = request.query_param("group_id") {
        match Uuid::parse_str(raw) {
            Ok(id) => filter.group_id = Some(id),
            Err(_) => errors.push(FieldError::new("group_id", "must be a UUID")),
        }
    }
    if let Some(raw) = request.query_param("status") {
        match ServiceStatus::parse(raw) {
            Ok(status) => filter.status = Some(status),
            Err(message) => errors.push(FieldError::new("status", message)),
        }
    }
    filter.include_archived = include_archived(request, errors);
    filter.text = text_query(request);
    filter
}

fn include_archived(request: &Request, errors: &mut Vec<FieldError>) -> bool {
    match request.query_param("include_archived") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            errors.push(FieldError::new("include_archived", "must be true or false"));
            false
        }
    }
}

fn text_query(request: &Request) -> Option<String> {
    request.query_param("q").map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned)
}

fn actor_id(principal: &Principal) -> Option<Uuid> {
    match principal {
        Principal::User { id, .. } | Principal::ApiKey { id, .. } => Some(*id),
    }
}

fn bounded(field_max: usize, raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.chars().count() > field_max {
        Err(format!("must be at most {field_max} characters"))
    } else {
        Ok(text.to_owned())
    }
}

fn check_name(raw: &str) -> Result<String, String> {
    let name = bounded(MAX_NAME, raw)?;
    if name.is_empty() { Err("must not be empty".into()) } else { Ok(name) }
}

fn check_tags(map: Map<String, Value>) -> Result<Value, String> {
    if map.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags"));
    }
    for (key, value) in &map {
        if key.is_empty() || key.chars().count() > MAX_TAG_KEY {
            return Err(format!("tag names must be 1 to {MAX_TAG_KEY} characters"));
        }
        if value.as_str().is_some_and(|v| v.chars().count() > MAX_TAG_VALUE) {
            return Err(format!("tag values must be at most {MAX_TAG_VALUE} characters"));
        }
    }
    Ok(Value::Object(map))
}

/// The service fields of a create (`required`) or update body, every error recorded in `body`.
fn service_fields(body: &mut Body, required: bool) -> ServiceFields {
    let name = if required { body.required_str("name") } else { body.optional_str("name") };
    let slug = if required { body.required_str("slug") } else { body.optional_str("slug") };
    ServiceFields {
        name: name.and_then(|n| body.check("name", check_name(&n))),
        slug: slug.and_then(|s| body.check("slug", check_slug(&s))),
        description: body
            .optional_str("description")
            .and_then(|d| body.check("description", bounded(MAX_DESCRIPTION, &d))),
        status: body.optional_str("status").and_then(|s| body.check("status", ServiceStatus::parse(&s))),
        order: body.optional_i32("order"),
        tags: body.optional_string_map("tags").and_then(|t| body.check("tags", check_tags(t))),
    }
}

/// Refuses unknown or archived ids of a membership list (400 naming them).
fn check_members(field: &str, missing: Vec<Uuid>) -> Result<(), ApiError> {
    if missing.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = missing.iter().map(Uuid::to_string).collect();
    Err(ApiError::invalid(field, format!("unknown or archived: {}", ids.join(", "))))
}

/// `POST /api/v1/services`: `{name, slug, description?, status?, order?, group_ids?, tags?}` → 201.
///
/// # Errors
/// 401, 403, 400 listing every bad field (and unknown groups), 409 `slug_taken`.
pub fn create_service(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let principal = ctx.require(Action::WriteCatalog)?;
    let mut body = Body::parse(ctx.request)?;
    let fields = service_fields(&mut body, true);
    let group_ids = body.optional_uuid_list("group_ids");
    body.finish()?;
    let db = ctx.db()?;
    let service = transaction(db, |db| {
        let groups = group_ids.unwrap_or_default();
        check_members("group_ids", services::missing_groups(db, &groups)?)?;
        let id = services::insert_service(db, &fields)?;
        services::set_service_groups(db, id, &groups)?;
        let service = service_by_id(db, id)?;
        services::log_status_change(db, id, None, service.status, "manual", "created", actor_id(principal))?;
        ctx.audit(db, &ctx.actor(), Change::new("service.create", "service", id).after(&service))?;
        Ok::<_, ApiError>(service)
    })?;
    Ok(Response::created(&service))
}

/// `PATCH /api/v1/services/{slug}`: any of `name, slug, description, status, reason, order,
/// group_ids, tags`; a status change goes to the status log with its `reason`.
///
/// # Errors
/// 401, 403, 400, 404, 409 `slug_taken`.
pub fn update_service(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let principal = ctx.require(Action::WriteCatalog)?;
    let mut body = Body::parse(ctx.request)?;
    let fields = service_fields(&mut body, false);
    let group_ids = body.optional_uuid_list("group_ids");
    let reason = body.optional_str("reason").and_then(|r| body.check("reason", bounded(MAX_REASON, &r)));
    body.finish()?;
    let db = ctx.db()?;
    let service = transaction(db, |db| {
        let before = service_at(db, ctx.param("slug"))?;
        if let Some(groups) = &group_ids {
            check_members("group_ids", services::missing_groups(db, groups)?)?;
            services::set_service_groups(db, before.id, groups)?;
        }
        services::update_service(db, before.id, &fields)?;
        if let Some(status) = fields.status.filter(|s| *s != before.status) {
            let reason = reason.as_deref().unwrap_or_default();
            services::log_status_change(
                db,
                before.id,
                Some(before.status),
                status,
                "manual",
                reason,
                actor_id(principal),
            )?;
        }
        let after = service_by_id(db, before.id)?;
        ctx.audit(db, &ctx.actor(), Change::new("service.update", "service", before.id).before(&before).after(&after))?;
        Ok::<_, ApiError>(after)
    })?;
    Ok(Response::data(&service))
}

/// `DELETE /api/v1/services/{slug}`: archives it (204); 409 while an active event affects it.
///
/// # Errors
/// 401, 403, 404, 409 `service_has_active_events`.
pub fn archive_service(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let db = ctx.db()?;
    transaction(db, |db| {
        let before = service_at(db, ctx.param("slug"))?;
        if before.has_active_events {
            return Err(ApiError::Conflict {
                code: "service_has_active_events",
                message: "the service is affected by an active event; resolve it first".into(),
            });
        }
        services::set_service_archived(db, before.id, true)?;
        let after = service_by_id(db, before.id)?;
        ctx.audit(
            db,
            &ctx.actor(),
            Change::new("service.archive", "service", before.id).before(&before).after(&after),
        )?;
        Ok(())
    })?;
    Ok(Response::no_content())
}

/// `POST /api/v1/services/{slug}/restore`.
///
/// # Errors
/// 401, 403, 404.
pub fn restore_service(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let db = ctx.db()?;
    let service = transaction(db, |db| {
        let before = service_at(db, ctx.param("slug"))?;
        services::set_service_archived(db, before.id, false)?;
        let after = service_by_id(db, before.id)?;
        ctx.audit(
            db,
            &ctx.actor(),
            Change::new("service.restore", "service", before.id).before(&before).after(&after),
        )?;
        Ok::<_, ApiError>(after)
    })?;
    Ok(Response::data(&service))
}

/// `GET /api/v1/services/{slug}/tags`: public.
///
/// # Errors
/// 404.
pub fn get_tags(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    Ok(Response::data(&service_at(ctx.db()?, ctx.param("slug"))?.tags))
}

/// `PUT /api/v1/services/{slug}/tags`: the body (an object of strings) replaces the tags.
///
/// # Errors
/// 401, 403, 400, 404.
pub fn put_tags(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let mut body = Body::parse(ctx.request)?;
    let tags = body.as_string_map().and_then(|t| body.check("tags", check_tags(t)));
    body.finish()?;
    let tags = present(tags)?;
    let db = ctx.db()?;
    let service = transaction(db, |db| {
        let before = service_at(db, ctx.param("slug"))?;
        services::update_service(
            db,
            before.id,
            &ServiceFields { tags: Some(tags.clone()), ..ServiceFields::default() },
        )?;
        let after = service_by_id(db, before.id)?;
        ctx.audit(
            db,
            &ctx.actor(),
            Change::new("service.tags", "service", before.id).before(&before.tags).after(&after.tags),
        )?;
        Ok::<_, ApiError>(after)
    })?;
    Ok(Response::data(&service.tags))
}

/// `GET /api/v1/services/{slug}/status-log`: operators and admins (or keys with `read`).
///
/// # Errors
/// 401, 403, 400, 404.
pub fn status_log(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::ReadOperational)?;
    let page = Page::from_request(ctx.request)?;
    let db = ctx.db()?;
    let service = service_at(db, ctx.param("slug"))?;
    let found = services::list_status_log(db, service.id, page)?;
    Ok(Response::list(&found.items, page.meta(found.total)))
}

/// `GET /api/v1/groups`: public; `page`, `per_page`, `include_archived`, `q`.
///
/// # Errors
/// 400.
pub fn list_groups(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let page = Page::collect(ctx.request, &mut errors);
    let include_archived = include_archived(ctx.request, &mut errors);
    let (Some(page), true) = (page, errors.is_empty()) else { return Err(ApiError::Validation(errors)) };
    let found = groups::list_groups(ctx.db()?, include_archived, text_query(ctx.request).as_deref(), page)?;
    Ok(Response::list(&found.items, page.meta(found.total)))
}

fn group_at(db: &dyn Db, slug: &str) -> Result<Group, ApiError> {
    groups::find_group_by_slug(db, slug)?.ok_or_else(|| ApiError::NotFound(format!("no group has the slug {slug:?}")))
}

fn group_by_id(db: &dyn Db, id: Uuid) -> Result<Group, ApiError> {
    groups::find_group(db, id)?.ok_or_else(|| ApiError::NotFound(format!("no group has id {id}")))
}

/// `GET /api/v1/groups/{slug}`: public, archived groups included.
///
/// # Errors
/// 404.
pub fn get_group(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    Ok(Response::data(&group_at(ctx.db()?, ctx.param("slug"))?))
}

fn group_fields(body: &mut Body, required: bool) -> GroupFields {
    let name = if required { body.required_str("name") } else { body.optional_str("name") };
    let slug = if required { body.required_str("slug") } else { body.optional_str("slug") };
    GroupFields {
        name: name.and_then(|n| body.check("name", check_name(&n))),
        slug: slug.and_then(|s| body.check("slug", check_slug(&s))),
        description: body
            .optional_str("description")
            .and_then(|d| body.check("description", bounded(MAX_DESCRIPTION, &d))),
        order: body.optional_i32("order"),
    }
}

/// `POST /api/v1/groups`: `{name, slug, description?, order?, service_ids?}` → 201.
///
/// # Errors
/// 401, 403, 400, 409 `slug_taken`.
pub fn create_group(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let mut body = Body::parse(ctx.request)?;
    let fields = group_fields(&mut body, true);
    let service_ids = body.optional_uuid_list("service_ids");
    body.finish()?;
    let db = ctx.db()?;
    let group = transaction(db, |db| {
        let members = service_ids.unwrap_or_default();
        check_members("service_ids", groups::missing_services(db, &members)?)?;
        let id = groups::insert_group(db, &fields)?;
        groups::set_group_services(db, id, &members)?;
        let group = group_by_id(db, id)?;
        ctx.audit(db, &ctx.actor(), Change::new("group.create", "group", id).after(&group))?;
        Ok::<_, ApiError>(group)
    })?;
    Ok(Response::created(&group))
}

/// `PATCH /api/v1/groups/{slug}`: any of `name, slug, description, order, service_ids`.
///
/// # Errors
/// 401, 403, 400, 404, 409 `slug_taken`.
pub fn update_group(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let mut body = Body::parse(ctx.request)?;
    let fields = group_fields(&mut body, false);
    let service_ids = body.optional_uuid_list("service_ids");
    body.finish()?;
    let db = ctx.db()?;
    let group = transaction(db, |db| {
        let before = group_at(db, ctx.param("slug"))?;
        if let Some(members) = &service_ids {
            check_members("service_ids", groups::missing_services(db, members)?)?;
            groups::set_group_services(db, before.id, members)?;
        }
        groups::update_group(db, before.id, &fields)?;
        let after = group_by_id(db, before.id)?;
        ctx.audit(db, &ctx.actor(), Change::new("group.update", "group", before.id).before(&before).after(&after))?;
        Ok::<_, ApiError>(after)
    })?;
    Ok(Response::data(&group))
}

/// `DELETE /api/v1/groups/{slug}`: archives it (204); 409 while it has live services.
///
/// # Errors
/// 401, 403, 404, 409 `group_has_live_services`.
pub fn archive_group(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let db = ctx.db()?;
    transaction(db, |db| {
        let before = group_at(db, ctx.param("slug"))?;
        if !before.service_ids.is_empty() {
            return Err(ApiError::Conflict {
                code: "group_has_live_services",
                message: format!(
                    "the group still has {} live service(s); move or archive them first",
                    before.service_ids.len()
                ),
            });
        }
        groups::set_group_archived(db, before.id, true)?;
        let after = group_by_id(db, before.id)?;
        ctx.audit(db, &ctx.actor(), Change::new("group.archive", "group", before.id).before(&before).after(&after))?;
        Ok(())
    })?;
    Ok(Response::no_content())
}

/// `POST /api/v1/groups/{slug}/restore`.
///
/// # Errors
/// 401, 403, 404.
pub fn restore_group(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let db = ctx.db()?;
    let group = transaction(db, |db| {
        let before = group_at(db, ctx.param("slug"))?;
        groups::set_group_archived(db, before.id, false)?;
        let after = group_by_id(db, before.id)?;
        ctx.audit(db, &ctx.actor(), Change::new("group.restore", "group", before.id).before(&before).after(&after))?;
        Ok::<_, ApiError>(after)
    })?;
    Ok(Response::data(&group))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn filter(query: &str) -> Result<ServiceFilter, ApiError> {
        let mut errors = Vec::new();
        let filter =
            service_filter(&Request::new("GET", &format!("/api/v1/services?{query}"), vec![], vec![]), &mut errors);
        if errors.is_empty() { Ok(filter) } else { Err(ApiError::Validation(errors)) }
    }

    #[test]
    fn filters_parse_and_every_bad_one_is_listed() {
        let ok = filter("status=degraded&include_archived=true&q=%20api%20").expect("valid");
        assert_eq!(ok.status, Some(ServiceStatus::Degraded));
        assert!(ok.include_archived);
        assert_eq!(ok.text.as_deref(), Some("api"));
        let Err(ApiError::Validation(errors)) = filter("group_id=nope&status=on-fire&include_archived=yes") else {
            panic!("expected 400");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["group_id", "status", "include_archived"]);
    }

    #[test]
    fn tags_are_bounded() {
        let many: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
        assert!(check_tags(many).is_err());
        assert!(check_tags(Map::from_iter([(String::new(), json!("v"))])).is_err());
        assert!(check_tags(Map::from_iter([("k".into(), json!("v".repeat(257)))])).is_err());
        assert!(check_tags(Map::from_iter([("tier".into(), json!("1"))])).is_ok());
    }
}
