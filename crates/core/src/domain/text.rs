//! Text values with an invariant, and the one bounded-text rule they share. Each parses from
//! what a client sent (trimmed), and its error is the message of the field error.

use serde::{Deserialize, Serialize};

/// Trimmed `raw`, at most `max` characters (characters, not bytes: "пароль" is 6).
///
/// # Errors
/// `must be at most <max> characters`.
pub fn bounded(raw: &str, max: usize) -> Result<String, String> {
    let text = raw.trim();
    if text.chars().count() > max { Err(format!("must be at most {max} characters")) } else { Ok(text.to_owned()) }
}

/// As [`bounded`], and not empty.
///
/// # Errors
/// `must not be empty`, or too long.
pub fn non_empty(raw: &str, max: usize) -> Result<String, String> {
    let text = bounded(raw, max)?;
    if text.is_empty() { Err("must not be empty".into()) } else { Ok(text) }
}

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident, $parse:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses client input.
            ///
            /// # Errors
            /// The field error's message.
            pub fn parse(raw: &str) -> Result<Self, String> {
                let parse: fn(&str) -> Result<String, String> = $parse;
                parse(raw).map(Self)
            }

            /// The text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Longest service or group name (as the old service allowed).
pub const MAX_NAME: usize = 255;
/// Longest event title.
pub const MAX_TITLE: usize = 200;
/// Longest person's display name.
pub const MAX_DISPLAY_NAME: usize = 200;
/// Longest slug (as the old service allowed).
pub const MAX_SLUG: usize = 255;

text_newtype!(
    /// A service or group name: 1 to 255 characters.
    Name,
    |raw| non_empty(raw, MAX_NAME)
);

text_newtype!(
    /// An event title: 1 to 200 characters.
    Title,
    |raw| non_empty(raw, MAX_TITLE)
);

text_newtype!(
    /// A person's display name: at most 200 characters, possibly empty.
    DisplayName,
    |raw| bounded(raw, MAX_DISPLAY_NAME)
);

text_newtype!(
    /// A URL name: `^[a-z0-9]+(-[a-z0-9]+)*$`, at most 255 characters (not trimmed: a slug with
    /// spaces is a different slug, and refused).
    Slug,
    |raw| {
        let valid = !raw.is_empty()
            && raw.len() <= MAX_SLUG
            && raw.split('-').all(|part| {
                !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if valid {
            Ok(raw.to_owned())
        } else {
            Err(format!("must be lower-case letters and digits in dash-separated words (at most {MAX_SLUG})"))
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_spec_pattern() {
        for ok in ["api", "a1", "public-api", "eu-west-2"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "API", "-api", "api-", "a--b", "a_b", "a b", "ä", " api", &"x".repeat(256)] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bounded_text_counts_characters_and_trims() {
        let cases: [(&str, Result<&str, &str>); 4] = [
            ("  API  ", Ok("API")),
            ("   ", Err("must not be empty")),
            (&"я".repeat(255), Ok("")),
            (&"я".repeat(256), Err("must be at most 255 characters")),
        ];
        for (raw, expected) in cases {
            let got = Name::parse(raw);
            match expected {
                Ok("") => assert!(got.is_ok(), "{raw:?}"),
                Ok(text) => assert_eq!(got.map(|n| n.as_str().to_owned()), Ok(text.to_owned()), "{raw:?}"),
                Err(message) => assert_eq!(got, Err(message.to_owned()), "{raw:?}"),
            }
        }
        assert_eq!(DisplayName::parse("  ").map(|n| n.as_str().to_owned()), Ok(String::new()), "may be empty");
    }
}
