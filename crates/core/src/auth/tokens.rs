//! Access tokens (JWT HS256, 15 minutes) and opaque secrets (refresh tokens, reset tokens,
//! API keys, recovery codes), which are stored only as SHA-256 hashes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Role;

/// Lifetime of an access token.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Lifetime of a refresh token.
pub const REFRESH_TTL_SECS: i64 = 7 * 24 * 3600;
/// Clock skew tolerated when checking `exp`.
const LEEWAY_SECS: u64 = 5;
/// Shortest acceptable signing secret.
pub const MIN_SECRET_BYTES: usize = 16;

/// The claims of an access token (SPEC §3: `sub`, `role`, `iat`, `exp`; `sid` names the session
/// family, so logout can revoke it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: Uuid,
    /// The role when issued (the database's current role is what counts).
    pub role: Role,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// Session family.
    pub sid: Uuid,
}

/// Why a token was refused (all are 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Past `exp`.
    #[error("the access token has expired")]
    Expired,
    /// Bad signature, wrong algorithm, malformed.
    #[error("the access token is invalid")]
    Invalid,
    /// The server's secret is unusable.
    #[error("jwt_secret is shorter than {MIN_SECRET_BYTES} bytes")]
    WeakSecret,
}

fn check_secret(secret: &str) -> Result<(), TokenError> {
    if secret.len() < MIN_SECRET_BYTES { Err(TokenError::WeakSecret) } else { Ok(()) }
}

/// Signs an access token for `user` in session family `sid`, issued at `now` (Unix seconds).
///
/// # Errors
/// [`TokenError::WeakSecret`].
pub fn issue_access(secret: &str, user: Uuid, role: Role, sid: Uuid, now: i64) -> Result<String, TokenError> {
    check_secret(secret)?;
    let claims = AccessClaims { sub: user, role, iat: now, exp: now + ACCESS_TTL_SECS, sid };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
        .map_err(|_| TokenError::Invalid)
}

/// Verifies an access token: HS256 only (so `alg: none` and others fail), signature, expiry.
///
/// # Errors
/// [`TokenError`].
pub fn verify_access(secret: &str, token: &str) -> Result<AccessClaims, TokenError> {
    check_secret(secret)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECS;
    validation.set_required_spec_claims(&["exp", "sub", "iat"]);
    jsonwebtoken::decode::<AccessClaims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })
}

/// `bytes` random bytes, URL-safe base64 without padding.
///
/// # Errors
/// When the system's random source fails.
pub fn random_secret(bytes: usize) -> Result<String, String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|e| format!("random source failed: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

/// The stored form of an opaque secret: SHA-256, hex. (The secrets are 256-bit random, so a
/// fast hash is enough; a slow one would only cost time on every request.)
#[must_use]
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two hashes in constant time.
#[must_use]
pub fn hashes_equal(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-test-secret-of-enough-length";

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn issued_tokens_verify_and_carry_their_claims() {
        let (user, sid) = (Uuid::new_v4(), Uuid::new_v4());
        let token = issue_access(SECRET, user, Role::Operator, sid, now()).expect("issue");
        let claims = verify_access(SECRET, &token).expect("verify");
        assert_eq!((claims.sub, claims.role, claims.sid), (user, Role::Operator, sid));
        assert_eq!(claims.exp - claims.iat, ACCESS_TTL_SECS);
    }

    #[test]
    fn expired_tampered_foreign_and_unsigned_tokens_are_refused() {
        let user = Uuid::new_v4();
        let expired = issue_access(SECRET, user, Role::User, user, now() - ACCESS_TTL_SECS - 60).expect("issue");
        assert_eq!(verify_access(SECRET, &expired), Err(TokenError::Expired));

        let good = issue_access(SECRET, user, Role::User, user, now()).expect("issue");
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(&parts[1]).expect("b64")).expect("utf8");
        parts[1] = URL_SAFE_NO_PAD.encode(payload.replace("\"user\"", "\"admin\""));
        assert_eq!(verify_access(SECRET, &parts.join(".")), Err(TokenError::Invalid), "tampered payload");

        assert_eq!(verify_access("another-secret-of-enough-length", &good), Err(TokenError::Invalid));

        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert_eq!(verify_access(SECRET, &unsigned), Err(TokenError::Invalid), "alg none");
        assert_eq!(verify_access(SECRET, "not.a.jwt"), Err(TokenError::Invalid));
        assert_eq!(verify_access("short", &good), Err(TokenError::WeakSecret));
    }

    #[test]
    fn secrets_are_random_and_hash_stably() {
        let (a, b) = (random_secret(32).expect("a"), random_secret(32).expect("b"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(hashes_equal(&hash_secret(&a), &hash_secret(&a)));
        assert!(!hashes_equal(&hash_secret(&a), &hash_secret(&b)));
    }
}
