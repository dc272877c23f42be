//! HTTP handlers, one module per API area. Components only list them in a router.

pub mod account;
pub mod api_keys;
pub mod audit_log;
pub mod auth;
pub mod catalog;
pub mod channels;
pub mod events;
pub mod ops;
pub mod parse;
pub mod public;
pub mod routes;
pub mod sso;
pub mod subscribers;
pub mod templates;
pub mod users;
pub mod webhooks;
