//! Names in a manifest, with Spin's grammars and Spin's error messages, so that a name Spin
//! refuses stops the host with the reason Spin gives.
//!
//! - Component ids are kebab-case ([`KebabId`]), variable names lower snake_case
//!   ([`LowerSnakeId`]): words of ASCII letters and digits, each starting with a letter, joined
//!   by `-` or `_`. Spin 4.0.2 (`crates/serde/src/id.rs`, `Id::try_from`) refuses
//!   `require_2fa_for_admins` with `'_'-separated words must start with an ASCII letter; got '2'`.
//!   (Spin's main branch later allowed a digit to start a word after the first; the released
//!   rule is the stricter one, and stricter is what we check.)
//! - Variable names are also checked by Spin's expression resolver (`crates/expressions`,
//!   `Key::validate`) when the app starts: lower-case letters, digits and single underscores,
//!   starting with a letter and ending with a letter or digit.

use std::fmt;

use serde::Deserialize;

/// A word-list identifier: words separated by `DELIM`; `LOWER` refuses upper-case words.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct Id<const DELIM: char, const LOWER: bool>(String);

/// A component id (`status`, `auth-api`).
pub type KebabId = Id<'-', false>;
/// A key-value store or database label written in snake case.
pub type SnakeId = Id<'_', false>;
/// A variable name (`db_url`).
pub type LowerSnakeId = Id<'_', true>;

impl<const DELIM: char, const LOWER: bool> Id<DELIM, LOWER> {
    /// The name as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const DELIM: char, const LOWER: bool> fmt::Display for Id<DELIM, LOWER> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const DELIM: char, const LOWER: bool> TryFrom<String> for Id<DELIM, LOWER> {
    type Error = String;

    /// Spin 4.0.2's rules, in Spin's order, with Spin's messages.
    fn try_from(id: String) -> Result<Self, Self::Error> {
        if id.is_empty() {
            return Err("empty".into());
        }
        let wrong = match DELIM {
            '_' => Some('-'),
            '-' => Some('_'),
            _ => None,
        };
        if let Some(wrong) = wrong.filter(|w| id.contains(*w)) {
            return Err(format!("words must be separated with {DELIM:?}, not {wrong:?}"));
        }
        for word in id.split(DELIM) {
            let mut chars = word.chars();
            let Some(first) = chars.next() else {
                return Err(format!("{DELIM:?}-separated words must not be empty"));
            };
            if !first.is_ascii_alphabetic() {
                return Err(format!("{DELIM:?}-separated words must start with an ASCII letter; got {first:?}"));
            }
            let upper = first.is_ascii_uppercase();
            for ch in chars {
                if ch.is_ascii_digit() {
                    continue;
                }
                if !ch.is_ascii_alphanumeric() {
                    return Err(format!("{DELIM:?}-separated words may only contain alphanumeric ASCII; got {ch:?}"));
                }
                if ch.is_ascii_uppercase() != upper {
                    return Err(format!(
                        "{DELIM:?}-separated words must be all lowercase or all UPPERCASE; got {word:?}"
                    ));
                }
            }
            if LOWER && upper {
                return Err(format!("Lower-case identifiers must be all lowercase; got {id:?}"));
            }
        }
        Ok(Self(id))
    }
}

/// Spin's expression resolver's check of a variable name (`crates/expressions`,
/// `Key::validate`), with its messages.
///
/// # Errors
/// `invalid variable name: "<name>": <reason>`.
pub fn check_variable_key(key: &str) -> anyhow::Result<()> {
    let reason = if key.is_empty() {
        Some("must not be empty".to_owned())
    } else if let Some(c) = key.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')) {
        Some(format!(
            "invalid character {c:?}. Variable names may contain only lower-case letters, numbers, and underscores."
        ))
    } else if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("must start with a lowercase ASCII letter".to_owned())
    } else if !key.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        Some("must end with a lowercase ASCII letter or digit".to_owned())
    } else if key.contains("__") {
        Some("must not contain multiple consecutive underscores".to_owned())
    } else {
        None
    };
    reason.map_or(Ok(()), |reason| Err(anyhow::anyhow!("invalid variable name: {key:?}: {reason}")))
}

/// A key-value store (or SQLite database) label: kebab-case or snake_case, as Spin's manifest
/// schema requires (`kebab_or_snake_case` in `crates/manifest/src/schema/v2.rs`).
///
/// # Errors
/// Spin's message, `expected kebab-case or snake_case`.
pub fn check_store_label(label: &str) -> Result<(), String> {
    let kebab = KebabId::try_from(label.to_owned()).is_ok();
    let snake = SnakeId::try_from(label.to_owned()).is_ok();
    if kebab || snake { Ok(()) } else { Err("expected kebab-case or snake_case".into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_spins_released_grammar() {
        let snake = |s: &str| LowerSnakeId::try_from(s.to_owned()).map(|_| ());
        let kebab = |s: &str| KebabId::try_from(s.to_owned()).map(|_| ());
        for ok in ["db_url", "a1", "require_admin_totp", "x_y2_z"] {
            assert_eq!(snake(ok), Ok(()), "{ok}");
        }
        let refused = [
            ("require_2fa_for_admins", "'_'-separated words must start with an ASCII letter; got '2'"),
            ("bad+name", "'_'-separated words may only contain alphanumeric ASCII; got '+'"),
            ("db-url", "words must be separated with '_', not '-'"),
            ("db__url", "'_'-separated words must not be empty"),
            ("DB_URL", "Lower-case identifiers must be all lowercase; got \"DB_URL\""),
            ("dB", "'_'-separated words must be all lowercase or all UPPERCASE; got \"dB\""),
            ("", "empty"),
        ];
        for (name, reason) in refused {
            assert_eq!(snake(name), Err(reason.to_owned()), "{name}");
        }
        assert_eq!(kebab("auth-api"), Ok(()));
        assert_eq!(kebab("bad_id"), Err("words must be separated with '-', not '_'".into()));
        assert_eq!(kebab("1-2-3"), Err("'-'-separated words must start with an ASCII letter; got '1'".into()));
    }

    #[test]
    fn variable_keys_and_store_labels() {
        assert!(check_variable_key("db_url").is_ok());
        assert!(check_variable_key("x_").is_err_and(|e| e.to_string().contains("must end with")));
        assert!(check_variable_key("Ab").is_err_and(|e| e.to_string().contains("invalid character 'A'")));
        for ok in ["default", "kebab-case", "snake_case", "mixed_CASE"] {
            assert_eq!(check_store_label(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_store_label("camelCase"), Err("expected kebab-case or snake_case".into()));
    }
}
