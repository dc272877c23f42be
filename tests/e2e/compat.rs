//! Clients of the old service keep working (README, "Coming from the old service"): each test
//! replays the requests a v1 or v2 client of the old service sends, in its order, and asserts the
//! field names and the behaviours it relies on. Our richer shapes are tested beside these, in the
//! other files.

use serde_json::{Value, json};

use crate::support::{TestApp, field_errors};

/// A v1 client's account: register with first and last name, sign in, refresh, sign out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1_client_registers_signs_in_refreshes_and_signs_out() {
    let app = TestApp::spawn().await;
    let registered = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "ada@example.com", "password": "password-123", "first_name": "Ada", "last_name": "Lovelace"}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text());
    let user = registered.json()["data"].clone();
    assert_eq!(
        (user["first_name"].clone(), user["last_name"].clone(), user["role"].clone()),
        (json!("Ada"), json!("Lovelace"), json!("user"))
    );
    assert_eq!(user["name"], "Ada Lovelace", "our display name is made from them");

    let login = app.login("ada@example.com", "password-123").await;
    assert_eq!(login["tokens"]["expires_in"], 900);
    assert_eq!(login["user"]["email"], "ada@example.com");
    let refresh_token = login["tokens"]["refresh_token"].as_str().expect("refresh").to_owned();

    let refreshed = app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": refresh_token})).await;
    assert_eq!(refreshed.status, 200);
    let data = refreshed.json()["data"].clone();
    for key in ["access_token", "refresh_token", "expires_in"] {
        assert!(!data[key].is_null(), "v1 reads {key} from data itself: {data}");
        assert_eq!(data[key], data["tokens"][key], "{key}");
    }
    let me = app.call("GET", "/api/v1/me", data["access_token"].as_str(), None).await.json()["data"].clone();
    assert_eq!(me["first_name"], "Ada");

    let next = data["refresh_token"].as_str().expect("rotated").to_owned();
    let logout = |token: String| {
        let app = &app;
        async move { app.post_json("/api/v1/auth/logout", &json!({ "refresh_token": token })).await.status }
    };
    assert_eq!(logout(next.clone()).await, 204);
    assert_eq!(logout("never-issued".into()).await, 204, "an unknown token is signed out too");
    let no_names =
        app.post_json("/api/v1/auth/register", &json!({"email": "b@example.com", "password": "password-123"})).await;
    let no_names = no_names.json()["data"].clone();
    assert!(
        no_names.get("first_name").is_none() && no_names.get("last_name").is_none(),
        "omitted when empty, as v1 did: {no_names}"
    );
}

/// A v2 client: its own profile, then an admin managing accounts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_client_manages_its_profile_and_an_admin_manages_accounts() {
    let app = TestApp::spawn().await;
    let (me_id, me) = app.token_for("user").await;
    let renamed =
        app.call("PATCH", "/api/v1/me", Some(&me), Some(&json!({"first_name": "Grace", "last_name": "Hopper"}))).await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    assert_eq!(renamed.json()["data"]["name"], "Grace Hopper");
    assert_eq!(renamed.json()["data"]["must_change_password"], false, "v2 always sends it");

    // Sending back what was read (read-only fields included) changes what changed, nothing else.
    let mut read = app.call("GET", "/api/v1/me", Some(&me), None).await.json()["data"].clone();
    read["last_name"] = json!("Brewster Hopper");
    read.as_object_mut().expect("object").remove("role");
    read.as_object_mut().expect("object").remove("is_active");
    let sent_back = app.call("PATCH", "/api/v1/me", Some(&me), Some(&read)).await;
    assert_eq!(
        (sent_back.status, sent_back.json()["data"]["last_name"].clone()),
        (200, json!("Brewster Hopper")),
        "{}",
        sent_back.text()
    );
    let escalate = app.call("PATCH", "/api/v1/me", Some(&me), Some(&json!({"role": "admin", "nickname": "x"}))).await;
    assert_eq!(field_errors(&escalate), ["role", "nickname"], "refused, and an unknown field named");

    let forgot = app.post_json("/api/v1/auth/forgot-password", &json!({"email": "anyone@example.com"})).await;
    assert_eq!(forgot.status, 200);
    assert!(forgot.json()["data"]["message"].is_string());

    let (admin_id, admin) = app.token_for("admin").await;
    let created = app
        .create(&admin, "/api/v1/users", json!({"email": "op@example.com", "password": "password-123", "first_name": "Op", "last_name": "Era", "role": "operator"}))
        .await;
    assert_eq!((created["first_name"].clone(), created["role"].clone()), (json!("Op"), json!("operator")));
    let listed = app.call("GET", "/api/v1/users?role=operator&limit=10&offset=0", Some(&admin), None).await.json();
    assert_eq!(
        (listed["data"]["total"].clone(), listed["data"]["limit"].clone(), listed["data"]["offset"].clone()),
        (json!(1), json!(10), json!(0))
    );
    assert_eq!(listed["data"]["users"][0]["email"], "op@example.com");
    let newest = app.call("GET", "/api/v1/users?limit=1", Some(&admin), None).await.json();
    assert_eq!(newest["data"]["users"][0]["email"], "op@example.com", "newest first");

    let op = created["id"].as_str().expect("id").to_owned();
    let op_login = app.login("op@example.com", "password-123").await;
    let op_refresh = op_login["tokens"]["refresh_token"].as_str().expect("refresh").to_owned();
    let off = app.call("PATCH", &format!("/api/v1/users/{op}"), Some(&admin), Some(&json!({"is_active": false}))).await;
    assert_eq!(
        (off.status, off.json()["data"]["is_active"].clone()),
        (200, json!(false)),
        "applied, not silently ignored"
    );
    let refused =
        app.post_json("/api/v1/auth/login", &json!({"email": "op@example.com", "password": "password-123"})).await;
    assert_eq!(refused.status, 403, "deactivated: 403");
    assert_eq!(
        app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": op_refresh})).await.status,
        403,
        "its sessions were revoked, and refresh says why: deactivated"
    );
    let self_off =
        app.call("PATCH", &format!("/api/v1/users/{admin_id}"), Some(&admin), Some(&json!({"is_active": false}))).await;
    assert_eq!((self_off.status, self_off.json()["error"]["code"].clone()), (409, json!("cannot_deactivate_self")));

    let chosen = app
        .call(
            "POST",
            &format!("/api/v1/users/{me_id}/reset-password"),
            Some(&admin),
            Some(&json!({"new_password": "chosen-by-admin"})),
        )
        .await;
    assert_eq!(chosen.status, 204, "{}", chosen.text());
    let relogin = app
        .login(
            app.db.json(&format!("select to_jsonb(email) from users where id = '{me_id}'")).as_str().expect("email"),
            "chosen-by-admin",
        )
        .await;
    assert_eq!(relogin["user"]["must_change_password"], true);
    let changed = app
        .call(
            "PUT",
            "/api/v1/me/password",
            relogin["tokens"]["access_token"].as_str(),
            Some(&json!({"current_password": "chosen-by-admin", "new_password": "my-own-secret"})),
        )
        .await;
    assert_eq!(changed.status, 204);
    assert_eq!(
        app.db.json(&format!("select to_jsonb(must_change_password) from users where id = '{me_id}'")),
        json!(false),
        "the owner's own password clears it"
    );
}

/// A v1 client's catalog: one `group_id` per service, tags in their wrapper, whole lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1_client_manages_services_with_group_id_and_wrapped_tags() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let group = app
        .create(&admin, "/api/v1/groups", json!({"name": "Edge", "slug": "edge", "description": "d", "order": 1}))
        .await;
    let group_id = group["id"].as_str().expect("id").to_owned();
    let long_name = "N".repeat(255);
    let service = app
        .create(
            &admin,
            "/api/v1/services",
            json!({"name": long_name, "slug": "api", "group_id": group_id, "order": 2, "tags": {"tier": "1"}}),
        )
        .await;
    assert_eq!(service["group_id"], json!(group_id), "in and out, as v1");
    assert_eq!(service["group_ids"], json!([group_id]), "beside our group_ids");
    for i in 0..25 {
        app.create(&admin, "/api/v1/services", json!({"name": format!("S{i}"), "slug": format!("s{i}")})).await;
    }
    let all = app.get("/api/v1/services").await.json();
    assert_eq!(all["data"].as_array().map(Vec::len), Some(26), "v1 lists never paged");

    let put = app
        .call("PUT", "/api/v1/services/api/tags", Some(&admin), Some(&json!({"tags": {"tier": "2", "team": "core"}})))
        .await;
    assert_eq!(put.json(), json!({"data": {"tags": {"team": "core", "tier": "2"}}}));
    assert_eq!(app.get("/api/v1/services/api/tags").await.json()["data"]["tags"]["tier"], "2");

    let ungrouped = app.call("PATCH", "/api/v1/services/api", Some(&admin), Some(&json!({"group_id": null}))).await;
    assert_eq!(
        (ungrouped.json()["data"]["group_id"].clone(), ungrouped.json()["data"]["group_ids"].clone()),
        (Value::Null, json!([]))
    );
    let both = app
        .call("PATCH", "/api/v1/services/api", Some(&admin), Some(&json!({"group_id": group_id, "group_ids": []})))
        .await;
    assert_eq!(field_errors(&both), ["group_id"], "they disagree: group_id would be none of group_ids");
    let agreeing = json!({"group_id": group_id, "group_ids": [group_id]});
    let regrouped = app.call("PATCH", "/api/v1/services/api", Some(&admin), Some(&agreeing)).await;
    assert_eq!(regrouped.json()["data"]["group_id"], json!(group_id), "both, agreeing, are fine");

    // What was read can be sent back; an unknown field is named, never dropped.
    let read = app.get("/api/v1/services/api").await.json()["data"].clone();
    let sent_back = app.call("PATCH", "/api/v1/services/api", Some(&admin), Some(&read)).await;
    assert_eq!(sent_back.status, 200, "{}", sent_back.text());
    let typo = app.call("PATCH", "/api/v1/services/api", Some(&admin), Some(&json!({"statsu": "degraded"}))).await;
    assert_eq!(field_errors(&typo), ["statsu"]);
    assert_eq!(app.get("/api/v1/services/api").await.json()["data"]["status"], "operational");
}

/// A v1 client declares events as it knew them: `service_ids` without statuses, a template by
/// id, `severity: null` on maintenance; it reads `service_ids`, `template_id`, update entries
/// with `event_id`, and change entries with `batch_id`/`action`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1_client_declares_events_with_service_ids_and_a_template_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, operator) = app.token_for("operator").await;
    let api = app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await["id"].clone();
    let template = app
        .create(&admin, "/api/v1/templates", json!({"slug": "outage", "type": "incident", "title_template": "{{.ServiceName}} outage", "body_template": "Since {{.StartedAt}}."}))
        .await;
    let declared = app
        .call("POST", "/api/v1/events", Some(&operator), Some(&json!({"type": "incident", "status": "investigating", "severity": "major",
                                                                       "service_ids": [api], "template_id": template["id"], "notify_subscribers": true})))
        .await;
    assert_eq!(declared.status, 201, "{}", declared.text());
    let event = declared.json()["data"].clone();
    assert_eq!(event["title"], "API outage", "rendered from the old-style placeholders");
    assert_eq!(event["affected_services"][0]["status"], "partial_outage", "major: partial outage, the old back-fill");
    assert_eq!(
        (event["service_ids"].clone(), event["template_id"].clone(), event["group_ids"].clone()),
        (json!([api]), template["id"].clone(), json!([]))
    );
    let id = event["id"].as_str().expect("id").to_owned();

    let update = app
        .call(
            "POST",
            &format!("/api/v1/events/{id}/updates"),
            Some(&operator),
            Some(&json!({"status": "monitoring", "message": "fix out"})),
        )
        .await;
    assert_eq!(update.status, 201);
    let entry = update.json()["data"].clone();
    assert_eq!(
        (entry["event_id"].as_str(), entry["status"].as_str(), entry["message"].as_str()),
        (Some(id.as_str()), Some("monitoring"), Some("fix out"))
    );
    assert!(entry["id"].is_string() && entry["created_at"].is_string() && entry.get("notify_subscribers").is_some());

    let maintenance = app
        .call("POST", "/api/v1/events", Some(&operator), Some(&json!({"title": "Upgrade", "type": "maintenance", "status": "scheduled", "severity": null,
                                                                       "scheduled_start_at": "2030-01-01T00:00:00Z", "scheduled_end_at": "2030-01-01T01:00:00Z", "service_ids": [api]})))
        .await;
    assert_eq!(maintenance.status, 201, "v1 sent severity: null on maintenance: {}", maintenance.text());
    assert_eq!(maintenance.json()["data"]["affected_services"][0]["status"], "maintenance");
    let active = app.get("/api/v1/events?status=active").await.json();
    assert_eq!(active["meta"]["total"], 1, "active excludes scheduled maintenance, as the old service");

    let changes = app.get(&format!("/api/v1/events/{id}/changes")).await.json()["data"].clone();
    let first = &changes[0];
    assert_eq!((first["event_id"].as_str(), first["action"].as_str()), (Some(id.as_str()), Some("added")));
    assert_eq!(first["batch_id"], first["update_id"]);
    assert!(first.get("created_by").is_some() && first.get("group_id").is_some() && first.get("reason").is_some());
}

/// A v2 client changes an event's services with the old rules, and closing it resets the
/// stored statuses an admin set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_client_changes_the_affected_set_with_the_old_rules_and_closing_resets_statuses() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, operator) = app.token_for("operator").await;
    let edge = app.create(&admin, "/api/v1/groups", json!({"name": "Edge", "slug": "edge"})).await["id"].clone();
    let api = app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api", "group_ids": [edge]})).await
        ["id"]
        .clone();
    let web = app.create(&admin, "/api/v1/services", json!({"name": "Web", "slug": "web"})).await["id"].clone();
    let degraded = app
        .call(
            "PATCH",
            "/api/v1/services/web",
            Some(&admin),
            Some(&json!({"status": "degraded", "reason": "slow disks"})),
        )
        .await;
    assert_eq!(degraded.status, 200);
    let event = app
        .create(&operator, "/api/v1/events", json!({"title": "Edge", "type": "incident", "status": "identified", "severity": "critical",
                                                   "affected_groups": [{"group_id": edge, "status": "major_outage"}],
                                                   "affected_services": [{"service_id": web, "status": "partial_outage"}]}))
        .await;
    assert_eq!(event["group_ids"], json!([edge]), "the chosen groups are kept");
    let id = event["id"].as_str().expect("id").to_owned();
    let update = |body: Value| {
        let (app, operator, id) = (&app, operator.clone(), id.clone());
        async move { app.call("POST", &format!("/api/v1/events/{id}/updates"), Some(&operator), Some(&body)).await }
    };
    let readd = update(json!({"message": "same", "add_services": [{"service_id": api, "status": "degraded"}],
                              "remove_service_ids": ["00000000-0000-0000-0000-000000000009"], "reason": "re-declared"}))
    .await;
    assert_eq!(readd.status, 201, "an unknown removal is ignored: {}", readd.text());
    let statuses: Vec<(Value, Value)> = readd.json()["event"]["affected_services"]
        .as_array()
        .expect("a")
        .iter()
        .map(|a| (a["slug"].clone(), a["status"].clone()))
        .collect();
    assert_eq!(
        statuses,
        [(json!("api"), json!("major_outage")), (json!("web"), json!("partial_outage"))],
        "adding a member keeps its status"
    );

    let removed = update(json!({"message": "web fine", "remove_service_ids": [web], "reason": "web recovered"})).await;
    assert_eq!(removed.status, 201);
    let changes = app.get(&format!("/api/v1/events/{id}/changes")).await.json()["data"].clone();
    let last = changes.as_array().and_then(|c| c.last()).cloned().unwrap_or_default();
    assert_eq!((last["action"].as_str(), last["reason"].as_str()), (Some("removed"), Some("web recovered")));
    assert!(
        changes.as_array().expect("c").iter().any(|c| c["group_id"] == edge),
        "the group a service came with is recorded"
    );

    // An admin set api's stored status while the incident ran; closing resets it.
    app.call("PATCH", "/api/v1/services/api", Some(&admin), Some(&json!({"status": "partial_outage"}))).await;
    let resolved = update(json!({"status": "resolved", "message": "all good"})).await;
    assert_eq!(resolved.status, 201);
    let api_now = app.get("/api/v1/services/api").await.json()["data"].clone();
    assert_eq!(
        (api_now["status"].clone(), api_now["effective_status"].clone()),
        (json!("operational"), json!("operational"))
    );
    assert_eq!(
        app.get("/api/v1/services/web").await.json()["data"]["status"],
        "degraded",
        "web left the event first: untouched"
    );
    let log = app.call("GET", "/api/v1/services/api/status-log?limit=5&offset=0", Some(&operator), None).await.json();
    let newest = log["data"]["entries"][0].clone();
    assert_eq!(newest["source_type"], "event");
    assert_eq!(newest["event_id"], json!(id));
    assert_eq!(
        (newest["old_status"].clone(), newest["new_status"].clone()),
        (json!("major_outage"), json!("operational"))
    );
    assert_eq!(newest["created_by"], newest["actor_id"]);
    assert_eq!(log["data"]["limit"], 5);
    let first_entry = log["data"]["entries"].as_array().and_then(|e| e.last()).cloned().unwrap_or_default();
    assert!(first_entry.get("old_status").is_none(), "absent on the first entry, as the old service: {first_entry}");
}

/// A v2 client lists a service's events in the old envelope, open ones first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_client_lists_service_events_open_first_in_the_old_envelope() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let api = app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await["id"].clone();
    let open = |title: &'static str| {
        let (app, admin, api) = (&app, admin.clone(), api.clone());
        async move {
            app.create(&admin, "/api/v1/events", json!({"title": title, "type": "incident", "status": "investigating", "severity": "minor", "service_ids": [api]}))
                .await["id"]
                .as_str()
                .expect("id")
                .to_owned()
        }
    };
    let old = open("old").await;
    app.call(
        "POST",
        &format!("/api/v1/events/{old}/updates"),
        Some(&admin),
        Some(&json!({"status": "resolved", "message": "done"})),
    )
    .await;
    let _current = open("current").await;
    let listed = app.get("/api/v1/services/api/events").await.json()["data"].clone();
    let titles: Vec<Value> = listed["events"].as_array().expect("events").iter().map(|e| e["title"].clone()).collect();
    assert_eq!(titles, [json!("current"), json!("old")], "active first");
    assert_eq!(
        (listed["total"].clone(), listed["limit"].clone(), listed["offset"].clone()),
        (json!(2), json!(50), json!(0))
    );
    assert_eq!(app.get("/api/v1/services/api/events?status=resolved").await.json()["data"]["total"], 1);
    assert_eq!(
        app.get("/api/v1/services/api/events?status=active&limit=1&offset=0").await.json()["data"]["events"][0]["title"],
        "current"
    );
    assert_eq!(app.get("/api/v1/services/api/events?status=open").await.status, 400);
    assert_eq!(app.get("/api/v1/services/nope/events").await.status, 404);
}

/// Templates by UUID, previewed with the old keys, listed newest first; `/version`'s old keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_addressed_by_uuid_and_previewed_with_the_old_keys() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create(&admin, "/api/v1/templates", json!({"slug": "first", "type": "incident", "title_template": "x"})).await;
    let second = app
        .create(&admin, "/api/v1/templates", json!({"slug": "second", "type": "maintenance",
                                                    "title_template": "{{.ServiceGroupName}}: {{.ServiceName}}",
                                                    "body_template": "From {{.ScheduledStart}} to {{.ScheduledEnd}} (closed {{.ResolvedAt}})"}))
        .await;
    let id = second["id"].as_str().expect("id").to_owned();
    let listed = app.call("GET", "/api/v1/templates", Some(&admin), None).await.json();
    assert_eq!(listed["data"][0]["slug"], "second", "newest first");
    let preview = app
        .call("POST", &format!("/api/v1/templates/{id}/preview"), Some(&admin), Some(&json!({"service_name": "API", "service_group_name": "Edge",
                                                                                               "scheduled_start": "02:00", "scheduled_end": "03:00", "resolved_at": "03:05"})))
        .await;
    assert_eq!(preview.status, 200, "{}", preview.text());
    assert_eq!(preview.json()["data"]["title"], "Edge: API");
    assert_eq!(preview.json()["data"]["body"], "From 02:00 to 03:00 (closed 03:05)");
    assert_eq!(
        app.call("DELETE", &format!("/api/v1/templates/{id}"), Some(&admin), None).await.status,
        204,
        "deleted by UUID"
    );
    assert_eq!(app.call("GET", "/api/v1/templates/second", Some(&admin), None).await.status, 404);

    let version = app.get("/version").await.json();
    for key in ["version", "commit", "build_date"] {
        assert!(version[key].is_string(), "the old bare {key}: {version}");
    }
    assert_eq!(version["version"], version["data"]["version"]);
}

/// A backfilled incident: declared resolved, with when it closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolved_at_backfills_an_incident_declared_closed() {
    let app = TestApp::spawn().await;
    let (_, operator) = app.token_for("operator").await;
    let body = json!({"title": "Yesterday", "type": "incident", "status": "resolved", "severity": "minor",
                      "started_at": "2026-01-01T10:00:00Z", "resolved_at": "2026-01-01T11:30:00Z"});
    let event = app.create(&operator, "/api/v1/events", body).await;
    assert_eq!(
        (event["started_at"].as_str(), event["resolved_at"].as_str()),
        (Some("2026-01-01T10:00:00.000Z"), Some("2026-01-01T11:30:00.000Z"))
    );
    let open = app
        .call("POST", "/api/v1/events", Some(&operator), Some(&json!({"title": "Now", "type": "incident", "status": "investigating", "severity": "minor", "resolved_at": "2026-01-01T11:30:00Z"})))
        .await;
    assert_eq!(field_errors(&open), ["resolved_at"]);
}

/// A v1 client: channels by type and target, one subscription per person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1_client_keeps_channels_and_its_one_subscription() {
    let stack = crate::notifications::stack("sendgrid").await;
    let app = &stack.app;
    let admin = app.admin().await;
    let api = app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    let (me_id, me) = app.token_for("user").await;

    let created = app
        .call("POST", "/api/v1/me/channels", Some(&me), Some(&json!({"type": "email", "target": "v1@acme.test"})))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let channel = created.json()["data"].clone();
    for key in ["id", "user_id", "type", "target", "is_enabled", "is_verified", "created_at", "updated_at"] {
        assert!(channel.get(key).is_some(), "v1 reads {key}: {channel}");
    }
    assert_eq!(
        (channel["user_id"].as_str(), channel["is_enabled"].as_bool(), channel["is_verified"].as_bool()),
        (Some(me_id.to_string().as_str()), Some(true), Some(false))
    );
    let id = channel["id"].as_str().expect("id").to_owned();
    let listed = app.call("GET", "/api/v1/me/channels", Some(&me), None).await.json();
    assert_eq!(listed["data"][0]["id"], channel["id"]);
    let without = app.call("POST", &format!("/api/v1/me/channels/{id}/verify"), Some(&me), None).await;
    assert_eq!(
        (without.status, field_errors(&without)),
        (400, vec!["code".to_owned()]),
        "an e-mail channel proves its address (v1 took it on trust)"
    );
    let code = crate::notifications::code_in(&crate::notifications::nth(&stack.relay, 1).await);
    let verified =
        app.call("POST", &format!("/api/v1/me/channels/{id}/verify"), Some(&me), Some(&json!({"code": code}))).await;
    assert_eq!((verified.status, verified.json()["data"]["is_verified"].as_bool()), (200, Some(true)));

    // One subscription per person: POST answers 200 in the v1 shape; DELETE goes back to all.
    let chosen =
        app.call("POST", "/api/v1/me/subscriptions", Some(&me), Some(&json!({"service_ids": [api["id"]]}))).await;
    assert_eq!(chosen.status, 200, "{}", chosen.text());
    let subscription = chosen.json()["data"].clone();
    assert_eq!(
        (subscription["user_id"].as_str(), subscription["service_ids"].clone()),
        (Some(me_id.to_string().as_str()), json!([api["id"]]))
    );
    assert!(subscription["id"].is_string() && subscription["created_at"].is_string(), "{subscription}");
    let read = app.call("GET", "/api/v1/me/subscriptions", Some(&me), None).await.json();
    assert_eq!(
        read["data"]["channels"][0]["subscribed_service_ids"],
        json!([api["id"]]),
        "GET answers v2's shape where the paths collide"
    );
    assert_eq!(app.call("DELETE", "/api/v1/me/subscriptions", Some(&me), None).await.status, 204);
    let read = app.call("GET", "/api/v1/me/subscriptions", Some(&me), None).await.json();
    assert_eq!(
        (
            read["data"]["channels"][0]["subscribe_to_all_services"].as_bool(),
            read["data"]["channels"][0]["subscribed_service_ids"].clone()
        ),
        (Some(true), json!([]))
    );

    let paused =
        app.call("PATCH", &format!("/api/v1/me/channels/{id}"), Some(&me), Some(&json!({"is_enabled": false}))).await;
    assert_eq!((paused.status, paused.json()["data"]["is_enabled"].as_bool()), (200, Some(false)));
    let (_, stranger) = app.token_for("user").await;
    assert_eq!(
        app.call("DELETE", &format!("/api/v1/me/channels/{id}"), Some(&stranger), None).await.status,
        403,
        "another's channel"
    );
    assert_eq!(app.call("DELETE", &format!("/api/v1/me/channels/{id}"), Some(&me), None).await.status, 204);

    // A v1 client names the Telegram chat: that chat, and only it, connects the channel.
    let telegram = app
        .call("POST", "/api/v1/me/channels", Some(&me), Some(&json!({"type": "telegram", "target": "123456"})))
        .await;
    assert_eq!(telegram.status, 201, "{}", telegram.text());
    let telegram = telegram.json()["data"].clone();
    assert_eq!((telegram["target"].as_str(), telegram["is_verified"].as_bool()), (Some("123456"), Some(false)));
    let start =
        telegram["verification"]["url"].as_str().expect("deep link").split("?start=").nth(1).expect("token").to_owned();
    let from = |chat: i64| {
        let start = start.clone();
        async move {
            let update = json!({"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"}, "text": format!("/start {start}")}});
            app.send(
                app.request(reqwest::Method::POST, "/api/v1/telegram/webhook")
                    .header("x-telegram-bot-api-secret-token", "tg-secret")
                    .json(&update),
            )
            .await
            .status
        }
    };
    assert_eq!(from(999).await, 200);
    let path = format!("/api/v1/me/channels/{}", telegram["id"].as_str().expect("id"));
    assert_eq!(
        app.call("GET", &path, Some(&me), None).await.json()["data"]["is_verified"],
        false,
        "another chat does not connect it"
    );
    assert_eq!(from(123_456).await, 200);
    assert_eq!(app.call("GET", &path, Some(&me), None).await.json()["data"]["is_verified"], true);
    let bad = app
        .call("POST", "/api/v1/me/channels", Some(&me), Some(&json!({"type": "telegram", "target": "@someone"})))
        .await;
    assert_eq!((bad.status, field_errors(&bad)), (400, vec!["target".to_owned()]), "never silently dropped");
}

/// A v2 client: the notification config, per-channel subscriptions, a new code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_client_reads_the_config_and_subscribes_each_channel() {
    let stack = crate::notifications::stack("sendgrid").await;
    let app = &stack.app;
    let config = app.get("/api/v1/notifications/config").await;
    assert_eq!(config.status, 200);
    let config = config.json()["data"].clone();
    assert!(
        config["available_channels"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("email")) && c.contains(&json!("telegram"))),
        "{config}"
    );
    assert_eq!(config["telegram"]["bot_username"], "acme_status_bot");
    let bare = TestApp::spawn().await;
    let bare_config = bare.get("/api/v1/notifications/config").await.json()["data"].clone();
    assert_eq!(bare_config["available_channels"], json!([]), "nothing configured, nothing offered");
    assert!(bare_config.get("telegram").is_none(), "telegram only when set up: {bare_config}");

    let admin = app.admin().await;
    let api = app.create(&admin, "/api/v1/services", json!({"name": "API", "slug": "api"})).await;
    let (_, me) = app.token_for("user").await;
    let channel = app.create(&me, "/api/v1/me/channels", json!({"type": "email", "target": "v2@acme.test"})).await;
    assert_eq!(
        (channel["is_default"].as_bool(), channel["subscribe_to_all_services"].as_bool()),
        (Some(true), Some(true)),
        "a person's first channel is their default"
    );
    let id = channel["id"].as_str().expect("id");
    let resend = app.call("POST", &format!("/api/v1/me/channels/{id}/resend-code"), Some(&me), None).await;
    assert_eq!(resend.status, 429, "one code a minute");
    let put = app
        .call(
            "PUT",
            &format!("/api/v1/me/channels/{id}/subscriptions"),
            Some(&me),
            Some(&json!({"subscribe_to_all_services": false, "service_ids": [api["id"]]})),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text());
    let data = put.json()["data"].clone();
    assert_eq!(
        (data["channel_id"].clone(), data["subscribe_to_all_services"].clone(), data["subscribed_service_ids"].clone()),
        (json!(id), json!(false), json!([api["id"]]))
    );
    let read = app.call("GET", "/api/v1/me/subscriptions", Some(&me), None).await.json();
    let entry = &read["data"]["channels"][0];
    assert_eq!(
        (
            entry["channel"]["id"].as_str(),
            entry["subscribe_to_all_services"].as_bool(),
            entry["subscribed_service_ids"].clone()
        ),
        (Some(id), Some(false), json!([api["id"]]))
    );
}
