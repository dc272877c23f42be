//! SQL for the fixed-window rate-limit counters.

use serde::Deserialize;
use time::OffsetDateTime;

use crate::db::{Db, DbError, DbExt, Param};

/// A counter after one hit.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Counter {
    /// Hits in the current window, this one included.
    pub hits: i64,
    /// Seconds until the window resets.
    pub reset_in: i64,
}

/// Counts one hit on counter `key` at `now`, with windows of `window_secs` (a past window is
/// overwritten in place).
///
/// # Errors
/// Database errors.
pub fn hit(db: &dyn Db, key: &str, window_secs: i32, now: OffsetDateTime) -> Result<Counter, DbError> {
    db.query_as(
        "with hit as (
             insert into rate_limits as r (key, window_started_at, hits) values ($1, $3::text::timestamptz, 1)
             on conflict (key) do update set
                 hits = case when r.window_started_at <= $3::text::timestamptz - $2::int4 * interval '1 second'
                             then 1 else r.hits + 1 end,
                 window_started_at = case when r.window_started_at <= $3::text::timestamptz - $2::int4 * interval '1 second'
                                          then $3::text::timestamptz else r.window_started_at end
             returning hits, window_started_at)
         select jsonb_build_object(
             'hits', hits,
             'reset_in', ceil(extract(epoch from window_started_at + $2::int4 * interval '1 second'
                                                 - $3::text::timestamptz))::int8)
         from hit",
        &[key.into(), Param::Int32(window_secs), now.into()],
    )
}
