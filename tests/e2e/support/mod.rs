//! `TestApp`: the real app (spin.toml, the built `.wasm` components) in the wasmtime host, on a
//! fresh PostgreSQL database cloned from a migrated template, served on loopback; typed
//! request helpers; and [`recorder`], the loopback server that stands in for every external
//! HTTP service.

pub mod oidc;
pub mod recorder;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use statuspage_host::{App, LogSink};

/// Server root for test databases (trust auth on loopback).
fn pg_root() -> String {
    std::env::var("STATUSPAGE_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// A database URL as the components get it.
pub fn db_url(name: &str) -> String {
    format!("{}/{name}?sslmode=disable", pg_root())
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// Runs blocking `postgres` client work on its own thread (it must not run on a tokio worker).
fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(work).join().expect("blocking database work panicked")
}

pub fn admin_sql(sql: String) {
    blocking(move || {
        let mut client = postgres_client("postgres");
        client.batch_execute(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
}

fn postgres_client(database: &str) -> postgres::Client {
    postgres::Client::connect(&db_url(database), postgres::NoTls)
        .unwrap_or_else(|e| panic!("connecting to {database}: {e}"))
}

/// The migrated template every test database is cloned from, made once per process with the
/// core's migration runner (the runner itself is tested through the wasm components too).
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("sp_tpl_{}_{}", std::process::id(), unique());
        admin_sql(format!("create database {name}"));
        let url = db_url(&name);
        blocking(move || {
            let db = statuspage_core::db::NativeDb::connect(&url).expect("template connection");
            statuspage_core::migrate::ensure_schema(&db, false).expect("migrating the template");
        });
        name
    })
}

pub fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// A fresh database: migrated (cloned from the template) or empty.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub fn migrated() -> Self {
        let name = format!("sp_test_{}", unique());
        admin_sql(format!("create database {name} template {}", template()));
        Self { name }
    }

    pub fn empty() -> Self {
        let name = format!("sp_test_{}", unique());
        admin_sql(format!("create database {name}"));
        Self { name }
    }

    pub fn url(&self) -> String {
        db_url(&self.name)
    }

    /// Runs SQL statements (setup) on this database.
    pub fn exec(&self, sql: &str) {
        let (name, sql) = (self.name.clone(), sql.to_owned());
        blocking(move || postgres_client(&name).batch_execute(&sql).unwrap_or_else(|e| panic!("{sql}: {e}")));
    }

    /// The first column of the first row of `sql`, as JSON (`to_jsonb` it in the SQL).
    pub fn json(&self, sql: &str) -> Value {
        let (name, sql) = (self.name.clone(), sql.to_owned());
        blocking(move || {
            let row = postgres_client(&name).query_one(&sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
            row.get::<_, Value>(0)
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Force: the app's pool may still hold connections.
        let _ = std::thread::spawn(move || {
            if let Ok(mut client) = postgres::Client::connect(&db_url("postgres"), postgres::NoTls) {
                let _ = client.batch_execute(&format!("drop database if exists {name} with (force)"));
            }
        })
        .join();
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

/// The `field` of each entry of a 400's `error.details`, in order.
pub fn field_errors(response: &TestResponse) -> Vec<String> {
    response.json()["error"]["details"]
        .as_array()
        .map(|d| d.iter().map(|e| e["field"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The app served on loopback.
pub struct TestApp {
    pub app: Arc<App>,
    pub address: String,
    pub db: TestDb,
    client: reqwest::Client,
    logs: Arc<Mutex<Vec<String>>>,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    /// The real app on a fresh migrated database.
    pub async fn spawn() -> Self {
        Self::spawn_with(TestDb::migrated(), &[]).await
    }

    /// The real app on `db`, with extra variable values.
    pub async fn spawn_with(db: TestDb, variables: &[(&str, &str)]) -> Self {
        Self::spawn_manifest(&repo_root().join("spin.toml"), db, variables).await
    }

    /// Any manifest (the probe's, say) on `db`.
    pub async fn spawn_manifest(manifest: &Path, db: TestDb, variables: &[(&str, &str)]) -> Self {
        Self::spawn_configured(manifest, db, variables, None).await
    }

    /// Any manifest on `db` with a runtime configuration (TOML text, as `spin up
    /// --runtime-config-file` reads it).
    pub async fn spawn_configured(
        manifest: &Path,
        db: TestDb,
        variables: &[(&str, &str)],
        runtime_config: Option<&str>,
    ) -> Self {
        let mut values: HashMap<String, String> = HashMap::from([
            ("db_url".to_owned(), db.url()),
            ("jwt_secret".to_owned(), "test-secret-not-for-production-0123456789".to_owned()),
        ]);
        values.extend(variables.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let logs = Arc::new(Mutex::new(Vec::new()));
        let runtime_config = runtime_config.map(|text| text.parse::<toml::Table>().expect("runtime config TOML"));
        let app = App::load_with(manifest, &values, runtime_config.as_ref(), LogSink::Capture(logs.clone()))
            .expect("loading the app");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binding");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let server = tokio::spawn(statuspage_host::server::serve(app.clone(), listener));
        Self { app, address, db, client: reqwest::Client::new(), logs, server }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(self.client.get(format!("{}{path}", self.address))).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> TestResponse {
        self.send(self.client.post(format!("{}{path}", self.address)).json(body)).await
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.address))
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> TestResponse {
        let response = request.send().await.expect("request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("body").to_vec();
        TestResponse { status, headers, body }
    }

    /// Triggers the scheduler's cron export at `unix_seconds`, as the cron trigger would.
    pub async fn run_cron(&self, unix_seconds: u64) -> anyhow::Result<()> {
        self.app.run_cron(Some("scheduler"), unix_seconds).await
    }

    /// The component log lines written so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The `jwt_secret` every test app gets.
pub const JWT_SECRET: &str = "test-secret-not-for-production-0123456789";

impl TestApp {
    /// Creates an account directly in the database (argon2id hash made natively); answers its id.
    pub fn create_user(&self, email: &str, password: &str, role: &str) -> uuid::Uuid {
        let hash = statuspage_core::auth::password::hash(password).expect("hash");
        let id = uuid::Uuid::new_v4();
        self.db.exec(&format!(
            "insert into users (id, email, name, password_hash, role) values ('{id}', '{email}', 'Test', '{hash}', '{role}')"
        ));
        id
    }

    /// Signs in; answers `data` of the 200 (`{user, tokens}`).
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let response =
            self.post_json("/api/v1/auth/login", &serde_json::json!({"email": email, "password": password})).await;
        assert_eq!(response.status, 200, "login {email}: {}", response.text());
        response.json()["data"].clone()
    }

    /// A fresh account of `role` and its access token.
    pub async fn token_for(&self, role: &str) -> (uuid::Uuid, String) {
        let email = format!("{role}-{}@example.com", unique());
        let id = self.create_user(&email, "password-123", role);
        let data = self.login(&email, "password-123").await;
        (id, data["tokens"]["access_token"].as_str().expect("access token").to_owned())
    }

    /// The access token of a fresh admin account.
    pub async fn admin(&self) -> String {
        self.token_for("admin").await.1
    }

    /// `POST path` as `token`, which must answer 201; answers its `data`.
    pub async fn create(&self, token: &str, path: &str, body: Value) -> Value {
        let response = self.call("POST", path, Some(token), Some(&body)).await;
        assert_eq!(response.status, 201, "POST {path}: {}", response.text());
        response.json()["data"].clone()
    }

    /// From now on the components' clock reads `at` (and runs on from there).
    pub fn set_now(&self, at: time::OffsetDateTime) {
        let since_epoch = std::time::Duration::from_millis(
            u64::try_from((at.unix_timestamp_nanos() / 1_000_000).max(0)).unwrap_or_default(),
        );
        self.app.clock().set(std::time::UNIX_EPOCH + since_epoch);
    }

    /// `method path` with a bearer token and an optional JSON body.
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> TestResponse {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.request(method, path);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }
}
