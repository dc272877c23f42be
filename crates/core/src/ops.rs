//! Liveness, readiness and version (SPEC §8).

use serde::Serialize;

use crate::env::Env;
use crate::http::{ApiError, Response};
use crate::migrate;

/// What `/version` answers.
#[derive(Debug, Serialize)]
pub struct VersionInfo {
    /// Product name.
    pub name: &'static str,
    /// Crate version.
    pub version: &'static str,
    /// The schema version this build expects.
    pub schema_version: i32,
}

/// The build's version.
#[must_use]
pub fn version() -> VersionInfo {
    VersionInfo { name: "statuspage", version: env!("CARGO_PKG_VERSION"), schema_version: migrate::latest_version() }
}

/// `/healthz`: the component runs. Never touches the database.
#[must_use]
pub fn liveness() -> Response {
    Response::data(&serde_json::json!({ "status": "ok" }))
}

/// `/readyz`: the database answers and the schema is current. Applies pending migrations (and
/// the development seed when enabled), so the orchestrator's readiness probe is the deploy step.
///
/// # Errors
/// 503 `not_ready` naming what is missing.
pub fn readiness(env: &dyn Env) -> Result<Response, ApiError> {
    // The body names what is missing; the cause (addresses, driver text) goes to the log only.
    let not_ready = |what: &str, cause: String| ApiError::Unavailable {
        message: format!("not ready: {what}"),
        retry_after: Some(5),
        cause: Some(cause),
    };
    // A misconfigured deploy must never become ready: say which variable is wrong.
    // (Configuration errors name a variable and a parse rule, never a secret value: only
    // booleans and numbers are parsed.)
    let dev_seed = env.config().map_err(|e| not_ready(&e.to_string(), e.to_string()))?.dev_seed;
    let db = env.db().map_err(|e| not_ready("database unreachable", e.to_string()))?;
    let status =
        migrate::ensure_schema(db, dev_seed).map_err(|e| not_ready("database schema not current", e.to_string()))?;
    Ok(Response::data(&serde_json::json!({
        "status": "ready",
        "database": "ok",
        "schema_version": status.version,
        "migrations_applied": status.applied,
    })))
}
