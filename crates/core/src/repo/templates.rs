//! SQL for event templates.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt, Param};
use crate::domain::EventType;
use crate::http::Page;

/// A template as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Id.
    pub id: Uuid,
    /// URL name, unique.
    pub slug: String,
    /// The event type it makes.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Title text with placeholders.
    pub title_template: String,
    /// Body text with placeholders.
    pub body_template: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

macro_rules! template_json {
    () => {
        "jsonb_build_object('id', t.id, 'slug', t.slug, 'type', t.type, 'title_template', t.title_template,
                            'body_template', t.body_template, 'created_at', rfc3339(t.created_at),
                            'updated_at', rfc3339(t.updated_at))"
    };
}

/// A page of templates and the total.
#[derive(Debug, Deserialize)]
pub struct TemplatePage {
    /// By slug.
    pub items: Vec<Template>,
    /// In all pages.
    pub total: u64,
}

/// Lists templates by slug.
///
/// # Errors
/// Database errors.
pub fn list_templates(db: &dyn Db, page: Page) -> Result<TemplatePage, DbError> {
    db.query_as(
        concat!(
            "select jsonb_build_object('total', (select count(*) from templates),
                 'items', coalesce((select jsonb_agg(",
            template_json!(),
            " order by t.slug) from (select * from templates order by slug limit $1 offset $2) t), '[]'::jsonb))"
        ),
        &[Param::Int64(page.limit()), Param::Int64(page.offset())],
    )
}

/// A template by slug.
///
/// # Errors
/// Database errors.
pub fn find_template(db: &dyn Db, slug: &str) -> Result<Option<Template>, DbError> {
    db.query_as(concat!("select (select ", template_json!(), " from templates t where t.slug = $1)"), &[slug.into()])
}

/// Stores a template.
///
/// # Errors
/// 409 `slug_taken`; database errors.
pub fn insert_template(
    db: &dyn Db,
    slug: &str,
    event_type: EventType,
    title: &str,
    body: &str,
) -> Result<Template, DbError> {
    db.query_as(
        concat!(
            "with t as (insert into templates (slug, type, title_template, body_template) values ($1, $2, $3, $4) returning *)
             select ",
            template_json!(),
            " from t"
        ),
        &[slug.into(), event_type.as_str().into(), title.into(), body.into()],
    )
}

/// Changes the given fields of template `id`; answers it.
///
/// # Errors
/// 409 `slug_taken`; database errors.
pub fn update_template(
    db: &dyn Db,
    id: Uuid,
    slug: Option<&str>,
    event_type: Option<EventType>,
    title: Option<&str>,
    body: Option<&str>,
) -> Result<Option<Template>, DbError> {
    db.query_as(
        concat!(
            "with t as (update templates set slug = coalesce($2, slug), type = coalesce($3, type),
                                             title_template = coalesce($4, title_template),
                                             body_template = coalesce($5, body_template), updated_at = now()
                        where id = $1 returning *)
             select (select ",
            template_json!(),
            " from t)"
        ),
        &[
            id.into(),
            slug.map(str::to_owned).into(),
            event_type.map(EventType::as_str).into(),
            title.map(str::to_owned).into(),
            body.map(str::to_owned).into(),
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
