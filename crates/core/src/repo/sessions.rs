//! SQL for refresh-token sessions and one-time tokens. Every expiry is computed and compared
//! against the caller's `now`, never the database clock, so the code and its tests agree on
//! what time it is.

use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::tokens::REFRESH_TTL_SECS;
use crate::db::{Db, DbError, DbExt, Param};

fn refresh_ttl() -> Param {
    Param::Int32(i32::try_from(REFRESH_TTL_SECS).unwrap_or(i32::MAX))
}

/// Starts a session family with its first refresh token (stored hashed).
///
/// # Errors
/// Database errors.
pub fn create_session(
    db: &dyn Db,
    user: Uuid,
    family: Uuid,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    db.execute(
        "insert into sessions (family_id, user_id, token_hash, created_at, expires_at)
         values ($1, $2, $3, $5::text::timestamptz, $5::text::timestamptz + $4::int4 * interval '1 second')",
        &[family.into(), user.into(), token_hash.into(), refresh_ttl(), now.into()],
    )?;
    Ok(())
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Rotation {
    /// It was live: it is now spent and its successor is stored.
    Rotated {
        /// The account.
        user_id: Uuid,
        /// The family.
        family_id: Uuid,
    },
    /// It was already spent: someone replayed it. The caller revokes the family.
    Reused {
        /// The account.
        user_id: Uuid,
        /// The family.
        family_id: Uuid,
    },
    /// Expired or revoked.
    Dead {
        /// The account (a deactivated one answers differently).
        user_id: Uuid,
    },
    /// Never issued.
    Unknown,
}

/// Exchanges refresh token `old_hash` for `new_hash` in one statement (the row lock makes two
/// concurrent exchanges of one token see each other: the second is a reuse).
///
/// # Errors
/// Database errors.
pub fn rotate(db: &dyn Db, old_hash: &str, new_hash: &str, now: OffsetDateTime) -> Result<Rotation, DbError> {
    db.query_as(
        "with old as (
             select id, family_id, user_id, rotated_at, revoked_at, expires_at
             from sessions where token_hash = $1 for update),
         spent as (
             update sessions s set rotated_at = $4::text::timestamptz from old
             where s.id = old.id and old.rotated_at is null and old.revoked_at is null
               and old.expires_at > $4::text::timestamptz
             returning s.family_id, s.user_id),
         fresh as (
             insert into sessions (family_id, user_id, token_hash, created_at, expires_at)
             select family_id, user_id, $2, $4::text::timestamptz, $4::text::timestamptz + $3::int4 * interval '1 second'
             from spent
             returning family_id, user_id)
         select case
             when exists (select 1 from fresh) then
                 (select jsonb_build_object('outcome', 'rotated', 'user_id', user_id, 'family_id', family_id) from fresh)
             when exists (select 1 from old where rotated_at is not null and revoked_at is null) then
                 (select jsonb_build_object('outcome', 'reused', 'user_id', user_id, 'family_id', family_id) from old)
             when exists (select 1 from old) then
                 (select jsonb_build_object('outcome', 'dead', 'user_id', user_id) from old)
             else jsonb_build_object('outcome', 'unknown') end",
        &[old_hash.into(), new_hash.into(), refresh_ttl(), now.into()],
    )
}

/// Revokes one session family; answers how many tokens it held.
///
/// # Errors
/// Database errors.
pub fn revoke_family(db: &dyn Db, family: Uuid, now: OffsetDateTime) -> Result<u64, DbError> {
    db.execute(
        "update sessions set revoked_at = $2::text::timestamptz where family_id = $1 and revoked_at is null",
        &[family.into(), now.into()],
    )
}

/// Revokes every session of an account, except family `keep`.
///
/// # Errors
/// Database errors.
pub fn revoke_user_sessions(db: &dyn Db, user: Uuid, keep: Option<Uuid>, now: OffsetDateTime) -> Result<u64, DbError> {
    db.execute(
        "update sessions set revoked_at = $3::text::timestamptz
         where user_id = $1 and revoked_at is null and ($2::uuid is null or family_id <> $2::uuid)",
        &[user.into(), keep.into(), now.into()],
    )
}

/// A live one-time token.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct OneTimeToken {
    /// Its id.
    pub id: Uuid,
    /// Its account.
    pub user_id: Uuid,
    /// Failed attempts so far.
    pub attempts: i32,
}

/// Stores a one-time token (hashed) for `purpose`, valid for `ttl_secs` from `now`.
///
/// # Errors
/// Database errors.
pub fn create_one_time(
    db: &dyn Db,
    user: Uuid,
    purpose: &str,
    token_hash: &str,
    ttl_secs: i32,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    db.execute(
        "insert into one_time_tokens (user_id, purpose, token_hash, created_at, expires_at)
         values ($1, $2, $3, $5::text::timestamptz, $5::text::timestamptz + $4::int4 * interval '1 second')",
        &[user.into(), purpose.into(), token_hash.into(), Param::Int32(ttl_secs), now.into()],
    )?;
    Ok(())
}

/// A live (unused, unexpired at `now`) one-time token by hash.
///
/// # Errors
/// Database errors.
pub fn find_one_time(
    db: &dyn Db,
    purpose: &str,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<OneTimeToken>, DbError> {
    db.query_as(
        "select (select jsonb_build_object('id', id, 'user_id', user_id, 'attempts', attempts)
                 from one_time_tokens
                 where token_hash = $2 and purpose = $1 and used_at is null and expires_at > $3::text::timestamptz)",
        &[purpose.into(), token_hash.into(), now.into()],
    )
}

/// Spends a one-time token; answers whether it was still live (a concurrent use loses).
///
/// # Errors
/// Database errors.
pub fn spend_one_time(db: &dyn Db, id: Uuid, now: OffsetDateTime) -> Result<bool, DbError> {
    let spent = db.execute(
        "update one_time_tokens set used_at = $2::text::timestamptz where id = $1 and used_at is null",
        &[id.into(), now.into()],
    )?;
    Ok(spent == 1)
}

/// Counts a failed attempt; the token dies at `max_attempts`.
///
/// # Errors
/// Database errors.
pub fn fail_one_time(db: &dyn Db, id: Uuid, max_attempts: i32, now: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update one_time_tokens set attempts = attempts + 1,
                used_at = case when attempts + 1 >= $2 then $3::text::timestamptz else used_at end
         where id = $1",
        &[id.into(), Param::Int32(max_attempts), now.into()],
    )?;
    Ok(())
}

/// Kills the account's live tokens of `purpose` (a new reset link replaces older ones).
///
/// # Errors
/// Database errors.
pub fn expire_one_time(db: &dyn Db, user: Uuid, purpose: &str, now: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update one_time_tokens set used_at = $3::text::timestamptz
         where user_id = $1 and purpose = $2 and used_at is null",
        &[user.into(), purpose.into(), now.into()],
    )?;
    Ok(())
}

/// The family of a refresh token (live or spent), if it exists.
///
/// # Errors
/// Database errors.
pub fn family_of(db: &dyn Db, token_hash: &str) -> Result<Option<Uuid>, DbError> {
    db.query_as("select (select to_jsonb(family_id) from sessions where token_hash = $1)", &[token_hash.into()])
}
