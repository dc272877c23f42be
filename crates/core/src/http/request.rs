//! Incoming requests, platform-neutral.

use serde::de::DeserializeOwned;

use super::ApiError;

/// Largest request body accepted (413 above it).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// An incoming request.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Upper-case method.
    pub method: String,
    /// Path without the query string, not percent-decoded.
    pub path: String,
    /// Decoded query pairs in order.
    pub query: Vec<(String, String)>,
    /// Headers with lower-case names.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// Builds a request from a method, a path with an optional `?query`, headers and a body.
    #[must_use]
    pub fn new(method: &str, path_and_query: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        Self {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: form_urlencoded::parse(query.as_bytes()).into_owned().collect(),
            headers: headers.into_iter().map(|(n, v)| (n.to_ascii_lowercase(), v)).collect(),
            body,
        }
    }

    /// The first value of a header.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The last value of a query parameter (the last one wins, as in most frameworks).
    #[must_use]
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON.
    ///
    /// # Errors
    /// 400 `malformed_json` naming the line and column, or saying what type was expected.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| ApiError::BadRequest {
            code: "malformed_json",
            message: format!("request body is not valid JSON for this endpoint: {e}"),
        })
    }
}
