//! What monitoring systems post, read into one shape ([`Alert`]): Prometheus Alertmanager's
//! webhook payload (version 4), Grafana alerting's webhook contact point payload, and our
//! generic format (`api/openapi.yaml`, `GenericAlerts`).

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest as _, Sha256};

/// Whether an alert fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    /// It fires.
    Firing,
    /// It stopped.
    Resolved,
}

impl AlertState {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Resolved => "resolved",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "firing" => Some(Self::Firing),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

/// One alert, whatever sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Identifies the alert across deliveries (the sender's, or a digest of its labels).
    pub fingerprint: String,
    /// Firing or resolved.
    pub state: AlertState,
    /// Its labels (`alertname`, `service`, `severity`, ...).
    pub labels: BTreeMap<String, String>,
    /// Its annotations (`summary`, `description`, ...).
    pub annotations: BTreeMap<String, String>,
}

impl Alert {
    /// A label or annotation (labels first).
    #[must_use]
    pub fn value(&self, name: &str) -> Option<&str> {
        self.labels.get(name).or_else(|| self.annotations.get(name)).map(String::as_str)
    }

    /// What it says, for the timeline: its summary, else its description, else its name.
    #[must_use]
    pub fn summary(&self) -> String {
        ["summary", "description", "message"]
            .iter()
            .find_map(|k| self.annotations.get(*k).filter(|v| !v.trim().is_empty()))
            .cloned()
            .unwrap_or_else(|| self.labels.get("alertname").cloned().unwrap_or_else(|| "An alert".to_owned()))
    }
}

/// The senders we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Prometheus Alertmanager, webhook payload version 4.
    Alertmanager,
    /// Grafana alerting's webhook contact point.
    Grafana,
    /// Ours.
    Generic,
}

impl Format {
    /// The wire name (also the path segment of its route).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alertmanager => "alertmanager",
            Self::Grafana => "grafana",
            Self::Generic => "generic",
        }
    }

    /// Reads a wire name.
    ///
    /// # Errors
    /// A message listing the formats.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "alertmanager" => Ok(Self::Alertmanager),
            "grafana" => Ok(Self::Grafana),
            "generic" => Ok(Self::Generic),
            _ => Err("must be alertmanager, grafana or generic".into()),
        }
    }
}

/// The most alerts one delivery may carry.
pub const MAX_ALERTS: usize = 500;

/// An Alertmanager or Grafana alert. Fields the senders add that we do not know are ignored
/// (they add some with each release); the ones we document are type-checked even where we do
/// not use them (`_`), so a malformed payload is refused rather than half read.
#[derive(Debug, Deserialize)]
struct SenderAlert {
    status: String,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    fingerprint: Option<String>,
    #[serde(default, rename = "startsAt")]
    _starts_at: Option<String>,
    #[serde(default, rename = "endsAt")]
    _ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    _generator_url: Option<String>,
}

/// An Alertmanager (version 4) or Grafana payload: the fields of both, checked as
/// [`SenderAlert`]'s are.
#[derive(Debug, Deserialize)]
struct SenderPayload {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    status: Option<String>,
    alerts: Vec<SenderAlert>,
    #[serde(default, rename = "groupKey")]
    _group_key: Option<String>,
    #[serde(default, rename = "truncatedAlerts")]
    _truncated_alerts: Option<u64>,
    #[serde(default, rename = "receiver")]
    _receiver: Option<String>,
    #[serde(default, rename = "groupLabels")]
    _group_labels: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "commonLabels")]
    _common_labels: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "commonAnnotations")]
    _common_annotations: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "externalURL")]
    _external_url: Option<String>,
    #[serde(default, rename = "orgId")]
    _org_id: Option<i64>,
    #[serde(default, rename = "title")]
    _title: Option<String>,
    #[serde(default, rename = "state")]
    _state: Option<String>,
    #[serde(default, rename = "message")]
    _message: Option<String>,
}

/// Our generic format's alert.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericAlert {
    fingerprint: String,
    status: String,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericPayload {
    alerts: Vec<GenericAlert>,
}

/// A stable fingerprint from an alert's labels, for senders that send none.
fn digest(labels: &BTreeMap<String, String>) -> String {
    let joined: String = labels.iter().map(|(k, v)| format!("{k}={v}\u{1f}")).collect();
    Sha256::digest(joined).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Reads `body` as `format`.
///
/// # Errors
/// A message naming what is wrong (not JSON, not the format, an unknown state, too many
/// alerts), for a 400.
pub fn parse(format: Format, body: &[u8]) -> Result<Vec<Alert>, String> {
    let alerts = match format {
        Format::Alertmanager | Format::Grafana => {
            let payload: SenderPayload = serde_json::from_slice(body)
                .map_err(|e| format!("this is not a {} webhook payload: {e}", format.as_str()))?;
            if format == Format::Alertmanager && payload.version.as_deref().is_some_and(|v| v != "4") {
                return Err(format!(
                    "Alertmanager webhook payload version {} is not supported (version 4 is)",
                    payload.version.unwrap_or_default()
                ));
            }
            if let Some(status) = payload.status.as_deref().filter(|s| AlertState::parse(s).is_none()) {
                return Err(format!("status must be firing or resolved, not {status:?}"));
            }
            payload
                .alerts
                .into_iter()
                .enumerate()
                .map(|(i, a)| {
                    let state = AlertState::parse(&a.status)
                        .ok_or_else(|| format!("alerts[{i}].status must be firing or resolved, not {:?}", a.status))?;
                    let fingerprint = a.fingerprint.filter(|f| !f.trim().is_empty());
                    let labels = a.labels.unwrap_or_default();
                    let fingerprint = fingerprint.unwrap_or_else(|| digest(&labels));
                    Ok(Alert { fingerprint, state, labels, annotations: a.annotations.unwrap_or_default() })
                })
                .collect::<Result<Vec<_>, String>>()?
        }
        Format::Generic => {
            let payload: GenericPayload =
                serde_json::from_slice(body).map_err(|e| format!("this is not the generic alert format: {e}"))?;
            payload
                .alerts
                .into_iter()
                .enumerate()
                .map(|(i, a)| {
                    let state = AlertState::parse(&a.status)
                        .ok_or_else(|| format!("alerts[{i}].status must be firing or resolved, not {:?}", a.status))?;
                    if a.fingerprint.trim().is_empty() || a.fingerprint.len() > 200 {
                        return Err(format!("alerts[{i}].fingerprint must be 1 to 200 characters"));
                    }
                    let mut labels = a.labels;
                    let mut annotations = BTreeMap::new();
                    if let Some(service) = a.service {
                        labels.insert("service".into(), service);
                    }
                    if let Some(severity) = a.severity {
                        labels.insert("severity".into(), severity);
                    }
                    if let Some(title) = a.title {
                        labels.entry("alertname".into()).or_insert(title);
                    }
                    if let Some(message) = a.message {
                        annotations.insert("summary".into(), message);
                    }
                    Ok(Alert { fingerprint: a.fingerprint, state, labels, annotations })
                })
                .collect::<Result<Vec<_>, String>>()?
        }
    };
    if alerts.is_empty() {
        return Err("the payload has no alerts".into());
    }
    if alerts.len() > MAX_ALERTS {
        return Err(format!("at most {MAX_ALERTS} alerts a delivery; this one has {}", alerts.len()));
    }
    Ok(alerts)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn alertmanager_version_4_reads_with_fingerprints_and_states() {
        let body = json!({
            "version": "4", "groupKey": "{}:{alertname=\"HighLatency\"}", "truncatedAlerts": 0, "status": "firing",
            "receiver": "statuspage", "groupLabels": {"alertname": "HighLatency"},
            "commonLabels": {"alertname": "HighLatency"}, "commonAnnotations": {}, "externalURL": "http://am:9093",
            "alerts": [
                {"status": "firing", "labels": {"alertname": "HighLatency", "service": "api", "severity": "critical"},
                 "annotations": {"summary": "p99 over 2s"}, "startsAt": "2026-12-05T10:00:00Z",
                 "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph", "fingerprint": "a1b2c3"},
                {"status": "resolved", "labels": {"alertname": "HighLatency", "service": "web"},
                 "annotations": {}, "startsAt": "2026-12-05T09:00:00Z", "endsAt": "2026-12-05T09:30:00Z",
                 "generatorURL": "", "fingerprint": "d4e5f6"}
            ]
        });
        let alerts = parse(Format::Alertmanager, body.to_string().as_bytes()).expect("reads");
        assert_eq!(alerts.len(), 2);
        assert_eq!((alerts[0].fingerprint.as_str(), alerts[0].state), ("a1b2c3", AlertState::Firing));
        assert_eq!(alerts[0].value("service"), Some("api"));
        assert_eq!(alerts[0].summary(), "p99 over 2s");
        assert_eq!((alerts[1].state, alerts[1].summary()), (AlertState::Resolved, "HighLatency".to_owned()));
        let old = json!({"version": "3", "alerts": []});
        assert!(parse(Format::Alertmanager, old.to_string().as_bytes()).is_err_and(|e| e.contains("version 3")));
    }

    #[test]
    fn bad_payloads_are_refused_with_a_reason() {
        let cases: [(Format, &str, &str); 10] = [
            (Format::Alertmanager, "not json", "not a alertmanager webhook payload"),
            (Format::Grafana, r#"{"alerts": "x"}"#, "not a grafana webhook payload"),
            (Format::Alertmanager, r#"{"version": "4", "alerts": []}"#, "no alerts"),
            (Format::Grafana, r#"{"alerts": [{"status": "pending"}]}"#, "alerts[0].status"),
            // The documented fields are checked even where we do not use them (found by the
            // fuzzer: a numeric `status` and `message` were read as if absent).
            (Format::Alertmanager, r#"{"status": 5, "alerts": [{"status": "firing"}]}"#, "invalid type: integer"),
            (Format::Alertmanager, r#"{"status": "pending", "alerts": [{"status": "firing"}]}"#, "status must be"),
            (Format::Grafana, r#"{"message": 1, "alerts": [{"status": "firing"}]}"#, "invalid type: integer"),
            (Format::Grafana, r#"{"alerts": [{"status": "firing", "endsAt": false}]}"#, "invalid type: boolean"),
            (Format::Generic, r#"{"alerts": [{"fingerprint": "", "status": "firing"}]}"#, "alerts[0].fingerprint"),
            (
                Format::Generic,
                r#"{"alerts": [{"fingerprint": "x", "status": "firing", "colour": 1}]}"#,
                "unknown field",
            ),
        ];
        for (format, body, expected) in cases {
            let error = parse(format, body.as_bytes()).expect_err(body);
            assert!(error.contains(expected), "{body}: {error}");
        }
    }

    #[test]
    fn fields_we_do_not_know_are_ignored_and_null_is_absent() {
        let body = r#"{"orgId": 1, "state": "alerting", "newField": {"x": 1}, "commonLabels": null,
            "alerts": [{"status": "firing", "labels": null, "values": {"A": 1}, "silenceURL": "x"}]}"#;
        let alerts = parse(Format::Grafana, body.as_bytes()).expect("reads");
        assert!(alerts[0].labels.is_empty());
        assert_eq!(alerts[0].state, AlertState::Firing);
    }

    #[test]
    fn senders_without_fingerprints_get_one_from_their_labels() {
        let one = r#"{"alerts": [{"status": "firing", "labels": {"a": "1", "b": "2"}}]}"#;
        let same = r#"{"alerts": [{"status": "resolved", "labels": {"b": "2", "a": "1"}}]}"#;
        let other = r#"{"alerts": [{"status": "firing", "labels": {"a": "1"}}]}"#;
        let f = |b: &str| parse(Format::Grafana, b.as_bytes()).expect("reads")[0].fingerprint.clone();
        assert_eq!(f(one), f(same));
        assert_ne!(f(one), f(other));
    }
}
