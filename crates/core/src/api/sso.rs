//! `/api/v1/auth/oidc/*`: single sign-on with OpenID Connect. `login` sends the
//! person to the provider; the provider sends them back to `callback`, which answers as a
//! password sign-in does (`{user, tokens}`), or with an error a person can read.

use crate::api::auth::signed_in;
use crate::app::Ctx;
use crate::http::{ApiError, Response};
use crate::sso::flow::{self, Callback};
use crate::sso::{SsoError, accounts};

/// `GET /api/v1/auth/oidc/login`: 302 to the provider's authorization endpoint.
///
/// # Errors
/// 404 when SSO is off; 424 when the provider's discovery document cannot be had.
pub fn login(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let config = ctx.config()?;
    let oidc = config.oidc.as_ref().ok_or(SsoError::Off)?;
    let url = flow::begin(ctx.db()?, ctx.env.http(), oidc, ctx.now)?;
    Ok(Response::with_body(302, "text/plain; charset=utf-8", format!("Sign in at {url}\n").into_bytes())
        .with_header("location", url)
        .with_header("cache-control", "no-store"))
}

/// `GET /api/v1/auth/oidc/callback?code=&state=` (or `?error=&state=`): signs the person in.
///
/// # Errors
/// 404 when SSO is off; 400 `sso_state_invalid` for a state that is unknown, spent or expired;
/// 403 when the provider denied the sign-in or the person may not sign in here; 401 when the
/// provider's answer is refused (a tampered, expired or foreign ID token); 424 when the
/// provider is down.
pub fn callback(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let config = ctx.config()?;
    let oidc = config.oidc.as_ref().ok_or(SsoError::Off)?;
    let query = |name| ctx.request.query_param(name);
    let answer = Callback {
        code: query("code"),
        state: query("state"),
        error: query("error"),
        error_description: query("error_description"),
    };
    let identity = flow::finish(ctx.db()?, ctx.env.http(), oidc, &answer, ctx.now)?;
    let origin = ctx.origin();
    let user = ctx.write(|db| Ok(accounts::sign_in(db, oidc, &identity, &origin, ctx.now)?))?;
    signed_in(ctx, &user, "sso")
}
