//! What a channel hears about: chosen services and groups (a group covers services
//! added to it later), the subscriber set of each event write, digests, the channel's own
//! life (disable, delete, wrong codes, cooldown) and the admin's view of deliveries.

use std::time::Duration;

use serde_json::json;
use time::macros::datetime;

use crate::notifications::{Stack, deliveries, incident, nth, stack, verified_email};
use crate::support::field_errors;
use crate::support::recorder::{Recorded, Reply};

/// The subjects of the e-mails to `address` so far.
fn subjects_to(stack: &Stack, address: &str) -> Vec<String> {
    stack
        .relay
        .requests()
        .iter()
        .map(Recorded::json)
        .filter(|b| {
            b["personalizations"].as_array().is_some_and(|ps| ps.iter().any(|p| p["to"][0]["email"] == address))
        })
        .map(|b| b["subject"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Lets the request's own delivery run finish.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_hear_of_their_services_and_groups_and_a_group_covers_services_added_later() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let admin = app.admin().await;
    let mut made = Vec::new();
    for (name, slug) in [("API", "api"), ("Web", "web"), ("DB", "db")] {
        made.push(app.create(&admin, "/api/v1/services", json!({"name": name, "slug": slug})).await);
    }
    let (api, web, db) = (made[0].clone(), made[1].clone(), made[2].clone());
    let core =
        app.create(&admin, "/api/v1/groups", json!({"name": "Core", "slug": "core", "service_ids": [api["id"]]})).await;

    let (_, token) = app.token_for("user").await;
    let channel = verified_email(&stack, &token, json!({"type": "email", "target": "picky@acme.test"})).await;
    let path = format!("/api/v1/me/channels/{}/subscriptions", channel["id"].as_str().expect("id"));
    let chosen = app
        .call(
            "PUT",
            &path,
            Some(&token),
            Some(&json!({"subscribe_to_all_services": false, "service_ids": [web["id"]], "group_ids": [core["id"]]})),
        )
        .await;
    assert_eq!(chosen.status, 200, "{}", chosen.text());
    assert_eq!(
        chosen.json()["data"],
        json!({"channel_id": channel["id"], "subscribe_to_all_services": false,
               "subscribed_service_ids": [web["id"]], "subscribed_group_ids": [core["id"]]})
    );
    let mine = app.call("GET", "/api/v1/me/subscriptions", Some(&token), None).await.json();
    assert_eq!(mine["data"]["channels"][0]["channel"]["id"], channel["id"]);
    assert_eq!(mine["data"]["channels"][0]["subscribed_service_ids"], json!([web["id"]]));

    // DB is neither chosen nor in Core: nothing. Core's API is: a message.
    incident(app, &admin, "DB slow", &[&db]).await;
    incident(app, &admin, "API slow", &[&api]).await;
    nth(&stack.relay, 2).await;
    settle().await;
    let subjects = subjects_to(&stack, "picky@acme.test");
    assert_eq!(subjects.len(), 2, "the verification and one incident: {subjects:?}");
    assert_eq!(subjects[1], "[Service Status] Incident: API slow — Investigating");
    // DB joins Core later: the group subscription covers it from then on.
    let joined = app
        .call("PATCH", "/api/v1/groups/core", Some(&admin), Some(&json!({"service_ids": [api["id"], db["id"]]})))
        .await;
    assert_eq!(joined.status, 200, "{}", joined.text());
    incident(app, &admin, "DB down", &[&db]).await;
    nth(&stack.relay, 3).await;
    assert_eq!(
        subjects_to(&stack, "picky@acme.test").last().map(String::as_str),
        Some("[Service Status] Incident: DB down — Investigating")
    );

    // Choices are checked: unknown ids are a 400 naming the field; another's channel is 403.
    let unknown = app.call("PUT", &path, Some(&token), Some(&json!({"service_ids": [uuid::Uuid::new_v4()]}))).await;
    assert_eq!((unknown.status, field_errors(&unknown)), (400, vec!["service_ids".to_owned()]));
    let (_, stranger) = app.token_for("user").await;
    assert_eq!(app.call("PUT", &path, Some(&stranger), Some(&json!({"service_ids": []}))).await.status, 403);
    let key =
        app.create(&admin, "/api/v1/api-keys", json!({"name": "ci", "role": "operator", "scopes": ["read"]})).await;
    let keyed = app.call("GET", "/api/v1/me/channels", key["secret"].as_str(), None).await;
    assert_eq!(keyed.status, 403, "API keys have no channels: {}", keyed.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_added_to_an_event_later_brings_its_subscribers_from_then_on() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let admin = app.admin().await;
    let api = app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    let web = app.create(&admin, "/api/v1/services", json!({"name": "Web", "slug": "web"})).await;
    let (_, token) = app.token_for("user").await;
    verified_email(&stack, &token, json!({"type": "email", "target": "web-fan@acme.test", "service_ids": [web["id"]]}))
        .await;
    let event = incident(app, &admin, "Errors", &[&api]).await;
    let path = format!("/api/v1/events/{}/updates", event["id"].as_str().expect("id"));
    let added = app
        .call("POST", &path, Some(&admin), Some(&json!({"message": "Web is affected too", "notify_subscribers": true,
                                                         "add_services": [{"service_id": web["id"], "status": "degraded"}]})))
        .await;
    assert_eq!(added.status, 201, "{}", added.text());
    let mail = nth(&stack.relay, 2).await.json();
    assert_eq!(mail["subject"], "[Service Status] Incident: Errors — Investigating");
    assert!(
        mail["content"][0]["value"]
            .as_str()
            .is_some_and(|t| t.contains("Web is affected too") && t.contains("Web (Degraded performance)")),
        "{mail}"
    );
    assert_eq!(subjects_to(&stack, "web-fan@acme.test").len(), 2, "the verification and this update, not the creation");
    // Removed from the event, Web's subscribers still hear of that update (they were affected
    // when it was written), then no more.
    let removed = app
        .call(
            "POST",
            &path,
            Some(&admin),
            Some(&json!({"message": "Web is fine", "notify_subscribers": true, "remove_service_ids": [web["id"]]})),
        )
        .await;
    assert_eq!(removed.status, 201);
    nth(&stack.relay, 3).await;
    let resolved = app
        .call(
            "POST",
            &path,
            Some(&admin),
            Some(&json!({"status": "resolved", "message": "Done", "notify_subscribers": true})),
        )
        .await;
    assert_eq!(resolved.status, 201);
    settle().await;
    assert_eq!(subjects_to(&stack, "web-fan@acme.test").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digests_hold_messages_until_eight_utc_and_weekly_ones_until_monday() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    // Tuesday 2030-03-05, ten in the morning.
    let tuesday = datetime!(2030-03-05 10:00 UTC);
    app.set_now(tuesday);
    let admin = app.admin().await;
    let (_, token) = app.token_for("user").await;
    verified_email(&stack, &token, json!({"type": "email", "target": "daily@acme.test", "digest": "daily"})).await;
    verified_email(&stack, &token, json!({"type": "email", "target": "weekly@acme.test", "digest": "weekly"})).await;
    incident(app, &admin, "Morning blip", &[]).await;
    settle().await;
    let held = app.db.json("select to_jsonb(count(*)) from notification_outbox where status = 'held'");
    assert_eq!(held, json!(2), "both wait for their digest");
    let tick = |at: time::OffsetDateTime| async move {
        app.set_now(at);
        app.run_cron(u64::try_from(at.unix_timestamp()).expect("time")).await.expect("tick");
    };
    tick(tuesday + time::Duration::minutes(1)).await;
    tick(datetime!(2030-03-06 07:59 UTC)).await;
    assert_eq!(subjects_to(&stack, "daily@acme.test").len(), 1, "nothing before eight (the verification only)");
    tick(datetime!(2030-03-06 08:00 UTC)).await;
    let daily = subjects_to(&stack, "daily@acme.test");
    assert_eq!(daily.last().map(String::as_str), Some("[Service Status] Daily digest"));
    let body = stack.relay.requests().last().expect("digest").json();
    let text = body["content"][0]["value"].as_str().expect("text");
    assert!(
        text.contains("2030-03-05 10:00 UTC · Incident · Morning blip: Investigating")
            && text.contains("https://status.acme.test/incidents/"),
        "{text}"
    );
    assert!(
        body["personalizations"][0]["headers"]["List-Unsubscribe"].is_string(),
        "digests carry the unsubscribe headers too"
    );
    tick(datetime!(2030-03-06 08:01 UTC)).await;
    tick(datetime!(2030-03-07 08:00 UTC)).await;
    assert_eq!(subjects_to(&stack, "daily@acme.test").len(), 2, "one digest, and none on a day with nothing held");
    assert_eq!(subjects_to(&stack, "weekly@acme.test").len(), 1, "the weekly one waits for Monday");
    // The scheduler was down on Monday at eight: the next tick catches up.
    tick(datetime!(2030-03-11 09:30 UTC)).await;
    assert_eq!(
        subjects_to(&stack, "weekly@acme.test").last().map(String::as_str),
        Some("[Service Status] Weekly digest")
    );
    let states =
        app.db.json("select jsonb_agg(distinct status) from notification_outbox where kind = 'incident_created'");
    assert_eq!(states, json!(["digested"]));
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).expect("formats")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_can_be_paused_removed_and_its_codes_are_limited() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let t0 = datetime!(2030-06-01 12:00 UTC);
    app.set_now(t0);
    let admin = app.admin().await;
    app.create_user("me@acme.test", "password-123", "user");
    let sign_in = || async {
        app.login("me@acme.test", "password-123").await["tokens"]["access_token"].as_str().expect("token").to_owned()
    };
    let token = sign_in().await;
    let channel = verified_email(&stack, &token, json!({"type": "email", "target": "me@acme.test"})).await;
    let path = format!("/api/v1/me/channels/{}", channel["id"].as_str().expect("id"));
    let twice = app
        .call("POST", "/api/v1/me/channels", Some(&token), Some(&json!({"type": "email", "target": "ME@acme.test"})))
        .await;
    assert_eq!((twice.status, twice.json()["error"]["code"].as_str()), (409, Some("channel_exists")));

    // Paused: nothing is queued for it.
    let paused = app.call("PATCH", &path, Some(&token), Some(&json!({"is_enabled": false}))).await;
    assert_eq!((paused.status, paused.json()["data"]["is_enabled"].as_bool()), (200, Some(false)));
    incident(app, &admin, "While paused", &[]).await;
    settle().await;
    assert_eq!(subjects_to(&stack, "me@acme.test").len(), 1);
    let unknown = app
        .call("PATCH", &path, Some(&token), Some(&json!({"is_enabled": true, "id": channel["id"], "colour": "red"})))
        .await;
    assert_eq!(
        (unknown.status, field_errors(&unknown)),
        (400, vec!["colour".to_owned()]),
        "read-only fields pass, unknown ones are named"
    );
    let resumed = app.call("PATCH", &path, Some(&token), Some(&json!({"is_enabled": true, "id": channel["id"]}))).await;
    assert_eq!((resumed.status, resumed.json()["data"]["is_enabled"].as_bool()), (200, Some(true)));

    // Removed while its message waits on a failing relay: the message is dropped, not sent.
    stack.relay.set_default(Reply::status(503));
    incident(app, &admin, "Relay trouble", &[]).await;
    settle().await;
    assert_eq!(app.call("DELETE", &path, Some(&token), None).await.status, 204);
    stack.relay.set_default(Reply::status(202));
    let later = t0 + time::Duration::hours(2);
    app.set_now(later);
    app.run_cron(u64::try_from(later.unix_timestamp()).expect("time")).await.expect("tick");
    let dropped = app.db.json(
        "select jsonb_agg(jsonb_build_object('status', status, 'why', last_error)) from notification_outbox where kind = 'incident_created'",
    );
    assert_eq!(dropped, json!([{"status": "cancelled", "why": "the channel was removed"}]));
    let token = sign_in().await;
    assert_eq!(app.call("GET", &path, Some(&token), None).await.status, 404);

    // Codes: five wrong tries, then a new code is needed; at most one a minute; each works
    // for fifteen minutes.
    let created =
        app.create(&token, "/api/v1/me/channels", json!({"type": "email", "target": "second@acme.test"})).await;
    let verify = format!("/api/v1/me/channels/{}/verify", created["id"].as_str().expect("id"));
    let resend = format!("/api/v1/me/channels/{}/resend-code", created["id"].as_str().expect("id"));
    for left in (0..5).rev() {
        let wrong = app.call("POST", &verify, Some(&token), Some(&json!({"code": "abcdef"}))).await;
        assert_eq!(wrong.status, 400);
        assert!(wrong.text().contains(&format!("({left} attempts left)")), "{}", wrong.text());
    }
    let locked = app.call("POST", &verify, Some(&token), Some(&json!({"code": "abcdef"}))).await;
    assert_eq!((locked.status, locked.json()["error"]["code"].as_str()), (409, Some("too_many_attempts")));
    let soon = app.call("POST", &resend, Some(&token), None).await;
    assert_eq!(soon.status, 429);
    assert!(
        soon.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| (1..=60).contains(&s))),
        "{:?}",
        soon.headers
    );
    app.set_now(later + time::Duration::seconds(61));
    let before = stack.relay.requests().len();
    let fresh = app.call("POST", &resend, Some(&token), None).await;
    assert_eq!((fresh.status, fresh.json()["data"]["verification"]["method"].as_str()), (200, Some("email_code")));
    let code = crate::notifications::code_in(&nth(&stack.relay, before + 1).await);
    app.set_now(later + time::Duration::minutes(17));
    let token = sign_in().await;
    let expired = app.call("POST", &verify, Some(&token), Some(&json!({"code": code}))).await;
    assert_eq!(
        (expired.status, expired.json()["error"]["code"].as_str()),
        (409, Some("code_expired")),
        "{}",
        expired.text()
    );
    let until = app.db.json(&format!(
        "select to_jsonb(rfc3339(verify_expires_at)) from channels where id = '{}'",
        created["id"].as_str().expect("id")
    ));
    let expected = rfc3339(later + time::Duration::seconds(61) + time::Duration::minutes(15));
    assert!(until.as_str().is_some_and(|u| u.starts_with(expected.trim_end_matches('Z'))), "{until} vs {expected}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_scheduled_maintenance_tells_its_subscribers() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let admin = app.admin().await;
    let db = app.create(&admin, "/api/v1/services", json!({"name": "DB", "slug": "db"})).await;
    let (_, token) = app.token_for("user").await;
    verified_email(&stack, &token, json!({"type": "email", "target": "dba@acme.test", "language": "ru"})).await;
    let start = time::OffsetDateTime::now_utc() + time::Duration::days(2);
    let window = rfc3339;
    let planned = app
        .create(
            &admin,
            "/api/v1/events",
            json!({"title": "DB upgrade", "type": "maintenance", "status": "scheduled", "notify_subscribers": true,
                   "scheduled_start_at": window(start), "scheduled_end_at": window(start + time::Duration::hours(2)),
                   "affected_services": [{"service_id": db["id"], "status": "maintenance"}]}),
        )
        .await;
    assert_eq!(nth(&stack.relay, 2).await.json()["subject"], "[Service Status] Плановые работы: DB upgrade");
    let cancelled = app
        .call("DELETE", &format!("/api/v1/events/{}", planned["id"].as_str().expect("id")), Some(&admin), None)
        .await;
    assert_eq!(cancelled.status, 204);
    let mail = nth(&stack.relay, 3).await.json();
    assert!(
        mail["subject"].as_str().is_some_and(|s| s.starts_with("[Service Status] Работы отменены: DB upgrade")),
        "{mail}"
    );
    let rows = deliveries(app, "&kind=maintenance_cancelled").await;
    assert_eq!((rows.len(), rows[0]["status"].as_str()), (1, Some("sent")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_view_filters_deliveries_and_refuses_what_it_cannot_do() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let admin = app.admin().await;
    let (_, token) = app.token_for("user").await;
    let channel = verified_email(&stack, &token, json!({"type": "email", "target": "seen@acme.test"})).await;
    let event = incident(app, &admin, "Watched", &[]).await;
    nth(&stack.relay, 2).await;
    settle().await;
    let by_event = deliveries(app, &format!("&event_id={}", event["id"].as_str().expect("id"))).await;
    assert_eq!(by_event.len(), 1);
    assert_eq!(
        (by_event[0]["recipient"].as_str(), by_event[0]["channel_id"].clone()),
        (Some("seen@acme.test"), channel["id"].clone())
    );
    let by_channel = deliveries(app, &format!("&channel_id={}", channel["id"].as_str().expect("id"))).await;
    let kinds: Vec<&str> = by_channel.iter().map(|d| d["kind"].as_str().unwrap_or_default()).collect();
    assert_eq!(kinds, ["incident_created", "channel_verification"], "newest first");
    let page = app.call("GET", "/api/v1/notifications/deliveries?per_page=1&page=2", Some(&admin), None).await.json();
    assert_eq!((page["meta"]["total"].as_i64(), page["data"].as_array().map(Vec::len)), (Some(2), Some(1)));
    let queue = app.call("GET", "/api/v1/notifications/queue", Some(&admin), None).await.json();
    assert_eq!(queue["data"], json!({"pending": 0, "oldest_pending_seconds": 0, "dead": 0, "held": 0}));

    let bad = app
        .call("GET", "/api/v1/notifications/deliveries?status=lost&kind=gossip&event_id=x", Some(&admin), None)
        .await;
    assert_eq!(
        (bad.status, field_errors(&bad)),
        (400, vec!["status".to_owned(), "kind".to_owned(), "event_id".to_owned()])
    );
    assert_eq!(app.call("GET", "/api/v1/notifications/deliveries", Some(&token), None).await.status, 403);
    assert_eq!(app.call("GET", "/api/v1/notifications/deliveries", None, None).await.status, 401);
    let sent_id = by_event[0]["id"].as_str().expect("id");
    let not_dead =
        app.call("POST", &format!("/api/v1/notifications/deliveries/{sent_id}/retry"), Some(&admin), None).await;
    assert_eq!((not_dead.status, not_dead.json()["error"]["code"].as_str()), (409, Some("not_dead")));
    let missing = app
        .call("POST", &format!("/api/v1/notifications/deliveries/{}/retry", uuid::Uuid::new_v4()), Some(&admin), None)
        .await;
    assert_eq!(missing.status, 404);
    let config = app.get("/api/v1/notifications/config").await.json();
    assert_eq!(config["data"]["available_channels"], json!(["email", "telegram", "webhook", "mattermost"]));
    assert_eq!(config["data"]["telegram"], json!({"bot_username": "acme_status_bot"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_channel_also_verifies_by_the_link_in_its_mail() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let (_, token) = app.token_for("user").await;
    let created =
        app.create(&token, "/api/v1/me/channels", json!({"type": "email", "target": "linked@acme.test"})).await;
    let mail = nth(&stack.relay, 1).await;
    let text = crate::notifications::text_of("sendgrid", &mail);
    let link = crate::notifications::url_in(&text, "https://status.acme.test/subscribers/confirm?token=");
    let page = app.get(link.trim_start_matches("https://status.acme.test")).await;
    assert_eq!(page.status, 200);
    let pending = app
        .call("GET", &format!("/api/v1/me/channels/{}", created["id"].as_str().expect("id")), Some(&token), None)
        .await;
    assert_eq!(pending.json()["data"]["is_verified"], false, "following the link confirms nothing");
    let token_in_link = link.split("token=").nth(1).expect("token");
    let confirmed = crate::notifications::post_form(app, "/subscribers/confirm", &[("token", token_in_link)]).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    let verified = app
        .call("GET", &format!("/api/v1/me/channels/{}", created["id"].as_str().expect("id")), Some(&token), None)
        .await;
    assert_eq!(verified.json()["data"]["is_verified"], true, "the page's button does");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mattermost_channels_get_escaped_markdown() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let (_, token) = app.token_for("operator").await;
    let hook = format!("{}/hooks/mm", stack.hooks.url());
    let created = app.create(&token, "/api/v1/me/channels", json!({"type": "mattermost", "target": hook})).await;
    assert_eq!(
        (created["is_verified"].as_bool(), created.get("secret")),
        (Some(true), None),
        "no signing secret for Mattermost"
    );
    let test = nth(&stack.hooks, 1).await.json();
    assert_eq!(test["username"], "Service Status");
    let admin = app.admin().await;
    incident(app, &admin, "Queue *stuck* [again]", &[]).await;
    let post = nth(&stack.hooks, 2).await.json();
    let text = post["text"].as_str().expect("text");
    assert!(text.starts_with("**Queue \\*stuck\\* \\[again\\]**\n"), "{text}");
    assert!(text.contains("[Details](https://status.acme.test/incidents/"), "{text}");
    // A deleted incoming webhook answers 404 in Mattermost: the channel stops.
    stack.hooks.set_default(Reply::status(404));
    incident(app, &admin, "Another", &[]).await;
    nth(&stack.hooks, 3).await;
    settle().await;
    let channel = app
        .call("GET", &format!("/api/v1/me/channels/{}", created["id"].as_str().expect("id")), Some(&token), None)
        .await
        .json();
    assert_eq!(channel["data"]["is_enabled"], false, "{channel}");
}
