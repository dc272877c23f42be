//! Database access behind a small trait of our own.
//!
//! The Spin SDK's PostgreSQL API has been rewritten once between major versions already, so the
//! rest of the core talks to [`Db`] and never to the SDK. Two adapters implement it: the Spin one
//! (feature `spin`, over `spin:postgres/postgres@4.0.0`) and a blocking native one (feature
//! `native`, for tests and tools).
//!
//! # The one-row rule
//!
//! Released Spin 4.0.0–4.0.2 never returns from a `query` whose statement matches no row (spin
//! issue #3671), and reading a `timestamptz` column fails outright. So the trait offers exactly
//! one way to read: [`Db::query_json`] runs a statement that returns **one row with one `jsonb`
//! column** (`select coalesce(jsonb_agg(t), '[]') from (...) t`, `select to_jsonb(...)`, ...),
//! which always has a row and carries times as ISO strings. Adapters reject anything else loudly.
//! Statements that return nothing go through [`Db::execute`].

mod error;
#[cfg(feature = "native")]
mod native;
mod param;
#[cfg(feature = "spin")]
mod spin;

pub use error::{DbError, SqlState};
#[cfg(feature = "native")]
pub use native::NativeDb;
pub use param::Param;
#[cfg(feature = "spin")]
pub use spin::SpinDb;

use serde::de::DeserializeOwned;

/// A slice of a list: `LIMIT $n OFFSET $m` (both `int8`, as Spin binds them). Repositories take
/// this rather than the HTTP layer's page parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Most rows.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

impl Window {
    /// `LIMIT` as a parameter.
    #[must_use]
    pub fn limit(self) -> Param {
        Param::Int64(self.limit)
    }

    /// `OFFSET` as a parameter.
    #[must_use]
    pub fn offset(self) -> Param {
        Param::Int64(self.offset)
    }
}

/// A PostgreSQL session: one backend connection, so a transaction stays on it.
pub trait Db {
    /// Runs a statement that returns no rows; answers the number of rows it affected.
    ///
    /// # Errors
    /// [`DbError::Query`] with the SQLSTATE (and constraint, when there is one) when PostgreSQL
    /// rejects the statement; [`DbError::Connection`] when the database cannot be reached.
    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError>;

    /// Runs a statement that returns exactly one row of one `jsonb` column and answers that
    /// value (`serde_json::Value::Null` for SQL `NULL`).
    ///
    /// # Errors
    /// As [`Db::execute`], plus [`DbError::Shape`] when the statement returned another number of
    /// rows or columns or a column that is not `jsonb`: a programming error.
    fn query_json(&self, sql: &str, params: &[Param]) -> Result<serde_json::Value, DbError>;
}

/// Typed reads over [`Db::query_json`].
pub trait DbExt: Db {
    /// Runs a one-row, one-`jsonb`-column statement and deserialises its value.
    ///
    /// # Errors
    /// As [`Db::query_json`], plus [`DbError::Shape`] when the JSON does not fit `T`.
    fn query_as<T: DeserializeOwned>(&self, sql: &str, params: &[Param]) -> Result<T, DbError> {
        let value = self.query_json(sql, params)?;
        serde_json::from_value(value)
            .map_err(|e| DbError::Shape(format!("unexpected JSON from `{}`: {e}", first_line(sql))))
    }
}

impl<D: Db + ?Sized> DbExt for D {}

/// Runs `work` inside one transaction on `db`: `COMMIT` when it returns `Ok`, `ROLLBACK` when it
/// returns `Err`. Every exit path ends the transaction: Spin pools connections, and a request
/// that returned inside `BEGIN` would hand its open transaction to the next request.
///
/// # Errors
/// The error of `work`, or the database error of `BEGIN`/`COMMIT`.
pub fn transaction<D, T, E>(db: &D, work: impl FnOnce(&D) -> Result<T, E>) -> Result<T, E>
where
    D: Db + ?Sized,
    E: From<DbError>,
{
    db.execute("begin", &[])?;
    match work(db) {
        Ok(value) => {
            // A failed COMMIT ends the transaction too (PostgreSQL rolls it back).
            db.execute("commit", &[])?;
            Ok(value)
        }
        Err(error) => {
            // The original error matters more than a failed ROLLBACK; a backend whose rollback
            // failed is broken and gets discarded by the pool.
            let _ = db.execute("rollback", &[]);
            Err(error)
        }
    }
}

/// The first line of a statement, for error messages that point at the SQL without dumping it.
pub(crate) fn first_line(sql: &str) -> &str {
    sql.trim().lines().next().unwrap_or_default()
}
