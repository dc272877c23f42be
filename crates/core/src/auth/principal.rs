//! Who is calling: a person (access token) or an API key, from `Authorization: Bearer ...`.

use serde::Deserialize;
use uuid::Uuid;

use super::{Role, Scope, tokens};
use crate::app::Env;
use crate::db::{Db, DbExt};
use crate::http::{ApiError, Request};

/// API keys look like `spk_<prefix>_<secret>`; the prefix identifies the key in lists and logs.
pub const API_KEY_MARK: &str = "spk_";

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A person signed in with an access token.
    User {
        /// User id.
        id: Uuid,
        /// E-mail, for audit labels.
        email: String,
        /// Current role (from the database, not the token).
        role: Role,
        /// The session family of the token.
        session: Option<Uuid>,
        /// An admin without 2FA while `require_admin_totp` is on: may only enrol.
        two_factor_missing: bool,
    },
    /// An API key.
    ApiKey {
        /// Key id.
        id: Uuid,
        /// Its name, for audit labels.
        name: String,
        /// Its role ceiling.
        role: Role,
        /// What it may do.
        scopes: Vec<Scope>,
    },
}

impl Principal {
    /// A stable subject for per-principal rate limits.
    #[must_use]
    pub fn subject(&self) -> String {
        match self {
            Self::User { id, .. } => format!("user:{id}"),
            Self::ApiKey { id, .. } => format!("key:{id}"),
        }
    }
}

#[derive(Deserialize)]
struct TokenUser {
    email: String,
    role: Role,
    is_active: bool,
    totp_enabled: bool,
    family_live: bool,
}

#[derive(Deserialize)]
struct KeyRow {
    id: Uuid,
    name: String,
    role: Role,
    scopes: Vec<String>,
}

/// Reads the caller from the request: `Ok(None)` without an `Authorization` header.
///
/// # Errors
/// 401 for a malformed header, an invalid, expired or revoked token, a deactivated account, or
/// an unknown, revoked or expired key; 500 when `jwt_secret` is unusable.
pub fn authenticate(env: &dyn Env, request: &Request) -> Result<Option<Principal>, ApiError> {
    let Some(header) = request.header("authorization") else { return Ok(None) };
    let token = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("send credentials as `Authorization: Bearer <token>`".into()))?;
    if token.starts_with(API_KEY_MARK) {
        api_key(env.db()?, token).map(Some)
    } else {
        access_token(env, token).map(Some)
    }
}

fn access_token(env: &dyn Env, token: &str) -> Result<Principal, ApiError> {
    let secret = env.variable("jwt_secret")?.unwrap_or_default();
    let claims = tokens::verify_access(&secret, token).map_err(|e| match e {
        tokens::TokenError::WeakSecret => ApiError::Internal(e.to_string()),
        other => ApiError::Unauthorized(other.to_string()),
    })?;
    let user: Option<TokenUser> = env.db()?.query_as(
        "select (select jsonb_build_object(
                     'email', u.email, 'role', u.role, 'is_active', u.is_active,
                     'totp_enabled', u.totp_enabled,
                     'family_live', exists (select 1 from sessions s where s.family_id = $2
                                            and s.user_id = u.id and s.revoked_at is null))
                 from users u where u.id = $1)",
        &[claims.sub.into(), claims.sid.into()],
    )?;
    let user = user.ok_or_else(|| ApiError::Unauthorized("the account no longer exists".into()))?;
    if !user.is_active {
        return Err(ApiError::Unauthorized("the account is deactivated".into()));
    }
    if !user.family_live {
        return Err(ApiError::Unauthorized("the session was revoked; sign in again".into()));
    }
    let two_factor_missing = user.role == Role::Admin
        && !user.totp_enabled
        && env.variable("require_admin_totp")?.is_some_and(|v| v == "true");
    Ok(Principal::User {
        id: claims.sub,
        email: user.email,
        role: user.role,
        session: Some(claims.sid),
        two_factor_missing,
    })
}

fn api_key(db: &dyn Db, token: &str) -> Result<Principal, ApiError> {
    let invalid = || ApiError::Unauthorized("the API key is invalid, revoked or expired".into());
    let (prefix, _) = token[API_KEY_MARK.len()..].split_once('_').ok_or_else(invalid)?;
    let row: Option<KeyRow> = db.query_as(
        "with used as (
             update api_keys set last_used_at = now()
             where prefix = $1 and secret_hash = $2 and revoked_at is null
               and (expires_at is null or expires_at > now())
             returning id, name, role, scopes)
         select (select jsonb_build_object('id', id, 'name', name, 'role', role, 'scopes', to_jsonb(scopes)) from used)",
        &[prefix.into(), tokens::hash_secret(token).into()],
    )?;
    let row = row.ok_or_else(invalid)?;
    let scopes = row.scopes.iter().filter_map(|s| Scope::parse(s).ok()).collect();
    Ok(Principal::ApiKey { id: row.id, name: row.name, role: row.role, scopes })
}
