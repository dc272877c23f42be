//! The host behaves like Spin on every point the README's "The test host" lists, shown with a real
//! guest (the test-only probe component), and fails loudly where Spin would hang or leak.

use serde_json::{Value, json};

use crate::support::recorder::{Recorder, Reply, refusing_address};
use crate::support::{TestApp, TestDb, repo_root};

async fn probe(variables: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_manifest(&repo_root().join("tests/probe/spin.toml"), TestDb::migrated(), variables).await
}

/// Runs statements on one connection; answers each statement's `{"ok": ...}` or `{"error": ...}`.
async fn pg(app: &TestApp, statements: Value) -> Vec<Value> {
    let response = app.post_json("/probe/pg", &json!({ "statements": statements })).await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["results"].as_array().expect("results").clone()
}

async fn query(app: &TestApp, sql: &str, params: Value) -> Value {
    pg(app, json!([{ "op": "query", "sql": sql, "params": params }])).await.remove(0)
}

async fn execute(app: &TestApp, sql: &str, params: Value) -> Value {
    pg(app, json!([{ "op": "execute", "sql": sql, "params": params }])).await.remove(0)
}

fn error_kind(result: &Value) -> &str {
    result["error"]["kind"].as_str().unwrap_or_else(|| panic!("expected an error, got {result}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_types_read_as_spin_reads_them() {
    let app = probe(&[]).await;
    let row = query(
        &app,
        "select gen_random_uuid() is not null as b, 7::int4 as i4, 8::int8 as i8, count(*) as n, 'x'::text as t,
                '{\"a\": 1}'::jsonb as jb, 1.50::numeric as d, '2026-11-25 12:00:00'::timestamp as ts,
                array['a', null]::text[] as arr, null::uuid as nothing
         from (values (1)) v",
        json!([]),
    )
    .await;
    assert_eq!(
        row["ok"]["rows"][0],
        json!([{"boolean": true}, {"int32": 7}, {"int64": 8}, {"int64": 1}, {"str": "x"}, {"jsonb": {"a": 1}},
               {"decimal": "1.50"}, {"datetime": [2026, 11, 25, 12, 0, 0, 0]}, {"array_str": ["a", null]}, {"db_null": null}])
    );
    let uuid = query(&app, "select '00000000-0000-0000-0000-000000000001'::uuid", json!([])).await;
    assert_eq!(uuid["ok"]["rows"][0][0], json!({"uuid": "00000000-0000-0000-0000-000000000001"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_and_intervals_read_and_bind() {
    let app = probe(&[]).await;
    let read =
        query(&app, "select '[1,5)'::int4range, '[1.5,2.5]'::numrange, '1 day 02:00:00'::interval", json!([])).await;
    assert_eq!(
        read["ok"]["rows"][0],
        json!([{"range_int32": [[1, true], [5, false]]}, {"range_decimal": [["1.5", true], ["2.5", true]]},
               {"interval": [7_200_000_000_i64, 1, 0]}])
    );
    let bound = query(
        &app,
        "select jsonb_build_array($1::int4range::text, $2::numrange::text, $3::interval::text)",
        json!([{"range_int32": [[1, true], [3, true]]}, {"range_decimal": [["0.5", false], null]}, {"interval": [1_000_000, 2, 1]}]),
    )
    .await;
    assert_eq!(bound["ok"]["rows"][0][0], json!({"jsonb": ["[1,4)", "(0.5,)", "1 mon 2 days 00:00:01"]}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_timestamptz_column_fails_the_whole_query() {
    let app = probe(&[]).await;
    let result = query(&app, "select now() as t", json!([])).await;
    assert_eq!(error_kind(&result), "query_failed_text");
    let text = result["error"]["text"].as_str().unwrap_or_default();
    assert!(text.contains("NaiveDateTime") && text.contains("timestamptz"), "{text}");
    let via_text = query(&app, "select to_jsonb(rfc3339(now()))", json!([])).await;
    assert!(via_text["ok"]["rows"][0][0]["jsonb"].is_string(), "{via_text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_columns_are_unsupported_values() {
    let app = probe(&[]).await;
    let result = query(&app, "select '{}'::json", json!([])).await;
    assert_eq!(result["ok"]["rows"][0][0], json!({"unsupported": 2}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameters_bind_only_to_their_own_type() {
    let app = probe(&[]).await;
    let uuid = "00000000-0000-0000-0000-000000000001";
    let cases: Vec<(&str, Value, bool)> = vec![
        ("select to_jsonb($1::int4)", json!([{"int32": 1}]), true),
        ("select to_jsonb($1::int8)", json!([{"int32": 1}]), false),
        ("select to_jsonb($1::int8)", json!([{"int64": 1}]), true),
        ("select to_jsonb($1::int4)", json!([{"int64": 1}]), false),
        ("select to_jsonb(1) limit $1", json!([{"int32": 1}]), false),
        ("select to_jsonb(1) limit $1", json!([{"int64": 1}]), true),
        ("select to_jsonb($1::uuid)", json!([{"str": uuid}]), false),
        ("select to_jsonb($1::text::uuid)", json!([{"str": uuid}]), true),
        ("select to_jsonb($1::uuid)", json!([{"uuid": uuid}]), true),
        ("select $1::jsonb", json!([{"str": "{}"}]), false),
        ("select $1::text::jsonb", json!([{"str": "{}"}]), true),
        ("select $1::jsonb", json!([{"jsonb": {"k": 1}}]), true),
        ("select to_jsonb($1::timestamptz)", json!([{"datetime": [2026, 11, 25, 12, 0, 0, 0]}]), false),
        ("select to_jsonb($1::timestamp)", json!([{"datetime": [2026, 11, 25, 12, 0, 0, 0]}]), true),
        ("select to_jsonb(rfc3339($1::timestamptz))", json!([{"timestamp": 1_795_608_000}]), true),
        ("select to_jsonb(rfc3339($1::text::timestamptz))", json!([{"str": "2026-11-25T15:00:00+03:00"}]), true),
        ("select to_jsonb($1::text)", json!([{"str": "x"}]), true),
        ("select to_jsonb($1::bool)", json!([{"bool": true}]), true),
        ("select to_jsonb($1::numeric)", json!([{"decimal": "1.5"}]), true),
        ("select to_jsonb($1::text[])", json!([{"array_str": ["a"]}]), true),
        ("select to_jsonb(coalesce($1::uuid::text, 'null'))", json!(["null"]), true),
        ("select to_jsonb(coalesce($1::int8, 0))", json!(["null"]), true),
    ];
    for (sql, params, binds) in cases {
        let result = query(&app, sql, params.clone()).await;
        assert_eq!(result.get("ok").is_some(), binds, "{sql} with {params}: {result}");
    }
    let converted =
        query(&app, "select to_jsonb(rfc3339($1::text::timestamptz))", json!([{"str": "2026-11-25T15:00:00+03:00"}]))
            .await;
    assert_eq!(converted["ok"]["rows"][0][0]["jsonb"], "2026-11-25T12:00:00.000Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_errors_are_structured_with_sqlstate_and_constraint() {
    let app = probe(&[]).await;
    let results = pg(
        &app,
        json!([
            {"op": "execute", "sql": "insert into groups (name, slug) values ('A', 'a')"},
            {"op": "execute", "sql": "insert into groups (name, slug) values ('B', 'a')"},
        ]),
    )
    .await;
    assert_eq!(results[0], json!({"ok": 1}));
    let error = &results[1]["error"];
    assert_eq!(error["kind"], "query_failed_db_error");
    assert_eq!(error["code"], "23505");
    assert_eq!(error["extras"]["constraint"], "groups_slug_key");
    assert_eq!(error["extras"]["table"], "groups");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_errors_raised_while_executing_arrive_as_text_and_plan_errors_structured() {
    let app = probe(&[]).await;
    let results = pg(
        &app,
        json!([
            {"op": "execute", "sql": "insert into groups (name, slug) values ('A', 'a')"},
            {"op": "query", "sql": "with i as (insert into groups (name, slug) values ('B', 'a') returning id) select to_jsonb(count(*)) from i"},
            {"op": "query", "sql": "selec 1"},
            {"op": "query", "sql": "select to_jsonb(x) from no_such_table"},
        ]),
    )
    .await;
    assert_eq!(error_kind(&results[1]), "query_failed_text");
    let text = results[1]["error"]["text"].as_str().unwrap_or_default();
    assert!(text.contains("E23505") && text.contains("groups_slug_key"), "{text}");
    assert_eq!(results[2]["error"]["kind"], "query_failed_db_error");
    assert_eq!(results[2]["error"]["code"], "42601");
    assert_eq!(results[3]["error"]["code"], "42P01");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_parameter_value_is_a_conversion_error() {
    let app = probe(&[]).await;
    let queried = query(&app, "select to_jsonb($1::uuid)", json!([{"uuid": "not-a-uuid"}])).await;
    assert_eq!(error_kind(&queried), "bad_parameter");
    let executed = execute(&app, "select $1::uuid", json!([{"uuid": "not-a-uuid"}])).await;
    assert_eq!(error_kind(&executed), "value_conversion_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_row_query_fails_the_request_loudly() {
    let app = probe(&[]).await;
    let response = app
        .post_json("/probe/pg", &json!({"statements": [{"op": "query", "sql": "select id from groups where false"}]}))
        .await;
    assert_eq!(response.status, 500);
    let body = response.json();
    assert_eq!(body["error"]["code"], "host_fidelity_violation");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("zero rows") && m.contains("3671")), "{body}");
    assert_eq!(app.app.violations().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_ends_inside_a_transaction_fails_loudly() {
    let app = probe(&[]).await;
    let response = app
        .post_json(
            "/probe/pg",
            &json!({"statements": [
                {"op": "execute", "sql": "begin"},
                {"op": "execute", "sql": "insert into groups (name, slug) values ('Leak', 'leak')"},
            ]}),
        )
        .await;
    assert_eq!(response.status, 500);
    let body = response.json();
    assert_eq!(body["error"]["code"], "host_fidelity_violation");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("open transaction")), "{body}");
    // The leaked backend is discarded, so nothing leaks into the next request.
    let count = query(&app, "select to_jsonb(count(*)) from groups", json!([])).await;
    assert_eq!(count["ok"]["rows"][0][0], json!({"jsonb": 0}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_stays_on_its_connection_and_ending_it_is_fine() {
    let app = probe(&[]).await;
    let results = pg(
        &app,
        json!([
            {"op": "execute", "sql": "begin"},
            {"op": "execute", "sql": "insert into groups (name, slug) values ('T', 't')"},
            {"op": "query", "sql": "select to_jsonb(count(*)) from groups"},
            {"op": "execute", "sql": "rollback"},
            {"op": "query", "sql": "select to_jsonb(count(*)) from groups"},
        ]),
    )
    .await;
    assert_eq!(results[2]["ok"]["rows"][0][0], json!({"jsonb": 1}));
    assert_eq!(results[4]["ok"]["rows"][0][0], json!({"jsonb": 0}));
    assert!(app.app.violations().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_settings_do_not_survive_into_the_next_request() {
    let app = probe(&[]).await;
    let set = execute(&app, "set application_name = 'leaky'", json!([])).await;
    assert_eq!(set, json!({"ok": 0}));
    for _ in 0..3 {
        let name = query(&app, "select to_jsonb(current_setting('application_name'))", json!([])).await;
        assert_ne!(name["ok"]["rows"][0][0], json!({"jsonb": "leaky"}));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_outbound_hosts_match_the_database_address_literally() {
    let app = probe(&[]).await;
    let url = app.db.url();
    for address in [url.replace("127.0.0.1", "localhost"), url.replace(":5432", ":5433")] {
        let response = app.post_json("/probe/pg", &json!({"address": address, "statements": []})).await;
        let error = &response.json()["open_error"];
        assert_eq!(error["kind"], "connection_failed", "{address}");
        assert!(error["text"].as_str().is_some_and(|t| t.contains("not permitted")), "{error}");
    }
    let allowed = app.post_json("/probe/pg", &json!({"address": url, "statements": []})).await;
    assert_eq!(allowed.json(), json!({"results": []}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_are_rendered_and_unmapped_ones_are_errors() {
    let app = probe(&[("greeting", "hi")]).await;
    assert_eq!(app.get("/probe/var/greeting").await.json(), json!({"value": "hi, world"}));
    for name in ["not_mapped", "db_host", "nope"] {
        let error =
            app.get(&format!("/probe/var/{name}")).await.json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(error.contains("Undefined"), "{name}: {error}");
    }
    let invalid = app.get("/probe/var/Bad-Name").await.json()["error"].as_str().unwrap_or_default().to_owned();
    assert!(invalid.contains("InvalidName"), "{invalid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_err_is_a_500_with_its_text_and_a_panic_an_empty_500() {
    let app = probe(&[]).await;
    let err = app.get("/probe/err").await;
    assert_eq!(err.status, 500);
    assert!(err.text().contains("probe handler failed on purpose"), "{}", err.text());
    let panic = app.get("/probe/panic").await;
    assert_eq!(panic.status, 500);
    assert!(panic.body.is_empty(), "{}", panic.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spin_headers_describe_the_matched_route() {
    let app = probe(&[]).await;
    let headers = app.get("/probe/headers?x=1").await.json();
    let host = app.address.trim_start_matches("http://");
    assert_eq!(headers["spin-path-info"], "/headers");
    assert_eq!(headers["spin-matched-route"], "/probe/...");
    assert_eq!(headers["spin-raw-component-route"], "/probe/...");
    assert_eq!(headers["spin-component-route"], "/probe");
    assert_eq!(headers["spin-base-path"], "/");
    assert_eq!(headers["spin-full-url"], format!("http://{host}/probe/headers?x=1"));
    assert!(headers["spin-client-addr"].as_str().is_some_and(|a| a.starts_with("127.0.0.1:")), "{headers}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_http_reaches_allowed_hosts_only_with_the_exact_request() {
    let far_side = Recorder::start(Reply::Respond {
        status: 200,
        headers: vec![("content-type".into(), "text/plain".into())],
        body: "pong".into(),
    })
    .await;
    let echo = far_side.address.to_string();
    let app = probe(&[("echo_host", &echo)]).await;
    let sent = json!({"url": format!("{}/ping?x=1", far_side.url()), "method": "POST",
                      "headers": [["content-type", "application/json"], ["authorization", "Bearer k"]],
                      "body": "{\"a\":1}"});
    let allowed = app.post_json("/probe/http", &sent).await.json();
    assert_eq!((allowed["status"].clone(), allowed["body"].clone()), (json!(200), json!("pong")), "{allowed}");
    let received = far_side.requests();
    assert_eq!(received.len(), 1);
    assert_eq!((received[0].method.as_str(), received[0].path.as_str()), ("POST", "/ping?x=1"));
    assert_eq!(received[0].header("authorization"), Some("Bearer k"));
    assert_eq!(received[0].json(), json!({"a": 1}));

    let port = echo.rsplit(':').next().unwrap_or_default();
    for url in ["http://127.0.0.1:1/".to_owned(), format!("http://localhost:{port}/")] {
        let denied = app.post_json("/probe/http", &json!({"url": url})).await.json();
        assert!(denied["error"].as_str().is_some_and(|e| e.contains("HttpRequestDenied")), "{url}: {denied}");
    }
    assert_eq!(far_side.requests().len(), 1, "denied requests never leave the host");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_far_side_can_answer_errors_retry_after_drop_the_connection_or_be_absent() {
    let far_side = Recorder::ok().await;
    far_side.script([Reply::retry_after(429, 7), Reply::status(503), Reply::Drop]);
    let refusing = refusing_address();
    let app = probe(&[("echo_host", "127.0.0.1:*")]).await;
    let get = |url: String| {
        let app = &app;
        async move { app.post_json("/probe/http", &json!({ "url": url })).await.json() }
    };
    let limited = get(far_side.url()).await;
    assert_eq!((limited["status"].clone(), limited["headers"]["retry-after"].clone()), (json!(429), json!("7")));
    assert_eq!(get(far_side.url()).await["status"], 503);
    let dropped = get(far_side.url()).await;
    assert!(dropped["error"].is_string(), "a dropped connection is an error to the guest: {dropped}");
    assert_eq!(get(far_side.url()).await["status"], 200, "after the script, the default reply");
    let refused = get(format!("http://{refusing}/")).await;
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("ConnectionRefused")), "{refused}");
    assert_eq!(far_side.requests().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_delay_holds_the_answer() {
    let far_side = Recorder::ok().await;
    far_side.script([Reply::Delay(std::time::Duration::from_millis(400), Box::new(Reply::status(202)))]);
    let started = std::time::Instant::now();
    let response = reqwest::get(far_side.url()).await.expect("answered");
    assert_eq!(response.status().as_u16(), 202);
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
    let waited = far_side.wait_for(2, std::time::Duration::from_millis(200)).await;
    assert_eq!(waited.len(), 1, "wait_for gives up after its timeout");
    far_side.set_default(Reply::json(201, json!({"id": 7})));
    let client = reqwest::Client::new();
    let created = client.post(far_side.url()).body("plain text").send().await.expect("answered");
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(far_side.requests()[1].text(), "plain text");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_requests_reach_the_app_when_self_is_allowed() {
    let app = probe(&[]).await;
    let response = app.post_json("/probe/http", &json!({"url": "http://self.alt/probe/var/greeting"})).await.json();
    assert_eq!(response["status"], 200, "{response}");
    assert_eq!(response["body"], "{\"value\":\"hello, world\"}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_after_the_response_does_not_delay_it() {
    // As Spin does, the host answers once the response is complete and lets the component's
    // run go on in the background.
    let app = probe(&[]).await;
    let started = std::time::Instant::now();
    let response = app.get("/probe/after?ms=600").await;
    let answered_in = started.elapsed();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json(), json!({"answered": true}));
    assert!(answered_in < std::time::Duration::from_millis(400), "answered after {answered_in:?}");
    let read = || async {
        let result =
            app.post_json("/probe/kv", &json!({"label": "default", "ops": [{"op": "get", "key": "after"}]})).await;
        result.json()["results"][0]["ok"].clone()
    };
    assert_eq!(read().await, Value::Null, "the work after the response has not finished yet");
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    assert_eq!(read().await, json!("done"), "and it does finish");
    assert!(app.app.violations().is_empty());
}
