//! Identity and access: roles and scopes, the authorization policy, principals from
//! bearer credentials, passwords, tokens, TOTP, rate limits. Every component uses these through
//! [`crate::app::Ctx::require`].

pub mod password;
mod policy;
mod principal;
pub mod ratelimit;
mod role;
pub mod tokens;
pub mod totp;

pub use policy::{Action, Denied, authorize};
pub use principal::{API_KEY_MARK, Principal, authenticate};
pub use role::{Role, Scope};
