//! The errors of the use cases (`events`, `catalog`), shared by every caller: the HTTP API maps
//! them to responses ([`crate::http::ApiError`] implements `From<Error>`), the scheduler and
//! incoming webhooks log or report them.
//!
//! Integrity violations become client errors only where a call site says which constraint
//! means what ([`OnConstraint::on_constraint`]): a duplicate slug is the client's conflict, a
//! colliding outbox key is a bug, and no blanket rule can tell them apart.

use serde::Serialize;

use crate::db::{DbError, SqlState};

/// One invalid field of a request, reported with every other invalid field at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The JSON field name (`affected_services[0].status` for nested fields).
    pub field: String,
    /// What is wrong with it, for a human.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Why a use case refused or failed. Each variant names the status the HTTP API answers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400 `validation_failed`: the command names things that do not fit (unknown services,
    /// a template's missing variables), every one listed.
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// 404: what the command names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 403: it exists, and belongs to someone else.
    #[error("{0}")]
    Forbidden(String),
    /// 409 with a code: the state of things forbids it (`event_closed`, `slug_taken`).
    #[error("{message}")]
    Conflict {
        /// Machine code.
        code: &'static str,
        /// Human text.
        message: String,
    },
    /// The database failed (503 when unreachable, else 500).
    #[error(transparent)]
    Db(#[from] DbError),
    /// A bug or a broken dependency (500); the text goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A 400 for one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    /// A 409 with `code`.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }
}

/// Maps a named constraint's violation to the error it means at this call site.
pub trait OnConstraint<T> {
    /// `Err(error())` when the statement violated `constraint`; any other failure stays a
    /// database error.
    ///
    /// # Errors
    /// `error()` for that constraint, [`Error::Db`] otherwise.
    fn on_constraint(self, constraint: &str, error: impl FnOnce() -> Error) -> Result<T, Error>;
}

impl<T> OnConstraint<T> for Result<T, DbError> {
    fn on_constraint(self, constraint: &str, error: impl FnOnce() -> Error) -> Result<T, Error> {
        self.map_err(|e| {
            let integrity = e.sql_state().is_some_and(|s| s.0.starts_with("23"));
            if integrity && e.constraint() == Some(constraint) { error() } else { Error::Db(e) }
        })
    }
}

impl<T> OnConstraint<T> for Result<T, Error> {
    fn on_constraint(self, constraint: &str, error: impl FnOnce() -> Error) -> Result<T, Error> {
        match self {
            Err(Error::Db(e)) => Err(e).on_constraint(constraint, error),
            other => other,
        }
    }
}

/// Whether `e` is a unique violation (for callers that retry on a random collision).
#[must_use]
pub fn is_unique_violation(e: &DbError) -> bool {
    e.sql_state().is_some_and(|s| s.is(SqlState::UNIQUE_VIOLATION))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(constraint: &str) -> Result<(), DbError> {
        Err(DbError::Query {
            state: Some(SqlState("23505".into())),
            constraint: Some(constraint.into()),
            message: "duplicate".into(),
        })
    }

    #[test]
    fn only_the_named_constraint_becomes_the_callers_error() {
        let slug = || Error::conflict("slug_taken", "taken");
        assert!(matches!(
            violation("services_slug_key").on_constraint("services_slug_key", slug),
            Err(Error::Conflict { code: "slug_taken", .. })
        ));
        assert!(
            matches!(violation("outbox_key").on_constraint("services_slug_key", slug), Err(Error::Db(_))),
            "another constraint is not the client's conflict"
        );
        let down: Result<(), DbError> = Err(DbError::Connection("refused".into()));
        assert!(matches!(down.on_constraint("services_slug_key", slug), Err(Error::Db(DbError::Connection(_)))));
    }
}
