//! Accounts.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::Role;

/// An account as the API shows it (never its secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: Uuid,
    /// Lower-case e-mail, unique.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Given name (the old service's field; omitted when empty, as it did).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub first_name: String,
    /// Family name (likewise).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last_name: String,
    /// Role.
    pub role: Role,
    /// Whether it may sign in.
    pub is_active: bool,
    /// Whether TOTP two-factor is on.
    pub totp_enabled: bool,
    /// An admin chose the current password; the owner should set their own.
    pub must_change_password: bool,
    /// Last successful sign-in.
    #[serde(with = "crate::time::serde::option")]
    pub last_login_at: Option<OffsetDateTime>,
    /// Created.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
    /// Last changed.
    #[serde(with = "crate::time::serde")]
    pub updated_at: OffsetDateTime,
}

/// A normalised e-mail address: trimmed, lower case, one `@` with text on both sides and a dot
/// in the domain, no spaces, at most 254 bytes. (Deliverability is proven by the e-mails
/// themselves, not by a pattern.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses and normalises.
    ///
    /// # Errors
    /// A message for the field error.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid { Ok(Self(email)) } else { Err("must be an e-mail address".into()) }
    }

    /// The address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_normalise_and_obvious_garbage_is_refused() {
        assert_eq!(Email::parse("  Admin@Example.COM ").map(|e| e.0), Ok("admin@example.com".into()));
        for bad in [
            "",
            "admin",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@@example.com",
            "a@example.",
            &format!("{}@x.io", "a".repeat(260)),
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
