//! SQL for accounts.

use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::Role;
use crate::db::{Db, DbError, DbExt, Param, Window};
use crate::domain::User;
use crate::repo::{Listed, list_page};

/// The unique index on `users.email`.
pub const EMAIL_KEY: &str = "users_email_key";

/// The API shape of the user aliased `u`.
macro_rules! user_json {
    () => {
        "jsonb_build_object(
            'id', u.id, 'email', u.email, 'name', u.name, 'first_name', u.first_name, 'last_name', u.last_name,
            'role', u.role, 'is_active', u.is_active, 'totp_enabled', u.totp_enabled,
            'must_change_password', u.must_change_password, 'last_login_at', rfc3339(u.last_login_at),
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

/// A new account's fields.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    /// Lower-case e-mail.
    pub email: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Given name.
    pub first_name: &'a str,
    /// Family name.
    pub last_name: &'a str,
    /// argon2id PHC string.
    pub password_hash: &'a str,
    /// Role.
    pub role: Role,
}

/// Creates an account at `at`.
///
/// # Errors
/// A violation of [`EMAIL_KEY`] when the e-mail exists; database errors.
pub fn insert_user(db: &dyn Db, user: &NewUser<'_>, at: OffsetDateTime) -> Result<User, DbError> {
    db.query_as(
        concat!(
            "with u as (insert into users (email, name, first_name, last_name, password_hash, role, created_at, updated_at)
                        values ($1, $2, $3, $4, $5, $6, $7::text::timestamptz, $7::text::timestamptz) returning *)
             select ",
            user_json!(),
            " from u"
        ),
        &[
            user.email.into(),
            user.name.into(),
            user.first_name.into(),
            user.last_name.into(),
            user.password_hash.into(),
            user.role.as_str().into(),
            at.into(),
        ],
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

/// Lists accounts newest first, optionally by role and active flag.
///
/// # Errors
/// Database errors.
pub fn list_users(
    db: &dyn Db,
    role: Option<Role>,
    active: Option<bool>,
    window: Window,
) -> Result<Listed<User>, DbError> {
    let matching = "select * from users u
                    where ($1::text is null or role = $1::text) and ($2::bool is null or is_active = $2::bool)";
    list_page(
        db,
        (matching, user_json!(), "u", "created_at desc, id"),
        vec![role.map(Role::as_str).into(), active.into()],
        window,
    )
}

/// Changes of an account's profile (`None`: unchanged). A new first or last name without a
/// new display name makes the display name `first last`.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserChanges<'a> {
    /// Display name.
    pub name: Option<&'a str>,
    /// Given name.
    pub first_name: Option<&'a str>,
    /// Family name.
    pub last_name: Option<&'a str>,
    /// Lower-case e-mail.
    pub email: Option<&'a str>,
    /// Role.
    pub role: Option<Role>,
}

/// Changes name, e-mail and role where given; answers the account, `None` when it does not exist.
///
/// # Errors
/// A violation of [`EMAIL_KEY`]; database errors.
pub fn update_user(
    db: &dyn Db,
    id: Uuid,
    changes: &UserChanges<'_>,
    at: OffsetDateTime,
) -> Result<Option<User>, DbError> {
    db.query_as(
        concat!(
            "with u as (update users set
                            name = coalesce($2, case when $6::text is null and $7::text is null then name
                                                     else trim(coalesce($6, first_name) || ' ' || coalesce($7, last_name)) end),
                            first_name = coalesce($6, first_name), last_name = coalesce($7, last_name),
                            email = coalesce($3, email), role = coalesce($4, role), updated_at = $5::text::timestamptz
                        where id = $1 returning *)
             select (select ",
            user_json!(),
            " from u)"
        ),
        &[
            id.into(),
            changes.name.map(str::to_owned).into(),
            changes.email.map(str::to_owned).into(),
            changes.role.map(Role::as_str).into(),
            at.into(),
            changes.first_name.map(str::to_owned).into(),
            changes.last_name.map(str::to_owned).into(),
        ],
    )
}

/// Activates or deactivates an account; answers it, `None` when it does not exist.
///
/// # Errors
/// Database errors.
pub fn set_active(db: &dyn Db, id: Uuid, active: bool, at: OffsetDateTime) -> Result<Option<User>, DbError> {
    db.query_as(
        concat!(
            "with u as (update users set is_active = $2, updated_at = $3::text::timestamptz,
                                         deactivated_at = case when $2 then null else $3::text::timestamptz end
                        where id = $1 returning *)
             select (select ",
            user_json!(),
            " from u)"
        ),
        &[id.into(), Param::Bool(active), at.into()],
    )
}

/// Who chose a new password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChosenBy {
    /// The account's owner (clears `must_change_password`).
    Owner,
    /// An admin (sets it).
    Admin,
}

/// Replaces the password hash.
///
/// # Errors
/// Database errors.
pub fn set_password(
    db: &dyn Db,
    id: Uuid,
    password_hash: &str,
    by: ChosenBy,
    at: OffsetDateTime,
) -> Result<(), DbError> {
    db.execute(
        "update users set password_hash = $2, must_change_password = $4, updated_at = $3::text::timestamptz
         where id = $1",
        &[id.into(), password_hash.into(), at.into(), Param::Bool(by == ChosenBy::Admin)],
    )?;
    Ok(())
}

/// Records a successful sign-in.
///
/// # Errors
/// Database errors.
pub fn touch_login(db: &dyn Db, id: Uuid, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute("update users set last_login_at = $2::text::timestamptz where id = $1", &[id.into(), at.into()])?;
    Ok(())
}

/// Stores a TOTP secret awaiting confirmation (2FA stays off until then).
///
/// # Errors
/// Database errors.
pub fn set_pending_totp(db: &dyn Db, id: Uuid, secret: &str, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update users set totp_secret = $2, totp_enabled = false, totp_last_step = null,
                          updated_at = $3::text::timestamptz
         where id = $1",
        &[id.into(), secret.into(), at.into()],
    )?;
    Ok(())
}

/// Turns 2FA on or off; off also forgets the secret.
///
/// # Errors
/// Database errors.
pub fn set_totp_enabled(db: &dyn Db, id: Uuid, enabled: bool, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update users set totp_enabled = $2, updated_at = $3::text::timestamptz,
                          totp_secret = case when $2 then totp_secret else null end,
                          totp_last_step = case when $2 then totp_last_step else null end
         where id = $1",
        &[id.into(), Param::Bool(enabled), at.into()],
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

/// Spends a recovery code at `at`; answers whether it was valid and unused.
///
/// # Errors
/// Database errors.
pub fn use_recovery_code(db: &dyn Db, id: Uuid, hash: &str, at: OffsetDateTime) -> Result<bool, DbError> {
    let updated = db.execute(
        "update recovery_codes set used_at = $3::text::timestamptz
         where user_id = $1 and code_hash = $2 and used_at is null",
        &[id.into(), hash.into(), at.into()],
    )?;
    Ok(updated == 1)
}
