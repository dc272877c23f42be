//! `/api/v1/auth/*`: registration, sign-in (with the TOTP second step), token refresh with
//! rotation and reuse detection, logout, forgotten passwords.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::actor::Actor;
use crate::app::Ctx;
use crate::audit::{self, Entry};
use crate::auth::{Principal, Role, password, ratelimit, tokens, totp};
use crate::db::Db;
use crate::domain::{DisplayName, Email, User};
use crate::error::{Error, OnConstraint};
use crate::http::{ApiError, Body, Response, present};
use crate::repo::users::{ChosenBy, NewUser, UserChanges};
use crate::repo::{outbox, sessions, users};

/// How long the second sign-in step may take.
const MFA_TTL_SECS: i32 = 300;
/// Wrong codes allowed per second-step challenge.
const MFA_MAX_ATTEMPTS: i32 = 5;
/// How long a reset link works (1 h, as the README says).
const RESET_TTL_SECS: i32 = 3600;
const PURPOSE_RESET: &str = "password_reset";
const PURPOSE_MFA: &str = "mfa_login";
/// Starts a session family for `user` and answers its tokens.
pub(crate) fn start_session(ctx: &Ctx<'_>, db: &dyn Db, user: &User) -> Result<Value, ApiError> {
    let family = Uuid::new_v4();
    let refresh = tokens::random_secret(32).map_err(ApiError::Internal)?;
    sessions::create_session(db, user.id, family, &tokens::hash_secret(&refresh), ctx.now)?;
    token_pair(ctx, user, family, &refresh)
}

fn token_pair(ctx: &Ctx<'_>, user: &User, family: Uuid, refresh: &str) -> Result<Value, ApiError> {
    let secret = &ctx.config()?.jwt_secret;
    if secret.is_empty() {
        return Err(ApiError::Internal("the jwt_secret variable is empty".into()));
    }
    let access = tokens::issue_access(secret, user.id, user.role, family, ctx.now.unix_timestamp())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(json!({
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": tokens::ACCESS_TTL_SECS,
    }))
}

/// Fields of the user shape a client may send back unchanged (never written from a body).
pub(crate) const USER_READ_ONLY: &[&str] =
    &["id", "created_at", "updated_at", "last_login_at", "totp_enabled", "must_change_password"];

/// A person's names as a body gives them: `name`, and the old service's `first_name` and
/// `last_name` (a display name is made from those when `name` is not given).
#[derive(Debug, Default)]
pub(crate) struct Names {
    pub(crate) name: Option<DisplayName>,
    pub(crate) first_name: Option<DisplayName>,
    pub(crate) last_name: Option<DisplayName>,
}

impl Names {
    pub(crate) fn parse(body: &mut Body) -> Self {
        let mut read = |field: &str| body.optional_str(field).and_then(|n| body.check(field, DisplayName::parse(&n)));
        Self { name: read("name"), first_name: read("first_name"), last_name: read("last_name") }
    }

    /// The display name of a new account.
    pub(crate) fn display_name(&self) -> String {
        match &self.name {
            Some(name) => name.as_str().to_owned(),
            None => {
                let parts = [&self.first_name, &self.last_name];
                let parts: Vec<&str> = parts.iter().filter_map(|p| p.as_ref().map(DisplayName::as_str)).collect();
                parts.join(" ").trim().to_owned()
            }
        }
    }

    /// A new account with these names and `name` as its display name.
    pub(crate) fn new_user<'a>(&'a self, email: &'a str, name: &'a str, hash: &'a str, role: Role) -> NewUser<'a> {
        NewUser {
            email,
            name,
            first_name: self.first_name.as_ref().map_or("", DisplayName::as_str),
            last_name: self.last_name.as_ref().map_or("", DisplayName::as_str),
            password_hash: hash,
            role,
        }
    }

    /// As profile changes.
    pub(crate) fn changes(&self) -> UserChanges<'_> {
        UserChanges {
            name: self.name.as_ref().map(DisplayName::as_str),
            first_name: self.first_name.as_ref().map(DisplayName::as_str),
            last_name: self.last_name.as_ref().map(DisplayName::as_str),
            ..UserChanges::default()
        }
    }
}

/// The e-mail is taken: 409 `email_taken`.
pub(crate) fn email_taken() -> Error {
    Error::conflict("email_taken", "an account with this e-mail address already exists")
}

/// Creates an account (in the caller's transaction).
pub(crate) fn create_account(ctx: &Ctx<'_>, db: &dyn Db, account: &NewUser<'_>) -> Result<User, ApiError> {
    Ok(users::insert_user(db, account, ctx.now).on_constraint(users::EMAIL_KEY, email_taken)?)
}

/// `POST /api/v1/auth/register`: creates a `user` account (unless `registration_enabled` is
/// `false`), named by `name` or the old service's `first_name`/`last_name`. 201 with the account.
///
/// # Errors
/// 403 when registration is off; 400; 409 `email_taken`; 429.
pub fn register(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    if !ctx.config()?.registration_enabled {
        return Err(ApiError::Forbidden("registration is turned off on this server".into()));
    }
    let mut body = Body::parse(ctx.request)?;
    let email = body.required_str("email").and_then(|e| body.check("email", Email::parse(&e)));
    let password =
        body.required_str("password").and_then(|p| body.check("password", password::check_policy(&p).map(|()| p)));
    let names = Names::parse(&mut body);
    if body.has("role") {
        body.error("role", "cannot be chosen at registration; accounts start as user");
    }
    body.read_only(USER_READ_ONLY);
    body.finish()?;
    let (email, password) = (present(email)?, present(password)?);
    let hash = password::hash(&password).map_err(ApiError::Internal)?;
    let name = names.display_name();
    let account = names.new_user(email.as_str(), &name, &hash, Role::User);
    let user = ctx.write(|db| {
        let user = create_account(ctx, db, &account)?;
        let origin = ctx.origin().as_actor(Actor::user(user.id, &user.email));
        audit::record(db, &origin, Entry::new("user.register", "user", user.id).after(&user))?;
        Ok(user)
    })?;
    Ok(Response::created(&user))
}

/// `POST /api/v1/auth/login`: `{email, password}` → `{user, tokens}`, or `{mfa_required,
/// mfa_token}` when the account has 2FA. Unknown e-mail and wrong password answer the same 401
/// after the same argon2 work.
///
/// # Errors
/// 400; 401; 429 per address and per account.
pub fn login(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let db = ctx.db()?;
    let mut body = Body::parse(ctx.request)?;
    let email = body.required_str("email");
    let password = body.required_str("password");
    body.finish()?;
    let (email, password) = (present(email)?.trim().to_lowercase(), present(password)?);
    ratelimit::check(db, ctx.config()?.rate_limits.get(ratelimit::LOGIN_PER_ACCOUNT), &email, ctx.now)?;
    let found =
        if password.len() <= password::MAX_BYTES { users::find_credentials_by_email(db, &email)? } else { None };
    let valid = password::verify(&password, found.as_ref().map(|c| c.password_hash.as_str()));
    let credentials = match found {
        Some(c) if valid => c,
        _ => return Err(ApiError::Unauthorized("invalid e-mail or password".into())),
    };
    if !credentials.user.is_active {
        // Only after the password matched: a deactivated account is no secret to its owner.
        return Err(ApiError::Forbidden("the account is deactivated".into()));
    }
    let config = ctx.config()?;
    if credentials.user.role == Role::Admin && config.oidc.is_some() && !config.password_login_for_admins {
        return Err(ApiError::Forbidden(
            "password sign-in is off for admins: sign in with single sign-on at /api/v1/auth/oidc/login".into(),
        ));
    }
    if credentials.user.totp_enabled {
        let challenge = tokens::random_secret(32).map_err(ApiError::Internal)?;
        let hash = tokens::hash_secret(&challenge);
        sessions::create_one_time(db, credentials.user.id, PURPOSE_MFA, &hash, MFA_TTL_SECS, ctx.now)?;
        return Ok(Response::data(
            &json!({ "mfa_required": true, "mfa_token": challenge, "expires_in": MFA_TTL_SECS }),
        ));
    }
    signed_in(ctx, &credentials.user, "password")
}

pub(crate) fn signed_in(ctx: &Ctx<'_>, user: &User, method: &str) -> Result<Response, ApiError> {
    let tokens = ctx.write(|db| {
        users::touch_login(db, user.id, ctx.now)?;
        let tokens = start_session(ctx, db, user)?;
        let origin = ctx.origin().as_actor(Actor::user(user.id, &user.email));
        audit::record(db, &origin, Entry::new("session.login", "user", user.id).after(json!({ "method": method })))?;
        Ok(tokens)
    })?;
    let two_factor_required = user.role == Role::Admin && !user.totp_enabled && ctx.config()?.require_admin_totp;
    let mut data = json!({ "user": user, "tokens": tokens });
    if two_factor_required {
        data["two_factor_enrollment_required"] = json!(true);
    }
    Ok(Response::data(&data))
}

/// A second factor presented: a verified TOTP step, or a recovery code (by hash).
pub(crate) enum Factor {
    Totp(i64),
    RecoveryCode(String),
}

impl Factor {
    /// A recovery code as typed.
    pub(crate) fn recovery(code: &str) -> Self {
        Self::RecoveryCode(tokens::hash_secret(&totp::normalise_recovery_code(code)))
    }

    /// `code` as a TOTP code when it verifies against `secret` at `now`, else as a recovery
    /// code.
    pub(crate) fn totp_or_recovery(secret: Option<&str>, code: &str, now: time::OffsetDateTime) -> Self {
        secret.and_then(|s| totp::verify_at(s, code, now)).map_or_else(|| Self::recovery(code), Self::Totp)
    }

    /// Spends the factor for `user` at `now` (each TOTP step and recovery code works once);
    /// answers whether it was accepted.
    pub(crate) fn spend(&self, db: &dyn Db, user: Uuid, now: time::OffsetDateTime) -> Result<bool, crate::db::DbError> {
        match self {
            Self::Totp(step) => users::use_totp_step(db, user, *step),
            Self::RecoveryCode(hash) => users::use_recovery_code(db, user, hash, now),
        }
    }
}

/// `POST /api/v1/auth/login/2fa`: `{mfa_token, code}` or `{mfa_token, recovery_code}` →
/// `{user, tokens}`. Each TOTP step and each recovery code works once; a challenge dies after
/// five wrong codes or five minutes.
///
/// # Errors
/// 400; 401.
pub fn login_second_step(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let db = ctx.db()?;
    let mut body = Body::parse(ctx.request)?;
    let challenge = body.required_str("mfa_token");
    let code = body.optional_str("code");
    let recovery = body.optional_str("recovery_code");
    if code.is_none() && recovery.is_none() {
        body.error("code", "is required (or give a recovery_code)");
    }
    body.finish()?;
    let challenge = sessions::find_one_time(db, PURPOSE_MFA, &tokens::hash_secret(&present(challenge)?), ctx.now)?
        .ok_or_else(|| {
            ApiError::Unauthorized("the sign-in challenge is invalid or has expired; sign in again".into())
        })?;
    let credentials = users::find_credentials(db, challenge.user_id)?
        .filter(|c| c.user.is_active && c.user.totp_enabled)
        .ok_or_else(|| ApiError::Unauthorized("the sign-in challenge is no longer valid".into()))?;
    // An explicit `code` is only ever a TOTP code: it never falls back to the recovery codes.
    let factor = match (code, recovery) {
        (Some(code), _) => {
            credentials.totp_secret.as_deref().and_then(|s| totp::verify_at(s, &code, ctx.now)).map(Factor::Totp)
        }
        (None, Some(recovery)) => Some(Factor::recovery(&recovery)),
        (None, None) => None,
    };
    let user = credentials.user;
    let accepted = ctx.write(|db| {
        let factor_ok = match &factor {
            Some(factor) => factor.spend(db, user.id, ctx.now)?,
            None => false,
        };
        Ok(factor_ok && sessions::spend_one_time(db, challenge.id, ctx.now)?)
    })?;
    if !accepted {
        sessions::fail_one_time(db, challenge.id, MFA_MAX_ATTEMPTS, ctx.now)?;
        return Err(ApiError::Unauthorized("the code is wrong or was already used".into()));
    }
    let method = if matches!(factor, Some(Factor::Totp(_))) { "totp" } else { "recovery_code" };
    signed_in(ctx, &user, method)
}

/// `POST /api/v1/auth/refresh`: `{refresh_token}` → `{user, tokens}` with a new refresh token;
/// the presented one is spent. Presenting a spent token again revokes its whole family.
///
/// # Errors
/// 400; 401.
pub fn refresh(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let db = ctx.db()?;
    let mut body = Body::parse(ctx.request)?;
    let presented = body.required_str("refresh_token");
    body.finish()?;
    let fresh = tokens::random_secret(32).map_err(ApiError::Internal)?;
    match sessions::rotate(db, &tokens::hash_secret(&present(presented)?), &tokens::hash_secret(&fresh), ctx.now)? {
        sessions::Rotation::Rotated { user_id, family_id } => {
            let user = users::find_user(db, user_id)?.filter(|u| u.is_active);
            let Some(user) = user else {
                sessions::revoke_family(db, family_id, ctx.now)?;
                return Err(ApiError::Forbidden("the account is deactivated".into()));
            };
            let tokens = token_pair(ctx, &user, family_id, &fresh)?;
            // The old service's v1 clients read the three token fields from `data` itself.
            let mut data = json!({ "user": user, "tokens": tokens });
            for key in ["access_token", "refresh_token", "expires_in"] {
                data[key] = data["tokens"][key].clone();
            }
            Ok(Response::data(&data))
        }
        sessions::Rotation::Reused { user_id, family_id } => {
            ctx.write(|db| {
                let revoked = sessions::revoke_family(db, family_id, ctx.now)?;
                let origin = ctx.origin().as_actor(Actor::user(user_id, ""));
                let entry = Entry::new("session.reuse_detected", "session", family_id)
                    .after(json!({ "revoked_tokens": revoked }));
                Ok(audit::record(db, &origin, entry)?)
            })?;
            Err(ApiError::Unauthorized(
                "this refresh token was already used; the session is revoked, sign in again".into(),
            ))
        }
        sessions::Rotation::Dead { user_id } if users::find_user(db, user_id)?.is_some_and(|u| !u.is_active) => {
            // Deactivation revoked the session; say why, as the old service did (403).
            Err(ApiError::Forbidden("the account is deactivated".into()))
        }
        sessions::Rotation::Dead { .. } | sessions::Rotation::Unknown => {
            Err(ApiError::Unauthorized("the refresh token is invalid, expired or revoked".into()))
        }
    }
}

/// `POST /api/v1/auth/logout`: revokes the session of the access token presented (or of the
/// `refresh_token` in the body). 204.
///
/// # Errors
/// 401 without a session to revoke.
pub fn logout(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let db = ctx.db()?;
    let family = match ctx.principal()? {
        Some(Principal::User { session: Some(family), .. }) => Some(*family),
        _ => None,
    };
    let family = match family {
        Some(family) => family,
        None => {
            let mut body = Body::parse(ctx.request)?;
            let presented = body.required_str("refresh_token");
            body.finish()?;
            match sessions::family_of(db, &tokens::hash_secret(&present(presented)?))? {
                Some(family) => family,
                // Signing out of a session that does not exist leaves it signed out: 204, as the
                // old service answered (a retried logout must not look like a failure).
                None => return Ok(Response::no_content()),
            }
        }
    };
    ctx.write(|db| {
        sessions::revoke_family(db, family, ctx.now)?;
        ctx.audit(db, Entry::new("session.logout", "session", family))
    })?;
    Ok(Response::no_content())
}

/// Queues a password-reset e-mail for `user` (replacing older links).
pub(crate) fn queue_reset(ctx: &Ctx<'_>, db: &dyn Db, user: &User) -> Result<(), ApiError> {
    let token = tokens::random_secret(32).map_err(ApiError::Internal)?;
    sessions::expire_one_time(db, user.id, PURPOSE_RESET, ctx.now)?;
    sessions::create_one_time(db, user.id, PURPOSE_RESET, &tokens::hash_secret(&token), RESET_TTL_SECS, ctx.now)?;
    let link = format!("{}/reset-password?token={token}", ctx.config()?.base_url);
    let payload =
        json!({ "name": user.name, "reset_url": link, "token": token, "expires_in_minutes": RESET_TTL_SECS / 60 });
    outbox::queue_email(db, "password_reset", &user.email, payload, ctx.now)?;
    ctx.deliver_soon();
    Ok(())
}

/// `POST /api/v1/auth/forgot-password`: `{email}` → 200 (as the old service) whether or not the account exists (no
/// enumeration); when it does, a single-use link valid for an hour is queued for e-mail.
///
/// # Errors
/// 400; 429 per address and per account.
pub fn forgot_password(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let db = ctx.db()?;
    let mut body = Body::parse(ctx.request)?;
    let email = body.required_str("email").and_then(|e| body.check("email", Email::parse(&e)));
    body.finish()?;
    let email = present(email)?;
    ratelimit::check(db, ctx.config()?.rate_limits.get(ratelimit::RESET_PER_ACCOUNT), email.as_str(), ctx.now)?;
    if let Some(credentials) = users::find_credentials_by_email(db, email.as_str())?.filter(|c| c.user.is_active) {
        let user = credentials.user;
        ctx.write(|db| {
            queue_reset(ctx, db, &user)?;
            ctx.audit(db, Entry::new("user.password_reset_requested", "user", user.id))
        })?;
    }
    Ok(Response::data(&json!({ "message": "if the address belongs to an account, a reset link is on its way" })))
}

/// `POST /api/v1/auth/reset-password`: `{token, new_password}` → 204; the token is spent and
/// every session of the account is revoked.
///
/// # Errors
/// 400 (`invalid_token` for an unknown, used or expired token); 429.
pub fn reset_password(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let db = ctx.db()?;
    let mut body = Body::parse(ctx.request)?;
    let token = body.required_str("token");
    let new_password = body
        .required_str("new_password")
        .and_then(|p| body.check("new_password", password::check_policy(&p).map(|()| p)));
    body.finish()?;
    let invalid =
        || ApiError::BadRequest { code: "invalid_token", message: "the reset link is invalid, used or expired".into() };
    let token = sessions::find_one_time(db, PURPOSE_RESET, &tokens::hash_secret(&present(token)?), ctx.now)?
        .ok_or_else(invalid)?;
    let hash = password::hash(&present(new_password)?).map_err(ApiError::Internal)?;
    ctx.write(|db| {
        if !sessions::spend_one_time(db, token.id, ctx.now)? {
            return Err(invalid());
        }
        users::set_password(db, token.user_id, &hash, ChosenBy::Owner, ctx.now)?;
        let revoked = sessions::revoke_user_sessions(db, token.user_id, None, ctx.now)?;
        let origin = ctx.origin().as_actor(Actor::user(token.user_id, ""));
        let entry =
            Entry::new("user.password_reset", "user", token.user_id).after(json!({ "revoked_sessions": revoked }));
        Ok(audit::record(db, &origin, entry)?)
    })?;
    Ok(Response::no_content())
}
