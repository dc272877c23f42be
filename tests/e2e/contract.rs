//! `api/openapi.yaml` against the running app: the served document is the file, and every
//! documented operation answers a documented status with a body of the documented shape.

use serde_json::Value;

use crate::support::{TestApp, TestDb, repo_root};

fn document() -> (String, Value) {
    let text = std::fs::read_to_string(repo_root().join("api/openapi.yaml")).expect("api/openapi.yaml");
    let doc = serde_yaml_ng::from_str(&text).expect("valid YAML");
    (text, doc)
}

/// Follows a local `$ref` (`#/components/schemas/Service`).
fn resolve<'a>(doc: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            resolve(doc, doc.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {reference}")))
        }
        None => node,
    }
}

/// Checks `value` against the subset of JSON Schema the document uses: type, required,
/// properties, items, enum, const, additionalProperties. Answers the mismatches.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(expected) = schema.get("const")
        && expected != value
    {
        problems.push(format!("{at}: expected {expected}, got {value}"));
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let type_ok = types.is_empty() || types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
    if !type_ok {
        problems.push(format!("{at}: expected {types:?}, got {actual}"));
        return;
    }
    if let Value::Object(map) = value {
        for key in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !map.contains_key(key) {
                problems.push(format!("{at}: missing required {key}"));
            }
        }
        for (key, item) in map {
            if let Some(property) = schema.get("properties").and_then(|p| p.get(key)) {
                check(doc, property, item, &format!("{at}.{key}"), problems);
            } else if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                check(doc, extra, item, &format!("{at}.{key}"), problems);
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(doc, item_schema, item, &format!("{at}[{i}]"), problems);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_is_the_shipped_file() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/openapi.yaml").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/yaml"));
    assert!(
        response.text() == document().0,
        "the served document differs from api/openapi.yaml: rebuild the components (make build)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_answers_as_documented() {
    // Seeded, so that lists have items and the example slug exists.
    let app = TestApp::spawn_with(TestDb::empty(), &[("dev_seed", "true")]).await;
    assert_eq!(app.get("/readyz").await.status, 200);
    let (_, doc) = document();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(operation) = item.get("get") else { continue };
        let mut url = path.clone();
        for parameter in operation["parameters"].as_array().into_iter().flatten().map(|p| resolve(&doc, p)) {
            if parameter["in"] == "path" {
                let example =
                    parameter["example"].as_str().unwrap_or_else(|| panic!("{path}: path parameters need an example"));
                url = url.replace(&format!("{{{}}}", parameter["name"].as_str().unwrap_or_default()), example);
            }
        }
        let response = app.get(&url).await;
        let documented = &operation["responses"][response.status.to_string()];
        assert!(!documented.is_null(), "GET {url} answered {} which is not documented", response.status);
        let documented = resolve(&doc, documented);
        let content_type = response.header("content-type").unwrap_or_default();
        let media = content_type.split(';').next().unwrap_or_default().trim();
        assert!(
            response.status == 304 || documented.get("content").is_none() || documented["content"].get(media).is_some(),
            "GET {url} answered {media}, which is not documented for {}",
            response.status
        );
        if media == "application/json"
            && let Some(schema) = documented.pointer("/content/application~1json/schema")
        {
            let mut problems = Vec::new();
            check(&doc, schema, &response.json(), "body", &mut problems);
            assert!(problems.is_empty(), "GET {url}: {problems:#?}");
        }
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} operations checked");
}

#[test]
fn the_checker_finds_mismatches() {
    let (_, doc) = document();
    let service_list =
        doc.pointer("/paths/~1api~1v1~1services/get/responses/200/content/application~1json/schema").expect("schema");
    let mut problems = Vec::new();
    let bad = serde_json::json!({"data": [{"id": "x", "status": "on_fire"}], "meta": {"page": "1"}});
    check(&doc, service_list, &bad, "body", &mut problems);
    assert!(problems.iter().any(|p| p.contains("missing required slug")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("on_fire")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("body.meta.page")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("missing required total")), "{problems:?}");
}
