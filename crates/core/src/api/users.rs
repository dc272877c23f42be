//! `/api/v1/users/*`: account management for admins.

use serde_json::json;
use uuid::Uuid;

use super::auth::{Names, USER_READ_ONLY, create_account, email_taken, queue_reset};
use super::parse::path_id;
use crate::app::Ctx;
use crate::audit::Entry;
use crate::auth::{Action, Principal, Role, password};
use crate::domain::{Email, User};
use crate::error::OnConstraint;
use crate::http::{ApiError, Body, FieldError, Response, present};
use crate::repo::users::{ChosenBy, UserChanges};
use crate::repo::{sessions, users};

fn admin_id(ctx: &Ctx<'_>) -> Result<Uuid, ApiError> {
    match ctx.require(Action::ManageUsers)? {
        Principal::User { id, .. } => Ok(*id),
        Principal::ApiKey { .. } => Err(ApiError::Forbidden("API keys cannot manage accounts".into())),
    }
}

fn find(ctx: &Ctx<'_>, id: Uuid) -> Result<User, ApiError> {
    users::find_user(ctx.db()?, id)?.ok_or_else(|| ApiError::NotFound(format!("no user has id {id}")))
}

/// `GET /api/v1/users`: `role`, `active`, `page`, `per_page`.
///
/// # Errors
/// 401, 403, 400.
pub fn list(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    admin_id(ctx)?;
    let filters = |request: &crate::http::Request, errors: &mut Vec<FieldError>| {
        let role = request
            .query_param("role")
            .and_then(|r| Role::parse(r).map_err(|m| errors.push(FieldError::new("role", m))).ok());
        let active = match request.query_param("active") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => {
                errors.push(FieldError::new("active", "must be true or false"));
                None
            }
        };
        (role, active)
    };
    let listing = super::parse::Listing::either("users");
    super::parse::list(ctx, listing, filters, |db, (role, active), window| {
        users::list_users(db, *role, *active, window)
    })
}

/// `POST /api/v1/users`: `{email, password, name? (or first_name?, last_name?), role?}` → 201.
///
/// # Errors
/// 401, 403, 400, 409 `email_taken`.
pub fn create(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    admin_id(ctx)?;
    let mut body = Body::parse(ctx.request)?;
    let email = body.required_str("email").and_then(|e| body.check("email", Email::parse(&e)));
    let password =
        body.required_str("password").and_then(|p| body.check("password", password::check_policy(&p).map(|()| p)));
    let names = Names::parse(&mut body);
    let role = body.optional_str("role").and_then(|r| body.check("role", Role::parse(&r)));
    body.read_only(USER_READ_ONLY);
    body.finish()?;
    let (email, password) = (present(email)?, present(password)?);
    let hash = password::hash(&password).map_err(ApiError::Internal)?;
    let name = names.display_name();
    let account = names.new_user(email.as_str(), &name, &hash, role.unwrap_or(Role::User));
    let user = ctx.write(|db| {
        let user = create_account(ctx, db, &account)?;
        ctx.audit(db, Entry::new("user.create", "user", user.id).after(&user))?;
        Ok(user)
    })?;
    Ok(Response::created(&user))
}

/// `GET /api/v1/users/{id}`.
///
/// # Errors
/// 401, 403, 400 `invalid_id`, 404.
pub fn get(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    admin_id(ctx)?;
    Ok(Response::data(&find(ctx, path_id(ctx, "id")?)?))
}

/// `PATCH /api/v1/users/{id}`: `{name?, first_name?, last_name?, email?, role?, is_active?}`;
/// `is_active: false` deactivates the account (and signs it out everywhere). An admin cannot
/// lower their own role or deactivate themselves.
///
/// # Errors
/// 401, 403, 400, 404, 409 (`cannot_demote_self`, `cannot_deactivate_self`, `email_taken`).
pub fn update(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let me = admin_id(ctx)?;
    let id = path_id(ctx, "id")?;
    let mut body = Body::parse(ctx.request)?;
    let names = Names::parse(&mut body);
    let email = body.optional_str("email").and_then(|e| body.check("email", Email::parse(&e)));
    let role = body.optional_str("role").and_then(|r| body.check("role", Role::parse(&r)));
    let is_active = body.optional_bool("is_active");
    body.read_only(USER_READ_ONLY);
    body.finish()?;
    refuse_self_harm(me, id, role, is_active)?;
    let changes = UserChanges { email: email.as_ref().map(Email::as_str), role, ..names.changes() };
    let user = ctx.write(|db| {
        let before = find(ctx, id)?;
        let after = users::update_user(db, id, &changes, ctx.now)
            .on_constraint(users::EMAIL_KEY, email_taken)?
            .ok_or_else(|| ApiError::NotFound(format!("no user has id {id}")))?;
        ctx.audit(db, Entry::new("user.update", "user", id).before(&before).after(&after))?;
        match is_active.filter(|active| *active != after.is_active) {
            Some(active) => change_activity(ctx, db, &after, active),
            None => Ok(after),
        }
    })?;
    Ok(Response::data(&user))
}

/// An admin may not lower their own role or deactivate themselves (409).
fn refuse_self_harm(me: Uuid, id: Uuid, role: Option<Role>, active: Option<bool>) -> Result<(), ApiError> {
    if id != me {
        return Ok(());
    }
    if role.is_some_and(|r| r != Role::Admin) {
        return Err(ApiError::Conflict {
            code: "cannot_demote_self",
            message: "admins cannot lower their own role".into(),
        });
    }
    if active == Some(false) {
        return Err(ApiError::Conflict {
            code: "cannot_deactivate_self",
            message: "admins cannot deactivate themselves".into(),
        });
    }
    Ok(())
}

/// Activates or deactivates `before` (deactivation revokes its sessions), audited, on `db`.
fn change_activity(ctx: &Ctx<'_>, db: &dyn crate::db::Db, before: &User, active: bool) -> Result<User, ApiError> {
    let id = before.id;
    let after = users::set_active(db, id, active, ctx.now)?
        .ok_or_else(|| ApiError::NotFound(format!("no user has id {id}")))?;
    let revoked = if active { 0 } else { sessions::revoke_user_sessions(db, id, None, ctx.now)? };
    let action = if active { "user.reactivate" } else { "user.deactivate" };
    let after_state = json!({ "user": after, "revoked_sessions": revoked });
    ctx.audit(db, Entry::new(action, "user", id).before(before).after(after_state))?;
    Ok(after)
}

fn set_active(ctx: &Ctx<'_>, active: bool) -> Result<Response, ApiError> {
    let me = admin_id(ctx)?;
    let id = path_id(ctx, "id")?;
    refuse_self_harm(me, id, None, Some(active))?;
    let user = ctx.write(|db| change_activity(ctx, db, &find(ctx, id)?, active))?;
    Ok(Response::data(&user))
}

/// `POST /api/v1/users/{id}/deactivate`: signs the account out everywhere.
///
/// # Errors
/// 401, 403, 400, 404, 409 `cannot_deactivate_self`.
pub fn deactivate(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    set_active(ctx, false)
}

/// `POST /api/v1/users/{id}/reactivate`.
///
/// # Errors
/// 401, 403, 400, 404.
pub fn reactivate(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    set_active(ctx, true)
}

/// `POST /api/v1/users/{id}/reset-password`: revokes the account's sessions, then either sets
/// the `new_password` given (and `must_change_password`, so the owner replaces it) → 204, or,
/// without a body, e-mails the account a reset link (queued in the outbox) → 202.
///
/// An admin's own account is refused (409 `use_own_password_change`): the reset would sign
/// them out everywhere and, with a chosen password, lock the account behind
/// `must_change_password` — `PUT /api/v1/me/password` is the way to change one's own.
///
/// # Errors
/// 401, 403, 400, 404, 409.
pub fn reset_password(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let me = admin_id(ctx)?;
    let id = path_id(ctx, "id")?;
    let chosen = if ctx.request.body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let mut body = Body::parse(ctx.request)?;
        let new = body
            .required_str("new_password")
            .and_then(|p| body.check("new_password", password::check_policy(&p).map(|()| p)));
        body.finish()?;
        Some(present(new)?)
    };
    if id == me {
        return Err(ApiError::Conflict {
            code: "use_own_password_change",
            message: "admins change their own password with PUT /api/v1/me/password, which asks for the current one"
                .into(),
        });
    }
    let chosen = chosen.map(|p| password::hash(&p)).transpose().map_err(ApiError::Internal)?;
    ctx.write(|db| {
        let user = find(ctx, id)?;
        let revoked = sessions::revoke_user_sessions(db, id, None, ctx.now)?;
        let action = match &chosen {
            Some(hash) => {
                users::set_password(db, id, hash, ChosenBy::Admin, ctx.now)?;
                "user.password_set_by_admin"
            }
            None => {
                queue_reset(ctx, db, &user)?;
                "user.password_reset_sent"
            }
        };
        ctx.audit(db, Entry::new(action, "user", id).after(json!({ "revoked_sessions": revoked })))
    })?;
    if chosen.is_some() {
        return Ok(Response::no_content());
    }
    Ok(Response::json(
        202,
        &json!({ "data": { "message": "a reset link was queued for the account's e-mail address" } }),
    ))
}
