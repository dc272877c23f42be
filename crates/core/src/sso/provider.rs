//! The identity provider's documents: its discovery document (`<issuer>/.well-known/
//! openid-configuration`, cached an hour) and its key set (cached until a token names a key it
//! lacks, then fetched again: ID tokens come from the provider's own token endpoint, so only the
//! provider can make us fetch its keys again).

use std::time::Duration;

use serde_json::Value;
use time::OffsetDateTime;

use super::SsoError;
use crate::db::Db;
use crate::outbound::{Http, OutRequest, OutResponse};
use crate::repo::sso as repo;

/// How long a discovery document is trusted.
const DISCOVERY_FOR: time::Duration = time::Duration::hours(1);
/// How long the provider may take to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What we use of a discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// The issuer it declares (must be the configured one).
    pub issuer: String,
    /// Where people sign in.
    pub authorization_endpoint: String,
    /// Where codes are exchanged.
    pub token_endpoint: String,
    /// The key set.
    pub jwks_uri: String,
    /// Whether the token endpoint takes the client secret in the body only.
    pub secret_in_body: bool,
}

/// One GET.
///
/// # Errors
/// [`SsoError::ProviderUnavailable`] when it does not answer 200 with JSON.
pub fn get_json(http: &dyn Http, url: &str) -> Result<Value, SsoError> {
    let request = OutRequest {
        method: "GET",
        url: url.to_owned(),
        headers: vec![("accept".to_owned(), "application/json".to_owned())],
        body: Vec::new(),
        timeout: TIMEOUT,
    };
    let answer = http
        .send_all(vec![request], 1)
        .pop()
        .unwrap_or_else(|| Err(crate::outbound::OutError::Unreachable("no answer".into())));
    match answer {
        Ok(OutResponse { status: 200, .. }) => {
            let body = answer.as_ref().map(OutResponse::json).unwrap_or(Value::Null);
            if body.is_object() {
                Ok(body)
            } else {
                Err(SsoError::ProviderUnavailable(format!("{url} did not answer JSON")))
            }
        }
        Ok(response) => Err(SsoError::ProviderUnavailable(format!("{url} answered {}", response.status))),
        Err(e) => Err(SsoError::ProviderUnavailable(format!("{url}: {e}"))),
    }
}

fn read(issuer: &str, document: &Value) -> Result<Discovery, SsoError> {
    let field = |name: &str| {
        document[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SsoError::ProviderUnavailable(format!("the provider's discovery document has no {name}")))
    };
    let declared = field("issuer")?;
    if declared.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(SsoError::ProviderUnavailable(format!(
            "the provider's discovery document declares the issuer {declared}, not {issuer} (oidc_issuer)"
        )));
    }
    let methods: Vec<&str> = document["token_endpoint_auth_methods_supported"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    Ok(Discovery {
        issuer: declared,
        authorization_endpoint: field("authorization_endpoint")?,
        token_endpoint: field("token_endpoint")?,
        jwks_uri: field("jwks_uri")?,
        secret_in_body: !methods.is_empty()
            && !methods.contains(&"client_secret_basic")
            && methods.contains(&"client_secret_post"),
    })
}

/// The provider's discovery document, from the cache when fresh.
///
/// # Errors
/// [`SsoError::ProviderUnavailable`]; database errors.
pub fn discovery(db: &dyn Db, http: &dyn Http, issuer: &str, now: OffsetDateTime) -> Result<Discovery, SsoError> {
    if let Some(cached) = repo::cached(db, issuer)?.filter(|c| c.fetched_at + DISCOVERY_FOR > now) {
        return read(issuer, &cached.discovery);
    }
    let document = get_json(http, &format!("{issuer}/.well-known/openid-configuration"))?;
    let discovery = read(issuer, &document)?;
    repo::store_discovery(db, issuer, &document, now)?;
    Ok(discovery)
}

/// The provider's key set: the cached one, unless `refresh` asks for it again (a token names
/// a key it lacks: the provider rotated its keys).
///
/// # Errors
/// [`SsoError::ProviderUnavailable`]; database errors.
pub fn jwks(
    db: &dyn Db,
    http: &dyn Http,
    discovery: &Discovery,
    refresh: bool,
    now: OffsetDateTime,
) -> Result<Value, SsoError> {
    let cached = repo::cached(db, &discovery.issuer)?;
    if let Some(keys) = cached.and_then(|c| c.jwks).filter(|_| !refresh) {
        return Ok(keys);
    }
    let keys = get_json(http, &discovery.jwks_uri)?;
    repo::store_jwks(db, &discovery.issuer, &keys, now)?;
    Ok(keys)
}
