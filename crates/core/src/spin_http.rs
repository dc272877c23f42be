//! The Spin side of a component: converts spin-sdk requests and responses, and provides the
//! [`Env`] of a request (a lazily opened PostgreSQL connection and key-value store, the
//! configuration from Spin variables, the wall clock).

use std::cell::OnceCell;

use spin_sdk::http::conversions::TryFromIncomingRequest;
use spin_sdk::http::{Fields, IncomingRequest, OutgoingResponse, Request as SpinRequest, ResponseOutparam};
use time::OffsetDateTime;

use crate::app::{Env, Handler, dispatch_with_after, run_after};
use crate::config::{Config, ConfigError, Lookup};
use crate::db::{Db, DbError, SpinDb};
use crate::http::{ApiError, Request, Router};
use crate::kv::{Kv, KvError, SpinKv};

/// Serves one request of `component` through `router`: answers it, then (the client has its
/// response) runs the work it asked for afterwards.
pub async fn serve(component: &str, router: &Router<Handler>, incoming: IncomingRequest, out: ResponseOutparam) {
    let request = match <SpinRequest as TryFromIncomingRequest>::try_from_incoming_request(incoming).await {
        Ok(request) => request,
        Err(e) => {
            let error = ApiError::BadRequest { code: "malformed_request", message: e.to_string() };
            send(out, error.into_response(&crate::http::request_id(None))).await;
            return;
        }
    };
    let headers =
        request.headers().filter_map(|(name, value)| Some((name.to_owned(), value.as_str()?.to_owned()))).collect();
    let path_and_query = match request.query() {
        "" => request.path().to_owned(),
        query => format!("{}?{query}", request.path()),
    };
    let request = Request::new(&request.method().to_string(), &path_and_query, headers, request.body().to_vec());
    let env = SpinEnv::default();
    let (response, after) = dispatch_with_after(component, router, &env, &request);
    send(out, response).await;
    run_after(component, &env, &after);
}

async fn send(out: ResponseOutparam, response: crate::http::Response) {
    let headers = Fields::new();
    for (name, value) in &response.headers {
        // A header our code built is always valid; a failure here would drop only that header.
        let _ = headers.append(name, value.as_bytes());
    }
    let outgoing = OutgoingResponse::new(headers);
    let _ = outgoing.set_status_code(response.status);
    if let Err(e) = out.set_with_body(outgoing, response.body).await {
        // The client went away; nothing to answer to.
        crate::log::event("warn", "http", "could not send the response", serde_json::json!({ "error": e.to_string() }));
    }
}

/// A request's (or a scheduler run's) platform: one database connection, opened on first use;
/// the configuration, read from the Spin variables once; the wall clock.
#[derive(Debug, Default)]
pub struct SpinEnv {
    db: OnceCell<SpinDb>,
    kv: OnceCell<SpinKv>,
    config: OnceCell<Result<Config, ConfigError>>,
}

impl Env for SpinEnv {
    fn db(&self) -> Result<&dyn Db, DbError> {
        if let Some(db) = self.db.get() {
            return Ok(db);
        }
        let url = self.config().map_err(|e| DbError::Connection(e.to_string()))?.db_url.clone();
        let db = SpinDb::open(&url)?;
        Ok(self.db.get_or_init(|| db))
    }

    fn kv(&self) -> Result<&dyn Kv, KvError> {
        if let Some(kv) = self.kv.get() {
            return Ok(kv);
        }
        let kv = SpinKv::open_default()?;
        Ok(self.kv.get_or_init(|| kv))
    }

    fn http(&self) -> &dyn crate::outbound::Http {
        &crate::outbound::SpinHttp
    }

    fn config(&self) -> Result<&Config, ConfigError> {
        self.config.get_or_init(|| Config::load(lookup)).as_ref().map_err(Clone::clone)
    }

    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A Spin variable: a variable the component is not given is `Undefined` to it.
fn lookup(name: &str) -> Lookup {
    match spin_sdk::variables::get(name) {
        Ok(value) => Lookup::Value(value),
        Err(spin_sdk::variables::Error::Undefined(_)) => Lookup::NotMapped,
        Err(e) => Lookup::Failed(e.to_string()),
    }
}
