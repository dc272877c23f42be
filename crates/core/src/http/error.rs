//! The API error model and its one mapping to HTTP.

use super::Response;
use crate::config::ConfigError;
use crate::db::DbError;
pub use crate::error::FieldError;

/// Everything a handler can answer instead of a success. Each variant names its status;
/// [`ApiError::into_response`] is the only place that turns one into HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `validation_failed`: every invalid field, listed.
    #[error("request validation failed")]
    Validation(Vec<FieldError>),
    /// 400 with a specific code: malformed JSON, a bad query parameter, a malformed id.
    #[error("{message}")]
    BadRequest {
        /// Machine code (`malformed_json`, `invalid_parameter`, ...).
        code: &'static str,
        /// Human text.
        message: String,
    },
    /// 401 `unauthorized`.
    #[error("{0}")]
    Unauthorized(String),
    /// 403 `forbidden`.
    #[error("{0}")]
    Forbidden(String),
    /// 404 `not_found`.
    #[error("{0}")]
    NotFound(String),
    /// 405 `method_not_allowed`, with the methods the path does allow.
    #[error("method {method} is not allowed here")]
    MethodNotAllowed {
        /// The method the client used.
        method: String,
        /// The methods the path answers.
        allowed: Vec<&'static str>,
    },
    /// 409 with a specific code: a uniqueness or state conflict.
    #[error("{message}")]
    Conflict {
        /// Machine code (`slug_taken`, ...).
        code: &'static str,
        /// Human text.
        message: String,
    },
    /// 413 `payload_too_large`.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 429 `rate_limited`, with `Retry-After` and `RateLimit-*` headers.
    #[error("too many requests; retry in {retry_after} s")]
    TooManyRequests {
        /// Seconds until the window resets.
        retry_after: u64,
        /// Requests allowed per window.
        limit: u32,
    },
    /// 503 `unavailable`: a dependency is down.
    #[error("{message}")]
    Unavailable {
        /// Human text.
        message: String,
        /// Seconds the client should wait (`Retry-After`).
        retry_after: Option<u64>,
        /// The underlying cause, for the log only.
        cause: Option<String>,
    },
    /// 424 with a code: something this request depends on outside the app failed (an identity
    /// provider that is down, or that answered what it should not have); the client may retry.
    #[error("{message}")]
    FailedDependency {
        /// Machine code.
        code: &'static str,
        /// Human text.
        message: String,
    },
    /// 503 `unavailable`: the database schema is older than the code; pending migrations are
    /// applied before the response goes out, so a retry succeeds.
    #[error("the database schema is being prepared; retry shortly")]
    SchemaBehind,
    /// 500 `internal`: the cause goes to the log only, never to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 `validation_failed` for one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The HTTP status of this error.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Validation(_) | Self::BadRequest { .. } => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::Conflict { .. } => 409,
            Self::FailedDependency { .. } => 424,
            Self::PayloadTooLarge { .. } => 413,
            Self::TooManyRequests { .. } => 429,
            Self::Unavailable { .. } | Self::SchemaBehind => 503,
            Self::Internal(_) => 500,
        }
    }

    /// The machine code of the error envelope.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::BadRequest { code, .. } | Self::Conflict { code, .. } | Self::FailedDependency { code, .. } => code,
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Unavailable { .. } | Self::SchemaBehind => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The text for the log: the client's message plus whatever cause it hides.
    #[must_use]
    pub fn log_text(&self) -> String {
        match self {
            Self::Unavailable { message, cause: Some(cause), .. } => format!("{message}: {cause}"),
            other => other.to_string(),
        }
    }

    /// The error as an HTTP response: `{"error": {"code", "message", "details"}}`.
    /// A 5xx body is opaque (it names the request id to quote); the caller logs the cause.
    #[must_use]
    pub fn into_response(self, request_id: &str) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Internal(_) => format!("internal error; quote request id {request_id} when reporting it"),
            other => other.to_string(),
        };
        let details = match &self {
            Self::Validation(fields) => serde_json::to_value(fields).unwrap_or_default(),
            _ => serde_json::Value::Array(Vec::new()),
        };
        let body = serde_json::json!({
            "error": { "code": self.code(), "message": message, "details": details }
        });
        let mut response = Response::json(status, &body);
        match self {
            Self::MethodNotAllowed { allowed, .. } => {
                response = response.with_header("allow", allowed.join(", "));
            }
            Self::Unavailable { retry_after: Some(seconds), .. } => {
                response = response.with_header("retry-after", seconds.to_string());
            }
            Self::SchemaBehind => response = response.with_header("retry-after", "1"),
            Self::TooManyRequests { retry_after, limit } => {
                response = response
                    .with_header("retry-after", retry_after.to_string())
                    .with_header("ratelimit-limit", limit.to_string())
                    .with_header("ratelimit-remaining", "0")
                    .with_header("ratelimit-reset", retry_after.to_string());
            }
            _ => {}
        }
        response
    }
}

impl From<DbError> for ApiError {
    /// A database failure is never the client's fault: 503 while the database is unreachable
    /// (or its schema is being brought up to date), 500 otherwise. Constraint violations that
    /// are the client's conflict are mapped where they can happen
    /// ([`crate::error::OnConstraint`]).
    fn from(error: DbError) -> Self {
        match error {
            DbError::Connection(cause) => Self::Unavailable {
                message: "the database is unavailable".into(),
                retry_after: Some(5),
                cause: Some(cause),
            },
            e if e.is_schema_missing() => Self::SchemaBehind,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<crate::error::Error> for ApiError {
    fn from(error: crate::error::Error) -> Self {
        use crate::error::Error;
        match error {
            Error::Invalid(fields) => Self::Validation(fields),
            Error::NotFound(message) => Self::NotFound(message),
            Error::Forbidden(message) => Self::Forbidden(message),
            Error::Conflict { code, message } => Self::Conflict { code, message },
            Error::Db(e) => e.into(),
            Error::Internal(message) => Self::Internal(message),
        }
    }
}

impl From<crate::kv::KvError> for ApiError {
    /// The key-value store holds the public snapshot: while it fails, 503.
    fn from(error: crate::kv::KvError) -> Self {
        Self::Unavailable {
            message: "the status snapshot store is unavailable".into(),
            retry_after: Some(5),
            cause: Some(error.to_string()),
        }
    }
}

impl From<crate::public::serve::ServeError> for ApiError {
    fn from(error: crate::public::serve::ServeError) -> Self {
        use crate::public::serve::ServeError;
        match error {
            ServeError::Kv(e) => e.into(),
            ServeError::Config(e) => e.into(),
            ServeError::NotPublished(cause) => Self::Unavailable {
                message: "the status page has not been published yet and the database is unavailable".into(),
                retry_after: Some(5),
                cause: Some(cause.to_string()),
            },
        }
    }
}

impl From<ConfigError> for ApiError {
    fn from(error: ConfigError) -> Self {
        Self::Internal(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &Response) -> serde_json::Value {
        serde_json::from_slice(&response.body).expect("json body")
    }

    #[test]
    fn every_error_maps_to_its_status_and_code() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (ApiError::invalid("slug", "bad"), 400, "validation_failed"),
            (ApiError::BadRequest { code: "malformed_json", message: "x".into() }, 400, "malformed_json"),
            (ApiError::Unauthorized("x".into()), 401, "unauthorized"),
            (ApiError::Forbidden("x".into()), 403, "forbidden"),
            (ApiError::NotFound("x".into()), 404, "not_found"),
            (ApiError::MethodNotAllowed { method: "PUT".into(), allowed: vec!["GET"] }, 405, "method_not_allowed"),
            (ApiError::Conflict { code: "slug_taken", message: "x".into() }, 409, "slug_taken"),
            (ApiError::PayloadTooLarge { limit: 1 }, 413, "payload_too_large"),
            (ApiError::TooManyRequests { retry_after: 3, limit: 10 }, 429, "rate_limited"),
            (ApiError::Unavailable { message: "x".into(), retry_after: None, cause: None }, 503, "unavailable"),
            (ApiError::SchemaBehind, 503, "unavailable"),
            (ApiError::Internal("boom".into()), 500, "internal"),
        ];
        for (error, status, code) in cases {
            let response = error.into_response("rid");
            assert_eq!(response.status, status, "{code}");
            assert_eq!(body(&response)["error"]["code"], code, "{code}");
            assert!(body(&response)["error"]["details"].is_array(), "{code}: details is an array");
        }
    }

    #[test]
    fn validation_lists_every_field() {
        let error = ApiError::Validation(vec![FieldError::new("name", "required"), FieldError::new("slug", "bad")]);
        let details = body(&error.into_response("rid"))["error"]["details"].clone();
        assert_eq!(
            details,
            serde_json::json!([{"field": "name", "message": "required"}, {"field": "slug", "message": "bad"}])
        );
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let response = ApiError::Internal("password=hunter2 at db.rs:10".into()).into_response("req-1");
        let text = String::from_utf8(response.body).expect("utf8");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("req-1"), "{text}");
    }

    #[test]
    fn an_unmapped_constraint_violation_is_not_the_clients_conflict() {
        let error = ApiError::from(DbError::Query {
            state: Some(crate::db::SqlState("23505".into())),
            constraint: Some("notification_outbox_key".into()),
            message: "duplicate".into(),
        });
        assert_eq!(error.status(), 500, "{error:?}");
    }

    #[test]
    fn database_errors_map_to_503_or_500() {
        let down = ApiError::from(DbError::Connection("connection refused".into()));
        assert_eq!(down.status(), 503);
        assert!(down.log_text().contains("connection refused"), "the log keeps the cause");
        assert!(!down.to_string().contains("refused"), "the client does not see it");
        let missing = DbError::Query {
            state: Some(crate::db::SqlState("42P01".into())),
            constraint: None,
            message: String::new(),
        };
        assert!(matches!(ApiError::from(missing), ApiError::SchemaBehind));
        assert_eq!(ApiError::from(DbError::Shape("x".into())).status(), 500);
    }

    #[test]
    fn method_not_allowed_names_the_allowed_methods() {
        let response =
            ApiError::MethodNotAllowed { method: "PUT".into(), allowed: vec!["GET", "POST"] }.into_response("r");
        assert_eq!(response.header("allow"), Some("GET, POST"));
    }
}
