//! The app: components compiled once per process and pre-instantiated, a fresh store per
//! request, Spin's routing and `spin-*` headers, the cron export, and fidelity checks.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;

use crate::allowed::AllowedHosts;
use crate::bindings::SpinImports;
use crate::clock::Clock;
use crate::cron_bindings::SpinCronPre;
use crate::cron_bindings::fermyon::spin_cron::cron_types::{Error as CronError, Metadata};
use crate::kv::KvStores;
use crate::manifest::{AppSpec, RouteMatch, WELL_KNOWN_PREFIX};
use crate::outbound::{FullBody, Outbound};
use crate::pg::Pools;
use crate::state::{ComponentEnv, LOG_CAPACITY, State};

/// Where component stdout/stderr goes.
#[derive(Debug, Clone)]
pub enum LogSink {
    /// Echo to the host's stderr, as `spin up` does.
    Echo,
    /// Keep the lines, for tests to read.
    Capture(Arc<Mutex<Vec<String>>>),
}

impl LogSink {
    fn write(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(bytes);
        match self {
            Self::Echo => eprint!("{text}"),
            Self::Capture(lines) => {
                if let Ok(mut lines) = lines.lock() {
                    lines.extend(text.lines().map(str::to_owned));
                }
            }
        }
    }
}

/// A loaded app, ready to serve.
pub struct App {
    spec: AppSpec,
    http: HashMap<String, (ProxyPre<State>, Arc<ComponentEnv>)>,
    cron: HashMap<String, (SpinCronPre<State>, Arc<ComponentEnv>)>,
    // Spin's HTTP and cron triggers are separate processes with separate pools.
    http_pools: Arc<Pools>,
    cron_pools: Arc<Pools>,
    logs: LogSink,
    violations: Mutex<Vec<String>>,
    clock: Clock,
    stores: KvStores,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("name", &self.spec.name).finish()
    }
}

fn engine() -> Result<&'static Engine> {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    if let Some(engine) = ENGINE.get() {
        return Ok(engine);
    }
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    // Compiled artifacts are cached on disk between runs (a few ms to load instead of ~0.2 s).
    match wasmtime::Cache::new(wasmtime::CacheConfig::new()) {
        Ok(cache) => {
            config.cache(Some(cache));
        }
        Err(e) => eprintln!("test host: compilation cache disabled: {e:#}"),
    }
    let engine = Engine::new(&config)?;
    Ok(ENGINE.get_or_init(|| engine))
}

/// Compiles each `.wasm` once per process (and again only when the file changes).
fn compile(path: &Path) -> Result<Component> {
    static COMPILED: OnceLock<Mutex<HashMap<PathBuf, (SystemTime, Component)>>> = OnceLock::new();
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .with_context(|| format!("component {} not found; build the components first (make build)", path.display()))?;
    let cache = COMPILED.get_or_init(Default::default);
    if let Some((at, component)) = cache.lock().map_err(|_| anyhow!("poisoned"))?.get(path)
        && *at == modified
    {
        return Ok(component.clone());
    }
    let component = Component::from_file(engine()?, path)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("compiling {}", path.display()))?;
    cache.lock().map_err(|_| anyhow!("poisoned"))?.insert(path.to_owned(), (modified, component.clone()));
    Ok(component)
}

fn linker() -> Result<Linker<State>> {
    let mut linker = Linker::new(engine()?);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    SpinImports::add_to_linker::<State, HasSelf<State>>(&mut linker, |state| state)?;
    Ok(linker)
}

/// What one request produced.
type HttpResponse = hyper::Response<FullBody>;

/// How long the host waits, once the response is complete, for the guest to return before it
/// answers anyway (see [`App::handle`]).
const AFTER_RESPONSE_GRACE: std::time::Duration = std::time::Duration::from_millis(20);

type GuestOutcome = Result<wasmtime::Result<()>, tokio::task::JoinError>;

fn report_outcome(component: &str, path: &str, outcome: &GuestOutcome) {
    match outcome {
        Ok(Err(trap)) => eprintln!("test host: component {component} trapped on {path}: {trap:?}"),
        Err(join) => eprintln!("test host: component {component} task failed on {path}: {join}"),
        Ok(Ok(())) => {}
    }
}

impl App {
    /// Loads `manifest` with variable `overrides` and no runtime configuration.
    ///
    /// # Errors
    /// As [`App::load_with`].
    pub fn load(manifest: &Path, overrides: &HashMap<String, String>, logs: LogSink) -> Result<Arc<Self>> {
        Self::load_with(manifest, overrides, None, logs)
    }

    /// Loads `manifest` with variable `overrides` and a runtime configuration (as
    /// `spin up --runtime-config-file`; its `[key_value_store.*]` tables), compiling and
    /// pre-instantiating every component.
    ///
    /// # Errors
    /// Whatever would stop `spin up` at start, and components that do not link.
    pub fn load_with(
        manifest: &Path,
        overrides: &HashMap<String, String>,
        runtime_config: Option<&toml::Table>,
        logs: LogSink,
    ) -> Result<Arc<Self>> {
        let stores = KvStores::from_config(runtime_config)?;
        let spec = AppSpec::load(manifest, overrides, &stores.labels())?;
        let linker = linker()?;
        let mut http = HashMap::new();
        let mut cron = HashMap::new();
        for (id, component) in &spec.components {
            let env = Arc::new(ComponentEnv {
                id: id.clone(),
                variables: component.variables.clone(),
                allowed: AllowedHosts::parse(&component.allowed_outbound_hosts)
                    .with_context(|| format!("component {id}"))?,
                environment: component.environment.clone(),
                key_value_stores: component.key_value_stores.iter().cloned().collect(),
            });
            let compiled = compile(&component.source)?;
            let pre = linker
                .instantiate_pre(&compiled)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("linking component {id}"))?;
            if spec.routes.iter().any(|r| r.component == *id) {
                let proxy = ProxyPre::new(pre.clone())
                    .map_err(anyhow::Error::from)
                    .with_context(|| format!("component {id} is not an HTTP component"))?;
                http.insert(id.clone(), (proxy, env.clone()));
            }
            if spec.crons.iter().any(|c| c.component == *id) {
                let cron_pre = SpinCronPre::new(pre)
                    .map_err(anyhow::Error::from)
                    .with_context(|| format!("component {id} is not a cron component"))?;
                cron.insert(id.clone(), (cron_pre, env));
            }
        }
        Ok(Arc::new(Self {
            spec,
            http,
            cron,
            http_pools: Arc::default(),
            cron_pools: Arc::default(),
            logs,
            violations: Mutex::default(),
            clock: Clock::default(),
            stores,
        }))
    }

    /// The manifest as loaded.
    #[must_use]
    pub fn spec(&self) -> &AppSpec {
        &self.spec
    }

    /// Every fidelity violation recorded since the app was loaded.
    #[must_use]
    pub fn violations(&self) -> Vec<String> {
        self.violations.lock().map(|v| v.clone()).unwrap_or_default()
    }

    fn new_state(self: &Arc<Self>, env: &Arc<ComponentEnv>, pools: &Arc<Pools>, logs: &MemoryOutputPipe) -> State {
        let outbound = Outbound { allowed: env.allowed.clone(), app: self.clone() };
        State::new(env.clone(), pools.clone(), outbound, logs, &self.clock, &self.stores)
    }

    /// The wall clock the components see (tests shift it; it is the system clock otherwise).
    #[must_use]
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    fn finish(&self, logs: &MemoryOutputPipe, state_violations: Vec<String>) -> Vec<String> {
        self.logs.write(&logs.contents());
        if let Ok(mut all) = self.violations.lock() {
            all.extend(state_violations.iter().cloned());
        }
        state_violations
    }

    /// Serves one request as Spin would. Never fails: a guest trap is an empty 500, a fidelity
    /// violation a JSON 500 naming it.
    pub async fn handle(
        self: &Arc<Self>,
        request: hyper::Request<Full<Bytes>>,
        client: Option<SocketAddr>,
    ) -> HttpResponse {
        let path = request.uri().path().to_owned();
        if path.starts_with(WELL_KNOWN_PREFIX) {
            return self.well_known(&path);
        }
        let Some(matched) = self.spec.route_for(&path) else {
            return plain(404, "Not Found");
        };
        let Some((pre, env)) = self.http.get(&matched.route.component) else {
            return plain(500, "route has no HTTP component");
        };
        let component = matched.route.component.clone();
        let request = with_spin_headers(request, &matched, client);
        let logs = MemoryOutputPipe::new(LOG_CAPACITY);
        let mut store = Store::new(pre.engine(), self.new_state(env, &self.http_pools, &logs));
        let violations = store.data().violations.clone();
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let prepared = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request.map(|b| b.map_err(|never| -> hyper::Error { match never {} })));
        let outparam = store.data_mut().http().new_response_outparam(sender);
        let (Ok(incoming), Ok(outparam)) = (prepared, outparam) else {
            return plain(500, "could not prepare the request");
        };
        let pre = pre.clone();
        let mut task = tokio::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy.wasi_http_incoming_handler().call_handle(&mut store, incoming, outparam).await
            // `store` drops here: connection resources run their open-transaction check.
        });
        let response = match receiver.await {
            Ok(Ok(response)) => {
                let (parts, body) = response.into_parts();
                match body.collect().await {
                    Ok(body) => Some(hyper::Response::from_parts(parts, Full::new(body.to_bytes()))),
                    Err(e) => {
                        eprintln!("test host: reading the response body of {path} failed: {e:?}");
                        None
                    }
                }
            }
            Ok(Err(code)) => {
                eprintln!("test host: component answered {path} with error {code:?}");
                None
            }
            Err(_) => None,
        };
        // Spin answers as soon as the response is set and spawns the rest of the guest's run
        // (`crates/trigger-http/src/wasi.rs`): work a component does after its response
        // (a notification kick) must not delay the client. The host waits a moment for the
        // guest to finish, so that what it did wrong can still turn the answer into a loud 500;
        // a guest still running then finishes in the background, and what it did wrong is
        // recorded (`App::violations`) and logged.
        match tokio::time::timeout(AFTER_RESPONSE_GRACE, &mut task).await {
            Ok(outcome) => {
                report_outcome(&component, &path, &outcome);
                let found = self.finish(&logs, violations.all());
                if !found.is_empty() {
                    return violation_response(&found);
                }
            }
            Err(_) if response.is_some() => {
                let app = self.clone();
                tokio::spawn(async move {
                    let outcome = task.await;
                    report_outcome(&component, &path, &outcome);
                    app.finish(&logs, violations.all());
                });
            }
            Err(_) => {
                let outcome = task.await;
                report_outcome(&component, &path, &outcome);
                let found = self.finish(&logs, violations.all());
                if !found.is_empty() {
                    return violation_response(&found);
                }
            }
        }
        // Spin answers a trap (a panic) with an empty 500.
        response.unwrap_or_else(|| plain(500, ""))
    }

    /// Spin answers `/.well-known/spin/health` (`OK`) and `/.well-known/spin/info` (the app's
    /// name and version) itself, before routing (`crates/trigger-http/src/server.rs`).
    fn well_known(&self, path: &str) -> HttpResponse {
        match path.trim_start_matches(WELL_KNOWN_PREFIX) {
            "health" => plain(200, "OK"),
            "info" => {
                let mut info = serde_json::json!({ "name": self.spec.name });
                if !self.spec.version.is_empty() {
                    info["version"] = self.spec.version.clone().into();
                }
                let mut response = plain(200, &serde_json::to_string_pretty(&info).unwrap_or_default());
                response
                    .headers_mut()
                    .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
                response
            }
            _ => plain(404, "Not Found"),
        }
    }

    /// Runs the cron export of `component` (every cron component when `None`) as the Spin cron
    /// trigger does at `unix_seconds`.
    ///
    /// # Errors
    /// The component's `Err` text, a trap, or a fidelity violation.
    pub async fn run_cron(self: &Arc<Self>, component: Option<&str>, unix_seconds: u64) -> Result<()> {
        let targets: Vec<_> = self.cron.iter().filter(|(id, _)| component.is_none_or(|c| c == id.as_str())).collect();
        if targets.is_empty() {
            anyhow::bail!("no cron component {component:?}");
        }
        for (id, (pre, env)) in targets {
            let logs = MemoryOutputPipe::new(LOG_CAPACITY);
            let mut store = Store::new(pre.engine(), self.new_state(env, &self.cron_pools, &logs));
            let violations = store.data().violations.clone();
            let result = async {
                let cron = pre.instantiate_async(&mut store).await?;
                cron.call_handle_cron_event(&mut store, Metadata { timestamp: unix_seconds }).await
            }
            .await;
            drop(store);
            let found = self.finish(&logs, violations.all());
            if !found.is_empty() {
                anyhow::bail!("cron component {id}: fidelity violation: {}", found.join("; "));
            }
            match result {
                Ok(Ok(())) => {}
                Ok(Err(CronError::Other(message))) => anyhow::bail!("cron component {id} failed: {message}"),
                Err(trap) => return Err(anyhow::Error::from(trap).context(format!("cron component {id} trapped"))),
            }
        }
        Ok(())
    }

    /// Runs the manifest's cron schedules until the process ends; errors are logged and the
    /// schedule goes on, as with the Spin cron trigger.
    pub fn spawn_cron_schedules(self: &Arc<Self>) {
        for spec in self.spec.crons.clone() {
            let app = self.clone();
            tokio::spawn(async move {
                for next in spec.schedule.upcoming(chrono::Utc) {
                    let wait = (next - chrono::Utc::now()).to_std().unwrap_or_default();
                    tokio::time::sleep(wait).await;
                    let at = u64::try_from(next.timestamp()).unwrap_or_default();
                    if let Err(e) = app.run_cron(Some(&spec.component), at).await {
                        eprintln!("test host: cron run of {} at {next} failed: {e:#}", spec.component);
                    }
                }
            });
        }
    }
}

/// Adds the headers Spin gives every request.
fn with_spin_headers(
    mut request: hyper::Request<Full<Bytes>>,
    matched: &RouteMatch<'_>,
    client: Option<SocketAddr>,
) -> hyper::Request<Full<Bytes>> {
    let route = matched.route;
    let host =
        request.headers().get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_owned();
    let path_and_query = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let path_info = matched.path_info.clone();
    let values = [
        ("spin-full-url", format!("http://{host}{path_and_query}")),
        ("spin-path-info", path_info),
        ("spin-matched-route", route.raw.clone()),
        ("spin-raw-component-route", route.raw.clone()),
        ("spin-component-route", route.base.clone()),
        ("spin-base-path", "/".to_owned()),
        ("spin-client-addr", client.map(|c| c.to_string()).unwrap_or_default()),
    ];
    for (name, value) in values {
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            request.headers_mut().insert(name, value);
        }
    }
    request
}

fn plain(status: u16, text: &str) -> HttpResponse {
    let mut response = hyper::Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response
}

fn violation_response(found: &[String]) -> HttpResponse {
    let body = serde_json::json!({
        "error": { "code": "host_fidelity_violation", "message": found.join("; "), "details": found }
    });
    let mut response = plain(500, &body.to_string());
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}
