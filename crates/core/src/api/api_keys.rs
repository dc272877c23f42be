//! `/api/v1/api-keys/*`: keys for automation, created by admins.

use serde_json::json;

use super::parse::path_id;
use crate::app::Ctx;
use crate::audit::Entry;
use crate::auth::{API_KEY_MARK, Action, Principal, Role, Scope, tokens};
use crate::error::{Error, OnConstraint};
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
    let found = api_keys::list_keys(ctx.db()?, include_revoked, page.window())?;
    Ok(Response::list(&found.items, page.meta(found.total)))
}

/// `POST /api/v1/api-keys`: `{name, role, scopes, expires_at?}` → 201 with the key and, this
/// once, its `secret` (`spk_<prefix>_<random>`); only a hash is stored.
///
/// # Errors
/// 401, 403, 400.
pub fn create(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let creator = admin(ctx)?;
    let request = key_request(ctx.request, ctx.now)?;
    let prefix = random_prefix()?;
    let secret = format!("{API_KEY_MARK}{prefix}_{}", tokens::random_secret(32).map_err(ApiError::Internal)?);
    let new = NewApiKey {
        name: &request.name,
        prefix: &prefix,
        secret_hash: &tokens::hash_secret(&secret),
        role: request.role,
        scopes: request.scopes,
        expires_at: request.expires_at,
        created_by: Some(creator),
    };
    let key = ctx.write(|db| {
        let retry = || Error::conflict("conflict", "an API key with this prefix already exists; retry");
        let key = api_keys::insert_key(db, &new, ctx.now).on_constraint(api_keys::PREFIX_KEY, retry)?;
        ctx.audit(db, Entry::new("api_key.create", "api_key", key.id).after(&key))?;
        Ok(key)
    })?;
    let mut data = serde_json::to_value(&key).map_err(|e| ApiError::Internal(e.to_string()))?;
    data["secret"] = json!(secret);
    Ok(Response::created(&data))
}

/// What an admin asks for in `POST /api/v1/api-keys`.
struct KeyRequest {
    name: String,
    role: Role,
    /// Sorted, without duplicates.
    scopes: Vec<String>,
    expires_at: Option<time::OffsetDateTime>,
}

/// `{name, role, scopes, expires_at?}`, every field error at once; `expires_at` must be after
/// `now`.
fn key_request(request: &crate::http::Request, now: time::OffsetDateTime) -> Result<KeyRequest, ApiError> {
    let mut body = Body::parse(request)?;
    let name = body.required_str("name").map(|n| n.trim().to_owned());
    if name.as_deref().is_some_and(|n| n.is_empty() || n.chars().count() > 100) {
        body.error("name", "must be 1 to 100 characters");
    }
    let role = body.required_str("role").and_then(|r| body.check("role", Role::parse(&r)));
    let scopes = match body.optional_str_list("scopes") {
        None if !body.has_value("scopes") => {
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
        let parsed = crate::time::parse_rfc3339(&raw)
            .and_then(|t| if t > now { Ok(t) } else { Err("must be in the future".into()) });
        body.check("expires_at", parsed)
    });
    body.finish()?;
    let mut scopes: Vec<String> = present(scopes)?.iter().map(|s| s.as_str().to_owned()).collect();
    scopes.sort();
    scopes.dedup();
    Ok(KeyRequest { name: present(name)?, role: present(role)?, scopes, expires_at })
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
    ctx.write(|db| {
        let before =
            api_keys::find_key(db, id)?.ok_or_else(|| ApiError::NotFound(format!("no API key has id {id}")))?;
        let after = api_keys::revoke_key(db, id, ctx.now)?;
        ctx.audit(db, Entry::new("api_key.revoke", "api_key", id).before(&before).after(&after))
    })?;
    Ok(Response::no_content())
}
