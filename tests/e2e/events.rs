//! Incidents and maintenance through the events component: lifecycles, validation, the
//! affected set and its history, derived service status, terminal states, deletes.

use serde_json::{Value, json};

use crate::support::{TestApp, field_errors};

struct Fixture {
    app: TestApp,
    operator: String,
    admin: String,
    api: String,
    web: String,
    db_svc: String,
    edge: String,
}

async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let (_, admin) = app.token_for("admin").await;
    let (_, operator) = app.token_for("operator").await;
    let create = |path: &'static str, body: Value| {
        let (app, admin) = (&app, admin.clone());
        async move { app.create(&admin, path, body).await["id"].as_str().expect("id").to_owned() }
    };
    let edge = create("/api/v1/groups", json!({"name": "Edge", "slug": "edge"})).await;
    let api = create("/api/v1/services", json!({"name": "API", "slug": "api", "order": 1, "group_ids": [edge]})).await;
    let web = create("/api/v1/services", json!({"name": "Web", "slug": "web", "order": 2, "group_ids": [edge]})).await;
    let db_svc = create("/api/v1/services", json!({"name": "DB", "slug": "db", "order": 3})).await;
    Fixture { app, operator, admin, api, web, db_svc, edge }
}

impl Fixture {
    async fn effective(&self, slug: &str) -> (String, bool) {
        let service = self.app.get(&format!("/api/v1/services/{slug}")).await.json()["data"].clone();
        (
            service["effective_status"].as_str().unwrap_or_default().to_owned(),
            service["has_active_events"].as_bool().unwrap_or_default(),
        )
    }

    async fn open(&self, body: Value) -> Value {
        let response = self.app.call("POST", "/api/v1/events", Some(&self.operator), Some(&body)).await;
        assert_eq!(response.status, 201, "{}", response.text());
        response.json()["data"].clone()
    }

    async fn update(&self, id: &str, body: Value) -> crate::support::TestResponse {
        self.app.call("POST", &format!("/api/v1/events/{id}/updates"), Some(&self.operator), Some(&body)).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_lives_from_investigating_to_resolved_and_drives_service_status() {
    let f = fixture().await;
    let incident = f
        .open(json!({"title": "API errors", "type": "incident", "status": "investigating", "severity": "major",
                     "description": "5xx on the API", "affected_services": [{"service_id": f.api, "status": "partial_outage"}]}))
        .await;
    let id = incident["id"].as_str().expect("id").to_owned();
    assert!(incident["started_at"].is_string() && incident["resolved_at"].is_null());
    assert_eq!(incident["updates"].as_array().map(Vec::len), Some(1), "creating writes the first timeline entry");
    assert_eq!(incident["updates"][0]["message"], "5xx on the API");
    assert_eq!(f.effective("api").await, ("partial_outage".into(), true));
    assert_eq!(f.effective("web").await, ("operational".into(), false));

    for status in ["identified", "monitoring"] {
        let response = f.update(&id, json!({"status": status, "message": format!("now {status}")})).await;
        assert_eq!(response.status, 201, "{}", response.text());
    }
    let monitoring = f.app.get(&format!("/api/v1/events/{id}")).await.json()["data"].clone();
    assert!(monitoring["monitoring_at"].is_string());
    let resolved = f.update(&id, json!({"status": "resolved", "message": "fixed", "notify_subscribers": true})).await;
    // As the old service: the new timeline entry is `data`; the event is beside it.
    let entry = resolved.json()["data"].clone();
    assert_eq!(
        (entry["event_id"].as_str(), entry["status"].as_str(), entry["message"].as_str()),
        (Some(id.as_str()), Some("resolved"), Some("fixed"))
    );
    let event = resolved.json()["event"].clone();
    assert_eq!((event["status"].as_str(), event["resolved_at"].is_string()), (Some("resolved"), true));
    assert_eq!(event["updates"].as_array().map(Vec::len), Some(4));
    assert_eq!(event["updates"][0]["message"], "fixed", "newest first");
    assert_eq!(f.effective("api").await, ("operational".into(), false), "resolving resets the service");

    let log = f.app.call("GET", "/api/v1/services/api/status-log", Some(&f.operator), None).await.json();
    let sources: Vec<(Value, Value, Value)> = log["data"]
        .as_array()
        .expect("log")
        .iter()
        .map(|e| (e["source"].clone(), e["from_status"].clone(), e["to_status"].clone()))
        .collect();
    assert_eq!(sources[0], (json!("event"), json!("partial_outage"), json!("operational")));
    assert_eq!(sources[1], (json!("event"), json!("operational"), json!("partial_outage")));

    let closed = f.update(&id, json!({"message": "one more thing"})).await;
    assert_eq!((closed.status, closed.json()["error"]["code"].clone()), (409, json!("event_closed")));
    let actions = f.app.db.json("select jsonb_agg(action order by id) from audit_log where entity_type = 'event'");
    assert_eq!(actions, json!(["event.create", "event.update", "event.update", "event.update"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_affects_nothing_until_in_progress_and_completes() {
    let f = fixture().await;
    let planned = f
        .open(json!({"title": "DB upgrade", "type": "maintenance", "status": "scheduled",
                     "scheduled_start_at": "2026-12-01T02:00:00+01:00", "scheduled_end_at": "2026-12-01T03:00:00Z",
                     "affected_services": [{"service_id": f.db_svc, "status": "maintenance"}]}))
        .await;
    assert_eq!(
        (planned["scheduled_start_at"].as_str(), planned["started_at"].is_null()),
        (Some("2026-12-01T01:00:00.000Z"), true)
    );
    assert!(planned["severity"].is_null());
    assert_eq!(
        f.effective("db").await,
        ("operational".into(), false),
        "scheduled maintenance counts only once in progress"
    );
    let id = planned["id"].as_str().expect("id").to_owned();
    let started = f.update(&id, json!({"status": "in_progress", "message": "starting"})).await.json()["event"].clone();
    assert!(started["started_at"].is_string());
    assert_eq!(f.effective("db").await, ("maintenance".into(), true));
    let wrong = f.update(&id, json!({"status": "resolved", "message": "x"})).await;
    assert_eq!((wrong.status, field_errors(&wrong)), (400, vec!["status".to_owned()]), "a status not of the type");
    f.update(&id, json!({"status": "completed", "message": "done"})).await;
    assert_eq!(f.effective("db").await, ("operational".into(), false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worst_status_of_overlapping_active_events_wins() {
    let f = fixture().await;
    let minor = f
        .open(json!({"title": "slow", "type": "incident", "status": "investigating", "severity": "minor",
                              "affected_services": [{"service_id": f.api, "status": "degraded"}]}))
        .await;
    let major = f
        .open(json!({"title": "down", "type": "incident", "status": "identified", "severity": "critical",
                              "affected_services": [{"service_id": f.api, "status": "major_outage"}]}))
        .await;
    let upkeep = f
        .open(json!({"title": "upkeep", "type": "maintenance", "status": "in_progress",
                               "scheduled_start_at": "2026-01-01T00:00:00Z", "scheduled_end_at": "2026-01-01T01:00:00Z",
                               "affected_services": [{"service_id": f.api, "status": "maintenance"}]}))
        .await;
    assert_eq!(f.effective("api").await.0, "major_outage");
    assert_eq!(
        f.app.get("/api/v1/services?status=major_outage").await.json()["meta"]["total"],
        1,
        "the list filters on the effective status"
    );
    f.update(major["id"].as_str().expect("id"), json!({"status": "resolved", "message": "back"})).await;
    assert_eq!(f.effective("api").await.0, "degraded", "the other active incident still applies");
    f.update(minor["id"].as_str().expect("id"), json!({"status": "resolved", "message": "fast again"})).await;
    assert_eq!(f.effective("api").await.0, "maintenance");
    f.update(upkeep["id"].as_str().expect("id"), json!({"status": "completed", "message": "done"})).await;
    assert_eq!(f.effective("api").await, ("operational".into(), false));
    // A stored status comes back once no event applies.
    f.app.call("PATCH", "/api/v1/services/api", Some(&f.admin), Some(&json!({"status": "degraded"}))).await;
    assert_eq!(f.effective("api").await.0, "degraded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_expand_explicit_services_win_and_every_composition_change_is_recorded() {
    let f = fixture().await;
    let event = f
        .open(json!({"title": "edge", "type": "incident", "status": "investigating", "severity": "major",
                              "affected_groups": [{"group_id": f.edge, "status": "degraded"}],
                              "affected_services": [{"service_id": f.web, "status": "major_outage"}]}))
        .await;
    let affected: Vec<(Value, Value)> = event["affected_services"]
        .as_array()
        .expect("affected")
        .iter()
        .map(|a| (a["slug"].clone(), a["status"].clone()))
        .collect();
    assert_eq!(affected, [(json!("api"), json!("degraded")), (json!("web"), json!("major_outage"))]);
    let id = event["id"].as_str().expect("id").to_owned();
    let changed = f
        .update(&id, json!({"message": "reshuffle", "service_updates": [{"service_id": f.api, "status": "partial_outage"}],
                            "add_services": [{"service_id": f.db_svc, "status": "degraded"}], "remove_service_ids": [f.web]}))
        .await;
    assert_eq!(changed.status, 201, "{}", changed.text());
    let now: Vec<Value> =
        changed.json()["event"]["affected_services"].as_array().expect("a").iter().map(|a| a["slug"].clone()).collect();
    assert_eq!(now, [json!("api"), json!("db")]);
    assert_eq!(f.effective("web").await.0, "operational", "removed services go back");
    let changes = f.app.get(&format!("/api/v1/events/{id}/changes")).await.json()["data"].clone();
    let kinds: Vec<(Value, Value, Value)> = changes
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| (c["kind"].clone(), c["from_status"].clone(), c["to_status"].clone()))
        .collect();
    assert_eq!(kinds.len(), 5);
    assert!(kinds.contains(&(json!("status_changed"), json!("degraded"), json!("partial_outage"))));
    assert!(kinds.contains(&(json!("added"), Value::Null, json!("degraded"))));
    assert!(kinds.contains(&(json!("removed"), json!("major_outage"), Value::Null)));
    assert!(changes.as_array().expect("c").iter().all(|c| c["update_id"].is_string()));

    // Restating a service the event does not affect is refused; removing one is not an error
    // (the old service ignored it), but it is part of a refused update here, so nothing changes.
    let not_affected = f.update(&id, json!({"message": "x", "service_updates": [{"service_id": f.web, "status": "degraded"}], "remove_service_ids": [f.web]})).await;
    assert_eq!(field_errors(&not_affected), ["service_updates[0].service_id"]);
    let unknown = f.update(&id, json!({"message": "x", "add_services": [{"service_id": "00000000-0000-0000-0000-000000000001", "status": "degraded"}]})).await;
    assert_eq!(field_errors(&unknown), ["add_services"]);
    assert_eq!(
        f.app.get(&format!("/api/v1/events/{id}/updates")).await.json()["data"].as_array().map(Vec::len),
        Some(2),
        "refused updates leave nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_events_list_every_problem_and_never_get_a_5xx() {
    let f = fixture().await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({}), vec!["title", "type", "status"]),
        (json!({"title": "x", "type": "incident", "status": "scheduled"}), vec!["status", "severity"]),
        (
            json!({"title": "x", "type": "maintenance", "status": "scheduled", "severity": "minor"}),
            vec!["severity", "scheduled_start_at", "scheduled_end_at"],
        ),
        (
            json!({"title": "x", "type": "maintenance", "status": "scheduled", "scheduled_start_at": "2026-01-02T00:00:00Z", "scheduled_end_at": "2026-01-01T00:00:00Z"}),
            vec!["scheduled_end_at"],
        ),
        (json!({"title": "x", "type": "outage", "status": "open"}), vec!["type"]),
        (
            json!({"title": "x", "type": "incident", "status": "investigating", "severity": "meh", "started_at": "2999-01-01T00:00:00Z",
                "affected_services": [{"service_id": "nope", "status": "on_fire"}]}),
            vec!["severity", "started_at", "affected_services[0].service_id", "affected_services[0].status"],
        ),
    ];
    for (body, fields) in cases {
        let response = f.app.call("POST", "/api/v1/events", Some(&f.operator), Some(&body)).await;
        assert_eq!(response.status, 400, "{body}: {}", response.text());
        assert_eq!(field_errors(&response), fields, "{body}");
    }
    let bodies =
        ["", "[]", "{", "{\"title\": 1, \"type\": [], \"affected_services\": \"all\", \"affected_groups\": [1]}"];
    for (method, path) in [
        ("POST", "/api/v1/events".to_owned()),
        ("POST", format!("/api/v1/events/{}/updates", uuid::Uuid::nil())),
        ("POST", "/api/v1/events/%ff/updates".to_owned()),
    ] {
        for body in bodies {
            let request = f
                .app
                .request(reqwest::Method::from_bytes(method.as_bytes()).expect("m"), &path)
                .bearer_auth(&f.operator)
                .header("content-type", "application/json")
                .body(body);
            let response = f.app.send(request).await;
            assert!(
                (400..500).contains(&response.status),
                "{method} {path} {body}: {} {}",
                response.status,
                response.text()
            );
        }
    }
    assert_eq!(f.app.get("/api/v1/events/not-a-uuid").await.json()["error"]["code"], "invalid_id");
    assert_eq!(f.app.get(&format!("/api/v1/events/{}", uuid::Uuid::nil())).await.status, 404);
    assert_eq!(f.app.db.json("select to_jsonb(count(*)) from events"), json!(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_list_publicly_with_filters_and_backdated_times() {
    let f = fixture().await;
    let old = f.open(json!({"title": "old", "type": "incident", "status": "investigating", "severity": "minor",
                            "started_at": "2026-01-01T10:00:00+02:00", "affected_services": [{"service_id": f.api, "status": "degraded"}]})).await;
    assert_eq!(old["started_at"], "2026-01-01T08:00:00.000Z");
    assert_eq!(old["updates"][0]["created_at"], "2026-01-01T08:00:00.000Z", "backdating dates the first entry too");
    f.update(
        old["id"].as_str().expect("id"),
        json!({"status": "resolved", "message": "ok", "created_at": "2026-01-01T09:00:00Z"}),
    )
    .await;
    f.open(json!({"title": "new", "type": "incident", "status": "identified", "severity": "major"})).await;
    f.open(json!({"title": "plan", "type": "maintenance", "status": "scheduled", "scheduled_start_at": "2027-01-01T00:00:00Z", "scheduled_end_at": "2027-01-01T01:00:00Z"})).await;
    let count = |query: &'static str| {
        let app = &f.app;
        async move { app.get(&format!("/api/v1/events?{query}")).await.json()["meta"]["total"].clone() }
    };
    assert_eq!(count("").await, 3);
    assert_eq!(count("type=maintenance").await, 1);
    assert_eq!(count("status=active").await, 1, "scheduled maintenance is not active (as in the old service)");
    assert_eq!(count("status=scheduled").await, 1);
    assert_eq!(count("status=resolved").await, 1);
    assert_eq!(count("status=identified").await, 1);
    assert_eq!(f.app.get(&format!("/api/v1/events?service_id={}", f.api)).await.json()["meta"]["total"], 1);
    assert_eq!(count("per_page=1&page=3").await, 3);
    let resolved =
        f.app.get(&format!("/api/v1/events/{}", old["id"].as_str().expect("id"))).await.json()["data"].clone();
    assert_eq!(resolved["resolved_at"], "2026-01-01T09:00:00.000Z");
    let bad = f.app.get("/api/v1/events?type=x&status=open&service_id=y&from=z&per_page=0").await;
    assert_eq!(field_errors(&bad), ["per_page", "type", "status", "service_id", "from"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_closed_events_and_scheduled_maintenance_can_be_deleted_by_admins() {
    let f = fixture().await;
    let open =
        f.open(json!({"title": "open", "type": "incident", "status": "investigating", "severity": "minor"})).await;
    let id = open["id"].as_str().expect("id").to_owned();
    let (_, user) = f.app.token_for("user").await;
    assert_eq!(f.app.call("DELETE", &format!("/api/v1/events/{id}"), None, None).await.status, 401);
    assert_eq!(f.app.call("DELETE", &format!("/api/v1/events/{id}"), Some(&f.operator), None).await.status, 403);
    let refused = f.app.call("DELETE", &format!("/api/v1/events/{id}"), Some(&f.admin), None).await;
    assert_eq!((refused.status, refused.json()["error"]["code"].clone()), (409, json!("event_open")));
    f.update(&id, json!({"status": "resolved", "message": "done"})).await;
    assert_eq!(f.app.call("DELETE", &format!("/api/v1/events/{id}"), Some(&f.admin), None).await.status, 204);
    assert_eq!(f.app.get(&format!("/api/v1/events/{id}")).await.status, 404);

    let plan = f.open(json!({"title": "plan", "type": "maintenance", "status": "scheduled", "scheduled_start_at": "2027-01-01T00:00:00Z", "scheduled_end_at": "2027-01-01T01:00:00Z"})).await;
    assert_eq!(
        f.app
            .call("DELETE", &format!("/api/v1/events/{}", plan["id"].as_str().expect("id")), Some(&f.admin), None)
            .await
            .status,
        204
    );
    let actions = f
        .app
        .db
        .json("select jsonb_agg(action order by id) from audit_log where action in ('event.delete', 'event.cancel')");
    assert_eq!(actions, json!(["event.delete", "event.cancel"]));

    for (method, path) in [("POST", "/api/v1/events".to_owned()), ("POST", format!("/api/v1/events/{id}/updates"))] {
        assert_eq!(f.app.call(method, &path, None, Some(&json!({}))).await.status, 401, "{path}");
        assert_eq!(f.app.call(method, &path, Some(&user), Some(&json!({}))).await.status, 403, "{path}");
    }
    let key = f
        .app
        .call(
            "POST",
            "/api/v1/api-keys",
            Some(&f.admin),
            Some(&json!({"name": "ci", "role": "operator", "scopes": ["events:write"]})),
        )
        .await
        .json()["data"]["secret"]
        .as_str()
        .expect("s")
        .to_owned();
    let by_key = f
        .app
        .call(
            "POST",
            "/api/v1/events",
            Some(&key),
            Some(&json!({"title": "from CI", "type": "incident", "status": "investigating", "severity": "minor"})),
        )
        .await;
    assert_eq!(by_key.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_validated_when_saved_previewed_and_fill_events() {
    let f = fixture().await;
    let bad = f
        .app
        .call("POST", "/api/v1/templates", Some(&f.admin), Some(&json!({"slug": "Bad", "type": "outage", "title_template": "{{ nope }} down", "body_template": "{{ cause"})))
        .await;
    assert_eq!(field_errors(&bad), ["slug", "type", "title_template", "body_template"]);
    assert!(bad.text().contains("unknown placeholder {{nope}}"), "{}", bad.text());
    let operator_write = f.app.call("POST", "/api/v1/templates", Some(&f.operator), Some(&json!({}))).await;
    assert_eq!(operator_write.status, 403, "templates are written by admins");

    let created = f
        .app
        .call("POST", "/api/v1/templates", Some(&f.admin), Some(&json!({"slug": "outage", "type": "incident",
            "title_template": "{{service_names}} unavailable", "body_template": "Cause: {{ cause }}. Next update: {{eta}}. Since {{started_at}}."})))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let taken = f
        .app
        .call(
            "POST",
            "/api/v1/templates",
            Some(&f.admin),
            Some(&json!({"slug": "outage", "type": "incident", "title_template": "x"})),
        )
        .await;
    assert_eq!(taken.json()["error"]["code"], "slug_taken");
    assert_eq!(
        f.app.call("GET", "/api/v1/templates", Some(&f.operator), None).await.json()["meta"]["total"],
        1,
        "operators read them"
    );

    let preview = f
        .app
        .call(
            "POST",
            "/api/v1/templates/outage/preview",
            Some(&f.operator),
            Some(&json!({"variables": {"service_names": "API", "cause": "a bad deploy"}})),
        )
        .await;
    assert_eq!(
        preview.json()["data"],
        json!({"title": "API unavailable", "body": "Cause: a bad deploy. Next update: [eta]. Since [started_at].", "missing": ["eta", "started_at"]})
    );

    let missing = f
        .app
        .call("POST", "/api/v1/events", Some(&f.operator), Some(&json!({"template_slug": "outage", "type": "incident", "status": "investigating", "severity": "major",
            "variables": {"cause": "a bad deploy"}, "affected_services": [{"service_id": f.api, "status": "major_outage"}]})))
        .await;
    assert_eq!((missing.status, field_errors(&missing)), (400, vec!["variables.eta".to_owned()]));
    let wrong = f.app.call("POST", "/api/v1/events", Some(&f.operator), Some(&json!({"template_slug": "outage", "type": "incident", "status": "investigating", "severity": "major", "variables": {"service_names": "x", "colour": "red"}}))).await;
    assert_eq!(wrong.status, 400);
    let event = f
        .open(json!({"template_slug": "outage", "type": "incident", "status": "investigating", "severity": "major",
                     "started_at": "2026-03-01T10:00:00Z", "variables": {"cause": "a bad deploy", "eta": "30 minutes"},
                     "affected_services": [{"service_id": f.web, "status": "major_outage"}, {"service_id": f.api, "status": "major_outage"}]}))
        .await;
    assert_eq!(event["title"], "API, Web unavailable");
    assert_eq!(event["description"], "Cause: a bad deploy. Next update: 30 minutes. Since 2026-03-01T10:00:00.000Z.");
    assert_eq!(event["updates"][0]["message"], event["description"]);
    let mismatch = f
        .app
        .call(
            "POST",
            "/api/v1/events",
            Some(&f.operator),
            Some(&json!({"template_slug": "outage", "type": "maintenance", "status": "scheduled",
        "scheduled_start_at": "2027-01-01T00:00:00Z", "scheduled_end_at": "2027-01-01T01:00:00Z"})),
        )
        .await;
    assert_eq!(field_errors(&mismatch), ["type"]);
    let unknown = f
        .app
        .call(
            "POST",
            "/api/v1/events",
            Some(&f.operator),
            Some(
                &json!({"template_slug": "ghost", "type": "incident", "status": "investigating", "severity": "minor"}),
            ),
        )
        .await;
    assert_eq!(field_errors(&unknown), ["template_slug"]);

    let renamed = f
        .app
        .call(
            "PATCH",
            "/api/v1/templates/outage",
            Some(&f.admin),
            Some(&json!({"slug": "api-outage", "title_template": "{{ service_names }} down"})),
        )
        .await;
    assert_eq!(renamed.json()["data"]["slug"], "api-outage");
    let refused = f
        .app
        .call("PATCH", "/api/v1/templates/api-outage", Some(&f.admin), Some(&json!({"body_template": "{{whatever}}"})))
        .await;
    assert_eq!(field_errors(&refused), ["body_template"]);
    assert_eq!(f.app.call("DELETE", "/api/v1/templates/api-outage", Some(&f.admin), None).await.status, 204);
    assert_eq!(f.app.call("GET", "/api/v1/templates/api-outage", Some(&f.admin), None).await.status, 404);
    let actions = f.app.db.json("select jsonb_agg(action order by id) from audit_log where entity_type = 'template'");
    assert_eq!(actions, json!(["template.create", "template.update", "template.delete"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_in_an_active_event_cannot_be_archived_until_the_event_closes() {
    let f = fixture().await;
    let event = f
        .open(json!({"title": "down", "type": "incident", "status": "investigating", "severity": "major",
                              "affected_services": [{"service_id": f.api, "status": "major_outage"}]}))
        .await;
    let refused = f.app.call("DELETE", "/api/v1/services/api", Some(&f.admin), None).await;
    assert_eq!((refused.status, refused.json()["error"]["code"].clone()), (409, json!("service_has_active_events")));
    f.update(event["id"].as_str().expect("id"), json!({"status": "resolved", "message": "up"})).await;
    assert_eq!(f.app.call("DELETE", "/api/v1/services/api", Some(&f.admin), None).await.status, 204);
}
