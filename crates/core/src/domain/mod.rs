//! Domain types: values with invariants and the shapes the API shows.

mod event;
mod group;
mod service;
pub mod template;
mod user;

pub use event::{EventStatus, EventType, Severity};
pub use group::{Group, check_slug};
pub use service::{Service, ServiceStatus};
pub use user::{Email, User};
