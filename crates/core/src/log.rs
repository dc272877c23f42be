//! JSON-line logs on stderr (Spin collects component stderr under `.spin/logs`).

use serde_json::{Value, json};

/// One access-log line: request id, component, method, route, status, duration.
#[derive(Debug)]
pub struct AccessLog<'a> {
    /// Component name.
    pub component: &'a str,
    /// Request id.
    pub request_id: &'a str,
    /// Method.
    pub method: &'a str,
    /// Route pattern matched (`/api/v1/services/:slug`), or the raw path when none matched.
    pub route: &'a str,
    /// Status answered.
    pub status: u16,
    /// Time spent in the component.
    pub duration: std::time::Duration,
    /// The full cause of a 5xx.
    pub error: Option<&'a str>,
}

impl AccessLog<'_> {
    /// Writes the line.
    pub fn emit(&self) {
        let level = if self.status >= 500 { "error" } else { "info" };
        let mut line = json!({
            "ts": now_rfc3339(),
            "level": level,
            "component": self.component,
            "request_id": self.request_id,
            "method": self.method,
            "route": self.route,
            "status": self.status,
            "duration_ms": (self.duration.as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
        });
        if let (Some(error), Value::Object(map)) = (self.error, &mut line) {
            map.insert("error".into(), error.into());
        }
        eprintln!("{line}");
    }
}

/// Writes one event line (`level`, `component`, `message`, extra fields).
pub fn event(level: &str, component: &str, message: &str, fields: Value) {
    let mut line = json!({ "ts": now_rfc3339(), "level": level, "component": component, "message": message });
    if let (Value::Object(map), Value::Object(extra)) = (&mut line, fields) {
        map.extend(extra);
    }
    eprintln!("{line}");
}

fn now_rfc3339() -> String {
    crate::time::format_rfc3339(time::OffsetDateTime::now_utc())
}
