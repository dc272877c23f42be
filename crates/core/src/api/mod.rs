//! HTTP handlers, one module per API area. Components only list them in a router.

pub mod catalog;
pub mod ops;
pub mod routes;
