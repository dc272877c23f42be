//! Schema migrations: plain SQL files in `migrations/`, forward-only, embedded at build time and
//! applied by whichever instance gets there first.
//!
//! There is no deploy hook under Spin, so every instance can apply them: `/readyz` (the
//! orchestrator's readiness probe gates traffic on it), each scheduler tick, and any request that
//! trips over a missing table. [`ensure_schema`] takes a fast path (one read) when the schema is
//! current; otherwise it applies everything pending in **one transaction** under a
//! transaction-scoped advisory lock, so concurrent instances serialise, each file applies exactly
//! once, and a lock can never leak into Spin's connection pool.

mod split;

pub use split::split_statements;

use serde::Deserialize;

use crate::db::{Db, DbError, DbExt, Param, transaction};

/// One migration file.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its number (`0001_...` is 1).
    pub version: i32,
    /// Its file name without `.sql`.
    pub name: &'static str,
    /// Its SQL.
    pub sql: &'static str,
}

/// Every migration, in order. A test checks that this list matches `migrations/`.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "0001_foundation", sql: include_str!("../../../../migrations/0001_foundation.sql") },
    Migration { version: 2, name: "0002_identity", sql: include_str!("../../../../migrations/0002_identity.sql") },
    Migration { version: 3, name: "0003_catalog", sql: include_str!("../../../../migrations/0003_catalog.sql") },
    Migration { version: 4, name: "0004_events", sql: include_str!("../../../../migrations/0004_events.sql") },
    Migration {
        version: 5,
        name: "0005_compatibility",
        sql: include_str!("../../../../migrations/0005_compatibility.sql"),
    },
    Migration { version: 6, name: "0006_public", sql: include_str!("../../../../migrations/0006_public.sql") },
    Migration {
        version: 7,
        name: "0007_notifications",
        sql: include_str!("../../../../migrations/0007_notifications.sql"),
    },
    Migration { version: 8, name: "0008_automation", sql: include_str!("../../../../migrations/0008_automation.sql") },
    Migration {
        version: 9,
        name: "0009_integrations",
        sql: include_str!("../../../../migrations/0009_integrations.sql"),
    },
    Migration {
        version: 10,
        name: "0010_housekeeping",
        sql: include_str!("../../../../migrations/0010_housekeeping.sql"),
    },
    Migration { version: 11, name: "0011_sso", sql: include_str!("../../../../migrations/0011_sso.sql") },
    Migration { version: 12, name: "0012_metrics", sql: include_str!("../../../../migrations/0012_metrics.sql") },
];

/// The development seed (the three documented accounts and a demo catalog), applied when
/// `dev_seed=true`.
pub const DEV_SEED: &str = include_str!("../../../../migrations/dev_seed.sql");

/// Key of the advisory lock that serialises migration runners (`'stpg'` in ASCII).
const LOCK_KEY: i64 = 0x7374_7067;

/// What [`ensure_schema`] found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Newest applied migration.
    pub version: i32,
    /// Migrations this call applied (empty when the schema was current).
    pub applied: Vec<i32>,
    /// Whether the development seed is present.
    pub seeded: bool,
}

/// The newest migration this build knows.
#[must_use]
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[derive(Deserialize)]
struct Current {
    version: i32,
    seeded: bool,
}

/// Brings the schema up to date (and applies the development seed when `dev_seed`).
///
/// # Errors
/// The database error of the statement that failed; nothing of that run is kept.
pub fn ensure_schema(db: &dyn Db, dev_seed: bool) -> Result<SchemaStatus, DbError> {
    match read_current(db) {
        Ok(current) if current.version >= latest_version() && (current.seeded || !dev_seed) => {
            return Ok(SchemaStatus { version: current.version, applied: Vec::new(), seeded: current.seeded });
        }
        Ok(_) => {}
        Err(e) if e.is_schema_missing() => {}
        Err(e) => return Err(e),
    }
    transaction(db, |db| apply_pending(db, dev_seed))
}

fn read_current(db: &dyn Db) -> Result<Current, DbError> {
    db.query_as(
        "select jsonb_build_object(
             'version', (select coalesce(max(version), 0) from schema_migrations),
             'seeded', exists (select 1 from schema_seeds where name = 'dev_seed'))",
        &[],
    )
}

fn apply_pending(db: &dyn Db, dev_seed: bool) -> Result<SchemaStatus, DbError> {
    // `execute` ignores the void result row of the lock function.
    db.execute("select pg_advisory_xact_lock($1)", &[Param::Int64(LOCK_KEY)])?;
    db.execute(
        "create table if not exists schema_migrations (
             version    integer     not null primary key,
             name       text        not null,
             applied_at timestamptz not null default now())",
        &[],
    )?;
    db.execute(
        "create table if not exists schema_seeds (
             name       text        not null primary key,
             applied_at timestamptz not null default now())",
        &[],
    )?;
    let done: Vec<i32> =
        db.query_as("select coalesce(jsonb_agg(version order by version), '[]') from schema_migrations", &[])?;
    let mut applied = Vec::new();
    for migration in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        for statement in split_statements(migration.sql) {
            db.execute(statement, &[]).map_err(|e| in_migration(migration.name, e))?;
        }
        db.execute(
            "insert into schema_migrations (version, name) values ($1, $2)",
            &[Param::Int32(migration.version), migration.name.into()],
        )?;
        applied.push(migration.version);
    }
    let mut seeded: bool =
        db.query_as("select to_jsonb(exists (select 1 from schema_seeds where name = 'dev_seed'))", &[])?;
    if dev_seed && !seeded {
        for statement in split_statements(DEV_SEED) {
            db.execute(statement, &[]).map_err(|e| in_migration("dev_seed", e))?;
        }
        db.execute("insert into schema_seeds (name) values ('dev_seed')", &[])?;
        seeded = true;
    }
    Ok(SchemaStatus { version: latest_version(), applied, seeded })
}

fn in_migration(name: &str, error: DbError) -> DbError {
    match error {
        DbError::Query { state, constraint, message } => {
            DbError::Query { state, constraint, message: format!("in migration {name}: {message}") }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list_matches_the_migrations_directory() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations directory")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".sql") && n.as_bytes()[0].is_ascii_digit())
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = MIGRATIONS.iter().map(|m| format!("{}.sql", m.name)).collect();
        assert_eq!(embedded, on_disk, "add new migration files to MIGRATIONS");
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(usize::try_from(m.version).ok(), Some(i + 1), "{} is numbered in sequence", m.name);
            assert!(m.name.starts_with(&format!("{:04}_", m.version)), "{} matches its version", m.name);
        }
    }

    #[test]
    fn migrations_manage_no_transactions_of_their_own() {
        for m in MIGRATIONS {
            for statement in split_statements(m.sql) {
                let first = statement.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
                assert!(!["begin", "commit", "rollback", "start"].contains(&first.as_str()), "{}: {statement}", m.name);
            }
        }
    }
}
