//! `statuspage-host`: runs the app like `spin up` when the `spin` CLI is not installed.
//!
//! `statuspage-host --listen 127.0.0.1:3000 -f spin.toml`; variables come from
//! `SPIN_VARIABLE_<NAME>` as with Spin. Cron schedules run too.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use statuspage_host::{App, LogSink};

#[derive(Debug, Parser)]
#[command(version, about = "Serve a Spin app (spin.toml) with wasmtime, like `spin up`")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    manifest: PathBuf,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let app = App::load(&args.manifest, &HashMap::new(), LogSink::Echo)?;
    let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
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
