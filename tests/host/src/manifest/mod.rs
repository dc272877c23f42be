//! Reads `spin.toml` (manifest version 2) the way Spin 4.0.2 does, and refuses whatever Spin
//! would refuse, with Spin's reason:
//!
//! | Rule | Spin's source |
//! |---|---|
//! | unknown tables and fields (top level, `[application]`, variables, components, build, each trigger type) | `crates/manifest/src/schema/v2.rs`, `common.rs` (`deny_unknown_fields`); `crates/http/src/config.rs`; the cron plugin's `CronTriggerConfig` |
//! | component ids kebab-case, variable names lower snake_case, each word starting with a letter | `crates/serde/src/id.rs` (`Id::try_from`) |
//! | variable names for the expression resolver | `crates/expressions/src/lib.rs` (`Key::validate`) |
//! | a variable is `required` or has a `default`, not both, not neither | `crates/loader/src/local.rs` (`locked_variable`) |
//! | component variable templates: matched `{{ }}`, declared variables only | `crates/expressions` (`Template::new`, `validate_template`) |
//! | `allowed_outbound_hosts` syntax, checked with default values when templated | `crates/outbound-networking-config/src/allowed_hosts.rs` |
//! | `key_value_stores` labels kebab or snake case, and defined (`default`, or the runtime config) | `schema/v2.rs` (`kebab_or_snake_case`), `crates/factor-key-value/src/lib.rs` |
//! | routes: syntax, `{ private = true }` | `crates/routes/src/lib.rs`, `crates/http/src/config.rs` |
//! | a trigger names a component that exists | `crates/app/src/lib.rs` (`missing component ... configured for trigger ...`) |
//! | cron expressions have six fields | the cron trigger plugin (measured) |
//! | a required variable has a value | `crates/expressions` (`ensure_required_variables_resolvable`) |
//!
//! The host is stricter than Spin where Spin only logs and carries on (duplicate routes, routes
//! under `/.well-known/spin/`), and it refuses by name the features it does not implement
//! (inline components, files, SQLite, AI models, dependencies, static responses, Wagi, other
//! trigger types), rather than running an app it half understands.

mod id;
mod routes;
mod schema;
mod template;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};

pub use id::check_variable_key;
pub use routes::{Route, RouteMatch, Routes, WELL_KNOWN_PREFIX};
use schema::{ComponentRef, HttpExecutor, HttpRoute};
pub use template::Template;

use crate::allowed::AllowedHosts;

/// A component of the app, with its variables resolved.
#[derive(Debug, Clone)]
pub struct ComponentSpec {
    /// The component id (`catalog`).
    pub id: String,
    /// Absolute path of its `.wasm`.
    pub source: PathBuf,
    /// Its variables, rendered from the app variables.
    pub variables: HashMap<String, String>,
    /// Its environment variables.
    pub environment: Vec<(String, String)>,
    /// `allowed_outbound_hosts`, rendered.
    pub allowed_outbound_hosts: Vec<String>,
    /// `key_value_stores` labels.
    pub key_value_stores: Vec<String>,
}

/// A cron trigger.
#[derive(Debug, Clone)]
pub struct CronSpec {
    /// The component it runs.
    pub component: String,
    /// The six-field (seconds first) expression.
    pub schedule: cron::Schedule,
}

/// The app as `spin up` would run it.
#[derive(Debug, Clone)]
pub struct AppSpec {
    /// `application.name`.
    pub name: String,
    /// `application.version`.
    pub version: String,
    /// The HTTP routes.
    pub routes: Routes,
    /// Components by id.
    pub components: BTreeMap<String, ComponentSpec>,
    /// Cron triggers.
    pub crons: Vec<CronSpec>,
}

/// Where variable values come from: `SPIN_VARIABLE_<NAME>` environment variables, then
/// explicit overrides (which win), as `spin up` takes them from its providers.
#[derive(Debug, Clone, Copy)]
pub enum Values<'a> {
    /// Resolve every variable; a required one without a value stops the app.
    Resolve(&'a HashMap<String, String>),
    /// Check the manifest only (the lint of `make test`): templates are checked against the
    /// declared variables and the defaults, no value is required.
    CheckOnly,
}

/// Key-value store labels defined without a runtime configuration (Spin's `default`).
const BUILT_IN_STORES: &[&str] = &["default"];

impl AppSpec {
    /// Loads `manifest` with variable values from the environment and `overrides`, where the
    /// runtime configuration defines the key-value stores `stores`.
    ///
    /// # Errors
    /// Whatever would stop `spin up` at start, with Spin's reason.
    pub fn load(manifest: &Path, overrides: &HashMap<String, String>, stores: &[String]) -> Result<Self> {
        let stores: Vec<&str> = stores.iter().map(String::as_str).collect();
        Self::read(manifest, Values::Resolve(overrides), &stores)
    }

    /// Checks `manifest` against Spin's rules without resolving variables (nothing needs a
    /// value and component files need not exist).
    ///
    /// # Errors
    /// The first rule it breaks.
    pub fn check(manifest: &Path) -> Result<Self> {
        Self::read(manifest, Values::CheckOnly, BUILT_IN_STORES)
    }

    fn read(manifest: &Path, values: Values<'_>, stores: &[&str]) -> Result<Self> {
        let text = std::fs::read_to_string(manifest).with_context(|| format!("reading {}", manifest.display()))?;
        let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
        Self::parse(&text, &dir, values, stores)
            .with_context(|| format!("Failed to load Spin app from {:?}", manifest.display().to_string()))
    }

    /// Parses manifest `text` whose paths are relative to `dir`.
    ///
    /// # Errors
    /// As [`AppSpec::load`].
    pub fn parse(text: &str, dir: &Path, values: Values<'_>, stores: &[&str]) -> Result<Self> {
        let probe: schema::VersionProbe = toml::from_str(text)?;
        match (probe.spin_manifest_version.as_integer(), probe.spin_manifest_version.as_str()) {
            (Some(2), _) => {}
            (_, Some("1")) => bail!("manifest version 1 is not supported by this host; migrate it with `spin doctor`"),
            _ => bail!("invalid manifest version: {}", probe.spin_manifest_version),
        }
        let raw: schema::Manifest = toml::from_str(text)?;
        let declared = declared_variables(&raw.variables)?;
        let resolved = match values {
            Values::Resolve(overrides) => Some(resolve_values(&declared, overrides)?),
            Values::CheckOnly => None,
        };
        let defaults: HashMap<String, String> =
            declared.iter().filter_map(|(name, default)| Some((name.clone(), default.clone()?))).collect();
        let mut components = BTreeMap::new();
        for (id, component) in raw.components {
            let spec = component_spec(id.as_str(), component, dir, &declared, resolved.as_ref(), &defaults, stores)
                .with_context(|| format!("Failed to load component `{id}`"))?;
            components.insert(id.to_string(), spec);
        }
        let (routes, crons) = triggers(raw.triggers, &components)?;
        Ok(Self { name: raw.application.name, version: raw.application.version, routes, components, crons })
    }

    /// The route serving `path`, chosen as Spin chooses it.
    #[must_use]
    pub fn route_for(&self, path: &str) -> Option<RouteMatch<'_>> {
        self.routes.route_for(path)
    }
}

/// Each declared variable's default; refuses what Spin's loader refuses.
fn declared_variables(
    variables: &BTreeMap<id::LowerSnakeId, schema::Variable>,
) -> Result<BTreeMap<String, Option<String>>> {
    let mut declared = BTreeMap::new();
    for (name, variable) in variables {
        check_variable_key(name.as_str())?;
        ensure!(
            variable.required ^ variable.default.is_some(),
            "variable {name}: must be `required` OR have a `default`"
        );
        declared.insert(name.to_string(), variable.default.clone());
    }
    Ok(declared)
}

/// Every variable's value: an override, else `SPIN_VARIABLE_<NAME>`, else its default.
fn resolve_values(
    declared: &BTreeMap<String, Option<String>>,
    overrides: &HashMap<String, String>,
) -> Result<HashMap<String, String>> {
    let mut values = HashMap::new();
    let mut unresolved = Vec::new();
    for (name, default) in declared {
        let env_name = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
        match overrides.get(name).cloned().or_else(|| std::env::var(&env_name).ok()).or_else(|| default.clone()) {
            Some(value) => {
                values.insert(name.clone(), value);
            }
            None => unresolved.push((name.as_str(), env_name)),
        }
    }
    if !unresolved.is_empty() {
        let names: Vec<&str> = unresolved.iter().map(|(n, _)| *n).collect();
        let hints: Vec<&str> = unresolved.iter().map(|(_, e)| e.as_str()).collect();
        bail!("no provider resolved required variable(s): {names:?} (set {})", hints.join(", "));
    }
    Ok(values)
}

#[allow(clippy::too_many_arguments, reason = "one component, resolved against the app's tables")]
fn component_spec(
    id: &str,
    component: schema::Component,
    dir: &Path,
    declared: &BTreeMap<String, Option<String>>,
    values: Option<&HashMap<String, String>>,
    defaults: &HashMap<String, String>,
    stores: &[&str],
) -> Result<ComponentSpec> {
    refuse_unsupported(&component)?;
    let source = match &component.source {
        toml::Value::String(path) => dir.join(path),
        _ => bail!("only local `source` paths are supported by this host (not URLs or registry packages)"),
    };
    let is_declared = |name: &str| declared.contains_key(name);
    let mut variables = HashMap::new();
    for (name, text) in &component.variables {
        check_variable_key(name.as_str())?;
        let template = Template::parse(text).with_context(|| format!("variable {name}"))?;
        template.check_declared(is_declared).with_context(|| format!("variable {name}"))?;
        if let Some(values) = values {
            variables.insert(name.to_string(), template.render(values).unwrap_or_default());
        }
    }
    let mut allowed_outbound_hosts = Vec::new();
    for entry in &component.allowed_outbound_hosts {
        let template = Template::parse(entry).context("`allowed_outbound_hosts` is malformed")?;
        template.check_declared(is_declared).context("`allowed_outbound_hosts` is malformed")?;
        if let Some(values) = values {
            allowed_outbound_hosts.push(template.render(values).unwrap_or_default());
        } else if let Some(with_defaults) = template.render(defaults) {
            // As Spin's `AllowedHostsConfig::validate`: a template is checked with the
            // defaults when every variable it uses has one.
            AllowedHosts::parse(std::slice::from_ref(&with_defaults))
                .with_context(|| {
                    format!("using default variable value(s) with template {entry:?} results in invalid config {with_defaults:?}")
                })
                .context("`allowed_outbound_hosts` is malformed")?;
        }
    }
    if values.is_some() {
        AllowedHosts::parse(&allowed_outbound_hosts).context("`allowed_outbound_hosts` is malformed")?;
    }
    for label in &component.key_value_stores {
        ensure!(stores.contains(&label.as_str()), "unknown key_value_stores label {label:?} for component {id:?}");
    }
    Ok(ComponentSpec {
        id: id.to_owned(),
        source,
        variables,
        environment: component.environment.into_iter().collect(),
        allowed_outbound_hosts,
        key_value_stores: component.key_value_stores,
    })
}

/// Spin features this host does not implement: refused by name rather than ignored.
fn refuse_unsupported(component: &schema::Component) -> Result<()> {
    let unsupported = [
        ("files", !component.files.is_empty() || !component.exclude_files.is_empty()),
        ("sqlite_databases", !component.sqlite_databases.is_empty()),
        ("ai_models", !component.ai_models.is_empty()),
        ("dependencies", !component.dependencies.is_empty()),
        ("allowed_http_hosts (deprecated: use allowed_outbound_hosts)", !component.allowed_http_hosts.is_empty()),
    ];
    if let Some((feature, _)) = unsupported.iter().find(|(_, used)| *used) {
        bail!("`{feature}` is not supported by this host");
    }
    Ok(())
}

/// The HTTP routes and cron schedules; every trigger must name a known component.
fn triggers(
    triggers: BTreeMap<String, Vec<schema::Trigger>>,
    components: &BTreeMap<String, ComponentSpec>,
) -> Result<(Routes, Vec<CronSpec>)> {
    let mut http = Vec::new();
    let mut crons = Vec::new();
    for (trigger_type, entries) in triggers {
        for (i, trigger) in entries.into_iter().enumerate() {
            let component = match &trigger.component {
                Some(ComponentRef::Id(id)) => id.to_string(),
                Some(ComponentRef::Inline) => {
                    bail!("inline components are not supported by this host; use [component.<id>]")
                }
                None => String::new(),
            };
            // Spin names a trigger `<component>-<type>-trigger` when it has no `id`.
            let trigger_id =
                if trigger.id.is_empty() { format!("{component}-{trigger_type}-trigger") } else { trigger.id.clone() };
            ensure!(trigger.components.is_empty(), "trigger {trigger_id:?}: `components` is reserved by Spin");
            let config = toml::Value::Table(trigger.config);
            let context = || format!("invalid `{trigger_type}` trigger config (entry {})", i + 1);
            match trigger_type.as_str() {
                "http" => {
                    let config: schema::HttpTrigger = config.try_into().with_context(context)?;
                    ensure!(
                        config.static_response.is_none(),
                        "trigger {trigger_id:?}: `static_response` is not supported by this host"
                    );
                    if let Some(HttpExecutor::Wagi(_)) = config.executor {
                        bail!("trigger {trigger_id:?}: the Wagi executor is not supported by this host");
                    }
                    ensure!(
                        !component.is_empty(),
                        "Triggers must specify either component or static_response - {trigger_id} has neither"
                    );
                    match config.route {
                        HttpRoute::Path(route) => http.push((trigger_id.clone(), component.clone(), route)),
                        HttpRoute::Private(endpoint) if endpoint.private => {}
                        HttpRoute::Private(_) => bail!(
                            "route must be a string pattern or '{{ private = true }}': '{component}' has {{ private = false }}"
                        ),
                    }
                }
                "cron" => {
                    let config: schema::CronTrigger = config.try_into().with_context(context)?;
                    ensure!(!component.is_empty(), "trigger {trigger_id:?}: missing field `component`");
                    crons.push(CronSpec {
                        component: component.clone(),
                        schedule: parse_cron(&config.cron_expression)?,
                    });
                }
                other => bail!("trigger type {other:?} is not supported by this host (only http and cron)"),
            }
            ensure!(
                component.is_empty() || components.contains_key(&component),
                "missing component {component:?} configured for trigger {trigger_id:?}"
            );
        }
    }
    Ok((Routes::build(&http)?, crons))
}

/// Parses a cron expression as the Spin cron trigger does: six fields, seconds first.
///
/// # Errors
/// Any other number of fields, or a malformed field.
pub fn parse_cron(expression: &str) -> Result<cron::Schedule> {
    let fields = expression.split_whitespace().count();
    if fields != 6 {
        bail!("cron expression {expression:?} has {fields} fields; the Spin cron trigger needs six (seconds first)");
    }
    expression.parse().with_context(|| format!("invalid cron expression {expression:?}"))
}
