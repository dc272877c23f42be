//! Verifying an OpenID Connect ID token: its signature against the provider's keys (RS256 or
//! ES256, chosen by the key's `kid`; nothing else is accepted, and our own access tokens stay
//! HS256-only elsewhere), then its claims: issuer, audience (and `azp` when there are several),
//! expiry and issue time with a small skew, and the nonce of the sign-in.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use time::OffsetDateTime;

/// Clock skew tolerated between the provider and us.
pub const SKEW_SECONDS: i64 = 60;

/// Why an ID token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not a JWT, or a part that does not decode.
    #[error("the ID token is malformed: {0}")]
    Malformed(String),
    /// An algorithm we do not accept.
    #[error("the ID token is signed with {0}; only RS256 and ES256 are accepted")]
    Algorithm(String),
    /// No key of the provider has its `kid` (even after fetching the keys again).
    #[error("no key of the provider has the ID token's key id {0:?}")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("the ID token's signature does not verify")]
    Signature,
    /// A claim is wrong.
    #[error("the ID token's {0}")]
    Claim(String),
}

/// A token's parts, decoded.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// `RS256` or `ES256`.
    pub alg: String,
    /// The key id.
    pub kid: Option<String>,
    /// The claims.
    pub claims: Value,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

/// Splits and decodes `token` (nothing is trusted yet).
///
/// # Errors
/// [`Refused::Malformed`], [`Refused::Algorithm`].
pub fn parse(token: &str) -> Result<Parsed, Refused> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refused::Malformed("it is not three dot-separated parts".into()));
    };
    let decode = |part: &str, what: &str| {
        URL_SAFE_NO_PAD.decode(part).map_err(|_| Refused::Malformed(format!("its {what} is not base64url")))
    };
    let header: Value = serde_json::from_slice(&decode(header, "header")?)
        .map_err(|_| Refused::Malformed("its header is not JSON".into()))?;
    let claims: Value = serde_json::from_slice(&decode(payload, "payload")?)
        .map_err(|_| Refused::Malformed("its payload is not JSON".into()))?;
    let alg = header["alg"].as_str().unwrap_or_default().to_owned();
    if alg != "RS256" && alg != "ES256" {
        return Err(Refused::Algorithm(if alg.is_empty() { "no algorithm".into() } else { alg }));
    }
    let signing_input = format!("{}.{}", token_part(token, 0), token_part(token, 1)).into_bytes();
    Ok(Parsed {
        alg,
        kid: header["kid"].as_str().map(str::to_owned),
        claims,
        signing_input,
        signature: decode(signature, "signature")?,
    })
}

fn token_part(token: &str, index: usize) -> &str {
    token.trim().split('.').nth(index).unwrap_or_default()
}

/// The key of `jwks` (a JSON Web Key Set) with `kid` (or its only key of the type, when the
/// token names none) usable for `alg`.
#[must_use]
pub fn find_key<'a>(jwks: &'a Value, kid: Option<&str>, alg: &str) -> Option<&'a Value> {
    let kty = if alg == "RS256" { "RSA" } else { "EC" };
    let usable = jwks["keys"].as_array()?.iter().filter(|k| {
        k["kty"] == kty && k["use"].as_str().is_none_or(|u| u == "sig") && k["alg"].as_str().is_none_or(|a| a == alg)
    });
    match kid {
        Some(kid) => usable.clone().find(|k| k["kid"] == kid),
        None => {
            let keys: Vec<&Value> = usable.collect();
            (keys.len() == 1).then(|| keys[0])
        }
    }
}

fn b64(key: &Value, field: &str) -> Result<Vec<u8>, Refused> {
    key[field]
        .as_str()
        .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        .ok_or_else(|| Refused::Malformed(format!("the provider's key has no usable {field}")))
}

/// Checks `parsed`'s signature with `key` (a JWK).
///
/// # Errors
/// [`Refused::Signature`] (or a malformed key).
pub fn verify_signature(parsed: &Parsed, key: &Value) -> Result<(), Refused> {
    let valid = if parsed.alg == "RS256" {
        use rsa::pkcs1v15::{Signature, VerifyingKey};
        use rsa::signature::Verifier as _;
        let n = rsa::BoxedUint::from_be_slice_vartime(&b64(key, "n")?);
        let e = rsa::BoxedUint::from_be_slice_vartime(&b64(key, "e")?);
        let key = rsa::PublicKey::new(n, e).map_err(|e| Refused::Malformed(format!("the provider's RSA key: {e}")))?;
        let signature = Signature::try_from(parsed.signature.as_slice()).map_err(|_| Refused::Signature)?;
        VerifyingKey::<sha2::Sha256>::new(key).verify(&parsed.signing_input, &signature).is_ok()
    } else {
        use p256::ecdsa::signature::Verifier as _;
        use p256::ecdsa::{Signature, VerifyingKey};
        if key["crv"] != "P-256" {
            return Err(Refused::Malformed("the provider's EC key is not on P-256".into()));
        }
        let mut point = vec![4u8];
        point.extend(b64(key, "x")?);
        point.extend(b64(key, "y")?);
        let key = VerifyingKey::from_sec1_bytes(&point)
            .map_err(|_| Refused::Malformed("the provider's EC key is not a P-256 point".into()))?;
        let signature = Signature::from_slice(&parsed.signature).map_err(|_| Refused::Signature)?;
        key.verify(&parsed.signing_input, &signature).is_ok()
    };
    if valid { Ok(()) } else { Err(Refused::Signature) }
}

/// What the claims must say.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The issuer.
    pub issuer: &'a str,
    /// Our client id.
    pub client_id: &'a str,
    /// The sign-in's nonce.
    pub nonce: &'a str,
    /// Now.
    pub now: OffsetDateTime,
}

/// Checks `claims` against `expected`.
///
/// # Errors
/// [`Refused::Claim`] naming the claim.
pub fn check_claims(claims: &Value, expected: &Expected<'_>) -> Result<(), Refused> {
    let claim = |m: &str| Err(Refused::Claim(m.to_owned()));
    if claims["iss"].as_str().map(|i| i.trim_end_matches('/')) != Some(expected.issuer.trim_end_matches('/')) {
        return claim("issuer is not the configured provider");
    }
    let audiences: Vec<&str> = match &claims["aud"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return claim("audience is not this application (oidc_client_id)");
    }
    if audiences.len() > 1 && claims["azp"].as_str() != Some(expected.client_id) {
        return claim("authorized party (azp) is not this application");
    }
    let now = expected.now.unix_timestamp();
    match claims["exp"].as_i64() {
        Some(exp) if exp + SKEW_SECONDS > now => {}
        Some(_) => return claim("has expired"),
        None => return claim("has no expiry"),
    }
    if claims["iat"].as_i64().is_some_and(|iat| iat > now + SKEW_SECONDS) {
        return claim("was issued in the future (check the clocks)");
    }
    if claims["nonce"].as_str() != Some(expected.nonce) {
        return claim("nonce is not this sign-in's (a replayed token?)");
    }
    if claims["sub"].as_str().is_none_or(str::is_empty) {
        return claim("has no subject");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn claims_are_checked_one_by_one() {
        let now = datetime!(2026-12-05 12:00 UTC);
        let good = json!({"iss": "https://idp.test/", "aud": "sp", "exp": now.unix_timestamp() + 300,
                          "iat": now.unix_timestamp(), "nonce": "n1", "sub": "u1"});
        let expected = Expected { issuer: "https://idp.test", client_id: "sp", nonce: "n1", now };
        assert_eq!(check_claims(&good, &expected), Ok(()));
        let cases = [
            ("iss", json!("https://evil.test"), "issuer"),
            ("aud", json!("other"), "audience"),
            ("aud", json!(["sp", "other"]), "authorized party"),
            ("exp", json!(now.unix_timestamp() - 61), "expired"),
            ("iat", json!(now.unix_timestamp() + 3600), "future"),
            ("nonce", json!("n2"), "nonce"),
            ("sub", json!(""), "subject"),
        ];
        for (field, value, expected_text) in cases {
            let mut claims = good.clone();
            claims[field] = value;
            let error = check_claims(&claims, &expected).expect_err(field).to_string();
            assert!(error.contains(expected_text), "{field}: {error}");
        }
        let mut skewed = good.clone();
        skewed["exp"] = json!(now.unix_timestamp() - 30);
        assert_eq!(check_claims(&skewed, &expected), Ok(()), "within the skew");
    }

    #[test]
    fn only_rs256_and_es256_tokens_parse() {
        let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let token = |alg: &str| format!("{}.{}.c2ln", part(json!({"alg": alg, "kid": "k"})), part(json!({"sub": "x"})));
        assert!(parse(&token("RS256")).is_ok());
        assert!(parse(&token("ES256")).is_ok());
        for alg in ["HS256", "none", "RS512"] {
            assert!(matches!(parse(&token(alg)), Err(Refused::Algorithm(_))), "{alg}");
        }
        assert!(matches!(parse("a.b"), Err(Refused::Malformed(_))));
        let jwks = json!({"keys": [{"kty": "RSA", "kid": "k", "n": "AQ", "e": "AQAB"}, {"kty": "EC", "kid": "e", "crv": "P-256"}]});
        assert!(find_key(&jwks, Some("k"), "RS256").is_some());
        assert!(find_key(&jwks, Some("k"), "ES256").is_none(), "the key type must fit the algorithm");
        assert!(find_key(&jwks, None, "ES256").is_some(), "one key of the type: no kid needed");
    }
}
