//! Database errors, normalised from the shapes Spin produces.

/// A PostgreSQL SQLSTATE code (`23505`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlState(pub String);

impl SqlState {
    /// `unique_violation`.
    pub const UNIQUE_VIOLATION: &'static str = "23505";
    /// `foreign_key_violation`.
    pub const FOREIGN_KEY_VIOLATION: &'static str = "23503";
    /// `check_violation`.
    pub const CHECK_VIOLATION: &'static str = "23514";
    /// `undefined_table`: the schema is older than the code.
    pub const UNDEFINED_TABLE: &'static str = "42P01";
    /// `undefined_column`: the schema is older than the code.
    pub const UNDEFINED_COLUMN: &'static str = "42703";

    /// Whether this is the given code.
    #[must_use]
    pub fn is(&self, code: &str) -> bool {
        self.0 == code
    }
}

/// Why a database call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DbError {
    /// The database could not be reached (maps to 503).
    #[error("the database is unavailable: {0}")]
    Connection(String),
    /// PostgreSQL rejected the statement. `state` and `constraint` are present whenever the
    /// adapter could recover them (Spin reports some errors only as text; we parse that too).
    #[error("query failed ({}): {message}", state.as_ref().map_or("no SQLSTATE", |s| s.0.as_str()))]
    Query {
        /// The SQLSTATE, when known.
        state: Option<SqlState>,
        /// The violated constraint's name, for integrity errors.
        constraint: Option<String>,
        /// PostgreSQL's message (or the adapter's text).
        message: String,
    },
    /// The statement's result did not have the shape the code expected: a bug in our SQL.
    #[error("unexpected result shape: {0}")]
    Shape(String),
}

impl DbError {
    /// The SQLSTATE, when known.
    #[must_use]
    pub fn sql_state(&self) -> Option<&SqlState> {
        match self {
            Self::Query { state, .. } => state.as_ref(),
            _ => None,
        }
    }

    /// The violated constraint, when known.
    #[must_use]
    pub fn constraint(&self) -> Option<&str> {
        match self {
            Self::Query { constraint, .. } => constraint.as_deref(),
            _ => None,
        }
    }

    /// Whether the schema is older than the code (a table or column is missing): the cue to apply
    /// pending migrations.
    #[must_use]
    pub fn is_schema_missing(&self) -> bool {
        self.sql_state().is_some_and(|s| s.is(SqlState::UNDEFINED_TABLE) || s.is(SqlState::UNDEFINED_COLUMN))
    }

    /// Builds a query error from the text Spin gives for errors raised while a `query` executes
    /// (a debug dump of the driver's error), recovering the SQLSTATE and constraint from it.
    #[must_use]
    pub fn from_text(text: &str) -> Self {
        let state = between(text, "code: SqlState(E", ")").map(|c| SqlState(c.to_owned()));
        let constraint = between(text, "constraint: Some(\"", "\")").map(str::to_owned);
        let message = between(text, "message: \"", "\", ").map_or_else(|| text.to_owned(), str::to_owned);
        Self::Query { state, constraint, message }
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_text_recovers_state_constraint_and_message_from_a_driver_dump() {
        let dump = r#"Error { kind: Db, cause: Some(DbError { severity: "ERROR", parsed_severity: Some(Error), code: SqlState(E23505), message: "duplicate key value violates unique constraint \"services_slug_key\"", detail: Some("Key (slug)=(api) already exists."), schema: Some("public"), table: Some("services"), constraint: Some("services_slug_key"), file: Some("nbtinsert.c") }) }"#;
        let error = DbError::from_text(dump);
        assert_eq!(error.sql_state(), Some(&SqlState("23505".into())));
        assert_eq!(error.constraint(), Some("services_slug_key"));
        assert!(
            matches!(&error, DbError::Query { message, .. } if message.starts_with("duplicate key value")),
            "{error:?}"
        );
    }

    #[test]
    fn from_text_keeps_the_whole_text_when_nothing_is_recognisable() {
        let error = DbError::from_text("connection reset");
        assert!(error.sql_state().is_none());
        assert!(matches!(error, DbError::Query { message, .. } if message == "connection reset"));
    }

    #[test]
    fn undefined_table_and_column_mean_the_schema_is_missing() {
        for (code, missing) in [("42P01", true), ("42703", true), ("23505", false)] {
            let error = DbError::Query { state: Some(SqlState(code.into())), constraint: None, message: String::new() };
            assert_eq!(error.is_schema_missing(), missing, "{code}");
        }
    }
}
