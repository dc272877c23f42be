//! Handlers of `/healthz`, `/readyz`, `/version`.

use crate::app::Ctx;
use crate::http::{ApiError, Response};

/// `GET /healthz`.
///
/// # Errors
/// None in practice; the signature is the handler's.
pub fn healthz(_: &Ctx<'_>) -> Result<Response, ApiError> {
    Ok(crate::ops::liveness())
}

/// `GET /readyz`.
///
/// # Errors
/// 503 when the database is unreachable or the schema cannot be brought up to date.
pub fn readyz(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    crate::ops::readiness(ctx.env)
}

/// `GET /version`.
///
/// # Errors
/// None in practice; the signature is the handler's.
pub fn version(_: &Ctx<'_>) -> Result<Response, ApiError> {
    Ok(crate::ops::version_response())
}

/// `GET /metrics`: Prometheus's text format. Open unless `metrics_token` is set; then it needs
/// `Authorization: Bearer <metrics_token>`.
///
/// # Errors
/// 401 without the token when one is set; 503 when the database is unreachable.
pub fn metrics(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let config = ctx.config()?;
    if !config.metrics_token.is_empty() {
        let given = ctx.request.header("authorization").and_then(|h| h.strip_prefix("Bearer ")).unwrap_or_default();
        if !crate::auth::tokens::hashes_equal(given.trim(), &config.metrics_token) {
            return Err(ApiError::Unauthorized("send the metrics_token as `Authorization: Bearer <token>`".into()));
        }
    }
    let state = crate::repo::metrics::state(ctx.db()?, ctx.now)?;
    let (version, commit) = crate::ops::build();
    Ok(Response::with_body(
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        crate::metrics::render(&state, (version, commit)).into_bytes(),
    )
    .with_header("cache-control", "no-store"))
}

/// The OpenAPI document, as shipped in `api/openapi.yaml`.
pub const OPENAPI_YAML: &str = include_str!("../../../../api/openapi.yaml");

/// `GET /api/openapi.yaml`.
///
/// # Errors
/// None in practice; the signature is the handler's.
pub fn openapi(_: &Ctx<'_>) -> Result<Response, ApiError> {
    Ok(Response::with_body(200, "application/yaml", OPENAPI_YAML.as_bytes().to_vec()))
}

/// Any path no component route matched.
///
/// # Errors
/// Always 404 `not_found`.
pub fn not_found(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    Err(ApiError::NotFound(format!("no route for {}", ctx.request.path)))
}
