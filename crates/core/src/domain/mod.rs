//! Domain types: values with invariants and the shapes the API shows.

mod event;
mod group;
mod service;
pub mod template;
mod text;
mod user;

pub use event::{
    AffectedService, Automation, ChangeKind, Event, EventChange, EventStatus, EventType, EventUpdate,
    EventWithTimeline, Severity,
};
pub use group::Group;
pub use service::{Service, ServiceStatus, StatusLogEntry, StatusSource, Tags};
pub use template::Template;
pub use text::{DisplayName, MAX_NAME, MAX_SLUG, MAX_TITLE, Name, Slug, Title, bounded, non_empty};
pub use user::{Email, User};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// When a catalog entry was created, last changed and archived (`archived_at` null while live).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// Created.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
    /// Last changed.
    #[serde(with = "crate::time::serde")]
    pub updated_at: OffsetDateTime,
    /// When archived.
    #[serde(with = "crate::time::serde::option")]
    pub archived_at: Option<OffsetDateTime>,
}
