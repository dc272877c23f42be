//! What `deploy/` ships, held against the app it deploys (no cluster or Docker here):
//! every variable a manifest sets is one `spin.toml` declares; the SpinApp manifest, and the
//! Helm chart as `helm template` renders it with each of its `ci/` value files, use only fields
//! of the SpinApp CRD (`core.spinkube.dev/v1alpha1`, spin-operator's
//! `config/crd/bases/core.spinkube.dev_spinapps.yaml`) in the shapes it defines and wire their
//! Secret, Ingress, autoscaler and PgBouncer together; the compose file's app sets only
//! declared variables.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use crate::support::repo_root;

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

/// The variables `spin.toml` declares.
fn declared() -> BTreeSet<String> {
    let manifest: toml::Table =
        std::fs::read_to_string(repo_root().join("spin.toml")).expect("spin.toml").parse().expect("TOML");
    manifest["variables"].as_table().expect("[variables]").keys().cloned().collect()
}

/// The fields of `SpinAppSpec` (v1alpha1) this project may use.
const SPINAPP_SPEC_FIELDS: &[&str] = &[
    "checks",
    "components",
    "deploymentAnnotations",
    "enableAutoscaling",
    "executor",
    "image",
    "imagePullSecrets",
    "podAnnotations",
    "podLabels",
    "replicas",
    "resources",
    "runtimeConfig",
    "serviceAnnotations",
    "serviceLabels",
    "variables",
    "volumeMounts",
    "volumes",
];

/// A SpinApp uses only fields of the CRD in its shapes, sets only variables `spin.toml`
/// declares (each from one source), sets the ones the app needs, keeps its public snapshot in
/// Redis, and is ready only once `/readyz` (which migrates) says so. Answers the Secrets its
/// variables read.
fn check_spinapp(app: &Value) -> BTreeSet<String> {
    assert_eq!(
        (app["apiVersion"].as_str(), app["kind"].as_str()),
        (Some("core.spinkube.dev/v1alpha1"), Some("SpinApp"))
    );
    let spec = app["spec"].as_object().expect("spec");
    for field in spec.keys() {
        assert!(SPINAPP_SPEC_FIELDS.contains(&field.as_str()), "spec.{field} is not a SpinApp field");
    }
    assert!(spec["image"].is_string() && spec["executor"].is_string());
    assert!(
        !(spec.contains_key("replicas") && spec.get("enableAutoscaling") == Some(&Value::Bool(true))),
        "replicas cannot go with enableAutoscaling"
    );
    let declared = declared();
    let mut secrets = BTreeSet::new();
    for variable in spec["variables"].as_array().expect("variables") {
        let name = variable["name"].as_str().expect("a name");
        assert!(declared.contains(name), "{name} is not a variable of spin.toml");
        let sources = ["value", "valueFrom"].iter().filter(|k| variable.get(**k).is_some()).count();
        assert_eq!(sources, 1, "{name}: exactly one of value and valueFrom");
        if let Some(from) = variable.get("valueFrom") {
            let reference = &from["secretKeyRef"];
            assert!(reference["name"].is_string() && reference["key"].is_string(), "{name}: {from}");
            secrets.insert(reference["name"].as_str().unwrap_or_default().to_owned());
        }
    }
    for required in ["db_url", "db_host", "jwt_secret"] {
        assert!(
            spec["variables"].as_array().is_some_and(|v| v.iter().any(|x| x["name"] == required)),
            "{required} is set"
        );
    }
    let store = &spec["runtimeConfig"]["keyValueStores"][0];
    assert_eq!((store["name"].as_str(), store["type"].as_str()), (Some("default"), Some("redis")));
    assert_eq!(spec["checks"]["readiness"]["httpGet"]["path"], "/readyz", "readiness migrates first");
    assert_eq!(spec["checks"]["liveness"]["httpGet"]["path"], "/healthz");
    secrets
}

#[test]
fn the_spinapp_manifest_fits_the_crd_and_sets_declared_variables() {
    check_spinapp(&yaml("deploy/spinkube/spinapp.yaml"));
}

/// `helm template` of the chart (Helm from `make deploy-deps`), as documents.
fn render(values: Option<&str>) -> Result<Vec<Value>, String> {
    let helm = repo_root().join(".tools/venv/bin/helm");
    assert!(helm.exists(), "no {}: `make deploy-deps` installs Helm", helm.display());
    let mut command = std::process::Command::new(helm);
    command.current_dir(repo_root()).args(["template", "status", "deploy/helm/statuspage"]);
    if let Some(values) = values {
        command.args(["--values", values]);
    }
    let output = command.output().expect("helm runs");
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    Ok(serde_yaml_ng::Deserializer::from_str(&text)
        .map(|document| Value::deserialize(document).expect("rendered YAML"))
        .filter(|document| !document.is_null())
        .collect())
}

fn one_of<'a>(documents: &'a [Value], kind: &str) -> Option<&'a Value> {
    documents.iter().find(|d| d["kind"] == kind)
}

#[test]
fn the_chart_renders_manifests_that_fit_spinkube_with_every_value_file() {
    let refused = render(None).expect_err("the defaults lack the secrets");
    assert!(
        refused.contains("secrets.db_url is required (or name a Secret holding it with existingSecret)"),
        "{refused}"
    );

    let inline = render(Some("deploy/helm/statuspage/ci/inline-secrets-values.yaml")).expect("renders");
    let app = one_of(&inline, "SpinApp").expect("a SpinApp");
    let read = check_spinapp(app);
    let secret = one_of(&inline, "Secret").expect("the chart makes the Secret");
    let made = secret["metadata"]["name"].as_str().expect("named");
    assert_eq!(read, BTreeSet::from([made.to_owned()]), "variables read the Secret the chart makes");
    for key in ["db_url", "db_host", "jwt_secret"] {
        assert!(secret["stringData"][key].is_string(), "the Secret holds {key}");
    }
    assert_eq!(app["spec"]["replicas"], 2);
    let ingress = one_of(&inline, "Ingress").expect("an Ingress");
    let backend = &ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"];
    assert_eq!(backend["name"], app["metadata"]["name"], "the Ingress sends traffic to the SpinApp's Service");
    assert!(ingress["spec"]["tls"][0]["secretName"].is_string(), "TLS");
    assert!(one_of(&inline, "HorizontalPodAutoscaler").is_none() && one_of(&inline, "Deployment").is_none());

    let everything = render(Some("deploy/helm/statuspage/ci/everything-on-values.yaml")).expect("renders");
    let app = one_of(&everything, "SpinApp").expect("a SpinApp");
    assert_eq!(check_spinapp(app), BTreeSet::from(["statuspage-variables".to_owned()]));
    assert!(one_of(&everything, "Secret").is_none(), "an existing Secret is used, none is made");
    assert_eq!(app["spec"]["enableAutoscaling"], true);
    let store = &app["spec"]["runtimeConfig"]["keyValueStores"][0]["options"][0];
    assert_eq!(store["valueFrom"]["secretKeyRef"]["key"], "redis_url");
    let scaler = one_of(&everything, "HorizontalPodAutoscaler").expect("an autoscaler");
    assert_eq!(scaler["spec"]["scaleTargetRef"]["name"], app["metadata"]["name"]);
    let pgbouncer = one_of(&everything, "Deployment").expect("PgBouncer");
    let env = pgbouncer["spec"]["template"]["spec"]["containers"][0]["env"].as_array().expect("env");
    assert!(env.iter().any(|e| e["name"] == "POOL_MODE" && e["value"] == "transaction"));
    assert!(env.iter().any(|e| e["name"] == "MAX_PREPARED_STATEMENTS"), "named statements need it");
    assert!(one_of(&everything, "Service").is_some_and(|s| s["spec"]["ports"][0]["port"] == 5432));
}

#[test]
fn the_chart_and_the_compose_file_set_only_declared_variables() {
    let declared = declared();
    let values = yaml("deploy/helm/statuspage/values.yaml");
    for key in values["variables"]
        .as_object()
        .expect("variables")
        .keys()
        .chain(values["secrets"].as_object().expect("secrets").keys())
    {
        assert!(declared.contains(key), "values.yaml sets {key}, which spin.toml does not declare");
    }
    let chart = yaml("deploy/helm/statuspage/Chart.yaml");
    assert_eq!(chart["apiVersion"], "v2");
    let compose = yaml("deploy/compose/compose.yaml");
    let app = compose["services"]["app"]["environment"].as_object().expect("the app's environment");
    for key in app.keys() {
        let name =
            key.strip_prefix("SPIN_VARIABLE_").unwrap_or_else(|| panic!("{key} is not a Spin variable")).to_lowercase();
        assert!(declared.contains(&name), "compose.yaml sets {key}, which spin.toml does not declare");
    }
    assert!(compose["services"]["pgbouncer"]["environment"]["POOL_MODE"] == "transaction");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_into_a_fresh_database_that_the_app_serves() {
    let app = crate::support::TestApp::spawn().await;
    let admin = app.admin().await;
    app.create(&admin, "/api/v1/services", serde_json::json!({"name": "API", "slug": "api"})).await;
    let dump = std::env::temp_dir().join(format!("statuspage-{}.dump", crate::support::unique()));
    // As docs/OPERATIONS.md says: pg_dump's custom format, restored with pg_restore.
    let dumped = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(crate::support::db_url(&app.db.name).replace("?sslmode=disable", ""))
        .status()
        .expect("pg_dump");
    assert!(dumped.success());
    let fresh = crate::support::TestDb::empty();
    let restored = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(crate::support::db_url(&fresh.name).replace("?sslmode=disable", ""))
        .arg(&dump)
        .status()
        .expect("pg_restore");
    assert!(restored.success());
    let _ = std::fs::remove_file(&dump);
    let served = crate::support::TestApp::spawn_with(fresh, &[]).await;
    assert_eq!(served.get("/readyz").await.status, 200, "the restored schema is current");
    let services = served.get("/api/v1/services").await.json();
    assert_eq!(services["data"][0]["slug"], "api");
    assert_eq!(served.get("/api/v1/status").await.status, 200, "the public snapshot is rebuilt from it");
}
