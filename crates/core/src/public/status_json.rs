//! `/api/v1/status` and `/api/v1/status/history` (and the old service's `/status`): our JSON, with
//! the old service's `events` list kept.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::document::{Document, Freshness};
use super::model::{PublicEvent, Snapshot};

/// How many events the old `events` list of `/api/v1/status` holds.
pub const RECENT_EVENTS: usize = 10;
/// Events per history page (the old `/status/history` answered 50).
pub const HISTORY_PAGE: usize = 50;

/// `GET /api/v1/status`.
#[must_use]
pub fn status(snapshot: &Snapshot) -> Document {
    let indicator = snapshot.indicator();
    let active: Vec<_> = snapshot.active().map(PublicEvent::with_timeline).collect();
    let upcoming: Vec<_> = snapshot.upcoming().into_iter().map(PublicEvent::with_timeline).collect();
    let recent: Vec<_> = snapshot.events.iter().take(RECENT_EVENTS).map(|e| &e.event).collect();
    let body = json!({
        "data": {
            "status": { "indicator": indicator.as_str(), "description": indicator.description() },
            "updated_at": crate::time::format_rfc3339(snapshot.updated_at()),
            "services": snapshot.services,
            "groups": snapshot.groups,
            "active_events": active,
            "upcoming_maintenance": upcoming,
            "events": recent,
        }
    });
    json_document(&body)
}

/// An event's JSON as `GET /api/v1/events/{id}` answers it (its timeline included): a history
/// page is these, joined.
#[must_use]
pub fn event(event: &PublicEvent) -> Vec<u8> {
    serde_json::to_vec(&event.with_timeline()).unwrap_or_default()
}

/// A history page from events' stored JSON, newest first, and the cursor of the next page.
#[must_use]
pub fn history_page(events: &[Vec<u8>], next_cursor: Option<&str>) -> Vec<u8> {
    let mut body = Vec::with_capacity(events.iter().map(Vec::len).sum::<usize>() + 128);
    body.extend_from_slice(b"{\"data\":{\"events\":[");
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(event);
    }
    let meta = json!({ "per_page": HISTORY_PAGE, "next_cursor": next_cursor });
    body.extend_from_slice(b"]},\"meta\":");
    body.extend_from_slice(meta.to_string().as_bytes());
    body.push(b'}');
    body
}

/// A position in the history: the page after it starts with the next older event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// When the last event shown happened.
    pub happened_at: OffsetDateTime,
    /// Its id (the tie-breaker).
    pub id: Uuid,
}

impl Cursor {
    /// The opaque text of the cursor.
    #[must_use]
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}/{}", crate::time::format_rfc3339(self.happened_at), self.id))
    }

    /// Reads a cursor.
    ///
    /// # Errors
    /// A message when it is not one this service made.
    pub fn decode(raw: &str) -> Result<Self, String> {
        let invalid = || "is not a cursor from a previous page (use meta.next_cursor as given)".to_owned();
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (at, id) = text.split_once('/').ok_or_else(invalid)?;
        Ok(Self {
            happened_at: crate::time::parse_rfc3339(at).map_err(|_| invalid())?,
            id: Uuid::parse_str(id).map_err(|_| invalid())?,
        })
    }
}

/// A JSON document of the live kind.
pub(super) fn json_document(body: &serde_json::Value) -> Document {
    Document::new("application/json", Freshness::LIVE, serde_json::to_vec(body).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_what_they_did_not_make() {
        let cursor = Cursor { happened_at: time::macros::datetime!(2026-11-02 10:00 UTC), id: Uuid::new_v4() };
        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        for bad in ["", "abc", &URL_SAFE_NO_PAD.encode("2026-11-02T10:00:00Z/not-a-uuid")] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_history_page_joins_stored_events() {
        let page = history_page(&[b"{\"id\":1}".to_vec(), b"{\"id\":2}".to_vec()], Some("abc"));
        let parsed: serde_json::Value = serde_json::from_slice(&page).expect("valid JSON");
        assert_eq!(parsed["data"]["events"], json!([{"id": 1}, {"id": 2}]));
        assert_eq!(parsed["meta"], json!({"per_page": 50, "next_cursor": "abc"}));
        let last: serde_json::Value = serde_json::from_slice(&history_page(&[], None)).expect("valid JSON");
        assert_eq!(last, json!({"data": {"events": []}, "meta": {"per_page": 50, "next_cursor": null}}));
    }
}
