//! A rendered public document as the snapshot stores it (body, content type, a strong ETag,
//! how long caches may keep it), where each lives in the store, and the conditional HTTP
//! answer for it (`ETag`, `Cache-Control`, `304` on `If-None-Match`).

use sha2::{Digest, Sha256};

use crate::http::Response;

/// How long caches may use a document, and serve it stale while they revalidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// `max-age`, seconds.
    pub max_age: u32,
    /// `stale-while-revalidate`, seconds.
    pub stale_while_revalidate: u32,
}

impl Freshness {
    /// Status JSON and pages: seconds, so a write reaches readers behind caches quickly.
    pub const LIVE: Self = Self { max_age: 10, stale_while_revalidate: 30 };
    /// Feeds, calendars and badges: polled by machines, minutes are fine.
    pub const POLLED: Self = Self { max_age: 60, stale_while_revalidate: 300 };
}

/// A rendered document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// `Content-Type`.
    pub content_type: String,
    /// A strong validator of the body, quoted (`"…"`).
    pub etag: String,
    /// Cache lifetime.
    pub freshness: Freshness,
    /// The bytes.
    pub body: Vec<u8>,
}

/// The first line of a stored document: its format, so a later layout is never misread.
const MAGIC: &str = "statuspage-document/1";

impl Document {
    /// A document of `body`, its ETag computed from it.
    #[must_use]
    pub fn new(content_type: &str, freshness: Freshness, body: Vec<u8>) -> Self {
        Self { content_type: content_type.to_owned(), etag: etag_of(&body), freshness, body }
    }

    /// The stored form: four header lines, then the body.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let header = format!(
            "{MAGIC}\n{}\n{}\n{} {}\n",
            self.etag, self.content_type, self.freshness.max_age, self.freshness.stale_while_revalidate
        );
        let mut out = Vec::with_capacity(header.len() + self.body.len());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    /// Reads the stored form; `None` when it is not one.
    #[must_use]
    pub fn decode(mut bytes: Vec<u8>) -> Option<Self> {
        let mut lines = Vec::with_capacity(4);
        let mut start = 0;
        while lines.len() < 4 {
            let end = start + bytes.get(start..)?.iter().position(|b| *b == b'\n')?;
            lines.push(std::str::from_utf8(&bytes[start..end]).ok()?.to_owned());
            start = end + 1;
        }
        if lines[0] != MAGIC {
            return None;
        }
        let (max_age, swr) = lines[3].split_once(' ')?;
        let freshness = Freshness { max_age: max_age.parse().ok()?, stale_while_revalidate: swr.parse().ok()? };
        let body = bytes.split_off(start);
        Some(Self { content_type: lines[2].clone(), etag: lines[1].clone(), freshness, body })
    }

    /// The answer to a request with `if_none_match`: `304` when it holds the ETag, else `200`
    /// with the body; `vary` names the request header the document was chosen by, if any.
    #[must_use]
    pub fn respond(self, if_none_match: Option<&str>, vary: Option<&str>) -> Response {
        let cache_control = format!(
            "public, max-age={}, stale-while-revalidate={}",
            self.freshness.max_age, self.freshness.stale_while_revalidate
        );
        let not_modified = if_none_match.is_some_and(|header| matches_etag(header, &self.etag));
        let mut response = if not_modified {
            Response { status: 304, headers: Vec::new(), body: Vec::new() }
        } else {
            Response::with_body(200, &self.content_type, self.body)
        };
        response = response.with_header("etag", self.etag).with_header("cache-control", cache_control);
        if let Some(vary) = vary {
            response = response.with_header("vary", vary);
        }
        response
    }
}

/// A strong ETag of `body`: the first 128 bits of its SHA-256, hex, quoted.
#[must_use]
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// `If-None-Match` compares weakly (RFC 9110 §13.1.2): `W/"x"` matches `"x"`; `*` matches any.
fn matches_etag(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

/// Where documents live in the key-value store. Every key starts with the layout version, so a
/// release that changes the layout starts from an empty namespace instead of misreading one.
pub mod keys {
    use uuid::Uuid;

    use crate::public::i18n::Lang;

    const PREFIX: &str = "statuspage/v1";

    /// What the last refresh wrote (digests, ETags): how the next one knows what changed.
    pub const INDEX: &str = "statuspage/v1/index";
    /// The history's order: event ids and times, newest first.
    pub const HISTORY: &str = "statuspage/v1/history";

    /// A page-wide document served at `path` (`/api/v2/summary.json`).
    #[must_use]
    pub fn doc(path: &str) -> String {
        format!("{PREFIX}/doc{path}")
    }

    /// A page-wide HTML document at `path` in `lang`.
    #[must_use]
    pub fn page(path: &str, lang: Lang) -> String {
        format!("{PREFIX}/doc{path}#{}", lang.code())
    }

    /// An event's JSON (the API's shape, with its timeline).
    #[must_use]
    pub fn event_json(id: Uuid) -> String {
        format!("{PREFIX}/event/{id}.json")
    }

    /// An event's own page in `lang`.
    #[must_use]
    pub fn event_page(id: Uuid, lang: Lang) -> String {
        page(&format!("/incidents/{id}"), lang)
    }

    /// An event's entry on the history page in `lang` (an HTML fragment).
    #[must_use]
    pub fn history_item(id: Uuid, lang: Lang) -> String {
        format!("{PREFIX}/history-item/{id}#{}", lang.code())
    }

    /// A service's whole uptime timeline.
    #[must_use]
    pub fn timeline(slug: &str) -> String {
        format!("{PREFIX}/timeline/{slug}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_stored_form() {
        let doc = Document::new("application/json", Freshness::LIVE, b"{\"a\":\n1}".to_vec());
        assert_eq!(Document::decode(doc.encode()), Some(doc.clone()));
        assert_eq!(Document::decode(b"something else\n".to_vec()), None);
        assert_eq!(doc.etag.len(), 34);
        assert_ne!(doc.etag, etag_of(b"{}"), "a different body, a different validator");
    }

    #[test]
    fn answers_304_to_a_matching_validator() {
        let doc = Document::new("text/html; charset=utf-8", Freshness::LIVE, b"<p>hi</p>".to_vec());
        let etag = doc.etag.clone();
        let fresh = doc.clone().respond(None, Some("Accept-Language"));
        assert_eq!((fresh.status, fresh.header("etag")), (200, Some(etag.as_str())));
        assert_eq!(fresh.header("cache-control"), Some("public, max-age=10, stale-while-revalidate=30"));
        assert_eq!(fresh.header("vary"), Some("Accept-Language"));
        for header in [etag.clone(), format!("W/{etag}"), format!("\"x\", {etag}"), "*".to_owned()] {
            let cached = doc.clone().respond(Some(&header), None);
            assert_eq!((cached.status, cached.body.len()), (304, 0), "{header}");
            assert_eq!(cached.header("etag"), Some(etag.as_str()));
        }
        assert_eq!(doc.respond(Some("\"other\""), None).status, 200);
    }
}
