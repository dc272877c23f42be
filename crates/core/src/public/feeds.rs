//! `/history.atom` and `/history.rss`: every timeline entry of the recent events is a feed entry,
//! with an id that never changes, a link to the event's page, and its time; written by the
//! `atom_syndication` and `rss` crates.

use chrono::{DateTime, FixedOffset, Utc};
use time::OffsetDateTime;

use super::document::{Document, Freshness};
use super::i18n::Lang;
use super::model::{PublicEvent, PublicUpdate, Snapshot};
use super::site::Site;

/// Most entries a feed carries.
pub const FEED_ENTRIES: usize = 100;

/// `time` to `chrono` (the feed and calendar crates' type), at whole-millisecond precision.
pub(super) fn chrono_utc(at: OffsetDateTime) -> DateTime<Utc> {
    let millis = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or_default();
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

fn fixed(at: OffsetDateTime) -> DateTime<FixedOffset> {
    chrono_utc(at).fixed_offset()
}

/// The newest entries, newest first.
fn entries(snapshot: &Snapshot) -> Vec<(&PublicEvent, &PublicUpdate)> {
    let mut all: Vec<_> = snapshot.events.iter().flat_map(|e| e.updates.iter().map(move |u| (e, u))).collect();
    all.sort_by(|a, b| b.1.update.created_at.cmp(&a.1.update.created_at).then(b.1.update.id.cmp(&a.1.update.id)));
    all.truncate(FEED_ENTRIES);
    all
}

fn entry_title(event: &PublicEvent, update: &PublicUpdate) -> String {
    format!("{}: {}", event.event.title, Lang::En.event_status(update.update.status))
}

fn event_link(site: &Site, event: &PublicEvent) -> String {
    site.url(&format!("/incidents/{}", event.event.id))
}

fn updated(snapshot: &Snapshot, entries: &[(&PublicEvent, &PublicUpdate)]) -> OffsetDateTime {
    entries.first().map_or_else(|| snapshot.updated_at(), |(_, u)| u.update.created_at)
}

/// The Atom feed.
#[must_use]
pub fn atom(snapshot: &Snapshot, site: &Site) -> Document {
    use atom_syndication::{Content, Entry, Feed, Link, Person, Text};
    let entries = entries(snapshot);
    let link = |href: String, rel: &str, mime: &str| Link {
        href,
        rel: rel.to_owned(),
        mime_type: Some(mime.to_owned()),
        ..Link::default()
    };
    let feed = Feed {
        title: Text::from(format!("{} — history", site.title)),
        id: site.url("/history.atom"),
        updated: fixed(updated(snapshot, &entries)),
        authors: vec![Person { name: site.title.clone(), uri: Some(site.home()), ..Person::default() }],
        links: vec![
            link(site.url("/history.atom"), "self", "application/atom+xml"),
            link(site.url("/history"), "alternate", "text/html"),
        ],
        subtitle: (!site.description.is_empty()).then(|| Text::from(site.description.clone())),
        entries: entries
            .iter()
            .map(|(event, update)| Entry {
                title: Text::from(entry_title(event, update)),
                id: format!("{}#update-{}", event_link(site, event), update.update.id),
                updated: fixed(update.update.created_at),
                published: Some(fixed(update.update.created_at)),
                links: vec![link(event_link(site, event), "alternate", "text/html")],
                content: Some(Content {
                    value: Some(update.update.message.clone()),
                    content_type: Some("text".to_owned()),
                    ..Content::default()
                }),
                ..Entry::default()
            })
            .collect(),
        ..Feed::default()
    };
    Document::new("application/atom+xml; charset=utf-8", Freshness::POLLED, feed.to_string().into_bytes())
}

/// The RSS 2.0 feed.
#[must_use]
pub fn rss(snapshot: &Snapshot, site: &Site) -> Document {
    use rss::{Channel, Guid, Item};
    let entries = entries(snapshot);
    let description = if site.description.is_empty() {
        format!("Incidents and maintenance of {}", site.title)
    } else {
        site.description.clone()
    };
    let channel = Channel {
        title: format!("{} — history", site.title),
        link: site.url("/history"),
        description,
        language: Some("en".to_owned()),
        last_build_date: Some(chrono_utc(updated(snapshot, &entries)).to_rfc2822()),
        items: entries
            .iter()
            .map(|(event, update)| Item {
                title: Some(entry_title(event, update)),
                link: Some(event_link(site, event)),
                description: Some(update.update.message.clone()),
                guid: Some(Guid {
                    value: format!("{}#update-{}", event_link(site, event), update.update.id),
                    permalink: false,
                }),
                pub_date: Some(chrono_utc(update.update.created_at).to_rfc2822()),
                ..Item::default()
            })
            .collect(),
        ..Channel::default()
    };
    Document::new("application/rss+xml; charset=utf-8", Freshness::POLLED, channel.to_string().into_bytes())
}
