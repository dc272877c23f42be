//! `GET /api/v1/audit-log`.

use super::parse::{self, time_query, uuid_query};
use crate::app::Ctx;
use crate::auth::Action;
use crate::http::{ApiError, FieldError, Request, Response};
use crate::repo::audit::{self, AuditFilter};

/// `GET /api/v1/audit-log`: admins (or keys with `audit:read`); filters `actor_id`, `action`,
/// `entity_type`, `entity_id`, `from`, `to` (RFC 3339); newest first.
///
/// # Errors
/// 401, 403, 400 listing every bad parameter.
pub fn list(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    ctx.require(Action::ReadAuditLog)?;
    let filters = |request: &Request, errors: &mut Vec<FieldError>| AuditFilter {
        actor_id: uuid_query(request, "actor_id", errors),
        from: time_query(request, "from", errors),
        to: time_query(request, "to", errors),
        action: request.query_param("action").map(str::to_owned),
        entity_type: request.query_param("entity_type").map(str::to_owned),
        entity_id: request.query_param("entity_id").map(str::to_owned),
    };
    parse::list(ctx, parse::Listing::PAGED, filters, audit::list_entries)
}
