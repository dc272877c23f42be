//! The HTML pages in a real browser: headless Debian Chromium driven by playwright-core
//! (`tests/browser/check.mjs`, installed by `make browser-deps`), with the visible text checked
//! in English and Russian, screenshots taken (`target/browser-shots/`), nothing loaded from
//! elsewhere, and axe-core reporting no WCAG 2.1 A/AA (or best-practice) violation, in light
//! and dark.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::{TestApp, repo_root};

fn browser_dir() -> PathBuf {
    repo_root().join("tests/browser")
}

/// Runs the page checks of `pages` against `app` and answers the report.
fn check(app: &TestApp, pages: &Value) -> Value {
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").is_dir() && dir.join("node_modules/axe-core").is_dir(),
        "the browser tests need their npm packages and Chromium: run `make browser-deps` (make test does)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(PathBuf::from(&chromium).exists(), "{chromium} is missing: run `make browser-deps` (make test does)");
    let out = repo_root().join("target/browser-shots");
    let plan = json!({ "base": app.address, "out": out, "pages": pages });
    let output = std::process::Command::new("node")
        .arg(dir.join("check.mjs"))
        .arg(plan.to_string())
        .current_dir(&dir)
        .output()
        .expect("running node");
    assert!(
        output.status.success(),
        "check.mjs failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("report is not JSON ({e})"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_read_right_and_pass_axe_in_both_languages_and_schemes() {
    let app =
        TestApp::spawn_with(crate::support::TestDb::migrated(), &[("page_description", "Acme's services, live")]).await;
    // A service with 60 days of history: its bars have a bad day.
    let now = time::OffsetDateTime::now_utc();
    app.set_now(now - time::Duration::days(60));
    let admin = app.admin().await;
    let legacy = app.create(&admin, "/api/v1/services", json!({"name": "Billing", "slug": "billing"})).await;
    app.set_now(now - time::Duration::days(20));
    let admin = app.admin().await;
    let old = app
        .create(
            &admin,
            "/api/v1/events",
            json!({"title": "Billing down", "type": "incident", "status": "investigating", "severity": "critical",
                   "affected_services": [{"service_id": legacy["id"], "status": "major_outage"}]}),
        )
        .await;
    app.set_now(now - time::Duration::days(20) + time::Duration::hours(3));
    let admin = app.admin().await;
    let closed = app
        .call(
            "POST",
            &format!("/api/v1/events/{}/updates", old["id"].as_str().expect("id")),
            Some(&admin),
            Some(&json!({"status": "resolved", "message": "Billing is back."})),
        )
        .await;
    assert_eq!(closed.status, 201);
    app.set_now(now);
    let admin = app.admin().await;
    let group = app.create(&admin, "/api/v1/groups", json!({"name": "Core", "slug": "core"})).await;
    let api =
        app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api", "group_ids": [group["id"]]})).await;
    app.create(&admin, "/api/v1/services", json!({"name": "Website", "slug": "website"})).await;
    let incident = app
        .create(
            &admin,
            "/api/v1/events",
            json!({"title": "API errors", "type": "incident", "status": "identified", "severity": "major",
                   "description": "Requests to the API fail for some customers.",
                   "affected_services": [{"service_id": api["id"], "status": "partial_outage"}]}),
        )
        .await;
    let start = time::OffsetDateTime::now_utc() + time::Duration::days(5);
    app.create(
        &admin,
        "/api/v1/events",
        json!({"title": "Database upgrade", "type": "maintenance", "status": "scheduled",
               "scheduled_start_at": statuspage_core::time::format_rfc3339(start),
               "scheduled_end_at": statuspage_core::time::format_rfc3339(start + time::Duration::hours(2))}),
    )
    .await;
    let incident_path = format!("/incidents/{}", incident["id"].as_str().expect("id"));
    for path in ["/", "/history", incident_path.as_str()] {
        let html = app.get(path).await.text();
        assert!(!html.contains("<script"), "{path} needs no JavaScript");
    }

    let pages = json!([
        {"path": "/?lang=en", "lang": "en", "scheme": "light", "shot": "index-en-light.png",
         "expect": ["Partial System Outage", "API errors", "Identified", "Core", "API", "Website", "Partial outage",
                    "Operational", "Upcoming maintenance", "Database upgrade", "Get updates", "All times are UTC.",
                    "Acme's services, live", "Billing", "Days with trouble: 1", "99.791% uptime"]},
        {"path": "/", "lang": "ru", "scheme": "dark", "shot": "index-ru-dark.png",
         "expect": ["Частичный сбой систем", "Причина найдена", "Частичный сбой", "Работает",
                    "Запланированные работы", "Подписка на обновления", "Время указано в UTC."]},
        {"path": incident_path, "lang": "en", "scheme": "dark", "shot": "incident-en-dark.png",
         "expect": ["API errors", "Requests to the API fail for some customers.", "Updates", "Current status"]},
        {"path": "/history", "lang": "ru", "scheme": "light", "shot": "history-ru-light.png",
         "expect": ["История инцидентов", "API errors", "Billing down"]},
    ]);
    let report = check(&app, &pages);
    let checked = report["pages"].as_array().expect("pages");
    assert_eq!(checked.len(), 4);
    for page in checked {
        let name = format!("{} ({}, {})", page["path"], page["lang"], page["scheme"]);
        assert_eq!(page["status"], 200, "{name}");
        assert_eq!(page["missing"], json!([]), "{name}: text not visible");
        assert_eq!(page["foreign"], json!([]), "{name}: loaded something from elsewhere");
        assert_eq!(page["violations"], json!([]), "{name}: axe-core violations");
        let shot = page["shot"].as_str().expect("a screenshot");
        let size = std::fs::metadata(shot).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{name}: screenshot {shot} is {size} bytes");
    }
    assert_eq!(checked[0]["title"], "Service Status");
}
