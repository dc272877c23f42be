//! Who is calling: a person (access token) or an API key, from `Authorization: Bearer ...`.

use uuid::Uuid;

use super::{Role, Scope, tokens};
use crate::db::Db;
use crate::env::Env;
use crate::http::{ApiError, Request};
use crate::repo::principals;

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
        api_key(env.db()?, token, env.now()).map(Some)
    } else {
        access_token(env, token).map(Some)
    }
}

fn access_token(env: &dyn Env, token: &str) -> Result<Principal, ApiError> {
    let config = env.config()?;
    let claims = tokens::verify_access(&config.jwt_keys(), token, env.now().unix_timestamp()).map_err(|e| match e {
        tokens::TokenError::WeakSecret => ApiError::Internal(e.to_string()),
        other => ApiError::Unauthorized(other.to_string()),
    })?;
    let user = principals::find_token_user(env.db()?, claims.sub, claims.sid)?
        .ok_or_else(|| ApiError::Unauthorized("the account no longer exists".into()))?;
    if !user.is_active {
        return Err(ApiError::Unauthorized("the account is deactivated".into()));
    }
    if !user.family_live {
        return Err(ApiError::Unauthorized("the session was revoked; sign in again".into()));
    }
    let two_factor_missing = user.role == Role::Admin && !user.totp_enabled && config.require_admin_totp;
    Ok(Principal::User {
        id: claims.sub,
        email: user.email,
        role: user.role,
        session: Some(claims.sid),
        two_factor_missing,
    })
}

fn api_key(db: &dyn Db, token: &str, now: time::OffsetDateTime) -> Result<Principal, ApiError> {
    let invalid = || ApiError::Unauthorized("the API key is invalid, revoked or expired".into());
    let (prefix, _) = token[API_KEY_MARK.len()..].split_once('_').ok_or_else(invalid)?;
    let row = principals::use_api_key(db, prefix, &tokens::hash_secret(token), now)?.ok_or_else(invalid)?;
    let scopes = row.scopes.iter().filter_map(|s| Scope::parse(s).ok()).collect();
    Ok(Principal::ApiKey { id: row.id, name: row.name, role: row.role, scopes })
}
