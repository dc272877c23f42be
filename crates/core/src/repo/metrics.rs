//! SQL for `/metrics`: counters, and the state the gauges are read from.

use crate::db::{Db, DbError, DbExt, Param};

/// Adds `by` to counter `name` with `labels` (Prometheus label text, already escaped).
///
/// # Errors
/// Database errors.
pub fn add(db: &dyn Db, name: &str, labels: &str, by: i64) -> Result<(), DbError> {
    db.execute(
        "insert into metric_counters (name, labels, value) values ($1, $2, $3)
         on conflict (name, labels) do update set value = metric_counters.value + excluded.value",
        &[name.into(), labels.into(), Param::Int64(by)],
    )?;
    Ok(())
}

/// A counter's value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Counter {
    /// Its name.
    pub name: String,
    /// Its label text.
    pub labels: String,
    /// Its value.
    pub value: i64,
}

/// A count by labels.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Count {
    /// The first label's value.
    pub a: String,
    /// The second's (empty for one label).
    #[serde(default)]
    pub b: String,
    /// How many.
    pub n: i64,
}

/// What the gauges show, read in one statement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct State {
    /// Events by type and status.
    pub events: Vec<Count>,
    /// Live services by effective status.
    pub services: Vec<Count>,
    /// Deliveries in the outbox by channel and status.
    pub deliveries: Vec<Count>,
    /// Deliveries waiting (pending or being sent).
    pub queue_depth: i64,
    /// Seconds the oldest waiting delivery has waited.
    pub oldest_pending_seconds: i64,
    /// The last claimed tick, Unix seconds (0: none).
    pub last_tick: i64,
    /// Every counter.
    pub counters: Vec<Counter>,
}

/// The state at `now`.
///
/// # Errors
/// Database errors.
pub fn state(db: &dyn Db, now: time::OffsetDateTime) -> Result<State, DbError> {
    db.query_as(
        "select jsonb_build_object(
            'events', coalesce((select jsonb_agg(jsonb_build_object('a', type, 'b', status, 'n', n) order by type, status)
                                from (select type, status, count(*) as n from events group by type, status) e), '[]'::jsonb),
            'services', coalesce((select jsonb_agg(jsonb_build_object('a', status, 'n', n) order by status)
                                  from (select service_effective_status(id, status) as status, count(*) as n
                                        from services where archived_at is null group by 1) s), '[]'::jsonb),
            'deliveries', coalesce((select jsonb_agg(jsonb_build_object('a', channel, 'b', status, 'n', n) order by channel, status)
                                    from (select channel, status, count(*) as n from notification_outbox group by channel, status) d),
                                   '[]'::jsonb),
            'queue_depth', (select count(*) from notification_outbox where status in ('pending', 'sending')),
            'oldest_pending_seconds', coalesce((select extract(epoch from $1::text::timestamptz - min(created_at))::bigint
                                                from notification_outbox where status in ('pending', 'sending')), 0),
            'last_tick', coalesce((select extract(epoch from max(scheduled_at))::bigint from scheduler_runs), 0),
            'counters', coalesce((select jsonb_agg(jsonb_build_object('name', name, 'labels', labels, 'value', value)
                                                   order by name, labels) from metric_counters), '[]'::jsonb))",
        &[now.into()],
    )
}
