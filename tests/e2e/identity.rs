//! Identity and access through the auth component: accounts, sessions, tokens, 2FA, roles,
//! API keys, the audit log and rate limits.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use statuspage_core::auth::{Role, tokens, totp};

use crate::support::{JWT_SECRET, TestApp, TestDb};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn code_now(secret: &str) -> String {
    totp::code_at(secret, u64::try_from(now()).expect("positive")).expect("code")
}

fn audit_actions(app: &TestApp) -> Vec<String> {
    let value = app.db.json("select coalesce(jsonb_agg(action order by id), '[]') from audit_log");
    value.as_array().expect("array").iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_creates_a_user_account_and_lists_every_bad_field() {
    let app = TestApp::spawn().await;
    let created = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": " New@Example.com ", "password": "long enough", "name": "New"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let user = created.json()["data"].clone();
    assert_eq!(
        (user["email"].as_str(), user["role"].as_str(), user["is_active"].as_bool()),
        (Some("new@example.com"), Some("user"), Some(true))
    );
    assert!(user.get("password_hash").is_none());
    assert_eq!(audit_actions(&app), ["user.register"]);

    let duplicate =
        app.post_json("/api/v1/auth/register", &json!({"email": "new@example.com", "password": "long enough"})).await;
    assert_eq!((duplicate.status, duplicate.json()["error"]["code"].clone()), (409, json!("email_taken")));

    let invalid =
        app.post_json("/api/v1/auth/register", &json!({"email": "nope", "password": "short", "name": 7})).await;
    assert_eq!(invalid.status, 400);
    let fields: Vec<Value> =
        invalid.json()["error"]["details"].as_array().expect("details").iter().map(|d| d["field"].clone()).collect();
    assert_eq!(fields, [json!("email"), json!("password"), json!("name")]);

    let closed = TestApp::spawn_with(TestDb::migrated(), &[("registration_enabled", "false")]).await;
    let refused =
        closed.post_json("/api/v1/auth/register", &json!({"email": "a@example.com", "password": "long enough"})).await;
    assert_eq!(refused.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_answers_user_and_tokens_and_the_access_token_opens_me() {
    let app = TestApp::spawn().await;
    let id = app.create_user("ops@example.com", "password-123", "operator");
    let data = app.login("OPS@example.com", "password-123").await;
    assert_eq!(data["user"]["id"], id.to_string());
    assert_eq!(data["tokens"]["expires_in"], 900);
    assert_eq!(data["tokens"]["token_type"], "Bearer");
    let access = data["tokens"]["access_token"].as_str().expect("access");
    let claims = tokens::verify_access(&[JWT_SECRET], access, now()).expect("a valid HS256 token");
    assert_eq!((claims.sub, claims.role, claims.exp - claims.iat), (id, Role::Operator, 900));
    let me = app.call("GET", "/api/v1/me", Some(access), None).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["data"]["email"], "ops@example.com");
    assert!(me.json()["data"]["last_login_at"].is_string());
    let renamed = app.call("PATCH", "/api/v1/me", Some(access), Some(&json!({"name": "Ops", "role": "admin"}))).await;
    assert_eq!(renamed.status, 400, "role cannot be changed through /me");
    let renamed = app.call("PATCH", "/api/v1/me", Some(access), Some(&json!({"name": "Ops"}))).await;
    assert_eq!(renamed.json()["data"]["name"], "Ops");
    assert_eq!(audit_actions(&app), ["session.login", "user.update"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_email_and_a_wrong_password_answer_the_same_401() {
    let app = TestApp::spawn().await;
    app.create_user("someone@example.com", "password-123", "user");
    let unknown =
        app.post_json("/api/v1/auth/login", &json!({"email": "nobody@example.com", "password": "password-123"})).await;
    let wrong =
        app.post_json("/api/v1/auth/login", &json!({"email": "someone@example.com", "password": "password-999"})).await;
    assert_eq!((unknown.status, wrong.status), (401, 401));
    assert_eq!(unknown.json(), wrong.json());
    let deactivated = app.create_user("gone@example.com", "password-123", "user");
    app.db.exec(&format!("update users set is_active = false where id = '{deactivated}'"));
    let refused =
        app.post_json("/api/v1/auth/login", &json!({"email": "gone@example.com", "password": "password-123"})).await;
    assert_eq!(refused.status, 403, "a deactivated account with the right password: 403, as the old service");
    let guessed =
        app.post_json("/api/v1/auth/login", &json!({"email": "gone@example.com", "password": "password-999"})).await;
    assert_eq!(guessed.status, 401, "with a wrong password it stays indistinguishable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tampered_unsigned_foreign_and_malformed_credentials_are_401() {
    let app = TestApp::spawn().await;
    let (id, good) = app.token_for("admin").await;
    let sid = tokens::verify_access(&[JWT_SECRET], &good, now()).expect("valid").sid;
    let expired = tokens::issue_access(JWT_SECRET, id, Role::Admin, sid, now() - 3600).expect("issue");
    let foreign = tokens::issue_access("some-other-secret-entirely", id, Role::Admin, sid, now()).expect("issue");
    let parts: Vec<&str> = good.split('.').collect();
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("utf8");
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.replace("admin", "user")), parts[2]);
    let unsigned = format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    for (label, header) in [
        ("expired", format!("Bearer {expired}")),
        ("foreign", format!("Bearer {foreign}")),
        ("tampered", format!("Bearer {tampered}")),
        ("alg none", format!("Bearer {unsigned}")),
        ("garbage", "Bearer not-a-token".to_owned()),
        ("wrong scheme", format!("Token {good}")),
        ("empty", "Bearer ".to_owned()),
    ] {
        let response = app.send(app.request(reqwest::Method::GET, "/api/v1/me").header("authorization", header)).await;
        assert_eq!(response.status, 401, "{label}: {}", response.text());
        assert_eq!(response.json()["error"]["code"], "unauthorized", "{label}");
    }
    let expired_message = app.call("GET", "/api/v1/me", Some(&expired), None).await.json()["error"]["message"].clone();
    assert_eq!(expired_message, "the access token has expired");
    assert_eq!(app.call("GET", "/api/v1/me", Some(&good), None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    app.create_user("u@example.com", "password-123", "user");
    let first = app.login("u@example.com", "password-123").await["tokens"].clone();
    let rotated = app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": first["refresh_token"]})).await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let second = rotated.json()["data"]["tokens"].clone();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(app.call("GET", "/api/v1/me", second["access_token"].as_str(), None).await.status, 200);

    let replay = app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": first["refresh_token"]})).await;
    assert_eq!(replay.status, 401);
    assert!(replay.json()["error"]["message"].as_str().is_some_and(|m| m.contains("already used")));
    let after = app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": second["refresh_token"]})).await;
    assert_eq!(after.status, 401, "the successor dies with its family");
    assert_eq!(
        app.call("GET", "/api/v1/me", second["access_token"].as_str(), None).await.status,
        401,
        "access tokens too"
    );
    assert!(audit_actions(&app).contains(&"session.reuse_detected".to_owned()));
    let unknown = app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": "never-issued"})).await;
    assert_eq!(unknown.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_presented_session_only() {
    let app = TestApp::spawn().await;
    app.create_user("u@example.com", "password-123", "user");
    let laptop = app.login("u@example.com", "password-123").await["tokens"].clone();
    let phone = app.login("u@example.com", "password-123").await["tokens"].clone();
    let out = app.call("POST", "/api/v1/auth/logout", laptop["access_token"].as_str(), None).await;
    assert_eq!(out.status, 204);
    assert_eq!(app.call("GET", "/api/v1/me", laptop["access_token"].as_str(), None).await.status, 401);
    let refresh = app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": laptop["refresh_token"]})).await;
    assert_eq!(refresh.status, 401);
    assert_eq!(app.call("GET", "/api/v1/me", phone["access_token"].as_str(), None).await.status, 200);
    let by_refresh = app.post_json("/api/v1/auth/logout", &json!({"refresh_token": phone["refresh_token"]})).await;
    assert_eq!(by_refresh.status, 204);
    assert_eq!(app.call("GET", "/api/v1/me", phone["access_token"].as_str(), None).await.status, 401);
    assert_eq!(app.post_json("/api/v1/auth/logout", &json!({})).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_revokes_the_other_sessions() {
    let app = TestApp::spawn().await;
    app.create_user("u@example.com", "password-123", "user");
    let here =
        app.login("u@example.com", "password-123").await["tokens"]["access_token"].as_str().expect("t").to_owned();
    let there =
        app.login("u@example.com", "password-123").await["tokens"]["access_token"].as_str().expect("t").to_owned();
    let wrong = app
        .call(
            "PUT",
            "/api/v1/me/password",
            Some(&here),
            Some(&json!({"current_password": "nope-nope", "new_password": "new-password-1"})),
        )
        .await;
    assert_eq!((wrong.status, wrong.json()["error"]["details"][0]["field"].clone()), (400, json!("current_password")));
    let changed = app
        .call(
            "PUT",
            "/api/v1/me/password",
            Some(&here),
            Some(&json!({"current_password": "password-123", "new_password": "new-password-1"})),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.text());
    assert_eq!(app.call("GET", "/api/v1/me", Some(&here), None).await.status, 200, "this session stays");
    assert_eq!(app.call("GET", "/api/v1/me", Some(&there), None).await.status, 401, "the other is revoked");
    let old = app.post_json("/api/v1/auth/login", &json!({"email": "u@example.com", "password": "password-123"})).await;
    assert_eq!(old.status, 401);
    app.login("u@example.com", "new-password-1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_once_through_the_queued_link() {
    let app = TestApp::spawn().await;
    let id = app.create_user("u@example.com", "password-123", "user");
    let session =
        app.login("u@example.com", "password-123").await["tokens"]["access_token"].as_str().expect("t").to_owned();
    for email in ["u@example.com", "nobody@example.com"] {
        let response = app.post_json("/api/v1/auth/forgot-password", &json!({"email": email})).await;
        assert_eq!(response.status, 200, "no enumeration: {email}");
    }
    let queued = app.db.json("select jsonb_agg(jsonb_build_object('kind', kind, 'channel', channel, 'to', recipient, 'payload', payload)) from notification_outbox");
    assert_eq!(queued.as_array().map(Vec::len), Some(1), "{queued}");
    assert_eq!((queued[0]["kind"].as_str(), queued[0]["to"].as_str()), (Some("password_reset"), Some("u@example.com")));
    let token = queued[0]["payload"]["token"].as_str().expect("token").to_owned();
    assert!(
        queued[0]["payload"]["reset_url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/reset-password?token={token}")))
    );
    assert_eq!(queued[0]["payload"]["expires_in_minutes"], 60);

    let short = app.post_json("/api/v1/auth/reset-password", &json!({"token": token, "new_password": "short"})).await;
    assert_eq!(short.status, 400);
    let reset =
        app.post_json("/api/v1/auth/reset-password", &json!({"token": token, "new_password": "brand-new-pass"})).await;
    assert_eq!(reset.status, 204, "{}", reset.text());
    let again =
        app.post_json("/api/v1/auth/reset-password", &json!({"token": token, "new_password": "another-pass-1"})).await;
    assert_eq!((again.status, again.json()["error"]["code"].clone()), (400, json!("invalid_token")));
    assert_eq!(app.call("GET", "/api/v1/me", Some(&session), None).await.status, 401, "sessions are revoked");
    app.login("u@example.com", "brand-new-pass").await;
    let expired = app.db.json(&format!(
        "select to_jsonb(count(*)) from one_time_tokens where user_id = '{id}' and used_at is not null"
    ));
    assert_eq!(expired, json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_factor_enrols_signs_in_in_two_steps_refuses_replays_and_accepts_recovery_codes_once() {
    let app = TestApp::spawn().await;
    app.create_user("u@example.com", "password-123", "user");
    let access =
        app.login("u@example.com", "password-123").await["tokens"]["access_token"].as_str().expect("t").to_owned();
    let enrolled = app.call("POST", "/api/v1/auth/2fa/enroll", Some(&access), None).await;
    assert_eq!(enrolled.status, 200, "{}", enrolled.text());
    let secret = enrolled.json()["data"]["secret"].as_str().expect("secret").to_owned();
    assert!(
        enrolled.json()["data"]["otpauth_uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("otpauth://totp/StatusPage:u%40example.com"))
    );
    let bad = app.call("POST", "/api/v1/auth/2fa/confirm", Some(&access), Some(&json!({"code": "000000"}))).await;
    assert_eq!(bad.status, 400);
    let confirmed =
        app.call("POST", "/api/v1/auth/2fa/confirm", Some(&access), Some(&json!({"code": code_now(&secret)}))).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    let recovery: Vec<String> = confirmed.json()["data"]["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);

    // The code used to confirm cannot sign in again (one use per step).
    let first = app
        .post_json("/api/v1/auth/login", &json!({"email": "u@example.com", "password": "password-123"}))
        .await
        .json()["data"]
        .clone();
    assert_eq!(first["mfa_required"], true);
    assert!(first.get("tokens").is_none());
    let challenge = first["mfa_token"].clone();
    let replay =
        app.post_json("/api/v1/auth/login/2fa", &json!({"mfa_token": challenge, "code": code_now(&secret)})).await;
    assert_eq!(replay.status, 401, "a code works once");
    let wrong = app.post_json("/api/v1/auth/login/2fa", &json!({"mfa_token": challenge, "code": "123456"})).await;
    assert_eq!(wrong.status, 401);
    let by_recovery = app
        .post_json(
            "/api/v1/auth/login/2fa",
            &json!({"mfa_token": challenge, "recovery_code": recovery[0].to_uppercase()}),
        )
        .await;
    assert_eq!(by_recovery.status, 200, "{}", by_recovery.text());
    assert!(by_recovery.json()["data"]["tokens"]["access_token"].is_string());
    let spent_challenge =
        app.post_json("/api/v1/auth/login/2fa", &json!({"mfa_token": challenge, "recovery_code": recovery[1]})).await;
    assert_eq!(spent_challenge.status, 401, "a challenge signs in once");
    let next = app
        .post_json("/api/v1/auth/login", &json!({"email": "u@example.com", "password": "password-123"}))
        .await
        .json()["data"]["mfa_token"]
        .clone();
    let reused =
        app.post_json("/api/v1/auth/login/2fa", &json!({"mfa_token": next, "recovery_code": recovery[0]})).await;
    assert_eq!(reused.status, 401, "a recovery code works once");
    for _ in 0..4 {
        app.post_json("/api/v1/auth/login/2fa", &json!({"mfa_token": next, "code": "999999"})).await;
    }
    let locked =
        app.post_json("/api/v1/auth/login/2fa", &json!({"mfa_token": next, "recovery_code": recovery[1]})).await;
    assert_eq!(locked.status, 401, "five wrong codes end the challenge");

    let disable = app
        .call(
            "POST",
            "/api/v1/auth/2fa/disable",
            Some(&access),
            Some(&json!({"password": "password-123", "code": recovery[2]})),
        )
        .await;
    assert_eq!(disable.status, 204, "{}", disable.text());
    let plain = app.login("u@example.com", "password-123").await;
    assert!(plain["tokens"]["access_token"].is_string());
    let actions = audit_actions(&app);
    for action in ["user.2fa_enroll", "user.2fa_enable", "user.2fa_disable"] {
        assert!(actions.contains(&action.to_owned()), "{action}: {actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mandatory_2fa_confines_an_admin_without_it_to_enrolment() {
    let app = TestApp::spawn_with(TestDb::migrated(), &[("require_admin_totp", "true")]).await;
    app.create_user("root@example.com", "password-123", "admin");
    let data = app.login("root@example.com", "password-123").await;
    assert_eq!(data["two_factor_enrollment_required"], true);
    let access = data["tokens"]["access_token"].as_str().expect("t");
    let users = app.call("GET", "/api/v1/users", Some(access), None).await;
    assert_eq!(users.status, 403);
    assert!(users.json()["error"]["message"].as_str().is_some_and(|m| m.contains("two-factor")));
    let enrolled = app.call("POST", "/api/v1/auth/2fa/enroll", Some(access), None).await;
    let secret = enrolled.json()["data"]["secret"].as_str().expect("secret").to_owned();
    let confirm =
        app.call("POST", "/api/v1/auth/2fa/confirm", Some(access), Some(&json!({"code": code_now(&secret)}))).await;
    assert_eq!(confirm.status, 200);
    assert_eq!(app.call("GET", "/api/v1/users", Some(access), None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_account_route_checks_401_then_403_then_400() {
    let app = TestApp::spawn().await;
    let (_, user) = app.token_for("user").await;
    let (_, operator) = app.token_for("operator").await;
    let (admin_id, admin) = app.token_for("admin").await;
    let bad = json!({"email": 5});
    let admin_routes = [
        ("GET", "/api/v1/users".to_owned()),
        ("POST", "/api/v1/users".to_owned()),
        ("GET", format!("/api/v1/users/{admin_id}")),
        ("PATCH", format!("/api/v1/users/{admin_id}")),
        ("POST", format!("/api/v1/users/{admin_id}/deactivate")),
        ("POST", format!("/api/v1/users/{admin_id}/reactivate")),
        ("POST", format!("/api/v1/users/{admin_id}/reset-password")),
        ("GET", "/api/v1/api-keys".to_owned()),
        ("POST", "/api/v1/api-keys".to_owned()),
        ("GET", format!("/api/v1/api-keys/{admin_id}")),
        ("DELETE", format!("/api/v1/api-keys/{admin_id}")),
        ("GET", "/api/v1/audit-log".to_owned()),
    ];
    for (method, path) in &admin_routes {
        assert_eq!(app.call(method, path, None, Some(&bad)).await.status, 401, "anonymous {method} {path}");
        assert_eq!(app.call(method, path, Some(&user), Some(&bad)).await.status, 403, "user {method} {path}");
        assert_eq!(app.call(method, path, Some(&operator), Some(&bad)).await.status, 403, "operator {method} {path}");
    }
    for (method, path) in [("POST", "/api/v1/users"), ("POST", "/api/v1/api-keys")] {
        assert_eq!(app.call(method, path, Some(&admin), Some(&bad)).await.status, 400, "admin {method} {path}");
    }
    for (method, path) in [
        ("GET", "/api/v1/me"),
        ("PATCH", "/api/v1/me"),
        ("PUT", "/api/v1/me/password"),
        ("POST", "/api/v1/auth/2fa/enroll"),
    ] {
        assert_eq!(app.call(method, path, None, Some(&bad)).await.status, 401, "anonymous {method} {path}");
    }
    assert_eq!(app.call("PUT", "/api/v1/me/password", Some(&user), Some(&bad)).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_accounts_but_not_their_own_role_or_activity() {
    let app = TestApp::spawn().await;
    let (admin_id, admin) = app.token_for("admin").await;
    let created = app
        .call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(&json!({"email": "op@example.com", "password": "password-123", "role": "operator"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let op_id = created.json()["data"]["id"].as_str().expect("id").to_owned();
    let duplicate = app
        .call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(&json!({"email": "op@example.com", "password": "password-123"})),
        )
        .await;
    assert_eq!(duplicate.status, 409);

    let operators = app.call("GET", "/api/v1/users?role=operator", Some(&admin), None).await.json();
    assert_eq!(operators["meta"]["total"], 1);
    let paged = app.call("GET", "/api/v1/users?per_page=1&page=2", Some(&admin), None).await.json();
    assert_eq!((paged["data"].as_array().map(Vec::len), paged["meta"]["total"].clone()), (Some(1), json!(2)));
    let bad_filters = app.call("GET", "/api/v1/users?role=root&active=maybe&page=0", Some(&admin), None).await;
    assert_eq!(bad_filters.json()["error"]["details"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        app.call("GET", "/api/v1/users/not-a-uuid", Some(&admin), None).await.json()["error"]["code"],
        "invalid_id"
    );
    assert_eq!(
        app.call("GET", &format!("/api/v1/users/{}", uuid::Uuid::new_v4()), Some(&admin), None).await.status,
        404
    );

    let op_session =
        app.login("op@example.com", "password-123").await["tokens"]["access_token"].as_str().expect("t").to_owned();
    let promoted =
        app.call("PATCH", &format!("/api/v1/users/{op_id}"), Some(&admin), Some(&json!({"role": "admin"}))).await;
    assert_eq!(promoted.json()["data"]["role"], "admin");
    assert_eq!(
        app.call("GET", "/api/v1/users", Some(&op_session), None).await.status,
        200,
        "the new role counts at once"
    );
    let demote_self =
        app.call("PATCH", &format!("/api/v1/users/{admin_id}"), Some(&admin), Some(&json!({"role": "user"}))).await;
    assert_eq!((demote_self.status, demote_self.json()["error"]["code"].clone()), (409, json!("cannot_demote_self")));
    let deactivate_self = app.call("POST", &format!("/api/v1/users/{admin_id}/deactivate"), Some(&admin), None).await;
    assert_eq!(
        (deactivate_self.status, deactivate_self.json()["error"]["code"].clone()),
        (409, json!("cannot_deactivate_self"))
    );

    let deactivated = app.call("POST", &format!("/api/v1/users/{op_id}/deactivate"), Some(&admin), None).await;
    assert_eq!(deactivated.json()["data"]["is_active"], false);
    assert_eq!(app.call("GET", "/api/v1/me", Some(&op_session), None).await.status, 401, "deactivation signs out");
    let reactivated = app.call("POST", &format!("/api/v1/users/{op_id}/reactivate"), Some(&admin), None).await;
    assert_eq!(reactivated.json()["data"]["is_active"], true);
    let reset_self = app.call("POST", &format!("/api/v1/users/{admin_id}/reset-password"), Some(&admin), None).await;
    assert_eq!(
        (reset_self.status, reset_self.json()["error"]["code"].clone()),
        (409, json!("use_own_password_change"))
    );
    assert_eq!(app.call("GET", "/api/v1/me", Some(&admin), None).await.status, 200, "the admin stays signed in");
    let reset = app.call("POST", &format!("/api/v1/users/{op_id}/reset-password"), Some(&admin), None).await;
    assert_eq!(reset.status, 202);
    assert_eq!(
        app.db.json("select to_jsonb(count(*)) from notification_outbox where recipient = 'op@example.com'"),
        json!(1)
    );

    let audit = app.db.json(&format!(
        "select jsonb_agg(jsonb_build_object('action', action, 'actor', actor_id, 'before', before->>'role', 'after', after->>'role', 'request_id', request_id) order by id)
         from audit_log where entity_id = '{op_id}'"
    ));
    assert_eq!(audit[0]["action"], "user.create");
    assert_eq!(audit[1]["action"], "session.login");
    assert_eq!(
        (audit[2]["action"].as_str(), audit[2]["before"].as_str(), audit[2]["after"].as_str()),
        (Some("user.update"), Some("operator"), Some("admin"))
    );
    assert_eq!(audit[2]["actor"], admin_id.to_string());
    assert!(audit[2]["request_id"].as_str().is_some_and(|r| !r.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_are_shown_once_scoped_revocable_and_expire() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.token_for("admin").await;
    let invalid = app
        .call(
            "POST",
            "/api/v1/api-keys",
            Some(&admin),
            Some(&json!({"role": "root", "scopes": ["fly"], "expires_at": "2000-01-01T00:00:00Z"})),
        )
        .await;
    let fields: Vec<Value> =
        invalid.json()["error"]["details"].as_array().expect("details").iter().map(|d| d["field"].clone()).collect();
    assert_eq!(fields, [json!("name"), json!("role"), json!("scopes"), json!("expires_at")]);

    let created = app
        .call(
            "POST",
            "/api/v1/api-keys",
            Some(&admin),
            Some(&json!({"name": "ci", "role": "admin", "scopes": ["audit:read"]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let key = created.json()["data"].clone();
    let secret = key["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with(&format!("spk_{}_", key["prefix"].as_str().expect("prefix"))));
    let id = key["id"].as_str().expect("id").to_owned();
    let listed = app.call("GET", "/api/v1/api-keys", Some(&admin), None).await.json();
    assert_eq!(listed["meta"]["total"], 1);
    assert!(listed["data"][0].get("secret").is_none(), "the secret is shown once");
    assert_eq!(
        app.db.json(&format!("select to_jsonb(secret_hash <> '{secret}') from api_keys")),
        json!(true),
        "stored hashed"
    );

    let audit = app.call("GET", "/api/v1/audit-log", Some(&secret), None).await;
    assert_eq!(audit.status, 200, "{}", audit.text());
    assert!(
        app.call("GET", &format!("/api/v1/api-keys/{id}"), Some(&admin), None).await.json()["data"]["last_used_at"]
            .is_string()
    );
    assert_eq!(app.call("GET", "/api/v1/users", Some(&secret), None).await.status, 403, "keys never manage accounts");
    assert_eq!(app.call("GET", "/api/v1/me", Some(&secret), None).await.status, 403);

    let narrow = app
        .call(
            "POST",
            "/api/v1/api-keys",
            Some(&admin),
            Some(&json!({"name": "events", "role": "operator", "scopes": ["events:write"]})),
        )
        .await
        .json()["data"]["secret"]
        .as_str()
        .expect("s")
        .to_owned();
    assert_eq!(app.call("GET", "/api/v1/audit-log", Some(&narrow), None).await.status, 403, "scope and ceiling");

    assert_eq!(app.call("DELETE", &format!("/api/v1/api-keys/{id}"), Some(&admin), None).await.status, 204);
    assert_eq!(app.call("GET", "/api/v1/audit-log", Some(&secret), None).await.status, 401, "revoked at once");
    let listed = app.call("GET", "/api/v1/api-keys?include_revoked=true", Some(&admin), None).await.json();
    assert_eq!(listed["meta"]["total"], 2);

    let expiring = app.call("POST", "/api/v1/api-keys", Some(&admin), Some(&json!({"name": "short", "role": "admin", "scopes": ["audit:read"], "expires_at": "2999-01-01T00:00:00+02:00"}))).await.json()["data"].clone();
    assert_eq!(expiring["expires_at"], "2998-12-31T22:00:00.000Z");
    app.db.exec(&format!(
        "update api_keys set expires_at = now() - interval '1 second' where id = '{}'",
        expiring["id"].as_str().expect("id")
    ));
    assert_eq!(app.call("GET", "/api/v1/audit-log", expiring["secret"].as_str(), None).await.status, 401, "expired");
    let made_up = format!("spk_{}_forged", key["prefix"].as_str().expect("prefix"));
    assert_eq!(app.call("GET", "/api/v1/audit-log", Some(&made_up), None).await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_filters_and_paginates() {
    let app = TestApp::spawn().await;
    let (admin_id, admin) = app.token_for("admin").await;
    for n in 0..3 {
        app.call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(&json!({"email": format!("u{n}@example.com"), "password": "password-123"})),
        )
        .await;
    }
    let all = app.call("GET", "/api/v1/audit-log?per_page=2", Some(&admin), None).await.json();
    assert_eq!(all["meta"], json!({"page": 1, "per_page": 2, "total": 4}));
    assert_eq!(all["data"][0]["action"], "user.create", "newest first");
    assert_eq!(
        all["data"][0]["actor"],
        json!({"type": "user", "id": admin_id.to_string(), "label": all["data"][0]["actor"]["label"]})
    );
    let creates = app
        .call("GET", &format!("/api/v1/audit-log?action=user.create&actor_id={admin_id}"), Some(&admin), None)
        .await
        .json();
    assert_eq!(creates["meta"]["total"], 3);
    let future = app.call("GET", "/api/v1/audit-log?from=2999-01-01T00:00:00Z", Some(&admin), None).await.json();
    assert_eq!(future["meta"]["total"], 0);
    let bad = app.call("GET", "/api/v1/audit-log?actor_id=x&from=yesterday&per_page=0", Some(&admin), None).await;
    assert_eq!(bad.json()["error"]["details"].as_array().map(Vec::len), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_reset_requests_are_rate_limited_per_account() {
    let app = TestApp::spawn().await;
    app.create_user("u@example.com", "password-123", "user");
    for _ in 0..10 {
        let response =
            app.post_json("/api/v1/auth/login", &json!({"email": "u@example.com", "password": "wrong-password"})).await;
        assert_eq!(response.status, 401);
    }
    let limited =
        app.post_json("/api/v1/auth/login", &json!({"email": "u@example.com", "password": "password-123"})).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["error"]["code"], "rate_limited");
    let retry: u64 = limited.header("retry-after").and_then(|r| r.parse().ok()).expect("Retry-After");
    assert!((1..=900).contains(&retry), "{retry}");
    assert_eq!(limited.header("ratelimit-limit"), Some("10"));
    assert_eq!(limited.header("ratelimit-remaining"), Some("0"));
    app.create_user("other@example.com", "password-123", "user");
    app.login("other@example.com", "password-123").await;

    for _ in 0..3 {
        assert_eq!(
            app.post_json("/api/v1/auth/forgot-password", &json!({"email": "other@example.com"})).await.status,
            200
        );
    }
    assert_eq!(app.post_json("/api/v1/auth/forgot-password", &json!({"email": "other@example.com"})).await.status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_never_gets_a_5xx() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.token_for("admin").await;
    let bodies = [
        "",
        "[]",
        "{",
        "\"x\"",
        "{\"email\": {\"$ne\": 1}, \"password\": [1]}",
        "{\"name\": null, \"role\": 5, \"scopes\": \"all\"}",
    ];
    let huge = format!("{{\"email\": \"{}@example.com\", \"password\": \"{}\"}}", "a".repeat(5000), "p".repeat(5000));
    let routes = [
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/login/2fa"),
        ("POST", "/api/v1/auth/refresh"),
        ("POST", "/api/v1/auth/reset-password"),
        ("POST", "/api/v1/users"),
        ("PATCH", "/api/v1/users/00000000-0000-0000-0000-000000000000"),
        ("PATCH", "/api/v1/users/%00"),
        ("POST", "/api/v1/api-keys"),
        ("PATCH", "/api/v1/me"),
        ("POST", "/api/v1/auth/2fa/confirm"),
    ];
    for (method, path) in routes {
        for body in bodies.iter().copied().chain([huge.as_str()]) {
            let request = app
                .request(reqwest::Method::from_bytes(method.as_bytes()).expect("method"), path)
                .bearer_auth(&admin)
                .header("content-type", "application/json")
                .body(body.to_owned());
            let response = app.send(request).await;
            assert!(
                (400..500).contains(&response.status),
                "{method} {path} {body:.40}: {} {}",
                response.status,
                response.text()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changing_requests_are_rate_limited_per_address() {
    let app = TestApp::spawn().await;
    for n in 0..120 {
        let response = app.post_json("/api/v1/auth/logout", &json!({})).await;
        assert_eq!(response.status, 400, "request {n}");
    }
    let limited = app.post_json("/api/v1/auth/logout", &json!({})).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("ratelimit-limit"), Some("120"));
    assert_eq!(app.get("/api/v1/services").await.status, 200, "reads are not counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colleagues_behind_one_address_are_limited_each_by_their_own_limit_as_configured() {
    let app = TestApp::spawn_with(
        crate::support::TestDb::migrated(),
        &[("rate_limits", "writes_per_address=3, authenticated_per_principal=8")],
    )
    .await;
    let (_, alice) = app.token_for("admin").await;
    let (_, bob) = app.token_for("admin").await;
    // (Two sign-ins were two writes from this address; one more anonymous write is allowed.)
    for (who, token) in [("alice", &alice), ("bob", &bob)] {
        for n in 0..5 {
            let body = json!({"name": format!("{who} {n}"), "slug": format!("{who}-{n}")});
            let response = app.call("POST", "/api/v1/services", Some(token), Some(&body)).await;
            assert_eq!(response.status, 201, "{who}'s write {n}: {}", response.text());
        }
    }
    let limited = loop {
        let response = app.call("GET", "/api/v1/me", Some(&alice), None).await;
        if response.status != 200 {
            break response;
        }
    };
    assert_eq!((limited.status, limited.header("ratelimit-limit")), (429, Some("8")), "alice's own limit");
    assert_eq!(app.call("GET", "/api/v1/me", Some(&bob), None).await.status, 200, "not bob's");
    // Anonymous writes, and writes whose credentials do not hold, count per address.
    assert_eq!(app.post_json("/api/v1/auth/logout", &json!({})).await.status, 400);
    let forged = app.call("POST", "/api/v1/services", Some("not-a-token"), Some(&json!({}))).await;
    assert_eq!((forged.status, forged.header("ratelimit-limit")), (429, Some("3")));
    let misconfigured = TestApp::spawn_with(crate::support::TestDb::migrated(), &[("rate_limits", "writes=5")]).await;
    let ready = misconfigured.get("/readyz").await;
    assert_eq!(ready.status, 503);
    assert!(ready.text().contains("rate_limits"), "{}", ready.text());
}
