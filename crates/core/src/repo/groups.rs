//! SQL for service groups.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt, Param, Window};
use crate::domain::{Group, Name, Slug};
use crate::repo::{Listed, list_page};

/// The unique constraint on `groups.slug`.
pub const SLUG_KEY: &str = "groups_slug_key";

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
pub(crate) use group_json;

/// Lists groups by `order`, then name.
///
/// # Errors
/// Database errors.
pub fn list_groups(
    db: &dyn Db,
    include_archived: bool,
    text: Option<&str>,
    window: Window,
) -> Result<Listed<Group>, DbError> {
    let matching = "select * from groups g
                    where ($1 or g.archived_at is null)
                      and ($2::text is null
                           or strpos(lower(g.name || ' ' || g.slug || ' ' || g.description), lower($2::text)) > 0)";
    let params = vec![Param::Bool(include_archived), text.map(str::to_owned).into()];
    list_page(db, (matching, group_json!(), "g", "display_order, name"), params, window)
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

/// The stored fields of a group, for create (name and slug required) and update (`None`:
/// unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFields {
    /// Display name.
    pub name: Option<Name>,
    /// URL name.
    pub slug: Option<Slug>,
    /// Free text.
    pub description: Option<String>,
    /// Sort key.
    pub order: Option<i32>,
}

impl GroupFields {
    /// The fields as parameters, in column order: name, slug, description, display_order.
    fn params(&self) -> Vec<Param> {
        vec![
            self.name.as_ref().map(Name::as_str).into(),
            self.slug.as_ref().map(Slug::as_str).into(),
            self.description.clone().into(),
            self.order.into(),
        ]
    }
}

/// Creates a group at `at`; answers its id.
///
/// # Errors
/// A violation of [`SLUG_KEY`]; database errors.
pub fn insert_group(db: &dyn Db, fields: &GroupFields, at: OffsetDateTime) -> Result<Uuid, DbError> {
    db.query_as(
        "with g as (insert into groups (name, slug, description, display_order, created_at, updated_at)
                    values ($1, $2, coalesce($3, ''), coalesce($4, 0), $5::text::timestamptz, $5::text::timestamptz)
                    returning id)
         select to_jsonb(id) from g",
        &[fields.params(), vec![at.into()]].concat(),
    )
}

/// Changes the given fields of group `id`.
///
/// # Errors
/// A violation of [`SLUG_KEY`]; database errors.
pub fn update_group(db: &dyn Db, id: Uuid, fields: &GroupFields, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update groups set name = coalesce($2, name), slug = coalesce($3, slug),
                           description = coalesce($4, description), display_order = coalesce($5, display_order),
                           updated_at = $6::text::timestamptz
         where id = $1",
        &[vec![id.into()], fields.params(), vec![at.into()]].concat(),
    )?;
    Ok(())
}

/// Archives (`true`) or restores (`false`) a group.
///
/// # Errors
/// Database errors.
pub fn set_group_archived(db: &dyn Db, id: Uuid, archived: bool, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update groups set archived_at = case when $2 then coalesce(archived_at, $3::text::timestamptz) else null end,
                           updated_at = $3::text::timestamptz
         where id = $1",
        &[id.into(), Param::Bool(archived), at.into()],
    )?;
    Ok(())
}

/// The names of groups `ids`, by order then name.
///
/// # Errors
/// Database errors.
pub fn group_names(db: &dyn Db, ids: &[Uuid]) -> Result<Vec<String>, DbError> {
    db.query_as(
        "select coalesce(jsonb_agg(name order by display_order, name), '[]'::jsonb)
         from groups where id = any($1::text[]::uuid[])",
        &[ids.into()],
    )
}
