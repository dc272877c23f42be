//! Catalog writes through the catalog component: services, groups, memberships, tags, the status
//! log, archive and restore, role boundaries.

use serde_json::{Value, json};

use crate::support::{TestApp, field_errors};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_create_services_in_groups_with_tags_and_the_first_status_is_logged() {
    let app = TestApp::spawn().await;
    let token = app.admin().await;
    let edge = app.create(&token, "/api/v1/groups", json!({"name": "Edge", "slug": "edge", "order": 1})).await;
    let core = app.create(&token, "/api/v1/groups", json!({"name": "Core", "slug": "core", "order": 2})).await;
    let api = app
        .create(
            &token,
            "/api/v1/services",
            json!({"name": " API ", "slug": "api", "description": "REST", "status": "degraded", "order": 3,
               "group_ids": [edge["id"], core["id"]], "tags": {"tier": "1"}}),
        )
        .await;
    assert_eq!(api["name"], "API");
    assert_eq!((api["status"].as_str(), api["effective_status"].as_str()), (Some("degraded"), Some("degraded")));
    assert_eq!(api["group_ids"], json!([edge["id"], core["id"]]));
    assert_eq!(api["tags"], json!({"tier": "1"}));
    let edge_now = app.get("/api/v1/groups/edge").await.json()["data"].clone();
    assert_eq!(edge_now["service_ids"], json!([api["id"]]), "memberships show from both sides");
    let listed =
        app.get(&format!("/api/v1/services?group_id={}", core["id"].as_str().unwrap_or_default())).await.json();
    assert_eq!(listed["meta"]["total"], 1);
    let groups = app.get("/api/v1/groups").await.json();
    assert_eq!(
        groups["data"].as_array().map(|g| g.iter().map(|g| g["slug"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("edge"), json!("core")])
    );

    let (_, operator) = app.token_for("operator").await;
    let log = app.call("GET", "/api/v1/services/api/status-log", Some(&operator), None).await.json();
    assert_eq!(log["meta"]["total"], 1);
    assert_eq!(
        (log["data"][0]["from_status"].clone(), log["data"][0]["to_status"].clone()),
        (Value::Null, json!("degraded"))
    );
    let audit =
        app.db.json("select jsonb_agg(action order by id) from audit_log where entity_type in ('service', 'group')");
    assert_eq!(audit, json!(["group.create", "group.create", "service.create"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_services_list_every_bad_field_and_unknown_groups_are_refused() {
    let app = TestApp::spawn().await;
    let token = app.admin().await;
    let invalid = app
        .call(
            "POST",
            "/api/v1/services",
            Some(&token),
            Some(&json!({"slug": "Bad Slug", "status": "on_fire", "order": 1.5, "group_ids": ["x"], "tags": {"a": 1}})),
        )
        .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(field_errors(&invalid), ["name", "slug", "status", "order", "tags", "group_ids"]);
    let unknown = app
        .call(
            "POST",
            "/api/v1/services",
            Some(&token),
            Some(&json!({"name": "A", "slug": "a", "group_ids": ["00000000-0000-0000-0000-000000000009"]})),
        )
        .await;
    assert_eq!((unknown.status, field_errors(&unknown)), (400, vec!["group_ids".to_owned()]));
    assert_eq!(app.db.json("select to_jsonb(count(*)) from services"), json!(0), "nothing half-written");
    app.create(&token, "/api/v1/services", json!({"name": "A", "slug": "a"})).await;
    let taken = app.call("POST", "/api/v1/services", Some(&token), Some(&json!({"name": "B", "slug": "a"}))).await;
    assert_eq!((taken.status, taken.json()["error"]["code"].clone()), (409, json!("slug_taken")));
    app.create(&token, "/api/v1/groups", json!({"name": "G", "slug": "g"})).await;
    let group_taken = app.call("POST", "/api/v1/groups", Some(&token), Some(&json!({"name": "H", "slug": "g"}))).await;
    assert_eq!(group_taken.json()["error"]["code"], "slug_taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_changes_only_what_it_names_and_logs_status_changes_with_their_reason() {
    let app = TestApp::spawn().await;
    let (admin_id, token) = app.token_for("admin").await;
    let group = app.create(&token, "/api/v1/groups", json!({"name": "G", "slug": "g"})).await;
    let other = app.create(&token, "/api/v1/groups", json!({"name": "H", "slug": "h"})).await;
    app.create(
        &token,
        "/api/v1/services",
        json!({"name": "API", "slug": "api", "description": "keep", "group_ids": [group["id"]]}),
    )
    .await;

    let patched = app
        .call(
            "PATCH",
            "/api/v1/services/api",
            Some(&token),
            Some(&json!({"status": "major_outage", "reason": "database down", "group_ids": [other["id"]]})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    let service = patched.json()["data"].clone();
    assert_eq!((service["status"].as_str(), service["description"].as_str()), (Some("major_outage"), Some("keep")));
    assert_eq!(service["group_ids"], json!([other["id"]]));
    assert_eq!(app.get("/api/v1/groups/g").await.json()["data"]["service_ids"], json!([]));

    let same = app.call("PATCH", "/api/v1/services/api", Some(&token), Some(&json!({"status": "major_outage"}))).await;
    assert_eq!(same.status, 200);
    let log = app.call("GET", "/api/v1/services/api/status-log", Some(&token), None).await.json();
    assert_eq!(log["meta"]["total"], 2, "an unchanged status is not logged");
    let latest = &log["data"][0];
    assert_eq!(
        (latest["from_status"].as_str(), latest["to_status"].as_str()),
        (Some("operational"), Some("major_outage"))
    );
    assert_eq!((latest["reason"].as_str(), latest["source"].as_str()), (Some("database down"), Some("manual")));
    assert_eq!(latest["actor_id"], admin_id.to_string());

    let renamed = app.call("PATCH", "/api/v1/services/api", Some(&token), Some(&json!({"slug": "public-api"}))).await;
    assert_eq!(renamed.json()["data"]["slug"], "public-api");
    assert_eq!(app.get("/api/v1/services/api").await.status, 404);
    let audit = app.db.json("select jsonb_agg(jsonb_build_object('action', action, 'before', before->>'status', 'after', after->>'status') order by id) from audit_log where action = 'service.update'");
    assert_eq!(audit[0], json!({"action": "service.update", "before": "operational", "after": "major_outage"}));
    let bad = app
        .call(
            "PATCH",
            "/api/v1/services/public-api",
            Some(&token),
            Some(&json!({"name": "", "reason": "x".repeat(501)})),
        )
        .await;
    assert_eq!(field_errors(&bad), ["name", "reason"]);
    assert_eq!(app.call("PATCH", "/api/v1/services/nope", Some(&token), Some(&json!({}))).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_services_leave_the_lists_and_come_back_on_restore() {
    let app = TestApp::spawn().await;
    let token = app.admin().await;
    let group = app.create(&token, "/api/v1/groups", json!({"name": "G", "slug": "g"})).await;
    app.create(&token, "/api/v1/services", json!({"name": "Old", "slug": "old", "group_ids": [group["id"]]})).await;
    assert_eq!(app.call("DELETE", "/api/v1/services/old", Some(&token), None).await.status, 204);
    assert_eq!(app.get("/api/v1/services").await.json()["meta"]["total"], 0);
    assert_eq!(app.get("/api/v1/services?include_archived=true").await.json()["meta"]["total"], 1);
    let archived = app.get("/api/v1/services/old").await.json()["data"].clone();
    assert!(archived["archived_at"].is_string());
    assert_eq!(app.get("/api/v1/groups/g").await.json()["data"]["service_ids"], json!([]), "groups list live services");
    assert_eq!(app.call("DELETE", "/api/v1/services/old", Some(&token), None).await.status, 204, "idempotent");
    let restored = app.call("POST", "/api/v1/services/old/restore", Some(&token), None).await;
    assert_eq!(restored.status, 200);
    assert_eq!(restored.json()["data"]["archived_at"], Value::Null);
    assert_eq!(restored.json()["data"]["group_ids"], json!([group["id"]]), "memberships survive archiving");
    let actions = app.db.json("select jsonb_agg(action order by id) from audit_log where entity_type = 'service'");
    assert_eq!(actions, json!(["service.create", "service.archive", "service.archive", "service.restore"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_with_live_services_cannot_be_archived() {
    let app = TestApp::spawn().await;
    let token = app.admin().await;
    let group = app.create(&token, "/api/v1/groups", json!({"name": "G", "slug": "g"})).await;
    let service =
        app.create(&token, "/api/v1/services", json!({"name": "S", "slug": "s", "group_ids": [group["id"]]})).await;
    let refused = app.call("DELETE", "/api/v1/groups/g", Some(&token), None).await;
    assert_eq!((refused.status, refused.json()["error"]["code"].clone()), (409, json!("group_has_live_services")));
    let emptied = app.call("PATCH", "/api/v1/groups/g", Some(&token), Some(&json!({"service_ids": []}))).await;
    assert_eq!(emptied.json()["data"]["service_ids"], json!([]));
    assert_eq!(app.call("DELETE", "/api/v1/groups/g", Some(&token), None).await.status, 204);
    assert_eq!(app.get("/api/v1/groups").await.json()["meta"]["total"], 0);
    let reuse = app.call("PATCH", "/api/v1/services/s", Some(&token), Some(&json!({"group_ids": [group["id"]]}))).await;
    assert_eq!(
        (reuse.status, field_errors(&reuse)),
        (400, vec!["group_ids".to_owned()]),
        "archived groups take no members"
    );
    let restored = app.call("POST", "/api/v1/groups/g/restore", Some(&token), None).await;
    assert_eq!(restored.json()["data"]["archived_at"], Value::Null);
    let filled = app
        .call("PATCH", "/api/v1/groups/g", Some(&token), Some(&json!({"service_ids": [service["id"]], "order": 5})))
        .await;
    assert_eq!(
        (filled.json()["data"]["service_ids"].clone(), filled.json()["data"]["order"].clone()),
        (json!([service["id"]]), json!(5))
    );
    assert_eq!(app.get("/api/v1/services/s").await.json()["data"]["group_ids"], json!([group["id"]]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_read_publicly_and_are_replaced_whole() {
    let app = TestApp::spawn().await;
    let token = app.admin().await;
    app.create(&token, "/api/v1/services", json!({"name": "S", "slug": "s", "tags": {"a": "1", "b": "2"}})).await;
    // Answered in the old service's `{"tags": {...}}` wrapper; written bare or wrapped.
    assert_eq!(app.get("/api/v1/services/s/tags").await.json(), json!({"data": {"tags": {"a": "1", "b": "2"}}}));
    let put = app.call("PUT", "/api/v1/services/s/tags", Some(&token), Some(&json!({"c": "3"}))).await;
    assert_eq!(put.json(), json!({"data": {"tags": {"c": "3"}}}));
    assert_eq!(app.get("/api/v1/services/s").await.json()["data"]["tags"], json!({"c": "3"}));
    let bad = app.call("PUT", "/api/v1/services/s/tags", Some(&token), Some(&json!({"c": 3}))).await;
    assert_eq!(bad.status, 400);
    assert_eq!(app.call("PUT", "/api/v1/services/nope/tags", Some(&token), Some(&json!({}))).await.status, 404);
    assert_eq!(app.call("PUT", "/api/v1/services/s/tags", None, Some(&json!({}))).await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_an_admin_or_a_catalog_key_and_the_status_log_an_operator() {
    let app = TestApp::spawn().await;
    let token = app.admin().await;
    let (_, user) = app.token_for("user").await;
    let (_, operator) = app.token_for("operator").await;
    app.create(&token, "/api/v1/services", json!({"name": "S", "slug": "s"})).await;
    app.create(&token, "/api/v1/groups", json!({"name": "G", "slug": "g"})).await;
    let key = |role: &str, scope: &str| json!({"name": format!("{role}-{scope}"), "role": role, "scopes": [scope]});
    let catalog_key = app.create(&token, "/api/v1/api-keys", key("admin", "catalog:write")).await["secret"]
        .as_str()
        .expect("s")
        .to_owned();
    let low_key = app.create(&token, "/api/v1/api-keys", key("operator", "catalog:write")).await["secret"]
        .as_str()
        .expect("s")
        .to_owned();
    let read_key =
        app.create(&token, "/api/v1/api-keys", key("operator", "read")).await["secret"].as_str().expect("s").to_owned();
    let bad = json!({"name": 5});
    let writes = [
        ("POST", "/api/v1/services"),
        ("PATCH", "/api/v1/services/s"),
        ("DELETE", "/api/v1/services/s"),
        ("POST", "/api/v1/services/s/restore"),
        ("PUT", "/api/v1/services/s/tags"),
        ("POST", "/api/v1/groups"),
        ("PATCH", "/api/v1/groups/g"),
        ("DELETE", "/api/v1/groups/g"),
        ("POST", "/api/v1/groups/g/restore"),
    ];
    for (method, path) in writes {
        assert_eq!(app.call(method, path, None, Some(&bad)).await.status, 401, "anonymous {method} {path}");
        for (who, token) in
            [("user", &user), ("operator", &operator), ("operator-ceiling key", &low_key), ("read key", &read_key)]
        {
            assert_eq!(app.call(method, path, Some(token), Some(&bad)).await.status, 403, "{who} {method} {path}");
        }
    }
    let by_key =
        app.call("POST", "/api/v1/services", Some(&catalog_key), Some(&json!({"name": "K", "slug": "k"}))).await;
    assert_eq!(by_key.status, 201);
    let actor = app.db.json("select to_jsonb(actor_type) from audit_log where action = 'service.create' and entity_id = (select id::text from services where slug = 'k')");
    assert_eq!(actor, json!("api_key"));
    for (who, token, status) in [
        ("user", &user, 403),
        ("operator", &operator, 200),
        ("read key", &read_key, 200),
        ("catalog key", &catalog_key, 403),
    ] {
        assert_eq!(app.call("GET", "/api/v1/services/s/status-log", Some(token), None).await.status, status, "{who}");
    }
    assert_eq!(app.get("/api/v1/services/s/status-log").await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_list_filter_and_paginate_and_bad_catalog_input_never_gets_a_5xx() {
    let app = TestApp::spawn().await;
    let token = app.admin().await;
    for (n, slug) in ["gamma", "alpha", "beta"].iter().enumerate() {
        app.create(
            &token,
            "/api/v1/groups",
            json!({"name": slug, "slug": slug, "order": i32::try_from(n % 2).unwrap_or(0)}),
        )
        .await;
    }
    let page = app.get("/api/v1/groups?per_page=2").await.json();
    assert_eq!(page["meta"], json!({"page": 1, "per_page": 2, "total": 3}));
    let slugs: Vec<Value> = page["data"].as_array().expect("data").iter().map(|g| g["slug"].clone()).collect();
    assert_eq!(slugs, [json!("beta"), json!("gamma")], "order, then name");
    assert_eq!(app.get("/api/v1/groups?q=ALP").await.json()["meta"]["total"], 1);
    assert_eq!(app.get("/api/v1/groups?include_archived=maybe&page=0").await.status, 400);
    assert_eq!(app.get("/api/v1/groups/nope").await.status, 404);

    let bodies = [
        "",
        "[]",
        "{",
        "null",
        "{\"name\": [], \"slug\": {}, \"order\": \"1\", \"group_ids\": \"x\", \"service_ids\": [1]}",
        "{\"order\": 99999999999}",
    ];
    for (method, path) in [
        ("POST", "/api/v1/services"),
        ("PATCH", "/api/v1/services/alpha"),
        ("PUT", "/api/v1/services/alpha/tags"),
        ("POST", "/api/v1/groups"),
        ("PATCH", "/api/v1/groups/alpha"),
        ("PATCH", "/api/v1/groups/%ff%00"),
    ] {
        for body in bodies {
            let request = app
                .request(reqwest::Method::from_bytes(method.as_bytes()).expect("method"), path)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body);
            let response = app.send(request).await;
            assert!(
                (400..500).contains(&response.status),
                "{method} {path} {body}: {} {}",
                response.status,
                response.text()
            );
        }
    }
}
