//! SQL for API keys.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::Role;
use crate::db::{Db, DbError, DbExt, Param, Window};
use crate::repo::{Listed, list_page};

/// The unique constraint on `api_keys.prefix` (a random prefix colliding: retry).
pub const PREFIX_KEY: &str = "api_keys_prefix_key";

/// An API key as the API lists it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// The public part (`spk_<prefix>_...`).
    pub prefix: String,
    /// Role ceiling.
    pub role: Role,
    /// Scopes.
    pub scopes: Vec<String>,
    /// When it stops working.
    #[serde(with = "crate::time::serde::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Last authenticated request.
    #[serde(with = "crate::time::serde::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// Creator.
    pub created_by: Option<Uuid>,
    /// Created.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
    /// When revoked.
    #[serde(with = "crate::time::serde::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

macro_rules! key_json {
    () => {
        "jsonb_build_object(
            'id', k.id, 'name', k.name, 'prefix', k.prefix, 'role', k.role, 'scopes', to_jsonb(k.scopes),
            'expires_at', rfc3339(k.expires_at), 'last_used_at', rfc3339(k.last_used_at),
            'created_by', k.created_by, 'created_at', rfc3339(k.created_at), 'revoked_at', rfc3339(k.revoked_at))"
    };
}

/// A new key's stored fields.
#[derive(Debug, Clone)]
pub struct NewApiKey<'a> {
    /// Name.
    pub name: &'a str,
    /// Public prefix.
    pub prefix: &'a str,
    /// SHA-256 of the whole secret.
    pub secret_hash: &'a str,
    /// Role ceiling.
    pub role: Role,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Expiry.
    pub expires_at: Option<OffsetDateTime>,
    /// Creator.
    pub created_by: Option<Uuid>,
}

/// Stores a key created at `at`.
///
/// # Errors
/// A violation of [`PREFIX_KEY`]; database errors.
pub fn insert_key(db: &dyn Db, key: &NewApiKey<'_>, at: OffsetDateTime) -> Result<ApiKey, DbError> {
    db.query_as(
        concat!(
            "with k as (insert into api_keys (name, prefix, secret_hash, role, scopes, expires_at, created_by, created_at)
                        values ($1, $2, $3, $4, $5, $6::text::timestamptz, $7, $8::text::timestamptz) returning *)
             select ",
            key_json!(),
            " from k"
        ),
        &[
            key.name.into(),
            key.prefix.into(),
            key.secret_hash.into(),
            key.role.as_str().into(),
            Param::TextArray(key.scopes.clone()),
            key.expires_at.into(),
            key.created_by.into(),
            at.into(),
        ],
    )
}

/// Lists keys, newest first; revoked ones only when asked.
///
/// # Errors
/// Database errors.
pub fn list_keys(db: &dyn Db, include_revoked: bool, window: Window) -> Result<Listed<ApiKey>, DbError> {
    let matching = "select * from api_keys k where $1 or revoked_at is null";
    list_page(db, (matching, key_json!(), "k", "created_at desc, id"), vec![Param::Bool(include_revoked)], window)
}

/// A key by id.
///
/// # Errors
/// Database errors.
pub fn find_key(db: &dyn Db, id: Uuid) -> Result<Option<ApiKey>, DbError> {
    db.query_as(concat!("select (select ", key_json!(), " from api_keys k where k.id = $1)"), &[id.into()])
}

/// Revokes a key at `at` (idempotent); answers it, `None` when it does not exist.
///
/// # Errors
/// Database errors.
pub fn revoke_key(db: &dyn Db, id: Uuid, at: OffsetDateTime) -> Result<Option<ApiKey>, DbError> {
    db.query_as(
        concat!(
            "with k as (update api_keys set revoked_at = coalesce(revoked_at, $2::text::timestamptz)
                        where id = $1 returning *)
             select (select ",
            key_json!(),
            " from k)"
        ),
        &[id.into(), at.into()],
    )
}
