//! What a component's platform gives the code: the database, the configuration and the clock.
//! It sits below everything that needs them (`auth`, the use cases, the pipeline), so none of
//! those reaches for the Spin SDK, a variable or the wall clock directly, and tests substitute
//! all three.

use time::OffsetDateTime;

use crate::config::{Config, ConfigError};
use crate::db::{Db, DbError};

/// The platform of one request or one scheduler run.
pub trait Env {
    /// The database session, opened on first use (one backend, so a transaction stays on it).
    ///
    /// # Errors
    /// [`DbError::Connection`] when the database cannot be reached.
    fn db(&self) -> Result<&dyn Db, DbError>;

    /// The configuration, read once from the variables.
    ///
    /// # Errors
    /// A variable whose value does not parse.
    fn config(&self) -> Result<&Config, ConfigError>;

    /// The current time: the wall clock under Spin (WASI's, which a test host may set).
    fn now(&self) -> OffsetDateTime;
}
