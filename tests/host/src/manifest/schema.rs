//! The `spin.toml` (manifest version 2) schema as Spin 4.0.2 deserialises it
//! (`crates/manifest/src/schema/v2.rs` and `common.rs`): the same tables and fields, unknown
//! fields refused (`deny_unknown_fields` everywhere Spin has it), ids and variable names
//! checked while parsing so the error points at the line, as Spin's does.
//!
//! Fields Spin accepts but this host does not implement are parsed too, and refused by name in
//! [`super`] when they are used, so a manifest is never half-understood.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::id::{KebabId, LowerSnakeId, check_store_label};

/// `spin_manifest_version` alone, read first (Spin's `VersionProbe`).
#[derive(Debug, Deserialize)]
pub struct VersionProbe {
    #[serde(alias = "spin_version")]
    pub spin_manifest_version: toml::Value,
}

/// The whole manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[allow(dead_code, reason = "checked by the version probe")]
    pub spin_manifest_version: u32,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<LowerSnakeId, Variable>,
    #[serde(rename = "trigger")]
    pub triggers: BTreeMap<String, Vec<Trigger>>,
    #[serde(rename = "component", default)]
    pub components: BTreeMap<KebabId, Component>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "the fields Spin accepts; the host reads some of them")]
pub struct Application {
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub targets: Vec<toml::Value>,
    #[serde(rename = "trigger", default)]
    pub trigger_global_configs: BTreeMap<String, toml::Table>,
    #[serde(default)]
    pub tool: BTreeMap<String, toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    #[serde(default)]
    #[allow(dead_code, reason = "documentation only")]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    #[allow(dead_code, reason = "secrets are only hidden from logs, which this host does not print")]
    pub secret: bool,
}

/// One `[[trigger.<type>]]` entry: Spin's common fields, and the type's own fields in
/// `config` (checked per type in [`super`], each type refusing unknown fields).
#[derive(Debug, Deserialize)]
pub struct Trigger {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub component: Option<ComponentRef>,
    #[serde(default)]
    pub components: BTreeMap<String, toml::Value>,
    #[serde(flatten)]
    pub config: toml::Table,
}

/// `component = "id"` or an inline component table.
#[derive(Debug)]
pub enum ComponentRef {
    Id(KebabId),
    Inline,
}

impl<'de> Deserialize<'de> for ComponentRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // As Spin's `ComponentSpec: TryFrom<toml::Value>`: a string must be a kebab-case id,
        // with the id's own error message.
        match toml::Value::deserialize(deserializer)? {
            toml::Value::String(id) => KebabId::try_from(id).map(Self::Id).map_err(serde::de::Error::custom),
            toml::Value::Table(_) => Ok(Self::Inline),
            other => Err(serde::de::Error::custom(format!(
                "expected a component id or an inline component table, found {}",
                other.type_str()
            ))),
        }
    }
}

/// `[[trigger.http]]` (Spin's `HttpTriggerConfig`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    pub route: HttpRoute,
    #[serde(default)]
    pub static_response: Option<toml::Value>,
    #[serde(default)]
    pub executor: Option<HttpExecutor>,
}

/// `route = "/..."` or `route = { private = true }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum HttpRoute {
    Path(String),
    Private(PrivateEndpoint),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateEndpoint {
    pub private: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, tag = "type", rename_all = "kebab-case")]
pub enum HttpExecutor {
    #[serde(alias = "spin")]
    Http,
    Wagi(#[allow(dead_code, reason = "refused, so never read")] toml::Table),
}

/// `[[trigger.cron]]` (the cron trigger plugin's `CronTriggerConfig`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronTrigger {
    pub cron_expression: String,
}

/// `[component.<id>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub source: toml::Value,
    #[serde(default)]
    #[allow(dead_code, reason = "documentation only")]
    pub description: String,
    #[serde(default)]
    pub variables: BTreeMap<LowerSnakeId, String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub files: Vec<toml::Value>,
    #[serde(default)]
    pub exclude_files: Vec<String>,
    #[serde(default)]
    pub allowed_http_hosts: Vec<String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default, deserialize_with = "store_labels")]
    pub key_value_stores: Vec<String>,
    #[serde(default, deserialize_with = "store_labels")]
    pub sqlite_databases: Vec<String>,
    #[serde(default)]
    pub ai_models: Vec<String>,
    #[serde(default)]
    #[allow(dead_code, reason = "deployment targets do not concern a local host")]
    pub targets: Option<Vec<toml::Value>>,
    #[serde(default)]
    #[allow(dead_code, reason = "used by `spin build`, not at run time")]
    pub build: Option<Build>,
    #[serde(default)]
    #[allow(dead_code, reason = "Spin ignores it")]
    pub tool: BTreeMap<String, toml::Table>,
    #[serde(default)]
    #[allow(dead_code, reason = "only meaningful with dependencies, which are refused")]
    pub dependencies_inherit_configuration: Option<bool>,
    #[serde(default)]
    pub dependencies: toml::Table,
    #[serde(default)]
    #[allow(dead_code, reason = "build profiles are not applied by this host")]
    pub profile: toml::Table,
}

/// `[component.<id>.build]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "parsed for its schema only")]
pub struct Build {
    pub command: Commands,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
#[allow(dead_code, reason = "parsed for its schema only")]
pub enum Commands {
    Single(String),
    Multiple(Vec<String>),
}

/// Spin's `kebab_or_snake_case` deserialiser, with its message.
fn store_labels<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let labels = Vec::<String>::deserialize(deserializer)?;
    match labels.iter().find_map(|label| check_store_label(label).err()) {
        Some(reason) => Err(serde::de::Error::custom(reason)),
        None => Ok(labels),
    }
}
