//! Access tokens (JWT HS256, 15 minutes) and opaque secrets (refresh tokens, reset tokens,
//! API keys, recovery codes), which are stored only as SHA-256 hashes.
//!
//! The JWTs are HS256 only, built on RustCrypto's `hmac` and `sha2`. A general JWT crate was
//! measured first: its pure-Rust backend links RSA, ECDSA and EdDSA verifiers that this service
//! never accepts, and every component that authenticates grew by ~650 KB (catalog: 366 KB →
//! 1,017 KB). Accepting exactly one algorithm also closes algorithm-confusion attacks (`alg:
//! none`, HS/RS swaps) by construction: the header must be exactly HS256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// The only header issued and accepted: HS256, with the id of the key that signed it.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
}

/// The id of signing key `secret`: a short digest (domain-separated, so it says nothing
/// usable about the key), which lets verification pick the key among the current and the
/// rotated-out ones.
#[must_use]
pub fn key_id(secret: &str) -> String {
    let digest = Sha256::digest(format!("statuspage jwt key id\0{secret}").as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

use super::Role;

/// Lifetime of an access token.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Lifetime of a refresh token.
pub const REFRESH_TTL_SECS: i64 = 7 * 24 * 3600;
/// Clock skew tolerated when checking `exp`.
const LEEWAY_SECS: i64 = 5;
/// Shortest acceptable signing secret.
pub const MIN_SECRET_BYTES: usize = 16;

/// The claims of an access token (`sub`, `role`, `iat`, `exp`; `sid` names the session
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
    let header = Header { alg: "HS256".into(), typ: Some("JWT".into()), kid: Some(key_id(secret)) };
    let signing_input = format!("{}.{}", encode_part(&header)?, encode_part(&claims)?);
    let signature = URL_SAFE_NO_PAD.encode(mac(secret, &signing_input)?.finalize().into_bytes());
    Ok(format!("{signing_input}.{signature}"))
}

fn mac(secret: &str, signing_input: &str) -> Result<HmacSha256, TokenError> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes()).map_err(|_| TokenError::WeakSecret)?;
    mac.update(signing_input.as_bytes());
    Ok(mac)
}

fn encode_part<T: Serialize>(value: &T) -> Result<String, TokenError> {
    serde_json::to_vec(value).map(|json| URL_SAFE_NO_PAD.encode(json)).map_err(|_| TokenError::Invalid)
}

/// Verifies an access token at `now` (Unix seconds) with the key its `kid` names among `keys`
/// (the current key first, then keys rotated out; a token without a `kid`, issued before key
/// ids, is checked with the current key): HS256 only (so `alg: none` and others fail),
/// signature, expiry.
///
/// # Errors
/// [`TokenError`].
pub fn verify_access(keys: &[&str], token: &str, now: i64) -> Result<AccessClaims, TokenError> {
    let current = keys.first().copied().unwrap_or_default();
    check_secret(current)?;
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Invalid);
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| TokenError::Invalid);
    let header: Header = serde_json::from_slice(&decode(header)?).map_err(|_| TokenError::Invalid)?;
    if header.alg != "HS256" || header.typ.as_deref().is_some_and(|t| t != "JWT") {
        return Err(TokenError::Invalid);
    }
    let secret = match &header.kid {
        Some(kid) => keys.iter().copied().find(|k| key_id(k) == *kid).ok_or(TokenError::Invalid)?,
        None => current,
    };
    // The signature is checked (in constant time) before the claims are even parsed.
    let signing_input = &token[..token.len() - signature.len() - 1];
    mac(secret, signing_input)?.verify_slice(&decode(signature)?).map_err(|_| TokenError::Invalid)?;
    let claims: AccessClaims = serde_json::from_slice(&decode(payload)?).map_err(|_| TokenError::Invalid)?;
    if claims.exp + LEEWAY_SECS < now {
        return Err(TokenError::Expired);
    }
    Ok(claims)
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
        let claims = verify_access(&[SECRET], &token, now()).expect("verify");
        assert_eq!((claims.sub, claims.role, claims.sid), (user, Role::Operator, sid));
        assert_eq!(claims.exp - claims.iat, ACCESS_TTL_SECS);
    }

    #[test]
    fn expired_tampered_foreign_and_unsigned_tokens_are_refused() {
        let user = Uuid::new_v4();
        let expired = issue_access(SECRET, user, Role::User, user, now() - ACCESS_TTL_SECS - 60).expect("issue");
        assert_eq!(verify_access(&[SECRET], &expired, now()), Err(TokenError::Expired));

        let good = issue_access(SECRET, user, Role::User, user, now()).expect("issue");
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(&parts[1]).expect("b64")).expect("utf8");
        parts[1] = URL_SAFE_NO_PAD.encode(payload.replace("\"user\"", "\"admin\""));
        assert_eq!(verify_access(&[SECRET], &parts.join("."), now()), Err(TokenError::Invalid), "tampered payload");

        assert_eq!(verify_access(&["another-secret-of-enough-length"], &good, now()), Err(TokenError::Invalid));

        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert_eq!(verify_access(&[SECRET], &unsigned, now()), Err(TokenError::Invalid), "alg none");
        assert_eq!(verify_access(&[SECRET], "not.a.jwt", now()), Err(TokenError::Invalid));
        assert_eq!(verify_access(&["short"], &good, now()), Err(TokenError::WeakSecret));
    }

    #[test]
    fn tokens_of_a_rotated_out_key_verify_until_the_key_is_dropped() {
        const NEW: &str = "a-brand-new-secret-of-enough-length";
        let old = issue_access(SECRET, Uuid::new_v4(), Role::Operator, Uuid::new_v4(), now()).expect("issue");
        let new = issue_access(NEW, Uuid::new_v4(), Role::Operator, Uuid::new_v4(), now()).expect("issue");
        assert!(verify_access(&[NEW, SECRET], &old, now()).is_ok(), "the old key still verifies its tokens");
        assert!(verify_access(&[NEW, SECRET], &new, now()).is_ok());
        assert_eq!(verify_access(&[NEW], &old, now()), Err(TokenError::Invalid), "dropped: its tokens stop");
        assert_ne!(key_id(SECRET), key_id(NEW));
        // A token from before key ids (no `kid`) is checked with the current key.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = old.split('.').nth(1).expect("payload");
        let input = format!("{header}.{payload}");
        let signature = URL_SAFE_NO_PAD.encode(mac(SECRET, &input).expect("mac").finalize().into_bytes());
        assert!(verify_access(&[SECRET], &format!("{input}.{signature}"), now()).is_ok());
    }

    #[test]
    fn the_format_is_standard_hs256() {
        // The signature is HMAC-SHA256 over `base64url(header).base64url(payload)` (RFC 7515),
        // computed here independently of `issue_access`; the header is exactly HS256/JWT.
        let token = issue_access(SECRET, Uuid::nil(), Role::User, Uuid::nil(), now()).expect("issue");
        let (input, signature) = token.rsplit_once('.').expect("three parts");
        let expected = {
            let mut mac = <HmacSha256 as KeyInit>::new_from_slice(SECRET.as_bytes()).expect("key");
            mac.update(input.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        };
        assert_eq!(signature, expected);
        let header = URL_SAFE_NO_PAD.decode(input.split('.').next().expect("header")).expect("b64");
        assert_eq!(header, format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{}"}}"#, key_id(SECRET)).as_bytes());
        let extra_part = format!("{token}.x");
        assert_eq!(verify_access(&[SECRET], &extra_part, now()), Err(TokenError::Invalid));
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
