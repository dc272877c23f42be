//! End-to-end tests: the real `.wasm` components, in the wasmtime host, against real
//! PostgreSQL. Build the components first (`make test` does).

mod alerts_in;
mod browser;
mod catalog;
mod catalog_writes;
mod clock;
mod compat;
mod contract;
mod delivery;
mod deploy;
mod events;
mod fidelity;
mod first_run;
mod housekeeping;
mod identity;
mod key_value;
mod maintenance;
mod manifest_rules;
mod notifications;
mod null_fields;
mod operations;
mod public;
mod public_history;
mod scheduler;
mod sso;
mod subscriptions;
mod support;
