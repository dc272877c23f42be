//! Single sign-on with OpenID Connect: the authorization code flow with PKCE (S256),
//! `state` and `nonce`, each single-use and short-lived ([`flow`]); the provider's discovery
//! document and keys ([`provider`]); the ID token's verification ([`id_token`]); and who the
//! person is here, with which role ([`accounts`]).

pub mod accounts;
pub mod flow;
pub mod id_token;
pub mod provider;

use crate::db::DbError;
use crate::http::ApiError;

/// Why a sign-in did not happen; each is an answer a person can read, never a 5xx.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SsoError {
    /// SSO is not configured (`oidc_issuer` is empty): 404.
    #[error("single sign-on is not configured here (oidc_issuer)")]
    Off,
    /// The state is unknown, spent or expired: 400 `sso_state_invalid`.
    #[error("this sign-in has expired or was used already; start again at /api/v1/auth/oidc/login")]
    State,
    /// The provider said no (the person denied consent, or the provider refused): 403.
    #[error("the identity provider did not sign you in: {0}")]
    Denied(String),
    /// The provider could not be reached or answered nonsense: 424.
    #[error("the identity provider is not answering as it should: {0}")]
    ProviderUnavailable(String),
    /// The code exchange or the ID token was refused: 401 `sso_token_invalid`.
    #[error("the identity provider's answer was refused: {0}")]
    Token(String),
    /// The person may not sign in here (domain, unverified e-mail, no account, deactivated): 403.
    #[error("{0}")]
    NotAllowed(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<SsoError> for ApiError {
    fn from(error: SsoError) -> Self {
        let message = error.to_string();
        match error {
            SsoError::Off => Self::NotFound(message),
            SsoError::State => Self::BadRequest { code: "sso_state_invalid", message },
            SsoError::Denied(_) | SsoError::NotAllowed(_) => Self::Forbidden(message),
            SsoError::ProviderUnavailable(_) => Self::FailedDependency { code: "sso_provider_unavailable", message },
            SsoError::Token(_) => Self::Unauthorized(message),
            SsoError::Db(e) => e.into(),
        }
    }
}
