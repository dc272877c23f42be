//! SQL for services.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt, Param};
use crate::domain::{Service, ServiceStatus};
use crate::http::Page;

/// The API shape of the service aliased `s`, built in SQL. `effective_status` and
/// `has_active_events` come from the SQL functions of migration 0004 (the one definition of
/// derived status).
macro_rules! service_json {
    () => {
        "jsonb_build_object(
            'id', s.id, 'name', s.name, 'slug', s.slug, 'description', s.description,
            'status', s.status, 'effective_status', service_effective_status(s.id, s.status),
            'has_active_events', service_has_active_events(s.id),
            'group_ids', coalesce((select jsonb_agg(sg.group_id order by g.display_order, g.name)
                                   from service_groups sg join groups g on g.id = sg.group_id
                                   where sg.service_id = s.id and g.archived_at is null), '[]'::jsonb),
            'order', s.display_order, 'tags', s.tags,
            'created_at', rfc3339(s.created_at), 'updated_at', rfc3339(s.updated_at),
            'archived_at', rfc3339(s.archived_at))"
    };
}

/// Filters of the service list.
#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    /// Only services in this group.
    pub group_id: Option<Uuid>,
    /// Only services with this effective status.
    pub status: Option<ServiceStatus>,
    /// Include archived services.
    pub include_archived: bool,
    /// Case-insensitive text in name, slug or description.
    pub text: Option<String>,
}

/// A page of services and the total over all pages.
#[derive(Debug, Deserialize)]
pub struct ServicePage {
    /// This page, by `order` then name.
    pub items: Vec<Service>,
    /// Matching services in all pages.
    pub total: u64,
}

/// Lists services by `order`, then name.
///
/// # Errors
/// Database errors.
pub fn list_services(db: &dyn Db, filter: &ServiceFilter, page: Page) -> Result<ServicePage, DbError> {
    db.query_as(
        concat!(
            "with matching as (
                 select s.* from services s
                 where ($1 or s.archived_at is null)
                   and ($2::uuid is null or exists (select 1 from service_groups sg
                                                   where sg.service_id = s.id and sg.group_id = $2::uuid))
                   and ($3::text is null or service_effective_status(s.id, s.status) = $3::text)
                   and ($4::text is null or strpos(lower(s.name || ' ' || s.slug || ' ' || s.description),
                                                   lower($4::text)) > 0))
             select jsonb_build_object(
                 'total', (select count(*) from matching),
                 'items', coalesce((select jsonb_agg(",
            service_json!(),
            " order by s.display_order, s.name)
                                    from (select * from matching order by display_order, name
                                          limit $5 offset $6) s), '[]'::jsonb))"
        ),
        &[
            Param::Bool(filter.include_archived),
            filter.group_id.into(),
            filter.status.map(|s| s.as_str()).into(),
            filter.text.clone().into(),
            Param::Int64(page.limit()),
            Param::Int64(page.offset()),
        ],
    )
}

/// A service by slug, archived or not.
///
/// # Errors
/// Database errors.
pub fn find_service_by_slug(db: &dyn Db, slug: &str) -> Result<Option<Service>, DbError> {
    db.query_as(concat!("select (select ", service_json!(), " from services s where s.slug = $1)"), &[slug.into()])
}

/// The stored fields of a service, for create and update (`None`: unchanged on update).
#[derive(Debug, Clone, Default)]
pub struct ServiceFields {
    /// Display name.
    pub name: Option<String>,
    /// URL name.
    pub slug: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Stored status.
    pub status: Option<ServiceStatus>,
    /// Sort key.
    pub order: Option<i32>,
    /// Labels.
    pub tags: Option<serde_json::Value>,
}

impl ServiceFields {
    /// The fields as statement parameters, in column order: name, slug, description, status,
    /// display_order, tags (`NULL` for `None`).
    fn params(&self) -> Vec<Param> {
        vec![
            self.name.clone().into(),
            self.slug.clone().into(),
            self.description.clone().into(),
            self.status.map(ServiceStatus::as_str).into(),
            self.order.into(),
            self.tags.clone().map_or(Param::Null, Param::Jsonb),
        ]
    }
}

/// Creates a service; answers its id.
///
/// # Errors
/// 409 `slug_taken` by constraint; database errors.
pub fn insert_service(db: &dyn Db, fields: &ServiceFields) -> Result<Uuid, DbError> {
    db.query_as(
        "with s as (insert into services (name, slug, description, status, display_order, tags)
                    values ($1, $2, coalesce($3, ''), coalesce($4, 'operational'), coalesce($5, 0),
                            coalesce($6, '{}'::jsonb))
                    returning id)
         select to_jsonb(id) from s",
        &fields.params(),
    )
}

/// Changes the given fields of service `id`.
///
/// # Errors
/// 409 `slug_taken`; database errors.
pub fn update_service(db: &dyn Db, id: Uuid, fields: &ServiceFields) -> Result<(), DbError> {
    db.execute(
        "update services set name = coalesce($2, name), slug = coalesce($3, slug),
                             description = coalesce($4, description), status = coalesce($5, status),
                             display_order = coalesce($6, display_order), tags = coalesce($7, tags),
                             updated_at = now()
         where id = $1",
        &[vec![id.into()], fields.params()].concat(),
    )?;
    Ok(())
}

/// Archives (`true`) or restores (`false`) a service; archiving an archived one keeps its time.
///
/// # Errors
/// Database errors.
pub fn set_service_archived(db: &dyn Db, id: Uuid, archived: bool) -> Result<(), DbError> {
    db.execute(
        "update services set archived_at = case when $2 then coalesce(archived_at, now()) else null end,
                             updated_at = now()
         where id = $1",
        &[id.into(), Param::Bool(archived)],
    )?;
    Ok(())
}

/// Replaces the groups of service `id`.
///
/// # Errors
/// Database errors.
pub fn set_service_groups(db: &dyn Db, id: Uuid, groups: &[Uuid]) -> Result<(), DbError> {
    db.execute("delete from service_groups where service_id = $1", &[id.into()])?;
    db.execute(
        "insert into service_groups (service_id, group_id) select $1, g::uuid from unnest($2::text[]) g on conflict do nothing",
        &[id.into(), Param::TextArray(groups.iter().map(Uuid::to_string).collect())],
    )?;
    Ok(())
}

/// Appends to a service's status log.
///
/// # Errors
/// Database errors.
pub fn log_status_change(
    db: &dyn Db,
    service: Uuid,
    from: Option<ServiceStatus>,
    to: ServiceStatus,
    source: &str,
    reason: &str,
    actor: Option<Uuid>,
) -> Result<(), DbError> {
    db.execute(
        "insert into service_status_log (service_id, from_status, to_status, source, reason, actor_id)
         values ($1, $2, $3, $4, $5, $6)",
        &[
            service.into(),
            from.map(ServiceStatus::as_str).into(),
            to.as_str().into(),
            source.into(),
            reason.into(),
            actor.into(),
        ],
    )?;
    Ok(())
}

/// One status-log entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusLogEntry {
    /// Sequence number.
    pub id: i64,
    /// Before (none for the first entry).
    pub from_status: Option<ServiceStatus>,
    /// After.
    pub to_status: ServiceStatus,
    /// `manual`, `event`, `webhook`, `scheduler`.
    pub source: String,
    /// Why.
    pub reason: String,
    /// Who, for manual changes.
    pub actor_id: Option<Uuid>,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// A page of status-log entries and the total.
#[derive(Debug, Deserialize)]
pub struct StatusLogPage {
    /// Newest first.
    pub items: Vec<StatusLogEntry>,
    /// In all pages.
    pub total: u64,
}

/// A service's status log, newest first.
///
/// # Errors
/// Database errors.
pub fn list_status_log(db: &dyn Db, service: Uuid, page: Page) -> Result<StatusLogPage, DbError> {
    db.query_as(
        "with matching as (select * from service_status_log where service_id = $1)
         select jsonb_build_object(
             'total', (select count(*) from matching),
             'items', coalesce((select jsonb_agg(jsonb_build_object(
                 'id', l.id, 'from_status', l.from_status, 'to_status', l.to_status, 'source', l.source,
                 'reason', l.reason, 'actor_id', l.actor_id, 'created_at', rfc3339(l.created_at))
                 order by l.created_at desc, l.id desc)
                 from (select * from matching order by created_at desc, id desc limit $2 offset $3) l), '[]'::jsonb))",
        &[service.into(), Param::Int64(page.limit()), Param::Int64(page.offset())],
    )
}

/// Of `ids`, those that are not live (unknown or archived) groups.
///
/// # Errors
/// Database errors.
pub fn missing_groups(db: &dyn Db, ids: &[Uuid]) -> Result<Vec<Uuid>, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(g), '[]') from unnest($1::text[]) g
         where not exists (select 1 from groups where id = g::uuid and archived_at is null)",
        &[Param::TextArray(ids.iter().map(Uuid::to_string).collect())],
    )
}

/// A service by id.
///
/// # Errors
/// Database errors.
pub fn find_service(db: &dyn Db, id: Uuid) -> Result<Option<Service>, DbError> {
    db.query_as(concat!("select (select ", service_json!(), " from services s where s.id = $1)"), &[id.into()])
}

/// The names of `ids`, by order then name.
///
/// # Errors
/// Database errors.
pub fn service_names(db: &dyn Db, ids: &[Uuid]) -> Result<Vec<String>, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(name order by display_order, name), '[]'::jsonb)
         from services where id = any($1::text[]::uuid[])",
        &[Param::TextArray(ids.iter().map(Uuid::to_string).collect())],
    )
}
