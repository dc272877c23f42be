//! The public face: every public document, rendered ahead of time into the key-value
//! store and served from there, so no public answer waits on PostgreSQL and the page keeps
//! answering from its last snapshot while PostgreSQL is down (a sampled request counts itself
//! for `/metrics` after its answer has gone: [`crate::metrics`]).
//!
//! - [`model`]: what the documents are rendered from; [`site`]: the page's identity.
//! - Renderers: [`status_json`] (`/api/v1/status`), [`statuspage`] (`/api/v2/*.json`),
//!   [`html`] (the pages, `askama` templates in `crates/core/templates/`), [`feeds`] (Atom,
//!   RSS), [`ical`] (maintenance calendar), [`badge`] (SVG and Shields endpoint JSON),
//!   [`uptime`] (the bars and the uptime reports), [`i18n`] (English and Russian).
//! - [`document`]: the stored form, the store's keys, ETags and `304`s.
//! - [`publish`]: the refresh that keeps the store in step with the database.
//! - [`serve`]: reading a document for a request, publishing first when nothing is there yet.

pub mod badge;
pub mod document;
pub mod feeds;
pub mod html;
pub mod i18n;
pub mod ical;
pub mod model;
pub mod publish;
pub mod site;
pub mod status_json;
pub mod statuspage;
pub mod uptime;

/// Reading the snapshot for a request.
pub mod serve {
    use super::document::Document;
    use super::publish::{self, PublishError};
    use super::site::Site;
    use crate::env::Env;
    use crate::kv::KvError;

    /// Why a document could not be read.
    #[derive(Debug, thiserror::Error)]
    pub enum ServeError {
        /// The store failed.
        #[error(transparent)]
        Kv(#[from] KvError),
        /// Nothing was published yet, and publishing failed (the database is down).
        #[error("the status page has not been published yet and could not be: {0}")]
        NotPublished(PublishError),
        /// The configuration does not parse.
        #[error(transparent)]
        Config(#[from] crate::config::ConfigError),
    }

    /// The raw value at `key`; when the store holds no snapshot at all (a fresh store), the
    /// snapshot is published first. `None`: published, and there is no such document.
    ///
    /// # Errors
    /// The store failed, or nothing was published and the database cannot be reached.
    pub fn raw(env: &dyn Env, key: &str) -> Result<Option<Vec<u8>>, ServeError> {
        let kv = env.kv()?;
        if let Some(bytes) = kv.get(key)? {
            return Ok(Some(bytes));
        }
        if publish::is_published(kv)? {
            return Ok(None);
        }
        bootstrap(env)?;
        Ok(kv.get(key)?)
    }

    /// The document at `key` (see [`raw`]).
    ///
    /// # Errors
    /// As [`raw`].
    pub fn document(env: &dyn Env, key: &str) -> Result<Option<Document>, ServeError> {
        Ok(raw(env, key)?.and_then(Document::decode))
    }

    /// Makes sure a snapshot exists (publishing one if the store has none).
    ///
    /// # Errors
    /// As [`raw`].
    pub fn ensure_published(env: &dyn Env) -> Result<(), ServeError> {
        if !publish::is_published(env.kv()?)? {
            bootstrap(env)?;
        }
        Ok(())
    }

    fn bootstrap(env: &dyn Env) -> Result<(), ServeError> {
        let site = Site::of(env.config()?);
        let db = env.db().map_err(|e| ServeError::NotPublished(e.into()))?;
        let kv = env.kv()?;
        let report = publish::refresh(db, kv, &site, env.now()).map_err(ServeError::NotPublished)?;
        let fields = serde_json::to_value(&report).unwrap_or_default();
        crate::log::event("info", "public", "published the first snapshot of the public documents", fields);
        Ok(())
    }
}
