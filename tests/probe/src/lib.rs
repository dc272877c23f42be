//! Test-only component: drives the raw Spin interfaces (PostgreSQL, variables, outbound HTTP,
//! key-value) on request, so the host's fidelity tests can check each behaviour of Spin the
//! README lists with a real guest. Never deployed; `tests/probe/spin.toml` is its manifest.
#![allow(unsafe_code)] // the SDK's export macro generates the component ABI glue

use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::http::{IncomingRequest, IntoResponse, Method, OutgoingResponse, Request, Response, ResponseOutparam};
use spin_sdk::http_component;
use spin_sdk::pg4::{Connection, DbValue, Interval, ParameterValue, PgError, QueryError, RangeBoundKind};

/// A range bound as the tests write it: `[value, inclusive]`, or `null` for unbounded.
type Bound<T> = Option<(T, bool)>;

/// A parameter as the tests write it: `{"int32": 1}`, `{"str": "x"}`, `"null"`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Param {
    Null,
    Bool(bool),
    Int32(i32),
    Int64(i64),
    Str(String),
    Uuid(String),
    Jsonb(Value),
    Decimal(String),
    Datetime((i32, u8, u8, u8, u8, u8, u32)),
    Timestamp(i64),
    ArrayStr(Vec<Option<String>>),
    /// `[[lower, inclusive], [upper, inclusive]]`, either bound may be null.
    RangeInt32((Bound<i32>, Bound<i32>)),
    RangeDecimal((Bound<String>, Bound<String>)),
    /// `[micros, days, months]`.
    Interval((i64, i32, i32)),
}

fn kind(inclusive: bool) -> RangeBoundKind {
    if inclusive { RangeBoundKind::Inclusive } else { RangeBoundKind::Exclusive }
}

fn inclusive(kind: &RangeBoundKind) -> bool {
    matches!(kind, RangeBoundKind::Inclusive)
}

impl From<Param> for ParameterValue {
    fn from(p: Param) -> Self {
        match p {
            Param::Null => Self::DbNull,
            Param::Bool(v) => Self::Boolean(v),
            Param::Int32(v) => Self::Int32(v),
            Param::Int64(v) => Self::Int64(v),
            Param::Str(v) => Self::Str(v),
            Param::Uuid(v) => Self::Uuid(v),
            Param::Jsonb(v) => Self::Jsonb(serde_json::to_vec(&v).unwrap_or_default()),
            Param::Decimal(v) => Self::Decimal(v),
            Param::Datetime(v) => Self::Datetime(v),
            Param::Timestamp(v) => Self::Timestamp(v),
            Param::ArrayStr(v) => Self::ArrayStr(v),
            Param::RangeInt32((l, u)) => Self::RangeInt32((l.map(|(v, i)| (v, kind(i))), u.map(|(v, i)| (v, kind(i))))),
            Param::RangeDecimal((l, u)) => {
                Self::RangeDecimal((l.map(|(v, i)| (v, kind(i))), u.map(|(v, i)| (v, kind(i)))))
            }
            Param::Interval((micros, days, months)) => Self::Interval(Interval { micros, days, months }),
        }
    }
}

/// One statement: `{"op": "query"|"execute", "sql": "...", "params": [...]}`.
#[derive(Deserialize)]
struct Statement {
    op: String,
    sql: String,
    #[serde(default)]
    params: Vec<Param>,
}

/// Statements run in order on one connection to `address` (default: the `db_url` variable).
/// With `leave_open`, the request returns without ending a transaction it began.
#[derive(Deserialize)]
struct Script {
    address: Option<String>,
    statements: Vec<Statement>,
}

/// The native wasi-http form, so that `/probe/after` can answer and then go on working (as a
/// component that kicks off notifications does); every other route answers as a plain
/// `anyhow::Result<Response>` handler would (an `Err` is a 500 with its text).
#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    let request =
        match <Request as spin_sdk::http::conversions::TryFromIncomingRequest>::try_from_incoming_request(incoming)
            .await
        {
            Ok(request) => request,
            Err(e) => return respond(out, Response::new(400, e.to_string())).await,
        };
    let after = (request.path() == "/probe/after").then(|| request.query().to_owned());
    let response = route(request).await.into_response();
    respond(out, response).await;
    if let Some(query) = after {
        work_after_response(&query);
    }
}

async fn respond(out: ResponseOutparam, mut response: Response) {
    let body = std::mem::take(response.body_mut());
    match OutgoingResponse::try_from(response) {
        Ok(outgoing) => {
            if let Err(e) = out.set_with_body(outgoing, body).await {
                eprintln!("probe: could not send the response: {e}");
            }
        }
        Err(e) => eprintln!("probe: could not convert the response: {e}"),
    }
}

/// `/probe/after?ms=N`: after the response, waits N ms and records `after` = `done` in the
/// default key-value store.
fn work_after_response(query: &str) {
    let ms = query.strip_prefix("ms=").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    std::thread::sleep(std::time::Duration::from_millis(ms));
    if let Ok(store) = spin_sdk::key_value::Store::open_default() {
        let _ = store.set("after", b"done");
    }
}

async fn route(request: Request) -> anyhow::Result<Response> {
    let path = request.path().to_owned();
    let body = match (request.method(), path.as_str()) {
        (Method::Post, "/probe/pg") => run_script(serde_json::from_slice(request.body())?),
        (Method::Get, p) if p.starts_with("/probe/var/") => read_variable(&p["/probe/var/".len()..]),
        (Method::Post, "/probe/http") => send(serde_json::from_slice(request.body())?).await,
        (Method::Post, "/probe/kv") => run_kv(serde_json::from_slice(request.body())?),
        (Method::Get, "/probe/after") => json!({ "answered": true }),
        (Method::Get, "/probe/headers") => json!(
            request
                .headers()
                .filter(|(n, _)| n.starts_with("spin-"))
                .map(|(n, v)| (n.to_owned(), json!(v.as_str())))
                .collect::<serde_json::Map<_, _>>()
        ),
        (Method::Get, "/probe/err") => anyhow::bail!("probe handler failed on purpose"),
        (Method::Get, "/probe/panic") => panic!("probe panicked on purpose"),
        _ => return Ok(Response::new(404, "probe: unknown route")),
    };
    Ok(Response::builder().status(200).header("content-type", "application/json").body(body.to_string()).build())
}

fn run_script(script: Script) -> Value {
    let address = match script.address {
        Some(a) => a,
        None => match spin_sdk::variables::get("db_url") {
            Ok(a) => a,
            Err(e) => return json!({ "open_error": e.to_string() }),
        },
    };
    let connection = match Connection::open(&address) {
        Ok(c) => c,
        Err(e) => return json!({ "open_error": error_json(&e) }),
    };
    let results: Vec<Value> = script
        .statements
        .into_iter()
        .map(|s| {
            let params: Vec<ParameterValue> = s.params.into_iter().map(Into::into).collect();
            if s.op == "execute" {
                match connection.execute(&s.sql, &params) {
                    Ok(n) => json!({ "ok": n }),
                    Err(e) => json!({ "error": error_json(&e) }),
                }
            } else {
                match connection.query(&s.sql, &params) {
                    Ok(rows) => json!({ "ok": {
                        "columns": rows.columns.iter().map(|c| json!({"name": c.name, "type": format!("{:?}", c.data_type)})).collect::<Vec<_>>(),
                        "rows": rows.rows.iter().map(|r| r.iter().map(value_json).collect::<Vec<_>>()).collect::<Vec<_>>(),
                    }}),
                    Err(e) => json!({ "error": error_json(&e) }),
                }
            }
        })
        .collect();
    json!({ "results": results })
}

fn error_json(e: &PgError) -> Value {
    match e {
        PgError::ConnectionFailed(m) => json!({ "kind": "connection_failed", "text": m }),
        PgError::BadParameter(m) => json!({ "kind": "bad_parameter", "text": m }),
        PgError::ValueConversionFailed(m) => json!({ "kind": "value_conversion_failed", "text": m }),
        PgError::Other(m) => json!({ "kind": "other", "text": m }),
        PgError::QueryFailed(QueryError::Text(t)) => json!({ "kind": "query_failed_text", "text": t }),
        PgError::QueryFailed(QueryError::DbError(d)) => json!({
            "kind": "query_failed_db_error", "code": d.code, "message": d.message, "severity": d.severity,
            "detail": d.detail, "extras": d.extras.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        }),
    }
}

fn value_json(v: &DbValue) -> Value {
    match v {
        DbValue::Boolean(b) => json!({ "boolean": b }),
        DbValue::Int16(n) => json!({ "int16": n }),
        DbValue::Int32(n) => json!({ "int32": n }),
        DbValue::Int64(n) => json!({ "int64": n }),
        DbValue::Floating64(n) => json!({ "floating64": n }),
        DbValue::Str(s) => json!({ "str": s }),
        DbValue::Uuid(s) => json!({ "uuid": s }),
        DbValue::Jsonb(b) => json!({ "jsonb": serde_json::from_slice::<Value>(b).ok() }),
        DbValue::Decimal(s) => json!({ "decimal": s }),
        DbValue::Datetime(t) => json!({ "datetime": [t.0, t.1, t.2, t.3, t.4, t.5, t.6] }),
        DbValue::ArrayStr(a) => json!({ "array_str": a }),
        DbValue::RangeInt32((l, u)) => json!({ "range_int32": [
            l.as_ref().map(|(v, k)| json!([v, inclusive(k)])), u.as_ref().map(|(v, k)| json!([v, inclusive(k)]))] }),
        DbValue::RangeDecimal((l, u)) => json!({ "range_decimal": [
            l.as_ref().map(|(v, k)| json!([v, inclusive(k)])), u.as_ref().map(|(v, k)| json!([v, inclusive(k)]))] }),
        DbValue::Interval(i) => json!({ "interval": [i.micros, i.days, i.months] }),
        DbValue::DbNull => json!({ "db_null": null }),
        DbValue::Unsupported(b) => json!({ "unsupported": b.len() }),
        other => json!({ "other": format!("{other:?}") }),
    }
}

/// Key-value operations as the tests write them, run in order on the store `label`.
#[derive(Deserialize)]
struct KvScript {
    label: String,
    ops: Vec<KvOp>,
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum KvOp {
    Set { key: String, value: String },
    Get { key: String },
    Delete { key: String },
    Exists { key: String },
    Keys,
}

/// `{"open_error": "..."}` when the store does not open, else one result per operation:
/// `{"ok": <value>}` or `{"error": "<the SDK's error, Debug>"}`.
fn run_kv(script: KvScript) -> Value {
    let store = match spin_sdk::key_value::Store::open(&script.label) {
        Ok(store) => store,
        Err(e) => return json!({ "open_error": format!("{e:?}") }),
    };
    let results: Vec<Value> = script
        .ops
        .into_iter()
        .map(|op| {
            let outcome = match op {
                KvOp::Set { key, value } => store.set(&key, value.as_bytes()).map(|()| Value::Null),
                KvOp::Get { key } => {
                    store.get(&key).map(|v| v.map_or(Value::Null, |b| json!(String::from_utf8_lossy(&b))))
                }
                KvOp::Delete { key } => store.delete(&key).map(|()| Value::Null),
                KvOp::Exists { key } => store.exists(&key).map(Value::Bool),
                KvOp::Keys => store.get_keys().map(|mut keys| {
                    keys.sort();
                    json!(keys)
                }),
            };
            match outcome {
                Ok(value) => json!({ "ok": value }),
                Err(e) => json!({ "error": format!("{e:?}") }),
            }
        })
        .collect();
    json!({ "results": results })
}

fn read_variable(name: &str) -> Value {
    match spin_sdk::variables::get(name) {
        Ok(v) => json!({ "value": v }),
        Err(e) => json!({ "error": format!("{e:?}") }),
    }
}

/// An outbound request as the tests write it (GET without a body by default).
#[derive(Deserialize)]
struct Outbound {
    url: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    body: Option<String>,
}

async fn send(outbound: Outbound) -> Value {
    let method = match outbound.method.as_deref() {
        Some("POST") => Method::Post,
        Some("PUT") => Method::Put,
        _ => Method::Get,
    };
    let mut builder = Request::builder();
    builder.method(method).uri(&outbound.url);
    for (name, value) in &outbound.headers {
        builder.header(name.as_str(), value.as_str());
    }
    let request = builder.body(outbound.body.unwrap_or_default().into_bytes()).build();
    match spin_sdk::http::send::<_, Response>(request).await {
        Ok(response) => {
            let headers: serde_json::Map<String, Value> = response
                .headers()
                .filter_map(|(name, value)| Some((name.to_owned(), Value::from(value.as_str()?))))
                .collect();
            json!({ "status": response.status(), "body": String::from_utf8_lossy(response.body()), "headers": headers })
        }
        Err(e) => json!({ "error": format!("{e:?}") }),
    }
}
