//! Health, readiness, version, the error envelope, request ids and logs.

use serde_json::{Value, json};

use statuspage_core::migrate::latest_version;

use crate::support::{TestApp, TestDb};

/// Every migration version, as `migrations_applied` lists them on an empty database.
fn all_versions() -> Value {
    json!((1..=latest_version()).collect::<Vec<_>>())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_ok_without_touching_the_database() {
    let app =
        TestApp::spawn_with(TestDb::empty(), &[("db_url", "postgres://postgres@127.0.0.1:1/none?sslmode=disable")])
            .await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json(), json!({"data": {"status": "ok"}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_answers_503_json_when_the_database_is_unreachable() {
    let app =
        TestApp::spawn_with(TestDb::empty(), &[("db_url", "postgres://postgres@127.0.0.1:1/none?sslmode=disable")])
            .await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status, 503);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("retry-after"), Some("5"));
    let body = response.json();
    assert_eq!(body["error"]["code"], "unavailable");
    assert_eq!(body["error"]["message"], "not ready: database unreachable");
    let logged = app.logs().into_iter().find(|l| l.contains("\"/readyz\"")).expect("an access line");
    assert!(
        logged.contains("\"level\":\"error\"") && logged.contains("127.0.0.1"),
        "the log keeps the cause: {logged}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_migrates_an_empty_database_exactly_once() {
    let app = TestApp::spawn_with(TestDb::empty(), &[]).await;
    let first = app.get("/readyz").await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json()["data"]["migrations_applied"], all_versions());
    let second = app.get("/readyz").await;
    assert_eq!(
        second.json()["data"],
        json!({"status": "ready", "database": "ok", "schema_version": latest_version(), "migrations_applied": []})
    );
    assert_eq!(
        app.db.json("select to_jsonb(array_agg(version order by version)) from schema_migrations"),
        all_versions()
    );
    assert_eq!(app.db.json("select to_jsonb(count(*)) from users"), json!(0), "no seed unless dev_seed=true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_readiness_probes_apply_each_migration_once() {
    let app = TestApp::spawn_with(TestDb::empty(), &[]).await;
    let probes: Vec<_> = (0..8).map(|_| app.get("/readyz")).collect();
    let responses = futures_util::future::join_all(probes).await;
    assert!(responses.iter().all(|r| r.status == 200), "{:?}", responses.iter().map(|r| r.text()).collect::<Vec<_>>());
    let applied: usize = responses.iter().filter(|r| r.json()["data"]["migrations_applied"] == all_versions()).count();
    assert_eq!(applied, 1, "exactly one probe applied the migration");
    assert_eq!(app.db.json("select to_jsonb(count(*)) from schema_migrations"), json!(latest_version()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_seed_adds_the_three_accounts_and_a_demo_catalog() {
    let app = TestApp::spawn_with(TestDb::empty(), &[("dev_seed", "true")]).await;
    assert_eq!(app.get("/readyz").await.status, 200);
    assert_eq!(
        app.db.json("select jsonb_agg(jsonb_build_array(email, role) order by email) from users"),
        json!([["admin@example.com", "admin"], ["operator@example.com", "operator"], ["user@example.com", "user"]])
    );
    let hash = app.db.json("select to_jsonb(password_hash) from users where email = 'admin@example.com'");
    assert!(hash.as_str().is_some_and(|h| h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")), "{hash}");
    let services = app.get("/api/v1/services").await.json();
    assert_eq!(services["meta"]["total"], 4);
    // Applying it again changes nothing.
    assert_eq!(app.get("/readyz").await.json()["data"]["migrations_applied"], json!([]));
    assert_eq!(app.db.json("select to_jsonb(count(*)) from users"), json!(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_reports_the_build_and_the_schema_it_expects() {
    let app = TestApp::spawn().await;
    let body = app.get("/version").await.json();
    assert_eq!(body["data"]["name"], "statuspage");
    assert_eq!(body["data"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["data"]["schema_version"], latest_version());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_answer_a_json_404_from_whichever_component_owns_the_prefix() {
    let app = TestApp::spawn().await;
    for path in [
        "/nope",
        "/api/v1/nope",
        "/api/v1/webhooks/nope",
        "/api/v1/services/api/nope",
        "/api/v1/auth/nope",
        "/api/v2/nope.json",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status, 404, "{path}");
        assert_eq!(response.header("content-type"), Some("application/json"), "{path}");
        let body = response.json();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
        assert_eq!(body["error"]["details"], json!([]), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_method_answers_a_json_405_naming_the_allowed_methods() {
    let app = TestApp::spawn().await;
    let response = app.send(app.request(reqwest::Method::DELETE, "/healthz")).await;
    assert_eq!(response.status, 405);
    assert_eq!(response.header("allow"), Some("GET, HEAD"));
    assert_eq!(response.json()["error"]["code"], "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_answers_413_not_a_5xx() {
    let app = TestApp::spawn().await;
    let response =
        app.send(app.request(reqwest::Method::POST, "/api/v1/services").body(vec![b'x'; 2 * 1024 * 1024])).await;
    assert_eq!(response.status, 413);
    assert_eq!(response.json()["error"]["code"], "payload_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_is_answered_like_get_without_a_body() {
    let app = TestApp::spawn().await;
    let response = app.send(app.request(reqwest::Method::HEAD, "/api/v1/services")).await;
    assert_eq!(response.status, 200);
    assert!(response.body.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_id_is_echoed_or_generated_and_logged_with_the_access_line() {
    let app = TestApp::spawn().await;
    let echoed =
        app.send(app.request(reqwest::Method::GET, "/api/v1/services/api").header("x-request-id", "trace-42")).await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-42"));
    let generated =
        app.send(app.request(reqwest::Method::GET, "/healthz").header("x-request-id", "bad id with spaces")).await;
    let id = generated.header("x-request-id").expect("an id").to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    let lines: Vec<Value> = app.logs().iter().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let line = lines.iter().find(|l| l["request_id"] == "trace-42").expect("an access line for trace-42");
    assert_eq!(line["component"], "catalog");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/api/v1/services/:slug");
    assert_eq!(line["status"], 404);
    assert!(line["duration_ms"].is_number() && line["ts"].is_string(), "{line}");
    assert!(lines.iter().any(|l| l["request_id"] == id.as_str() && l["route"] == "/healthz"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_signing_key_keeps_everyone_signed_in_until_the_old_key_is_dropped() {
    const OLD: &str = "the-old-signing-secret-0123456789";
    const NEW: &str = "the-new-signing-secret-9876543210";
    let before = TestApp::spawn_with(crate::support::TestDb::migrated(), &[("jwt_secret", OLD)]).await;
    let (_, old_token) = before.token_for("operator").await;
    let name = before.db.name.clone();
    // The new key is current, the old one listed as rotated out: both kinds of token work.
    let during = TestApp::spawn_with(
        crate::support::TestDb { name: name.clone() },
        &[("jwt_secret", NEW), ("jwt_previous_secrets", OLD)],
    )
    .await;
    assert_eq!(during.call("GET", "/api/v1/me", Some(&old_token), None).await.status, 200, "an old token");
    let (_, new_token) = during.token_for("operator").await;
    assert_eq!(during.call("GET", "/api/v1/me", Some(&new_token), None).await.status, 200, "a new token");
    let kid = |token: &str| {
        use base64::Engine as _;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap_or_default())
            .expect("b64");
        serde_json::from_slice::<serde_json::Value>(&header).expect("json")["kid"].clone()
    };
    assert_ne!(kid(&old_token), kid(&new_token), "each token names its key");
    // Once the old key is dropped (after the 15 minutes of its last tokens), they stop.
    let after = TestApp::spawn_with(crate::support::TestDb { name }, &[("jwt_secret", NEW)]).await;
    assert_eq!(after.call("GET", "/api/v1/me", Some(&old_token), None).await.status, 401);
    assert_eq!(after.call("GET", "/api/v1/me", Some(&new_token), None).await.status, 200);
}

/// The value of the sample `line` starts with in a Prometheus exposition (0 when absent).
fn sample(text: &str, series: &str) -> i64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0, |v| v.trim().parse().unwrap_or_else(|_| panic!("{series} has value {v:?}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_watch_events_services_requests_and_ticks_move() {
    let app = TestApp::spawn_with(TestDb::migrated(), &[("metrics_token", "scrape-me")]).await;
    let scrape = || async {
        let response = app.send(app.request(reqwest::Method::GET, "/metrics").bearer_auth("scrape-me")).await;
        assert_eq!(response.status, 200, "{}", response.text());
        assert_eq!(response.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
        response.text()
    };
    assert_eq!(app.get("/metrics").await.status, 401, "metrics_token set: a scraper must present it");
    let before = scrape().await;
    assert!(before.contains("# TYPE statuspage_events gauge"), "{before}");
    assert_eq!(sample(&before, "statuspage_notification_queue_depth"), 0);

    let admin = app.admin().await;
    let api = app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    app.create(
        &admin,
        "/api/v1/events",
        json!({"title": "Down", "type": "incident", "status": "investigating", "severity": "critical",
               "affected_services": [{"service_id": api["id"], "status": "major_outage"}]}),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/events").await.status, 200);
    }
    assert_eq!(app.get("/api/v1/no-such-thing").await.status, 404);
    app.run_cron(u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).expect("time")).await.expect("tick");
    // Requests count themselves after their response, each in its own time: scrape until all
    // have landed, within a deadline that only a lost count would exceed.
    let events_posted =
        r#"statuspage_http_requests_total{component="events",route="/api/v1/events",status_class="2xx"}"#;
    let services_posted =
        r#"statuspage_http_requests_total{component="catalog",route="/api/v1/services",status_class="2xx"}"#;
    let all_counted = |text: &str| {
        sample(text, events_posted) >= 1
            && sample(text, services_posted) >= 1
            && text.contains(r#"route="unmatched",status_class="4xx""#)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut after = scrape().await;
    while !all_counted(&after) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = scrape().await;
    }
    assert_eq!(sample(&after, r#"statuspage_events{type="incident",status="investigating"}"#), 1, "{after}");
    assert_eq!(sample(&after, r#"statuspage_services{status="major_outage"}"#), 1, "{after}");
    // The POST counts 1; each of the three public GETs of the same route is sampled, counting
    // 16 when it is (one in 16), so the GETs add a multiple of 16.
    let events_counted = sample(&after, events_posted);
    assert_eq!(events_counted % statuspage_core::metrics::PUBLIC_READ_SAMPLE, 1, "the POST once: {after}");
    assert!(events_counted <= 1 + 3 * statuspage_core::metrics::PUBLIC_READ_SAMPLE, "{after}");
    assert_eq!(sample(&after, services_posted), 1, "{after}");
    assert!(
        sample(
            &after,
            r#"statuspage_http_requests_total{component="auth",route="/api/v1/auth/login",status_class="2xx"}"#
        ) >= 1
    );
    assert!(after.contains(r#"route="unmatched",status_class="4xx""#), "the 404 counts under no route: {after}");
    assert_eq!(sample(&after, r#"statuspage_scheduler_ticks_total{claimed="true"}"#), 1, "{after}");
    assert!(sample(&after, "statuspage_scheduler_last_tick_timestamp_seconds") > 1_700_000_000);
}
