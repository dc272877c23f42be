//! `/api/v1/templates/*`: event templates. Operators read and preview them (they use them to
//! declare events); admins (or keys with `events:write` and the admin ceiling) write them.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::app::Ctx;
use crate::audit::Entry;
use crate::auth::Action;
use crate::db::Db;
use crate::domain::{EventType, Slug, Template, template};
use crate::error::{Error, OnConstraint};
use crate::http::{ApiError, Body, Page, Request, Response};
use crate::repo::templates::{self, TemplateFields};

const MAX_TITLE_TEMPLATE: usize = 500;
const MAX_BODY_TEMPLATE: usize = 10_000;

fn template_text(field: &str, max: usize, raw: &str, required: bool) -> Result<String, String> {
    if required && raw.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if raw.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    template::placeholders(raw).map(|_| raw.to_owned()).map_err(|e| format!("{field} {e}"))
}

/// Template `key`: by slug, else by id (the old service addressed templates by UUID; a UUID is a
/// valid slug, so a template slugged like one wins).
fn find(db: &dyn Db, key: &str) -> Result<Template, Error> {
    if let Some(found) = templates::find_template(db, key)? {
        return Ok(found);
    }
    let by_id = uuid::Uuid::parse_str(key).ok().map(|id| templates::find_template_by_id(db, id)).transpose()?.flatten();
    by_id.ok_or_else(|| Error::NotFound(format!("no template has the slug or id {key:?}")))
}

fn slug_taken() -> Error {
    Error::conflict("slug_taken", "a template with this slug already exists")
}

/// `{slug, type, title_template, body_template?}`; all but the body `required` on create.
fn template_fields(request: &Request, required: bool) -> Result<TemplateFields, ApiError> {
    let mut body = Body::parse(request)?;
    let read =
        |body: &mut Body, field: &str| if required { body.required_str(field) } else { body.optional_str(field) };
    let slug = read(&mut body, "slug").and_then(|s| body.check("slug", Slug::parse(&s)));
    let event_type = read(&mut body, "type").and_then(|t| body.check("type", EventType::parse(&t)));
    let title = read(&mut body, "title_template")
        .and_then(|t| body.check("title_template", template_text("title_template", MAX_TITLE_TEMPLATE, &t, true)));
    let text = body
        .optional_str("body_template")
        .and_then(|t| body.check("body_template", template_text("body_template", MAX_BODY_TEMPLATE, &t, false)));
    body.read_only(&["id", "created_at", "updated_at"]);
    body.finish()?;
    Ok(TemplateFields {
        slug: slug.map(|s| s.as_str().to_owned()),
        event_type,
        title_template: title,
        body_template: text,
    })
}

/// Caller-supplied variables: an object of strings naming supplied placeholders only.
pub(crate) fn check_variables(map: &Map<String, Value>) -> Result<BTreeMap<String, String>, (String, String)> {
    let mut values = BTreeMap::new();
    for (name, value) in map {
        if !template::is_known(name) {
            return Err((format!("variables.{name}"), "is not a template placeholder".into()));
        }
        if !template::is_supplied(name) {
            return Err((format!("variables.{name}"), "is filled from the event, not supplied".into()));
        }
        values.insert(name.clone(), value.as_str().unwrap_or_default().to_owned());
    }
    Ok(values)
}

/// `GET /api/v1/templates`: operators and admins.
///
/// # Errors
/// 401, 403, 400.
pub fn list(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteEvents)?;
    let page = Page::from_request(ctx.request)?;
    let found = templates::list_templates(ctx.db()?, page.window())?;
    Ok(Response::list(&found.items, page.meta(found.total)))
}

/// `GET /api/v1/templates/{slug}`.
///
/// # Errors
/// 401, 403, 404.
pub fn get(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteEvents)?;
    Ok(Response::data(&find(ctx.db()?, ctx.param("slug"))?))
}

/// `POST /api/v1/templates`: `{slug, type, title_template, body_template?}`; unknown
/// placeholders are refused here, when the template is saved.
///
/// # Errors
/// 401, 403, 400, 409 `slug_taken`.
pub fn create(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::AdministerEvents)?;
    let fields = template_fields(ctx.request, true)?;
    let created = ctx.write(|db| {
        let created =
            templates::insert_template(db, &fields, ctx.now).on_constraint(templates::SLUG_KEY, slug_taken)?;
        ctx.audit(db, Entry::new("template.create", "template", created.id).after(&created))?;
        Ok(created)
    })?;
    Ok(Response::created(&created))
}

/// `PATCH /api/v1/templates/{slug}`: any of `slug, type, title_template, body_template`.
///
/// # Errors
/// 401, 403, 400, 404, 409 `slug_taken`.
pub fn update(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::AdministerEvents)?;
    let fields = template_fields(ctx.request, false)?;
    let updated = ctx.write(|db| {
        let before = find(db, ctx.param("slug"))?;
        let after = templates::update_template(db, before.id, &fields, ctx.now)
            .on_constraint(templates::SLUG_KEY, slug_taken)?
            .ok_or_else(|| ApiError::NotFound("the template no longer exists".into()))?;
        ctx.audit(db, Entry::new("template.update", "template", before.id).before(&before).after(&after))?;
        Ok(after)
    })?;
    Ok(Response::data(&updated))
}

/// `DELETE /api/v1/templates/{slug}`. 204.
///
/// # Errors
/// 401, 403, 404.
pub fn delete(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::AdministerEvents)?;
    ctx.write(|db| {
        let before = find(db, ctx.param("slug"))?;
        templates::delete_template(db, before.id)?;
        ctx.audit(db, Entry::new("template.delete", "template", before.id).before(&before))?;
        Ok(())
    })?;
    Ok(Response::no_content())
}

/// The old service's preview keys, and the placeholder each fills.
const OLD_PREVIEW_KEYS: [(&str, &str); 6] = [
    ("service_name", "service_names"),
    ("service_group_name", "group_names"),
    ("started_at", "started_at"),
    ("resolved_at", "resolved_at"),
    ("scheduled_start", "scheduled_start_at"),
    ("scheduled_end", "scheduled_end_at"),
];

/// `POST /api/v1/templates/{slug}/preview`: `{variables?}` (any placeholders, derived ones
/// included, as sample values) or the old service's `{service_name?, service_group_name?,
/// started_at?, resolved_at?, scheduled_start?, scheduled_end?}` → `{title, body, missing}`; a
/// placeholder without a value renders as `[name]`.
///
/// # Errors
/// 401, 403, 400, 404.
pub fn preview(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::WriteEvents)?;
    let mut body = Body::parse(ctx.request)?;
    let variables = body.optional_string_map("variables").unwrap_or_default();
    let mut values = BTreeMap::new();
    for (name, value) in &variables {
        if !template::is_known(name) {
            body.error(&format!("variables.{name}"), "is not a template placeholder");
        }
        values.insert(template::canonical(name).to_owned(), value.as_str().unwrap_or_default().to_owned());
    }
    for (old, ours) in OLD_PREVIEW_KEYS {
        if let Some(value) = body.optional_str(old) {
            values.insert(ours.to_owned(), value);
        }
    }
    body.finish()?;
    let found = find(ctx.db()?, ctx.param("slug"))?;
    let (title, mut missing) = template::render(&found.title_template, &values);
    let (text, more) = template::render(&found.body_template, &values);
    missing.extend(more.into_iter().filter(|m| !missing.contains(m)).collect::<Vec<_>>());
    Ok(Response::data(&json!({ "title": title, "body": text, "missing": missing })))
}
