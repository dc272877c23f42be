//! The StatusPage core: everything the Spin components share, compiled natively (for tests)
//! and for `wasm32-wasip2` (for the components).
//!
//! - [`env`], [`config`]: what the platform gives (database, typed configuration, clock).
//! - [`http`]: requests, responses, the JSON envelopes, route policies, the one error → HTTP mapping.
//! - [`app`]: the pipeline every HTTP component runs a request through ([`app::dispatch`]).
//! - [`api`]: the handlers (`require` → parse a command → one use case → respond); a
//!   component is a router over them.
//! - [`events`], [`catalog`]: the use cases, shared by the API, the scheduler and webhooks;
//!   [`automation`]: what the scheduler does with them (maintenance, housekeeping);
//!   [`alerts`]: what monitoring systems' webhooks do with them.
//! - [`public`]: the public face, rendered ahead of time into the key-value store.
//! - [`notify`]: subscriptions and notifications: the outbox, messages, the delivery engine.
//! - [`domain`]: values with invariants and the typed shapes of the product.
//! - [`repo`]: every SQL statement, one function each, typed rows out.
//! - [`db`]: the [`db::Db`] trait that hides the Spin SDK, transactions, error normalisation;
//!   [`kv`] the same for the key-value store.
//! - [`migrate`]: embedded SQL migrations, applied safely by whichever instance comes first.
//! - [`auth`]: principals, the authorization policy, passwords, tokens, TOTP, rate limits.
//! - [`actor`], [`audit`], [`error`]: who acts, the audit log, the use cases' errors.
//! - [`scheduler`], [`ops`], [`metrics`], [`log`], [`time`].
//!
//! With the `spin` feature, [`spin_http`] adapts spin-sdk requests and provides the Spin [`app::Env`].

#![forbid(unsafe_code)]

pub mod actor;
pub mod alerts;
pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod automation;
pub mod catalog;
pub mod config;
pub mod db;
pub mod domain;
pub mod env;
pub mod error;
pub mod events;
pub mod http;
pub mod kv;
pub mod log;
pub mod metrics;
pub mod migrate;
pub mod notify;
pub mod ops;
pub mod outbound;
pub mod public;
pub mod repo;
pub mod scheduler;
#[cfg(feature = "spin")]
pub mod spin_http;
pub mod sso;
pub mod time;
