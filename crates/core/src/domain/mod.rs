//! Domain types: values with invariants and the shapes the API shows.

mod service;
mod user;

pub use service::{Service, ServiceStatus};
pub use user::{Email, User};
