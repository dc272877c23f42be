//! SQL behind authentication: what an access token's account and session look like now, and
//! the API key a secret belongs to.

use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::Role;
use crate::db::{Db, DbError, DbExt};

/// The account behind an access token, as it is now (role and liveness from the database, not
/// the token).
#[derive(Debug, Clone, Deserialize)]
pub struct TokenUser {
    /// E-mail.
    pub email: String,
    /// Current role.
    pub role: Role,
    /// Whether it may sign in.
    pub is_active: bool,
    /// Whether TOTP is on.
    pub totp_enabled: bool,
    /// Whether the token's session family is still live.
    pub family_live: bool,
}

/// The account `user` and whether its session family `family` is live.
///
/// # Errors
/// Database errors.
pub fn find_token_user(db: &dyn Db, user: Uuid, family: Uuid) -> Result<Option<TokenUser>, DbError> {
    db.query_as(
        "select (select jsonb_build_object(
                     'email', u.email, 'role', u.role, 'is_active', u.is_active,
                     'totp_enabled', u.totp_enabled,
                     'family_live', exists (select 1 from sessions s where s.family_id = $2
                                            and s.user_id = u.id and s.revoked_at is null))
                 from users u where u.id = $1)",
        &[user.into(), family.into()],
    )
}

/// A live API key, as authentication needs it.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyRow {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Role ceiling.
    pub role: Role,
    /// Scope names.
    pub scopes: Vec<String>,
}

/// The live key with `prefix` and `secret_hash` at `now`, marked used; `None` when there is no
/// such key, or it is revoked or expired.
///
/// # Errors
/// Database errors.
pub fn use_api_key(
    db: &dyn Db,
    prefix: &str,
    secret_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<KeyRow>, DbError> {
    db.query_as(
        "with used as (
             update api_keys set last_used_at = $3::text::timestamptz
             where prefix = $1 and secret_hash = $2 and revoked_at is null
               and (expires_at is null or expires_at > $3::text::timestamptz)
             returning id, name, role, scopes)
         select (select jsonb_build_object('id', id, 'name', name, 'role', role, 'scopes', to_jsonb(scopes)) from used)",
        &[prefix.into(), secret_hash.into(), now.into()],
    )
}
