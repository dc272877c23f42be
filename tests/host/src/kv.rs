//! `fermyon:spin/key-value@2.0.0` as Spin implements it (`crates/factor-key-value`,
//! `crates/key-value-redis`, `crates/runtime-config`, Spin 4.0.2):
//!
//! - a component may open only the labels its manifest lists in `key_value_stores`; any other
//!   label is `access-denied` (whether or not a store of that name exists);
//! - the label `default` always exists (Spin's embedded store; kept in memory here, shared by
//!   every component of the app, as Spin's one SQLite file is); other labels, and `default`
//!   itself, may be configured in the runtime configuration
//!   (`[key_value_store.<label>] type = "spin" | "redis"`), and an unknown type stops the app
//!   at start with Spin's message;
//! - a component listing a label that is neither built in nor configured stops the app at start
//!   (checked in [`crate::manifest`]);
//! - at most 256 stores open at once per instance (`store-table-full`), and a `get` answering
//!   more than 128 MiB is an `other` error;
//! - Redis stores keys as given, on one connection manager per configured store, connected
//!   lazily on first open; Redis errors are `other` with their text.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use redis::AsyncCommands;
use tokio::sync::OnceCell;
use wasmtime::component::Resource;

use crate::bindings::fermyon::spin::key_value::{self, Error};
use crate::state::State;

/// Spin's limit on one buffered result (`spin_world::MAX_HOST_BUFFERED_BYTES`).
const MAX_RESULT_BYTES: usize = 128 << 20;
/// Spin's `DEFAULT_STORE_TABLE_CAPACITY`.
const STORE_TABLE_CAPACITY: usize = 256;

/// One key-value store.
pub enum Backend {
    /// In process (the embedded default store).
    Memory(Mutex<HashMap<String, Vec<u8>>>),
    /// A Redis server.
    Redis(RedisStore),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Memory(_) => f.write_str("Backend::Memory"),
            Self::Redis(r) => write!(f, "Backend::Redis({})", r.url),
        }
    }
}

/// A Redis store: its URL and the connection, made on first use.
#[allow(missing_debug_implementations)] // the client and connection manager have none
pub struct RedisStore {
    url: String,
    client: redis::Client,
    connection: OnceCell<redis::aio::ConnectionManager>,
}

impl RedisStore {
    async fn connection(&self) -> Result<redis::aio::ConnectionManager, Error> {
        self.connection
            .get_or_try_init(|| self.client.get_connection_manager())
            .await
            .cloned()
            .map_err(|e| Error::Other(e.to_string()))
    }
}

/// The app's stores by label, from the runtime configuration.
#[derive(Debug, Clone)]
pub struct KvStores(Arc<HashMap<String, Arc<Backend>>>);

impl Default for KvStores {
    fn default() -> Self {
        Self::from_config(None).unwrap_or_else(|_| Self(Arc::default()))
    }
}

impl KvStores {
    /// The stores of a runtime configuration's `[key_value_store.*]` tables, plus `default`
    /// when it configures none by that name.
    ///
    /// # Errors
    /// What stops `spin up`: an unknown store type, a missing or invalid Redis URL.
    pub fn from_config(table: Option<&toml::Table>) -> Result<Self> {
        let mut stores = HashMap::new();
        if let Some(configured) = table.and_then(|t| t.get("key_value_store")) {
            let configured = configured.as_table().context("key_value_store must be a table of stores by label")?;
            for (label, config) in configured {
                let backend = backend(config)
                    .with_context(|| format!("could not configure key-value store with label '{label}'"))?;
                stores.insert(label.clone(), Arc::new(backend));
            }
        }
        stores.entry("default".to_owned()).or_insert_with(|| Arc::new(Backend::Memory(Mutex::default())));
        Ok(Self(Arc::new(stores)))
    }

    /// The labels defined.
    #[must_use]
    pub fn labels(&self) -> Vec<String> {
        let mut labels: Vec<String> = self.0.keys().cloned().collect();
        labels.sort();
        labels
    }

    fn get(&self, label: &str) -> Option<Arc<Backend>> {
        self.0.get(label).cloned()
    }
}

fn backend(config: &toml::Value) -> Result<Backend> {
    let table = config.as_table().context("a store is a table with a `type`")?;
    let store_type = table.get("type").and_then(toml::Value::as_str).context("missing field `type`")?;
    match store_type {
        // Spin's own store is SQLite in `.spin/`; here it lives in memory (its `path` is not used).
        "spin" => Ok(Backend::Memory(Mutex::default())),
        "redis" => {
            let url = table.get("url").and_then(toml::Value::as_str).context("missing field `url`")?;
            let client = redis::Client::open(url).context("Invalid Redis URL")?;
            Ok(Backend::Redis(RedisStore { url: url.to_owned(), client, connection: OnceCell::new() }))
        }
        other => bail!("the store type '{other}' was not registered with the config resolver"),
    }
}

/// Reads a runtime configuration file (`spin up --runtime-config-file`).
///
/// # Errors
/// An unreadable file or invalid TOML.
pub fn read_runtime_config(path: &Path) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.parse().with_context(|| format!("parsing {}", path.display()))
}

/// A store a component opened: the guest's `store` resource.
#[derive(Debug)]
pub struct OpenStore(Arc<Backend>);

/// What one instance may open, and how many it has open.
#[derive(Debug, Default)]
pub struct KvAccess {
    /// The component's `key_value_stores`.
    pub allowed: HashSet<String>,
    /// The app's stores.
    pub stores: KvStores,
    open: usize,
}

impl KvAccess {
    /// Access for a component listing `allowed`.
    #[must_use]
    pub fn new(allowed: HashSet<String>, stores: KvStores) -> Self {
        Self { allowed, stores, open: 0 }
    }
}

fn too_large(len: usize) -> Option<Error> {
    (len > MAX_RESULT_BYTES).then(|| Error::Other(format!("query result exceeds limit of {MAX_RESULT_BYTES} bytes")))
}

impl Backend {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let value = match self {
            Self::Memory(map) => lock(map)?.get(key).cloned(),
            Self::Redis(r) => r.connection().await?.get::<_, Option<Vec<u8>>>(key).await.map_err(other)?,
        };
        match value.as_ref().and_then(|v| too_large(v.len())) {
            Some(e) => Err(e),
            None => Ok(value),
        }
    }

    async fn set(&self, key: &str, value: Vec<u8>) -> Result<(), Error> {
        match self {
            Self::Memory(map) => {
                lock(map)?.insert(key.to_owned(), value);
                Ok(())
            }
            Self::Redis(r) => r.connection().await?.set::<_, _, ()>(key, value).await.map_err(other),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        match self {
            Self::Memory(map) => {
                lock(map)?.remove(key);
                Ok(())
            }
            Self::Redis(r) => r.connection().await?.del::<_, ()>(key).await.map_err(other),
        }
    }

    async fn exists(&self, key: &str) -> Result<bool, Error> {
        match self {
            Self::Memory(map) => Ok(lock(map)?.contains_key(key)),
            Self::Redis(r) => r.connection().await?.exists(key).await.map_err(other),
        }
    }

    async fn keys(&self) -> Result<Vec<String>, Error> {
        let keys: Vec<String> = match self {
            Self::Memory(map) => lock(map)?.keys().cloned().collect(),
            Self::Redis(r) => r.connection().await?.keys("*").await.map_err(other)?,
        };
        match too_large(keys.iter().map(|k| k.len() + std::mem::size_of::<String>()).sum()) {
            Some(e) => Err(e),
            None => Ok(keys),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, Error> {
    mutex.lock().map_err(|_| Error::Other("store lock poisoned".to_owned()))
}

#[allow(clippy::needless_pass_by_value)] // map_err hands the error over
fn other(e: redis::RedisError) -> Error {
    Error::Other(e.to_string())
}

impl State {
    fn open_store(&self, store: &Resource<OpenStore>) -> wasmtime::Result<Arc<Backend>> {
        Ok(self.table.get(store)?.0.clone())
    }
}

impl key_value::Host for State {}

impl key_value::HostStore for State {
    async fn open(&mut self, label: String) -> wasmtime::Result<Result<Resource<OpenStore>, Error>> {
        if !self.kv.allowed.contains(&label) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(backend) = self.kv.stores.get(&label) else {
            return Ok(Err(Error::NoSuchStore));
        };
        if self.kv.open >= STORE_TABLE_CAPACITY {
            return Ok(Err(Error::StoreTableFull));
        }
        self.kv.open += 1;
        Ok(Ok(self.table.push(OpenStore(backend))?))
    }

    async fn get(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(self.open_store(&store)?.get(&key).await)
    }

    async fn set(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.open_store(&store)?.set(&key, value).await)
    }

    async fn delete(&mut self, store: Resource<OpenStore>, key: String) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.open_store(&store)?.delete(&key).await)
    }

    async fn exists(&mut self, store: Resource<OpenStore>, key: String) -> wasmtime::Result<Result<bool, Error>> {
        Ok(self.open_store(&store)?.exists(&key).await)
    }

    async fn get_keys(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<Result<Vec<String>, Error>> {
        Ok(self.open_store(&store)?.keys().await)
    }

    async fn drop(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        self.kv.open = self.kv.open.saturating_sub(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<KvStores> {
        KvStores::from_config(Some(&text.parse::<toml::Table>().expect("toml")))
    }

    #[test]
    fn default_always_exists_and_configured_labels_add_to_it() {
        assert_eq!(KvStores::default().labels(), ["default"]);
        let stores =
            config("[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"").expect("valid");
        assert_eq!(stores.labels(), ["cache", "default"]);
        assert!(matches!(*stores.get("cache").expect("cache"), Backend::Redis(_)));
        let stores =
            config("[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379/3\"").expect("valid");
        assert!(matches!(*stores.get("default").expect("default"), Backend::Redis(_)), "default may be configured");
    }

    #[test]
    fn refuses_what_spin_refuses_at_start() {
        let message = format!("{:#}", config("[key_value_store.x]\ntype = \"dynamo\"").expect_err("unknown type"));
        assert!(message.contains("could not configure key-value store with label 'x'"), "{message}");
        assert!(message.contains("the store type 'dynamo' was not registered"), "{message}");
        let message = format!("{:#}", config("[key_value_store.x]\ntype = \"redis\"").expect_err("no url"));
        assert!(message.contains("missing field `url`"), "{message}");
        let message =
            format!("{:#}", config("[key_value_store.x]\ntype = \"redis\"\nurl = \"http://x\"").expect_err("bad url"));
        assert!(message.contains("Invalid Redis URL"), "{message}");
    }
}
