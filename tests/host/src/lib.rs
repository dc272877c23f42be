//! A wasmtime host that runs the StatusPage Spin app the way `spin up` does, for the end-to-end
//! tests and for local runs where the `spin` CLI is not installed.
//!
//! It reads `spin.toml` ([`manifest`]), compiles each component once per process and
//! pre-instantiates it, serves `wasi:http` on loopback with a fresh store per request
//! ([`app`], [`server`]), and implements the Spin interfaces the components import:
//! `spin:postgres/postgres@4.0.0` over tokio-postgres ([`pg`]), `fermyon:spin/variables@2.0.0`
//! ([`state`]), `fermyon:spin/key-value@2.0.0` in memory or on Redis ([`kv`]), outbound HTTP with `allowed_outbound_hosts` ([`outbound`], [`allowed`]), and the
//! `fermyon:spin-cron@2.0.0` export ([`App::run_cron`]).
//!
//! Its worth is fidelity: the README's "The test host" lists what Spin does, measured; the host
//! does the same, and fails loudly (a JSON 500 `host_fidelity_violation`) where Spin would hang
//! or silently leak: a zero-row `query`, a request that ends inside an open transaction.

pub mod allowed;
pub mod app;
pub mod clock;
pub mod kv;
pub mod manifest;
pub mod outbound;
pub mod pg;
pub mod server;
pub mod state;

pub use app::{App, LogSink};

/// Bindings of the Spin interfaces the host implements (WIT in `wit/host`).
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit/host",
        world: "statuspage:test-host/spin-imports",
        imports: { default: async | trappable },
        with: {
            "spin:postgres/postgres.connection": crate::pg::PgConnection,
            "fermyon:spin/key-value.store": crate::kv::OpenStore,
        },
    });
}

/// Bindings of the cron trigger's world (WIT in `wit/spin-cron`).
pub mod cron_bindings {
    wasmtime::component::bindgen!({
        path: "../../wit/spin-cron",
        world: "fermyon:spin-cron/spin-cron",
        exports: { default: async },
    });
}
