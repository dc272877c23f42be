//! What a component's platform gives the code: the database, the key-value store, outbound
//! HTTP, the configuration and the clock. It sits below everything that needs them (`auth`, the use
//! cases, the pipeline), so none of those reaches for the Spin SDK, a variable or the wall clock
//! directly, and tests substitute all four.

use time::OffsetDateTime;

use crate::config::{Config, ConfigError};
use crate::db::{Db, DbError};
use crate::kv::{Kv, KvError};
use crate::outbound::Http;

/// The platform of one request or one scheduler run.
pub trait Env {
    /// The database session, opened on first use (one backend, so a transaction stays on it).
    ///
    /// # Errors
    /// [`DbError::Connection`] when the database cannot be reached.
    fn db(&self) -> Result<&dyn Db, DbError>;

    /// The key-value store (the public snapshot), opened on first use.
    ///
    /// # Errors
    /// The store cannot be opened (the manifest does not grant it to the component).
    fn kv(&self) -> Result<&dyn Kv, KvError>;

    /// Outbound HTTP (mail relays, Telegram, webhooks).
    fn http(&self) -> &dyn Http;

    /// The configuration, read once from the variables.
    ///
    /// # Errors
    /// A variable whose value does not parse.
    fn config(&self) -> Result<&Config, ConfigError>;

    /// The current time: the wall clock under Spin (WASI's, which a test host may set).
    fn now(&self) -> OffsetDateTime;
}
