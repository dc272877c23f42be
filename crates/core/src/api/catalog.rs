//! `/api/v1/services` and `/api/v1/groups`: public reads; writes for admins or keys
//! with `catalog:write`, through the catalog use cases (each audited, every status change
//! logged).

use std::collections::BTreeMap;

use crate::api::parse::{self, Listing, flag, text_query, uuid_query};
use crate::app::Ctx;
use crate::auth::Action;
use crate::catalog::{self, GroupInput, ServiceInput};
use crate::domain::{Name, ServiceStatus, Slug, Tags, bounded};
use crate::http::{ApiError, Body, FieldError, Request, Response, present};
use crate::repo::groups::{self, GroupFields};
use crate::repo::services::{self, ServiceFields, ServiceFilter};

const MAX_DESCRIPTION: usize = 2000;
const MAX_REASON: usize = 500;

/// `GET /api/v1/services`: public; `page`, `per_page`, `group_id`, `status` (matched against the
/// effective status), `include_archived`, `q`.
///
/// # Errors
/// 400 listing every bad query parameter; 503 when the database is down.
pub fn list_services(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    parse::list(ctx, Listing::CATALOG, service_filter, services::list_services)
}

fn service_filter(request: &Request, errors: &mut Vec<FieldError>) -> ServiceFilter {
    let group_id = uuid_query(request, "group_id", errors);
    let status = request
        .query_param("status")
        .and_then(|raw| ServiceStatus::parse(raw).map_err(|m| errors.push(FieldError::new("status", m))).ok());
    ServiceFilter {
        group_id,
        status,
        include_archived: flag(request, "include_archived", errors),
        text: text_query(request),
    }
}

/// `GET /api/v1/services/{slug}`: public, archived services included.
///
/// # Errors
/// 404 when no service has the slug.
pub fn get_service(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    Ok(Response::data(&catalog::read::service(ctx.db()?, ctx.param("slug"))?))
}

fn description(body: &mut Body) -> Option<String> {
    body.optional_str("description").and_then(|d| body.check("description", bounded(&d, MAX_DESCRIPTION)))
}

fn tags(body: &mut Body, field: &str, map: Option<serde_json::Map<String, serde_json::Value>>) -> Option<Tags> {
    let map: BTreeMap<String, String> =
        map?.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned())).collect();
    body.check(field, Tags::parse(map))
}

/// Fields of the service shape a client may send back unchanged.
const SERVICE_READ_ONLY: &[&str] =
    &["id", "effective_status", "has_active_events", "created_at", "updated_at", "archived_at"];
/// Fields of the group shape a client may send back unchanged.
const GROUP_READ_ONLY: &[&str] = &["id", "created_at", "updated_at", "archived_at"];

/// `{name, slug, description?, status?, order?, group_ids? (or the old group_id), tags?,
/// reason?}`, every field error at once; name and slug `required` on create.
fn service_input(request: &Request, required: bool) -> Result<ServiceInput, ApiError> {
    let mut body = Body::parse(request)?;
    let (name, slug) = name_and_slug(&mut body, required);
    let description = description(&mut body);
    let status = body.optional_str("status").and_then(|s| body.check("status", ServiceStatus::parse(&s)));
    let order = body.optional_i32("order");
    let map = body.optional_string_map("tags");
    let tags = tags(&mut body, "tags", map);
    let group_ids = group_ids(&mut body);
    let reason = body.optional_str("reason").and_then(|r| body.check("reason", bounded(&r, MAX_REASON)));
    body.read_only(SERVICE_READ_ONLY);
    body.finish()?;
    let fields = ServiceFields { name, slug, description, status, order, tags };
    Ok(ServiceInput { fields, group_ids, reason })
}

/// `group_ids`, or the old service's single `group_id` (`null` for none). Both may come (a
/// service sent back as it was read) when they agree: `group_id` is the first of `group_ids`.
fn group_ids(body: &mut Body) -> Option<Vec<uuid::Uuid>> {
    let list = body.optional_uuid_list("group_ids");
    if !body.has("group_id") {
        return list;
    }
    let single = match body.optional_str("group_id") {
        Some(raw) => Some(body.check("group_id", uuid::Uuid::parse_str(&raw).map_err(|_| "must be a UUID".into()))?),
        None if body.has_value("group_id") => return None,
        None => None,
    };
    match list {
        None if body.has_value("group_ids") => None,
        None => Some(single.into_iter().collect()),
        Some(list) if list.first() == single.as_ref() => Some(list),
        Some(_) => {
            body.error("group_id", "disagrees with group_ids; give one of them (group_id is the first of group_ids)");
            None
        }
    }
}

fn name_and_slug(body: &mut Body, required: bool) -> (Option<Name>, Option<Slug>) {
    let name = if required { body.required_str("name") } else { body.optional_str("name") };
    let name = name.and_then(|n| body.check("name", Name::parse(&n)));
    let slug = if required { body.required_str("slug") } else { body.optional_str("slug") };
    (name, slug.and_then(|s| body.check("slug", Slug::parse(&s))))
}

/// `POST /api/v1/services` → 201.
///
/// # Errors
/// 401, 403, 400 listing every bad field (and unknown groups), 409 `slug_taken`.
pub fn create_service(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let command = service_input(ctx.request, true)?;
    let service = ctx.audited(|db, actor, now| catalog::create_service(db, actor, now, command))?;
    ctx.publish();
    Ok(Response::created(&service))
}

/// `PATCH /api/v1/services/{slug}`: a partial update; a status change goes to the status log
/// with its `reason`.
///
/// # Errors
/// 401, 403, 400, 404, 409 `slug_taken`.
pub fn update_service(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let patch = service_input(ctx.request, false)?;
    let service = ctx.audited(|db, actor, now| catalog::update_service(db, actor, now, ctx.param("slug"), patch))?;
    ctx.publish();
    Ok(Response::data(&service))
}

/// `DELETE /api/v1/services/{slug}`: archives it (204); 409 while an active event affects it.
///
/// # Errors
/// 401, 403, 404, 409 `service_has_active_events`.
pub fn archive_service(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    ctx.audited(|db, actor, now| catalog::archive_service(db, actor, now, ctx.param("slug")))?;
    ctx.publish();
    Ok(Response::no_content())
}

/// `POST /api/v1/services/{slug}/restore`.
///
/// # Errors
/// 401, 403, 404.
pub fn restore_service(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let service = ctx.audited(|db, actor, now| catalog::restore_service(db, actor, now, ctx.param("slug")))?;
    ctx.publish();
    Ok(Response::data(&service))
}

/// `GET /api/v1/services/{slug}/tags`: public; `{"data": {"tags": {...}}}`, as the old service
/// answered.
///
/// # Errors
/// 404.
pub fn get_tags(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let tags = catalog::read::service(ctx.db()?, ctx.param("slug"))?.tags;
    Ok(Response::data(&serde_json::json!({ "tags": tags })))
}

/// `PUT /api/v1/services/{slug}/tags`: the tags, as the old service's `{"tags": {...}}` or as the
/// bare object of strings, replace the service's tags; answers them wrapped.
///
/// # Errors
/// 401, 403, 400, 404.
pub fn put_tags(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let mut body = Body::parse(ctx.request)?;
    // A tag's value is a string, so an object under `tags` can only be the old wrapper.
    let wrapped = body.is_object("tags");
    let map = if wrapped { body.optional_string_map("tags") } else { body.as_string_map() };
    let tags = tags(&mut body, "tags", map);
    body.finish()?;
    let tags = present(tags)?;
    let tags = ctx.audited(|db, actor, now| catalog::replace_tags(db, actor, now, ctx.param("slug"), tags))?;
    ctx.publish();
    Ok(Response::data(&serde_json::json!({ "tags": tags })))
}

/// `GET /api/v1/services/{slug}/status-log`: operators and admins (or keys with `read`);
/// newest first; `page`/`per_page`, or the old `limit`/`offset` (then the old envelope
/// `{"entries", "total", "limit", "offset"}`).
///
/// # Errors
/// 401, 403, 400, 404.
pub fn status_log(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::ReadOperational)?;
    let service = catalog::read::service(ctx.db()?, ctx.param("slug"))?;
    let listing = Listing::either("entries");
    parse::list(ctx, listing, |_, _| service.id, |db, id, window| services::list_status_log(db, *id, window))
}

/// `GET /api/v1/groups`: public; `page`, `per_page`, `include_archived`, `q`.
///
/// # Errors
/// 400.
pub fn list_groups(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let filters = |request: &Request, errors: &mut Vec<FieldError>| {
        (flag(request, "include_archived", errors), text_query(request))
    };
    parse::list(ctx, Listing::CATALOG, filters, |db, (archived, text), window| {
        groups::list_groups(db, *archived, text.as_deref(), window)
    })
}

/// `GET /api/v1/groups/{slug}`: public, archived groups included.
///
/// # Errors
/// 404.
pub fn get_group(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    Ok(Response::data(&catalog::read::group(ctx.db()?, ctx.param("slug"))?))
}

/// `{name, slug, description?, order?, service_ids?}`; name and slug `required` on create.
fn group_input(request: &Request, required: bool) -> Result<GroupInput, ApiError> {
    let mut body = Body::parse(request)?;
    let (name, slug) = name_and_slug(&mut body, required);
    let description = description(&mut body);
    let order = body.optional_i32("order");
    let service_ids = body.optional_uuid_list("service_ids");
    body.read_only(GROUP_READ_ONLY);
    body.finish()?;
    Ok(GroupInput { fields: GroupFields { name, slug, description, order }, service_ids })
}

/// `POST /api/v1/groups` → 201.
///
/// # Errors
/// 401, 403, 400, 409 `slug_taken`.
pub fn create_group(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let input = group_input(ctx.request, true)?;
    let group = ctx.audited(|db, actor, now| catalog::create_group(db, actor, now, input))?;
    ctx.publish();
    Ok(Response::created(&group))
}

/// `PATCH /api/v1/groups/{slug}`: any of `name, slug, description, order, service_ids`.
///
/// # Errors
/// 401, 403, 400, 404, 409 `slug_taken`.
pub fn update_group(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let input = group_input(ctx.request, false)?;
    let group = ctx.audited(|db, actor, now| catalog::update_group(db, actor, now, ctx.param("slug"), input))?;
    ctx.publish();
    Ok(Response::data(&group))
}

/// `DELETE /api/v1/groups/{slug}`: archives it (204); 409 while it has live services.
///
/// # Errors
/// 401, 403, 404, 409 `group_has_live_services`.
pub fn archive_group(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    ctx.audited(|db, actor, now| catalog::archive_group(db, actor, now, ctx.param("slug")))?;
    ctx.publish();
    Ok(Response::no_content())
}

/// `POST /api/v1/groups/{slug}/restore`.
///
/// # Errors
/// 401, 403, 404.
pub fn restore_group(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteCatalog)?;
    let group = ctx.audited(|db, actor, now| catalog::restore_group(db, actor, now, ctx.param("slug")))?;
    ctx.publish();
    Ok(Response::data(&group))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(query: &str) -> Result<ServiceFilter, ApiError> {
        let mut errors = Vec::new();
        let filter =
            service_filter(&Request::new("GET", &format!("/api/v1/services?{query}"), vec![], vec![]), &mut errors);
        parse::none(errors).map(|()| filter)
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
}
