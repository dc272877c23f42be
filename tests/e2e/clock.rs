//! The time the components see is the platform's (WASI's wall clock), and tests set it: every
//! write is dated with it and every expiry is decided by it, database clock notwithstanding.

use serde_json::json;
use time::macros::datetime;

use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_components_clock_dates_writes_and_decides_expiry() {
    let app = TestApp::spawn().await;
    app.set_now(datetime!(2030-01-01 00:00:00 UTC));
    let admin = app.admin().await;
    let service = app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    assert!(service["created_at"].as_str().is_some_and(|t| t.starts_with("2030-01-01T00:00:")), "{service}");
    let key = app
        .create(
            &admin,
            "/api/v1/api-keys",
            json!({"name": "ci", "role": "operator", "scopes": ["read"],
                                                   "expires_at": "2030-01-01T01:00:00Z"}),
        )
        .await;
    let secret = key["secret"].as_str().expect("secret").to_owned();
    let log = "/api/v1/services/api/status-log";
    assert_eq!(app.call("GET", log, Some(&secret), None).await.status, 200, "valid until 01:00");

    app.set_now(datetime!(2030-01-01 02:00:00 UTC));
    assert_eq!(app.call("GET", log, Some(&secret), None).await.status, 401, "expired by the components' clock");
    assert_eq!(app.call("GET", "/api/v1/me", Some(&admin), None).await.status, 401, "the 15-minute access token too");
    let last_used = app.db.json(&format!(
        "select to_jsonb(rfc3339(last_used_at)) from api_keys where id = '{}'",
        key["id"].as_str().expect("id")
    ));
    assert!(last_used.as_str().is_some_and(|t| t.starts_with("2030-01-01T00:00:")), "{last_used}");
}
