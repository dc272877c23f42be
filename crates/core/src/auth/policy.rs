//! Who may do what: one pure function, tested as a full table.
//!
//! A user may perform an action when its role reaches the action's minimum role. An API key
//! may when the action accepts keys, the key's role ceiling reaches the minimum role, and the
//! key carries the action's scope. Account management (users, keys, one's own account) is for
//! people only: a leaked key must not be able to mint more keys or take over accounts.

use super::{Principal, Role, Scope};

/// Something a principal asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `/me`, own password, own 2FA.
    ManageOwnAccount,
    /// `/users/*`.
    ManageUsers,
    /// `/api-keys/*`.
    ManageApiKeys,
    /// `GET /audit-log`.
    ReadAuditLog,
    /// Services and groups: create, update, archive.
    WriteCatalog,
    /// Operator-level reads (status logs).
    ReadOperational,
    /// Declare and update incidents and maintenance.
    WriteEvents,
    /// Delete closed events, cancel scheduled maintenance, manage templates.
    AdministerEvents,
    /// See and retry notification deliveries.
    ManageNotifications,
    /// Configure incoming-webhook integrations.
    ManageIntegrations,
}

struct Rule {
    min_role: Role,
    /// `None`: people only.
    key_scope: Option<Scope>,
}

const fn rule(action: Action) -> Rule {
    match action {
        Action::ManageOwnAccount => Rule { min_role: Role::User, key_scope: None },
        Action::ManageUsers | Action::ManageApiKeys => Rule { min_role: Role::Admin, key_scope: None },
        Action::ReadAuditLog => Rule { min_role: Role::Admin, key_scope: Some(Scope::AuditRead) },
        Action::WriteCatalog => Rule { min_role: Role::Admin, key_scope: Some(Scope::CatalogWrite) },
        Action::ReadOperational => Rule { min_role: Role::Operator, key_scope: Some(Scope::Read) },
        Action::WriteEvents => Rule { min_role: Role::Operator, key_scope: Some(Scope::EventsWrite) },
        Action::AdministerEvents => Rule { min_role: Role::Admin, key_scope: Some(Scope::EventsWrite) },
        Action::ManageNotifications | Action::ManageIntegrations => Rule { min_role: Role::Admin, key_scope: None },
    }
}

/// Why an action is refused (a 403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub String);

/// Decides whether `principal` may perform `action`.
///
/// # Errors
/// [`Denied`] with a message for the 403.
pub fn authorize(principal: &Principal, action: Action) -> Result<(), Denied> {
    let rule = rule(action);
    if let Principal::User { two_factor_missing: true, .. } = principal
        && action != Action::ManageOwnAccount
    {
        return Err(Denied(
            "two-factor authentication is required for admins: enrol at /api/v1/auth/2fa/enroll".into(),
        ));
    }
    match principal {
        Principal::User { role, .. } if *role >= rule.min_role => Ok(()),
        Principal::User { .. } => Err(Denied(format!("this requires the {} role", rule.min_role.as_str()))),
        Principal::ApiKey { role, scopes, .. } => match rule.key_scope {
            None => Err(Denied("API keys cannot do this; sign in as a person".into())),
            Some(_) if *role < rule.min_role => {
                Err(Denied(format!("this requires a key with the {} role ceiling", rule.min_role.as_str())))
            }
            Some(scope) if !scopes.contains(&scope) => {
                Err(Denied(format!("this requires the {} scope", scope.as_str())))
            }
            Some(_) => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> Principal {
        Principal::User { id: uuid::Uuid::nil(), email: String::new(), role, session: None, two_factor_missing: false }
    }

    fn key(role: Role, scopes: &[Scope]) -> Principal {
        Principal::ApiKey { id: uuid::Uuid::nil(), name: String::new(), role, scopes: scopes.to_vec() }
    }

    #[test]
    fn users_by_role_against_every_action() {
        use Action::*;
        // (action, user, operator, admin)
        let table = [
            (ManageOwnAccount, true, true, true),
            (ManageUsers, false, false, true),
            (ManageApiKeys, false, false, true),
            (ReadAuditLog, false, false, true),
            (WriteCatalog, false, false, true),
            (ReadOperational, false, true, true),
            (WriteEvents, false, true, true),
            (AdministerEvents, false, false, true),
            (ManageNotifications, false, false, true),
            (ManageIntegrations, false, false, true),
        ];
        for (action, u, o, a) in table {
            for (role, expected) in [(Role::User, u), (Role::Operator, o), (Role::Admin, a)] {
                assert_eq!(authorize(&user(role), action).is_ok(), expected, "{role:?} {action:?}");
            }
        }
    }

    #[test]
    fn an_admin_without_required_2fa_may_only_manage_their_own_account() {
        let admin = Principal::User {
            id: uuid::Uuid::nil(),
            email: String::new(),
            role: Role::Admin,
            session: None,
            two_factor_missing: true,
        };
        assert!(authorize(&admin, Action::ManageOwnAccount).is_ok());
        for action in [Action::ManageUsers, Action::WriteCatalog, Action::ReadAuditLog, Action::WriteEvents] {
            assert!(authorize(&admin, action).is_err(), "{action:?}");
        }
    }

    #[test]
    fn keys_need_the_scope_and_the_role_ceiling_and_never_manage_accounts() {
        use Action::*;
        let all = Scope::ALL;
        let cases = [
            (key(Role::Admin, &all), ManageUsers, false),
            (key(Role::Admin, &all), ManageApiKeys, false),
            (key(Role::Admin, &all), ManageOwnAccount, false),
            (key(Role::Admin, &[Scope::CatalogWrite]), WriteCatalog, true),
            (key(Role::Operator, &[Scope::CatalogWrite]), WriteCatalog, false),
            (key(Role::Admin, &[Scope::EventsWrite]), WriteCatalog, false),
            (key(Role::Operator, &[Scope::EventsWrite]), WriteEvents, true),
            (key(Role::User, &[Scope::EventsWrite]), WriteEvents, false),
            (key(Role::Admin, &[Scope::EventsWrite]), AdministerEvents, true),
            (key(Role::Operator, &[Scope::EventsWrite]), AdministerEvents, false),
            (key(Role::Operator, &[Scope::Read]), ReadOperational, true),
            (key(Role::Operator, &[]), ReadOperational, false),
            (key(Role::Admin, &[Scope::AuditRead]), ReadAuditLog, true),
            (key(Role::Operator, &[Scope::AuditRead]), ReadAuditLog, false),
        ];
        for (principal, action, expected) in cases {
            assert_eq!(authorize(&principal, action).is_ok(), expected, "{principal:?} {action:?}");
        }
    }
}
