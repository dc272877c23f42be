//! SQL for service groups.

use serde::Deserialize;
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt, Param};
use crate::domain::Group;
use crate::http::Page;

/// The API shape of the group aliased `g`.
macro_rules! group_json {
    () => {
        "jsonb_build_object(
            'id', g.id, 'name', g.name, 'slug', g.slug, 'description', g.description, 'order', g.display_order,
            'service_ids', coalesce((select jsonb_agg(s.id order by s.display_order, s.name)
                                     from service_groups sg join services s on s.id = sg.service_id
                                     where sg.group_id = g.id and s.archived_at is null), '[]'::jsonb),
            'created_at', rfc3339(g.created_at), 'updated_at', rfc3339(g.updated_at),
            'archived_at', rfc3339(g.archived_at))"
    };
}

/// A page of groups and the total.
#[derive(Debug, Deserialize)]
pub struct GroupPage {
    /// By order, then name.
    pub items: Vec<Group>,
    /// In all pages.
    pub total: u64,
}

/// Lists groups by `order`, then name.
///
/// # Errors
/// Database errors.
pub fn list_groups(db: &dyn Db, include_archived: bool, text: Option<&str>, page: Page) -> Result<GroupPage, DbError> {
    db.query_as(
        concat!(
            "with matching as (
                 select * from groups g
                 where ($1 or g.archived_at is null)
                   and ($2::text is null or strpos(lower(g.name || ' ' || g.slug || ' ' || g.description), lower($2::text)) > 0))
             select jsonb_build_object(
                 'total', (select count(*) from matching),
                 'items', coalesce((select jsonb_agg(",
            group_json!(),
            " order by g.display_order, g.name)
                                    from (select * from matching order by display_order, name limit $3 offset $4) g),
                                   '[]'::jsonb))"
        ),
        &[Param::Bool(include_archived), text.map(str::to_owned).into(), Param::Int64(page.limit()), Param::Int64(page.offset())],
    )
}

/// A group by slug, archived or not.
///
/// # Errors
/// Database errors.
pub fn find_group_by_slug(db: &dyn Db, slug: &str) -> Result<Option<Group>, DbError> {
    db.query_as(concat!("select (select ", group_json!(), " from groups g where g.slug = $1)"), &[slug.into()])
}

/// A group by id.
///
/// # Errors
/// Database errors.
pub fn find_group(db: &dyn Db, id: Uuid) -> Result<Option<Group>, DbError> {
    db.query_as(concat!("select (select ", group_json!(), " from groups g where g.id = $1)"), &[id.into()])
}

/// The stored fields of a group (`None`: unchanged on update).
#[derive(Debug, Clone, Default)]
pub struct GroupFields {
    /// Display name.
    pub name: Option<String>,
    /// URL name.
    pub slug: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Sort key.
    pub order: Option<i32>,
}

/// Creates a group; answers its id.
///
/// # Errors
/// 409 `slug_taken` by constraint; database errors.
pub fn insert_group(db: &dyn Db, fields: &GroupFields) -> Result<Uuid, DbError> {
    db.query_as(
        "with g as (insert into groups (name, slug, description, display_order)
                    values ($1, $2, coalesce($3, ''), coalesce($4, 0)) returning id)
         select to_jsonb(id) from g",
        &[
            fields.name.clone().into(),
            fields.slug.clone().into(),
            fields.description.clone().into(),
            fields.order.into(),
        ],
    )
}

/// Changes the given fields of group `id`.
///
/// # Errors
/// 409 `slug_taken`; database errors.
pub fn update_group(db: &dyn Db, id: Uuid, fields: &GroupFields) -> Result<(), DbError> {
    db.execute(
        "update groups set name = coalesce($2, name), slug = coalesce($3, slug),
                           description = coalesce($4, description), display_order = coalesce($5, display_order),
                           updated_at = now()
         where id = $1",
        &[
            id.into(),
            fields.name.clone().into(),
            fields.slug.clone().into(),
            fields.description.clone().into(),
            fields.order.into(),
        ],
    )?;
    Ok(())
}

/// Archives (`true`) or restores (`false`) a group.
///
/// # Errors
/// Database errors.
pub fn set_group_archived(db: &dyn Db, id: Uuid, archived: bool) -> Result<(), DbError> {
    db.execute(
        "update groups set archived_at = case when $2 then coalesce(archived_at, now()) else null end, updated_at = now()
         where id = $1",
        &[id.into(), Param::Bool(archived)],
    )?;
    Ok(())
}

/// Replaces the services of group `id`.
///
/// # Errors
/// Database errors.
pub fn set_group_services(db: &dyn Db, id: Uuid, services: &[Uuid]) -> Result<(), DbError> {
    db.execute("delete from service_groups where group_id = $1", &[id.into()])?;
    db.execute(
        "insert into service_groups (service_id, group_id) select s::uuid, $1 from unnest($2::text[]) s on conflict do nothing",
        &[id.into(), Param::TextArray(services.iter().map(Uuid::to_string).collect())],
    )?;
    Ok(())
}

/// Of `ids`, those that are not live (unknown or archived) services.
///
/// # Errors
/// Database errors.
pub fn missing_services(db: &dyn Db, ids: &[Uuid]) -> Result<Vec<Uuid>, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(s), '[]') from unnest($1::text[]) s
         where not exists (select 1 from services where id = s::uuid and archived_at is null)",
        &[Param::TextArray(ids.iter().map(Uuid::to_string).collect())],
    )
}
