//! The audit log: every mutation, in every component, records who did what to which entity,
//! with the before and after state, in the mutation's own transaction.

use serde_json::Value;
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::{Db, DbError, Param};

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `user`, `api_key`, `anonymous` or `system`.
    pub kind: &'static str,
    /// The user or key id.
    pub id: Option<Uuid>,
    /// A readable label (e-mail, key name).
    pub label: String,
}

impl Actor {
    /// Nobody signed in (registration, password reset, a failed sign-in).
    #[must_use]
    pub fn anonymous() -> Self {
        Self { kind: "anonymous", id: None, label: String::new() }
    }

    /// A person acting on their own behalf before they hold a token (sign-in, reset).
    #[must_use]
    pub fn user(id: Uuid, email: &str) -> Self {
        Self { kind: "user", id: Some(id), label: email.to_owned() }
    }

    /// The scheduler or another automatic process.
    #[must_use]
    pub fn system(label: &str) -> Self {
        Self { kind: "system", id: None, label: label.to_owned() }
    }
}

impl From<&Principal> for Actor {
    fn from(principal: &Principal) -> Self {
        match principal {
            Principal::User { id, email, .. } => Self::user(*id, email),
            Principal::ApiKey { id, name, .. } => Self { kind: "api_key", id: Some(*id), label: name.clone() },
        }
    }
}

/// What changed.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// `user.create`, `session.login`, `api_key.revoke`...
    pub action: &'a str,
    /// `user`, `session`, `api_key`, `service`...
    pub entity_type: &'a str,
    /// The entity's id.
    pub entity_id: Option<String>,
    /// State before (secrets left out).
    pub before: Option<Value>,
    /// State after (secrets left out).
    pub after: Option<Value>,
}

impl<'a> Change<'a> {
    /// A change of `entity_type` `entity_id`.
    #[must_use]
    pub fn new(action: &'a str, entity_type: &'a str, entity_id: impl ToString) -> Self {
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

/// Writes one audit row.
///
/// # Errors
/// Database errors.
pub fn record(
    db: &dyn Db,
    actor: &Actor,
    request_id: &str,
    ip: Option<&str>,
    change: Change<'_>,
) -> Result<(), DbError> {
    let json = |v: Option<Value>| v.map_or(Param::Null, Param::Jsonb);
    db.execute(
        "insert into audit_log (actor_type, actor_id, actor_label, action, entity_type, entity_id,
                                before, after, request_id, ip)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            actor.kind.into(),
            actor.id.into(),
            actor.label.clone().into(),
            change.action.into(),
            change.entity_type.into(),
            change.entity_id.into(),
            json(change.before),
            json(change.after),
            request_id.into(),
            ip.map(str::to_owned).into(),
        ],
    )?;
    Ok(())
}
