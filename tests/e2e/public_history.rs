//! The public history end to end: cursor pages of JSON and HTML, feeds read by a real feed
//! parser, the maintenance calendar read by a real iCalendar parser (a cancelled window
//! included), and uptime reports that agree with the page's bars.

use reqwest::Method;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::support::{TestApp, field_errors};

async fn ok(app: &TestApp, path: &str) -> crate::support::TestResponse {
    let response = app.get(path).await;
    assert_eq!(response.status, 200, "GET {path}: {}", response.text());
    response
}

/// `count` resolved incidents, one a day before 2026-11-01, written straight to the database
/// (as a restore or another tool would); answers nothing: the scheduler's tick publishes them.
fn past_incidents(app: &TestApp, count: u32) {
    app.db.exec(&format!(
        "insert into events (type, status, severity, title, started_at, resolved_at, created_at, updated_at)
         select 'incident', 'resolved', 'minor', 'Incident ' || i, t, t + interval '1 hour', t, t
         from generate_series(1, {count}) i,
              lateral (select timestamptz '2026-11-01T00:00:00Z' - make_interval(days => i) as t) x"
    ));
}

fn titles(page: &Value) -> Vec<String> {
    page["data"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_pages_by_cursor_newest_first() {
    let app = TestApp::spawn().await;
    past_incidents(&app, 60);
    // 2026-11-25T12:00:00Z: the tick publishes what was written behind the app's back.
    app.run_cron(1_795_608_000).await.expect("tick");
    let first = ok(&app, "/api/v1/status/history").await.json();
    let expected: Vec<String> = (1..=50).map(|i| format!("Incident {i}")).collect();
    assert_eq!(titles(&first), expected, "the old service's first 50, newest first");
    assert_eq!(first["data"]["events"][0]["updates"], json!([]));
    let cursor = first["meta"]["next_cursor"].as_str().expect("a next page").to_owned();
    let second = ok(&app, &format!("/api/v1/status/history?cursor={cursor}")).await.json();
    assert_eq!(titles(&second), (51..=60).map(|i| format!("Incident {i}")).collect::<Vec<_>>());
    assert_eq!(second["meta"]["next_cursor"], Value::Null, "the last page");

    // A newer event does not move a cursor's page.
    let admin = app.admin().await;
    app.create(
        &admin,
        "/api/v1/events",
        json!({"title": "Newest", "type": "incident", "status": "investigating", "severity": "minor"}),
    )
    .await;
    let again = ok(&app, &format!("/api/v1/status/history?cursor={cursor}")).await.json();
    assert_eq!(titles(&again), titles(&second));
    assert_eq!(titles(&ok(&app, "/api/v1/status/history").await.json())[0], "Newest");

    let bad = app.get("/api/v1/status/history?cursor=not-ours").await;
    assert_eq!(bad.status, 400, "{}", bad.text());
    assert_eq!(field_errors(&bad), ["cursor"]);

    // The HTML history: 25 a page, grouped by month, with a way to the older ones.
    let html = ok(&app, "/history?lang=en").await.text();
    assert!(html.contains("<h2>December 2026</h2>") && html.contains("<h2>October 2026</h2>"), "{html}");
    assert_eq!(html.matches("<article").count(), 25);
    let older = html
        .split("rel=\"next\"")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .and_then(|rest| rest.split('"').next())
        .expect("an Older link")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let page_two = ok(&app, &older).await.text();
    assert!(page_two.contains("Incident 25") && !page_two.contains(">Incident 24<"), "{older}");
    assert!(page_two.contains("rel=\"prev\""), "and back to the newer ones");
    let ru = ok(&app, "/history?lang=ru").await.text();
    assert!(ru.contains("История инцидентов") && ru.contains("<h2>Октябрь 2026</h2>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_update_is_a_feed_entry_with_a_stable_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let incident = app
        .create(
            &admin,
            "/api/v1/events",
            json!({"title": "Slow logins", "type": "incident", "status": "investigating", "severity": "minor"}),
        )
        .await;
    let id = incident["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/events/{id}/updates");
    let response =
        app.call("POST", &path, Some(&admin), Some(&json!({"status": "identified", "message": "A bad cache."}))).await;
    assert_eq!(response.status, 201);

    let atom = ok(&app, "/history.atom").await;
    assert_eq!(atom.header("content-type"), Some("application/atom+xml; charset=utf-8"));
    let feed = feed_rs::parser::parse(atom.body.as_slice()).expect("a valid Atom feed");
    assert_eq!(feed.entries.len(), 2, "each timeline entry is an entry");
    let link = format!("http://127.0.0.1:3000/incidents/{id}");
    assert_eq!(feed.entries[0].title.as_ref().map(|t| t.content.as_str()), Some("Slow logins: Identified"));
    assert_eq!(feed.entries[0].links[0].href, link, "a deep link to the event");
    assert!(feed.entries[0].id.starts_with(&format!("{link}#update-")));
    assert!(feed.entries.iter().all(|e| e.updated.is_some()), "valid dates");
    assert_eq!(feed.entries[0].content.as_ref().and_then(|c| c.body.as_deref()), Some("A bad cache."));

    let rss = ok(&app, "/history.rss").await;
    let channel = feed_rs::parser::parse(rss.body.as_slice()).expect("a valid RSS feed");
    assert_eq!(channel.entries.len(), 2);
    assert_eq!(channel.entries[1].title.as_ref().map(|t| t.content.as_str()), Some("Slow logins: Investigating"));
    assert!(channel.entries.iter().all(|e| e.published.is_some()));

    // Another event's write changes the feed, not the ids of what was there.
    let ids: Vec<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
    app.create(
        &admin,
        "/api/v1/events",
        json!({"title": "Another", "type": "incident", "status": "investigating", "severity": "minor"}),
    )
    .await;
    let later = feed_rs::parser::parse(ok(&app, "/history.atom").await.body.as_slice()).expect("atom");
    assert_eq!(later.entries.len(), 3);
    assert_eq!(later.entries[1..].iter().map(|e| e.id.clone()).collect::<Vec<_>>(), ids);
}

/// The calendar's VEVENTs as `(UID, SEQUENCE, STATUS, SUMMARY)`, read by the `ical` parser.
fn vevents(body: &[u8]) -> Vec<(String, String, String, String)> {
    let mut calendars = ical::IcalParser::new(std::io::BufReader::new(body));
    let calendar = calendars.next().expect("one calendar").expect("a valid calendar");
    assert!(calendars.next().is_none());
    calendar
        .events
        .iter()
        .map(|event| {
            let value = |name: &str| {
                event.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap_or_default()
            };
            (value("UID"), value("SEQUENCE"), value("STATUS"), value("SUMMARY"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_bumps_sequence_and_keeps_a_cancelled_window() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let start = time::OffsetDateTime::now_utc() + time::Duration::days(3);
    let window = app
        .create(
            &admin,
            "/api/v1/events",
            json!({"title": "Network work", "type": "maintenance", "status": "scheduled",
                   "scheduled_start_at": statuspage_core::time::format_rfc3339(start),
                   "scheduled_end_at": statuspage_core::time::format_rfc3339(start + time::Duration::hours(1))}),
        )
        .await;
    let id = window["id"].as_str().expect("id").to_owned();
    let uid = format!("{id}@127.0.0.1");
    let ics = ok(&app, "/maintenance.ics").await;
    assert_eq!(ics.header("content-type"), Some("text/calendar; charset=utf-8"));
    assert_eq!(vevents(&ics.body), [(uid.clone(), "0".into(), "CONFIRMED".into(), "Network work".into())]);
    let text = ics.text();
    let dtstart = format!(
        "DTSTART:{}",
        start
            .to_offset(time::UtcOffset::UTC)
            .format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"))
            .expect("format")
    );
    assert!(text.contains(&dtstart), "{dtstart} in {text}");

    let path = format!("/api/v1/events/{id}/updates");
    let changed = app.call("POST", &path, Some(&admin), Some(&json!({"message": "Moved to rack 4."}))).await;
    assert_eq!(changed.status, 201);
    assert_eq!(vevents(&ok(&app, "/maintenance.ics").await.body)[0].1, "1", "SEQUENCE bumps with a change");

    let cancelled = app.call("DELETE", &format!("/api/v1/events/{id}"), Some(&admin), None).await;
    assert_eq!(cancelled.status, 204, "{}", cancelled.text());
    assert_eq!(
        vevents(&ok(&app, "/maintenance.ics").await.body),
        [(uid, "2".into(), "CANCELLED".into(), "Network work".into())],
        "the same UID, one SEQUENCE more, cancelled"
    );
    let upcoming = ok(&app, "/api/v2/scheduled-maintenances/upcoming.json").await.json();
    assert_eq!(upcoming["scheduled_maintenances"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uptime_reports_agree_with_the_bars_across_days_and_months() {
    let app = TestApp::spawn().await;
    app.set_now(datetime!(2026-11-01 00:00 UTC));
    let admin = app.admin().await;
    app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    let service_id = app.get("/api/v1/services/api").await.json()["data"]["id"].clone();
    app.set_now(datetime!(2026-11-02 10:00 UTC));
    let admin = app.admin().await;
    let incident = app
        .create(
            &admin,
            "/api/v1/events",
            json!({"title": "Down", "type": "incident", "status": "investigating", "severity": "critical",
                   "affected_services": [{"service_id": service_id, "status": "major_outage"}]}),
        )
        .await;
    app.set_now(datetime!(2026-11-02 11:00 UTC));
    let admin = app.admin().await;
    let path = format!("/api/v1/events/{}/updates", incident["id"].as_str().expect("id"));
    let resolved = app.call("POST", &path, Some(&admin), Some(&json!({"status": "resolved", "message": "Up."}))).await;
    assert_eq!(resolved.status, 201);
    app.set_now(datetime!(2026-11-04 12:00 UTC));

    let days = ok(&app, "/api/v1/services/api/uptime?from=2026-10-31&to=2026-11-03").await.json()["data"].clone();
    assert_eq!(days["service"]["slug"], "api");
    assert_eq!(
        (days["from"].as_str(), days["to"].as_str()),
        (Some("2026-10-31T00:00:00.000Z"), Some("2026-11-04T00:00:00.000Z"))
    );
    let buckets = days["buckets"].as_array().expect("buckets");
    assert_eq!(buckets.len(), 4);
    assert_eq!(
        (buckets[0]["observed_seconds"].as_i64(), &buckets[0]["uptime"]),
        (Some(0), &Value::Null),
        "before it existed"
    );
    assert_eq!(buckets[1]["uptime"], 1.0);
    assert_eq!(buckets[2]["seconds"]["major_outage"], 3600);
    assert_eq!(buckets[2]["seconds"]["operational"], 82_800);
    assert_eq!(buckets[2]["uptime"], 0.958_333);
    assert_eq!(days["observed_seconds"], 3 * 86_400);
    assert_eq!(days["uptime"], 0.986_111, "1 h down in 72 h, rounded down");

    let months =
        ok(&app, "/api/v1/services/api/uptime?granularity=month&from=2026-10-01&to=2026-11-30").await.json()["data"]
            .clone();
    let buckets = months["buckets"].as_array().expect("buckets");
    assert_eq!(buckets.len(), 2);
    assert_eq!(buckets[0]["uptime"], Value::Null);
    assert_eq!(buckets[1]["observed_seconds"], 3 * 86_400 + 12 * 3600, "observed until now");
    assert_eq!(buckets[1]["seconds"]["major_outage"], 3600);

    let bad = app.get("/api/v1/services/api/uptime?granularity=week&from=yesterday").await;
    assert_eq!(bad.status, 400);
    assert_eq!(field_errors(&bad), ["granularity", "from"], "every bad parameter at once");
    let backwards = app.get("/api/v1/services/api/uptime?from=2026-11-03&to=2026-11-01").await;
    assert_eq!(field_errors(&backwards), ["from"]);
    let long = app.get("/api/v1/services/api/uptime?from=2020-01-01&to=2026-11-01").await;
    assert_eq!((long.status, field_errors(&long)), (400, vec!["from".to_owned()]));
    assert_eq!(app.get("/api/v1/services/nope/uptime").await.status, 404);

    // The bars say the same: the tick re-renders the page as the days go by.
    app.run_cron(u64::try_from(datetime!(2026-11-04 12:00 UTC).unix_timestamp()).expect("time")).await.expect("tick");
    let html = app.send(app.request(Method::GET, "/?lang=en")).await.text();
    assert!(html.contains("2026-11-02: 95.833% uptime · Major outage 1 h"), "{html}");
    assert!(html.contains("98.809% uptime"), "90-day uptime next to the bars: 1 h down in 84 h");
}
