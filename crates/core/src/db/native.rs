//! A blocking native adapter over the `postgres` crate, for native tests and tools.
//!
//! It binds parameters with the same Rust types Spin's host uses, so a statement whose types
//! would not bind under Spin fails here too.

use std::cell::RefCell;

use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls};

use super::{Db, DbError, Param, SqlState, first_line};

/// A native PostgreSQL session.
pub struct NativeDb {
    client: RefCell<Client>,
}

impl std::fmt::Debug for NativeDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NativeDb")
    }
}

impl NativeDb {
    /// Connects to `url` (a libpq-style URL; TLS is not supported here).
    ///
    /// # Errors
    /// [`DbError::Connection`] when the server cannot be reached.
    pub fn connect(url: &str) -> Result<Self, DbError> {
        let client = Client::connect(url, NoTls).map_err(|e| DbError::Connection(e.to_string()))?;
        Ok(Self { client: RefCell::new(client) })
    }
}

impl Db for NativeDb {
    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        let boxed = to_sql_params(params);
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(AsRef::as_ref).collect();
        self.client.borrow_mut().execute(sql, &refs).map_err(convert_error)
    }

    fn query_json(&self, sql: &str, params: &[Param]) -> Result<serde_json::Value, DbError> {
        let boxed = to_sql_params(params);
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(AsRef::as_ref).collect();
        let rows = self.client.borrow_mut().query(sql, &refs).map_err(convert_error)?;
        let [row] = rows.as_slice() else {
            return Err(DbError::Shape(format!(
                "`{}` returned {} rows; every query must return exactly one",
                first_line(sql),
                rows.len()
            )));
        };
        if row.len() != 1 || *row.columns()[0].type_() != Type::JSONB {
            return Err(DbError::Shape(format!("`{}` must return one jsonb column", first_line(sql))));
        }
        let value: Option<serde_json::Value> = row.try_get(0).map_err(convert_error)?;
        Ok(value.unwrap_or(serde_json::Value::Null))
    }
}

/// SQL `NULL` for a parameter of any type, as Spin binds `db-null`.
#[derive(Debug)]
struct AnyNull;

impl ToSql for AnyNull {
    fn to_sql(
        &self,
        _: &Type,
        _: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn to_sql_params(params: &[Param]) -> Vec<Box<dyn ToSql + Sync>> {
    params
        .iter()
        .map(|p| -> Box<dyn ToSql + Sync> {
            match p {
                Param::Null => Box::new(AnyNull),
                Param::Bool(v) => Box::new(*v),
                Param::Int32(v) => Box::new(*v),
                Param::Int64(v) => Box::new(*v),
                Param::Text(v) => Box::new(v.clone()),
                Param::Uuid(v) => Box::new(*v),
                Param::Jsonb(v) => Box::new(v.clone()),
                Param::TextArray(v) => Box::new(v.clone()),
            }
        })
        .collect()
}

fn convert_error(error: postgres::Error) -> DbError {
    if let Some(db) = error.as_db_error() {
        return DbError::Query {
            state: Some(SqlState(db.code().code().to_owned())),
            constraint: db.constraint().map(str::to_owned),
            message: db.message().to_owned(),
        };
    }
    if error.is_closed() {
        return DbError::Connection(error.to_string());
    }
    DbError::Query { state: None, constraint: None, message: format!("{error:?}") }
}
