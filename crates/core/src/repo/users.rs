//! SQL for accounts.

use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Role;
use crate::db::{Db, DbError, DbExt, Param};
use crate::domain::User;
use crate::http::Page;

/// The API shape of the user aliased `u`.
macro_rules! user_json {
    () => {
        "jsonb_build_object(
            'id', u.id, 'email', u.email, 'name', u.name, 'role', u.role, 'is_active', u.is_active,
            'totp_enabled', u.totp_enabled, 'last_login_at', rfc3339(u.last_login_at),
            'created_at', rfc3339(u.created_at), 'updated_at', rfc3339(u.updated_at))"
    };
}

/// What sign-in needs to know about an account.
#[derive(Debug, Clone, Deserialize)]
pub struct Credentials {
    /// The account.
    pub user: User,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Base32 TOTP secret (enrolled or pending confirmation).
    pub totp_secret: Option<String>,
    /// The last TOTP step accepted.
    pub totp_last_step: Option<i64>,
}

/// Creates an account.
///
/// # Errors
/// 409 `email_taken` (by constraint) when the e-mail exists; database errors.
pub fn insert_user(db: &dyn Db, email: &str, name: &str, password_hash: &str, role: Role) -> Result<User, DbError> {
    db.query_as(
        concat!(
            "with u as (insert into users (email, name, password_hash, role) values ($1, $2, $3, $4) returning *)
             select ",
            user_json!(),
            " from u"
        ),
        &[email.into(), name.into(), password_hash.into(), role.as_str().into()],
    )
}

fn credentials_where(db: &dyn Db, condition: &str, param: Param) -> Result<Option<Credentials>, DbError> {
    let sql = format!(
        concat!(
            "select (select jsonb_build_object('user', ",
            user_json!(),
            ", 'password_hash', u.password_hash, 'totp_secret', u.totp_secret, 'totp_last_step', u.totp_last_step)
             from users u where {})"
        ),
        condition
    );
    db.query_as(&sql, &[param])
}

/// Sign-in data by e-mail.
///
/// # Errors
/// Database errors.
pub fn find_credentials_by_email(db: &dyn Db, email: &str) -> Result<Option<Credentials>, DbError> {
    credentials_where(db, "u.email = $1", email.into())
}

/// Sign-in data by id.
///
/// # Errors
/// Database errors.
pub fn find_credentials(db: &dyn Db, id: Uuid) -> Result<Option<Credentials>, DbError> {
    credentials_where(db, "u.id = $1", id.into())
}

/// An account by id.
///
/// # Errors
/// Database errors.
pub fn find_user(db: &dyn Db, id: Uuid) -> Result<Option<User>, DbError> {
    db.query_as(concat!("select (select ", user_json!(), " from users u where u.id = $1)"), &[id.into()])
}

/// A page of accounts and the total.
#[derive(Debug, Deserialize)]
pub struct UserPage {
    /// By e-mail.
    pub items: Vec<User>,
    /// In all pages.
    pub total: u64,
}

/// Lists accounts by e-mail, optionally by role and active flag.
///
/// # Errors
/// Database errors.
pub fn list_users(db: &dyn Db, role: Option<Role>, active: Option<bool>, page: Page) -> Result<UserPage, DbError> {
    db.query_as(
        concat!(
            "with matching as (select * from users
                               where ($1::text is null or role = $1::text) and ($2::bool is null or is_active = $2::bool))
             select jsonb_build_object(
                 'total', (select count(*) from matching),
                 'items', coalesce((select jsonb_agg(",
            user_json!(),
            " order by u.email) from (select * from matching order by email limit $3 offset $4) u), '[]'::jsonb))"
        ),
        &[role.map(Role::as_str).into(), active.into(), Param::Int64(page.limit()), Param::Int64(page.offset())],
    )
}

/// Changes name, e-mail and role where given; answers the account, `None` when it does not exist.
///
/// # Errors
/// 409 `email_taken`; database errors.
pub fn update_user(
    db: &dyn Db,
    id: Uuid,
    name: Option<&str>,
    email: Option<&str>,
    role: Option<Role>,
) -> Result<Option<User>, DbError> {
    db.query_as(
        concat!(
            "with u as (update users set name = coalesce($2, name), email = coalesce($3, email),
                                         role = coalesce($4, role), updated_at = now()
                        where id = $1 returning *)
             select (select ",
            user_json!(),
            " from u)"
        ),
        &[id.into(), name.map(str::to_owned).into(), email.map(str::to_owned).into(), role.map(Role::as_str).into()],
    )
}

/// Activates or deactivates an account; answers it, `None` when it does not exist.
///
/// # Errors
/// Database errors.
pub fn set_active(db: &dyn Db, id: Uuid, active: bool) -> Result<Option<User>, DbError> {
    db.query_as(
        concat!(
            "with u as (update users set is_active = $2, updated_at = now(),
                                         deactivated_at = case when $2 then null else now() end
                        where id = $1 returning *)
             select (select ",
            user_json!(),
            " from u)"
        ),
        &[id.into(), Param::Bool(active)],
    )
}

/// Replaces the password hash.
///
/// # Errors
/// Database errors.
pub fn set_password(db: &dyn Db, id: Uuid, password_hash: &str) -> Result<(), DbError> {
    db.execute(
        "update users set password_hash = $2, updated_at = now() where id = $1",
        &[id.into(), password_hash.into()],
    )?;
    Ok(())
}

/// Records a successful sign-in.
///
/// # Errors
/// Database errors.
pub fn touch_login(db: &dyn Db, id: Uuid) -> Result<(), DbError> {
    db.execute("update users set last_login_at = now() where id = $1", &[id.into()])?;
    Ok(())
}

/// Stores a TOTP secret awaiting confirmation (2FA stays off until then).
///
/// # Errors
/// Database errors.
pub fn set_pending_totp(db: &dyn Db, id: Uuid, secret: &str) -> Result<(), DbError> {
    db.execute(
        "update users set totp_secret = $2, totp_enabled = false, totp_last_step = null, updated_at = now() where id = $1",
        &[id.into(), secret.into()],
    )?;
    Ok(())
}

/// Turns 2FA on or off; off also forgets the secret.
///
/// # Errors
/// Database errors.
pub fn set_totp_enabled(db: &dyn Db, id: Uuid, enabled: bool) -> Result<(), DbError> {
    db.execute(
        "update users set totp_enabled = $2, updated_at = now(),
                          totp_secret = case when $2 then totp_secret else null end,
                          totp_last_step = case when $2 then totp_last_step else null end
         where id = $1",
        &[id.into(), Param::Bool(enabled)],
    )?;
    Ok(())
}

/// Accepts TOTP step `step` for the account once: answers `false` when that step (or a later
/// one) was already used, so a code cannot be replayed.
///
/// # Errors
/// Database errors.
pub fn use_totp_step(db: &dyn Db, id: Uuid, step: i64) -> Result<bool, DbError> {
    let updated = db.execute(
        "update users set totp_last_step = $2 where id = $1 and (totp_last_step is null or totp_last_step < $2)",
        &[id.into(), Param::Int64(step)],
    )?;
    Ok(updated == 1)
}

/// Replaces the account's recovery codes (hashes).
///
/// # Errors
/// Database errors.
pub fn replace_recovery_codes(db: &dyn Db, id: Uuid, hashes: &[String]) -> Result<(), DbError> {
    db.execute("delete from recovery_codes where user_id = $1", &[id.into()])?;
    db.execute(
        "insert into recovery_codes (user_id, code_hash) select $1, unnest($2::text[])",
        &[id.into(), Param::TextArray(hashes.to_vec())],
    )?;
    Ok(())
}

/// Spends a recovery code; answers whether it was valid and unused.
///
/// # Errors
/// Database errors.
pub fn use_recovery_code(db: &dyn Db, id: Uuid, hash: &str) -> Result<bool, DbError> {
    let updated = db.execute(
        "update recovery_codes set used_at = now() where user_id = $1 and code_hash = $2 and used_at is null",
        &[id.into(), hash.into()],
    )?;
    Ok(updated == 1)
}
