//! Times: [`OffsetDateTime`] inside the core; RFC 3339 UTC with milliseconds on the wire and in
//! SQL parameters (`$n::text::timestamptz`), any offset accepted on input.
//!
//! The database renders times with its `rfc3339()` function in the same format, so a time read
//! from a row and one written by [`format_rfc3339`] are the same text, and [`serde`] (the module)
//! reads and writes that format for the typed rows the repositories return.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Formats as RFC 3339 UTC with milliseconds (`2026-11-25T12:00:00.000Z`), as the database's
/// `rfc3339()` function does.
#[must_use]
pub fn format_rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// Parses an RFC 3339 time with any offset, into UTC.
///
/// # Errors
/// A message saying what format is expected.
pub fn parse_rfc3339(raw: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(raw, &Rfc3339)
        .map(|t| t.to_offset(time::UtcOffset::UTC))
        .map_err(|_| "must be an RFC 3339 time such as 2026-11-25T12:00:00Z".to_owned())
}

/// The time `unix_seconds` after the epoch.
///
/// # Errors
/// A message when the number is out of range.
pub fn from_unix_seconds(unix_seconds: u64) -> Result<OffsetDateTime, String> {
    i64::try_from(unix_seconds)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| format!("timestamp {unix_seconds} is out of range"))
}

/// `#[serde(with = "crate::time::serde")]` for an [`OffsetDateTime`] field, in the API's
/// format; [`serde::option`] for an optional one (`null` when unset).
pub mod serde {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    /// Writes the API's format.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format_rfc3339(*at))
    }

    /// Reads any RFC 3339 time.
    ///
    /// # Errors
    /// Text that is not RFC 3339.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }

    /// A calendar date as `YYYY-MM-DD` (what PostgreSQL's `date` renders as in JSON).
    pub mod date {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::Date;
        use time::macros::format_description;

        const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
            format_description!("[year]-[month]-[day]");

        /// Writes `YYYY-MM-DD`.
        ///
        /// # Errors
        /// The serializer's, or a date that cannot be written.
        pub fn serialize<S: Serializer>(day: &Date, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(&day.format(FORMAT).map_err(serde::ser::Error::custom)?)
        }

        /// Reads `YYYY-MM-DD`.
        ///
        /// # Errors
        /// Text that is not such a date.
        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
            let text = String::deserialize(deserializer)?;
            Date::parse(&text, FORMAT).map_err(serde::de::Error::custom)
        }
    }

    /// The same for `Option<OffsetDateTime>`.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::OffsetDateTime;

        /// Writes the API's format, or `null`.
        ///
        /// # Errors
        /// The serializer's.
        pub fn serialize<S: Serializer>(at: &Option<OffsetDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => serializer.serialize_str(&crate::time::format_rfc3339(*at)),
                None => serializer.serialize_none(),
            }
        }

        /// Reads any RFC 3339 time, or `null`.
        ///
        /// # Errors
        /// Text that is not RFC 3339.
        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error> {
            Option::<String>::deserialize(deserializer)?
                .map(|text| crate::time::parse_rfc3339(&text).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_offset_is_converted_to_utc() {
        let cases = [
            ("2026-11-25T12:00:00Z", "2026-11-25T12:00:00.000Z"),
            ("2026-11-25T15:30:00+03:30", "2026-11-25T12:00:00.000Z"),
            ("2026-11-25T02:00:00.250-10:00", "2026-11-25T12:00:00.250Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_rfc3339(input).map(format_rfc3339).as_deref(), Ok(expected), "{input}");
        }
        for bad in ["2026-11-25", "yesterday", "2026-11-25 12:00:00"] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unix_seconds_convert() {
        assert_eq!(from_unix_seconds(0).map(format_rfc3339).as_deref(), Ok("1970-01-01T00:00:00.000Z"));
        assert!(from_unix_seconds(u64::MAX).is_err());
    }

    #[test]
    fn the_serde_helpers_round_trip_the_api_format() {
        #[derive(::serde::Serialize, ::serde::Deserialize, PartialEq, Debug)]
        struct Row {
            #[serde(with = "super::serde")]
            at: OffsetDateTime,
            #[serde(with = "super::serde::option")]
            maybe: Option<OffsetDateTime>,
        }
        let row: Row = serde_json::from_str(r#"{"at": "2026-11-25T15:00:00+03:00", "maybe": null}"#).expect("parses");
        assert_eq!(
            serde_json::to_string(&row).ok().as_deref(),
            Some(r#"{"at":"2026-11-25T12:00:00.000Z","maybe":null}"#)
        );
        assert!(serde_json::from_str::<Row>(r#"{"at": "yesterday", "maybe": null}"#).is_err());
    }
}
