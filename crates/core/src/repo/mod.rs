//! Repositories: every SQL statement of the product, one function per statement.

pub mod scheduler;
pub mod services;
