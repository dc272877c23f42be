//! The delivery engine end to end: Telegram and webhook channels against loopback
//! stand-ins, and what the engine does when the far side fails — 5xx, 429 with
//! `Retry-After`, a hang past the timeout, a dropped or refused connection, a run that dies
//! holding its claim, two runs at once — with the clock driven through the back-off.

use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::notifications::{Stack, deliveries, incident, nth, person_with_email, stack, stack_with};
use crate::support::TestApp;
use crate::support::recorder::{Recorded, Reply, refusing_address};

/// Waits (up to 5 s) until `sql`, a boolean, is true.
async fn until(app: &TestApp, what: &str, sql: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if app.db.json(sql) == json!(true) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}: {}", delivery_rows(app));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every delivery row, oldest first (for failure messages and assertions).
fn delivery_rows(app: &TestApp) -> Value {
    app.db.json(
        "select coalesce(jsonb_agg(jsonb_build_object(
                    'kind', kind, 'channel', channel, 'recipient', recipient, 'status', status,
                    'attempts', attempts, 'last_error', last_error,
                    'next_in', extract(epoch from next_attempt_at - updated_at)::int)
                  order by created_at, recipient), '[]'::jsonb)
         from notification_outbox",
    )
}

/// The deliveries of `kind`.
fn rows_of(app: &TestApp, kind: &str) -> Vec<Value> {
    delivery_rows(app).as_array().expect("rows").iter().filter(|r| r["kind"] == kind).cloned().collect()
}

/// Runs the scheduler at `at`, with the components' clock there too.
async fn tick(app: &TestApp, at: OffsetDateTime) {
    app.set_now(at);
    app.run_cron(u64::try_from(at.unix_timestamp()).expect("after 1970")).await.expect("the tick runs");
}

/// A whole-second "now" a test starts from (ticks are claimed per second).
fn whole_second_now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).expect("valid")
}

fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Checks a webhook request's signature as a receiver would (with the channel's secret).
fn assert_signed(request: &Recorded, secret: &str) {
    let timestamp = request.header("x-statuspage-timestamp").expect("a timestamp");
    assert_eq!(
        request.header("x-statuspage-signature"),
        Some(signature(secret, timestamp, &request.body).as_str()),
        "the signature is HMAC-SHA256 of `<timestamp>.<body>` under the channel's secret"
    );
}

fn telegram_update(chat: i64, text: &str) -> Value {
    json!({"update_id": 1, "message": {"message_id": 7, "date": 1_765_000_000,
            "chat": {"id": chat, "type": "private", "first_name": "Ops"}, "text": text}})
}

async fn post_update(app: &TestApp, admin: &str, event: &Value, body: Value) {
    let path = format!("/api/v1/events/{}/updates", event["id"].as_str().expect("id"));
    let response = app.call("POST", &path, Some(admin), Some(&body)).await;
    assert_eq!(response.status, 201, "{}", response.text());
}

/// Connects a Telegram channel of `token`'s account to chat `chat` through the real deep link;
/// answers the channel.
pub(crate) async fn telegram_channel(stack: &Stack, token: &str, chat: i64, language: &str) -> Value {
    let app = &stack.app;
    let created = app.create(token, "/api/v1/me/channels", json!({"type": "telegram", "language": language})).await;
    let link = created["verification"]["url"].as_str().expect("a deep link").to_owned();
    let start = link.split("?start=").nth(1).expect("a start token").to_owned();
    let before = stack.telegram.requests().len();
    let webhook = app
        .send(
            app.request(reqwest::Method::POST, "/api/v1/telegram/webhook")
                .header("x-telegram-bot-api-secret-token", "tg-secret")
                .json(&telegram_update(chat, &format!("/start {start}"))),
        )
        .await;
    assert_eq!((webhook.status, webhook.json()), (200, json!({"ok": true})));
    nth(&stack.telegram, before + 1).await;
    let id = created["id"].as_str().expect("id");
    app.call("GET", &format!("/api/v1/me/channels/{id}"), Some(token), None).await.json()["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_chats_connect_by_deep_link_and_get_escaped_html_retried_as_told_and_stopped_when_blocked() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let (_, token) = app.token_for("user").await;
    let created = app.create(&token, "/api/v1/me/channels", json!({"type": "telegram", "language": "ru"})).await;
    let link = created["verification"]["url"].as_str().expect("a deep link");
    assert!(link.starts_with("https://t.me/acme_status_bot?start="), "{link}");
    assert_eq!((created["is_verified"].as_bool(), created["target"].as_str()), (Some(false), Some("")));
    let verify = format!("/api/v1/me/channels/{}/verify", created["id"].as_str().expect("id"));
    let early = app.call("POST", &verify, Some(&token), None).await;
    assert_eq!((early.status, early.json()["error"]["code"].as_str()), (409, Some("not_confirmed")));
    // It is not verified by a code: one sent is refused, not ignored.
    let with_code = app.call("POST", &verify, Some(&token), Some(&json!({"code": "123456"}))).await;
    assert_eq!(with_code.status, 400, "{}", with_code.text());
    assert!(with_code.text().contains("a telegram channel takes no code"), "{}", with_code.text());

    // Only Telegram knows the secret it sends back.
    let deep = link.split("?start=").nth(1).expect("token");
    let update = telegram_update(4242, &format!("/start {deep}"));
    for secret in [None, Some("guess")] {
        let mut request = app.request(reqwest::Method::POST, "/api/v1/telegram/webhook").json(&update);
        if let Some(secret) = secret {
            request = request.header("x-telegram-bot-api-secret-token", secret);
        }
        assert_eq!(app.send(request).await.status, 401, "secret {secret:?}");
    }
    let confirmed = app
        .send(
            app.request(reqwest::Method::POST, "/api/v1/telegram/webhook")
                .header("x-telegram-bot-api-secret-token", "tg-secret")
                .json(&update),
        )
        .await;
    assert_eq!(confirmed.status, 200);
    let hello = nth(&stack.telegram, 1).await;
    assert_eq!((hello.method.as_str(), hello.path.as_str()), ("POST", "/bot123:TOKEN/sendMessage"));
    let body = hello.json();
    assert_eq!((body["chat_id"].as_str(), body["parse_mode"].as_str()), (Some("4242"), Some("HTML")));
    assert!(body["text"].as_str().is_some_and(|t| t.starts_with("Готово")), "in the channel's language: {body}");
    let verified = app.call("POST", &verify, Some(&token), None).await;
    assert_eq!(verified.status, 200);
    assert_eq!(
        (verified.json()["data"]["is_verified"].as_bool(), verified.json()["data"]["target"].as_str()),
        (Some(true), Some("4242"))
    );

    // An incident reaches the chat, its text escaped for Telegram's HTML.
    let admin = app.admin().await;
    let event = incident(app, &admin, "DB <primary> & replicas", &[]).await;
    let text = nth(&stack.telegram, 2).await.json()["text"].as_str().expect("text").to_owned();
    assert!(text.starts_with("<b>DB &lt;primary&gt; &amp; replicas</b>\n"), "{text}");
    assert!(
        text.contains(&format!(
            "<a href=\"https://status.acme.test/incidents/{}\">",
            event["id"].as_str().expect("id")
        )),
        "{text}"
    );

    // Flood control: the next message waits exactly as long as Telegram says.
    stack.telegram.script([Reply::json(
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7",
               "parameters": {"retry_after": 7}}),
    )]);
    let t0 = whole_second_now();
    app.set_now(t0);
    post_update(
        app,
        &admin,
        &event,
        json!({"status": "identified", "message": "Found it", "notify_subscribers": true}),
    )
    .await;
    nth(&stack.telegram, 3).await;
    until(app, "the 429 is recorded", "select to_jsonb(exists (select 1 from notification_outbox where kind = 'incident_updated' and status = 'pending' and attempts = 1))").await;
    let waiting = &rows_of(app, "incident_updated")[0];
    assert_eq!(waiting["next_in"], 7, "{waiting}");
    assert!(waiting["last_error"].as_str().is_some_and(|e| e.contains("retry after 7")), "{waiting}");
    tick(app, t0 + time::Duration::seconds(5)).await;
    assert_eq!(stack.telegram.requests().len(), 3, "not before the 7 seconds are up");
    tick(app, t0 + time::Duration::seconds(8)).await;
    assert_eq!(nth(&stack.telegram, 4).await.json()["text"].as_str().map(|t| t.contains("Found it")), Some(true));
    assert_eq!(rows_of(app, "incident_updated")[0]["status"], "sent");

    // A chat that blocked the bot: the delivery is dead, the channel stops, its owner is told.
    stack.telegram.script([Reply::json(
        403,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
    )]);
    let relay_before = stack.relay.requests().len();
    post_update(
        app,
        &admin,
        &event,
        json!({"status": "monitoring", "message": "Fixed, watching", "notify_subscribers": true}),
    )
    .await;
    nth(&stack.telegram, 5).await;
    let told = nth(&stack.relay, relay_before + 1).await.json();
    assert_eq!(told["subject"], "[Service Status] Канал уведомлений отключён", "in the channel's language");
    assert!(told["content"][0]["value"].as_str().is_some_and(|t| t.contains("bot was blocked")), "{told}");
    let channel = app
        .call("GET", &format!("/api/v1/me/channels/{}", created["id"].as_str().expect("id")), Some(&token), None)
        .await
        .json()["data"]
        .clone();
    assert_eq!(channel["is_enabled"], false);
    assert!(channel["disabled_reason"].as_str().is_some_and(|r| r.contains("bot was blocked")), "{channel}");
    let dead = deliveries(app, "&status=dead&kind=incident_updated").await;
    assert_eq!(dead.len(), 1, "{dead:?}");

    // Nothing more goes to a stopped channel; /stop in a chat stops it as well.
    post_update(app, &admin, &event, json!({"status": "resolved", "message": "Done", "notify_subscribers": true}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stack.telegram.requests().len(), 5);
    let (_, someone) = app.token_for("user").await;
    let other = telegram_channel(&stack, &someone, 777, "en").await;
    assert_eq!(other["is_verified"], true);
    let stop = app
        .send(
            app.request(reqwest::Method::POST, "/api/v1/telegram/webhook")
                .header("x-telegram-bot-api-secret-token", "tg-secret")
                .json(&telegram_update(777, "/stop")),
        )
        .await;
    assert_eq!(stop.status, 200);
    let stopped = app
        .db
        .json(&format!("select to_jsonb(enabled) from channels where id = '{}'", other["id"].as_str().expect("id")));
    assert_eq!(stopped, json!(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_channels_prove_themselves_with_a_signed_test_and_receive_statuspage_json() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let (_, token) = app.token_for("operator").await;
    let url = format!("{}/hooks/ops", stack.hooks.url());
    let created = app.create(&token, "/api/v1/me/channels", json!({"type": "webhook", "target": url})).await;
    let secret = created["secret"].as_str().expect("the secret, shown once").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(
        (created["is_verified"].as_bool(), created["verification"]["delivered"].as_bool()),
        (Some(true), Some(true))
    );
    let listed = app.call("GET", "/api/v1/me/channels", Some(&token), None).await.json();
    assert!(listed["data"][0].get("secret").is_none(), "the secret is never shown again");
    let ping = nth(&stack.hooks, 1).await;
    assert_eq!((ping.path.as_str(), ping.header("content-type")), ("/hooks/ops", Some("application/json")));
    assert_eq!(ping.header("x-statuspage-event"), Some("channel_test"));
    assert_signed(&ping, &secret);
    assert_eq!(ping.json()["ping"], true);

    // An incident: the incident and the component's change, each signed.
    let admin = app.admin().await;
    let api = app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    let event = incident(app, &admin, "API errors", &[&api]).await;
    let requests = stack.hooks.wait_for(3, Duration::from_secs(3)).await;
    assert_eq!(requests.len(), 3);
    let of = |kind: &str| {
        requests
            .iter()
            .find(|r| r.header("x-statuspage-event") == Some(kind))
            .cloned()
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    let created_hook = of("incident_created");
    assert_signed(&created_hook, &secret);
    let body = created_hook.json();
    assert_eq!(body["incident"]["id"], event["id"]);
    assert_eq!(
        (body["incident"]["name"].as_str(), body["incident"]["status"].as_str(), body["incident"]["impact"].as_str()),
        (Some("API errors"), Some("investigating"), Some("critical"))
    );
    assert_eq!(body["incident"]["components"], json!([{"id": api["id"], "name": "API", "status": "major_outage"}]));
    assert_eq!(
        body["incident"]["shortlink"],
        format!("https://status.acme.test/incidents/{}", event["id"].as_str().expect("id"))
    );
    assert_eq!(body["incident"]["incident_updates"][0]["status"], "investigating");
    assert!(
        body["meta"]["unsubscribe"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://status.acme.test/subscribers/unsubscribe?token="))
    );
    let component = of("component_update").json();
    assert_eq!(component["component_update"]["old_status"], "operational");
    assert_eq!(component["component_update"]["new_status"], "major_outage");
    assert_eq!(component["component"]["id"], api["id"]);
    let delivery = created_hook.header("x-statuspage-delivery").expect("a delivery id").to_owned();
    let rows = deliveries(app, "&kind=incident_created").await;
    assert_eq!(rows[0]["id"], Value::String(delivery), "receivers can de-duplicate by X-StatusPage-Delivery");

    // A receiver that fails its test: the channel exists, unverified, and says why; it verifies
    // once the receiver answers.
    stack.hooks.script([Reply::status(500)]);
    let url2 = format!("{}/hooks/second", stack.hooks.url());
    let failing = app.create(&token, "/api/v1/me/channels", json!({"type": "webhook", "target": url2})).await;
    assert_eq!(
        (failing["is_verified"].as_bool(), failing["verification"]["delivered"].as_bool()),
        (Some(false), Some(false))
    );
    assert!(failing["verification"]["error"].as_str().is_some_and(|e| e.contains("500")), "{failing}");
    let verify = format!("/api/v1/me/channels/{}/verify", failing["id"].as_str().expect("id"));
    stack.hooks.script([Reply::status(503)]);
    let again = app.call("POST", &verify, Some(&token), None).await;
    assert_eq!((again.status, again.json()["error"]["code"].as_str()), (409, Some("test_delivery_failed")));
    let ok = app.call("POST", &verify, Some(&token), None).await;
    assert_eq!((ok.status, ok.json()["data"]["is_verified"].as_bool()), (200, Some(true)));

    // Bad targets are refused before anything is sent.
    for target in ["ftp://example.test/x", "https://user:pw@example.test/x", "not a url"] {
        let response = app
            .call("POST", "/api/v1/me/channels", Some(&token), Some(&json!({"type": "webhook", "target": target})))
            .await;
        assert_eq!(
            (response.status, crate::support::field_errors(&response)),
            (400, vec!["target".to_owned()]),
            "{target}"
        );
    }
    // A host the configuration does not allow is refused before anything is sent.
    let outside = app
        .call(
            "POST",
            "/api/v1/me/channels",
            Some(&token),
            Some(&json!({"type": "webhook", "target": "https://hooks.example.com/x"})),
        )
        .await;
    assert_eq!((outside.status, crate::support::field_errors(&outside)), (400, vec!["target".to_owned()]));
    assert!(outside.text().contains("webhook_allowed_hosts is http://127.0.0.1:*"), "{}", outside.text());

    // A receiver that is gone (410): the channel stops at once, with the reason.
    stack.hooks.set_default(Reply::status(410));
    let before = stack.hooks.requests().len();
    post_update(app, &admin, &event, json!({"message": "Still on it", "notify_subscribers": true})).await;
    stack.hooks.wait_for(before + 2, Duration::from_secs(3)).await;
    until(app, "both receivers are stopped", "select to_jsonb(count(*) = 2) from channels where type = 'webhook' and not enabled and disabled_reason like '%gone%'").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_relay_is_retried_with_back_off_until_it_takes_the_message_once() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    person_with_email(&stack, "ops@acme.test").await;
    let admin = app.admin().await;
    let t0 = whole_second_now();
    app.set_now(t0);
    // The relay fails in every way a relay fails, then recovers.
    stack.relay.script([
        Reply::json(500, json!({"errors": [{"message": "internal"}]})),
        Reply::retry_after(429, 120),
        Reply::Delay(Duration::from_secs(3), Box::new(Reply::status(202))),
        Reply::Drop,
    ]);
    let created = incident(app, &admin, "Checkout down", &[]).await;
    assert_eq!(created["title"], "Checkout down", "a relay that is down never fails the write");
    let incident_mail = |r: &Recorded| r.text().contains("Checkout down");
    let sends = || stack.relay.requests().iter().filter(|r| incident_mail(r)).count();
    until(app, "the first attempt failed", "select to_jsonb(exists (select 1 from notification_outbox where kind = 'incident_created' and attempts = 1 and status = 'pending'))").await;
    let row = &rows_of(app, "incident_created")[0];
    assert!(row["last_error"].as_str().is_some_and(|e| e.contains("SendGrid answered 500")), "{row}");
    let wait = row["next_in"].as_i64().expect("seconds");
    assert!((24..=36).contains(&wait), "30 s ± 20 % after the first failure: {row}");

    tick(app, t0 + time::Duration::seconds(20)).await;
    assert_eq!(sends(), 1, "not before the back-off is over");
    tick(app, t0 + time::Duration::seconds(40)).await;
    let row = &rows_of(app, "incident_created")[0];
    assert_eq!(
        (row["attempts"].as_i64(), row["next_in"].as_i64()),
        (Some(2), Some(120)),
        "Retry-After is honoured: {row}"
    );

    tick(app, t0 + time::Duration::seconds(161)).await;
    let row = &rows_of(app, "incident_created")[0];
    assert_eq!(row["attempts"], 3);
    assert!(
        row["last_error"].as_str().is_some_and(|e| e.contains("no answer within 2s")),
        "a hang past the timeout: {row}"
    );
    let wait = row["next_in"].as_i64().expect("seconds");
    assert!((96..=144).contains(&wait), "120 s ± 20 % after the third failure: {row}");

    tick(app, t0 + time::Duration::seconds(320)).await;
    let row = &rows_of(app, "incident_created")[0];
    assert_eq!(row["attempts"], 4);
    assert!(row["last_error"].as_str().is_some_and(|e| e.contains("unreachable")), "a dropped connection: {row}");

    tick(app, t0 + time::Duration::seconds(700)).await;
    let row = &rows_of(app, "incident_created")[0];
    assert_eq!(
        (row["status"].as_str(), row["attempts"].as_i64(), row["last_error"].as_str()),
        (Some("sent"), Some(5), None)
    );
    assert_eq!(sends(), 5, "five attempts, the last one taken");
    tick(app, t0 + time::Duration::seconds(1400)).await;
    assert_eq!(sends(), 5, "and nothing after it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_refuses_connections_keeps_the_message_queued_and_the_write_succeeds() {
    let refusing = format!("http://{}", refusing_address());
    let stack = stack_with("sendgrid", &[("email_api_base_url", &refusing)]).await;
    let app = &stack.app;
    let admin = app.admin().await;
    app.db.exec(
        "insert into channels (type, target, verified_at, subscribe_all) values ('email', 'reader@example.test', now(), true)",
    );
    let created = app
        .call(
            "POST",
            "/api/v1/events",
            Some(&admin),
            Some(&json!({"title": "Queue stuck", "type": "incident", "status": "investigating", "severity": "minor",
                         "notify_subscribers": true})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    until(
        app,
        "the attempt failed",
        "select to_jsonb(exists (select 1 from notification_outbox where kind = 'incident_created' and attempts = 1))",
    )
    .await;
    let row = &rows_of(app, "incident_created")[0];
    assert_eq!(row["status"], "pending", "kept for the next attempt: {row}");
    assert!(row["last_error"].as_str().is_some_and(|e| e.contains("SendGrid: unreachable")), "{row}");
}

/// Inserts `count` confirmed public e-mail subscribers.
fn subscribers(app: &TestApp, count: usize) {
    app.db.exec(&format!(
        "insert into channels (type, target, verified_at, subscribe_all)
         select 'email', 'reader' || n || '@example.test', now(), true from generate_series(1, {count}) n"
    ));
}

/// The addresses of every e-mail the relay received (SendGrid's personalizations).
fn addressees(stack: &Stack, subject_has: &str) -> Vec<String> {
    stack
        .relay
        .requests()
        .iter()
        .map(Recorded::json)
        .filter(|b| b["subject"].as_str().is_some_and(|s| s.contains(subject_has)))
        .flat_map(|b| {
            b["personalizations"]
                .as_array()
                .map(|ps| {
                    ps.iter().map(|p| p["to"][0]["email"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect()
}

/// Queues message `title`'s e-mail for every channel, as its write does, but behind the
/// request's own delivery run (the write found no channel deliverable): the queue a test's
/// runs then work through.
async fn queue_behind_the_write(app: &TestApp, admin: &str, title: &str) {
    app.db.exec("update channels set enabled = false");
    incident(app, admin, title, &[]).await;
    app.db.exec("update channels set enabled = true");
    app.db.exec(
        "insert into notification_outbox (message_id, kind, channel, channel_id, recipient, language, payload, status,
                                          next_attempt_at, created_at, updated_at)
         select m.id, m.kind, 'email', c.id, c.target, 'en', '{}'::jsonb, 'pending',
                now() - interval '1 hour', now(), now()
         from notification_messages m cross join channels c",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_dies_holding_its_claim_is_taken_over_after_the_lease_and_nothing_is_sent_twice() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    subscribers(app, 40);
    let admin = app.admin().await;
    let t0 = whole_second_now();
    app.set_now(t0);
    queue_behind_the_write(app, &admin, "Claimed and lost").await;
    // A run claims everything (as the engine does, with a two-minute lease), then dies.
    let url = app.db.url();
    let taken = std::thread::spawn(move || {
        let db = statuspage_core::db::NativeDb::connect(&url).expect("db");
        statuspage_core::repo::outbox::claim(&db, t0, time::Duration::minutes(2), 2000).expect("claim").len()
    })
    .join()
    .expect("the dying run");
    assert_eq!(taken, 40);

    // Within the lease nobody touches its rows...
    tick(app, t0 + time::Duration::seconds(60)).await;
    assert_eq!(addressees(&stack, "Claimed and lost").len(), 0, "{}", delivery_rows(app));
    // ...after it, the next run takes them over, and every reader has the message once.
    tick(app, t0 + time::Duration::seconds(150)).await;
    let mut to = addressees(&stack, "Claimed and lost");
    to.sort();
    let received = to.len();
    to.dedup();
    assert_eq!((received, to.len()), (40, 40), "each of the 40 readers, once");
    let sent = app.db.json(
        "select to_jsonb(count(*)) from notification_outbox where kind = 'incident_created' and status = 'sent' and attempts = 2",
    );
    assert_eq!(sent, json!(40), "the dead run's claim counts as an attempt (it may have sent): {}", delivery_rows(app));
    tick(app, t0 + time::Duration::seconds(400)).await;
    assert_eq!(addressees(&stack, "Claimed and lost").len(), 40, "and nothing after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_at_once_share_the_queue_and_send_each_message_once() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    subscribers(app, 3000);
    let admin = app.admin().await;
    // A slow relay, so that the runs overlap.
    stack.relay.set_default(Reply::Delay(Duration::from_millis(400), Box::new(Reply::status(202))));
    let t0 = whole_second_now();
    app.set_now(t0);
    queue_behind_the_write(app, &admin, "Everyone hears").await;
    let at = |s: i64| u64::try_from((t0 + time::Duration::seconds(s)).unix_timestamp()).expect("time");
    let (a, b) = tokio::join!(app.run_cron(at(1)), app.run_cron(at(2)));
    a.expect("first run");
    b.expect("second run");
    let mut to = addressees(&stack, "Everyone hears");
    let received = to.len();
    to.sort();
    to.dedup();
    assert_eq!((received, to.len()), (3000, 3000), "3,000 readers, each once");
    let runs = app.db.json(
        "select jsonb_agg((details->'deliveries'->>'claimed')::int order by scheduled_at)
         from scheduler_runs where details ? 'deliveries'",
    );
    let claimed: Vec<i64> = serde_json::from_value(runs.clone()).expect("counts");
    assert_eq!(claimed.iter().sum::<i64>(), 3000, "{runs}");
    assert!(claimed.iter().all(|c| *c > 0), "both runs took a share: {runs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_keeps_failing_is_quarantined_its_delivery_dies_and_operators_hear_once_per_episode() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let t0 = whole_second_now();
    app.set_now(t0);
    // An admin hears of delivery trouble on Telegram; an operator owns a webhook.
    let (_, admin) = app.token_for("admin").await;
    telegram_channel(&stack, &admin, 9001, "en").await;
    app.create_user("hook-owner@acme.test", "password-123", "operator");
    let sign_in = || async {
        app.login("hook-owner@acme.test", "password-123").await["tokens"]["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    };
    let operator = sign_in().await;
    let hook = app
        .create(
            &operator,
            "/api/v1/me/channels",
            json!({"type": "webhook", "target": format!("{}/h", stack.hooks.url())}),
        )
        .await;
    assert_eq!(hook["is_verified"], true);
    stack.hooks.set_default(Reply::status(500));
    incident(app, &admin, "Hooks failing", &[]).await;
    until(app, "the first attempt failed", "select to_jsonb(exists (select 1 from notification_outbox where kind = 'incident_created' and channel = 'webhook' and attempts = 1))").await;
    let webhook_row = || {
        rows_of(app, "incident_created")
            .into_iter()
            .find(|r| r["channel"] == "webhook")
            .expect("the webhook's delivery")
    };

    // Nine more attempts, each after the longest back-off (an hour, +20 %).
    let mut at = t0;
    for _ in 0..9 {
        at += time::Duration::seconds(4400);
        tick(app, at).await;
    }
    let row = webhook_row();
    assert_eq!((row["status"].as_str(), row["attempts"].as_i64()), (Some("dead"), Some(10)), "{row}");
    // (Eleven hours on: everyone signs in again.)
    let (operator, admin) = (sign_in().await, app.admin().await);
    let receiver_got =
        stack.hooks.requests().iter().filter(|r| r.header("x-statuspage-event") == Some("incident_created")).count();
    assert_eq!(receiver_got, 10);
    let channel = app
        .call("GET", &format!("/api/v1/me/channels/{}", hook["id"].as_str().expect("id")), Some(&operator), None)
        .await
        .json()["data"]
        .clone();
    assert_eq!(channel["is_enabled"], false, "quarantined after ten failures in a row");
    assert!(
        channel["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.contains("quarantined after 10 consecutive failed deliveries")),
        "{channel}"
    );
    let told = stack
        .relay
        .requests()
        .iter()
        .map(Recorded::json)
        .filter(|b| b["subject"] == "[Service Status] A notification channel stopped")
        .count();
    assert_eq!(told, 1, "its owner is told once, by e-mail");

    // The operators heard once that deliveries stalled, once that it cleared (nothing waits
    // now), and once that a delivery died: three messages, not one per tick or per failure.
    let alerts = |kind: &str| rows_of(app, kind).iter().filter(|r| r["status"] == "sent").count();
    assert_eq!((alerts("operator_alert"), alerts("operator_alert_cleared")), (2, 1), "{}", delivery_rows(app));
    let mut texts: Vec<String> = stack
        .telegram
        .requests()
        .iter()
        .skip(2)
        .map(|r| r.json()["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(texts.len(), 3, "after the connection and the incident itself: {texts:?}");
    assert!(texts[0].starts_with("1 delivery is waiting; the oldest was queued 73 minutes ago."), "{texts:?}");
    texts.sort();
    assert!(
        texts[0].starts_with("1 delivery died in the last 24 hours")
            && texts[2].starts_with("Deliveries are flowing again"),
        "{texts:?}"
    );

    // An admin sees the dead delivery, mends the cause and retries it.
    let dead = deliveries(app, "&status=dead").await;
    assert_eq!(dead.len(), 1);
    assert!(dead[0]["last_error"].as_str().is_some_and(|e| e.contains("answered 500")), "{dead:?}");
    stack.hooks.set_default(Reply::json(200, json!({})));
    let enable = app
        .call(
            "PATCH",
            &format!("/api/v1/me/channels/{}", hook["id"].as_str().expect("id")),
            Some(&operator),
            Some(&json!({"is_enabled": true})),
        )
        .await;
    assert_eq!((enable.status, enable.json()["data"]["disabled_reason"].clone()), (200, Value::Null));
    let retry = app
        .call(
            "POST",
            &format!("/api/v1/notifications/deliveries/{}/retry", dead[0]["id"].as_str().expect("id")),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (retry.status, retry.json()["data"]["status"].as_str(), retry.json()["data"]["attempts"].as_i64()),
        (200, Some("pending"), Some(0))
    );
    until(app, "the retried delivery went out", "select to_jsonb(exists (select 1 from notification_outbox where kind = 'incident_created' and channel = 'webhook' and status = 'sent'))").await;
    let again = app
        .call(
            "POST",
            &format!("/api/v1/notifications/deliveries/{}/retry", dead[0]["id"].as_str().expect("id")),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!((again.status, again.json()["error"]["code"].as_str()), (409, Some("not_dead")));

    // A day without new dead letters closes that episode too, with one message.
    tick(app, at + time::Duration::hours(25)).await;
    tick(app, at + time::Duration::hours(26)).await;
    assert_eq!((alerts("operator_alert"), alerts("operator_alert_cleared")), (2, 2), "{}", delivery_rows(app));
}
