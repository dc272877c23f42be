//! SQL for API keys.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Role;
use crate::db::{Db, DbError, DbExt, Param};
use crate::http::Page;

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
    /// RFC 3339 UTC.
    pub expires_at: Option<String>,
    /// RFC 3339 UTC.
    pub last_used_at: Option<String>,
    /// Creator.
    pub created_by: Option<Uuid>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub revoked_at: Option<String>,
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
    /// RFC 3339 expiry.
    pub expires_at: Option<String>,
    /// Creator.
    pub created_by: Option<Uuid>,
}

/// Stores a key.
///
/// # Errors
/// Database errors.
pub fn insert_key(db: &dyn Db, key: &NewApiKey<'_>) -> Result<ApiKey, DbError> {
    db.query_as(
        concat!(
            "with k as (insert into api_keys (name, prefix, secret_hash, role, scopes, expires_at, created_by)
                        values ($1, $2, $3, $4, $5, $6::text::timestamptz, $7) returning *)
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
            key.expires_at.clone().into(),
            key.created_by.into(),
        ],
    )
}

/// A page of keys and the total.
#[derive(Debug, Deserialize)]
pub struct KeyPage {
    /// Newest first.
    pub items: Vec<ApiKey>,
    /// In all pages.
    pub total: u64,
}

/// Lists keys, newest first; revoked ones only when asked.
///
/// # Errors
/// Database errors.
pub fn list_keys(db: &dyn Db, include_revoked: bool, page: Page) -> Result<KeyPage, DbError> {
    db.query_as(
        concat!(
            "with matching as (select * from api_keys where $1 or revoked_at is null)
             select jsonb_build_object(
                 'total', (select count(*) from matching),
                 'items', coalesce((select jsonb_agg(",
            key_json!(),
            " order by k.created_at desc, k.id)
                                    from (select * from matching order by created_at desc, id limit $2 offset $3) k),
                                   '[]'::jsonb))"
        ),
        &[Param::Bool(include_revoked), Param::Int64(page.limit()), Param::Int64(page.offset())],
    )
}

/// A key by id.
///
/// # Errors
/// Database errors.
pub fn find_key(db: &dyn Db, id: Uuid) -> Result<Option<ApiKey>, DbError> {
    db.query_as(concat!("select (select ", key_json!(), " from api_keys k where k.id = $1)"), &[id.into()])
}

/// Revokes a key (idempotent); answers it, `None` when it does not exist.
///
/// # Errors
/// Database errors.
pub fn revoke_key(db: &dyn Db, id: Uuid) -> Result<Option<ApiKey>, DbError> {
    db.query_as(
        concat!(
            "with k as (update api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1 returning *)
             select (select ",
            key_json!(),
            " from k)"
        ),
        &[id.into()],
    )
}
