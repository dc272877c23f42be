//! `statuspage-host`: runs the app like `spin up` when the `spin` CLI is not installed.
//!
//! `statuspage-host --listen 127.0.0.1:3000 -f spin.toml` serves the app and runs its cron
//! schedules; variables come from `SPIN_VARIABLE_<NAME>` as with Spin.
//! `statuspage-host create-database` creates the database named by `SPIN_VARIABLE_DB_URL` if it
//! does not exist (used by `make up`).

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
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    match args.command {
        Some(Command::CreateDatabase { url, recreate }) => create_database(&url, recreate).await,
        None => serve(args.listen, &args.manifest).await,
    }
}

async fn serve(listen: SocketAddr, manifest: &std::path::Path) -> Result<()> {
    let app = App::load(manifest, &HashMap::new(), LogSink::Echo)?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    eprintln!("Serving http://{}", listener.local_addr()?);
    for route in &app.spec().routes {
        eprintln!("  {:<32} -> {}", route.raw, route.component);
    }
    app.spawn_cron_schedules();
    tokio::select! {
        () = statuspage_host::server::serve(app, listener) => {}
        _ = tokio::signal::ctrl_c() => eprintln!("shutting down"),
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
