//! Incoming monitoring webhooks: real-format Alertmanager (version 4) and Grafana
//! payloads, as their documentation shows them, and the generic format, through firing, a
//! repeat, a second service, partial and full resolution and a human takeover, with their
//! incidents, service statuses, timelines, audit rows and notifications.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::notifications::{nth, stack, verified_email};
use crate::support::{TestApp, TestResponse, field_errors};

fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(message);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// An Alertmanager v4 payload (the shape of its documentation) with `alerts`.
fn alertmanager(status: &str, alerts: Vec<Value>) -> Value {
    json!({
        "version": "4", "groupKey": "{}/{}:{alertname=~\".*\"}", "truncatedAlerts": 0, "status": status,
        "receiver": "statuspage", "groupLabels": {}, "commonLabels": {"env": "prod"}, "commonAnnotations": {},
        "externalURL": "http://alertmanager.internal:9093", "alerts": alerts
    })
}

fn am_alert(status: &str, name: &str, service: &str, severity: &str, fingerprint: &str, summary: &str) -> Value {
    json!({
        "status": status,
        "labels": {"alertname": name, "service": service, "severity": severity, "env": "prod"},
        "annotations": {"summary": summary, "runbook_url": "https://runbooks.example.com/x"},
        "startsAt": "2026-12-05T10:00:00.000Z",
        "endsAt": if status == "firing" { "0001-01-01T00:00:00Z" } else { "2026-12-05T10:30:00.000Z" },
        "generatorURL": "http://prometheus.internal:9090/graph?g0.expr=up",
        "fingerprint": fingerprint
    })
}

async fn post_with_key(app: &TestApp, path: &str, key: &str, body: &Value) -> TestResponse {
    app.send(app.request(reqwest::Method::POST, path).bearer_auth(key).json(body)).await
}

fn event(app: &TestApp, id: &Value) -> Value {
    app.db.json(&format!(
        "select jsonb_build_object('status', e.status, 'severity', e.severity, 'title', e.title,
                 'affected', (select coalesce(jsonb_object_agg(s.slug, es.status), '{{}}'::jsonb)
                              from event_services es join services s on s.id = es.service_id where es.event_id = e.id),
                 'timeline', (select jsonb_agg(u.message order by u.created_at, u.seq) from event_updates u where u.event_id = e.id))
         from events e where e.id = '{}'",
        id.as_str().expect("id")
    ))
}

fn effective(app: &TestApp, slug: &str) -> Value {
    app.db.json(&format!("select to_jsonb(service_effective_status(id, status)) from services where slug = '{slug}'"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_alerts_open_widen_narrow_and_resolve_an_incident_and_repeats_change_nothing() {
    let stack = stack("sendgrid").await;
    let app = &stack.app;
    let admin = app.admin().await;
    for (name, slug) in [("API", "api"), ("Web", "web")] {
        app.create(&admin, "/api/v1/services", json!({"name": name, "slug": slug})).await;
    }
    let (_, reader) = app.token_for("user").await;
    verified_email(&stack, &reader, json!({"type": "email", "target": "oncall@acme.test"})).await;
    let integration = app
        .create(
            &admin,
            "/api/v1/webhooks/integrations",
            json!({"name": "Prometheus", "slug": "prom", "kind": "alertmanager"}),
        )
        .await;
    assert_eq!(integration["webhook_path"], "/api/v1/webhooks/alertmanager/prom");
    assert!(integration["secret"].as_str().is_some_and(|s| s.starts_with("whsec_")));
    assert_eq!(integration["severity_map"]["critical"], json!({"severity": "critical", "status": "major_outage"}));
    let key = app
        .create(
            &admin,
            "/api/v1/api-keys",
            json!({"name": "alertmanager", "role": "operator", "scopes": ["events:write"]}),
        )
        .await;
    let key = key["secret"].as_str().expect("key").to_owned();
    let path = "/api/v1/webhooks/alertmanager/prom";

    // Firing: an incident on API, at the status its severity maps to.
    let latency = am_alert("firing", "HighLatency", "api", "critical", "a1b2c3d4e5f60718", "p99 latency above 2 s");
    let first = post_with_key(app, path, &key, &alertmanager("firing", vec![latency.clone()])).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let received = first.json()["data"].clone();
    assert_eq!((received["opened"].as_array().map(Vec::len), received["unchanged"].as_i64()), (Some(1), Some(0)));
    let id = received["opened"][0].clone();
    let opened = event(app, &id);
    assert_eq!(
        (opened["status"].as_str(), opened["severity"].as_str(), opened["title"].as_str()),
        (Some("investigating"), Some("critical"), Some("HighLatency"))
    );
    assert_eq!(opened["affected"], json!({"api": "major_outage"}));
    assert_eq!(effective(app, "api"), json!("major_outage"));
    assert_eq!(nth(&stack.relay, 2).await.json()["subject"], "[Service Status] Incident: HighLatency — Investigating");
    let author = app.db.json(&format!(
        "select to_jsonb(created_by) from event_updates where event_id = '{}'",
        id.as_str().expect("id")
    ));
    assert_eq!(author, integration["id"], "the integration is the author");
    let audit = app.db.json("select jsonb_agg(jsonb_build_object('type', actor_type, 'label', actor_label, 'action', action) order by id) from audit_log where actor_type = 'integration'");
    assert_eq!(audit, json!([{"type": "integration", "label": "Prometheus", "action": "event.create"}]));

    // Alertmanager sends the group again every few seconds: nothing changes.
    let repeat = post_with_key(app, path, &key, &alertmanager("firing", vec![latency.clone()])).await;
    assert_eq!(repeat.json()["data"], json!({"opened": [], "updated": [], "resolved": [], "unchanged": 1}));
    assert_eq!(event(app, &id)["timeline"].as_array().map(Vec::len), Some(1));

    // A second alert on Web joins the incident and widens it.
    let errors = am_alert("firing", "ErrorRate", "web", "warning", "f0e1d2c3b4a59687", "5xx above 1 %");
    let widened = post_with_key(app, path, &key, &alertmanager("firing", vec![latency.clone(), errors.clone()])).await;
    assert_eq!(widened.json()["data"], json!({"opened": [], "updated": [id], "resolved": [], "unchanged": 1}));
    assert_eq!(event(app, &id)["affected"], json!({"api": "major_outage", "web": "partial_outage"}));
    assert_eq!(nth(&stack.relay, 3).await.json()["subject"], "[Service Status] Incident: HighLatency — Investigating");

    // API's alert resolves: API leaves the incident; Web's still fires.
    let mut latency_resolved = latency.clone();
    latency_resolved["status"] = json!("resolved");
    let narrowed =
        post_with_key(app, path, &key, &alertmanager("firing", vec![latency_resolved.clone(), errors.clone()])).await;
    assert_eq!(narrowed.json()["data"]["updated"], json!([id]));
    assert_eq!(event(app, &id)["affected"], json!({"web": "partial_outage"}));
    assert_eq!(effective(app, "api"), json!("operational"));

    // The last alert resolves: so does the incident.
    let mut errors_resolved = errors.clone();
    errors_resolved["status"] = json!("resolved");
    let resolved =
        post_with_key(app, path, &key, &alertmanager("resolved", vec![latency_resolved, errors_resolved.clone()]))
            .await;
    assert_eq!(resolved.json()["data"], json!({"opened": [], "updated": [id], "resolved": [id], "unchanged": 1}));
    let closed = event(app, &id);
    assert_eq!(closed["status"], "resolved");
    assert_eq!(
        closed["timeline"],
        json!([
            "HighLatency is firing: p99 latency above 2 s",
            "Web is affected: ErrorRate is firing: 5xx above 1 %",
            "The alerts on API have cleared.",
            "All alerts have cleared."
        ])
    );
    assert_eq!((effective(app, "api"), effective(app, "web")), (json!("operational"), json!("operational")));
    let subjects: Vec<String> = stack
        .relay
        .wait_for(5, std::time::Duration::from_secs(3))
        .await
        .iter()
        .skip(1)
        .map(|r| r.json()["subject"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(subjects.last().map(String::as_str), Some("[Service Status] Resolved: HighLatency"), "{subjects:?}");
    let actions = app.db.json("select jsonb_agg(action order by id) from audit_log where actor_type = 'integration'");
    assert_eq!(actions, json!(["event.create", "event.update", "event.update", "event.update"]));

    // The same alert firing again later opens a new incident.
    let again = post_with_key(app, path, &key, &alertmanager("firing", vec![errors])).await;
    assert_eq!(again.json()["data"]["opened"].as_array().map(Vec::len), Some(1));
    assert_ne!(again.json()["data"]["opened"][0], id);
}

/// Grafana's documented example payload (two alerts of team blue).
fn grafana(status: &str) -> Value {
    let alert = |name: &str, zone: &str, fingerprint: &str| {
        json!({"status": status, "labels": {"alertname": name, "team": "blue", "zone": zone},
               "annotations": {"description": format!("The system has {}", name.to_lowercase()), "runbook_url": "https://myrunbook.com/runbook/1234",
                               "summary": format!("This alert was triggered for zone {zone}")},
               "startsAt": "2021-10-12T09:51:03.157076+02:00", "endsAt": "0001-01-01T00:00:00Z",
               "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit", "fingerprint": fingerprint,
               "silenceURL": "https://play.grafana.org/alerting/silence/new", "dashboardURL": "", "panelURL": "",
               "values": {"B": 44.23943737541908, "C": 1}})
    };
    json!({"receiver": "My Super Webhook", "status": status, "orgId": 1,
           "alerts": [alert("High memory usage", "us-1", "c6eadffa33fcdf37"), alert("High CPU usage", "eu-1", "bc97ff14869b13e3")],
           "groupLabels": {}, "commonLabels": {"team": "blue"}, "commonAnnotations": {}, "externalURL": "https://play.grafana.org/",
           "version": "1", "groupKey": "{}:{}", "truncatedAlerts": 0, "title": "[FIRING:2] (blue)", "state": "alerting",
           "message": "**Firing**"})
}

async fn post_signed_grafana(
    app: &TestApp,
    path: &str,
    secret: &str,
    body: &Value,
    timestamp: Option<i64>,
) -> TestResponse {
    let bytes = serde_json::to_vec(body).expect("json");
    let mut request = app.request(reqwest::Method::POST, path).header("content-type", "application/json");
    let signed = match timestamp {
        Some(ts) => {
            request = request.header("x-grafana-alerting-timestamp", ts.to_string());
            hmac_hex(secret, &[format!("{ts}:").as_bytes(), &bytes].concat())
        }
        None => hmac_hex(secret, &bytes),
    };
    app.send(request.header("x-grafana-alerting-signature", signed).body(bytes)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grafana_alerts_signed_by_hmac_leave_an_incident_a_person_took_over_open() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create(&admin, "/api/v1/services", json!({"name": "Blue team's cluster", "slug": "blue"})).await;
    let integration = app
        .create(
            &admin,
            "/api/v1/webhooks/integrations",
            json!({"name": "Grafana", "slug": "grafana", "kind": "grafana", "service_label": "team",
                       "title_template": "{{alertname}} in {{zone}}", "default_severity": "minor"}),
        )
        .await;
    let secret = integration["secret"].as_str().expect("secret").to_owned();
    let path = "/api/v1/webhooks/grafana/grafana";
    let events_count = || app.db.json("select to_jsonb(count(*)) from events");

    // Wrong or missing signatures, and stale timestamps, change nothing.
    let forged = post_signed_grafana(&app, path, "not-the-secret", &grafana("firing"), None).await;
    assert_eq!(forged.status, 401, "{}", forged.text());
    let bare = app.post_json(path, &grafana("firing")).await;
    assert_eq!(bare.status, 401);
    let stale = time::OffsetDateTime::now_utc().unix_timestamp() - 3600;
    assert_eq!(post_signed_grafana(&app, path, &secret, &grafana("firing"), Some(stale)).await.status, 401);
    assert_eq!(events_count(), json!(0));

    let opened = post_signed_grafana(&app, path, &secret, &grafana("firing"), None).await;
    assert_eq!(opened.status, 200, "{}", opened.text());
    let id = opened.json()["data"]["opened"][0].clone();
    let incident = event(&app, &id);
    assert_eq!(
        (incident["title"].as_str(), incident["severity"].as_str()),
        (Some("High memory usage in us-1"), Some("minor"))
    );
    assert_eq!(incident["affected"], json!({"blue": "degraded"}), "no severity label: the default, minor, degraded");
    assert_eq!(incident["timeline"][1], "Also firing: High CPU usage: This alert was triggered for zone eu-1");

    // A person posts on it: it is theirs now.
    let (_, operator) = app.token_for("operator").await;
    let posted = app
        .call(
            "POST",
            &format!("/api/v1/events/{}/updates", id.as_str().expect("id")),
            Some(&operator),
            Some(&json!({"status": "identified", "message": "A runaway job; stopping it."})),
        )
        .await;
    assert_eq!(posted.status, 201);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let cleared = post_signed_grafana(&app, path, &secret, &grafana("resolved"), Some(now)).await;
    assert_eq!(cleared.status, 200, "{}", cleared.text());
    assert_eq!(cleared.json()["data"]["resolved"], json!([]));
    let after = event(&app, &id);
    assert_eq!(after["status"], "identified", "left open for the person");
    assert_eq!(
        after["timeline"].as_array().and_then(|t| t.last()).cloned(),
        Some(json!(
            "All alerts have cleared. A person has taken this incident over, so it stays open for them to resolve."
        ))
    );
    assert_eq!(effective(&app, "blue"), json!("degraded"), "still theirs to close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generic_format_a_fallback_service_and_every_refusal() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let db = app.create(&admin, "/api/v1/services", json!({"name": "DB", "slug": "db"})).await;
    let generic = app
        .create(
            &admin,
            "/api/v1/webhooks/integrations",
            json!({"name": "Checks", "slug": "checks", "kind": "generic", "fallback_service_id": db["id"],
                       "severity_map": {"page": {"severity": "critical", "status": "major_outage"}}}),
        )
        .await;
    let secret = generic["secret"].as_str().expect("secret").to_owned();
    let path = "/api/v1/webhooks/generic/checks";
    let signed = |body: &Value, secret: &str, at: i64| {
        let bytes = serde_json::to_vec(body).expect("json");
        let signature = format!("sha256={}", hmac_hex(secret, &[format!("{at}.").as_bytes(), &bytes].concat()));
        app.request(reqwest::Method::POST, path)
            .header("content-type", "application/json")
            .header("x-statuspage-timestamp", at.to_string())
            .header("x-statuspage-signature", signature)
            .body(bytes)
    };
    let now = || time::OffsetDateTime::now_utc().unix_timestamp();
    let body = json!({"alerts": [{"fingerprint": "disk-full-db1", "status": "firing", "severity": "page", "title": "Disk full", "message": "db1 has 0 bytes left"}]});
    let response = app.send(signed(&body, &secret, now())).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let id = response.json()["data"]["opened"][0].clone();
    assert_eq!(
        event(&app, &id)["affected"],
        json!({"db": "major_outage"}),
        "no service named: the fallback, at the mapped status"
    );

    // Refusals, each changing nothing.
    let count = || app.db.json("select to_jsonb(count(*)) from event_updates");
    let before = count();
    let replayed = app.send(signed(&body, &secret, now() - 600)).await;
    assert_eq!(replayed.status, 401, "outside the 5-minute window");
    let malformed = app.send(signed(&json!({"alerts": [{"status": "firing"}]}), &secret, now())).await;
    assert_eq!((malformed.status, malformed.json()["error"]["code"].as_str()), (400, Some("malformed_payload")));
    assert!(malformed.text().contains("fingerprint"), "{}", malformed.text());
    let strict = app
        .create(&admin, "/api/v1/webhooks/integrations", json!({"name": "Strict", "slug": "strict", "kind": "generic"}))
        .await;
    let strict_secret = strict["secret"].as_str().expect("secret").to_owned();
    let unknown = json!({"alerts": [{"fingerprint": "x", "status": "firing", "service": "nope"}, {"fingerprint": "y", "status": "firing"}]});
    let bytes = serde_json::to_vec(&unknown).expect("json");
    let at = now();
    let refused = app
        .send(
            app.request(reqwest::Method::POST, "/api/v1/webhooks/generic/strict")
                .header("x-statuspage-timestamp", at.to_string())
                .header(
                    "x-statuspage-signature",
                    format!("sha256={}", hmac_hex(&strict_secret, &[format!("{at}.").as_bytes(), &bytes].concat())),
                )
                .body(bytes),
        )
        .await;
    assert_eq!(
        (refused.status, field_errors(&refused)),
        (400, vec!["alerts[0].labels.service".to_owned(), "alerts[1].labels.service".to_owned()])
    );
    assert!(refused.text().contains("no live service has the slug \\\"nope\\\""), "{}", refused.text());
    assert_eq!(app.post_json("/api/v1/webhooks/generic/missing", &body).await.status, 404);
    assert_eq!(
        app.post_json("/api/v1/webhooks/grafana/checks", &body).await.status,
        404,
        "the kind is part of the path"
    );
    let (_, reader_key) = (
        0,
        app.create(&admin, "/api/v1/api-keys", json!({"name": "ro", "role": "operator", "scopes": ["read"]})).await,
    );
    let weak = app
        .send(
            app.request(reqwest::Method::POST, path)
                .bearer_auth(reader_key["secret"].as_str().expect("key"))
                .json(&body),
        )
        .await;
    assert_eq!(weak.status, 403, "a key needs events:write");
    assert_eq!(count(), before);

    // Monitoring bursts are not held to the per-address write limit (120 a minute).
    let repeat = json!({"alerts": [{"fingerprint": "disk-full-db1", "status": "firing"}]});
    for i in 0..130 {
        let response = app.send(signed(&repeat, &secret, now())).await;
        assert_eq!(response.status, 200, "delivery {i}: {}", response.text());
    }

    // Admins manage integrations; a disabled one refuses; a rotated secret replaces the old.
    let integration_path = format!("/api/v1/webhooks/integrations/{}", generic["id"].as_str().expect("id"));
    let (_, operator) = app.token_for("operator").await;
    assert_eq!(app.call("GET", "/api/v1/webhooks/integrations", Some(&operator), None).await.status, 403);
    let listed = app.call("GET", "/api/v1/webhooks/integrations", Some(&admin), None).await.json();
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(2));
    assert!(listed["data"][0].get("secret").is_none(), "never shown again");
    let bad = app
        .call(
            "PATCH",
            &integration_path,
            Some(&admin),
            Some(&json!({"title_template": "{{oops", "severity_map": {"x": {"severity": "huge"}}})),
        )
        .await;
    assert_eq!((bad.status, field_errors(&bad)), (400, vec!["severity_map".to_owned(), "title_template".to_owned()]));
    let taken = app.call("PATCH", &integration_path, Some(&admin), Some(&json!({"slug": "strict"}))).await;
    assert_eq!((taken.status, taken.json()["error"]["code"].as_str()), (409, Some("slug_taken")));
    let disabled = app.call("PATCH", &integration_path, Some(&admin), Some(&json!({"enabled": false}))).await;
    assert_eq!((disabled.status, disabled.json()["data"]["enabled"].as_bool()), (200, Some(false)));
    assert_eq!(app.send(signed(&repeat, &secret, now())).await.status, 403);
    app.call("PATCH", &integration_path, Some(&admin), Some(&json!({"enabled": true}))).await;
    let rotated = app.call("POST", &format!("{integration_path}/rotate-secret"), Some(&admin), None).await;
    let new_secret = rotated.json()["data"]["secret"].as_str().expect("secret").to_owned();
    assert_eq!(app.send(signed(&repeat, &secret, now())).await.status, 401, "the old secret stops working");
    assert_eq!(app.send(signed(&repeat, &new_secret, now())).await.status, 200);
    assert_eq!(app.call("DELETE", &integration_path, Some(&admin), None).await.status, 204);
    assert_eq!(app.send(signed(&repeat, &new_secret, now())).await.status, 404);
    assert_eq!(event(&app, &id)["status"], "investigating", "its incident stays");
}
