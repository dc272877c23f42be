//! Rate limits, counted in PostgreSQL (instances are stateless): fixed windows per
//! (limit, subject), one upsert per check.

use time::OffsetDateTime;

use crate::db::Db;
use crate::http::{ApiError, RateClass};
use crate::repo::rate_limits;

/// A limit: at most `max` hits per `window_secs` per subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Names the counter (`login:ip`).
    pub name: &'static str,
    /// Hits allowed per window.
    pub max: u32,
    /// Window length.
    pub window_secs: u32,
}

/// Sign-in attempts per client address.
pub const LOGIN_PER_IP: Limit = Limit { name: "login:ip", max: 30, window_secs: 900 };
/// Sign-in attempts per account (by e-mail, existing or not).
pub const LOGIN_PER_ACCOUNT: Limit = Limit { name: "login:account", max: 10, window_secs: 900 };
/// Password-reset requests per client address.
pub const RESET_PER_IP: Limit = Limit { name: "reset:ip", max: 10, window_secs: 3600 };
/// Password-reset requests per account.
pub const RESET_PER_ACCOUNT: Limit = Limit { name: "reset:account", max: 3, window_secs: 3600 };
/// Second-step codes per challenge are limited by the challenge itself; this bounds new accounts.
pub const REGISTER_PER_IP: Limit = Limit { name: "register:ip", max: 10, window_secs: 3600 };
/// Any authenticated request, per user or key.
pub const API_PER_PRINCIPAL: Limit = Limit { name: "api:principal", max: 600, window_secs: 60 };
/// Public subscription requests (sign-ups, manage links) per client address.
pub const SUBSCRIBE_PER_IP: Limit = Limit { name: "subscribe:ip", max: 10, window_secs: 3600 };
/// Any state-changing request, per client address.
pub const API_WRITES_PER_IP: Limit = Limit { name: "api-writes:ip", max: 120, window_secs: 60 };
/// Incoming monitoring webhooks, per client address (instead of the write limit).
pub const WEBHOOKS_PER_IP: Limit = Limit { name: "webhooks:ip", max: 1200, window_secs: 60 };
/// Incoming monitoring webhooks, per integration.
pub const WEBHOOKS_PER_INTEGRATION: Limit = Limit { name: "webhooks:integration", max: 600, window_secs: 60 };

/// Every limit, by the key that configures it (`rate_limits = "key=max,..."`), with its
/// default.
pub const CONFIGURABLE: &[(&str, Limit)] = &[
    ("sign_in_per_account", LOGIN_PER_ACCOUNT),
    ("sign_in_per_address", LOGIN_PER_IP),
    ("reset_per_account", RESET_PER_ACCOUNT),
    ("reset_per_address", RESET_PER_IP),
    ("sign_up_per_address", REGISTER_PER_IP),
    ("subscribe_per_address", SUBSCRIBE_PER_IP),
    ("authenticated_per_principal", API_PER_PRINCIPAL),
    ("writes_per_address", API_WRITES_PER_IP),
    ("webhooks_per_address", WEBHOOKS_PER_IP),
    ("webhooks_per_integration", WEBHOOKS_PER_INTEGRATION),
];

/// The limits as configured: the defaults, with the maxima `rate_limits` overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimits {
    overrides: Vec<(&'static str, u32)>,
}

impl RateLimits {
    /// Reads `key=max,key=max` (keys of [`CONFIGURABLE`]; each max a whole number from 1).
    ///
    /// # Errors
    /// A message naming the pair that is wrong.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut overrides = Vec::new();
        for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, max) = pair.split_once('=').ok_or_else(|| format!("{pair:?} is not key=max"))?;
            let (_, limit) = CONFIGURABLE.iter().find(|(k, _)| *k == key.trim()).ok_or_else(|| {
                let keys: Vec<&str> = CONFIGURABLE.iter().map(|(k, _)| *k).collect();
                format!("{:?} is not a limit; the limits are {}", key.trim(), keys.join(", "))
            })?;
            let max: u32 = max
                .trim()
                .parse()
                .ok()
                .filter(|m| *m >= 1)
                .ok_or_else(|| format!("{pair:?}: the max must be a whole number from 1"))?;
            overrides.push((limit.name, max));
        }
        Ok(Self { overrides })
    }

    /// `limit` as configured.
    #[must_use]
    pub fn get(&self, limit: Limit) -> Limit {
        let max = self.overrides.iter().rev().find(|(name, _)| *name == limit.name).map_or(limit.max, |(_, max)| *max);
        Limit { max, ..limit }
    }
}

/// The per-address limits the pipeline counts for a route of `class`, before its handler runs
/// (per-account and per-principal limits need the body or the credentials, so handlers and
/// authentication count those).
#[must_use]
pub const fn per_address(class: RateClass) -> &'static [Limit] {
    match class {
        RateClass::PublicRead | RateClass::Authenticated => &[],
        RateClass::StateChanging => &[API_WRITES_PER_IP],
        RateClass::SignIn => &[API_WRITES_PER_IP, LOGIN_PER_IP],
        RateClass::Registration => &[API_WRITES_PER_IP, REGISTER_PER_IP],
        RateClass::PasswordReset => &[API_WRITES_PER_IP, RESET_PER_IP],
        RateClass::Subscription => &[API_WRITES_PER_IP, SUBSCRIBE_PER_IP],
        RateClass::Webhook => &[WEBHOOKS_PER_IP],
    }
}

/// Counts one hit of `subject` against `limit` at `now`.
///
/// # Errors
/// 429 `rate_limited` with the seconds until the window resets; database errors.
pub fn check(db: &dyn Db, limit: Limit, subject: &str, now: OffsetDateTime) -> Result<(), ApiError> {
    let window = i32::try_from(limit.window_secs).unwrap_or(i32::MAX);
    let counter = rate_limits::hit(db, &format!("{}:{subject}", limit.name), window, now)?;
    if counter.hits > i64::from(limit.max) {
        return Err(ApiError::TooManyRequests {
            retry_after: u64::try_from(counter.reset_in.max(1)).unwrap_or(1),
            limit: limit.max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_configured_by_key_and_keep_their_windows() {
        let limits = RateLimits::parse("writes_per_address=500, sign_in_per_address = 5").expect("parses");
        assert_eq!(limits.get(API_WRITES_PER_IP), Limit { max: 500, ..API_WRITES_PER_IP });
        assert_eq!(limits.get(LOGIN_PER_IP).max, 5);
        assert_eq!(limits.get(LOGIN_PER_ACCOUNT), LOGIN_PER_ACCOUNT, "not named: the default");
        assert!(RateLimits::parse("writes=5").is_err_and(|e| e.contains("the limits are sign_in_per_account")));
        assert!(RateLimits::parse("writes_per_address=0").is_err());
        assert!(RateLimits::parse("writes_per_address").is_err());
        assert_eq!(RateLimits::parse(""), Ok(RateLimits::default()));
    }

    #[test]
    fn each_class_counts_its_limits_per_address() {
        let names = |class| per_address(class).iter().map(|l| l.name).collect::<Vec<_>>();
        assert!(names(RateClass::PublicRead).is_empty(), "public reads touch no counter");
        assert!(names(RateClass::Authenticated).is_empty());
        assert_eq!(names(RateClass::StateChanging), ["api-writes:ip"]);
        assert_eq!(names(RateClass::SignIn), ["api-writes:ip", "login:ip"]);
        assert_eq!(names(RateClass::Registration), ["api-writes:ip", "register:ip"]);
        assert_eq!(names(RateClass::PasswordReset), ["api-writes:ip", "reset:ip"]);
        assert_eq!(names(RateClass::Webhook), ["webhooks:ip"], "monitoring bursts are not held to the write limit");
    }
}
