//! The authorization code flow with PKCE: [`begin`] makes the provider URL a person is sent to
//! (with a fresh `state`, `nonce` and S256 code challenge, kept hashed or server-side for ten
//! minutes); [`finish`] takes the provider's answer at the callback, spends the state (once),
//! exchanges the code for tokens and verifies the ID token.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use super::SsoError;
use super::id_token::{self, Expected};
use super::provider::{self, Discovery, TIMEOUT};
use crate::auth::tokens;
use crate::config::Oidc;
use crate::db::{Db, transaction};
use crate::outbound::{Http, OutRequest};
use crate::repo::sso as repo;

/// How long a sign-in may take between the redirect and the callback.
pub const SIGN_IN_WITHIN: time::Duration = time::Duration::minutes(10);

fn random(bytes: usize) -> Result<String, SsoError> {
    tokens::random_secret(bytes).map_err(SsoError::ProviderUnavailable)
}

/// Starts a sign-in: answers the provider URL to send the person to.
///
/// # Errors
/// [`SsoError::ProviderUnavailable`] when its discovery document cannot be had; database errors.
pub fn begin(db: &dyn Db, http: &dyn Http, oidc: &Oidc, now: OffsetDateTime) -> Result<String, SsoError> {
    let discovery = provider::discovery(db, http, &oidc.issuer, now)?;
    let (state, nonce, verifier) = (random(24)?, random(24)?, random(48)?);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    transaction(db, |db| {
        repo::begin(db, &tokens::hash_secret(&state), (&nonce, &verifier), (now, now + SIGN_IN_WITHIN))
    })?;
    let mut scope = "openid email profile".to_owned();
    // Providers that put roles in a claim of their own (`groups`) often release it only
    // when asked for by a scope of that name.
    let top_claim = oidc.role_claim.split('.').next().unwrap_or_default();
    if !top_claim.is_empty() && !["openid", "email", "profile"].contains(&top_claim) {
        scope.push(' ');
        scope.push_str(top_claim);
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &oidc.client_id)
        .append_pair("redirect_uri", &oidc.redirect_url)
        .append_pair("scope", &scope)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let separator = if discovery.authorization_endpoint.contains('?') { '&' } else { '?' };
    Ok(format!("{}{separator}{query}", discovery.authorization_endpoint))
}

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The provider's subject.
    pub subject: String,
    /// Their e-mail address.
    pub email: Option<String>,
    /// Whether the provider verified it.
    pub email_verified: bool,
    /// Their name.
    pub name: Option<String>,
    /// All the ID token's claims (for the role claim).
    pub claims: Value,
}

/// The callback's query: `code` and `state`, or `error`, `error_description` and `state`.
#[derive(Debug, Clone, Default)]
pub struct Callback<'a> {
    /// The code.
    pub code: Option<&'a str>,
    /// The state.
    pub state: Option<&'a str>,
    /// The provider's error code.
    pub error: Option<&'a str>,
    /// Its words.
    pub error_description: Option<&'a str>,
}

/// Finishes a sign-in from the provider's answer.
///
/// # Errors
/// [`SsoError::Denied`] when the provider sent an error (consent denied); [`SsoError::State`]
/// for a state that is unknown, spent or expired; [`SsoError::ProviderUnavailable`];
/// [`SsoError::Token`] when the exchange or the ID token is refused; database errors.
pub fn finish(
    db: &dyn Db,
    http: &dyn Http,
    oidc: &Oidc,
    callback: &Callback<'_>,
    now: OffsetDateTime,
) -> Result<Identity, SsoError> {
    let state = callback.state.filter(|s| !s.is_empty()).ok_or(SsoError::State)?;
    let begun = transaction(db, |db| repo::spend(db, &tokens::hash_secret(state), now))?.ok_or(SsoError::State)?;
    if let Some(error) = callback.error {
        let words = callback.error_description.filter(|d| !d.is_empty()).unwrap_or(error);
        return Err(SsoError::Denied(format!("{words} ({error})")));
    }
    let code = callback.code.filter(|c| !c.is_empty()).ok_or_else(|| SsoError::Token("no code came back".into()))?;
    let discovery = provider::discovery(db, http, &oidc.issuer, now)?;
    let id_token = exchange(http, oidc, &discovery, code, &begun.code_verifier)?;
    let parsed = id_token::parse(&id_token).map_err(|e| SsoError::Token(e.to_string()))?;
    let mut keys = provider::jwks(db, http, &discovery, false, now)?;
    if id_token::find_key(&keys, parsed.kid.as_deref(), &parsed.alg).is_none() {
        // The provider may have rotated its keys since we fetched them.
        keys = provider::jwks(db, http, &discovery, true, now)?;
    }
    let key = id_token::find_key(&keys, parsed.kid.as_deref(), &parsed.alg).ok_or_else(|| {
        SsoError::Token(id_token::Refused::UnknownKey(parsed.kid.clone().unwrap_or_default()).to_string())
    })?;
    id_token::verify_signature(&parsed, key).map_err(|e| SsoError::Token(e.to_string()))?;
    let expected = Expected { issuer: &oidc.issuer, client_id: &oidc.client_id, nonce: &begun.nonce, now };
    id_token::check_claims(&parsed.claims, &expected).map_err(|e| SsoError::Token(e.to_string()))?;
    let claims = parsed.claims;
    Ok(Identity {
        subject: claims["sub"].as_str().unwrap_or_default().to_owned(),
        email: claims["email"].as_str().map(|e| e.trim().to_lowercase()),
        email_verified: claims["email_verified"].as_bool().unwrap_or(false),
        name: claims["name"].as_str().map(str::to_owned),
        claims,
    })
}

/// Exchanges `code` at the token endpoint; answers the ID token.
fn exchange(
    http: &dyn Http,
    oidc: &Oidc,
    discovery: &Discovery,
    code: &str,
    verifier: &str,
) -> Result<String, SsoError> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", &oidc.redirect_url)
        .append_pair("code_verifier", verifier);
    let mut headers = vec![
        ("content-type".to_owned(), "application/x-www-form-urlencoded".to_owned()),
        ("accept".to_owned(), "application/json".to_owned()),
    ];
    if discovery.secret_in_body || oidc.client_secret.is_empty() {
        form.append_pair("client_id", &oidc.client_id);
        if !oidc.client_secret.is_empty() {
            form.append_pair("client_secret", &oidc.client_secret);
        }
    } else {
        // client_secret_basic: both parts form-encoded first (RFC 6749 §2.3.1).
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let credentials = format!("{}:{}", encode(&oidc.client_id), encode(&oidc.client_secret));
        headers.push(("authorization".to_owned(), format!("Basic {}", STANDARD.encode(credentials))));
    }
    let request = OutRequest {
        method: "POST",
        url: discovery.token_endpoint.clone(),
        headers,
        body: form.finish().into_bytes(),
        timeout: TIMEOUT,
    };
    let answer = http
        .send_all(vec![request], 1)
        .pop()
        .unwrap_or_else(|| Err(crate::outbound::OutError::Unreachable("no answer".into())));
    let response = answer.map_err(|e| SsoError::ProviderUnavailable(format!("the token endpoint: {e}")))?;
    let body = response.json();
    match response.status {
        200 => body["id_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SsoError::Token("the token endpoint sent no id_token".into())),
        400..=499 => Err(SsoError::Token(format!(
            "the token endpoint refused the code: {}",
            body["error_description"].as_str().or(body["error"].as_str()).unwrap_or("no reason given")
        ))),
        status => Err(SsoError::ProviderUnavailable(format!("the token endpoint answered {status}"))),
    }
}
