//! Reads `spin.toml` (manifest version 2) the way `spin up` does: routes, component sources,
//! variables and their templates, `allowed_outbound_hosts`, cron triggers. Whatever would stop
//! `spin up` at start (an undeclared variable in a template, a required variable without a value,
//! a five-field cron expression) stops the host too.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    spin_manifest_version: u32,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, RawVariable>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
}

#[derive(Debug, Deserialize)]
struct RawApplication {
    name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariable {
    default: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    secret: bool,
}

#[derive(Debug, Default, Deserialize)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<RawHttpTrigger>,
    #[serde(default)]
    cron: Vec<RawCronTrigger>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpTrigger {
    route: String,
    component: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCronTrigger {
    component: String,
    cron_expression: String,
}

#[derive(Debug, Deserialize)]
struct RawComponent {
    source: String,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

/// A component of the app, with its variables resolved.
#[derive(Debug, Clone)]
pub struct ComponentSpec {
    /// The component id (`catalog`).
    pub id: String,
    /// Absolute path of its `.wasm`.
    pub source: PathBuf,
    /// Its variables, rendered from the app variables.
    pub variables: HashMap<String, String>,
    /// `allowed_outbound_hosts`, rendered.
    pub allowed_outbound_hosts: Vec<String>,
}

/// An HTTP route: `/exact` or `/prefix/...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// As written in the manifest.
    pub raw: String,
    /// The path without a trailing `/...`.
    pub base: String,
    /// Whether it ends with `/...`.
    pub wildcard: bool,
    /// The component it serves.
    pub component: String,
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
    /// Routes in manifest order.
    pub routes: Vec<Route>,
    /// Components by id.
    pub components: BTreeMap<String, ComponentSpec>,
    /// Cron triggers.
    pub crons: Vec<CronSpec>,
}

impl AppSpec {
    /// Loads `manifest`, taking variable values from `SPIN_VARIABLE_<NAME>` environment variables
    /// and then from `overrides` (which win), as `spin up` takes them from its providers.
    ///
    /// # Errors
    /// Whatever would stop `spin up` at start, explained.
    pub fn load(manifest: &Path, overrides: &HashMap<String, String>) -> Result<Self> {
        let text = std::fs::read_to_string(manifest).with_context(|| format!("reading {}", manifest.display()))?;
        let raw: RawManifest = toml::from_str(&text).with_context(|| format!("parsing {}", manifest.display()))?;
        if raw.spin_manifest_version != 2 {
            bail!("only spin_manifest_version = 2 is supported");
        }
        let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
        let values = resolve_app_variables(&raw.variables, overrides)?;
        let mut components = BTreeMap::new();
        for (id, c) in &raw.component {
            let variables = c
                .variables
                .iter()
                .map(|(name, template)| {
                    check_variable_name(name)?;
                    Ok((
                        name.clone(),
                        render(template, &values).with_context(|| format!("component {id}, variable {name}"))?,
                    ))
                })
                .collect::<Result<_>>()?;
            let allowed_outbound_hosts = c
                .allowed_outbound_hosts
                .iter()
                .map(|t| render(t, &values).with_context(|| format!("component {id}, allowed_outbound_hosts")))
                .collect::<Result<_>>()?;
            components.insert(
                id.clone(),
                ComponentSpec { id: id.clone(), source: dir.join(&c.source), variables, allowed_outbound_hosts },
            );
        }
        let routes = raw
            .trigger
            .http
            .iter()
            .map(|t| {
                if !components.contains_key(&t.component) {
                    bail!("route {} names an unknown component {}", t.route, t.component);
                }
                Ok(Route::parse(&t.route, &t.component))
            })
            .collect::<Result<_>>()?;
        let crons = raw
            .trigger
            .cron
            .iter()
            .map(|t| {
                if !components.contains_key(&t.component) {
                    bail!("cron trigger names an unknown component {}", t.component);
                }
                Ok(CronSpec { component: t.component.clone(), schedule: parse_cron(&t.cron_expression)? })
            })
            .collect::<Result<_>>()?;
        Ok(Self { name: raw.application.name, routes, components, crons })
    }

    /// The route serving `path`, chosen as Spin does: an exact route first, else the wildcard
    /// route with the longest base.
    #[must_use]
    pub fn route_for(&self, path: &str) -> Option<&Route> {
        let path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
        self.routes.iter().find(|r| !r.wildcard && r.base == path).or_else(|| {
            self.routes.iter().filter(|r| r.wildcard && r.matches_prefix(path)).max_by_key(|r| r.base.len())
        })
    }
}

impl Route {
    fn parse(raw: &str, component: &str) -> Self {
        let (base, wildcard) = match raw.strip_suffix("/...") {
            Some(base) => (base.to_owned(), true),
            None => (raw.to_owned(), false),
        };
        Self { raw: raw.to_owned(), base, wildcard, component: component.to_owned() }
    }

    fn matches_prefix(&self, path: &str) -> bool {
        self.base.is_empty()
            || path == self.base
            || path.strip_prefix(&self.base).is_some_and(|rest| rest.starts_with('/'))
    }

    /// What Spin puts in `spin-path-info`: the part of `path` after the route's base.
    #[must_use]
    pub fn path_info<'p>(&self, path: &'p str) -> &'p str {
        if self.wildcard { path.strip_prefix(&self.base).unwrap_or(path) } else { "" }
    }
}

fn resolve_app_variables(
    declared: &BTreeMap<String, RawVariable>,
    overrides: &HashMap<String, String>,
) -> Result<HashMap<String, String>> {
    let mut values = HashMap::new();
    for (name, decl) in declared {
        check_variable_name(name)?;
        if decl.required && decl.default.is_some() {
            bail!("variable {name} is both required and has a default");
        }
        let env_name = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
        let value =
            overrides.get(name).cloned().or_else(|| std::env::var(&env_name).ok()).or_else(|| decl.default.clone());
        match value {
            Some(v) => {
                values.insert(name.clone(), v);
            }
            None => bail!("required variable {name} has no value (set {env_name})"),
        }
        let _ = decl.secret;
    }
    Ok(values)
}

/// Spin variable names: lower-case letters, digits and underscores, starting with a letter.
fn check_variable_name(name: &str) -> Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok { Ok(()) } else { bail!("invalid variable name {name:?}") }
}

/// Renders `{{ name }}` references to app variables.
fn render(template: &str, values: &HashMap<String, String>) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { bail!("unclosed {{{{ in {template:?}") };
        let name = after[..end].trim();
        let value = values.get(name).with_context(|| format!("{template:?} refers to undeclared variable {name}"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(routes: &[(&str, &str)]) -> AppSpec {
        AppSpec {
            name: "t".into(),
            routes: routes.iter().map(|(r, c)| Route::parse(r, c)).collect(),
            components: BTreeMap::new(),
            crons: Vec::new(),
        }
    }

    #[test]
    fn routes_choose_exact_then_longest_wildcard() {
        let app = spec(&[
            ("/...", "status"),
            ("/api/v1/me", "auth"),
            ("/api/v1/me/channels/...", "subs"),
            ("/api/v1/services/...", "catalog"),
        ]);
        let cases = [
            ("/", "status"),
            ("/healthz", "status"),
            ("/api/v1/me", "auth"),
            ("/api/v1/me/", "auth"),
            ("/api/v1/me/channels", "subs"),
            ("/api/v1/me/channels/1", "subs"),
            ("/api/v1/services", "catalog"),
            ("/api/v1/services/api", "catalog"),
            ("/api/v1/servicesx", "status"),
            ("/api/v1/me/password", "status"),
        ];
        for (path, component) in cases {
            assert_eq!(app.route_for(path).map(|r| r.component.as_str()), Some(component), "{path}");
        }
    }

    #[test]
    fn path_info_is_what_follows_the_wildcard_base() {
        let route = Route::parse("/api/v1/services/...", "c");
        assert_eq!(route.path_info("/api/v1/services/api"), "/api");
        assert_eq!(Route::parse("/healthz", "s").path_info("/healthz"), "");
    }

    #[test]
    fn templates_render_and_undeclared_names_fail() {
        let values = HashMap::from([("db_host".to_owned(), "127.0.0.1:5432".to_owned())]);
        assert_eq!(render("postgres://{{ db_host }}", &values).ok().as_deref(), Some("postgres://127.0.0.1:5432"));
        assert!(render("{{ nope }}", &values).is_err());
    }

    #[test]
    fn cron_needs_six_fields() {
        assert!(parse_cron("0 * * * * *").is_ok());
        assert!(parse_cron("* * * * *").is_err());
    }
}
