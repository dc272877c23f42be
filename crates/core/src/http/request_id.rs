//! Request ids: echoed when the client sent a sane one, generated otherwise.

/// The id for a request: the client's `X-Request-Id` when it is 1–128 characters of
/// `[A-Za-z0-9._:-]` (safe to echo and log), else a new UUID v4.
#[must_use]
pub fn request_id(client_value: Option<&str>) -> String {
    match client_value {
        Some(v)
            if !v.is_empty()
                && v.len() <= 128
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b)) =>
        {
            v.to_owned()
        }
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_sane_ids_and_replaces_the_rest() {
        assert_eq!(request_id(Some("abc-123_x.y:z")), "abc-123_x.y:z");
        for bad in [None, Some(""), Some("has space"), Some("new\nline"), Some(&"x".repeat(129)[..])] {
            let id = request_id(bad);
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad:?} -> {id}");
        }
    }
}
