//! The StatusPage core: everything the Spin components share, compiled natively (for tests)
//! and for `wasm32-wasip2` (for the components).
//!
//! - [`http`]: requests, responses, the JSON envelopes and the one error → HTTP mapping.
//! - [`app`]: the pipeline every HTTP component runs a request through ([`app::dispatch`]).
//! - [`api`]: the handlers; a component is a router over them.
//! - [`db`]: the [`db::Db`] trait that hides the Spin SDK, transactions, error normalisation.
//! - [`migrate`]: embedded SQL migrations, applied safely by whichever instance comes first.
//! - [`repo`]: every SQL statement, one function each.
//! - [`domain`]: values with invariants and API shapes.
//! - [`auth`]: principals, the authorization policy, passwords, tokens, TOTP, rate limits.
//! - [`audit`]: the audit log every mutation writes to.
//! - [`scheduler`], [`ops`], [`log`], [`time`].
//!
//! With the `spin` feature, [`spin_http`] adapts spin-sdk requests and provides the Spin [`app::Env`].

#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod db;
pub mod domain;
pub mod http;
pub mod log;
pub mod migrate;
pub mod ops;
pub mod repo;
pub mod scheduler;
#[cfg(feature = "spin")]
pub mod spin_http;
pub mod time;
