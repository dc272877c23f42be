//! `GET /api/v1/audit-log`.

use crate::app::Ctx;
use crate::auth::Action;
use crate::http::{ApiError, FieldError, Page, Response};
use crate::repo::audit::{self, AuditFilter};

/// `GET /api/v1/audit-log`: admins (or keys with `audit:read`); filters `actor_id`, `action`,
/// `entity_type`, `entity_id`, `from`, `to` (RFC 3339); newest first.
///
/// # Errors
/// 401, 403, 400 listing every bad parameter.
pub fn list(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::ReadAuditLog)?;
    let request = ctx.request;
    let mut errors = Vec::new();
    let page = Page::collect(request, &mut errors);
    let mut filter = AuditFilter::default();
    if let Some(raw) = request.query_param("actor_id") {
        match uuid::Uuid::parse_str(raw) {
            Ok(id) => filter.actor_id = Some(id),
            Err(_) => errors.push(FieldError::new("actor_id", "must be a UUID")),
        }
    }
    for (field, slot) in [("from", &mut filter.from), ("to", &mut filter.to)] {
        if let Some(raw) = request.query_param(field) {
            match crate::time::parse_rfc3339(raw) {
                Ok(t) => *slot = Some(crate::time::format_rfc3339(t)),
                Err(message) => errors.push(FieldError::new(field, message)),
            }
        }
    }
    filter.action = request.query_param("action").map(str::to_owned);
    filter.entity_type = request.query_param("entity_type").map(str::to_owned);
    filter.entity_id = request.query_param("entity_id").map(str::to_owned);
    let (Some(page), true) = (page, errors.is_empty()) else { return Err(ApiError::Validation(errors)) };
    let found = audit::list_entries(ctx.db()?, &filter, page)?;
    Ok(Response::list(&found.items, page.meta(found.total)))
}
