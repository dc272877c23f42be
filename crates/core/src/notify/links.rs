//! Signed links for subscribers: one-click unsubscribe (RFC 8058) and the manage form's short
//! session. A link names its purpose, the channel and an expiry, signed with HMAC-SHA256 under
//! a key derived from `jwt_secret`, so it needs no database row and cannot be forged or
//! stretched; codes that must be single use (confirmation, manage requests) are random and
//! stored hashed instead.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// How long an unsubscribe link in an e-mail works.
pub const UNSUBSCRIBE_FOR: Duration = Duration::days(366);
/// How long a manage form stays usable once opened.
pub const MANAGE_SESSION_FOR: Duration = Duration::minutes(30);

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Unsubscribe the channel.
    Unsubscribe,
    /// Change a public subscriber's subscription (the manage form, once opened by its code).
    Manage,
}

impl Purpose {
    fn tag(self) -> &'static str {
        match self {
            Self::Unsubscribe => "unsubscribe",
            Self::Manage => "manage",
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str) -> HmacSha256 {
    // The link key is derived from jwt_secret, so the two uses never share a key.
    let mut derive = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| {
        <HmacSha256 as KeyInit>::new_from_slice(b"statuspage").unwrap_or_else(|_| unreachable!("HMAC takes any key"))
    });
    derive.update(b"statuspage subscriber links v1");
    let key = derive.finalize().into_bytes();
    <HmacSha256 as KeyInit>::new_from_slice(&key).unwrap_or_else(|_| unreachable!("HMAC takes any key"))
}

/// A link token for `channel`, valid until `now + valid_for`.
#[must_use]
pub fn sign(secret: &str, purpose: Purpose, channel: Uuid, now: OffsetDateTime, valid_for: Duration) -> String {
    let payload = format!("{}.{}.{}", purpose.tag(), channel.simple(), (now + valid_for).unix_timestamp());
    let mut mac = mac(secret);
    mac.update(payload.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{}.{signature}", URL_SAFE_NO_PAD.encode(payload))
}

/// The channel a token names, when one of `keys` (the current signing key, then keys rotated
/// out) signed it, for `purpose`, and it has not expired at `now`.
///
/// # Errors
/// A message saying why it is refused.
pub fn verify(keys: &[&str], purpose: Purpose, token: &str, now: OffsetDateTime) -> Result<Uuid, String> {
    let mut refusal = "this link is not valid; ask for a new one".to_owned();
    for key in keys {
        match verify_with(key, purpose, token, now) {
            Ok(channel) => return Ok(channel),
            Err(reason) if reason.contains("expired") => return Err(reason),
            Err(reason) => refusal = reason,
        }
    }
    Err(refusal)
}

fn verify_with(secret: &str, purpose: Purpose, token: &str, now: OffsetDateTime) -> Result<Uuid, String> {
    let invalid = || "this link is not valid; ask for a new one".to_owned();
    let (payload, signature) = token.split_once('.').ok_or_else(invalid)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| invalid())?;
    let mut mac = mac(secret);
    mac.update(&payload);
    mac.verify_slice(&signature).map_err(|_| invalid())?;
    let payload = String::from_utf8(payload).map_err(|_| invalid())?;
    let mut parts = payload.split('.');
    let (tag, channel, expires) = (parts.next(), parts.next(), parts.next());
    if tag != Some(purpose.tag()) {
        return Err(invalid());
    }
    let expires: i64 = expires.and_then(|e| e.parse().ok()).ok_or_else(invalid)?;
    if now.unix_timestamp() > expires {
        return Err("this link has expired; ask for a new one".into());
    }
    Uuid::parse_str(channel.unwrap_or_default()).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const SECRET: &str = "a-test-secret-of-enough-length";

    #[test]
    fn a_link_works_for_its_purpose_until_it_expires() {
        let (channel, now) = (Uuid::new_v4(), datetime!(2026-12-01 10:00 UTC));
        let token = sign(SECRET, Purpose::Unsubscribe, channel, now, Duration::days(1));
        assert_eq!(verify(&[SECRET], Purpose::Unsubscribe, &token, now + Duration::hours(23)), Ok(channel));
        assert!(verify(&[SECRET], Purpose::Manage, &token, now).is_err(), "another purpose");
        assert!(verify(&["another-secret-entirely-0123456"], Purpose::Unsubscribe, &token, now).is_err());
        let expired = verify(&[SECRET], Purpose::Unsubscribe, &token, now + Duration::days(2)).expect_err("expired");
        assert!(expired.contains("expired"), "{expired}");
        let mut forged = token.clone();
        forged.replace_range(0..2, "AA");
        assert!(verify(&[SECRET], Purpose::Unsubscribe, &forged, now).is_err());
        assert!(verify(&[SECRET], Purpose::Unsubscribe, "garbage", now).is_err());
    }
}
