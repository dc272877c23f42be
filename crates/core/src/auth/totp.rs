//! TOTP two-factor (RFC 6238: SHA-1, 6 digits, 30 s steps, one step of skew) and recovery codes.

use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Issuer shown in authenticator apps.
const ISSUER: &str = "StatusPage";
/// Recovery codes issued at confirmation.
pub const RECOVERY_CODES: usize = 10;

fn totp(secret_base32: &str, account: &str) -> Result<Totp, String> {
    let secret = Secret::try_from_base32(secret_base32).map_err(|e| format!("bad TOTP secret: {e:?}"))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .map_err(|e| format!("bad TOTP secret: {e}"))
}

fn base32(bytes: &[u8]) -> String {
    Secret::new(bytes.to_vec().into_boxed_slice()).to_base32()
}

/// A new random secret (160 bits), base32.
///
/// # Errors
/// When the system's random source fails.
pub fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| format!("random source failed: {e}"))?;
    Ok(base32(&bytes))
}

/// The `otpauth://` URI an authenticator app scans.
///
/// # Errors
/// When the secret is malformed.
pub fn otpauth_uri(secret_base32: &str, account: &str) -> Result<String, String> {
    totp(secret_base32, account)?.to_url().map_err(|e| e.to_string())
}

/// The code for `unix_seconds` (for tests and tools).
///
/// # Errors
/// When the secret is malformed.
pub fn code_at(secret_base32: &str, unix_seconds: u64) -> Result<String, String> {
    Ok(totp(secret_base32, "x")?.generate(unix_seconds).to_string())
}

/// The time step `code` is valid for at `unix_seconds` (the current step or one either side),
/// if any. Callers accept each step once (RFC 6238 §5.2) by remembering the last one used.
#[must_use]
pub fn verify(secret_base32: &str, code: &str, unix_seconds: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret_base32, "x").ok()?.check(&code, unix_seconds)
}

/// [`verify`] at `now`, with the step as the database stores it.
#[must_use]
pub fn verify_at(secret_base32: &str, code: &str, now: time::OffsetDateTime) -> Option<i64> {
    let now = u64::try_from(now.unix_timestamp()).ok()?;
    verify(secret_base32, code, now).and_then(|step| i64::try_from(step).ok())
}

/// New recovery codes (`xxxxx-xxxxx`, base32 lower case).
///
/// # Errors
/// When the system's random source fails.
pub fn recovery_codes() -> Result<Vec<String>, String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 7];
            getrandom::fill(&mut bytes).map_err(|e| format!("random source failed: {e}"))?;
            let text = base32(&bytes).to_ascii_lowercase();
            Ok(format!("{}-{}", &text[..5], &text[5..10]))
        })
        .collect()
}

/// A recovery code as typed, normalised for hashing.
#[must_use]
pub fn normalise_recovery_code(code: &str) -> String {
    code.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_verify_within_one_step_of_skew() {
        let secret = new_secret().expect("secret");
        let now = 1_795_608_000;
        let code = code_at(&secret, now).expect("code");
        assert_eq!(verify(&secret, &code, now), Some(now / 30));
        assert_eq!(verify(&secret, &code, now + 30), Some(now / 30), "one step late");
        assert_eq!(verify(&secret, &code, now - 30), Some(now / 30), "one step early");
        assert_eq!(verify(&secret, &code, now + 90), None, "three steps late");
        assert_eq!(verify(&secret, "000000x", now), None);
        assert_eq!(verify("not base32!", &code, now), None);
    }

    #[test]
    fn rfc_6238_reference_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59: 94287082 (8 digits); its last 6 are 287082.
        let secret = base32(b"12345678901234567890");
        assert_eq!(code_at(&secret, 59).as_deref(), Ok("287082"));
    }

    #[test]
    fn the_uri_names_issuer_and_account() {
        let uri = otpauth_uri(&new_secret().expect("secret"), "admin@example.com").expect("uri");
        assert!(uri.starts_with("otpauth://totp/StatusPage:admin%40example.com?secret="), "{uri}");
        assert!(uri.contains("issuer=StatusPage"), "{uri}");
    }

    #[test]
    fn recovery_codes_are_distinct_and_formatted() {
        let codes = recovery_codes().expect("codes");
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(codes.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'), "{codes:?}");
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
    }
}
