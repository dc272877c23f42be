//! The audit log: every mutation, from every caller, records who did what to which entity,
//! with the before and after state, in the mutation's own transaction.

use serde_json::Value;
use time::OffsetDateTime;

use crate::actor::Actor;
use crate::db::{Db, DbError};
use crate::repo;

/// Where a mutation came from: the actor, and the request (or scheduler run) it was part of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Who.
    pub actor: Actor,
    /// The request id (`X-Request-Id`), or the scheduler run.
    pub request_id: String,
    /// The client's address, for requests.
    pub ip: Option<String>,
    /// When: the request's (or run's) time, the time of every row it writes.
    pub at: OffsetDateTime,
}

impl Origin {
    /// The scheduler's run at `tick`.
    #[must_use]
    pub fn scheduler(tick: OffsetDateTime) -> Self {
        let request_id = format!("scheduler:{}", crate::time::format_rfc3339(tick));
        Self { actor: Actor::Scheduler, request_id, ip: None, at: tick }
    }

    /// The same request, another actor (a sign-in records the person it signed in).
    #[must_use]
    pub fn as_actor(&self, actor: Actor) -> Self {
        Self { actor, ..self.clone() }
    }
}

/// One audit row: what changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// `user.create`, `session.login`, `event.update`...
    pub action: &'static str,
    /// `user`, `session`, `service`, `event`...
    pub entity_type: &'static str,
    /// The entity's id.
    pub entity_id: Option<String>,
    /// State before (secrets left out).
    pub before: Option<Value>,
    /// State after (secrets left out).
    pub after: Option<Value>,
}

impl Entry {
    /// A change of `entity_type` `entity_id`.
    #[must_use]
    pub fn new(action: &'static str, entity_type: &'static str, entity_id: impl ToString) -> Self {
        Self { action, entity_type, entity_id: Some(entity_id.to_string()), before: None, after: None }
    }

    /// With the state before.
    #[must_use]
    pub fn before(mut self, state: impl serde::Serialize) -> Self {
        self.before = serde_json::to_value(state).ok();
        self
    }

    /// With the state after.
    #[must_use]
    pub fn after(mut self, state: impl serde::Serialize) -> Self {
        self.after = serde_json::to_value(state).ok();
        self
    }
}

/// The result of a write and the audit row it calls for.
#[derive(Debug, Clone, PartialEq)]
pub struct Audited<T> {
    /// What the write answers.
    pub value: T,
    /// Its audit row, for the caller to record in the same transaction.
    pub entry: Entry,
}

/// Writes one audit row (inside the mutation's transaction).
///
/// # Errors
/// Database errors.
pub fn record(db: &dyn Db, origin: &Origin, entry: Entry) -> Result<(), DbError> {
    repo::audit::insert_entry(db, origin, &entry)
}
