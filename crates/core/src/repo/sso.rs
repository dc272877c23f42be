//! SQL for single sign-on: sign-ins under way, the provider's cached documents, and the links
//! between accounts and the provider's subjects.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::Role;
use crate::db::{Db, DbError, DbExt, Param};
use crate::domain::User;

/// Records a sign-in under way: the state's hash, its nonce and PKCE verifier, until `expires`.
///
/// # Errors
/// Database errors.
pub fn begin(
    db: &dyn Db,
    state_hash: &str,
    (nonce, verifier): (&str, &str),
    (at, expires): (OffsetDateTime, OffsetDateTime),
) -> Result<(), DbError> {
    db.execute(
        "insert into oidc_logins (state_hash, nonce, code_verifier, created_at, expires_at)
         values ($1, $2, $3, $4::text::timestamptz, $5::text::timestamptz)",
        &[state_hash.into(), nonce.into(), verifier.into(), at.into(), expires.into()],
    )?;
    Ok(())
}

/// A sign-in under way, spent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Begun {
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier.
    pub code_verifier: String,
}

/// Spends the sign-in whose state hashes to `state_hash`, if it is unspent and unexpired at
/// `at` (a state works once).
///
/// # Errors
/// Database errors.
pub fn spend(db: &dyn Db, state_hash: &str, at: OffsetDateTime) -> Result<Option<Begun>, DbError> {
    db.query_as(
        "with spent as (
             update oidc_logins set used_at = $2::text::timestamptz
             where state_hash = $1 and used_at is null and expires_at > $2::text::timestamptz
             returning nonce, code_verifier)
         select (select jsonb_build_object('nonce', nonce, 'code_verifier', code_verifier) from spent)",
        &[state_hash.into(), at.into()],
    )
}

/// What is cached of a provider.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Cached {
    /// Its discovery document.
    pub discovery: serde_json::Value,
    /// When it was fetched.
    #[serde(with = "crate::time::serde")]
    pub fetched_at: OffsetDateTime,
    /// Its key set.
    pub jwks: Option<serde_json::Value>,
    /// When that was fetched.
    #[serde(with = "crate::time::serde::option")]
    pub jwks_fetched_at: Option<OffsetDateTime>,
}

/// The cached documents of provider `issuer`.
///
/// # Errors
/// Database errors.
pub fn cached(db: &dyn Db, issuer: &str) -> Result<Option<Cached>, DbError> {
    db.query_as(
        "select (select jsonb_build_object('discovery', discovery, 'fetched_at', rfc3339(fetched_at),
                                          'jwks', jwks, 'jwks_fetched_at', rfc3339(jwks_fetched_at))
                 from oidc_providers where issuer = $1)",
        &[issuer.into()],
    )
}

/// Stores provider `issuer`'s discovery document fetched at `at`.
///
/// # Errors
/// Database errors.
pub fn store_discovery(
    db: &dyn Db,
    issuer: &str,
    discovery: &serde_json::Value,
    at: OffsetDateTime,
) -> Result<(), DbError> {
    db.execute(
        "insert into oidc_providers (issuer, discovery, fetched_at) values ($1, $2, $3::text::timestamptz)
         on conflict (issuer) do update set discovery = excluded.discovery, fetched_at = excluded.fetched_at",
        &[issuer.into(), Param::Jsonb(discovery.clone()), at.into()],
    )?;
    Ok(())
}

/// Stores provider `issuer`'s key set fetched at `at`.
///
/// # Errors
/// Database errors.
pub fn store_jwks(db: &dyn Db, issuer: &str, jwks: &serde_json::Value, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update oidc_providers set jwks = $2, jwks_fetched_at = $3::text::timestamptz where issuer = $1",
        &[issuer.into(), Param::Jsonb(jwks.clone()), at.into()],
    )?;
    Ok(())
}

/// The account linked to subject `subject` of `issuer`.
///
/// # Errors
/// Database errors.
pub fn find_linked(db: &dyn Db, issuer: &str, subject: &str) -> Result<Option<Uuid>, DbError> {
    db.query_as(
        "select (select to_jsonb(id) from users where oidc_issuer = $1 and oidc_subject = $2)",
        &[issuer.into(), subject.into()],
    )
}

/// Links account `user` to subject `subject` of `issuer`.
///
/// # Errors
/// Database errors.
pub fn link(db: &dyn Db, user: Uuid, (issuer, subject): (&str, &str), at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update users set oidc_issuer = $2, oidc_subject = $3, updated_at = $4::text::timestamptz where id = $1",
        &[user.into(), issuer.into(), subject.into(), at.into()],
    )?;
    Ok(())
}

/// Sets account `user`'s role (from the provider's claim) at `at`.
///
/// # Errors
/// Database errors.
pub fn set_role(db: &dyn Db, user: Uuid, role: Role, at: OffsetDateTime) -> Result<(), DbError> {
    db.execute(
        "update users set role = $2, updated_at = $3::text::timestamptz where id = $1",
        &[user.into(), role.as_str().into(), at.into()],
    )?;
    Ok(())
}

/// Account `user` as the API shows it.
///
/// # Errors
/// Database errors.
pub fn user(db: &dyn Db, user: Uuid) -> Result<Option<User>, DbError> {
    crate::repo::users::find_user(db, user)
}
