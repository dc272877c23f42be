//! The public face end to end: each document's shape and values in the scenarios a
//! status page lives through, writes visible on the very next read, caching validators, and
//! the snapshot answering while PostgreSQL is down.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{TestApp, TestDb, TestResponse, repo_root};

/// Every page-wide JSON document.
const V2: [&str; 8] = [
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
];

async fn ok(app: &TestApp, path: &str) -> TestResponse {
    let response = app.get(path).await;
    assert_eq!(response.status, 200, "GET {path}: {}", response.text());
    response
}

async fn json_of(app: &TestApp, path: &str) -> Value {
    ok(app, path).await.json()
}

async fn page(app: &TestApp, path: &str, accept_language: &str) -> String {
    let response = app.send(app.request(Method::GET, path).header("accept-language", accept_language)).await;
    assert_eq!(response.status, 200, "GET {path}: {}", response.text());
    assert_eq!(response.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(response.header("vary"), Some("Accept-Language"));
    response.text()
}

/// A group "Core" with service "API" in it, and "Website" in no group.
async fn catalog(app: &TestApp, admin: &str) -> (Value, Value, Value) {
    let group = app.create(admin, "/api/v1/groups", json!({"name": "Core", "slug": "core"})).await;
    let api =
        app.create(admin, "/api/v1/services", json!({"name": "API", "slug": "api", "group_ids": [group["id"]]})).await;
    let web = app.create(admin, "/api/v1/services", json!({"name": "Website", "slug": "website"})).await;
    (group, api, web)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_page_answers_every_document() {
    let app = TestApp::spawn().await;
    let status = json_of(&app, "/api/v1/status").await;
    assert_eq!(status["data"]["status"], json!({"indicator": "none", "description": "All Systems Operational"}));
    for key in ["services", "groups", "active_events", "upcoming_maintenance", "events"] {
        assert_eq!(status["data"][key], json!([]), "{key}");
    }
    let summary = json_of(&app, "/api/v2/summary.json").await;
    assert_eq!(summary["page"]["name"], "Service Status");
    assert_eq!(summary["page"]["url"], "http://127.0.0.1:3000/");
    assert_eq!(summary["page"]["time_zone"], "Etc/UTC");
    assert_eq!(summary["status"]["indicator"], "none");
    for path in V2 {
        let doc = json_of(&app, path).await;
        assert_eq!(doc["page"], summary["page"], "{path}: the same page object everywhere");
    }
    let history = json_of(&app, "/api/v1/status/history").await;
    assert_eq!(history, json!({"data": {"events": []}, "meta": {"per_page": 50, "next_cursor": null}}));
    let html = page(&app, "/", "en").await;
    assert!(html.contains("All Systems Operational"), "{html}");
    let badge = ok(&app, "/badge.svg").await;
    assert_eq!(badge.header("content-type"), Some("image/svg+xml"));
    assert!(badge.text().contains("aria-label=\"Service Status: All Systems Operational\""), "{}", badge.text());
    assert_eq!(app.get("/badge/nothing.svg").await.status, 404);
    assert_eq!(app.get("/badge/api.png").await.status, 404);
    assert_eq!(app.get("/incidents/not-a-uuid").await.status, 404);
    assert_eq!(app.get(&format!("/incidents/{}", uuid::Uuid::new_v4())).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_incident_on_a_grouped_service_shows_everywhere_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (group, api, web) = catalog(&app, &admin).await;
    let incident = app
        .create(
            &admin,
            "/api/v1/events",
            json!({"title": "API errors", "type": "incident", "status": "investigating", "severity": "major",
                   "description": "Some requests fail.",
                   "affected_services": [{"service_id": api["id"], "status": "partial_outage"}]}),
        )
        .await;
    let id = incident["id"].as_str().expect("id").to_owned();

    // The very next read shows the write: no waiting, no cache to expire.
    let status = json_of(&app, "/api/v1/status").await["data"].clone();
    assert_eq!(status["status"], json!({"indicator": "major", "description": "Partial System Outage"}));
    let effective: Vec<(&str, &str)> = status["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| (s["slug"].as_str().unwrap_or_default(), s["effective_status"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(effective, [("api", "partial_outage"), ("website", "operational")]);
    assert_eq!(status["groups"][0]["service_ids"], json!([api["id"]]));
    assert_eq!(status["active_events"][0]["id"], incident["id"]);
    assert_eq!(status["active_events"][0]["updates"][0]["status"], "investigating");
    assert_eq!(status["events"][0]["title"], "API errors", "the old `events` list");

    let summary = json_of(&app, "/api/v2/summary.json").await;
    let components = summary["components"].as_array().expect("components");
    let names: Vec<&str> = components.iter().map(|c| c["name"].as_str().unwrap_or_default()).collect();
    assert_eq!(names, ["Core", "API", "Website"], "a group, its members, then services in no group");
    assert_eq!(components[0]["group"], true);
    assert_eq!(components[0]["components"], json!([api["id"]]));
    assert_eq!(components[0]["status"], "partial_outage", "a group shows its worst member");
    assert_eq!(components[1]["group_id"], group["id"]);
    assert_eq!(components[1]["status"], "partial_outage");
    assert_eq!(components[2]["group_id"], Value::Null);
    assert_eq!(components.iter().map(|c| c["position"].as_u64().unwrap_or(0)).collect::<Vec<_>>(), [1, 2, 3]);
    let unresolved = &summary["incidents"][0];
    assert_eq!(unresolved["name"], "API errors");
    assert_eq!(unresolved["impact"], "major");
    assert_eq!(unresolved["status"], "investigating");
    assert_eq!(unresolved["shortlink"], format!("http://127.0.0.1:3000/incidents/{id}"));
    assert_eq!(unresolved["components"][0]["id"], api["id"]);
    let first_update = &unresolved["incident_updates"][0];
    assert_eq!(first_update["incident_id"], incident["id"]);
    assert_eq!(
        first_update["affected_components"],
        json!([{"code": api["id"], "name": "API", "old_status": "operational", "new_status": "partial_outage"}])
    );
    assert_eq!(json_of(&app, "/api/v2/status.json").await["status"]["indicator"], "major");
    assert_eq!(json_of(&app, "/api/v2/incidents/unresolved.json").await["incidents"][0]["id"], incident["id"]);

    let html = page(&app, "/", "en").await;
    for text in ["Partial System Outage", "API errors", "Partial outage", "Core", "Website", "Investigating"] {
        assert!(html.contains(text), "the page shows {text:?}");
    }
    let ru = page(&app, "/", "ru-RU,ru;q=0.9").await;
    assert!(ru.contains("Частичный сбой систем") && ru.contains("Расследуем"), "Russian by Accept-Language");
    let incident_page = page(&app, &format!("/incidents/{id}"), "en").await;
    assert!(
        incident_page.contains("<h1 id=\"title\">API errors</h1>") && incident_page.contains("Some requests fail.")
    );
    let badge = json_of(&app, "/badge/api.json").await;
    assert_eq!(badge, json!({"schemaVersion": 1, "label": "API", "message": "partial outage", "color": "orange"}));
    assert!(ok(&app, "/badge/website.svg").await.text().contains("aria-label=\"Website: operational\""));

    // Resolving: everything follows on the next read.
    let response = app
        .call(
            "POST",
            &format!("/api/v1/events/{id}/updates"),
            Some(&admin),
            Some(&json!({"status": "resolved", "message": "Fixed."})),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    assert_eq!(json_of(&app, "/api/v1/status").await["data"]["status"]["indicator"], "none");
    assert_eq!(json_of(&app, "/api/v2/incidents/unresolved.json").await["incidents"], json!([]));
    let incidents = json_of(&app, "/api/v2/incidents.json").await;
    assert_eq!(incidents["incidents"][0]["status"], "resolved");
    let updates = &incidents["incidents"][0]["incident_updates"];
    assert_eq!(updates[0]["body"], "Fixed.", "newest first");
    assert_eq!(updates.as_array().map(Vec::len), Some(2));
    assert!(incidents["incidents"][0]["resolved_at"].is_string());
    assert_eq!(json_of(&app, "/badge/api.json").await["message"], "operational");
    let _ = web;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_moves_from_upcoming_to_active() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, api, _) = catalog(&app, &admin).await;
    let start = time::OffsetDateTime::now_utc() + time::Duration::days(2);
    let end = start + time::Duration::hours(2);
    let window = app
        .create(
            &admin,
            "/api/v1/events",
            json!({"title": "Database upgrade", "type": "maintenance", "status": "scheduled",
                   "scheduled_start_at": statuspage_core::time::format_rfc3339(start),
                   "scheduled_end_at": statuspage_core::time::format_rfc3339(end),
                   "affected_services": [{"service_id": api["id"], "status": "maintenance"}]}),
        )
        .await;
    let status = json_of(&app, "/api/v1/status").await["data"].clone();
    assert_eq!(status["status"]["indicator"], "none", "scheduled maintenance affects nothing yet");
    assert_eq!(status["upcoming_maintenance"][0]["id"], window["id"]);
    let upcoming = json_of(&app, "/api/v2/scheduled-maintenances/upcoming.json").await;
    let listed = &upcoming["scheduled_maintenances"][0];
    assert_eq!((listed["status"].as_str(), listed["impact"].as_str()), (Some("scheduled"), Some("maintenance")));
    assert_eq!(listed["scheduled_for"], window["scheduled_start_at"]);
    assert_eq!(listed["scheduled_until"], window["scheduled_end_at"]);
    assert_eq!(json_of(&app, "/api/v2/scheduled-maintenances/active.json").await["scheduled_maintenances"], json!([]));
    assert!(page(&app, "/", "en").await.contains("Upcoming maintenance"));

    let path = format!("/api/v1/events/{}/updates", window["id"].as_str().expect("id"));
    let started = app
        .call("POST", &path, Some(&admin), Some(&json!({"status": "in_progress", "message": "Started early."})))
        .await;
    assert_eq!(started.status, 201, "{}", started.text());
    let status = json_of(&app, "/api/v1/status").await["data"].clone();
    assert_eq!(status["status"], json!({"indicator": "maintenance", "description": "Service Under Maintenance"}));
    assert_eq!(status["upcoming_maintenance"], json!([]));
    let active = json_of(&app, "/api/v2/scheduled-maintenances/active.json").await;
    assert_eq!(active["scheduled_maintenances"][0]["status"], "in_progress");
    let summary = json_of(&app, "/api/v2/summary.json").await;
    assert_eq!(summary["scheduled_maintenances"][0]["id"], window["id"]);
    assert_eq!(summary["components"][1]["status"], "under_maintenance");
    let html = page(&app, "/", "en").await;
    assert!(html.contains("Maintenance in progress") && html.contains("Under maintenance"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_responses_carry_validators_and_answer_304() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for path in
        ["/api/v1/status", "/api/v2/summary.json", "/", "/history", "/history.atom", "/maintenance.ics", "/badge.svg"]
    {
        let first = ok(&app, path).await;
        let etag = first.header("etag").unwrap_or_else(|| panic!("{path}: no ETag")).to_owned();
        assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{path}: a strong validator, {etag}");
        let cache = first.header("cache-control").unwrap_or_default();
        assert!(cache.starts_with("public, max-age=") && cache.contains("stale-while-revalidate="), "{path}: {cache}");
        let again = app.send(app.request(Method::GET, path).header("if-none-match", &etag)).await;
        assert_eq!((again.status, again.body.len()), (304, 0), "{path}");
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        let stale = app.send(app.request(Method::GET, path).header("if-none-match", "\"something-else\"")).await;
        assert_eq!(stale.status, 200, "{path}");
    }
    let before = ok(&app, "/api/v1/status").await.header("etag").map(str::to_owned);
    app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    let after = ok(&app, "/api/v1/status").await;
    assert_ne!(after.header("etag").map(str::to_owned), before, "a write changes the validator");
    assert_eq!(after.json()["data"]["services"][0]["slug"], "api");
    let lang = app.get("/?lang=ru").await;
    assert!(lang.text().contains("<html lang=\"ru\">"), "?lang= wins");
    let en = app.get("/").await;
    assert_ne!(lang.header("etag"), en.header("etag"), "each language its own validator");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_routes_answer_from_the_snapshot_while_postgres_is_down() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, api, _) = catalog(&app, &admin).await;
    let incident = app
        .create(
            &admin,
            "/api/v1/events",
            json!({"title": "Outage", "type": "incident", "status": "identified", "severity": "critical",
                   "affected_services": [{"service_id": api["id"], "status": "major_outage"}]}),
        )
        .await;
    let id = incident["id"].as_str().expect("id").to_owned();
    let paths = [
        "/".to_owned(),
        "/?lang=ru".to_owned(),
        format!("/incidents/{id}"),
        "/history".to_owned(),
        "/api/v1/status".to_owned(),
        "/api/v1/status/history".to_owned(),
        "/history.atom".to_owned(),
        "/history.rss".to_owned(),
        "/maintenance.ics".to_owned(),
        "/badge.svg".to_owned(),
        "/badge/api.svg".to_owned(),
        "/badge/api.json".to_owned(),
    ];
    let mut before = Vec::new();
    for path in paths.iter().map(String::as_str).chain(V2) {
        before.push(ok(&app, path).await.body);
    }

    // PostgreSQL goes away: the app's database refuses connections and its open ones are cut.
    let name = app.db.name.clone();
    crate::support::admin_sql(format!(
        "alter database {name} allow_connections false;
         select pg_terminate_backend(pid) from pg_stat_activity where datname = '{name}'"
    ));
    assert_eq!(app.get("/readyz").await.status, 503, "the database is down for the app");
    for (path, body) in paths.iter().map(String::as_str).chain(V2).zip(&before) {
        let response = app.get(path).await;
        assert_eq!(response.status, 200, "GET {path} while PostgreSQL is down: {}", response.text());
        assert_eq!(&response.body, body, "{path}: the last good snapshot");
    }
    let uptime = app.get("/api/v1/services/api/uptime").await;
    assert_eq!(uptime.status, 200, "uptime reports come from the stored timeline: {}", uptime.text());
    let write = app.call("POST", "/api/v1/services", Some(&admin), Some(&json!({"name": "X", "slug": "x"}))).await;
    assert_eq!(write.status, 503, "writes need the database");
    crate::support::admin_sql(format!("alter database {name} allow_connections true"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_lives_in_redis_under_the_production_configuration() {
    // Database 12 of the local Redis is this test's alone.
    let url = "redis://127.0.0.1:6379/12";
    let mut redis = redis::Client::open(url).expect("url").get_multiplexed_async_connection().await.expect("Redis");
    redis::cmd("FLUSHDB").query_async::<()>(&mut redis).await.expect("flushdb");
    let config = format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{url}\"");
    let app = TestApp::spawn_configured(&repo_root().join("spin.toml"), TestDb::migrated(), &[], Some(&config)).await;
    let admin = app.admin().await;
    app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    assert_eq!(json_of(&app, "/api/v1/status").await["data"]["services"][0]["slug"], "api");
    let keys: Vec<String> = redis::cmd("KEYS").arg("statuspage/v1/*").query_async(&mut redis).await.expect("keys");
    for key in [
        "statuspage/v1/index",
        "statuspage/v1/doc/api/v1/status",
        "statuspage/v1/doc/#en",
        "statuspage/v1/timeline/api",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} in Redis: {keys:?}");
    }
    // Another instance on the same Redis serves that snapshot; its own database is empty, so
    // what it answers comes from the store alone.
    let replica =
        TestApp::spawn_configured(&repo_root().join("spin.toml"), TestDb::migrated(), &[], Some(&config)).await;
    assert_eq!(json_of(&replica, "/api/v1/status").await["data"]["services"][0]["slug"], "api");
}
