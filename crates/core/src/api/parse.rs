//! Pieces of request parsing the handlers share: path ids, query flags and times, the
//! `[{service_id, status}]` lists of events.

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::Ctx;
use crate::db::{Db, DbError, Window};
use crate::domain::ServiceStatus;
use crate::http::{ApiError, Body, FieldError, Page, Request, Response};
use crate::repo::Listed;

/// A list endpoint: reads `page`/`per_page` and the endpoint's filters (every bad parameter
/// listed in one 400, the page's first), then answers one page of `query`'s rows with `meta`.
///
/// # Errors
/// 400 listing every bad parameter; database errors.
pub fn list<F, T: Serialize>(
    ctx: &Ctx<'_>,
    filters: impl FnOnce(&Request, &mut Vec<FieldError>) -> F,
    query: impl FnOnce(&dyn Db, &F, Window) -> Result<Listed<T>, DbError>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let page = Page::collect(ctx.request, &mut errors);
    let filter = filters(ctx.request, &mut errors);
    let (Some(page), true) = (page, errors.is_empty()) else { return Err(ApiError::Validation(errors)) };
    let found = query(ctx.db()?, &filter, page.window())?;
    Ok(Response::list(&found.items, page.meta(found.total)))
}

/// How far in the future a "past" time may be (clients' clocks drift).
const CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

/// A UUID path parameter.
///
/// # Errors
/// 400 `invalid_id`.
pub fn path_id(ctx: &Ctx<'_>, name: &str) -> Result<Uuid, ApiError> {
    let raw = ctx.param(name);
    Uuid::parse_str(raw).map_err(|_| ApiError::BadRequest {
        code: "invalid_id",
        message: format!("{name} must be a UUID, not {raw:?}"),
    })
}

/// A `true`/`false` query parameter (absent: `false`), its error added to `errors`.
pub fn flag(request: &Request, name: &str, errors: &mut Vec<FieldError>) -> bool {
    match request.query_param(name) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            errors.push(FieldError::new(name, "must be true or false"));
            false
        }
    }
}

/// A UUID query parameter, its error added to `errors`.
pub fn uuid_query(request: &Request, name: &str, errors: &mut Vec<FieldError>) -> Option<Uuid> {
    let raw = request.query_param(name)?;
    Uuid::parse_str(raw).map_err(|_| errors.push(FieldError::new(name, "must be a UUID"))).ok()
}

/// An RFC 3339 query parameter, its error added to `errors`.
pub fn time_query(request: &Request, name: &str, errors: &mut Vec<FieldError>) -> Option<OffsetDateTime> {
    let raw = request.query_param(name)?;
    crate::time::parse_rfc3339(raw).map_err(|m| errors.push(FieldError::new(name, m))).ok()
}

/// The trimmed, non-empty `q` query parameter.
#[must_use]
pub fn text_query(request: &Request) -> Option<String> {
    request.query_param("q").map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned)
}

/// `Ok` when `errors` is empty, else 400 listing them.
///
/// # Errors
/// The 400.
pub fn none(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

/// A time that is not in the future (`now` plus a little clock skew), in UTC.
///
/// # Errors
/// A message for the field error.
pub fn past_time(raw: &str, now: OffsetDateTime) -> Result<OffsetDateTime, String> {
    let at = crate::time::parse_rfc3339(raw)?;
    if at > now + CLOCK_SKEW { Err("must not be in the future".into()) } else { Ok(at) }
}

/// `[{<id_key>, status}]`, every bad item reported as `field[i].key`.
pub fn affected_list(body: &mut Body, field: &str, id_key: &str) -> Option<Vec<(Uuid, ServiceStatus)>> {
    let items = body.optional_array(field)?;
    let mut parsed = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let id = item.get(id_key).and_then(serde_json::Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
        let status = item.get("status").and_then(serde_json::Value::as_str).map(ServiceStatus::parse);
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
