//! Incoming webhooks: monitoring systems open and resolve incidents.
//!
//! - [`payload`]: Alertmanager (version 4), Grafana and our generic format, read into alerts.
//! - [`integration`]: an admin's configuration of one sender (service label, severity map,
//!   title) and how its deliveries are authenticated (signatures).
//! - [`receive`]: a delivery applied to incidents, through the event use cases.

pub mod integration;
pub mod payload;
pub mod receive;

pub use integration::{Integration, SeverityRule};
pub use payload::{Alert, AlertState, Format};
