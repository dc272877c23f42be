//! Repositories: every SQL statement of the product, one function each.

pub mod api_keys;
pub mod audit;
pub mod events;
pub mod groups;
pub mod outbox;
pub mod scheduler;
pub mod services;
pub mod sessions;
pub mod templates;
pub mod users;
