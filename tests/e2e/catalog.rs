//! `GET /api/v1/services` and `GET /api/v1/services/{slug}` through the catalog component.

use serde_json::json;

use crate::support::{TestApp, TestDb};

/// Four services in two groups, one archived, one degraded.
fn seed_catalog(db: &TestDb) {
    db.exec(
        "insert into groups (id, name, slug, display_order) values
             ('00000000-0000-0000-0000-00000000000a', 'Edge', 'edge', 1),
             ('00000000-0000-0000-0000-00000000000b', 'Core', 'core', 2);
         insert into services (id, name, slug, description, status, display_order, tags, archived_at) values
             ('00000000-0000-0000-0000-000000000001', 'Website', 'website', 'Marketing site', 'operational', 2, '{\"tier\": \"1\"}', null),
             ('00000000-0000-0000-0000-000000000002', 'API', 'api', 'Public REST API', 'degraded', 1, '{}', null),
             ('00000000-0000-0000-0000-000000000003', 'Billing', 'billing', 'Invoices', 'operational', 2, '{}', null),
             ('00000000-0000-0000-0000-000000000004', 'Legacy', 'legacy', 'Old API', 'operational', 0, '{}', '2026-01-01T00:00:00Z');
         insert into service_groups (service_id, group_id) values
             ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a'),
             ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-00000000000a'),
             ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-00000000000b');",
    );
}

fn slugs(body: &serde_json::Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|s| s["slug"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_catalog_lists_as_an_empty_array_with_meta() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/services").await;
    assert_eq!(response.status, 200);
    // Not paged: the whole catalog, up to the documented cap of 1000 (the old service's v1 lists
    // were never paged).
    assert_eq!(response.json(), json!({"data": [], "meta": {"page": 1, "per_page": 1000, "total": 0}}));
    let paged = app.get("/api/v1/services?page=1").await.json();
    assert_eq!(paged["meta"], json!({"page": 1, "per_page": 20, "total": 0}), "asking for pages gets pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_list_by_order_then_name_without_archived_ones() {
    let app = TestApp::spawn().await;
    seed_catalog(&app.db);
    let body = app.get("/api/v1/services").await.json();
    assert_eq!(slugs(&body), ["api", "billing", "website"]);
    assert_eq!(body["meta"], json!({"page": 1, "per_page": 1000, "total": 3}));
    let api = &body["data"][0];
    assert_eq!(api["status"], "degraded");
    assert_eq!(api["effective_status"], "degraded");
    assert_eq!(api["has_active_events"], false);
    assert_eq!(
        api["group_ids"],
        json!(["00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b"])
    );
    assert_eq!(api["order"], 1);
    assert_eq!(api["archived_at"], serde_json::Value::Null);
    let created = api["created_at"].as_str().expect("created_at");
    assert!(created.ends_with('Z') && created.len() == "2026-11-25T12:00:00.000Z".len(), "{created}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_paginate_with_a_total_over_all_pages() {
    let app = TestApp::spawn().await;
    seed_catalog(&app.db);
    let body = app.get("/api/v1/services?per_page=2&page=2").await.json();
    assert_eq!(slugs(&body), ["website"]);
    assert_eq!(body["meta"], json!({"page": 2, "per_page": 2, "total": 3}));
    let beyond = app.get("/api/v1/services?per_page=2&page=9").await.json();
    assert_eq!(beyond["data"], json!([]));
    assert_eq!(beyond["meta"]["total"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_filter_by_group_status_text_and_archived() {
    let app = TestApp::spawn().await;
    seed_catalog(&app.db);
    let cases = [
        ("group_id=00000000-0000-0000-0000-00000000000a", vec!["api", "website"]),
        ("group_id=00000000-0000-0000-0000-00000000000b", vec!["api"]),
        ("status=degraded", vec!["api"]),
        ("q=INVOICE", vec!["billing"]),
        ("q=api", vec!["api"]),
        ("q=api&include_archived=true", vec!["legacy", "api"]),
        ("include_archived=true", vec!["legacy", "api", "billing", "website"]),
        ("q=%25", vec![]),
    ];
    for (query, expected) in cases {
        let response = app.get(&format!("/api/v1/services?{query}")).await;
        assert_eq!(response.status, 200, "{query}: {}", response.text());
        assert_eq!(slugs(&response.json()), expected, "{query}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_list_parameters_answer_400_listing_every_one() {
    let app = TestApp::spawn().await;
    let response =
        app.get("/api/v1/services?page=0&per_page=500&group_id=nope&status=broken&include_archived=maybe").await;
    assert_eq!(response.status, 400);
    let body = response.json();
    assert_eq!(body["error"]["code"], "validation_failed");
    let fields: Vec<_> =
        body["error"]["details"].as_array().expect("details").iter().map(|d| d["field"].clone()).collect();
    assert_eq!(
        fields,
        [json!("page"), json!("per_page"), json!("group_id"), json!("status"), json!("include_archived")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_is_found_by_slug_archived_or_not() {
    let app = TestApp::spawn().await;
    seed_catalog(&app.db);
    let body = app.get("/api/v1/services/website").await.json();
    assert_eq!(body["data"]["id"], "00000000-0000-0000-0000-000000000001");
    assert_eq!(body["data"]["tags"], json!({"tier": "1"}));
    let legacy = app.get("/api/v1/services/legacy").await.json();
    assert_eq!(legacy["data"]["archived_at"], "2026-01-01T00:00:00.000Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_or_malformed_slug_answers_404_never_5xx() {
    let app = TestApp::spawn().await;
    for slug in ["missing", "Has%20Spaces", "%F0%9F%92%A5", "a'b%22c", "%ff", &"x".repeat(2000)] {
        let response = app.get(&format!("/api/v1/services/{slug}")).await;
        assert_eq!(response.status, 404, "{slug}: {}", response.text());
        assert_eq!(response.json()["error"]["code"], "not_found", "{slug}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_behind_the_code_answers_503_once_then_is_migrated() {
    let app = TestApp::spawn_with(TestDb::empty(), &[]).await;
    let first = app.get("/api/v1/services").await;
    assert_eq!(first.status, 503, "{}", first.text());
    assert_eq!(first.header("retry-after"), Some("1"));
    let retry = app.get("/api/v1/services").await;
    assert_eq!(retry.status, 200, "{}", retry.text());
    assert_eq!(retry.json()["data"], json!([]));
}
