//! The Spin side of a component: converts spin-sdk requests and responses, and provides the
//! [`Env`] of a request (a lazily opened PostgreSQL connection, Spin variables).

use std::cell::OnceCell;

use spin_sdk::http::{Request as SpinRequest, Response as SpinResponse};

use crate::app::{Env, Handler, dispatch};
use crate::db::{Db, SpinDb};
use crate::http::{ApiError, Request, Router};

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

/// A request's platform: one database connection, opened on first use.
#[derive(Debug, Default)]
pub struct SpinEnv {
    db: OnceCell<SpinDb>,
}

impl Env for SpinEnv {
    fn db(&self) -> Result<&dyn Db, ApiError> {
        if let Some(db) = self.db.get() {
            return Ok(db);
        }
        let url = self.variable("db_url")?.ok_or_else(|| ApiError::Internal("variable db_url is empty".into()))?;
        let db = SpinDb::open(&url)?;
        Ok(self.db.get_or_init(|| db))
    }

    fn variable(&self, name: &str) -> Result<Option<String>, ApiError> {
        match spin_sdk::variables::get(name) {
            Ok(value) if value.is_empty() => Ok(None),
            Ok(value) => Ok(Some(value)),
            Err(e) => Err(ApiError::Internal(format!("cannot read variable {name}: {e}"))),
        }
    }
}
