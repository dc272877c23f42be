//! The Spin adapter: `spin:postgres/postgres@4.0.0` through spin-sdk 5.2 (`pg4`).

use spin_sdk::pg4::{Connection, DbValue, ParameterValue, PgError, QueryError};

use super::{Db, DbError, Param, first_line};

/// One Spin PostgreSQL connection (one pooled backend for the life of the request).
pub struct SpinDb {
    connection: Connection,
}

impl std::fmt::Debug for SpinDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpinDb")
    }
}

impl SpinDb {
    /// Opens a connection to `url` (must be allowed by `allowed_outbound_hosts`).
    ///
    /// # Errors
    /// [`DbError::Connection`] when Spin refuses or cannot reach the address.
    pub fn open(url: &str) -> Result<Self, DbError> {
        Connection::open(url).map(|connection| Self { connection }).map_err(|e| match e {
            PgError::ConnectionFailed(m) | PgError::Other(m) => DbError::Connection(m),
            other => convert_error(other),
        })
    }
}

impl Db for SpinDb {
    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        let params: Vec<ParameterValue> = params.iter().map(to_parameter).collect();
        self.connection.execute(sql, &params).map_err(convert_error)
    }

    fn query_json(&self, sql: &str, params: &[Param]) -> Result<serde_json::Value, DbError> {
        let params: Vec<ParameterValue> = params.iter().map(to_parameter).collect();
        let rows = self.connection.query(sql, &params).map_err(convert_error)?;
        let [row] = rows.rows.as_slice() else {
            return Err(DbError::Shape(format!(
                "`{}` returned {} rows; every query must return exactly one",
                first_line(sql),
                rows.rows.len()
            )));
        };
        match row.as_slice() {
            [DbValue::Jsonb(bytes)] => serde_json::from_slice(bytes)
                .map_err(|e| DbError::Shape(format!("invalid jsonb from `{}`: {e}", first_line(sql)))),
            [DbValue::DbNull] => Ok(serde_json::Value::Null),
            other => Err(DbError::Shape(format!(
                "`{}` must return one jsonb column, returned {} column(s)",
                first_line(sql),
                other.len()
            ))),
        }
    }
}

fn to_parameter(param: &Param) -> ParameterValue {
    match param {
        Param::Null => ParameterValue::DbNull,
        Param::Bool(v) => ParameterValue::Boolean(*v),
        Param::Int32(v) => ParameterValue::Int32(*v),
        Param::Int64(v) => ParameterValue::Int64(*v),
        Param::Text(v) => ParameterValue::Str(v.clone()),
        Param::Uuid(v) => ParameterValue::Uuid(v.to_string()),
        // Serialising a `serde_json::Value` cannot fail.
        Param::Jsonb(v) => ParameterValue::Jsonb(serde_json::to_vec(v).unwrap_or_default()),
        Param::TextArray(v) => ParameterValue::ArrayStr(v.iter().cloned().map(Some).collect()),
    }
}

fn convert_error(error: PgError) -> DbError {
    match error {
        PgError::ConnectionFailed(m) => DbError::Connection(m),
        PgError::QueryFailed(QueryError::DbError(e)) => DbError::Query {
            constraint: e.extras.iter().find(|(k, _)| k == "constraint").map(|(_, v)| v.clone()),
            state: Some(super::SqlState(e.code)),
            message: e.message,
        },
        // Errors raised while a `query` executes arrive as a text dump (README, "The test host").
        PgError::QueryFailed(QueryError::Text(text)) => DbError::from_text(&text),
        PgError::BadParameter(m) | PgError::ValueConversionFailed(m) | PgError::Other(m) => {
            DbError::Query { state: None, constraint: None, message: m }
        }
    }
}
