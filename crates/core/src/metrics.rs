//! `/metrics` in Prometheus's text format: gauges read from the state (events by type
//! and status, services by effective status, deliveries by channel and state, the queue's depth
//! and its oldest waiting delivery's age, the last scheduler tick) and counters kept in
//! PostgreSQL, since the instances that count are stateless (HTTP requests by component, route
//! and status class; scheduler ticks and their duration).
//!
//! Every request is counted after its response has gone, so counting never slows an answer.
//! Public reads are sampled: one in [`PUBLIC_READ_SAMPLE`] counts itself with that weight, so
//! a refresh storm on the status page costs PostgreSQL a small fraction of one write per read
//! while its rate still reads right.

use std::fmt::Write as _;

use crate::db::{Db, DbError};
use crate::repo::metrics::{self as repo, Count, State};

/// One public read in this many is counted (with this weight).
pub const PUBLIC_READ_SAMPLE: i64 = 16;

/// Escapes a label value (backslash, double quote, line feed).
#[must_use]
pub fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The status class of `status`: `2xx`, `4xx`, ...
#[must_use]
pub fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

/// Counts `weight` requests of `component` on `route` that answered `status`.
///
/// # Errors
/// Database errors.
pub fn count_request(db: &dyn Db, component: &str, route: &str, status: u16, weight: i64) -> Result<(), DbError> {
    let labels = format!(
        "component=\"{}\",route=\"{}\",status_class=\"{}\"",
        label(component),
        label(route),
        status_class(status)
    );
    repo::add(db, "statuspage_http_requests_total", &labels, weight)
}

/// Counts a scheduler tick that took `millis` (claimed or not).
///
/// # Errors
/// Database errors.
pub fn count_tick(db: &dyn Db, claimed: bool, millis: i64) -> Result<(), DbError> {
    let labels = format!("claimed=\"{claimed}\"");
    repo::add(db, "statuspage_scheduler_ticks_total", &labels, 1)?;
    repo::add(db, "statuspage_scheduler_tick_milliseconds_total", &labels, millis)
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn counts(out: &mut String, name: &str, (a, b): (&str, &str), rows: &[Count]) {
    for row in rows {
        if b.is_empty() {
            let _ = writeln!(out, "{name}{{{a}=\"{}\"}} {}", label(&row.a), row.n);
        } else {
            let _ = writeln!(out, "{name}{{{a}=\"{}\",{b}=\"{}\"}} {}", label(&row.a), label(&row.b), row.n);
        }
    }
}

/// Renders `state` (and the build's `version` and `commit`).
#[must_use]
pub fn render(state: &State, (version, commit): (&str, &str)) -> String {
    let mut out = String::new();
    family(&mut out, "statuspage_build_info", "gauge", "The running build.");
    let _ = writeln!(out, "statuspage_build_info{{version=\"{}\",commit=\"{}\"}} 1", label(version), label(commit));
    family(&mut out, "statuspage_events", "gauge", "Events by type and status.");
    counts(&mut out, "statuspage_events", ("type", "status"), &state.events);
    family(&mut out, "statuspage_services", "gauge", "Live services by effective status.");
    counts(&mut out, "statuspage_services", ("status", ""), &state.services);
    family(
        &mut out,
        "statuspage_notification_deliveries",
        "gauge",
        "Deliveries in the outbox by channel and state (pruned after outbox_retention_days).",
    );
    counts(&mut out, "statuspage_notification_deliveries", ("channel", "status"), &state.deliveries);
    family(&mut out, "statuspage_notification_queue_depth", "gauge", "Deliveries waiting to be sent.");
    let _ = writeln!(out, "statuspage_notification_queue_depth {}", state.queue_depth);
    family(
        &mut out,
        "statuspage_notification_oldest_pending_seconds",
        "gauge",
        "How long the oldest waiting delivery has waited (0 when none waits).",
    );
    let _ = writeln!(out, "statuspage_notification_oldest_pending_seconds {}", state.oldest_pending_seconds);
    family(&mut out, "statuspage_scheduler_last_tick_timestamp_seconds", "gauge", "The last claimed tick's time.");
    let _ = writeln!(out, "statuspage_scheduler_last_tick_timestamp_seconds {}", state.last_tick);
    let helps = [
        (
            "statuspage_http_requests_total",
            "HTTP requests by component, route and status class (public reads sampled).",
        ),
        ("statuspage_scheduler_ticks_total", "Scheduler ticks (claimed: this tick's work was done here)."),
        ("statuspage_scheduler_tick_milliseconds_total", "Time spent in scheduler ticks."),
    ];
    for (name, help) in helps {
        family(&mut out, name, "counter", help);
        for counter in state.counters.iter().filter(|c| c.name == name) {
            let _ = writeln!(out, "{}{{{}}} {}", counter.name, counter.labels, counter.value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::metrics::Counter;

    /// The metric names `text` (an alert rule file, a dashboard) refers to.
    fn referenced(text: &str) -> std::collections::BTreeSet<String> {
        text.match_indices("statuspage_")
            .map(|(at, _)| text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect())
            .collect()
    }

    #[test]
    fn the_alerts_and_the_dashboard_use_only_metrics_that_are_served() {
        let state = State {
            events: vec![],
            services: vec![],
            deliveries: vec![],
            queue_depth: 0,
            oldest_pending_seconds: 0,
            last_tick: 0,
            counters: vec![],
        };
        let served: std::collections::BTreeSet<String> = render(&state, ("v", "c"))
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .map(str::to_owned)
            .collect();
        for (file, text) in [
            ("deploy/monitoring/alerts.yaml", include_str!("../../../deploy/monitoring/alerts.yaml")),
            (
                "deploy/monitoring/grafana-dashboard.json",
                include_str!("../../../deploy/monitoring/grafana-dashboard.json"),
            ),
        ] {
            let unknown: Vec<String> = referenced(text).difference(&served).cloned().collect();
            assert!(unknown.is_empty(), "{file} uses metrics /metrics does not serve: {unknown:?}");
        }
    }

    #[test]
    fn the_exposition_is_prometheus_text() {
        let state = State {
            events: vec![Count { a: "incident".into(), b: "investigating".into(), n: 2 }],
            services: vec![Count { a: "major_outage".into(), b: String::new(), n: 1 }],
            deliveries: vec![],
            queue_depth: 3,
            oldest_pending_seconds: 42,
            last_tick: 1_700_000_000,
            counters: vec![Counter {
                name: "statuspage_http_requests_total".into(),
                labels: r#"component="events",route="/api/v1/events",status_class="2xx""#.into(),
                value: 7,
            }],
        };
        let text = render(&state, ("0.1.0", "abc\"def"));
        for line in [
            r#"statuspage_build_info{version="0.1.0",commit="abc\"def"} 1"#,
            "# TYPE statuspage_events gauge",
            r#"statuspage_events{type="incident",status="investigating"} 2"#,
            r#"statuspage_services{status="major_outage"} 1"#,
            "statuspage_notification_queue_depth 3",
            "statuspage_notification_oldest_pending_seconds 42",
            "# TYPE statuspage_http_requests_total counter",
            r#"statuspage_http_requests_total{component="events",route="/api/v1/events",status_class="2xx"} 7"#,
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(label("a\\b\nc"), "a\\\\b\\nc");
    }
}
