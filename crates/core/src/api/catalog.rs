//! Handlers of `/api/v1/services` and `/api/v1/groups` (SPEC §4).

use crate::app::Ctx;
use crate::domain::ServiceStatus;
use crate::http::{ApiError, FieldError, Page, Request, Response};
use crate::repo::services::{self, ServiceFilter};

/// `GET /api/v1/services`: public; `page`, `per_page`, `group_id`, `status`, `include_archived`, `q`.
///
/// # Errors
/// 400 listing every bad query parameter; 503 when the database is down.
pub fn list_services(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let page = Page::collect(ctx.request, &mut errors);
    let filter = service_filter(ctx.request, &mut errors);
    let (Some(page), true) = (page, errors.is_empty()) else { return Err(ApiError::Validation(errors)) };
    let found = services::list_services(ctx.db()?, &filter, page)?;
    Ok(Response::list(&found.items, page.meta(found.total)))
}

/// `GET /api/v1/services/{slug}`: public, archived services included.
///
/// # Errors
/// 404 when no service has the slug.
pub fn get_service(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let slug = ctx.param("slug");
    services::find_service_by_slug(ctx.db()?, slug)?
        .map(|service| Response::data(&service))
        .ok_or_else(|| ApiError::NotFound(format!("no service has the slug {slug:?}")))
}

fn service_filter(request: &Request, errors: &mut Vec<FieldError>) -> ServiceFilter {
    let mut filter = ServiceFilter::default();
    if let Some(raw) = request.query_param("group_id") {
        match uuid::Uuid::parse_str(raw) {
            Ok(id) => filter.group_id = Some(id),
            Err(_) => errors.push(FieldError::new("group_id", "must be a UUID")),
        }
    }
    if let Some(raw) = request.query_param("status") {
        match ServiceStatus::parse(raw) {
            Ok(status) => filter.status = Some(status),
            Err(message) => errors.push(FieldError::new("status", message)),
        }
    }
    match request.query_param("include_archived") {
        None | Some("false") => {}
        Some("true") => filter.include_archived = true,
        Some(_) => errors.push(FieldError::new("include_archived", "must be true or false")),
    }
    filter.text = request.query_param("q").map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
    filter
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(query: &str) -> Result<ServiceFilter, ApiError> {
        let mut errors = Vec::new();
        let filter =
            service_filter(&Request::new("GET", &format!("/api/v1/services?{query}"), vec![], vec![]), &mut errors);
        if errors.is_empty() { Ok(filter) } else { Err(ApiError::Validation(errors)) }
    }

    #[test]
    fn filters_parse_and_every_bad_one_is_listed() {
        let ok = filter("status=degraded&include_archived=true&q=%20api%20").expect("valid");
        assert_eq!(ok.status, Some(ServiceStatus::Degraded));
        assert!(ok.include_archived);
        assert_eq!(ok.text.as_deref(), Some("api"));
        let Err(ApiError::Validation(errors)) = filter("group_id=nope&status=on-fire&include_archived=yes") else {
            panic!("expected 400");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["group_id", "status", "include_archived"]);
    }
}
