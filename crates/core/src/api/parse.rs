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

/// How a list endpoint pages when asked in one way or another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing {
    /// The old service's envelope key (`users`, `entries`, `events`): a request paging with
    /// `limit`/`offset` gets `{"data": {"<key>": [...], "total", "limit", "offset"}}`, as it did.
    pub legacy_key: Option<&'static str>,
    /// When set, a request with no paging parameters gets every item, up to this many (the
    /// old service's v1 lists never paged; the catalog is small enough to list whole).
    pub unpaged_cap: Option<u32>,
    /// The old envelope even without `limit`/`offset` (routes only the old service had).
    pub legacy_only: bool,
}

impl Listing {
    /// Paged by `page`/`per_page` only.
    pub const PAGED: Self = Self { legacy_key: None, unpaged_cap: None, legacy_only: false };
    /// The catalog: whole when not paged.
    pub const CATALOG: Self = Self { legacy_key: None, unpaged_cap: Some(UNPAGED_CAP), legacy_only: false };

    /// `page`/`per_page`, or the old `limit`/`offset` with the old envelope under `key`.
    #[must_use]
    pub const fn either(key: &'static str) -> Self {
        Self { legacy_key: Some(key), unpaged_cap: None, legacy_only: false }
    }
}

/// Most items a catalog list answers without paging parameters.
pub const UNPAGED_CAP: u32 = 1000;
/// The old service's default `limit`.
const LEGACY_LIMIT: u32 = 50;

/// `?limit=&offset=` as the old service read them: `limit` 1–100 (default 50), `offset` from 0.
fn legacy_window(request: &Request, errors: &mut Vec<FieldError>) -> Window {
    let mut read = |name: &str, default: u32, max: u32| match request.query_param(name) {
        None => default,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if n <= max && (name == "offset" || n >= 1) => n,
            _ => {
                let min = if name == "offset" { 0 } else { 1 };
                errors.push(FieldError::new(name, format!("must be a whole number from {min} to {max}")));
                default
            }
        },
    };
    let limit = read("limit", LEGACY_LIMIT, Page::MAX_PER_PAGE);
    let offset = read("offset", 0, u32::MAX);
    Window { limit: i64::from(limit), offset: i64::from(offset) }
}

/// A list endpoint: reads how the request pages and the endpoint's filters (every bad
/// parameter listed in one 400, the paging ones first), then answers one page of `query`'s
/// rows in the envelope the request asked for (see [`Listing`]).
///
/// # Errors
/// 400 listing every bad parameter; database errors.
pub fn list<F, T: Serialize>(
    ctx: &Ctx<'_>,
    listing: Listing,
    filters: impl FnOnce(&Request, &mut Vec<FieldError>) -> F,
    query: impl FnOnce(&dyn Db, &F, Window) -> Result<Listed<T>, DbError>,
) -> Result<Response, ApiError> {
    let request = ctx.request;
    let asks = |name: &str| request.query_param(name).is_some();
    let mut errors = Vec::new();
    let legacy = listing.legacy_key.filter(|_| listing.legacy_only || asks("limit") || asks("offset"));
    let (page, window) = if legacy.is_some() {
        // `limit`/`offset` win; a bad `page` or `per_page` sent alongside is still an error.
        let _ = Page::collect(request, &mut errors);
        (None, Some(legacy_window(request, &mut errors)))
    } else if let (Some(cap), false) = (listing.unpaged_cap, asks("page") || asks("per_page")) {
        (None, Some(Window { limit: i64::from(cap), offset: 0 }))
    } else {
        (Page::collect(request, &mut errors), None)
    };
    let filter = filters(request, &mut errors);
    none(errors)?;
    let window = window.or_else(|| page.map(Page::window)).unwrap_or(Window { limit: 0, offset: 0 });
    let found = query(ctx.db()?, &filter, window)?;
    Ok(match (legacy, page) {
        (Some(key), _) => Response::data(&serde_json::json!({
            key: found.items, "total": found.total, "limit": window.limit, "offset": window.offset,
        })),
        (None, Some(page)) => Response::list(&found.items, page.meta(found.total)),
        (None, None) => {
            let meta = crate::http::ListMeta {
                page: 1,
                per_page: listing.unpaged_cap.unwrap_or_default(),
                total: found.total,
            };
            Response::list(&found.items, meta)
        }
    })
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
