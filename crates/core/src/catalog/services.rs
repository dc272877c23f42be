//! Service writes.

use time::OffsetDateTime;
use uuid::Uuid;

use super::check_members;
use crate::actor::Actor;
use crate::audit::{Audited, Entry};
use crate::db::Db;
use crate::domain::{Service, ServiceStatus, StatusSource, Tags};
use crate::error::{Error, OnConstraint};
use crate::repo::memberships::{self, Side};
use crate::repo::services::{self, ServiceFields, StatusChange};

/// Create a service (name and slug required), or change one (`None`: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceInput {
    /// The stored fields.
    pub fields: ServiceFields,
    /// Replaces the groups it belongs to.
    pub group_ids: Option<Vec<Uuid>>,
    /// Why the stored status changes (for the status log).
    pub reason: Option<String>,
}

fn slug_taken() -> Error {
    Error::conflict("slug_taken", "a service with this slug already exists")
}

/// Service `slug`.
///
/// # Errors
/// 404.
pub fn find_by_slug(db: &dyn Db, slug: &str) -> Result<Service, Error> {
    services::find_service_by_slug(db, slug)?
        .ok_or_else(|| Error::NotFound(format!("no service has the slug {slug:?}")))
}

fn find(db: &dyn Db, id: Uuid) -> Result<Service, Error> {
    services::find_service(db, id)?.ok_or_else(|| Error::NotFound(format!("no service has id {id}")))
}

/// Creates a service in its groups and logs its first status. Call it inside a transaction.
///
/// # Errors
/// 400 without a name or slug, or for unknown or archived groups; 409 `slug_taken`.
pub fn create_service(
    db: &dyn Db,
    actor: &Actor,
    now: OffsetDateTime,
    new: ServiceInput,
) -> Result<Audited<Service>, Error> {
    super::require_name_and_slug(new.fields.name.as_ref(), new.fields.slug.as_ref())?;
    let groups = new.group_ids.unwrap_or_default();
    check_members(db, Side::Groups, "group_ids", &groups)?;
    let id = services::insert_service(db, &new.fields, now).on_constraint(services::SLUG_KEY, slug_taken)?;
    memberships::replace(db, Side::Services, id, &groups)?;
    let service = find(db, id)?;
    let first = StatusChange {
        service: id,
        from: None,
        to: service.status,
        source: StatusSource::Manual,
        reason: "created",
        actor: actor.id(),
        event: None,
        at: now,
    };
    services::log_status_change(db, &first)?;
    let entry = Entry::new("service.create", "service", id).after(&service);
    Ok(Audited { value: service, entry })
}

/// Changes service `slug`; a change of its stored status goes to the status log with the
/// patch's reason. Call it inside a transaction.
///
/// # Errors
/// 404; 400 for unknown or archived groups; 409 `slug_taken`.
pub fn update_service(
    db: &dyn Db,
    actor: &Actor,
    now: OffsetDateTime,
    slug: &str,
    patch: ServiceInput,
) -> Result<Audited<Service>, Error> {
    let before = find_by_slug(db, slug)?;
    if let Some(groups) = &patch.group_ids {
        check_members(db, Side::Groups, "group_ids", groups)?;
        memberships::replace(db, Side::Services, before.id, groups)?;
    }
    services::update_service(db, before.id, &patch.fields, now).on_constraint(services::SLUG_KEY, slug_taken)?;
    if let Some(status) = patch.fields.status.filter(|s| *s != before.status) {
        let reason = patch.reason.as_deref().unwrap_or_default();
        log_stored_status(db, &before, status, StatusSource::Manual, reason, actor, now)?;
    }
    changed(db, "service.update", before)
}

/// Sets the stored status of service `id` (for the scheduler and monitoring webhooks, which
/// act on services by id), logging the change with its source and reason. Nothing is written
/// when the status is already `status`. Call it inside a transaction.
///
/// # Errors
/// 404.
pub fn set_service_status(
    db: &dyn Db,
    actor: &Actor,
    now: OffsetDateTime,
    id: Uuid,
    status: ServiceStatus,
    (source, reason): (StatusSource, &str),
) -> Result<Audited<Service>, Error> {
    let before = find(db, id)?;
    if before.status != status {
        let row = ServiceFields { status: Some(status), ..ServiceFields::default() };
        services::update_service(db, id, &row, now)?;
        log_stored_status(db, &before, status, source, reason, actor, now)?;
    }
    changed(db, "service.status", before)
}

/// The service as it is now, with an audit row of `action` from `before` to now.
fn changed(db: &dyn Db, action: &'static str, before: Service) -> Result<Audited<Service>, Error> {
    let after = find(db, before.id)?;
    let entry = Entry::new(action, "service", before.id).before(&before).after(&after);
    Ok(Audited { value: after, entry })
}

fn log_stored_status(
    db: &dyn Db,
    before: &Service,
    to: ServiceStatus,
    source: StatusSource,
    reason: &str,
    actor: &Actor,
    at: OffsetDateTime,
) -> Result<(), Error> {
    let change = StatusChange {
        service: before.id,
        from: Some(before.status),
        to,
        source,
        reason,
        actor: actor.id(),
        event: None,
        at,
    };
    Ok(services::log_status_change(db, &change)?)
}

/// Replaces the tags of service `slug`. Call it inside a transaction.
///
/// # Errors
/// 404.
pub fn replace_tags(
    db: &dyn Db,
    _actor: &Actor,
    now: OffsetDateTime,
    slug: &str,
    tags: Tags,
) -> Result<Audited<Tags>, Error> {
    let before = find_by_slug(db, slug)?;
    services::update_service(db, before.id, &ServiceFields { tags: Some(tags), ..ServiceFields::default() }, now)?;
    let after = find(db, before.id)?;
    let entry = Entry::new("service.tags", "service", before.id).before(&before.tags).after(&after.tags);
    Ok(Audited { value: after.tags, entry })
}

/// Archives service `slug` (its memberships are kept for a restore). Call it inside a
/// transaction.
///
/// # Errors
/// 404; 409 `service_has_active_events` while an active event affects it.
pub fn archive_service(db: &dyn Db, _actor: &Actor, now: OffsetDateTime, slug: &str) -> Result<Audited<()>, Error> {
    let before = find_by_slug(db, slug)?;
    if before.has_active_events {
        return Err(Error::conflict(
            "service_has_active_events",
            "the service is affected by an active event; resolve it first",
        ));
    }
    services::set_service_archived(db, before.id, true, now)?;
    Ok(Audited { value: (), entry: changed(db, "service.archive", before)?.entry })
}

/// Restores archived service `slug`. Call it inside a transaction.
///
/// # Errors
/// 404.
pub fn restore_service(
    db: &dyn Db,
    _actor: &Actor,
    now: OffsetDateTime,
    slug: &str,
) -> Result<Audited<Service>, Error> {
    let before = find_by_slug(db, slug)?;
    services::set_service_archived(db, before.id, false, now)?;
    changed(db, "service.restore", before)
}
