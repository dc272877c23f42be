//! The core's SQL against real PostgreSQL through the native adapter: migrations under
//! concurrency, transactions, the constraint registry, the one-row rule.

mod common;

use std::sync::Arc;

use common::Fresh;
use statuspage_core::db::{Db, DbError, DbExt, NativeDb, Param, transaction};
use statuspage_core::error::{Error, OnConstraint};
use statuspage_core::http::ApiError;
use statuspage_core::migrate::{ensure_schema, latest_version};
use statuspage_core::repo::MAPPED_CONSTRAINTS;

#[test]
fn concurrent_runners_apply_each_migration_exactly_once() {
    let fresh = Arc::new(Fresh::new());
    let runners: Vec<_> = (0..6)
        .map(|_| {
            let fresh = fresh.clone();
            std::thread::spawn(move || ensure_schema(&fresh.connect(), false).expect("migration run"))
        })
        .collect();
    let statuses: Vec<_> = runners.into_iter().map(|r| r.join().expect("runner")).collect();
    assert_eq!(statuses.iter().filter(|s| !s.applied.is_empty()).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| s.version == latest_version()));
    let db = fresh.connect();
    let versions: Vec<i32> = db
        .query_as("select coalesce(jsonb_agg(version order by version), '[]') from schema_migrations", &[])
        .expect("read");
    assert_eq!(versions, (1..=latest_version()).collect::<Vec<_>>());
}

#[test]
fn a_current_schema_takes_the_fast_path_and_the_seed_applies_once() {
    let fresh = Fresh::new();
    let db = fresh.connect();
    assert_eq!(ensure_schema(&db, false).expect("first").applied, (1..=latest_version()).collect::<Vec<_>>());
    let again = ensure_schema(&db, false).expect("second");
    assert!(again.applied.is_empty() && !again.seeded);
    assert!(ensure_schema(&db, true).expect("seed").seeded);
    assert!(ensure_schema(&db, true).expect("seed again").seeded);
    let users: i64 = db.query_as("select to_jsonb(count(*)) from users", &[]).expect("count");
    assert_eq!(users, 3);
}

#[test]
fn a_failed_migration_run_keeps_nothing() {
    let fresh = Fresh::new();
    let db = fresh.connect();
    // A table the first migration creates already exists: the run must fail and roll back whole.
    db.execute("create table services (id int)", &[]).expect("conflicting table");
    let error = ensure_schema(&db, false).expect_err("the migration collides");
    assert!(error.to_string().contains("0001_foundation"), "{error}");
    let tables: i64 = db
        .query_as("select to_jsonb(count(*)) from pg_tables where schemaname = 'public' and tablename in ('users', 'schema_migrations')", &[])
        .expect("count");
    assert_eq!(tables, 0);
}

#[test]
fn transactions_commit_on_ok_and_roll_back_on_err() {
    let fresh = Fresh::new();
    let db = fresh.connect();
    ensure_schema(&db, false).expect("schema");
    let insert = |db: &NativeDb, slug: &str| {
        db.execute("insert into groups (name, slug) values ($1, $1)", &[Param::Text(slug.into())])
    };
    transaction(&db, |db| insert(db, "kept")).expect("commit");
    let failed: Result<(), ApiError> = transaction(&db, |db| {
        insert(db, "dropped")?;
        Err(ApiError::Conflict { code: "test", message: "abort".into() })
    });
    assert!(failed.is_err());
    let slugs: Vec<String> =
        db.query_as("select coalesce(jsonb_agg(slug order by slug), '[]') from groups", &[]).expect("read");
    assert_eq!(slugs, ["kept"]);
    // No transaction is left open: SAVEPOINT works only inside one (SQLSTATE 25P01 outside).
    let outside = db.execute("savepoint probe", &[]).expect_err("no open transaction");
    assert_eq!(outside.sql_state().map(|s| s.0.as_str()), Some("25P01"));
}

#[test]
fn every_mapped_constraint_exists_and_only_the_call_site_makes_it_a_conflict() {
    let fresh = Fresh::new();
    let db = fresh.connect();
    ensure_schema(&db, false).expect("schema");
    let names: Vec<String> = db
        .query_as(
            "select coalesce(jsonb_agg(name), '[]') from (
                 select conname as name from pg_constraint union select indexname from pg_indexes) n",
            &[],
        )
        .expect("names");
    for constraint in MAPPED_CONSTRAINTS {
        assert!(names.iter().any(|n| n == constraint), "{constraint} is not created by any migration");
    }
    db.execute("insert into services (name, slug) values ('A', 'a')", &[]).expect("first");
    let insert = || db.execute("insert into services (name, slug) values ('B', 'a')", &[]);
    let duplicate = insert().expect_err("duplicate");
    assert_eq!(duplicate.constraint(), Some("services_slug_key"));
    assert_eq!(ApiError::from(duplicate).status(), 500, "no blanket rule makes a violation the client's conflict");
    let mapped = insert().on_constraint("services_slug_key", || Error::conflict("slug_taken", "taken"));
    assert_eq!(ApiError::from(mapped.expect_err("duplicate")).status(), 409);
}

#[test]
fn reads_must_return_exactly_one_jsonb_row() {
    let fresh = Fresh::new();
    let db = fresh.connect();
    for sql in ["select 1::int4 where false", "select to_jsonb(1) union all select to_jsonb(2)", "select 1::int4"] {
        assert!(matches!(db.query_json(sql, &[]), Err(DbError::Shape(_))), "{sql}");
    }
    assert_eq!(db.query_json("select (select to_jsonb(1) where false)", &[]).expect("null"), serde_json::Value::Null);
}

#[test]
fn null_parameters_bind_to_any_type_as_under_spin() {
    let fresh = Fresh::new();
    let db = fresh.connect();
    let value: serde_json::Value = db
        .query_as(
            "select jsonb_build_array($1::uuid, $2::int8, $3::jsonb, $4::text)",
            &[Param::Null, Param::Null, Param::Null, Param::Null],
        )
        .expect("binds");
    assert_eq!(value, serde_json::json!([null, null, null, null]));
    let wrong = db.query_json("select to_jsonb($1::int8)", &[Param::Int32(1)]);
    assert!(wrong.is_err(), "Int32 does not bind to int8, as under Spin");
}
