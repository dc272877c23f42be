//! The host's `fermyon:spin/key-value@2.0.0` against Spin's semantics, driven by the probe
//! component: the embedded default store, labels a component is not granted, the Redis store
//! of the production configuration, and the runtime configurations Spin refuses.

use serde_json::{Value, json};
use statuspage_host::{App, LogSink};

use crate::support::{TestApp, TestDb, repo_root};

async fn probe(runtime_config: Option<&str>) -> TestApp {
    TestApp::spawn_configured(&repo_root().join("tests/probe/spin.toml"), TestDb::migrated(), &[], runtime_config).await
}

async fn kv(app: &TestApp, label: &str, ops: Value) -> Value {
    let response = app.post_json("/probe/kv", &json!({ "label": label, "ops": ops })).await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_store_keeps_values_between_requests() {
    let app = probe(None).await;
    let first = kv(
        &app,
        "default",
        json!([
            {"op": "get", "key": "greeting"},
            {"op": "set", "key": "greeting", "value": "hello"},
            {"op": "set", "key": "other", "value": "x"},
            {"op": "exists", "key": "greeting"},
        ]),
    )
    .await;
    assert_eq!(first["results"], json!([{"ok": null}, {"ok": null}, {"ok": null}, {"ok": true}]));
    let second = kv(
        &app,
        "default",
        json!([
            {"op": "get", "key": "greeting"},
            {"op": "keys"},
            {"op": "delete", "key": "greeting"},
            {"op": "delete", "key": "never-set"},
            {"op": "exists", "key": "greeting"},
        ]),
    )
    .await;
    assert_eq!(
        second["results"],
        json!([{"ok": "hello"}, {"ok": ["greeting", "other"]}, {"ok": null}, {"ok": null}, {"ok": false}]),
        "a later request sees the values; deleting a missing key is no error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_the_manifest_does_not_grant_is_access_denied() {
    let app = probe(None).await;
    assert_eq!(kv(&app, "cache", json!([])).await, json!({"open_error": "Error::AccessDenied"}));
    // Defined in the runtime configuration, but still not granted to the component.
    let configured = probe(Some("[key_value_store.cache]\ntype = \"spin\"")).await;
    assert_eq!(kv(&configured, "cache", json!([])).await, json!({"open_error": "Error::AccessDenied"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_production_configuration_keeps_the_store_in_redis() {
    // Database 11 of the local Redis is this test's alone; it starts empty.
    let url = "redis://127.0.0.1:6379/11";
    let mut redis = redis::Client::open(url)
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers on 127.0.0.1:6379 (the production key-value configuration is tested against it)");
    redis::cmd("FLUSHDB").query_async::<()>(&mut redis).await.expect("flushdb");
    let app = probe(Some(&format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{url}\""))).await;
    let written =
        kv(&app, "default", json!([{"op": "set", "key": "k", "value": "v"}, {"op": "get", "key": "k"}])).await;
    assert_eq!(written["results"], json!([{"ok": null}, {"ok": "v"}]));
    let stored: Option<String> = redis::cmd("GET").arg("k").query_async(&mut redis).await.expect("get");
    assert_eq!(stored.as_deref(), Some("v"), "Spin's Redis store keeps keys as given");
    redis::cmd("SET").arg("from-outside").arg("w").query_async::<()>(&mut redis).await.expect("set");
    let read = kv(&app, "default", json!([{"op": "get", "key": "from-outside"}, {"op": "keys"}])).await;
    assert_eq!(read["results"], json!([{"ok": "w"}, {"ok": ["from-outside", "k"]}]));
}

#[test]
fn runtime_configurations_spin_refuses_stop_the_app() {
    let manifest = repo_root().join("tests/probe/spin.toml");
    let values = std::collections::HashMap::from([("db_url".to_owned(), "postgres://x@127.0.0.1/x".to_owned())]);
    for (config, expected) in [
        ("[key_value_store.default]\ntype = \"dynamo\"", "the store type 'dynamo' was not registered"),
        ("[key_value_store.default]\ntype = \"redis\"", "missing field `url`"),
    ] {
        let table: toml::Table = config.parse().expect("toml");
        let error = App::load_with(&manifest, &values, Some(&table), LogSink::Echo).expect_err(config);
        let message = format!("{error:#}");
        assert!(message.contains(expected), "{config}: {message}");
    }
}
