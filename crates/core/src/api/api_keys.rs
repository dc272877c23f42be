//! `/api/v1/api-keys/*`: keys for automation, created by admins.

use serde_json::json;

use super::users::path_id;
use crate::app::Ctx;
use crate::audit::Change;
use crate::auth::{API_KEY_MARK, Action, Principal, Role, Scope, tokens};
use crate::db::transaction;
use crate::http::{ApiError, Body, Page, Response, present};
use crate::repo::api_keys::{self, NewApiKey};

/// Length of the public prefix.
const PREFIX_LEN: usize = 12;

fn admin(ctx: &Ctx<'_>) -> Result<uuid::Uuid, ApiError> {
    match ctx.require(Action::ManageApiKeys)? {
        Principal::User { id, .. } => Ok(*id),
        Principal::ApiKey { .. } => Err(ApiError::Forbidden("API keys cannot manage API keys".into())),
    }
}

fn random_prefix() -> Result<String, ApiError> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; PREFIX_LEN];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("random source failed: {e}")))?;
    Ok(bytes.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect())
}

/// `GET /api/v1/api-keys`: `include_revoked`, `page`, `per_page`.
///
/// # Errors
/// 401, 403, 400.
pub fn list(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    admin(ctx)?;
    let page = Page::from_request(ctx.request)?;
    let include_revoked = match ctx.request.query_param("include_revoked") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid("include_revoked", "must be true or false")),
    };
    let found = api_keys::list_keys(ctx.db()?, include_revoked, page)?;
    Ok(Response::list(&found.items, page.meta(found.total)))
}

/// `POST /api/v1/api-keys`: `{name, role, scopes, expires_at?}` → 201 with the key and, this
/// once, its `secret` (`spk_<prefix>_<random>`); only a hash is stored.
///
/// # Errors
/// 401, 403, 400.
pub fn create(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let creator = admin(ctx)?;
    let mut body = Body::parse(ctx.request)?;
    let name = body.required_str("name").map(|n| n.trim().to_owned());
    if name.as_deref().is_some_and(|n| n.is_empty() || n.chars().count() > 100) {
        body.error("name", "must be 1 to 100 characters");
    }
    let role = body.required_str("role").and_then(|r| body.check("role", Role::parse(&r)));
    let scopes = match body.optional_str_list("scopes") {
        None if !body.has("scopes") => {
            body.error("scopes", "is required");
            None
        }
        None => None,
        Some(list) if list.is_empty() => {
            body.error("scopes", "must name at least one scope");
            None
        }
        Some(list) => {
            let parsed: Result<Vec<Scope>, String> = list.iter().map(|s| Scope::parse(s)).collect();
            body.check("scopes", parsed)
        }
    };
    let expires_at = body.optional_str("expires_at").and_then(|raw| {
        let parsed = crate::time::parse_rfc3339(&raw).and_then(|t| {
            if t > time::OffsetDateTime::now_utc() {
                Ok(crate::time::format_rfc3339(t))
            } else {
                Err("must be in the future".into())
            }
        });
        body.check("expires_at", parsed)
    });
    body.finish()?;
    let (name, role, scopes) = (present(name)?, present(role)?, present(scopes)?);
    let prefix = random_prefix()?;
    let secret = format!("{API_KEY_MARK}{prefix}_{}", tokens::random_secret(32).map_err(ApiError::Internal)?);
    let mut scope_names: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
    scope_names.sort();
    scope_names.dedup();
    let new = NewApiKey {
        name: &name,
        prefix: &prefix,
        secret_hash: &tokens::hash_secret(&secret),
        role,
        scopes: scope_names,
        expires_at,
        created_by: Some(creator),
    };
    let db = ctx.db()?;
    let key = transaction(db, |db| {
        let key = api_keys::insert_key(db, &new)?;
        ctx.audit(db, &ctx.actor(), Change::new("api_key.create", "api_key", key.id).after(&key))?;
        Ok::<_, ApiError>(key)
    })?;
    let mut data = serde_json::to_value(&key).map_err(|e| ApiError::Internal(e.to_string()))?;
    data["secret"] = json!(secret);
    Ok(Response::created(&data))
}

/// `GET /api/v1/api-keys/{id}`.
///
/// # Errors
/// 401, 403, 400 `invalid_id`, 404.
pub fn get(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    admin(ctx)?;
    let id = path_id(ctx, "id")?;
    api_keys::find_key(ctx.db()?, id)?
        .map(|key| Response::data(&key))
        .ok_or_else(|| ApiError::NotFound(format!("no API key has id {id}")))
}

/// `DELETE /api/v1/api-keys/{id}`: revokes the key at once. 204 (also when already revoked).
///
/// # Errors
/// 401, 403, 400, 404.
pub fn revoke(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    admin(ctx)?;
    let id = path_id(ctx, "id")?;
    let db = ctx.db()?;
    transaction(db, |db| {
        let before =
            api_keys::find_key(db, id)?.ok_or_else(|| ApiError::NotFound(format!("no API key has id {id}")))?;
        let after = api_keys::revoke_key(db, id)?;
        ctx.audit(db, &ctx.actor(), Change::new("api_key.revoke", "api_key", id).before(&before).after(&after))?;
        Ok::<_, ApiError>(())
    })?;
    Ok(Response::no_content())
}
