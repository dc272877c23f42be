//! `spin:postgres/postgres@4.0.0` over tokio-postgres, as Spin implements it: the same Rust types
//! bind each parameter and read each column (so the same things fail), the same error shapes,
//! a pool per connection string (64 connections, recycled with `Clean`).
//!
//! Where released Spin would hang or leak, this host fails loudly instead: a `query` that returns
//! no row (it never returns on Spin 4.0.0–4.0.2) and a request that ends inside an open
//! transaction (Spin hands that backend, transaction and all, to the next request) are recorded
//! as [`Violations`](crate::state::Violations), which turn the response into a 500.

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::{Context, anyhow};
use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use futures_util::TryStreamExt;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row};
use wasmtime::component::Resource;

use crate::bindings::spin::postgres::postgres::{
    self as pg, Column, DbDataType, DbError, DbValue, Error, ParameterValue, QueryError, RangeBoundKind, RowSet,
};
use crate::state::{State, Violations};

/// Spin's pool size per connection string.
const POOL_SIZE: usize = 64;

/// Connection pools by connection string (one set per trigger, as Spin's triggers are separate
/// processes).
#[derive(Default)]
pub struct Pools {
    pools: Mutex<HashMap<String, Pool>>,
}

impl std::fmt::Debug for Pools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pools")
    }
}

impl Pools {
    fn pool(&self, address: &str) -> anyhow::Result<Pool> {
        let mut pools = self.pools.lock().map_err(|_| anyhow!("pool lock poisoned"))?;
        if let Some(pool) = pools.get(address) {
            return Ok(pool.clone());
        }
        let config: tokio_postgres::Config = address.parse().context("parsing PostgreSQL connection string")?;
        if config.get_ssl_mode() != SslMode::Disable {
            anyhow::bail!(
                "this host supports only sslmode=disable; Spin would try TLS here (and fail against a \
                 local server's self-signed certificate): add ?sslmode=disable to the connection string"
            );
        }
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Clean });
        let pool = Pool::builder(manager).max_size(POOL_SIZE).build().context("building pool")?;
        pools.insert(address.to_owned(), pool.clone());
        Ok(pool)
    }
}

/// Where a connection's session stands, tracked from the statements the guest sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Session {
    Idle,
    InTransaction,
    FailedTransaction,
}

/// The host side of a guest's `connection` resource.
pub struct PgConnection {
    client: Option<Object>,
    session: Session,
    violations: Violations,
}

impl std::fmt::Debug for PgConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConnection").field("session", &self.session).finish()
    }
}

impl PgConnection {
    fn client(&self) -> &Object {
        // Present until dropped.
        self.client.as_ref().expect("connection used after drop")
    }

    fn track(&mut self, statement: &str, ok: bool) {
        let word = first_keyword(statement);
        self.session = match (word.as_str(), ok, self.session) {
            ("begin" | "start", true, _) => Session::InTransaction,
            ("commit" | "end" | "rollback" | "abort", true, _) if !is_rollback_to(statement) => Session::Idle,
            (_, false, Session::InTransaction) => Session::FailedTransaction,
            (_, _, current) => current,
        };
    }
}

impl Drop for PgConnection {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        match self.session {
            Session::Idle => drop(client),
            Session::InTransaction => {
                self.violations.record(
                    "the request ended inside an open transaction (BEGIN without COMMIT or ROLLBACK): \
                     under Spin this backend returns to the pool with the transaction open and the \
                     next request sees its uncommitted rows",
                );
                // Keep the pool clean for the rest of the run: this backend is not reused.
                drop(Object::take(client));
            }
            // Spin discards a backend whose transaction failed; so do we.
            Session::FailedTransaction => drop(Object::take(client)),
        }
    }
}

fn first_keyword(statement: &str) -> String {
    let mut rest = statement.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    rest.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or_default().to_ascii_lowercase()
}

fn is_rollback_to(statement: &str) -> bool {
    let words: Vec<String> = statement.split_whitespace().take(2).map(str::to_ascii_lowercase).collect();
    words.len() == 2 && words[0] == "rollback" && words[1].starts_with("to")
}

impl pg::Host for State {}

impl pg::HostConnection for State {
    async fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
        if let Err(reason) = self.check_pg_allowed(&address) {
            return Ok(Err(Error::ConnectionFailed(reason)));
        }
        let pool = match self.pools.pool(&address) {
            Ok(pool) => pool,
            Err(e) => return Ok(Err(Error::ConnectionFailed(format!("{e:#}")))),
        };
        let client = match pool.get().await {
            Ok(client) => client,
            Err(e) => return Ok(Err(Error::ConnectionFailed(format!("{e:?}")))),
        };
        let connection =
            PgConnection { client: Some(client), session: Session::Idle, violations: self.violations.clone() };
        Ok(Ok(self.table.push(connection)?))
    }

    async fn execute(
        &mut self,
        connection: Resource<PgConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let connection = self.table.get_mut(&connection)?;
        let params = match params.iter().map(to_sql).collect::<anyhow::Result<Vec<_>>>() {
            Ok(p) => p,
            Err(e) => return Ok(Err(Error::ValueConversionFailed(format!("{e:?}")))),
        };
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
        let result = connection.client().execute(statement.as_str(), &refs).await.map_err(query_failed);
        connection.track(&statement, result.is_ok());
        Ok(result)
    }

    async fn query(
        &mut self,
        connection: Resource<PgConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let violations = self.violations.clone();
        let connection = self.table.get_mut(&connection)?;
        let params = match params.iter().map(to_sql).collect::<anyhow::Result<Vec<_>>>() {
            Ok(p) => p,
            Err(e) => return Ok(Err(Error::BadParameter(format!("{e:?}")))),
        };
        let result = run_query(connection.client(), &statement, &params).await;
        connection.track(&statement, result.is_ok());
        if let Ok(rows) = &result
            && rows.rows.is_empty()
        {
            let message = format!(
                "`query` returned zero rows ({}): released Spin 4.0.0-4.0.2 never returns from such a \
                 query (spin#3671) and exhausts its pool; make every query return one row (aggregate, \
                 `select (select ...)`) or use `execute`",
                statement.trim().lines().next().unwrap_or_default()
            );
            violations.record(&message);
            return Ok(Err(Error::Other(format!("test host: {message}"))));
        }
        Ok(result)
    }

    async fn drop(&mut self, connection: Resource<PgConnection>) -> wasmtime::Result<()> {
        // Dropping the host value runs the open-transaction check.
        self.table.delete(connection)?;
        Ok(())
    }
}

/// Prepares then runs a query. As measured under Spin, only errors of parsing, planning and
/// binding are structured; an error raised while the statement executes reaches the guest as
/// the text of the driver's error.
async fn run_query(client: &Object, statement: &str, params: &[Box<dyn ToSql + Send + Sync>]) -> Result<RowSet, Error> {
    let prepared = client.prepare(statement).await.map_err(query_failed)?;
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
    let rows: Vec<Row> = match client.query_raw(&prepared, refs).await {
        Ok(stream) => stream.try_collect().await.map_err(as_text)?,
        Err(e) if e.as_db_error().is_some() => return Err(as_text(e)),
        Err(e) => return Err(query_failed(e)),
    };
    let Some(first) = rows.first() else { return Ok(RowSet { columns: Vec::new(), rows: Vec::new() }) };
    let columns =
        first.columns().iter().map(|c| Column { name: c.name().to_owned(), data_type: data_type(c.type_()) }).collect();
    let rows = rows
        .iter()
        .map(|row| (0..row.len()).map(|i| read_value(row, i)).collect::<anyhow::Result<Vec<_>>>())
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(|e| Error::QueryFailed(QueryError::Text(format!("{e:?}"))))?;
    Ok(RowSet { columns, rows })
}

fn as_text(error: tokio_postgres::Error) -> Error {
    Error::QueryFailed(QueryError::Text(format!("{error:?}")))
}

fn query_failed(error: tokio_postgres::Error) -> Error {
    let text = format!("{error:?}");
    match error.as_db_error() {
        None => Error::QueryFailed(QueryError::Text(text)),
        Some(db) => {
            let mut extras = Vec::new();
            let fields = [
                ("column", db.column()),
                ("constraint", db.constraint()),
                ("routine", db.routine()),
                ("hint", db.hint()),
                ("table", db.table()),
                ("datatype", db.datatype()),
                ("schema", db.schema()),
                ("file", db.file()),
            ];
            for (name, value) in fields {
                if let Some(value) = value {
                    extras.push((name.to_owned(), value.to_owned()));
                }
            }
            if let Some(line) = db.line() {
                extras.push(("line".to_owned(), line.to_string()));
            }
            if let Some(where_) = db.where_() {
                extras.push(("where_".to_owned(), where_.to_owned()));
            }
            Error::QueryFailed(QueryError::DbError(DbError {
                as_text: text,
                severity: db.severity().to_owned(),
                code: db.code().code().to_owned(),
                message: db.message().to_owned(),
                detail: db.detail().map(str::to_owned),
                extras,
            }))
        }
    }
}

fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::BYTEA => DbDataType::Binary,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => DbDataType::Str,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(ty.name().to_owned()),
    }
}

fn get<'a, T: FromSql<'a>>(
    row: &'a Row,
    i: usize,
    wrap: impl FnOnce(T) -> anyhow::Result<DbValue>,
) -> anyhow::Result<DbValue> {
    // The Rust type chosen per column type is Spin's: a `timestamptz` read as `NaiveDateTime`
    // fails here as it fails there, failing the whole query.
    let value: Option<T> = row.try_get(i)?;
    value.map_or(Ok(DbValue::DbNull), wrap)
}

fn read_value(row: &Row, i: usize) -> anyhow::Result<DbValue> {
    use chrono::{Datelike, Timelike};
    match *row.columns()[i].type_() {
        Type::BOOL => get(row, i, |v| Ok(DbValue::Boolean(v))),
        Type::BYTEA => get(row, i, |v| Ok(DbValue::Binary(v))),
        Type::FLOAT4 => get(row, i, |v| Ok(DbValue::Floating32(v))),
        Type::FLOAT8 => get(row, i, |v| Ok(DbValue::Floating64(v))),
        Type::INT2 => get(row, i, |v| Ok(DbValue::Int16(v))),
        Type::INT4 => get(row, i, |v| Ok(DbValue::Int32(v))),
        Type::INT8 => get(row, i, |v| Ok(DbValue::Int64(v))),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => get(row, i, |v| Ok(DbValue::Str(v))),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => get(row, i, |v: chrono::NaiveDateTime| {
            Ok(DbValue::Datetime((
                v.year(),
                u8::try_from(v.month())?,
                u8::try_from(v.day())?,
                u8::try_from(v.hour())?,
                u8::try_from(v.minute())?,
                u8::try_from(v.second())?,
                v.nanosecond(),
            )))
        }),
        Type::DATE => get(row, i, |v: chrono::NaiveDate| {
            Ok(DbValue::Date((v.year(), u8::try_from(v.month())?, u8::try_from(v.day())?)))
        }),
        Type::TIME => get(row, i, |v: chrono::NaiveTime| {
            Ok(DbValue::Time((
                u8::try_from(v.hour())?,
                u8::try_from(v.minute())?,
                u8::try_from(v.second())?,
                v.nanosecond(),
            )))
        }),
        Type::UUID => get(row, i, |v: uuid::Uuid| Ok(DbValue::Uuid(v.to_string()))),
        Type::JSONB => get(row, i, |v: serde_json::Value| Ok(DbValue::Jsonb(serde_json::to_vec(&v)?))),
        Type::NUMERIC => get(row, i, |v: rust_decimal::Decimal| Ok(DbValue::Decimal(v.to_string()))),
        Type::INT4_RANGE => get(row, i, |v: postgres_range::Range<i32>| Ok(DbValue::RangeInt32(range_to_wit(&v)))),
        Type::INT8_RANGE => get(row, i, |v: postgres_range::Range<i64>| Ok(DbValue::RangeInt64(range_to_wit(&v)))),
        Type::INT4_ARRAY => get(row, i, |v| Ok(DbValue::ArrayInt32(v))),
        Type::INT8_ARRAY => get(row, i, |v| Ok(DbValue::ArrayInt64(v))),
        Type::NUMERIC_ARRAY => get(row, i, |v: Vec<Option<rust_decimal::Decimal>>| {
            Ok(DbValue::ArrayDecimal(v.into_iter().map(|d| d.map(|d| d.to_string())).collect()))
        }),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => get(row, i, |v| Ok(DbValue::ArrayStr(v))),
        Type::NUM_RANGE => get(row, i, |v: postgres_range::Range<RangeDecimal>| {
            let (lower, upper) = range_to_wit(&v);
            let text = |b: Option<(RangeDecimal, RangeBoundKind)>| b.map(|(d, k)| (d.0.to_string(), k));
            Ok(DbValue::RangeDecimal((text(lower), text(upper))))
        }),
        Type::INTERVAL => get(row, i, |v: Interval| Ok(DbValue::Interval(v.0))),
        _ => get(row, i, |v: Raw| Ok(DbValue::Unsupported(v.0))),
    }
}

type WitRange<T> = (Option<(T, RangeBoundKind)>, Option<(T, RangeBoundKind)>);

fn range_to_wit<T: Copy + PartialOrd + postgres_range::Normalizable>(range: &postgres_range::Range<T>) -> WitRange<T> {
    fn kind(t: postgres_range::BoundType) -> RangeBoundKind {
        match t {
            postgres_range::BoundType::Inclusive => RangeBoundKind::Inclusive,
            postgres_range::BoundType::Exclusive => RangeBoundKind::Exclusive,
        }
    }
    (range.lower().map(|b| (b.value, kind(b.type_))), range.upper().map(|b| (b.value, kind(b.type_))))
}

fn range_from_wit<T: Copy + PartialOrd + postgres_range::Normalizable>(
    range: &WitRange<T>,
) -> postgres_range::Range<T> {
    fn kind(k: RangeBoundKind) -> postgres_range::BoundType {
        match k {
            RangeBoundKind::Inclusive => postgres_range::BoundType::Inclusive,
            RangeBoundKind::Exclusive => postgres_range::BoundType::Exclusive,
        }
    }
    postgres_range::Range::new(
        range.0.map(|(v, k)| postgres_range::RangeBound::new(v, kind(k))),
        range.1.map(|(v, k)| postgres_range::RangeBound::new(v, kind(k))),
    )
}

/// Binds a parameter with the Rust type Spin uses for it (so `Int32` never binds to `int8`,
/// `Str` never to `uuid` or `jsonb`, `Datetime` never to `timestamptz`).
fn to_sql(value: &ParameterValue) -> anyhow::Result<Box<dyn ToSql + Send + Sync>> {
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(*v),
        ParameterValue::Int8(v) => Box::new(*v),
        ParameterValue::Int16(v) => Box::new(*v),
        ParameterValue::Int32(v) => Box::new(*v),
        ParameterValue::Int64(v) => Box::new(*v),
        ParameterValue::Floating32(v) => Box::new(*v),
        ParameterValue::Floating64(v) => Box::new(*v),
        ParameterValue::Str(v) => Box::new(v.clone()),
        ParameterValue::Binary(v) => Box::new(v.clone()),
        ParameterValue::Date((y, m, d)) => Box::new(
            chrono::NaiveDate::from_ymd_opt(*y, (*m).into(), (*d).into())
                .ok_or_else(|| anyhow!("invalid date {y}-{m}-{d}"))?,
        ),
        ParameterValue::Time((h, m, s, ns)) => Box::new(
            chrono::NaiveTime::from_hms_nano_opt((*h).into(), (*m).into(), (*s).into(), *ns)
                .ok_or_else(|| anyhow!("invalid time {h}:{m}:{s}.{ns}"))?,
        ),
        ParameterValue::Datetime((y, mo, d, h, mi, s, ns)) => {
            let date = chrono::NaiveDate::from_ymd_opt(*y, (*mo).into(), (*d).into())
                .ok_or_else(|| anyhow!("invalid date"))?;
            let time = chrono::NaiveTime::from_hms_nano_opt((*h).into(), (*mi).into(), (*s).into(), *ns)
                .ok_or_else(|| anyhow!("invalid time"))?;
            Box::new(chrono::NaiveDateTime::new(date, time))
        }
        ParameterValue::Timestamp(secs) => Box::new(
            chrono::DateTime::<chrono::Utc>::from_timestamp(*secs, 0)
                .ok_or_else(|| anyhow!("invalid epoch timestamp {secs}"))?,
        ),
        ParameterValue::Uuid(v) => Box::new(uuid::Uuid::parse_str(v).with_context(|| format!("invalid UUID {v}"))?),
        ParameterValue::Jsonb(v) => Box::new(
            serde_json::from_slice::<serde_json::Value>(v)
                .with_context(|| format!("invalid JSON {}", String::from_utf8_lossy(v)))?,
        ),
        ParameterValue::Decimal(v) => {
            Box::new(rust_decimal::Decimal::from_str_exact(v).with_context(|| format!("invalid decimal {v}"))?)
        }
        ParameterValue::RangeInt32(r) => Box::new(range_from_wit(r)),
        ParameterValue::RangeInt64(r) => Box::new(range_from_wit(r)),
        ParameterValue::RangeDecimal((lower, upper)) => {
            let parse =
                |b: &Option<(String, RangeBoundKind)>| -> anyhow::Result<Option<(RangeDecimal, RangeBoundKind)>> {
                    b.as_ref()
                        .map(|(d, k)| {
                            let d = rust_decimal::Decimal::from_str_exact(d)
                                .with_context(|| format!("invalid decimal {d}"))?;
                            Ok((RangeDecimal(d), *k))
                        })
                        .transpose()
                };
            Box::new(range_from_wit(&(parse(lower)?, parse(upper)?)))
        }
        ParameterValue::ArrayInt32(v) => Box::new(v.clone()),
        ParameterValue::ArrayInt64(v) => Box::new(v.clone()),
        ParameterValue::ArrayDecimal(v) => Box::new(
            v.iter()
                .map(|d| d.as_deref().map(rust_decimal::Decimal::from_str_exact).transpose())
                .collect::<Result<Vec<_>, _>>()?,
        ),
        ParameterValue::ArrayStr(v) => Box::new(v.clone()),
        ParameterValue::Interval(v) => Box::new(Interval(*v)),
        ParameterValue::DbNull => Box::new(AnyNull),
    })
}

/// A `numeric` range bound. Numeric ranges are continuous, so normalising a bound changes
/// nothing (as for Spin's own wrapper).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
struct RangeDecimal(rust_decimal::Decimal);

impl postgres_range::Normalizable for RangeDecimal {
    fn normalize<S: postgres_range::BoundSided>(
        bound: postgres_range::RangeBound<S, Self>,
    ) -> postgres_range::RangeBound<S, Self> {
        bound
    }
}

impl<'a> FromSql<'a> for RangeDecimal {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        rust_decimal::Decimal::from_sql(ty, raw).map(Self)
    }

    fn accepts(ty: &Type) -> bool {
        <rust_decimal::Decimal as FromSql>::accepts(ty)
    }
}

impl ToSql for RangeDecimal {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <rust_decimal::Decimal as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

/// `db-null`: binds to a parameter of any type.
#[derive(Debug)]
struct AnyNull;

impl ToSql for AnyNull {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// `interval` in PostgreSQL's binary format: microseconds, days, months.
#[derive(Debug)]
struct Interval(pg::Interval);

impl ToSql for Interval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&self.0.micros.to_be_bytes());
        out.extend_from_slice(&self.0.days.to_be_bytes());
        out.extend_from_slice(&self.0.months.to_be_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Interval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let bytes: [u8; 16] = raw.try_into().map_err(|_| "interval must be 16 bytes")?;
        let micros = i64::from_be_bytes(bytes[0..8].try_into()?);
        let days = i32::from_be_bytes(bytes[8..12].try_into()?);
        let months = i32::from_be_bytes(bytes[12..16].try_into()?);
        Ok(Self(pg::Interval { micros, days, months }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// Any other column type, as raw bytes (`unsupported`).
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_keywords_are_recognised_through_comments_and_case() {
        let cases = [
            ("BEGIN", "begin"),
            ("  -- note\n begin isolation level serializable", "begin"),
            ("/* x */ COMMIT", "commit"),
            ("start transaction", "start"),
            ("select 1", "select"),
        ];
        for (sql, word) in cases {
            assert_eq!(first_keyword(sql), word, "{sql}");
        }
        assert!(is_rollback_to("ROLLBACK TO SAVEPOINT a"));
        assert!(!is_rollback_to("rollback"));
    }
}
