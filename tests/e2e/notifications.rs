//! Notifications end to end: loopback servers stand in for the e-mail relays, the
//! Telegram Bot API and webhook receivers, and every test asserts the exact requests the app
//! sends (paths, credentials, headers, bodies) and what it does with each answer.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::recorder::{Recorded, Recorder, Reply};
use crate::support::{TestApp, TestDb, field_errors};

/// The app with every channel type configured against loopback recorders.
pub struct Stack {
    pub app: TestApp,
    pub relay: Recorder,
    pub telegram: Recorder,
    pub hooks: Recorder,
}

pub const BASE: &str = "https://status.acme.test";

/// The relay's usual answer for `provider`.
pub(crate) fn relay_ok(provider: &str) -> Reply {
    match provider {
        "postmark" => Reply::json(200, json!([{"ErrorCode": 0, "Message": "OK", "MessageID": "pm-1"}])),
        "resend" => Reply::json(200, json!({"data": [{"id": "re-1"}]})),
        "mailgun" => Reply::json(200, json!({"id": "<mg-1@acme.test>", "message": "Queued. Thank you."})),
        _ => Reply::status(202),
    }
}

pub(crate) async fn stack_with(provider: &str, extra: &[(&str, &str)]) -> Stack {
    let relay = Recorder::start(relay_ok(provider)).await;
    let telegram = Recorder::start(Reply::json(200, json!({"ok": true, "result": {"message_id": 1}}))).await;
    let hooks = Recorder::start(Reply::json(200, json!({}))).await;
    let (relay_url, telegram_url) = (relay.url(), telegram.url());
    let mut variables: Vec<(&str, &str)> = vec![
        ("base_url", BASE),
        ("email_provider", provider),
        ("email_api_base_url", &relay_url),
        ("email_api_key", "key-123"),
        ("email_from", "Acme Status <status@acme.test>"),
        ("telegram_bot_token", "123:TOKEN"),
        ("telegram_api_base_url", &telegram_url),
        ("telegram_bot_username", "acme_status_bot"),
        ("telegram_webhook_secret", "tg-secret"),
        // Every loopback port: the recorders, and addresses where nothing listens.
        ("webhook_allowed_hosts", "http://127.0.0.1:*"),
        ("delivery_timeout_seconds", "2"),
    ];
    variables.extend_from_slice(extra);
    let app = TestApp::spawn_with(TestDb::migrated(), &variables).await;
    Stack { app, relay, telegram, hooks }
}

pub(crate) async fn stack(provider: &str) -> Stack {
    stack_with(provider, &[]).await
}

/// The 6-digit code in a SendGrid verification e-mail.
pub(crate) fn code_in(request: &Recorded) -> String {
    let text = request.json()["content"][0]["value"].as_str().expect("text").to_owned();
    let at = text.find(char::is_numeric).expect("a code");
    text[at..at + 6].to_owned()
}

/// Waits for the `count`th request at `recorder` (within 3 s).
pub(crate) async fn nth(recorder: &Recorder, count: usize) -> Recorded {
    let requests = recorder.wait_for(count, Duration::from_secs(3)).await;
    assert!(
        requests.len() >= count,
        "expected {count} requests, got {}: {:#?}",
        requests.len(),
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    requests[count - 1].clone()
}

/// A person with a verified e-mail channel (through the real code flow); answers their token
/// and the channel.
pub(crate) async fn person_with_email(stack: &Stack, address: &str) -> (String, Value) {
    let (_, token) = stack.app.token_for("user").await;
    let channel = verified_email(stack, &token, json!({"type": "email", "target": address})).await;
    (token, channel)
}

/// Creates the e-mail channel `body` describes for `token`'s account and verifies it with the
/// code the relay received; answers the channel.
pub(crate) async fn verified_email(stack: &Stack, token: &str, body: Value) -> Value {
    let before = stack.relay.requests().len();
    let created = stack.app.create(token, "/api/v1/me/channels", body).await;
    let mail = nth(&stack.relay, before + 1).await;
    let code = code_in(&mail);
    let path = format!("/api/v1/me/channels/{}/verify", created["id"].as_str().expect("id"));
    let verified = stack.app.call("POST", &path, Some(token), Some(&json!({"code": code}))).await;
    assert_eq!(verified.status, 200, "{}", verified.text());
    verified.json()["data"].clone()
}

pub(crate) async fn incident(app: &TestApp, admin: &str, title: &str, services: &[&Value]) -> Value {
    let affected: Vec<Value> =
        services.iter().map(|s| json!({"service_id": s["id"], "status": "major_outage"})).collect();
    app.create(
        admin,
        "/api/v1/events",
        json!({"title": title, "type": "incident", "status": "investigating", "severity": "critical",
               "notify_subscribers": true, "affected_services": affected}),
    )
    .await
}

pub(crate) async fn deliveries(app: &TestApp, query: &str) -> Vec<Value> {
    let admin = app.admin().await;
    let response =
        app.call("GET", &format!("/api/v1/notifications/deliveries?per_page=100{query}"), Some(&admin), None).await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["data"].as_array().expect("deliveries").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_channel_verifies_by_code_and_hears_of_incidents_within_a_second() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let (_, token) = app.token_for("user").await;
    let created = app.create(&token, "/api/v1/me/channels", json!({"type": "email", "target": "Ops@Acme.test"})).await;
    assert_eq!(created["verification"]["method"], "email_code");
    assert_eq!((created["is_verified"].as_bool(), created["target"].as_str()), (Some(false), Some("ops@acme.test")));
    let mail = nth(&stack.relay, 1).await;
    assert_eq!((mail.method.as_str(), mail.path.as_str()), ("POST", "/v3/mail/send"));
    assert_eq!(mail.header("authorization"), Some("Bearer key-123"));
    let body = mail.json();
    assert_eq!(body["personalizations"][0]["to"], json!([{"email": "ops@acme.test"}]));
    assert_eq!(body["from"], json!({"email": "status@acme.test", "name": "Acme Status"}));
    assert!(
        body["subject"].as_str().is_some_and(|s| s.starts_with("[Service Status] Your verification code: ")),
        "{body}"
    );
    let text = body["content"][0]["value"].as_str().expect("text");
    assert!(text.contains(&format!("{BASE}/subscribers/confirm?token=")), "{text}");
    assert_eq!(body["content"][1]["type"], "text/html");

    let path = format!("/api/v1/me/channels/{}/verify", created["id"].as_str().expect("id"));
    let wrong = app.call("POST", &path, Some(&token), Some(&json!({"code": "000000"}))).await;
    let code = code_in(&mail);
    if code != "000000" {
        assert_eq!((wrong.status, field_errors(&wrong)), (400, vec!["code".to_owned()]));
        assert!(wrong.text().contains("4 attempts left"), "{}", wrong.text());
    }
    let verified = app.call("POST", &path, Some(&token), Some(&json!({"code": code}))).await;
    assert_eq!(verified.status, 200, "{}", verified.text());
    assert_eq!(verified.json()["data"]["is_verified"], true);

    let admin = app.admin().await;
    let api = app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    let written = Instant::now();
    incident(app, &admin, "API <errors> & timeouts", &[&api]).await;
    let mail = nth(&stack.relay, 2).await;
    let took = written.elapsed();
    assert!(took < Duration::from_secs(2), "the incident e-mail took {took:?} after the write answered");
    let body = mail.json();
    assert_eq!(body["subject"], "[Service Status] Incident: API <errors> & timeouts — Investigating");
    let personalization = &body["personalizations"][0];
    let unsubscribe = personalization["substitutions"]["-sp-unsubscribe-"].as_str().expect("a link of its own");
    assert!(unsubscribe.starts_with(&format!("{BASE}/subscribers/unsubscribe?token=")), "{unsubscribe}");
    assert_eq!(personalization["headers"]["List-Unsubscribe"], format!("<{unsubscribe}>"));
    assert_eq!(personalization["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
    let text = body["content"][0]["value"].as_str().expect("text");
    assert!(text.contains("API (Major outage)") && text.contains(&format!("{BASE}/incidents/")), "{text}");
    assert!(text.contains("Unsubscribe: -sp-unsubscribe-"), "the relay puts each recipient's link in: {text}");
    let html = body["content"][1]["value"].as_str().expect("html");
    assert!(html.contains("API &lt;errors&gt; &amp; timeouts") && !html.contains("<errors>"), "{html}");

    // An update that does not notify sends nothing; the admin view shows what went out.
    let events = app.call("GET", "/api/v1/events", None, None).await.json();
    let id = events["data"][0]["id"].as_str().expect("id").to_owned();
    let quiet = app
        .call(
            "POST",
            &format!("/api/v1/events/{id}/updates"),
            Some(&admin),
            Some(&json!({"message": "Still looking."})),
        )
        .await;
    assert_eq!(quiet.status, 201);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stack.relay.requests().len(), 2);
    let sent = deliveries(app, "&status=sent").await;
    let kinds: Vec<&str> = sent.iter().map(|d| d["kind"].as_str().unwrap_or_default()).collect();
    assert_eq!(kinds, ["incident_created", "channel_verification"]);
    assert_eq!(sent[0]["event_id"], Value::String(id));
    assert_eq!(sent[0]["attempts"], 1);
}

/// The first URL starting with `prefix` in `text`.
pub(crate) fn url_in(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).unwrap_or_else(|| panic!("no {prefix} in {text}"));
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .next()
        .unwrap_or_default()
        .replace("&amp;", "&")
}

/// The plain-text body of a relay request, whichever relay it is.
pub(crate) fn text_of(provider: &str, request: &Recorded) -> String {
    match provider {
        "postmark" => request.json()[0]["TextBody"].as_str().unwrap_or_default().to_owned(),
        "resend" => request.json()[0]["text"].as_str().unwrap_or_default().to_owned(),
        "mailgun" => form_urlencoded::parse(&request.body)
            .find(|(k, _)| k == "text")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default(),
        _ => request.json()["content"][0]["value"].as_str().unwrap_or_default().to_owned(),
    }
}

/// The value of the hidden form field `name` in a page.
pub(crate) fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker).nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_default().replace("&amp;", "&")
}

/// Posts a form, as a browser does.
pub(crate) async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> crate::support::TestResponse {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    app.send(
        app.request(reqwest::Method::POST, path).header("content-type", "application/x-www-form-urlencoded").body(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_relay_gets_its_own_wire_format_and_the_unsubscribe_headers() {
    for provider in ["postmark", "resend", "mailgun"] {
        let stack = stack(provider).await;
        let app = &stack.app;
        // A public sign-up from the page's form: a page back, a confirmation link by e-mail.
        let signed = post_form(app, "/api/v1/subscribers", &[("email", "fan@example.test"), ("language", "ru")]).await;
        assert_eq!(signed.status, 200, "{provider}: {}", signed.text());
        assert!(signed.text().contains("Проверьте почту"), "{provider}: the page is in the subscriber's language");
        let mail = nth(&stack.relay, 1).await;
        let confirm = url_in(&text_of(provider, &mail), &format!("{BASE}/subscribers/confirm?token="));
        let token = confirm.split("token=").nth(1).expect("token").to_owned();
        let confirmed = post_form(app, "/subscribers/confirm", &[("token", &token)]).await;
        assert_eq!(confirmed.status, 200, "{provider}: {}", confirmed.text());
        assert!(confirmed.text().contains("Подписка оформлена"), "{provider}");

        let admin = app.admin().await;
        incident(app, &admin, "Slow checkout", &[]).await;
        let mail = nth(&stack.relay, 2).await;
        let name = format!("{provider} incident e-mail");
        match provider {
            "postmark" => {
                assert_eq!(mail.path, "/email/batch", "{name}");
                assert_eq!(mail.header("x-postmark-server-token"), Some("key-123"), "{name}");
                let message = &mail.json()[0];
                assert_eq!(
                    (message["From"].as_str(), message["To"].as_str()),
                    (Some("Acme Status <status@acme.test>"), Some("fan@example.test"))
                );
                assert_eq!(message["Subject"], "[Service Status] Инцидент: Slow checkout — Расследуем", "{name}");
                assert_eq!(message["MessageStream"], "outbound");
                let headers = message["Headers"].as_array().expect("headers");
                assert_eq!(headers[0]["Name"], "List-Unsubscribe");
                assert!(
                    headers[0]["Value"]
                        .as_str()
                        .is_some_and(|v| v.starts_with(&format!("<{BASE}/subscribers/unsubscribe?token="))),
                    "{name}"
                );
                assert_eq!(headers[1], json!({"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"}));
                assert!(message["HtmlBody"].as_str().is_some_and(|h| h.contains("<html lang=\"ru\">")), "{name}");
            }
            "resend" => {
                assert_eq!(mail.path, "/emails/batch", "{name}");
                assert_eq!(mail.header("authorization"), Some("Bearer key-123"));
                assert!(
                    mail.header("idempotency-key").is_some_and(|k| k.len() == 32),
                    "{name}: retries of the same batch are one send"
                );
                let message = &mail.json()[0];
                assert_eq!(message["to"], json!(["fan@example.test"]));
                assert_eq!(message["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
                assert!(message["text"].as_str().is_some_and(|t| {
                    t.contains("Отписаться: https://status.acme.test/subscribers/unsubscribe?token=")
                }));
            }
            _ => {
                assert_eq!(mail.path, "/v3/acme.test/messages", "{name}: the domain of email_from");
                assert_eq!(mail.header("authorization"), Some("Basic YXBpOmtleS0xMjM="), "api:key-123");
                assert_eq!(mail.header("content-type"), Some("application/x-www-form-urlencoded"));
                let form: Vec<(String, String)> = form_urlencoded::parse(&mail.body).into_owned().collect();
                let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
                assert_eq!(field("to"), "fan@example.test");
                assert_eq!(field("h:List-Unsubscribe"), "<%recipient.unsubscribe%>");
                let variables: Value =
                    serde_json::from_str(&field("recipient-variables")).expect("recipient variables");
                assert!(
                    variables["fan@example.test"]["unsubscribe"]
                        .as_str()
                        .is_some_and(|u| u.starts_with(&format!("{BASE}/subscribers/unsubscribe?token=")))
                );
                assert!(field("text").contains("%recipient.unsubscribe%"), "{name}");
            }
        }
        let sent = deliveries(app, "&kind=incident_created").await;
        assert_eq!(sent[0]["status"], "sent", "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_subscribers_opt_in_twice_manage_by_code_and_leave_in_one_click() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let admin = app.admin().await;
    let api = app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    let web = app.create(&admin, "/api/v1/services", json!({"name": "Web", "slug": "web"})).await;
    let signed =
        app.post_json("/api/v1/subscribers", &json!({"email": "reader@example.test", "components": [api["id"]]})).await;
    assert_eq!(signed.status, 202, "{}", signed.text());
    let same_answer = signed.json();
    let mail = nth(&stack.relay, 1).await;
    assert_eq!(mail.json()["subject"], "[Service Status] Confirm your subscription");
    let confirm = url_in(&text_of("sendgrid", &mail), &format!("{BASE}/subscribers/confirm?token="));
    let local = confirm.trim_start_matches(BASE);
    // Following the link (as a mail scanner does) only shows the button.
    let page = app.get(local).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<form") && page.text().contains("action=\"/subscribers/confirm\""));
    let pending =
        app.db.json("select to_jsonb(verified_at is null) from channels where target = 'reader@example.test'");
    assert_eq!(pending, json!(true), "a GET confirms nothing");
    let token = confirm.split("token=").nth(1).expect("token").to_owned();
    let api_confirmed = app.post_json("/api/v1/subscribers/confirm", &json!({"token": token})).await;
    assert_eq!(api_confirmed.status, 200, "{}", api_confirmed.text());
    let again = app.post_json("/api/v1/subscribers/confirm", &json!({"token": token})).await;
    assert_eq!((again.status, field_errors(&again)), (400, vec!["token".to_owned()]), "a link confirms once");

    // Only what it chose: an incident on Web alone reaches nobody; one on API does.
    incident(app, &admin, "Web is slow", &[&web]).await;
    incident(app, &admin, "API is down", &[&api]).await;
    let mail = nth(&stack.relay, 2).await;
    assert_eq!(mail.json()["subject"], "[Service Status] Incident: API is down — Investigating");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stack.relay.requests().len(), 2, "the Web incident went to nobody");

    // Signing up again with a confirmed address answers the same and changes nothing: the
    // address gets a manage link instead.
    let again = app.post_json("/api/v1/subscribers", &json!({"email": "reader@example.test"})).await;
    assert_eq!((again.status, again.json()), (202, same_answer), "no enumeration");
    let mail = nth(&stack.relay, 3).await;
    assert_eq!(mail.json()["subject"], "[Service Status] Manage your subscription");
    let manage = url_in(&text_of("sendgrid", &mail), &format!("{BASE}/subscribers/manage?code="));
    let code = manage.split("code=").nth(1).expect("code").to_owned();
    let page = app.get(manage.trim_start_matches(BASE)).await;
    assert!(page.text().contains("/subscribers/manage/open"), "the link shows a button, it does not spend the code");
    let opened = post_form(app, "/subscribers/manage/open", &[("code", &code)]).await;
    assert_eq!(opened.status, 200, "code {code}: {}", opened.text().split("<main").nth(1).unwrap_or_default());
    let html = opened.text();
    let session = hidden_field(&html, "session");
    assert!(!session.is_empty(), "{html}");
    let spent = post_form(app, "/subscribers/manage/open", &[("code", &code)]).await;
    assert_eq!(spent.status, 400, "a manage code works once");
    let web_id = web["id"].as_str().expect("id");
    let saved = post_form(
        app,
        "/subscribers/manage",
        &[("session", &session), ("service_ids", web_id), ("digest", "daily"), ("action", "save")],
    )
    .await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    let settings = app.db.json(
        "select jsonb_build_object('digest', c.digest, 'all', c.subscribe_all,
                                   'services', (select jsonb_agg(service_id) from channel_services where channel_id = c.id))
         from channels c where target = 'reader@example.test'",
    );
    assert_eq!(settings, json!({"digest": "daily", "all": false, "services": [web["id"]]}));

    // One click from a message unsubscribes (RFC 8058), with no page in between.
    let incident_mail = stack.relay.requests()[1].json();
    let unsubscribe =
        incident_mail["personalizations"][0]["substitutions"]["-sp-unsubscribe-"].as_str().expect("link").to_owned();
    let one_click = app
        .send(
            app.request(reqwest::Method::POST, unsubscribe.trim_start_matches(BASE))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("List-Unsubscribe=One-Click"),
        )
        .await;
    assert_eq!(one_click.status, 200, "{}", one_click.text());
    assert_eq!(app.db.json("select to_jsonb(count(*)) from channels where target = 'reader@example.test'"), json!(0));
    let gone =
        app.post_json("/api/v1/subscribers/unsubscribe", &json!({"token": unsubscribe.split("token=").nth(1)})).await;
    assert_eq!(gone.status, 404);
    let forged = app.post_json("/api/v1/subscribers/unsubscribe", &json!({"token": "forged.token"})).await;
    assert_eq!((forged.status, field_errors(&forged)), (400, vec!["token".to_owned()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ups_are_limited_per_recipient_and_refuse_bad_input_clearly() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    // (Ten sign-up requests an hour per client address: these and the six below.)
    for body in [json!({}), json!({"email": "not-an-address"}), json!({"email": "a@b.test", "colour": "red"})] {
        let response = app.post_json("/api/v1/subscribers", &body).await;
        assert_eq!(response.status, 400, "{body}: {}", response.text());
    }
    let unknown = app
        .post_json("/api/v1/subscribers", &json!({"email": "a@b.test", "service_ids": [uuid::Uuid::new_v4()]}))
        .await;
    assert_eq!(field_errors(&unknown), ["service_ids"]);
    // Many sign-ups of one address (a minute apart, past the resend cooldown) send at most five
    // messages a day; every one answers the same.
    let start = time::OffsetDateTime::now_utc();
    for i in 0..6 {
        app.set_now(start + time::Duration::minutes(2 * i));
        let response = app.post_json("/api/v1/subscribers", &json!({"email": "victim@example.test"})).await;
        assert_eq!(response.status, 202, "{}", response.text());
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let to_victim = stack.relay.requests().iter().filter(|r| r.text().contains("victim@example.test")).count();
    assert_eq!(to_victim, 5, "five a day to one address");
}
