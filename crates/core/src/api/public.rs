//! The public routes: each answers from the snapshot in the key-value store, never
//! from PostgreSQL (the database is read only to publish a first snapshot into an empty store).
//! Page-wide documents are served as stored; history pages are put together from stored
//! per-event pieces; uptime reports are computed from a service's stored timeline.

use time::{Date, OffsetDateTime, Time};
use uuid::Uuid;

use crate::app::Ctx;
use crate::http::{ApiError, FieldError, Response};
use crate::public::document::{Document, Freshness, keys};
use crate::public::html::{self, Month};
use crate::public::i18n::Lang;
use crate::public::publish::{self, HistoryEntry};
use crate::public::serve;
use crate::public::site::Site;
use crate::public::status_json::{self, Cursor, HISTORY_PAGE};
use crate::public::uptime::{self, Granularity, Timeline};

/// Entries per HTML history page.
const HISTORY_HTML_PAGE: usize = 25;

fn not_found(path: &str) -> ApiError {
    ApiError::NotFound(format!("nothing is published at {path}"))
}

fn respond(ctx: &Ctx<'_>, document: Document, vary: Option<&str>) -> Response {
    document.respond(ctx.request.header("if-none-match"), vary)
}

/// The request path without a trailing `/` (the router accepts one).
fn path<'a>(ctx: &Ctx<'a>) -> &'a str {
    match ctx.request.path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    }
}

fn lang(ctx: &Ctx<'_>) -> Lang {
    Lang::negotiate(ctx.request.query_param("lang"), ctx.request.header("accept-language"))
}

/// A page-wide document stored under its path: `/api/v1/status`, `/api/v2/*.json`, the feeds,
/// the calendar, the badges.
///
/// # Errors
/// 404 when nothing is stored there; 503 when the store (or, before the first snapshot, the
/// database) is down.
pub fn document(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let path = path(ctx);
    let document = serve::document(ctx.env, &keys::doc(path))?.ok_or_else(|| not_found(path))?;
    Ok(respond(ctx, document, None))
}

/// `/badge/{slug}.svg` and `/badge/{slug}.json`.
///
/// # Errors
/// 404 for another file name or an unknown service; 503 as [`document`].
pub fn badge(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let file = ctx.param("file");
    if !(file.ends_with(".svg") || file.ends_with(".json")) {
        return Err(ApiError::NotFound(format!(
            "badges are /badge/{{slug}}.svg and /badge/{{slug}}.json, not /badge/{file}"
        )));
    }
    document(ctx)
}

/// `/`: the status page, in the request's language.
///
/// # Errors
/// 503 as [`document`].
pub fn index(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let document = serve::document(ctx.env, &keys::page("/", lang(ctx)))?.ok_or_else(|| not_found("/"))?;
    Ok(respond(ctx, document, Some("Accept-Language")))
}

/// `/incidents/{id}`: an event's page, in the request's language.
///
/// # Errors
/// 404 for an unknown event; 503 as [`document`].
pub fn incident(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let raw = ctx.param("id");
    let id = Uuid::parse_str(raw).map_err(|_| ApiError::NotFound(format!("no incident has id {raw}")))?;
    let document = serve::document(ctx.env, &keys::event_page(id, lang(ctx)))?
        .ok_or_else(|| ApiError::NotFound(format!("no incident has id {id}")))?;
    Ok(respond(ctx, document, Some("Accept-Language")))
}

/// The page of the history after `cursor` (from the start without one): the slice of the order
/// and whether more follow.
fn history_slice(order: &[HistoryEntry], cursor: Option<Cursor>, size: usize) -> (usize, &[HistoryEntry]) {
    let start = cursor.map_or(0, |c| order.partition_point(|e| (e.happened_at, e.id) >= (c.happened_at, c.id)));
    let end = (start + size).min(order.len());
    (start, &order[start..end])
}

fn cursor_after(entry: &HistoryEntry) -> String {
    Cursor { happened_at: entry.happened_at, id: entry.id }.encode()
}

fn cursor_param(ctx: &Ctx<'_>, name: &str) -> Result<Option<Cursor>, ApiError> {
    ctx.request.query_param(name).map(|raw| Cursor::decode(raw).map_err(|m| ApiError::invalid(name, m))).transpose()
}

/// `GET /api/v1/status/history?cursor=`: every event but maintenance not yet started, newest
/// happening first, 50 a page; `meta.next_cursor` leads to the next page (`null` on the last).
///
/// # Errors
/// 400 for a cursor this service did not make; 503 as [`document`].
pub fn status_history(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let cursor = cursor_param(ctx, "cursor")?;
    serve::ensure_published(ctx.env)?;
    let kv = ctx.env.kv()?;
    let order = publish::history(kv)?;
    let (start, page) = history_slice(&order, cursor, HISTORY_PAGE);
    let mut events = Vec::with_capacity(page.len());
    for entry in page {
        if let Some(json) = kv.get(&keys::event_json(entry.id))? {
            events.push(json);
        }
    }
    let next = (start + page.len() < order.len()).then(|| page.last().map(cursor_after)).flatten();
    let body = status_json::history_page(&events, next.as_deref());
    Ok(respond(ctx, Document::new("application/json", Freshness::LIVE, body), None))
}

/// `GET /history?before=`: the history page, 25 events a page grouped by month, in the
/// request's language.
///
/// # Errors
/// 400 for a cursor this service did not make; 503 as [`document`].
pub fn history(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let cursor = cursor_param(ctx, "before")?;
    let lang = lang(ctx);
    serve::ensure_published(ctx.env)?;
    let kv = ctx.env.kv()?;
    let order = publish::history(kv)?;
    let (start, page) = history_slice(&order, cursor, HISTORY_HTML_PAGE);
    let mut months: Vec<Month> = Vec::new();
    let mut current: Option<(i32, time::Month)> = None;
    for entry in page {
        let Some(item) = kv.get(&keys::history_item(entry.id, lang))? else { continue };
        let date = entry.happened_at.date();
        if current != Some((date.year(), date.month())) {
            current = Some((date.year(), date.month()));
            months.push(Month { heading: html::month_heading(lang, date), items: Vec::new() });
        }
        if let Some(month) = months.last_mut() {
            month.items.push(String::from_utf8_lossy(&item).into_owned());
        }
    }
    let link = |cursor: Option<String>| match cursor {
        Some(c) => format!("/history?lang={}&before={c}", lang.code()),
        None => format!("/history?lang={}", lang.code()),
    };
    let newer = (start > 0).then(|| {
        let newer_start = start.saturating_sub(HISTORY_HTML_PAGE);
        link(newer_start.checked_sub(1).map(|i| cursor_after(&order[i])))
    });
    let older = (start + page.len() < order.len()).then(|| link(page.last().map(cursor_after)));
    let site = Site::of(ctx.config()?);
    let body = html::history(&site, lang, months, newer, older);
    let document = Document::new("text/html; charset=utf-8", Freshness::LIVE, body);
    Ok(respond(ctx, document, Some("Accept-Language")))
}

/// Most buckets one uptime report answers.
const MAX_BUCKETS: i64 = 400;

/// A `from`/`to` bound: an RFC 3339 time, or a date (its midnight UTC for `from`; the end of
/// the day, the next midnight, for `to`).
fn bound(raw: &str, end_of_day: bool) -> Result<OffsetDateTime, String> {
    if let Ok(at) = crate::time::parse_rfc3339(raw) {
        return Ok(at);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = Date::parse(raw, &format)
        .map_err(|_| "must be an RFC 3339 time (2026-11-25T12:00:00Z) or a date (2026-11-25)".to_owned())?;
    let date = if end_of_day { date.next_day().unwrap_or(date) } else { date };
    Ok(date.with_time(Time::MIDNIGHT).assume_utc())
}

/// `GET /api/v1/services/{slug}/uptime?from=&to=&granularity=day|month`: the share of time the
/// service spent in each status, per UTC day or month, from its status log (the numbers behind
/// the page's bars). Defaults: the last 90 days by day; by month, the last 12 months.
///
/// # Errors
/// 400 for bad parameters (every one listed), `from` not before `to`, or more than 400
/// buckets; 404 for an unknown service; 503 as [`document`].
pub fn service_uptime(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let request = ctx.request;
    let mut errors = Vec::new();
    let granularity = match request.query_param("granularity") {
        None => Granularity::Day,
        Some(raw) => Granularity::parse(raw).unwrap_or_else(|m| {
            errors.push(FieldError::new("granularity", m));
            Granularity::Day
        }),
    };
    let mut read = |name: &str, end_of_day: bool| {
        request
            .query_param(name)
            .and_then(|raw| bound(raw, end_of_day).map_err(|m| errors.push(FieldError::new(name, m))).ok())
    };
    let (from, to) = (read("from", false), read("to", true));
    let to = to.unwrap_or(ctx.now);
    let from = from.unwrap_or_else(|| match granularity {
        Granularity::Day => uptime::last_90_days(to).0,
        Granularity::Month => uptime::month_start_before(to, 11),
    });
    if errors.is_empty() && from >= to {
        errors.push(FieldError::new("from", "must be before to"));
    }
    let span_days = (to - from).whole_days();
    let buckets_needed = match granularity {
        Granularity::Day => span_days + 1,
        Granularity::Month => span_days / 28 + 1,
    };
    if errors.is_empty() && buckets_needed > MAX_BUCKETS {
        errors.push(FieldError::new("from", format!("the range is too long: at most {MAX_BUCKETS} buckets")));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let slug = ctx.param("slug");
    let raw = serve::raw(ctx.env, &keys::timeline(slug))?
        .ok_or_else(|| ApiError::NotFound(format!("no service has slug {slug}")))?;
    let timeline: Timeline =
        serde_json::from_slice(&raw).map_err(|e| ApiError::Internal(format!("stored timeline of {slug}: {e}")))?;
    let observed_until = timeline.archived_at.unwrap_or(ctx.now).min(ctx.now);
    let buckets = uptime::buckets_with_rollups(
        &timeline.points,
        &timeline.rollups,
        (timeline.created_at, observed_until),
        (from, to),
        granularity,
    );
    let total = uptime::combined(&buckets);
    let bucket_json = |b: &uptime::Bucket| {
        serde_json::json!({
            "start": crate::time::format_rfc3339(b.start),
            "end": crate::time::format_rfc3339(b.end),
            "uptime": b.uptime().map(round),
            "observed_seconds": b.seconds.total(),
            "seconds": b.seconds,
        })
    };
    let body = serde_json::json!({
        "data": {
            "service": { "id": timeline.service_id, "slug": timeline.slug, "name": timeline.name },
            "granularity": granularity,
            "from": crate::time::format_rfc3339(from),
            "to": crate::time::format_rfc3339(to),
            "uptime": total.uptime().map(round),
            "observed_seconds": total.seconds.total(),
            "seconds": total.seconds,
            "buckets": buckets.iter().map(bucket_json).collect::<Vec<_>>(),
        }
    });
    let document = Document::new("application/json", Freshness::LIVE, serde_json::to_vec(&body).unwrap_or_default());
    Ok(respond(ctx, document, None))
}

/// Six decimals, rounded down, so that a loss never rounds up to a clean 1.
fn round(share: f64) -> f64 {
    (share * 1_000_000.0).floor() / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn bounds_read_times_and_dates() {
        assert_eq!(bound("2026-11-02", false), Ok(datetime!(2026-11-02 0:00 UTC)));
        assert_eq!(bound("2026-11-02", true), Ok(datetime!(2026-11-03 0:00 UTC)), "a `to` date includes the day");
        assert_eq!(bound("2026-11-02T10:30:00+02:00", true), Ok(datetime!(2026-11-02 8:30 UTC)));
        assert!(bound("yesterday", false).is_err());
    }

    #[test]
    fn history_pages_follow_the_cursor() {
        let order: Vec<HistoryEntry> = (0..5)
            .map(|i| HistoryEntry {
                id: Uuid::from_u128(100 - i),
                happened_at: datetime!(2026-11-10 0:00 UTC) - time::Duration::days(i64::try_from(i).unwrap_or(0)),
            })
            .collect();
        let (start, first) = history_slice(&order, None, 2);
        assert_eq!((start, first.len()), (0, 2));
        let cursor = Cursor { happened_at: first[1].happened_at, id: first[1].id };
        let (start, second) = history_slice(&order, Some(cursor), 2);
        assert_eq!((start, second[0].id), (2, order[2].id));
        let gone = Cursor { happened_at: datetime!(2026-11-08 12:00 UTC), id: Uuid::nil() };
        assert_eq!(history_slice(&order, Some(gone), 2).0, 2, "a cursor of a deleted event still finds its place");
    }
}
