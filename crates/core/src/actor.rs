//! Who acts: a person, an API key, the scheduler, or nobody signed in. Use cases take the actor
//! as an argument (they are called by HTTP handlers, the scheduler and incoming webhooks alike),
//! record it as the author of what they write, and the audit log names it.

use uuid::Uuid;

use crate::auth::Principal;

/// The acting principal of a use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person, by account.
    User {
        /// Account id.
        id: Uuid,
        /// E-mail, for the audit label.
        email: String,
    },
    /// An API key (automation).
    ApiKey {
        /// Key id.
        id: Uuid,
        /// Key name, for the audit label.
        name: String,
    },
    /// The scheduler (cron trigger): maintenance automation, housekeeping.
    Scheduler,
    /// An incoming-webhook integration (Alertmanager, Grafana, generic): its alerts open and
    /// resolve incidents in its name, whoever's credentials delivered them.
    Integration {
        /// Integration id.
        id: Uuid,
        /// Its name, for the audit label.
        name: String,
    },
    /// Nobody signed in (registration, a password reset, a failed sign-in).
    Anonymous,
}

impl Actor {
    /// A person acting on their own behalf before they hold a token (sign-in, reset).
    #[must_use]
    pub fn user(id: Uuid, email: &str) -> Self {
        Self::User { id, email: email.to_owned() }
    }

    /// The `actor_type` of the audit log.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::User { .. } => "user",
            Self::ApiKey { .. } => "api_key",
            Self::Scheduler => "system",
            Self::Integration { .. } => "integration",
            Self::Anonymous => "anonymous",
        }
    }

    /// The user, key or integration id, recorded as the author (`created_by`) of what it
    /// writes.
    #[must_use]
    pub fn id(&self) -> Option<Uuid> {
        match self {
            Self::User { id, .. } | Self::ApiKey { id, .. } | Self::Integration { id, .. } => Some(*id),
            Self::Scheduler | Self::Anonymous => None,
        }
    }

    /// A readable label (e-mail, key name, `scheduler`).
    #[must_use]
    pub fn label(&self) -> &str {
        match self {
            Self::User { email, .. } => email,
            Self::ApiKey { name, .. } | Self::Integration { name, .. } => name,
            Self::Scheduler => "scheduler",
            Self::Anonymous => "",
        }
    }
}

impl From<&Principal> for Actor {
    fn from(principal: &Principal) -> Self {
        match principal {
            Principal::User { id, email, .. } => Self::user(*id, email),
            Principal::ApiKey { id, name, .. } => Self::ApiKey { id: *id, name: name.clone() },
        }
    }
}
