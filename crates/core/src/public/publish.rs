//! Keeping the snapshot in the key-value store in step with the database.
//!
//! [`refresh`] runs after every write that changes what the public sees (in the same request,
//! after its commit) and on every scheduler tick. It holds a PostgreSQL advisory lock for its
//! whole run, reads the committed state only after taking it, and writes the store before
//! releasing it: two writers' refreshes run one after the other, and the second reads what both
//! committed, so an older snapshot never overwrites a newer one.
//!
//! It is incremental: the index in the store holds the digest of every event and service the
//! last refresh rendered and the ETag of every page-wide document; an event's documents are
//! rendered again only when its digest changed (or the rendering code did), and a document is
//! written only when its ETag changed. The page-wide documents (status, Statuspage JSON, the
//! page, feeds, calendar, badges) are rendered on every run: they are few, and the page's bars
//! move with the clock.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::document::{Document, etag_of, keys};
use super::i18n::Lang;
use super::model::PublicEvent;
use super::site::Site;
use super::{badge, feeds, html, ical, status_json, statuspage};
use crate::db::{Db, DbError, transaction};
use crate::kv::{Kv, KvError};
use crate::repo::public as repo;

/// A refresh failed: the database or the store.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The key-value store.
    #[error(transparent)]
    Kv(#[from] KvError),
}

/// What a refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Published {
    /// Events whose documents were rendered.
    pub events_rendered: usize,
    /// Events whose documents were removed (the event was deleted).
    pub events_removed: usize,
    /// Service timelines written.
    pub timelines_written: usize,
    /// Page-wide documents written (the others were unchanged).
    pub documents_written: usize,
    /// Page-wide documents the refresh found unchanged.
    pub documents_unchanged: usize,
    /// Milliseconds spent: reading digests, rendering changed events, reading the page-wide
    /// state, rendering and writing the page-wide documents.
    pub timings_ms: [u64; 4],
}

/// The version of the rendering: a build of other code may render differently, so the first
/// refresh of a new build renders everything again.
fn render_version() -> String {
    format!("{}+{}", env!("CARGO_PKG_VERSION"), crate::ops::COMMIT)
}

/// What the last refresh rendered.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    version: String,
    /// Event id → digest.
    events: BTreeMap<Uuid, String>,
    /// Service id → (slug, digest).
    services: BTreeMap<Uuid, (String, String)>,
    /// Page-wide document key → ETag.
    documents: BTreeMap<String, String>,
    /// ETag of the history order.
    history: String,
}

/// One entry of the history's order (newest first): what a history page is assembled from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The event.
    pub id: Uuid,
    /// When it happened.
    #[serde(with = "crate::time::serde")]
    pub happened_at: OffsetDateTime,
}

/// Events rendered per database read while catching up.
const EVENT_BATCH: usize = 100;

/// Brings the snapshot in `kv` up to date with `db` as of `now` (see the module docs). Call it
/// outside any transaction: it runs its own.
///
/// # Errors
/// The database or the store failed; the store then keeps the previous snapshot (the index is
/// written last, so the next refresh does the work again).
pub fn refresh(db: &dyn Db, kv: &dyn Kv, site: &Site, now: OffsetDateTime) -> Result<Published, PublishError> {
    transaction(db, |db| {
        repo::lock_refresh(db)?;
        let clock = std::time::Instant::now();
        let mut lap = {
            let mut last = std::time::Duration::ZERO;
            move || {
                let now = clock.elapsed();
                let ms = u64::try_from((now - last).as_millis()).unwrap_or(u64::MAX);
                last = now;
                ms
            }
        };
        let previous = read_index(kv)?;
        let digests = repo::digests(db)?;
        let t_digests = lap();
        let mut report = Published::default();
        let mut next = Index { version: render_version(), ..Index::default() };

        let changed: Vec<Uuid> =
            digests.events.iter().filter(|d| previous.events.get(&d.id) != Some(&d.digest)).map(|d| d.id).collect();
        for batch in changed.chunks(EVENT_BATCH) {
            for event in repo::events(db, batch)? {
                write_event(kv, &event, site)?;
                report.events_rendered += 1;
            }
        }
        let live: BTreeSet<Uuid> = digests.events.iter().map(|d| d.id).collect();
        for gone in previous.events.keys().filter(|id| !live.contains(id)) {
            delete_event(kv, *gone)?;
            report.events_removed += 1;
        }
        next.events = digests.events.iter().map(|d| (d.id, d.digest.clone())).collect();

        let stale: Vec<Uuid> = digests
            .services
            .iter()
            .filter(|d| previous.services.get(&d.id).is_none_or(|(_, digest)| *digest != d.digest))
            .map(|d| d.id)
            .collect();
        for timeline in repo::timelines(db, &stale)? {
            kv.set(&keys::timeline(&timeline.slug), &serde_json::to_vec(&timeline).unwrap_or_default())?;
            report.timelines_written += 1;
        }
        next.services = digests.services.iter().map(|d| (d.id, (d.slug.clone(), d.digest.clone()))).collect();
        let slugs: BTreeSet<&str> = next.services.values().map(|(slug, _)| slug.as_str()).collect();
        for (old_slug, _) in previous.services.values().filter(|(slug, _)| !slugs.contains(slug.as_str())) {
            kv.delete(&keys::timeline(old_slug))?;
        }

        let t_events = lap();
        let snapshot = repo::snapshot(db, now)?;
        let t_snapshot = lap();
        for (key, document) in page_documents(&snapshot, site, now) {
            if previous.documents.get(&key) == Some(&document.etag) {
                report.documents_unchanged += 1;
            } else {
                kv.set(&key, &document.encode())?;
                report.documents_written += 1;
            }
            next.documents.insert(key, document.etag);
        }
        for gone in previous.documents.keys().filter(|key| !next.documents.contains_key(*key)) {
            kv.delete(gone)?;
        }

        let history: Vec<HistoryEntry> = digests
            .events
            .iter()
            .filter(|d| !d.upcoming)
            .map(|d| HistoryEntry { id: d.id, happened_at: d.happened_at })
            .collect();
        let history = serde_json::to_vec(&history).unwrap_or_default();
        next.history = etag_of(&history);
        if next.history != previous.history {
            kv.set(keys::HISTORY, &history)?;
        }
        kv.set(keys::INDEX, &serde_json::to_vec(&next).unwrap_or_default())?;
        report.timings_ms = [t_digests, t_events, t_snapshot, lap()];
        Ok(report)
    })
}

/// Whether a snapshot has been published at all.
///
/// # Errors
/// The store failed.
pub fn is_published(kv: &dyn Kv) -> Result<bool, KvError> {
    Ok(kv.get(keys::INDEX)?.is_some())
}

fn read_index(kv: &dyn Kv) -> Result<Index, KvError> {
    let index: Option<Index> = kv.get(keys::INDEX)?.and_then(|bytes| serde_json::from_slice(&bytes).ok());
    // Another build's index still says which documents exist (so they can be removed), but
    // none of its digests or ETags may be trusted to match what this build renders.
    Ok(match index {
        Some(index) if index.version == render_version() => index,
        Some(other) => Index {
            events: other.events.into_keys().map(|id| (id, String::new())).collect(),
            services: other.services.into_iter().map(|(id, (slug, _))| (id, (slug, String::new()))).collect(),
            documents: other.documents.into_keys().map(|key| (key, String::new())).collect(),
            ..Index::default()
        },
        None => Index::default(),
    })
}

/// The history's order, newest first (empty before the first refresh).
///
/// # Errors
/// The store failed.
pub fn history(kv: &dyn Kv) -> Result<Vec<HistoryEntry>, KvError> {
    Ok(kv.get(keys::HISTORY)?.and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default())
}

fn write_event(kv: &dyn Kv, event: &PublicEvent, site: &Site) -> Result<(), KvError> {
    let id = event.event.id;
    kv.set(&keys::event_json(id), &status_json::event(event))?;
    for lang in Lang::ALL {
        kv.set(&keys::event_page(id, lang), &html::incident(event, site, lang).encode())?;
        kv.set(&keys::history_item(id, lang), &html::history_item(event, site, lang))?;
    }
    Ok(())
}

fn delete_event(kv: &dyn Kv, id: Uuid) -> Result<(), KvError> {
    kv.delete(&keys::event_json(id))?;
    for lang in Lang::ALL {
        kv.delete(&keys::event_page(id, lang))?;
        kv.delete(&keys::history_item(id, lang))?;
    }
    Ok(())
}

/// Every page-wide document, by store key.
fn page_documents(snapshot: &super::model::Snapshot, site: &Site, now: OffsetDateTime) -> Vec<(String, Document)> {
    let mut docs = vec![(keys::doc("/api/v1/status"), status_json::status(snapshot))];
    docs.extend(statuspage::documents(snapshot, site).into_iter().map(|(path, doc)| (keys::doc(path), doc)));
    for lang in Lang::ALL {
        docs.push((keys::page("/", lang), html::index(snapshot, site, lang, now)));
    }
    docs.push((keys::doc("/history.atom"), feeds::atom(snapshot, site)));
    docs.push((keys::doc("/history.rss"), feeds::rss(snapshot, site)));
    docs.push((keys::doc("/maintenance.ics"), ical::calendar(snapshot, site)));
    docs.extend(badge::documents(snapshot, site).into_iter().map(|(path, doc)| (keys::doc(&path), doc)));
    docs
}
