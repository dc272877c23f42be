//! Group writes.

use time::OffsetDateTime;
use uuid::Uuid;

use super::check_members;
use crate::actor::Actor;
use crate::audit::{Audited, Entry};
use crate::db::Db;
use crate::domain::Group;
use crate::error::{Error, OnConstraint};
use crate::repo::groups::{self, GroupFields};
use crate::repo::memberships::{self, Side};

/// Create a group (name and slug required), or change one (`None`: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupInput {
    /// The stored fields.
    pub fields: GroupFields,
    /// Replaces the members.
    pub service_ids: Option<Vec<Uuid>>,
}

fn slug_taken() -> Error {
    Error::conflict("slug_taken", "a group with this slug already exists")
}

/// Group `slug`, archived or not.
///
/// # Errors
/// 404.
pub fn find_by_slug(db: &dyn Db, slug: &str) -> Result<Group, Error> {
    groups::find_group_by_slug(db, slug)?.ok_or_else(|| Error::NotFound(format!("no group has the slug {slug:?}")))
}

fn find(db: &dyn Db, id: Uuid) -> Result<Group, Error> {
    groups::find_group(db, id)?.ok_or_else(|| Error::NotFound(format!("no group has id {id}")))
}

/// Creates a group with its members. Call it inside a transaction.
///
/// # Errors
/// 400 without a name or slug, or for unknown or archived services; 409 `slug_taken`.
pub fn create_group(
    db: &dyn Db,
    _actor: &Actor,
    now: OffsetDateTime,
    input: GroupInput,
) -> Result<Audited<Group>, Error> {
    super::require_name_and_slug(input.fields.name.as_ref(), input.fields.slug.as_ref())?;
    let members = input.service_ids.clone().unwrap_or_default();
    check_members(db, Side::Services, "service_ids", &members)?;
    let id = groups::insert_group(db, &input.fields, now).on_constraint(groups::SLUG_KEY, slug_taken)?;
    memberships::replace(db, Side::Groups, id, &members)?;
    let group = find(db, id)?;
    Ok(Audited { entry: Entry::new("group.create", "group", id).after(&group), value: group })
}

/// Changes group `slug`. Call it inside a transaction.
///
/// # Errors
/// 404; 400 for unknown or archived services; 409 `slug_taken`.
pub fn update_group(
    db: &dyn Db,
    _actor: &Actor,
    now: OffsetDateTime,
    slug: &str,
    input: GroupInput,
) -> Result<Audited<Group>, Error> {
    let before = find_by_slug(db, slug)?;
    if let Some(members) = &input.service_ids {
        check_members(db, Side::Services, "service_ids", members)?;
        memberships::replace(db, Side::Groups, before.id, members)?;
    }
    groups::update_group(db, before.id, &input.fields, now).on_constraint(groups::SLUG_KEY, slug_taken)?;
    changed(db, "group.update", before)
}

/// The group as it is now, with an audit row of `action` from `before` to now.
fn changed(db: &dyn Db, action: &'static str, before: Group) -> Result<Audited<Group>, Error> {
    let after = find(db, before.id)?;
    let entry = Entry::new(action, "group", before.id).before(&before).after(&after);
    Ok(Audited { value: after, entry })
}

/// Archives group `slug`. Call it inside a transaction.
///
/// # Errors
/// 404; 409 `group_has_live_services` while it has live services.
pub fn archive_group(db: &dyn Db, _actor: &Actor, now: OffsetDateTime, slug: &str) -> Result<Audited<()>, Error> {
    let before = find_by_slug(db, slug)?;
    if !before.service_ids.is_empty() {
        return Err(Error::conflict(
            "group_has_live_services",
            format!("the group still has {} live service(s); move or archive them first", before.service_ids.len()),
        ));
    }
    groups::set_group_archived(db, before.id, true, now)?;
    Ok(Audited { value: (), entry: changed(db, "group.archive", before)?.entry })
}

/// Restores archived group `slug`. Call it inside a transaction.
///
/// # Errors
/// 404.
pub fn restore_group(db: &dyn Db, _actor: &Actor, now: OffsetDateTime, slug: &str) -> Result<Audited<Group>, Error> {
    let before = find_by_slug(db, slug)?;
    groups::set_group_archived(db, before.id, false, now)?;
    changed(db, "group.restore", before)
}
