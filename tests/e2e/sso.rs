//! Single sign-on with OpenID Connect against a real provider on loopback (the
//! certified `oidc-provider` package): the whole code flow with PKCE, accounts made and linked,
//! roles from the claim at every sign-in, and every refusal: a tampered, foreign or expired ID
//! token, a replayed or expired state, denied consent, a provider that is down, a key rotation.

use serde_json::{Value, json};

use crate::support::oidc::{OidcProvider, REDIRECT_URL};
use crate::support::recorder::refusing_address;
use crate::support::{TestApp, TestDb, TestResponse};

async fn app_for(provider: &OidcProvider, extra: &[(&str, &str)]) -> TestApp {
    let allowed = provider.allowed_hosts();
    let mut variables = vec![
        ("oidc_issuer", provider.issuer.as_str()),
        ("oidc_client_id", "statuspage"),
        ("oidc_client_secret", "sp-secret"),
        ("oidc_redirect_url", REDIRECT_URL),
        ("oidc_role_map", "status-admins=admin,sre=operator"),
        ("oidc_allowed_hosts", allowed.as_str()),
    ];
    variables.extend_from_slice(extra);
    TestApp::spawn_with(TestDb::migrated(), &variables).await
}

fn person(sub: &str, email: &str, groups: &[&str]) -> Value {
    json!({"sub": sub, "email": email, "email_verified": true, "name": format!("{sub} Example"), "groups": groups})
}

fn error_of(response: &TestResponse) -> (u16, String, String) {
    let body = response.json();
    (
        response.status,
        body["error"]["code"].as_str().unwrap_or_default().to_owned(),
        body["error"]["message"].as_str().unwrap_or_default().to_owned(),
    )
}

fn audit_actions(app: &TestApp, email: &str) -> Value {
    app.db.json(&format!(
        "select coalesce(jsonb_agg(a.action order by a.id), '[]'::jsonb) from audit_log a join users u on u.id = a.actor_id
         where u.email = '{email}'"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sign_in_makes_the_account_and_the_claim_sets_the_role_at_every_sign_in() {
    let provider = OidcProvider::start();
    let app = app_for(&provider, &[]).await;
    provider.next_login(person("alice", "Alice@Acme.test", &["sre", "staff"])).await;
    let signed = provider.sign_in(&app).await;
    assert_eq!(signed.status, 200, "{}", signed.text());
    let data = signed.json()["data"].clone();
    assert_eq!(
        (data["user"]["email"].as_str(), data["user"]["role"].as_str()),
        (Some("alice@acme.test"), Some("operator"))
    );
    assert_eq!(data["user"]["name"], "alice Example");
    let token = data["tokens"]["access_token"].as_str().expect("our token").to_owned();
    let me = app.call("GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!((me.status, me.json()["data"]["email"].as_str()), (200, Some("alice@acme.test")));
    assert_eq!(audit_actions(&app, "alice@acme.test"), json!(["sso.account_created", "session.login"]));
    let method = app.db.json("select after -> 'method' from audit_log where action = 'session.login'");
    assert_eq!(method, json!("sso"));

    // The claim is read again at each sign-in: promoted, then demoted to user when nothing maps.
    provider.next_login(person("alice", "alice@acme.test", &["status-admins"])).await;
    assert_eq!(provider.sign_in(&app).await.json()["data"]["user"]["role"], "admin");
    provider.next_login(person("alice", "alice@acme.test", &["staff"])).await;
    assert_eq!(provider.sign_in(&app).await.json()["data"]["user"]["role"], "user", "unmapped values give user");
    let changes = app.db.json(
        "select jsonb_agg(jsonb_build_array(before -> 'role', after -> 'role') order by id) from audit_log where action = 'user.role_changed'",
    );
    assert_eq!(changes, json!([["operator", "admin"], ["admin", "user"]]));
    assert_eq!(
        app.db.json("select to_jsonb(count(*)) from users where email = 'alice@acme.test'"),
        json!(1),
        "one account"
    );

    // The password route refuses an SSO-made account (it has none).
    let password = app.post_json("/api/v1/auth/login", &json!({"email": "alice@acme.test", "password": "!sso"})).await;
    assert_eq!(password.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_account_is_linked_by_a_verified_address_and_the_rules_refuse_clearly() {
    let provider = OidcProvider::start();
    let app = app_for(
        &provider,
        &[
            ("oidc_allowed_domains", "acme.test"),
            ("oidc_create_accounts", "false"),
            ("password_login_for_admins", "false"),
        ],
    )
    .await;
    app.create_user("bob@acme.test", "password-123", "admin");
    let refused =
        app.post_json("/api/v1/auth/login", &json!({"email": "bob@acme.test", "password": "password-123"})).await;
    let (status, _, message) = error_of(&refused);
    assert_eq!(status, 403);
    assert!(message.contains("password sign-in is off for admins"), "{message}");

    // An unverified address is not enough to take over the account.
    provider
        .next_login(
            json!({"sub": "bob-sub", "email": "bob@acme.test", "email_verified": false, "groups": ["status-admins"]}),
        )
        .await;
    let (status, _, message) = error_of(&provider.sign_in(&app).await);
    assert_eq!(status, 403);
    assert!(message.contains("has not verified bob@acme.test"), "{message}");
    provider.next_login(person("bob-sub", "bob@acme.test", &["status-admins"])).await;
    let linked = provider.sign_in(&app).await;
    assert_eq!(
        (linked.status, linked.json()["data"]["user"]["role"].as_str()),
        (200, Some("admin")),
        "{}",
        linked.text()
    );
    assert_eq!(audit_actions(&app, "bob@acme.test"), json!(["sso.account_linked", "session.login"]));
    let link = app.db.json("select to_jsonb(oidc_subject) from users where email = 'bob@acme.test'");
    assert_eq!(link, json!("bob-sub"));

    // Other domains, and unknown people when accounts are not made, are told why.
    provider.next_login(person("eve", "eve@other.test", &[])).await;
    let (status, _, message) = error_of(&provider.sign_in(&app).await);
    assert_eq!(status, 403);
    assert!(message.contains("accounts of other.test may not sign in here"), "{message}");
    provider.next_login(person("carol", "carol@acme.test", &[])).await;
    let (status, _, message) = error_of(&provider.sign_in(&app).await);
    assert_eq!(status, 403);
    assert!(message.contains("no account here has carol@acme.test"), "{message}");
    assert_eq!(app.db.json("select to_jsonb(count(*)) from users where email = 'carol@acme.test'"), json!(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_or_stale_answers_are_refused_and_a_state_works_once() {
    let provider = OidcProvider::start();
    let app = app_for(&provider, &[]).await;
    provider.next_login(person("dan", "dan@acme.test", &["sre"])).await;
    for (forgery, words) in
        [("tampered", "signature does not verify"), ("audience", "audience"), ("expired", "has expired")]
    {
        provider.forge_next(forgery).await;
        let (status, code, message) = error_of(&provider.sign_in(&app).await);
        assert_eq!((status, code.as_str()), (401, "unauthorized"), "{forgery}: {message}");
        assert!(message.contains(words), "{forgery}: {message}");
    }
    assert_eq!(
        app.db.json("select to_jsonb(count(*)) from users where email = 'dan@acme.test'"),
        json!(0),
        "nobody got in"
    );

    // A state works once...
    let query = provider.authorize(&app).await;
    let first = app.get(&format!("/api/v1/auth/oidc/callback?{query}")).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let (status, code, _) = error_of(&app.get(&format!("/api/v1/auth/oidc/callback?{query}")).await);
    assert_eq!((status, code.as_str()), (400, "sso_state_invalid"), "a replayed callback");
    // ...and for ten minutes.
    let late = provider.authorize(&app).await;
    app.set_now(time::OffsetDateTime::now_utc() + time::Duration::minutes(11));
    let (status, code, message) = error_of(&app.get(&format!("/api/v1/auth/oidc/callback?{late}")).await);
    assert_eq!((status, code.as_str()), (400, "sso_state_invalid"), "{message}");
    assert!(message.contains("start again"), "{message}");
    app.set_now(time::OffsetDateTime::now_utc());
    let (status, code, _) = error_of(&app.get("/api/v1/auth/oidc/callback?code=x&state=never-issued").await);
    assert_eq!((status, code.as_str()), (400, "sso_state_invalid"));

    // Denied consent reads as such.
    provider.deny_next().await;
    let (status, _, message) = error_of(&provider.sign_in(&app).await);
    assert_eq!(status, 403);
    assert!(message.contains("The person declined to sign in (access_denied)"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotation_at_the_provider_and_es256_tokens_are_taken_in_stride() {
    let provider = OidcProvider::start();
    let app = app_for(&provider, &[]).await;
    provider.next_login(person("erin", "erin@acme.test", &["sre"])).await;
    assert_eq!(provider.sign_in(&app).await.status, 200);
    assert_eq!(provider.sign_in(&app).await.status, 200);
    assert_eq!(provider.jwks_fetches().await, 1, "the keys are cached");
    provider.rotate_keys().await;
    let rotated = provider.sign_in(&app).await;
    assert_eq!(rotated.status, 200, "a token under the new key: {}", rotated.text());
    assert_eq!(provider.jwks_fetches().await, 2, "an unknown key id fetches the keys again");

    let es = app_for(&provider, &[("oidc_client_id", "statuspage-es")]).await;
    let signed = provider.sign_in(&es).await;
    assert_eq!(signed.status, 200, "ES256: {}", signed.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_is_down_or_absent_is_a_clear_answer() {
    let down = format!("http://{}", refusing_address());
    let app = TestApp::spawn_with(
        TestDb::migrated(),
        &[("oidc_issuer", &down), ("oidc_client_id", "statuspage"), ("oidc_allowed_hosts", &down)],
    )
    .await;
    let (status, code, message) = error_of(&app.get("/api/v1/auth/oidc/login").await);
    assert_eq!((status, code.as_str()), (424, "sso_provider_unavailable"), "{message}");
    assert!(message.contains("/.well-known/openid-configuration"), "{message}");
    let off = TestApp::spawn().await;
    let (status, _, message) = error_of(&off.get("/api/v1/auth/oidc/login").await);
    assert_eq!(status, 404);
    assert!(message.contains("single sign-on is not configured"), "{message}");
}
