//! The catalog as use cases: service and group writes, and the stored-status change the
//! scheduler and monitoring webhooks make. Each takes the actor and the time, runs inside the
//! caller's transaction, and answers its result with the audit row it calls for.

mod groups;
mod services;

pub use groups::{GroupInput, archive_group, create_group, restore_group, update_group};
pub use services::{
    ServiceInput, archive_service, create_service, replace_tags, restore_service, set_service_status, update_service,
};

/// Reads the API answers directly.
pub mod read {
    pub use super::groups::find_by_slug as group;
    pub use super::services::find_by_slug as service;
}

use uuid::Uuid;

use crate::db::Db;
use crate::domain::{Name, Slug};
use crate::error::{Error, FieldError};
use crate::repo::memberships::{self, Side};

/// A new service or group needs a name and a slug (parsers require them; other callers
/// building inputs by hand are held to it here).
fn require_name_and_slug(name: Option<&Name>, slug: Option<&Slug>) -> Result<(), Error> {
    let missing: Vec<FieldError> = [("name", name.is_none()), ("slug", slug.is_none())]
        .into_iter()
        .filter(|(_, missing)| *missing)
        .map(|(field, _)| FieldError::new(field, "is required"))
        .collect();
    if missing.is_empty() { Ok(()) } else { Err(Error::Invalid(missing)) }
}

/// Refuses unknown or archived `ids` (on `side`) of a membership list, with a 400 on `field`
/// naming them.
fn check_members(db: &dyn Db, side: Side, field: &str, ids: &[Uuid]) -> Result<(), Error> {
    let missing = memberships::missing(db, side, ids)?;
    if missing.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = missing.iter().map(Uuid::to_string).collect();
    Err(Error::invalid(field, format!("unknown or archived: {}", ids.join(", "))))
}
