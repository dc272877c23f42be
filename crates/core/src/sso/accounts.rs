//! Who signed in, here: the account linked to the provider's subject, else the account with the
//! same verified e-mail address (then linked), else a new one (when `oidc_create_accounts`);
//! with the role the configured claim maps to, evaluated again at every sign-in.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::SsoError;
use super::flow::Identity;
use crate::audit::{self, Entry, Origin};
use crate::auth::Role;
use crate::config::Oidc;
use crate::db::Db;
use crate::domain::User;
use crate::repo::{sso as repo, users};

/// What an SSO-made account has for a password: nothing argon2 verifies (password sign-in is
/// refused until the person sets one through a reset).
const NO_PASSWORD: &str = "!sso";

/// The values of `claim` (a dotted path, such as `realm_access.roles`): a string or a list of
/// strings.
#[must_use]
pub fn claim_values(claims: &Value, claim: &str) -> Vec<String> {
    let found = claim.split('.').try_fold(claims, |value, key| value.get(key));
    match found {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// The role `claims` map to: the highest of the mapped values, `user` when none is mapped.
#[must_use]
pub fn role_for(oidc: &Oidc, claims: &Value) -> Role {
    let values = claim_values(claims, &oidc.role_claim);
    oidc.role_map.iter().filter(|(value, _)| values.contains(value)).map(|(_, role)| *role).max().unwrap_or(Role::User)
}

/// Signs `identity` in here at `now` (inside a transaction): finds, links or makes the account
/// and sets its role from the claim; writes the audit rows (account made, account linked, role
/// changed) as the person.
///
/// # Errors
/// [`SsoError::NotAllowed`]: no e-mail address, a domain not allowed, an unverified address
/// to link by, no account when accounts are not made, a deactivated account; database errors.
pub fn sign_in(
    db: &dyn Db,
    oidc: &Oidc,
    identity: &Identity,
    origin: &Origin,
    now: OffsetDateTime,
) -> Result<User, SsoError> {
    let email = identity.email.clone().filter(|e| e.contains('@')).ok_or_else(|| {
        SsoError::NotAllowed("the identity provider sent no e-mail address (ask for the email scope)".into())
    })?;
    let domain = email.rsplit('@').next().unwrap_or_default();
    if !oidc.allowed_domains.is_empty() && !oidc.allowed_domains.iter().any(|d| d == domain) {
        return Err(SsoError::NotAllowed(format!(
            "accounts of {domain} may not sign in here (oidc_allowed_domains: {})",
            oidc.allowed_domains.join(", ")
        )));
    }
    let role = role_for(oidc, &identity.claims);
    let subject = (oidc.issuer.as_str(), identity.subject.as_str());
    let as_person = |user: &User| origin.as_actor(crate::actor::Actor::user(user.id, &user.email));
    let user = if let Some(id) = repo::find_linked(db, subject.0, subject.1)? {
        repo::user(db, id)?.ok_or_else(|| SsoError::NotAllowed("the linked account is gone".into()))?
    } else {
        if !identity.email_verified {
            return Err(SsoError::NotAllowed(format!(
                "the identity provider has not verified {email}, so it cannot be matched to an account"
            )));
        }
        match users::find_credentials_by_email(db, &email)? {
            Some(existing) => {
                repo::link(db, existing.user.id, subject, now)?;
                let entry = Entry::new("sso.account_linked", "user", existing.user.id)
                    .after(json!({ "issuer": subject.0, "subject": subject.1 }));
                audit::record(db, &as_person(&existing.user), entry)?;
                existing.user
            }
            None if !oidc.create_accounts => {
                return Err(SsoError::NotAllowed(format!(
                    "no account here has {email}, and accounts are not made at first sign-in (oidc_create_accounts)"
                )));
            }
            None => {
                let name = identity.name.clone().unwrap_or_default();
                let new = users::NewUser {
                    email: &email,
                    name: &name,
                    first_name: "",
                    last_name: "",
                    password_hash: NO_PASSWORD,
                    role,
                };
                let created = users::insert_user(db, &new, now)?;
                repo::link(db, created.id, subject, now)?;
                let entry = Entry::new("sso.account_created", "user", created.id)
                    .after(json!({ "issuer": subject.0, "subject": subject.1, "role": role.as_str() }));
                audit::record(db, &as_person(&created), entry)?;
                created
            }
        }
    };
    if !user.is_active {
        return Err(SsoError::NotAllowed("the account is deactivated".into()));
    }
    if user.role != role {
        repo::set_role(db, user.id, role, now)?;
        let entry = Entry::new("user.role_changed", "user", user.id)
            .before(json!({ "role": user.role.as_str() }))
            .after(json!({ "role": role.as_str(), "source": format!("the {} claim", oidc.role_claim) }));
        audit::record(db, &as_person(&user), entry)?;
    }
    Ok(repo::user(db, user.id)?.unwrap_or(user))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn oidc(claim: &str, map: &[(&str, Role)]) -> Oidc {
        Oidc {
            issuer: "https://idp.test".into(),
            client_id: "sp".into(),
            client_secret: String::new(),
            redirect_url: String::new(),
            role_claim: claim.into(),
            role_map: map.iter().map(|(v, r)| ((*v).to_owned(), *r)).collect(),
            allowed_domains: Vec::new(),
            create_accounts: true,
        }
    }

    #[test]
    fn roles_come_from_the_highest_mapped_claim_value() {
        let config = oidc("groups", &[("status-admins", Role::Admin), ("sre", Role::Operator)]);
        assert_eq!(role_for(&config, &json!({"groups": ["sre", "status-admins"]})), Role::Admin);
        assert_eq!(role_for(&config, &json!({"groups": "sre"})), Role::Operator);
        assert_eq!(role_for(&config, &json!({"groups": ["staff"]})), Role::User, "unmapped values give user");
        assert_eq!(role_for(&config, &json!({})), Role::User);
        let nested = oidc("realm_access.roles", &[("admin", Role::Admin)]);
        assert_eq!(role_for(&nested, &json!({"realm_access": {"roles": ["admin"]}})), Role::Admin);
    }
}
