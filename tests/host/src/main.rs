//! `statuspage-host`: runs the app like `spin up` when the `spin` CLI is not installed.
//!
//! `statuspage-host --listen 127.0.0.1:3000 -f spin.toml` serves the app and runs its cron
//! schedules; variables come from `SPIN_VARIABLE_<NAME>` as with Spin, key-value stores from
//! `--runtime-config-file` (the embedded `default` store otherwise).
//! `statuspage-host create-database` creates the database named by `SPIN_VARIABLE_DB_URL` if it
//! does not exist (used by `make up`). `statuspage-host check spin.toml ...` checks manifests
//! against Spin's rules without running them (the manifest lint of `make test`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use statuspage_host::{App, LogSink};

#[derive(Debug, Parser)]
#[command(version, about = "Serve a Spin app (spin.toml) with wasmtime, like `spin up`")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    manifest: PathBuf,
    /// A runtime configuration file, as with `spin up` (key-value stores: `[key_value_store.*]`).
    #[arg(long = "runtime-config-file", env = "SPIN_RUNTIME_CONFIG_FILE")]
    runtime_config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the database of a PostgreSQL URL if it does not exist.
    CreateDatabase {
        /// The URL (`postgres://user@host:port/name?sslmode=disable`).
        #[arg(long, env = "SPIN_VARIABLE_DB_URL")]
        url: String,
        /// Drop it first if it exists (benchmarks start from a fresh database).
        #[arg(long)]
        recreate: bool,
    },
    /// Check manifests against Spin's rules (no variable needs a value, no component is run).
    Check {
        /// The manifests.
        #[arg(required = true)]
        manifests: Vec<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    match args.command {
        Some(Command::CreateDatabase { url, recreate }) => create_database(&url, recreate).await,
        Some(Command::Check { manifests }) => check(&manifests),
        None => serve(args.listen, &args.manifest, args.runtime_config.as_deref()).await,
    }
}

async fn serve(listen: SocketAddr, manifest: &std::path::Path, runtime_config: Option<&std::path::Path>) -> Result<()> {
    let runtime_config = runtime_config.map(statuspage_host::kv::read_runtime_config).transpose()?;
    let app = App::load_with(manifest, &HashMap::new(), runtime_config.as_ref(), LogSink::Echo)?;
    warn_about_unknown_variables(manifest);
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    eprintln!("Serving http://{}", listener.local_addr()?);
    for route in app.spec().routes.iter() {
        eprintln!("  {:<32} -> {}", route.raw, route.component);
    }
    app.spawn_cron_schedules();
    tokio::select! {
        () = statuspage_host::server::serve(app, listener) => {}
        _ = tokio::signal::ctrl_c() => eprintln!("shutting down"),
    }
    Ok(())
}

/// `SPIN_VARIABLE_<NAME>` values no variable of the manifest takes are ignored, by Spin and
/// here alike; a typo (or a renamed variable) would silently do nothing, so say so.
fn warn_about_unknown_variables(manifest: &std::path::Path) {
    let Ok(text) = std::fs::read_to_string(manifest) else { return };
    let Ok(table) = text.parse::<toml::Table>() else { return };
    let declared: Vec<String> = table
        .get("variables")
        .and_then(toml::Value::as_table)
        .map(|v| v.keys().map(|k| k.to_ascii_uppercase()).collect())
        .unwrap_or_default();
    for (name, _) in std::env::vars() {
        if let Some(variable) = name.strip_prefix("SPIN_VARIABLE_")
            && !declared.iter().any(|d| d == variable)
        {
            eprintln!(
                "warning: {name} is set but the manifest declares no variable {}; it is ignored",
                variable.to_ascii_lowercase()
            );
        }
    }
}

fn check(manifests: &[PathBuf]) -> Result<()> {
    for manifest in manifests {
        let spec = match statuspage_host::manifest::AppSpec::check(manifest) {
            Ok(spec) => spec,
            Err(e) => {
                // The reason alone, as `spin up` prints it (no backtrace).
                eprintln!("{}: {e:#}", manifest.display());
                std::process::exit(1);
            }
        };
        eprintln!(
            "{}: follows Spin's manifest rules ({} components, {} routes, {} cron triggers)",
            manifest.display(),
            spec.components.len(),
            spec.routes.iter().count(),
            spec.crons.len()
        );
    }
    Ok(())
}

async fn create_database(url: &str, recreate: bool) -> Result<()> {
    let config: tokio_postgres::Config = url.parse().context("parsing the database URL")?;
    let name = config.get_dbname().context("the database URL names no database")?.to_owned();
    let mut admin = config.clone();
    admin.dbname("postgres");
    let (client, connection) = admin.connect(tokio_postgres::NoTls).await.context("connecting to the server")?;
    tokio::spawn(connection);
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    if recreate {
        client.batch_execute(&format!("drop database if exists {quoted} with (force)")).await?;
    }
    let exists = client.query_opt("select 1 from pg_database where datname = $1", &[&name]).await?.is_some();
    if exists {
        eprintln!("database {name} exists");
    } else {
        client.batch_execute(&format!("create database {quoted}")).await?;
        eprintln!("created database {name}");
    }
    Ok(())
}
