//! Maintenance that runs itself: the clock is driven through whole windows with the
//! scheduler's ticks, including ticks that overlap, a skipped tick, a wholly missed window and
//! a window across a daylight-saving change, and each test asserts the statuses, the status
//! log, the timeline and the exact notifications.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::notifications::{Stack, stack, verified_email};
use crate::support::{TestApp, field_errors};

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).expect("formats")
}

/// Runs the scheduler at `at` (the components' clock there too).
async fn tick(app: &TestApp, at: OffsetDateTime) {
    app.set_now(at);
    app.run_cron(u64::try_from(at.unix_timestamp()).expect("after 1970")).await.expect("the tick runs");
}

/// The subjects of every e-mail to `address`, in the order the relay received them.
fn subjects_to(stack: &Stack, address: &str) -> Vec<String> {
    stack
        .relay
        .requests()
        .iter()
        .map(|r| r.json())
        .filter(|b| {
            b["personalizations"].as_array().is_some_and(|ps| ps.iter().any(|p| p["to"][0]["email"] == address))
        })
        .map(|b| b["subject"].as_str().unwrap_or_default().to_owned())
        .filter(|s| !s.contains("verification code"))
        .collect()
}

/// Waits for the request's own delivery run, then answers the subjects.
async fn settled_subjects(stack: &Stack, address: &str) -> Vec<String> {
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    subjects_to(stack, address)
}

async fn plan(
    app: &TestApp,
    admin: &str,
    title: &str,
    window: (OffsetDateTime, OffsetDateTime),
    extra: Value,
    service: &Value,
) -> Value {
    let mut body = json!({"title": title, "type": "maintenance", "status": "scheduled", "notify_subscribers": true,
                          "scheduled_start_at": rfc3339(window.0), "scheduled_end_at": rfc3339(window.1),
                          "affected_services": [{"service_id": service["id"], "status": "maintenance"}]});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    app.create(admin, "/api/v1/events", body).await
}

fn event_state(app: &TestApp, id: &Value) -> Value {
    app.db.json(&format!(
        "select jsonb_build_object('status', status, 'started_at', rfc3339(started_at), 'resolved_at', rfc3339(resolved_at),
                                   'reminded_at', rfc3339(reminded_at))
         from events where id = '{}'",
        id.as_str().expect("id")
    ))
}

fn effective_status(app: &TestApp, slug: &str) -> Value {
    app.db.json(&format!("select to_jsonb(service_effective_status(id, status)) from services where slug = '{slug}'"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_reminds_starts_and_completes_itself_once_even_when_ticks_overlap() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let t0 = datetime!(2030-04-10 09:00 UTC);
    app.set_now(t0);
    let admin = app.admin().await;
    let db = app.create(&admin, "/api/v1/services", json!({"name": "DB", "slug": "db"})).await;
    let (_, token) = app.token_for("user").await;
    verified_email(&stack, &token, json!({"type": "email", "target": "dba@acme.test"})).await;
    let (start, end) = (t0 + time::Duration::hours(2), t0 + time::Duration::hours(4));
    let event = plan(app, &admin, "DB upgrade", (start, end), json!({"remind_before_minutes": 60}), &db).await;
    assert_eq!(
        (event["auto_start"].as_bool(), event["auto_complete"].as_bool(), event["remind_before_minutes"].as_i64()),
        (Some(true), Some(true), Some(60))
    );
    assert_eq!(settled_subjects(&stack, "dba@acme.test").await, ["[Service Status] Scheduled maintenance: DB upgrade"]);

    tick(app, start - time::Duration::minutes(61)).await;
    assert_eq!(subjects_to(&stack, "dba@acme.test").len(), 1, "not reminded before the hour");
    tick(app, start - time::Duration::minutes(60)).await;
    tick(app, start - time::Duration::minutes(59)).await;
    assert_eq!(
        event_state(app, &event["id"])["reminded_at"],
        json!(rfc3339(start - time::Duration::minutes(60)).replace('Z', ".000Z"))
    );
    let summary = app.get("/api/v2/scheduled-maintenances/upcoming.json").await.json();
    assert_eq!(summary["scheduled_maintenances"][0]["scheduled_remind_prior"], true);

    // Two ticks at once at the start (another replica, a tick running late): one start.
    let at = |t: OffsetDateTime| u64::try_from(t.unix_timestamp()).expect("time");
    app.set_now(start);
    let (a, b) = tokio::join!(app.run_cron(at(start)), app.run_cron(at(start + time::Duration::seconds(1))));
    a.expect("tick");
    b.expect("tick");
    assert_eq!(event_state(app, &event["id"])["status"], "in_progress");
    assert_eq!(effective_status(app, "db"), json!("maintenance"));
    tick(app, start + time::Duration::minutes(1)).await;
    let timeline = app.get(&format!("/api/v1/events/{}/updates", event["id"].as_str().expect("id"))).await.json();
    let entries: Vec<(String, String, String)> = timeline["data"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|u| {
            (
                u["status"].as_str().unwrap_or_default().into(),
                u["message"].as_str().unwrap_or_default().into(),
                u["created_at"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    assert_eq!(entries.len(), 2, "one automatic entry: {entries:?}");
    assert_eq!(
        (entries[0].0.as_str(), entries[0].1.as_str()),
        ("in_progress", "Maintenance has started as scheduled.")
    );
    assert!(entries[0].2.starts_with(&rfc3339(start).replace('Z', "")), "dated at the start: {entries:?}");

    tick(app, end - time::Duration::minutes(1)).await;
    assert_eq!(event_state(app, &event["id"])["status"], "in_progress");
    tick(app, end).await;
    let state = event_state(app, &event["id"]);
    assert_eq!(state["status"], "completed");
    assert!(state["resolved_at"].as_str().is_some_and(|r| r.starts_with(&rfc3339(end).replace('Z', ""))), "{state}");
    assert_eq!(effective_status(app, "db"), json!("operational"));
    tick(app, end + time::Duration::hours(1)).await;

    // The exact notices, once each, in order.
    assert_eq!(
        subjects_to(&stack, "dba@acme.test"),
        [
            "[Service Status] Scheduled maintenance: DB upgrade",
            "[Service Status] Maintenance reminder: DB upgrade",
            "[Service Status] Maintenance started: DB upgrade",
            "[Service Status] Maintenance completed: DB upgrade",
        ]
    );
    // The status log: maintenance from the start, operational again at the end, by the scheduler.
    let log = app.db.json(
        "select jsonb_agg(jsonb_build_object('to', l.to_status, 'at', rfc3339(l.created_at)) order by l.id)
         from service_status_log l join services s on s.id = l.service_id where s.slug = 'db' and l.source = 'event'",
    );
    assert_eq!(log[0]["to"], "maintenance");
    assert_eq!(log[1]["to"], "operational");
    assert_eq!(log.as_array().map(Vec::len), Some(2), "{log}");
    // Audit rows name the scheduler.
    let audit = app.db.json("select jsonb_agg(action order by created_at) from audit_log where actor_type = 'system'");
    assert_eq!(audit, json!(["event.remind", "event.update", "event.update"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skipped_tick_is_caught_up_and_a_wholly_missed_window_starts_then_completes() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let t0 = datetime!(2030-05-02 00:00 UTC);
    app.set_now(t0);
    let admin = app.admin().await;
    let api = app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    let (_, token) = app.token_for("user").await;
    verified_email(&stack, &token, json!({"type": "email", "target": "watcher@acme.test"})).await;
    let first =
        plan(app, &admin, "First", (t0 + time::Duration::hours(1), t0 + time::Duration::hours(2)), json!({}), &api)
            .await;
    let second =
        plan(app, &admin, "Second", (t0 + time::Duration::hours(3), t0 + time::Duration::hours(5)), json!({}), &api)
            .await;

    // The tick at one o'clock never ran; the next one starts the first window, dated one o'clock.
    tick(app, t0 + time::Duration::minutes(90)).await;
    assert_eq!(event_state(app, &first["id"])["started_at"], json!("2030-05-02T01:00:00.000Z"));
    // The scheduler is down from then until six: everything due is done, in order.
    tick(app, t0 + time::Duration::hours(6)).await;
    for event in [&first, &second] {
        assert_eq!(event_state(app, &event["id"])["status"], "completed", "{event}");
    }
    assert_eq!(event_state(app, &second["id"])["started_at"], json!("2030-05-02T03:00:00.000Z"));
    assert_eq!(event_state(app, &second["id"])["resolved_at"], json!("2030-05-02T05:00:00.000Z"));
    assert_eq!(effective_status(app, "api"), json!("operational"));
    assert_eq!(
        subjects_to(&stack, "watcher@acme.test"),
        [
            "[Service Status] Scheduled maintenance: First",
            "[Service Status] Scheduled maintenance: Second",
            "[Service Status] Maintenance started: First",
            "[Service Status] Maintenance completed: First",
            "[Service Status] Maintenance started: Second",
            "[Service Status] Maintenance completed: Second",
        ],
        "both notices of the missed window, start first"
    );
    // Its timeline has both entries, in order.
    let timeline = app.get(&format!("/api/v1/events/{}/updates", second["id"].as_str().expect("id"))).await.json();
    let statuses: Vec<&str> = timeline["data"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|u| u["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(statuses, ["completed", "in_progress", "scheduled"], "newest first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switched_off_steps_wait_for_a_person_and_a_window_across_a_dst_change_is_exact() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let t0 = datetime!(2027-03-27 12:00 UTC);
    app.set_now(t0);
    let admin = app.admin().await;
    let api = app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    // Berlin moves its clocks from 02:00 to 03:00 on 2027-03-28: this window is one hour long.
    let dst = app
        .create(
            &admin,
            "/api/v1/events",
            json!({"title": "Across the change", "type": "maintenance", "status": "scheduled",
                   "scheduled_start_at": "2027-03-28T01:30:00+01:00", "scheduled_end_at": "2027-03-28T03:30:00+02:00",
                   "affected_services": [{"service_id": api["id"], "status": "maintenance"}]}),
        )
        .await;
    assert_eq!(
        (dst["scheduled_start_at"].as_str(), dst["scheduled_end_at"].as_str()),
        (Some("2027-03-28T00:30:00.000Z"), Some("2027-03-28T01:30:00.000Z"))
    );
    let manual_start = plan(
        app,
        &admin,
        "Manual start",
        (t0 + time::Duration::hours(1), t0 + time::Duration::hours(2)),
        json!({"auto_start": false}),
        &api,
    )
    .await;
    let manual_end = plan(
        app,
        &admin,
        "Manual end",
        (t0 + time::Duration::hours(1), t0 + time::Duration::hours(2)),
        json!({"auto_complete": false}),
        &api,
    )
    .await;
    tick(app, t0 + time::Duration::hours(3)).await;
    assert_eq!(event_state(app, &manual_start["id"])["status"], "scheduled", "auto_start off: a person starts it");
    assert_eq!(event_state(app, &manual_end["id"])["status"], "in_progress", "auto_complete off: a person ends it");

    tick(app, datetime!(2027-03-28 00:29:59 UTC)).await;
    assert_eq!(event_state(app, &dst["id"])["status"], "scheduled");
    tick(app, datetime!(2027-03-28 00:30 UTC)).await;
    assert_eq!(event_state(app, &dst["id"])["status"], "in_progress");
    tick(app, datetime!(2027-03-28 01:29:59 UTC)).await;
    assert_eq!(event_state(app, &dst["id"])["status"], "in_progress", "not an hour early");
    tick(app, datetime!(2027-03-28 01:30 UTC)).await;
    assert_eq!(event_state(app, &dst["id"])["status"], "completed", "exactly one hour");

    // The settings are checked.
    let admin = app.admin().await;
    for (value, ok) in [(json!(0), false), (json!(10_081), false), (json!("soon"), false), (json!(10_080), true)] {
        let response = app
            .call("POST", "/api/v1/events", Some(&admin), Some(&json!({"title": "R", "type": "maintenance", "status": "scheduled",
                "scheduled_start_at": "2030-01-01T00:00:00Z", "scheduled_end_at": "2030-01-01T01:00:00Z", "remind_before_minutes": value})))
            .await;
        if ok {
            assert_eq!(response.status, 201, "{value}: {}", response.text());
        } else {
            assert_eq!(
                (response.status, field_errors(&response)),
                (400, vec!["remind_before_minutes".to_owned()]),
                "{value}"
            );
        }
    }
}
