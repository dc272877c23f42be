//! Liveness, readiness and version.

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

/// The commit the build was made from (`STATUSPAGE_COMMIT` at build time; `make` sets it).
pub const COMMIT: &str = match option_env!("STATUSPAGE_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};

/// When that commit was made (`STATUSPAGE_BUILD_DATE`, RFC 3339; the commit's date rather than
/// the time of the build, so that rebuilding the same commit gives the same components).
pub const BUILD_DATE: &str = match option_env!("STATUSPAGE_BUILD_DATE") {
    Some(date) => date,
    None => "unknown",
};

/// The build's version and commit.
#[must_use]
pub fn build() -> (&'static str, &'static str) {
    (env!("CARGO_PKG_VERSION"), COMMIT)
}

/// `/version`: ours in `data`, and the old service's bare `{version, commit, build_date}` at
/// the top level.
#[must_use]
pub fn version_response() -> Response {
    Response::json(
        200,
        &serde_json::json!({ "data": version(), "version": env!("CARGO_PKG_VERSION"), "commit": COMMIT, "build_date": BUILD_DATE }),
    )
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
