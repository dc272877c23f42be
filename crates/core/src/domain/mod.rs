//! Domain types: values with invariants and the shapes the API shows.

mod service;

pub use service::{Service, ServiceStatus};
