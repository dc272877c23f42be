//! Service groups (SPEC §4).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A group as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// URL name, unique.
    pub slug: String,
    /// Free text.
    pub description: String,
    /// Sort key (then name).
    pub order: i32,
    /// Its live (not archived) services, by order then name.
    pub service_ids: Vec<Uuid>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
    /// RFC 3339 UTC when archived.
    pub archived_at: Option<String>,
}

/// A slug: `^[a-z0-9]+(-[a-z0-9]+)*$`, at most 100 characters.
///
/// # Errors
/// A message for the field error.
pub fn check_slug(raw: &str) -> Result<String, String> {
    let valid = !raw.is_empty()
        && raw.len() <= 100
        && raw
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if valid {
        Ok(raw.to_owned())
    } else {
        Err("must be lower-case letters and digits in dash-separated words (at most 100)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_spec_pattern() {
        for ok in ["api", "a1", "public-api", "eu-west-2"] {
            assert!(check_slug(ok).is_ok(), "{ok}");
        }
        for bad in ["", "API", "-api", "api-", "a--b", "a_b", "a b", "ä", &"x".repeat(101)] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }
}
