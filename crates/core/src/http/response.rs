//! Responses and the JSON envelopes every route answers with (`{"data": ...}`, `{"error": ...}`).

use serde::Serialize;

/// A platform-neutral HTTP response; the Spin adapter converts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// `meta` of a list envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ListMeta {
    /// 1-based page number.
    pub page: u32,
    /// Items per page.
    pub per_page: u32,
    /// Items in all pages.
    pub total: u64,
}

impl Response {
    /// A JSON response with `body` serialised as is.
    #[must_use]
    pub fn json<T: Serialize + ?Sized>(status: u16, body: &T) -> Self {
        // Our response types are plain data; serialising them cannot fail.
        let body = serde_json::to_vec(body).unwrap_or_default();
        Self { status, headers: vec![("content-type".into(), "application/json".into())], body }
    }

    /// A response with any body and content type.
    #[must_use]
    pub fn with_body(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self { status, headers: vec![("content-type".into(), content_type.into())], body }
    }

    /// 200 `{"data": ...}`.
    #[must_use]
    pub fn data<T: Serialize + ?Sized>(data: &T) -> Self {
        Self::json(200, &serde_json::json!({ "data": data }))
    }

    /// 201 `{"data": ...}`.
    #[must_use]
    pub fn created<T: Serialize + ?Sized>(data: &T) -> Self {
        Self::json(201, &serde_json::json!({ "data": data }))
    }

    /// 200 `{"data": [...], "meta": {"page", "per_page", "total"}}`.
    #[must_use]
    pub fn list<T: Serialize>(items: &[T], meta: ListMeta) -> Self {
        Self::json(200, &serde_json::json!({ "data": items, "meta": meta }))
    }

    /// 204 with an empty body.
    #[must_use]
    pub fn no_content() -> Self {
        Self { status: 204, headers: Vec::new(), body: Vec::new() }
    }

    /// The response with a header set (replacing one of the same name).
    #[must_use]
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
        self
    }

    /// A header's value.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}
