//! Roles and API-key scopes.

use serde::{Deserialize, Serialize};

/// A role; each includes the ones below it: `user` < `operator` < `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads, subscriptions, its own account.
    User,
    /// Declares and updates incidents and maintenance.
    Operator,
    /// Everything: catalog, users, keys, audit log.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Self; 3] = [Self::User, Self::Operator, Self::Admin];

    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// A message listing the roles.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw).ok_or_else(|| "must be one of user, operator, admin".into())
    }
}

/// What an API key may do, within its role ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Authenticated reads (status logs, private lists).
    #[serde(rename = "read")]
    Read,
    /// Services and groups.
    #[serde(rename = "catalog:write")]
    CatalogWrite,
    /// Incidents, maintenance, templates.
    #[serde(rename = "events:write")]
    EventsWrite,
    /// The audit log.
    #[serde(rename = "audit:read")]
    AuditRead,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Self; 4] = [Self::Read, Self::CatalogWrite, Self::EventsWrite, Self::AuditRead];

    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::CatalogWrite => "catalog:write",
            Self::EventsWrite => "events:write",
            Self::AuditRead => "audit:read",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// A message listing the scopes.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| "must be one of read, catalog:write, events:write, audit:read".into())
    }
}
