//! `/maintenance.ics`: maintenance windows as an RFC 5545 calendar (written by the `icalendar`
//! crate) that calendar apps can subscribe to. Each window keeps one `UID` for life; its
//! `SEQUENCE` goes up with every timeline entry, and a window cancelled before it started stays
//! in the calendar as `STATUS:CANCELLED` with one more, so subscribed calendars drop it.

use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

use super::document::{Document, Freshness};
use super::feeds::chrono_utc;
use super::model::{CancelledWindow, PublicEvent, Snapshot};
use super::site::Site;
use crate::domain::EventType;

/// The calendar of the snapshot's maintenance (the last 90 days and later).
#[must_use]
pub fn calendar(snapshot: &Snapshot, site: &Site) -> Document {
    let mut calendar = Calendar::new();
    calendar
        .append_property(Property::new("PRODID", "-//StatusPage//Maintenance calendar//EN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .name(&format!("{} — maintenance", site.title))
        .ttl(&chrono::Duration::hours(1));
    let mut windows: Vec<&PublicEvent> = snapshot
        .events
        .iter()
        .filter(|e| e.event.event_type == EventType::Maintenance && e.event.scheduled_start_at.is_some())
        .collect();
    windows.sort_by_key(|e| (e.event.scheduled_start_at, e.event.id));
    for window in windows {
        if let Some(event) = vevent(window, site) {
            calendar.push(event);
        }
    }
    for cancelled in &snapshot.cancelled {
        calendar.push(cancelled_vevent(cancelled, site));
    }
    let body = calendar.done().to_string();
    Document::new("text/calendar; charset=utf-8", Freshness::POLLED, body.into_bytes())
}

fn uid(id: uuid::Uuid, site: &Site) -> String {
    format!("{id}@{}", site.host())
}

fn vevent(window: &PublicEvent, site: &Site) -> Option<Event> {
    let e = &window.event;
    let (start, end) = (e.scheduled_start_at?, e.scheduled_end_at?);
    let latest = window.updates.first().map(|u| u.update.message.as_str()).unwrap_or_default();
    let description = match (e.description.is_empty(), latest.is_empty()) {
        (false, false) if e.description != latest => format!("{}\n\n{latest}", e.description),
        (true, _) => latest.to_owned(),
        _ => e.description.clone(),
    };
    Some(
        Event::new()
            .uid(&uid(e.id, site))
            .timestamp(chrono_utc(e.updated_at))
            .created(chrono_utc(e.created_at))
            .last_modified(chrono_utc(e.updated_at))
            .sequence(window.sequence())
            .summary(&e.title)
            .description(&description)
            .starts(chrono_utc(start))
            .ends(chrono_utc(end))
            .url(&site.url(&format!("/incidents/{}", e.id)))
            .status(EventStatus::Confirmed)
            .done(),
    )
}

fn cancelled_vevent(cancelled: &CancelledWindow, site: &Site) -> Event {
    Event::new()
        .uid(&uid(cancelled.event_id, site))
        .timestamp(chrono_utc(cancelled.cancelled_at))
        .created(chrono_utc(cancelled.created_at))
        .last_modified(chrono_utc(cancelled.cancelled_at))
        .sequence(cancelled.sequence)
        .summary(&cancelled.title)
        .description(&cancelled.description)
        .starts(chrono_utc(cancelled.scheduled_start_at))
        .ends(chrono_utc(cancelled.scheduled_end_at))
        .status(EventStatus::Cancelled)
        .done()
}
