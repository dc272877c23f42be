//! `/api/v1/me`, `/api/v1/me/password`, `/api/v1/auth/2fa/*`: a person's own account.

use serde_json::json;
use uuid::Uuid;

use super::auth::{Factor, Names, USER_READ_ONLY, email_taken};
use crate::app::Ctx;
use crate::audit::Entry;
use crate::auth::{Action, Principal, Role, password, tokens, totp};
use crate::domain::{Email, User};
use crate::error::OnConstraint;
use crate::http::{ApiError, Body, Response, present};
use crate::repo::users::{ChosenBy, UserChanges};
use crate::repo::{sessions, users};

/// The signed-in person: id and session family.
fn me(ctx: &Ctx<'_>) -> Result<(Uuid, Option<Uuid>), ApiError> {
    match ctx.require(Action::ManageOwnAccount)? {
        Principal::User { id, session, .. } => Ok((*id, *session)),
        Principal::ApiKey { .. } => Err(ApiError::Forbidden("API keys have no account".into())),
    }
}

fn load(ctx: &Ctx<'_>, id: Uuid) -> Result<User, ApiError> {
    users::find_user(ctx.db()?, id)?.ok_or_else(|| ApiError::Unauthorized("the account no longer exists".into()))
}

/// `GET /api/v1/me`.
///
/// # Errors
/// 401, 403 for API keys.
pub fn get_me(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let (id, _) = me(ctx)?;
    Ok(Response::data(&load(ctx, id)?))
}

/// `PATCH /api/v1/me`: `{name?, first_name?, last_name?, email?}`; `role` and `is_active` are
/// refused (an admin changes them), the shape's read-only fields ignored.
///
/// # Errors
/// 400; 401; 409 `email_taken`.
pub fn update_me(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let (id, _) = me(ctx)?;
    let mut body = Body::parse(ctx.request)?;
    let names = Names::parse(&mut body);
    let email = body.optional_str("email").and_then(|e| body.check("email", Email::parse(&e)));
    for field in ["role", "is_active"] {
        if body.has(field) {
            body.error(field, "cannot be changed here; an admin changes it at /api/v1/users/{id}");
        }
    }
    body.read_only(USER_READ_ONLY);
    body.finish()?;
    let changes = UserChanges { email: email.as_ref().map(Email::as_str), ..names.changes() };
    let user = ctx.write(|db| {
        let before = load(ctx, id)?;
        let after = users::update_user(db, id, &changes, ctx.now)
            .on_constraint(users::EMAIL_KEY, email_taken)?
            .ok_or_else(|| ApiError::NotFound("the account no longer exists".into()))?;
        ctx.audit(db, Entry::new("user.update", "user", id).before(&before).after(&after))?;
        Ok(after)
    })?;
    Ok(Response::data(&user))
}

/// `PUT /api/v1/me/password`: `{current_password, new_password}` → 204; every other session of
/// the account is revoked.
///
/// # Errors
/// 400 (also for a wrong current password); 401.
pub fn change_password(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let (id, session) = me(ctx)?;
    let mut body = Body::parse(ctx.request)?;
    let current = body.required_str("current_password");
    let new = body
        .required_str("new_password")
        .and_then(|p| body.check("new_password", password::check_policy(&p).map(|()| p)));
    body.finish()?;
    let db = ctx.db()?;
    let credentials = users::find_credentials(db, id)?.ok_or_else(|| ApiError::Unauthorized("no account".into()))?;
    if !password::verify(&present(current)?, Some(&credentials.password_hash)) {
        return Err(ApiError::invalid("current_password", "is not the current password"));
    }
    let hash = password::hash(&present(new)?).map_err(ApiError::Internal)?;
    ctx.write(|db| {
        users::set_password(db, id, &hash, ChosenBy::Owner, ctx.now)?;
        let revoked = sessions::revoke_user_sessions(db, id, session, ctx.now)?;
        ctx.audit(db, Entry::new("user.password_change", "user", id).after(json!({ "revoked_sessions": revoked })))
    })?;
    Ok(Response::no_content())
}

/// `POST /api/v1/auth/2fa/enroll`: a new TOTP secret and its `otpauth://` URI; 2FA turns on
/// only when a code from it is confirmed.
///
/// # Errors
/// 401; 409 `two_factor_enabled`.
pub fn enroll(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let (id, _) = me(ctx)?;
    let user = load(ctx, id)?;
    if user.totp_enabled {
        return Err(ApiError::Conflict {
            code: "two_factor_enabled",
            message: "two-factor is already on; disable it first".into(),
        });
    }
    let secret = totp::new_secret().map_err(ApiError::Internal)?;
    let uri = totp::otpauth_uri(&secret, &user.email).map_err(ApiError::Internal)?;
    ctx.write(|db| {
        users::set_pending_totp(db, id, &secret, ctx.now)?;
        ctx.audit(db, Entry::new("user.2fa_enroll", "user", id))
    })?;
    Ok(Response::data(&json!({ "secret": secret, "otpauth_uri": uri })))
}

/// `POST /api/v1/auth/2fa/confirm`: `{code}` from the enrolled secret → 2FA on, and ten
/// single-use recovery codes (shown once).
///
/// # Errors
/// 400 for a wrong code; 401; 409 `two_factor_not_pending`.
pub fn confirm(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let (id, _) = me(ctx)?;
    let mut body = Body::parse(ctx.request)?;
    let code = body.required_str("code");
    body.finish()?;
    let db = ctx.db()?;
    let credentials = users::find_credentials(db, id)?.ok_or_else(|| ApiError::Unauthorized("no account".into()))?;
    let secret = match (&credentials.totp_secret, credentials.user.totp_enabled) {
        (Some(secret), false) => secret.clone(),
        _ => {
            return Err(ApiError::Conflict {
                code: "two_factor_not_pending",
                message: "start with POST /api/v1/auth/2fa/enroll".into(),
            });
        }
    };
    let step = totp::verify_at(&secret, &present(code)?, ctx.now)
        .ok_or_else(|| ApiError::invalid("code", "is not the current code of the enrolled secret"))?;
    let codes = totp::recovery_codes().map_err(ApiError::Internal)?;
    let hashes: Vec<String> = codes.iter().map(|c| tokens::hash_secret(c)).collect();
    ctx.write(|db| {
        users::use_totp_step(db, id, step)?;
        users::set_totp_enabled(db, id, true, ctx.now)?;
        users::replace_recovery_codes(db, id, &hashes)?;
        ctx.audit(db, Entry::new("user.2fa_enable", "user", id))
    })?;
    Ok(Response::data(&json!({ "totp_enabled": true, "recovery_codes": codes })))
}

/// `POST /api/v1/auth/2fa/disable`: `{password, code}` (a TOTP or recovery code) → 204.
///
/// # Errors
/// 400 for a wrong password or code; 401; 403 for admins while 2FA is mandatory for them;
/// 409 when 2FA is off.
pub fn disable(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let (id, _) = me(ctx)?;
    let mut body = Body::parse(ctx.request)?;
    let password = body.required_str("password");
    let code = body.required_str("code");
    body.finish()?;
    let db = ctx.db()?;
    let credentials = users::find_credentials(db, id)?.ok_or_else(|| ApiError::Unauthorized("no account".into()))?;
    if !credentials.user.totp_enabled {
        return Err(ApiError::Conflict { code: "two_factor_disabled", message: "two-factor is not on".into() });
    }
    if credentials.user.role == Role::Admin && ctx.config()?.require_admin_totp {
        return Err(ApiError::Forbidden("two-factor is mandatory for admins on this server".into()));
    }
    if !password::verify(&present(password)?, Some(&credentials.password_hash)) {
        return Err(ApiError::invalid("password", "is not the current password"));
    }
    let factor = Factor::totp_or_recovery(credentials.totp_secret.as_deref(), &present(code)?, ctx.now);
    ctx.write(|db| {
        if !factor.spend(db, id, ctx.now)? {
            return Err(ApiError::invalid("code", "is wrong or was already used"));
        }
        users::set_totp_enabled(db, id, false, ctx.now)?;
        users::replace_recovery_codes(db, id, &[])?;
        ctx.audit(db, Entry::new("user.2fa_disable", "user", id))
    })?;
    Ok(Response::no_content())
}
