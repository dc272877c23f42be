//! Times: RFC 3339 UTC on output, any offset accepted on input.

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
}
