//! SQL for event templates.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt, Window};
use crate::domain::{EventType, Template};
use crate::repo::{Listed, list_page};

/// The unique constraint on `templates.slug`.
pub const SLUG_KEY: &str = "templates_slug_key";

macro_rules! template_json {
    () => {
        "jsonb_build_object('id', t.id, 'slug', t.slug, 'type', t.type, 'title_template', t.title_template,
                            'body_template', t.body_template, 'created_at', rfc3339(t.created_at),
                            'updated_at', rfc3339(t.updated_at))"
    };
}

/// Lists templates, newest first.
///
/// # Errors
/// Database errors.
pub fn list_templates(db: &dyn Db, window: Window) -> Result<Listed<Template>, DbError> {
    list_page(db, ("select * from templates t", template_json!(), "t", "created_at desc, id"), Vec::new(), window)
}

/// A template by slug.
///
/// # Errors
/// Database errors.
pub fn find_template(db: &dyn Db, slug: &str) -> Result<Option<Template>, DbError> {
    db.query_as(concat!("select (select ", template_json!(), " from templates t where t.slug = $1)"), &[slug.into()])
}

/// A template's stored fields (`None`: unchanged on update; required on insert).
#[derive(Debug, Clone, Default)]
pub struct TemplateFields {
    /// URL name.
    pub slug: Option<String>,
    /// The event type it makes.
    pub event_type: Option<EventType>,
    /// Title text.
    pub title_template: Option<String>,
    /// Body text.
    pub body_template: Option<String>,
}

/// A template by id.
///
/// # Errors
/// Database errors.
pub fn find_template_by_id(db: &dyn Db, id: Uuid) -> Result<Option<Template>, DbError> {
    db.query_as(concat!("select (select ", template_json!(), " from templates t where t.id = $1)"), &[id.into()])
}

/// Stores a template created at `at`.
///
/// # Errors
/// A violation of [`SLUG_KEY`]; database errors.
pub fn insert_template(db: &dyn Db, fields: &TemplateFields, at: OffsetDateTime) -> Result<Template, DbError> {
    db.query_as(
        concat!(
            "with t as (insert into templates (slug, type, title_template, body_template, created_at, updated_at)
                        values ($1, $2, $3, coalesce($4, ''), $5::text::timestamptz, $5::text::timestamptz) returning *)
             select ",
            template_json!(),
            " from t"
        ),
        &[
            fields.slug.clone().into(),
            fields.event_type.map(EventType::as_str).into(),
            fields.title_template.clone().into(),
            fields.body_template.clone().into(),
            at.into(),
        ],
    )
}

/// Changes the given fields of template `id`; answers it.
///
/// # Errors
/// A violation of [`SLUG_KEY`]; database errors.
pub fn update_template(
    db: &dyn Db,
    id: Uuid,
    fields: &TemplateFields,
    at: OffsetDateTime,
) -> Result<Option<Template>, DbError> {
    db.query_as(
        concat!(
            "with t as (update templates set slug = coalesce($2, slug), type = coalesce($3, type),
                                             title_template = coalesce($4, title_template),
                                             body_template = coalesce($5, body_template),
                                             updated_at = $6::text::timestamptz
                        where id = $1 returning *)
             select (select ",
            template_json!(),
            " from t)"
        ),
        &[
            id.into(),
            fields.slug.clone().into(),
            fields.event_type.map(EventType::as_str).into(),
            fields.title_template.clone().into(),
            fields.body_template.clone().into(),
            at.into(),
        ],
    )
}

/// Deletes a template.
///
/// # Errors
/// Database errors.
pub fn delete_template(db: &dyn Db, id: Uuid) -> Result<(), DbError> {
    db.execute("delete from templates where id = $1", &[id.into()])?;
    Ok(())
}
