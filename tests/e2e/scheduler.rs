//! The scheduler's cron export, triggered at chosen times.

use serde_json::json;

use crate::support::{TestApp, TestDb};

/// 2026-11-25T12:00:00Z.
const NOON: u64 = 1_795_608_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_run_on_an_empty_database_migrates_and_records_its_tick() {
    let app = TestApp::spawn_with(TestDb::empty(), &[]).await;
    app.run_cron(NOON).await.expect("cron run");
    assert_eq!(
        app.db.json(
            "select jsonb_agg(jsonb_build_object('at', rfc3339(scheduled_at), 'details',
                                                 details - 'published' - 'deliveries' - 'maintenance' - 'housekeeping'))
             from scheduler_runs"
        ),
        json!([{"at": "2026-11-25T12:00:00.000Z", "details": {"pruned_runs": 0, "digests": 0, "alerts": [], "errors": []}}])
    );
    assert_eq!(app.db.json("select details -> 'deliveries' -> 'claimed' from scheduler_runs"), json!(0));
    let published = app.db.json("select details -> 'published' from scheduler_runs");
    assert_eq!(published["events_rendered"], 0, "{published}");
    assert!(published["documents_written"].as_u64().is_some_and(|n| n >= 14), "the page-wide documents: {published}");
    let lines = app.logs();
    assert!(lines.iter().any(|l| l.contains("\"tick done\"") && l.contains("\"claimed\":true")), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_is_claimed_once_however_often_it_fires() {
    let app = TestApp::spawn().await;
    let runs: Vec<_> = (0..4).map(|_| app.run_cron(NOON)).collect();
    for result in futures_util::future::join_all(runs).await {
        result.expect("every run succeeds");
    }
    app.run_cron(NOON + 60).await.expect("next tick");
    assert_eq!(app.db.json("select to_jsonb(count(*)) from scheduler_runs"), json!(2));
    let claimed = app.logs().iter().filter(|l| l.contains("\"claimed\":true")).count();
    assert_eq!(claimed, 2, "one claim per tick");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_prunes_runs_older_than_thirty_days() {
    let app = TestApp::spawn().await;
    app.db.exec(
        "insert into scheduler_runs (scheduled_at) values
             ('2026-10-25T11:59:00Z'), ('2026-10-26T12:00:00Z'), ('2026-11-25T11:59:00Z')",
    );
    app.run_cron(NOON).await.expect("cron run");
    assert_eq!(
        app.db.json("select jsonb_agg(rfc3339(scheduled_at) order by scheduled_at) from scheduler_runs"),
        json!(["2026-10-26T12:00:00.000Z", "2026-11-25T11:59:00.000Z", "2026-11-25T12:00:00.000Z"])
    );
    assert_eq!(
        app.db.json("select details -> 'pruned_runs' from scheduler_runs where scheduled_at = '2026-11-25T12:00:00Z'"),
        json!(1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_cron_run_reports_its_error() {
    let app =
        TestApp::spawn_with(TestDb::empty(), &[("db_url", "postgres://postgres@127.0.0.1:1/none?sslmode=disable")])
            .await;
    let error = app.run_cron(NOON).await.expect_err("the database is unreachable").to_string();
    assert!(error.contains("scheduler failed") && error.contains("the database is unavailable: "), "{error}");
}
