//! The daily housekeeping: claimed once per UTC day, it removes what has expired,
//! prunes delivered notifications after the retention, and rolls each service's past days up
//! from its status log; the uptime report and the page's bars read those roll-ups.

use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::support::TestApp;

async fn tick(app: &TestApp, at: OffsetDateTime) {
    app.set_now(at);
    app.run_cron(u64::try_from(at.unix_timestamp()).expect("after 1970")).await.expect("the tick runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_tick_of_a_day_cleans_up_once_and_rolls_up_what_reports_and_bars_read() {
    let app = TestApp::spawn_with(crate::support::TestDb::migrated(), &[("outbox_retention_days", "30")]).await;
    let t0 = datetime!(2030-01-10 10:00 UTC);
    app.set_now(t0);
    let admin = app.admin().await;
    app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    // (Hours pass: an API key outlives the access token.)
    let key = app
        .create(&admin, "/api/v1/api-keys", json!({"name": "ops", "role": "admin", "scopes": ["catalog:write"]}))
        .await;
    let admin = key["secret"].as_str().expect("key").to_owned();
    for (at, status) in
        [(t0 + time::Duration::hours(1), "major_outage"), (t0 + time::Duration::hours(3), "operational")]
    {
        app.set_now(at);
        let changed = app.call("PATCH", "/api/v1/services/api", Some(&admin), Some(&json!({"status": status}))).await;
        assert_eq!(changed.status, 200, "{}", changed.text());
    }
    // What has expired, or is past the retention, next to what has not.
    app.db.exec(
        "insert into sessions (family_id, user_id, token_hash, created_at, expires_at)
             select gen_random_uuid(), id, 'old-' || id, '2029-12-01', '2030-01-02' from users limit 1;
         insert into rate_limits (key, window_started_at, hits) values ('old', '2030-01-01', 3), ('fresh', '2030-01-10 23:59', 1);
         insert into channels (type, target, created_at, updated_at) values ('email', 'never-confirmed@example.test', '2029-12-20', '2029-12-20');
         insert into channels (type, target, created_at, updated_at, verified_at) values ('email', 'confirmed@example.test', '2029-12-20', '2029-12-20', '2029-12-20');
         insert into notification_messages (id, kind, payload, created_at) values ('00000000-0000-0000-0000-00000000aaaa', 'incident_created', '{}', '2029-11-01');
         insert into notification_outbox (kind, channel, recipient, payload, status, message_id, next_attempt_at, created_at, updated_at)
             values ('incident_created', 'email', 'a@example.test', '{}', 'sent', '00000000-0000-0000-0000-00000000aaaa', '2029-11-01', '2029-11-01', '2029-11-01'),
                    ('incident_created', 'email', 'b@example.test', '{}', 'sent', null, '2030-01-09', '2030-01-09', '2030-01-09'),
                    ('incident_created', 'email', 'c@example.test', '{}', 'pending', null, '2029-11-01', '2029-11-01', '2029-11-01');",
    );

    tick(&app, datetime!(2030-01-11 00:00 UTC)).await;
    let report =
        app.db.json("select details -> 'housekeeping' from scheduler_runs where scheduled_at = '2030-01-11 00:00Z'");
    assert_eq!(report["removed"]["sessions"], 1, "{report}");
    assert_eq!(report["removed"]["rate_limit_windows"], 1, "{report}");
    assert_eq!(report["removed"]["unconfirmed_subscribers"], 1, "{report}");
    assert_eq!(report["removed"]["outbox_rows"], 1, "only the sent row past the retention: {report}");
    assert_eq!(report["removed"]["notification_messages"], 1, "{report}");
    assert_eq!(report["rolled_up_days"], 1, "{report}");
    let left = app.db.json(
        "select jsonb_build_object(
             'limits', (select jsonb_agg(key order by key) from rate_limits where key in ('old', 'fresh')),
             'channels', (select jsonb_agg(target order by target) from channels),
             'outbox', (select jsonb_agg(recipient order by recipient) from notification_outbox))",
    );
    assert_eq!(
        left,
        json!({"limits": ["fresh"], "channels": ["confirmed@example.test"], "outbox": ["b@example.test", "c@example.test"]})
    );

    // The day the service was created: observed from ten, down from eleven to one.
    let rolled = app
        .db
        .json("select jsonb_agg(jsonb_build_object('day', d.day, 'seconds', d.seconds)) from service_uptime_days d");
    assert_eq!(
        rolled,
        json!([{"day": "2030-01-10", "seconds": {"operational": 43_200, "degraded": 0, "partial_outage": 0, "major_outage": 7200, "maintenance": 0}}])
    );

    // Once a day: the next ticks of the day leave it alone.
    tick(&app, datetime!(2030-01-11 00:01 UTC)).await;
    let second =
        app.db.json("select details -> 'housekeeping' from scheduler_runs where scheduled_at = '2030-01-11 00:01Z'");
    assert_eq!(second, json!(null));

    // The report and the bars read the roll-up for that day (shown by changing it).
    app.db.exec(
        "update service_uptime_days set seconds = '{\"operational\": 0, \"degraded\": 0, \"partial_outage\": 0, \"major_outage\": 50400, \"maintenance\": 0}',
                                        rolled_at = '2030-01-11 00:02Z'",
    );
    tick(&app, datetime!(2030-01-11 00:02 UTC)).await;
    let days = app.get("/api/v1/services/api/uptime?from=2030-01-10&to=2030-01-10").await;
    assert_eq!(days.status, 200, "{}", days.text());
    assert_eq!(days.json()["data"]["buckets"][0]["seconds"]["major_outage"], 50_400);
    let page = app.get("/").await.text();
    assert!(page.contains("2030-01-10: 0% uptime"), "the bar of that day comes from the roll-up");
}
