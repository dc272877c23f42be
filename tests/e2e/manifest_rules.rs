//! The host refuses every manifest Spin 4.0.2 refuses, with Spin's reason, one test per rule
//! (the rules and their sources in Spin are listed in `tests/host/src/manifest/mod.rs`), and
//! the project's own manifests follow all of them.
//!
//! Each case is a small manifest that breaks exactly one rule; the expected text is the reason
//! Spin prints for it.

use std::collections::HashMap;
use std::path::Path;

use statuspage_host::manifest::{AppSpec, Values};

use crate::support::repo_root;

/// A valid manifest: one HTTP component with a variable.
const VALID: &str = r#"
spin_manifest_version = 2

[application]
name = "rules"

[variables]
db_host = { default = "127.0.0.1:5432" }

[[trigger.http]]
route = "/..."
component = "web"

[component.web]
source = "web.wasm"
allowed_outbound_hosts = ["postgres://{{ db_host }}"]
[component.web.variables]
db_host = "{{ db_host }}"
"#;

fn load(manifest: &str) -> Result<AppSpec, String> {
    let values = HashMap::new();
    AppSpec::parse(manifest, Path::new("."), Values::Resolve(&values), &["default"]).map_err(|e| format!("{e:#}"))
}

/// The reason the host refuses `manifest`; the test fails if the host accepts it.
fn refused(manifest: &str) -> String {
    match load(manifest) {
        Ok(_) => panic!("the host accepted a manifest Spin refuses:\n{manifest}"),
        Err(reason) => reason,
    }
}

fn assert_refused(manifest: &str, spin_says: &str) {
    let reason = refused(manifest);
    assert!(reason.contains(spin_says), "expected Spin's reason {spin_says:?}, the host said: {reason}");
}

/// `VALID` with `from` replaced by `to` (which must occur).
fn valid_with(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "{from:?} is not in the valid manifest");
    VALID.replacen(from, to, 1)
}

#[test]
fn the_valid_manifest_loads() {
    let app = load(VALID).expect("valid");
    assert_eq!(app.components["web"].variables["db_host"], "127.0.0.1:5432");
}

#[test]
fn a_variable_name_whose_word_starts_with_a_digit_is_refused() {
    // The name that kept the app from starting under Spin 4.0.2.
    let manifest = valid_with("[variables]\n", "[variables]\nrequire_2fa_for_admins = { default = \"false\" }\n");
    assert_refused(&manifest, "'_'-separated words must start with an ASCII letter; got '2'");
}

#[test]
fn a_variable_name_with_other_characters_is_refused() {
    let manifest = valid_with("[variables]\n", "[variables]\n\"bad+name\" = { required = true }\n");
    assert_refused(&manifest, "'_'-separated words may only contain alphanumeric ASCII; got '+'");
}

#[test]
fn an_upper_case_variable_name_is_refused() {
    let manifest = valid_with("[variables]\n", "[variables]\nDB_URL = { default = \"x\" }\n");
    assert_refused(&manifest, "Lower-case identifiers must be all lowercase; got \"DB_URL\"");
}

#[test]
fn a_component_id_in_snake_case_is_refused() {
    let manifest = valid_with("[component.web]", "[component.bad_id]")
        .replace("component = \"web\"", "component = \"bad_id\"")
        .replace("[component.web.variables]", "[component.bad_id.variables]");
    assert_refused(&manifest, "words must be separated with '-', not '_'");
}

#[test]
fn a_trigger_naming_a_component_id_that_is_not_kebab_case_is_refused() {
    assert_refused(
        &valid_with("component = \"web\"", "component = \"1-2-3\""),
        "'-'-separated words must start with an ASCII letter; got '1'",
    );
}

#[test]
fn a_manifest_version_other_than_2_is_refused() {
    assert_refused("spin_manifest_version = \"0\"\n", "invalid manifest version: \"0\"");
    assert_refused(
        &valid_with("spin_manifest_version = 2", "spin_manifest_version = 3"),
        "invalid manifest version: 3",
    );
}

#[test]
fn an_empty_manifest_is_refused() {
    assert_refused("", "missing field `spin_manifest_version`");
}

#[test]
fn unknown_keys_are_refused_at_every_level() {
    let cases = [
        valid_with("[application]\n", "[application]\nnmae = \"typo\"\n"),
        valid_with("[variables]\n", "[unknown_table]\n[variables]\n"),
        valid_with("db_host = { default", "db_host = { defualt = \"x\", default"),
        valid_with("source = \"web.wasm\"", "source = \"web.wasm\"\nallowed_outbound_host = []"),
        valid_with("route = \"/...\"", "route = \"/...\"\nrout = \"/x\""),
    ];
    for manifest in cases {
        assert_refused(&manifest, "unknown field");
    }
}

#[test]
fn a_variable_must_be_required_or_have_a_default() {
    assert_refused(
        &valid_with("{ default = \"127.0.0.1:5432\" }", "{ required = true, default = \"127.0.0.1:5432\" }"),
        "must be `required` OR have a `default`",
    );
    assert_refused(
        &valid_with("{ default = \"127.0.0.1:5432\" }", "{ secret = true }"),
        "must be `required` OR have a `default`",
    );
}

#[test]
fn a_required_variable_without_a_value_stops_the_app() {
    let manifest = valid_with("[variables]\n", "[variables]\njwt_secret = { required = true, secret = true }\n");
    assert_refused(&manifest, "no provider resolved required variable(s): [\"jwt_secret\"]");
}

#[test]
fn a_component_variable_template_must_close_its_braces() {
    assert_refused(
        &valid_with("db_host = \"{{ db_host }}\"", "db_host = \"{{ db_host\""),
        "unmatched '{{' in template",
    );
}

#[test]
fn a_component_variable_template_may_only_use_declared_variables() {
    assert_refused(
        &valid_with("db_host = \"{{ db_host }}\"", "db_host = \"{{ undeclared }}\""),
        "invalid variable template: unknown variable \"undeclared\"",
    );
}

#[test]
fn a_component_variable_name_follows_the_variable_grammar() {
    assert_refused(
        &valid_with("db_host = \"{{ db_host }}\"", "db-host = \"{{ db_host }}\""),
        "words must be separated with '_', not '-'",
    );
}

#[test]
fn an_outbound_host_without_a_scheme_is_refused() {
    assert_refused(
        &valid_with("\"postgres://{{ db_host }}\"", "\"127.0.0.1:5432\""),
        "\"127.0.0.1:5432\" does not contain a scheme (e.g., 'http://' or '*://')",
    );
}

#[test]
fn an_outbound_host_with_a_path_or_a_misplaced_wildcard_is_refused() {
    assert_refused(
        &valid_with("\"postgres://{{ db_host }}\"", "\"https://example.com:443/api\""),
        "has a path but is not allowed to",
    );
    assert_refused(
        &valid_with("\"postgres://{{ db_host }}\"", "\"https://*.ex*ample.com\""),
        "wildcards are allowed only as prefixes",
    );
    assert_refused(
        &valid_with("\"postgres://{{ db_host }}\"", "\"ftp://example.com\""),
        "does not have a known default port number",
    );
}

#[test]
fn a_templated_outbound_host_is_checked_with_the_resolved_value() {
    let manifest = valid_with("{ default = \"127.0.0.1:5432\" }", "{ default = \"127.0.0.1:5432/db\" }");
    assert_refused(&manifest, "has a path but is not allowed to");
}

#[test]
fn the_lint_checks_a_templated_outbound_host_with_its_defaults() {
    let manifest = valid_with("{ default = \"127.0.0.1:5432\" }", "{ default = \"127.0.0.1:5432/db\" }");
    let reason = AppSpec::parse(&manifest, Path::new("."), Values::CheckOnly, &["default"])
        .map(|_| ())
        .map_err(|e| format!("{e:#}"));
    assert!(reason.is_err_and(|r| r.contains("using default variable value(s) with template")));
}

#[test]
fn a_key_value_store_label_must_be_kebab_or_snake_case() {
    assert_refused(
        &valid_with("source = \"web.wasm\"", "source = \"web.wasm\"\nkey_value_stores = [\"camelCase\"]"),
        "expected kebab-case or snake_case",
    );
}

#[test]
fn a_key_value_store_label_must_be_defined() {
    assert_refused(
        &valid_with("source = \"web.wasm\"", "source = \"web.wasm\"\nkey_value_stores = [\"cache\"]"),
        "unknown key_value_stores label \"cache\" for component \"web\"",
    );
    let defined = valid_with("source = \"web.wasm\"", "source = \"web.wasm\"\nkey_value_stores = [\"default\"]");
    assert!(load(&defined).is_ok(), "the default store needs no runtime configuration");
}

#[test]
fn a_route_written_twice_is_refused() {
    let manifest =
        valid_with("[component.web]", "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n\n[component.web]");
    assert_refused(&manifest, "duplicates");
}

#[test]
fn a_route_routefinder_cannot_parse_is_refused() {
    assert_refused(&valid_with("route = \"/...\"", "route = \"/items/:\""), "params must be named");
}

#[test]
fn a_private_route_must_say_private_true() {
    assert_refused(
        &valid_with("route = \"/...\"", "route = { private = false }"),
        "route must be a string pattern or '{ private = true }'",
    );
    let private = valid_with("route = \"/...\"", "route = { private = true }");
    assert_eq!(load(&private).expect("private routes are valid").route_for("/x"), None);
}

#[test]
fn routes_under_spins_own_prefix_are_refused() {
    assert_refused(
        &valid_with("route = \"/...\"", "route = \"/.well-known/spin/health\""),
        "handled by the Spin runtime",
    );
}

#[test]
fn a_trigger_naming_a_missing_component_is_refused() {
    assert_refused(
        &valid_with("component = \"web\"", "component = \"nope\""),
        "missing component \"nope\" configured for trigger \"nope-http-trigger\"",
    );
}

#[test]
fn a_cron_expression_needs_six_fields() {
    let manifest = valid_with(
        "[component.web]",
        "[[trigger.cron]]\ncomponent = \"web\"\ncron_expression = \"* * * * *\"\n\n[component.web]",
    );
    assert_refused(&manifest, "needs six (seconds first)");
}

#[test]
fn a_cron_trigger_refuses_unknown_keys() {
    let manifest = valid_with(
        "[component.web]",
        "[[trigger.cron]]\ncomponent = \"web\"\ncron_expression = \"0 * * * * *\"\nschedule = \"x\"\n\n[component.web]",
    );
    assert_refused(&manifest, "unknown field `schedule`");
}

/// Every manifest the project ships: the app, the probe, and any under `deploy/`.
fn project_manifests() -> Vec<std::path::PathBuf> {
    let root = repo_root();
    let mut found = vec![root.join("spin.toml"), root.join("tests/probe/spin.toml")];
    let mut dirs = vec![root.join("deploy")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if path.is_dir() {
                dirs.push(path);
            } else if name.starts_with("spin") && name.ends_with(".toml") && !name.contains("runtime") {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn the_projects_own_manifests_follow_spins_rules() {
    for manifest in project_manifests() {
        if let Err(e) = AppSpec::check(&manifest) {
            panic!("{} breaks a Spin rule: {e:#}", manifest.display());
        }
    }
}
