//! An explicit `null` for a required field is a 400 naming the field, on every write route: a
//! client that serialises an unset field as `null` gets told, never a 500 or a row without it.

use serde_json::{Value, json};

use crate::support::{TestApp, field_errors};

/// `(method, path, needs an admin token, a valid body, its required fields)`.
fn cases(event: &str) -> Vec<(&'static str, String, bool, Value, Vec<&'static str>)> {
    vec![
        (
            "POST",
            "/api/v1/auth/register".into(),
            false,
            json!({"email": "new@example.com", "password": "password-123"}),
            vec!["email", "password"],
        ),
        (
            "POST",
            "/api/v1/auth/login".into(),
            false,
            json!({"email": "x@example.com", "password": "password-123"}),
            vec!["email", "password"],
        ),
        (
            "POST",
            "/api/v1/auth/login/2fa".into(),
            false,
            json!({"mfa_token": "t", "code": "123456"}),
            vec!["mfa_token"],
        ),
        ("POST", "/api/v1/auth/refresh".into(), false, json!({"refresh_token": "t"}), vec!["refresh_token"]),
        ("POST", "/api/v1/auth/forgot-password".into(), false, json!({"email": "x@example.com"}), vec!["email"]),
        (
            "POST",
            "/api/v1/auth/reset-password".into(),
            false,
            json!({"token": "t", "new_password": "password-123"}),
            vec!["token", "new_password"],
        ),
        ("POST", "/api/v1/auth/2fa/confirm".into(), true, json!({"code": "123456"}), vec!["code"]),
        (
            "POST",
            "/api/v1/auth/2fa/disable".into(),
            true,
            json!({"password": "p", "code": "123456"}),
            vec!["password", "code"],
        ),
        (
            "PUT",
            "/api/v1/me/password".into(),
            true,
            json!({"current_password": "p", "new_password": "password-123"}),
            vec!["current_password", "new_password"],
        ),
        (
            "POST",
            "/api/v1/users".into(),
            true,
            json!({"email": "made@example.com", "password": "password-123"}),
            vec!["email", "password"],
        ),
        (
            "POST",
            "/api/v1/api-keys".into(),
            true,
            json!({"name": "ci", "role": "operator", "scopes": ["events:write"]}),
            vec!["name", "role", "scopes"],
        ),
        ("POST", "/api/v1/services".into(), true, json!({"name": "API", "slug": "api"}), vec!["name", "slug"]),
        ("POST", "/api/v1/groups".into(), true, json!({"name": "Edge", "slug": "edge"}), vec!["name", "slug"]),
        (
            "POST",
            "/api/v1/events".into(),
            true,
            json!({"title": "Down", "type": "incident", "status": "investigating", "severity": "major",
                   "affected_services": [{"service_id": uuid::Uuid::nil(), "status": "major_outage"}]}),
            vec!["title", "type", "status", "severity"],
        ),
        (
            "POST",
            "/api/v1/events".into(),
            true,
            json!({"title": "Upgrade", "type": "maintenance", "status": "scheduled",
                   "scheduled_start_at": "2027-01-01T00:00:00Z", "scheduled_end_at": "2027-01-01T01:00:00Z"}),
            vec!["scheduled_start_at", "scheduled_end_at"],
        ),
        ("POST", format!("/api/v1/events/{event}/updates"), true, json!({"message": "Looking"}), vec!["message"]),
        (
            "POST",
            "/api/v1/templates".into(),
            true,
            json!({"slug": "t", "type": "incident", "title_template": "x"}),
            vec!["slug", "type", "title_template"],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_null_for_a_required_field_is_a_400_naming_it_on_every_write_route() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.token_for("admin").await;
    let event = app
        .call(
            "POST",
            "/api/v1/events",
            Some(&admin),
            Some(&json!({"title": "Open", "type": "incident", "status": "investigating", "severity": "minor"})),
        )
        .await;
    assert_eq!(event.status, 201, "{}", event.text());
    let event = event.json()["data"]["id"].as_str().expect("id").to_owned();
    let before = app.db.json("select to_jsonb(array[(select count(*) from users), (select count(*) from services), (select count(*) from events), (select count(*) from templates), (select count(*) from api_keys)])");
    let mut checked = 0;
    for (method, path, admin_only, body, required) in cases(&event) {
        for field in required {
            let mut nulled = body.clone();
            nulled[field] = Value::Null;
            let token = admin_only.then_some(admin.as_str());
            let response = app.call(method, &path, token, Some(&nulled)).await;
            assert_eq!(
                response.status,
                400,
                "{method} {path} with {field}: null answered {}: {}",
                response.status,
                response.text()
            );
            assert!(
                field_errors(&response).iter().any(|f| f == field),
                "{method} {path} with {field}: null does not name {field}: {}",
                response.text()
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} fields checked");
    let after = app.db.json("select to_jsonb(array[(select count(*) from users), (select count(*) from services), (select count(*) from events), (select count(*) from templates), (select count(*) from api_keys)])");
    assert_eq!(before, after, "nothing was written");
}
