//! Passwords: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane).

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

/// Fewest characters in a password.
pub const MIN_CHARS: usize = 8;
/// Most bytes in a password (argon2 takes any length; this bounds the work per request).
pub const MAX_BYTES: usize = 1024;

/// A valid hash of a random password, verified against when the account does not exist so that
/// an unknown e-mail costs the same time as a wrong password.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$KDxGw96GnvOe9t7lC++Quw$KlnnCnDqbDE9tkH1NXRpFdsySuVXhFuqaoNu/+QBhxQ";

fn argon2() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: m = 19 MiB, t = 2, p = 1. The values are valid.
    let params = Params::new(19_456, 2, 1, Some(32)).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks the password policy.
///
/// # Errors
/// The rule it breaks.
pub fn check_policy(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_CHARS {
        return Err(format!("must be at least {MIN_CHARS} characters"));
    }
    if password.len() > MAX_BYTES {
        return Err(format!("must be at most {MAX_BYTES} bytes"));
    }
    Ok(())
}

/// Hashes a password (PHC string, random 16-byte salt).
///
/// # Errors
/// When the system's random source fails.
pub fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("random source failed: {e}"))?;
    argon2().hash_password_with_salt(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Whether `password` matches `stored` (a PHC string); `None` verifies against a dummy hash and
/// answers `false`, taking the same time.
#[must_use]
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    // The stored hash carries its own parameters; verification uses those.
    let matches = argon2().verify_password(password.as_bytes(), stored.unwrap_or(DUMMY_HASH)).is_ok();
    matches && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_owasp_parameters() {
        let phc = hash("correct horse").expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse", Some(&phc)));
        assert!(!verify("wrong horse", Some(&phc)));
        assert!(!verify("admin123", None), "the dummy never matches");
        assert!(verify("admin123", Some(DUMMY_HASH)), "the dummy is a real hash, so it costs the same");
    }

    #[test]
    fn policy_bounds_length() {
        assert!(check_policy("1234567").is_err());
        assert!(check_policy("12345678").is_ok());
        assert!(check_policy("пароль12").is_ok(), "characters, not bytes");
        assert!(check_policy(&"x".repeat(1025)).is_err());
    }
}
