//! Per-request (or per-cron-run) store state: WASI, wasi-http, the Spin interfaces, and the
//! fidelity violations recorded while the guest ran.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::allowed::AllowedHosts;
use crate::bindings::fermyon::spin::variables;
use crate::clock::Clock;
use crate::kv::{KvAccess, KvStores};
use crate::outbound::Outbound;
use crate::pg::Pools;

/// Things the guest did that Spin would not survive (or would silently get wrong), recorded so
/// the host can fail the request loudly.
#[derive(Debug, Clone, Default)]
pub struct Violations(Arc<Mutex<Vec<String>>>);

impl Violations {
    /// Records one.
    pub fn record(&self, message: &str) {
        eprintln!("test host: SPIN FIDELITY VIOLATION: {message}");
        if let Ok(mut list) = self.0.lock() {
            list.push(message.to_owned());
        }
    }

    /// All recorded so far.
    #[must_use]
    pub fn all(&self) -> Vec<String> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// What a component may use, from the manifest.
#[derive(Debug)]
pub struct ComponentEnv {
    /// Its id.
    pub id: String,
    /// Its variables, rendered.
    pub variables: HashMap<String, String>,
    /// Its outbound rules.
    pub allowed: AllowedHosts,
    /// Its `environment`, as WASI environment variables.
    pub environment: Vec<(String, String)>,
    /// Its `key_value_stores`.
    pub key_value_stores: std::collections::HashSet<String>,
}

/// The store data.
pub struct State {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) outbound: Outbound,
    pub(crate) component: Arc<ComponentEnv>,
    pub(crate) pools: Arc<Pools>,
    pub(crate) violations: Violations,
    pub(crate) kv: KvAccess,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("component", &self.component.id).finish()
    }
}

/// Capacity of a request's captured stdout/stderr.
pub const LOG_CAPACITY: usize = 1024 * 1024;

impl State {
    /// Fresh state for one run of `component`; its stdout and stderr go to `logs`.
    pub fn new(
        component: Arc<ComponentEnv>,
        pools: Arc<Pools>,
        outbound: Outbound,
        logs: &MemoryOutputPipe,
        clock: &Clock,
        stores: &KvStores,
    ) -> Self {
        let wasi = WasiCtx::builder()
            .stdout(logs.clone())
            .stderr(logs.clone())
            .envs(&component.environment)
            .wall_clock(clock.wall_clock())
            .build();
        let kv = KvAccess::new(component.key_value_stores.clone(), stores.clone());
        Self {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound,
            component,
            pools,
            violations: Violations::default(),
            kv,
        }
    }

    /// Whether the component may open `address` (`allowed_outbound_hosts`, literal match).
    pub(crate) fn check_pg_allowed(&self, address: &str) -> Result<(), String> {
        let config: tokio_postgres::Config = address.parse().map_err(|e| format!("invalid connection string: {e}"))?;
        let ports = config.get_ports();
        for (i, host) in config.get_hosts().iter().enumerate() {
            let host = match host {
                tokio_postgres::config::Host::Tcp(h) => h.clone(),
                tokio_postgres::config::Host::Unix(p) => {
                    return Err(format!("unix socket {} is not supported", p.display()));
                }
            };
            let port = ports.get(i).or_else(|| ports.first()).copied().unwrap_or(5432);
            if !self.component.allowed.allows("postgres", &host, port) {
                return Err(format!(
                    "address postgres://{host}:{port} is not permitted by allowed_outbound_hosts of component {}",
                    self.component.id
                ));
            }
        }
        Ok(())
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.outbound }
    }
}

impl variables::Host for State {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, variables::Error>> {
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Ok(Err(variables::Error::InvalidName(format!("invalid variable name {name:?}"))));
        }
        Ok(self
            .component
            .variables
            .get(&name)
            .cloned()
            .ok_or_else(|| variables::Error::Undefined(format!("no variable for {:?}.{name:?}", self.component.id))))
    }
}
