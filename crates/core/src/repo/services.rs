//! SQL for services.

use serde::Deserialize;
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt, Param};
use crate::domain::{Service, ServiceStatus};
use crate::http::Page;

/// The API shape of the service aliased `s`, built in SQL. `effective_status` and
/// `has_active_events` equal the stored status / `false` until events exist.
macro_rules! service_json {
    () => {
        "jsonb_build_object(
            'id', s.id, 'name', s.name, 'slug', s.slug, 'description', s.description,
            'status', s.status, 'effective_status', s.status, 'has_active_events', false,
            'group_ids', coalesce((select jsonb_agg(sg.group_id order by g.display_order, g.name)
                                   from service_groups sg join groups g on g.id = sg.group_id
                                   where sg.service_id = s.id), '[]'::jsonb),
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
    /// Only services with this status.
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
                   and ($3::text is null or s.status = $3::text)
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
