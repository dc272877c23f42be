//! Rate limits, counted in PostgreSQL (instances are stateless): fixed windows per
//! (limit, subject), one upsert per check.

use serde::Deserialize;

use crate::db::{Db, DbExt, Param};
use crate::http::ApiError;

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
/// Any state-changing request, per client address.
pub const API_WRITES_PER_IP: Limit = Limit { name: "api-writes:ip", max: 120, window_secs: 60 };

#[derive(Deserialize)]
struct Counter {
    hits: i64,
    reset_in: i64,
}

/// Counts one hit of `subject` against `limit`.
///
/// # Errors
/// 429 `rate_limited` with the seconds until the window resets; database errors.
pub fn check(db: &dyn Db, limit: Limit, subject: &str) -> Result<(), ApiError> {
    let counter: Counter = db.query_as(
        "with hit as (
             insert into rate_limits as r (key, window_started_at, hits) values ($1, now(), 1)
             on conflict (key) do update set
                 hits = case when r.window_started_at <= now() - $2::int4 * interval '1 second'
                             then 1 else r.hits + 1 end,
                 window_started_at = case when r.window_started_at <= now() - $2::int4 * interval '1 second'
                                          then now() else r.window_started_at end
             returning hits, window_started_at)
         select jsonb_build_object(
             'hits', hits,
             'reset_in', ceil(extract(epoch from window_started_at + $2::int4 * interval '1 second' - now()))::int8)
         from hit",
        &[
            format!("{}:{subject}", limit.name).into(),
            Param::Int32(i32::try_from(limit.window_secs).unwrap_or(i32::MAX)),
        ],
    )?;
    if counter.hits > i64::from(limit.max) {
        return Err(ApiError::TooManyRequests {
            retry_after: u64::try_from(counter.reset_in.max(1)).unwrap_or(1),
            limit: limit.max,
        });
    }
    Ok(())
}
