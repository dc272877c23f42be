//! The Spin side of a component: converts spin-sdk requests and responses, and provides the
//! [`Env`] of a request (a lazily opened PostgreSQL connection and key-value store, the
//! configuration from Spin variables, the wall clock).

use std::cell::OnceCell;

use spin_sdk::http::{Request as SpinRequest, Response as SpinResponse};
use time::OffsetDateTime;

use crate::app::{Env, Handler, dispatch};
use crate::config::{Config, ConfigError, Lookup};
use crate::db::{Db, DbError, SpinDb};
use crate::http::{Request, Router};
use crate::kv::{Kv, KvError, SpinKv};

/// Serves one request of `component` through `router`.
#[must_use]
pub fn serve(component: &str, router: &Router<Handler>, request: &SpinRequest) -> SpinResponse {
    let headers =
        request.headers().filter_map(|(name, value)| Some((name.to_owned(), value.as_str()?.to_owned()))).collect();
    let path_and_query = match request.query() {
        "" => request.path().to_owned(),
        query => format!("{}?{query}", request.path()),
    };
    let request = Request::new(&request.method().to_string(), &path_and_query, headers, request.body().to_vec());
    let env = SpinEnv::default();
    let response = dispatch(component, router, &env, &request);
    let mut builder = SpinResponse::builder();
    builder.status(response.status);
    for (name, value) in response.headers {
        builder.header(name, value);
    }
    builder.body(response.body).build()
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
