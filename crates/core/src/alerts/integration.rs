//! An integration: how one monitoring system's alerts become incidents (which label names the
//! service, how severities map, the title), and how its deliveries prove where they come from.

use std::collections::BTreeMap;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;
use uuid::Uuid;

use super::payload::{Alert, Format};
use crate::domain::{ServiceStatus, Severity};

/// What an alert's severity label value means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityRule {
    /// The incident's severity.
    pub severity: Severity,
    /// The status the alert's service gets in it.
    pub status: ServiceStatus,
}

/// The severity map a new integration starts with: Prometheus's usual `critical`, `warning`
/// and `info`.
#[must_use]
pub fn default_severity_map() -> BTreeMap<String, SeverityRule> {
    BTreeMap::from([
        ("critical".to_owned(), SeverityRule { severity: Severity::Critical, status: ServiceStatus::MajorOutage }),
        ("warning".to_owned(), SeverityRule { severity: Severity::Major, status: ServiceStatus::PartialOutage }),
        ("info".to_owned(), SeverityRule { severity: Severity::Minor, status: ServiceStatus::Degraded }),
    ])
}

/// An integration as admins see it (its secret is shown once, when made or rotated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integration {
    /// Id.
    pub id: Uuid,
    /// A name (the actor in timelines and the audit log).
    pub name: String,
    /// Its part of the delivery URL.
    pub slug: String,
    /// Which sender's format it reads.
    pub kind: Format,
    /// `POST` deliveries here (`/api/v1/webhooks/<kind>/<slug>`).
    pub webhook_path: String,
    /// The label whose value is a service's slug.
    pub service_label: String,
    /// The service of alerts whose label names none.
    pub fallback_service_id: Option<Uuid>,
    /// The label whose value [`Integration::severity_map`] maps.
    pub severity_label: String,
    /// Label value → incident severity and service status.
    pub severity_map: BTreeMap<String, SeverityRule>,
    /// The severity of alerts whose label value the map does not name (the status follows it).
    pub default_severity: Severity,
    /// The incident's title: `{{label}}` or `{{annotation}}` of its first alert, `{{service}}`.
    pub title_template: String,
    /// Whether its incidents notify subscribers.
    pub notify_subscribers: bool,
    /// Whether it takes deliveries.
    pub enabled: bool,
    /// Created.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
    /// Last changed.
    #[serde(with = "crate::time::serde")]
    pub updated_at: OffsetDateTime,
}

impl Integration {
    /// The severity and service status `alert` means.
    #[must_use]
    pub fn rule_for(&self, alert: &Alert) -> SeverityRule {
        alert.labels.get(&self.severity_label).and_then(|v| self.severity_map.get(v)).copied().unwrap_or_else(|| {
            let severity = self.default_severity;
            let status = match severity {
                Severity::Minor => ServiceStatus::Degraded,
                Severity::Major => ServiceStatus::PartialOutage,
                Severity::Critical => ServiceStatus::MajorOutage,
            };
            SeverityRule { severity, status }
        })
    }

    /// The title of an incident `alert` opens on `service`.
    #[must_use]
    pub fn title_for(&self, alert: &Alert, service: &str) -> String {
        let mut out = String::new();
        let mut rest = self.title_template.as_str();
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find("}}") else { break };
            let name = rest[open + 2..open + close].trim();
            out.push_str(if name == "service" { service } else { alert.value(name).unwrap_or_default() });
            rest = &rest[open + close + 2..];
        }
        out.push_str(rest);
        let title = out.split_whitespace().collect::<Vec<_>>().join(" ");
        let title: String = title.chars().take(crate::domain::MAX_TITLE).collect();
        if title.is_empty() { format!("{} on {service}", alert.summary()) } else { title }
    }
}

/// Checks a title template: `{{name}}` placeholders of letters, digits, `_`, `.` and `-`,
/// closed, and no longer than a title.
///
/// # Errors
/// A message saying what is wrong.
pub fn check_title_template(template: &str) -> Result<(), String> {
    if template.trim().is_empty() || template.chars().count() > crate::domain::MAX_TITLE {
        return Err(format!("must be 1 to {} characters", crate::domain::MAX_TITLE));
    }
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else { return Err("has a {{ that is not closed".into()) };
        let name = rest[open + 2..open + close].trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
            return Err(format!("{{{{{name}}}}} is not a label name"));
        }
        rest = &rest[open + close + 2..];
    }
    Ok(())
}

/// How long a signed delivery's timestamp stays acceptable (either way), against replays.
pub const SIGNATURE_WINDOW_SECONDS: i64 = 300;

/// A delivery's signature headers, as sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Signature<'a> {
    /// `X-StatusPage-Signature: sha256=<hex>` over `<timestamp>.<body>`.
    pub ours: Option<&'a str>,
    /// `X-StatusPage-Timestamp` (Unix seconds).
    pub timestamp: Option<&'a str>,
    /// Grafana's `X-Grafana-Alerting-Signature: <hex>` over the body, or over
    /// `<timestamp>:<body>` with `X-Grafana-Alerting-Timestamp`.
    pub grafana: Option<&'a str>,
    /// `X-Grafana-Alerting-Timestamp`.
    pub grafana_timestamp: Option<&'a str>,
}

impl Signature<'_> {
    /// Whether the delivery carries a signature at all.
    #[must_use]
    pub fn present(&self) -> bool {
        self.ours.is_some() || self.grafana.is_some()
    }
}

fn hex(bytes: &str) -> Option<Vec<u8>> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    (0..bytes.len()).step_by(2).map(|i| u8::from_str_radix(bytes.get(i..i + 2)?, 16).ok()).collect()
}

fn fresh(timestamp: &str, now: OffsetDateTime) -> Result<(), String> {
    let at: i64 = timestamp.trim().parse().map_err(|_| "the signature timestamp is not Unix seconds".to_owned())?;
    if (now.unix_timestamp() - at).abs() > SIGNATURE_WINDOW_SECONDS {
        return Err(format!(
            "the signature timestamp is more than {SIGNATURE_WINDOW_SECONDS} s from now: a replay, or a clock that is off"
        ));
    }
    Ok(())
}

/// Checks `signature` over `body` with `secret` at `now`.
///
/// # Errors
/// Why it does not hold (no signature, a malformed or stale one, a wrong one).
pub fn verify(secret: &str, signature: &Signature<'_>, body: &[u8], now: OffsetDateTime) -> Result<(), String> {
    let mac = || <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).map_err(|e| e.to_string());
    let (mut mac, given) = if let Some(ours) = signature.ours {
        let timestamp = signature.timestamp.ok_or("X-StatusPage-Signature needs X-StatusPage-Timestamp")?;
        fresh(timestamp, now)?;
        let mut mac = mac()?;
        mac.update(format!("{}.", timestamp.trim()).as_bytes());
        (mac, ours.trim().strip_prefix("sha256=").ok_or("X-StatusPage-Signature must be sha256=<hex>")?)
    } else if let Some(grafana) = signature.grafana {
        let mut mac = mac()?;
        if let Some(timestamp) = signature.grafana_timestamp {
            fresh(timestamp, now)?;
            mac.update(format!("{}:", timestamp.trim()).as_bytes());
        }
        (mac, grafana.trim())
    } else {
        return Err("no signature: send X-StatusPage-Signature (or Grafana's X-Grafana-Alerting-Signature), or an API key with events:write".into());
    };
    mac.update(body);
    let given = hex(given).ok_or("the signature is not hex")?;
    mac.verify_slice(&given)
        .map_err(|_| "the signature does not match the body and this integration's secret".to_owned())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn sign(secret: &str, message: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(message);
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn signatures_hold_only_for_their_body_secret_and_time() {
        let now = datetime!(2026-12-05 12:00 UTC);
        let ts = now.unix_timestamp().to_string();
        let ours = format!("sha256={}", sign("s3cret", format!("{ts}.{{}}").as_bytes()));
        let good = Signature { ours: Some(&ours), timestamp: Some(&ts), ..Signature::default() };
        assert_eq!(verify("s3cret", &good, b"{}", now), Ok(()));
        assert!(verify("other", &good, b"{}", now).is_err());
        assert!(verify("s3cret", &good, b"{ }", now).is_err());
        assert!(verify("s3cret", &good, b"{}", now + time::Duration::minutes(6)).is_err_and(|e| e.contains("replay")));
        let untimed = Signature { ours: Some(&ours), ..Signature::default() };
        assert!(verify("s3cret", &untimed, b"{}", now).is_err());
        let grafana = sign("s3cret", b"{}");
        let plain = Signature { grafana: Some(&grafana), ..Signature::default() };
        assert_eq!(verify("s3cret", &plain, b"{}", now), Ok(()));
        let timed = sign("s3cret", format!("{ts}:{{}}").as_bytes());
        let timed = Signature { grafana: Some(&timed), grafana_timestamp: Some(&ts), ..Signature::default() };
        assert_eq!(verify("s3cret", &timed, b"{}", now), Ok(()));
        assert!(verify("s3cret", &Signature::default(), b"{}", now).is_err_and(|e| e.contains("no signature")));
    }

    #[test]
    fn titles_come_from_the_template_and_the_first_alert() {
        let alert = Alert {
            fingerprint: "f".into(),
            state: super::super::payload::AlertState::Firing,
            labels: BTreeMap::from([("alertname".into(), "HighLatency".into()), ("zone".into(), "eu-1".into())]),
            annotations: BTreeMap::from([("summary".into(), "p99 over 2s".into())]),
        };
        let mut integration = Integration {
            id: Uuid::nil(),
            name: "prom".into(),
            slug: "prom".into(),
            kind: Format::Alertmanager,
            webhook_path: String::new(),
            service_label: "service".into(),
            fallback_service_id: None,
            severity_label: "severity".into(),
            severity_map: default_severity_map(),
            default_severity: Severity::Major,
            title_template: "{{ alertname }} in {{zone}} ({{service}})".into(),
            notify_subscribers: true,
            enabled: true,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(integration.title_for(&alert, "API"), "HighLatency in eu-1 (API)");
        integration.title_template = "{{missing}}".into();
        assert_eq!(integration.title_for(&alert, "API"), "p99 over 2s on API", "an empty title falls back");
        assert_eq!(integration.rule_for(&alert).status, ServiceStatus::PartialOutage, "no severity label: the default");
        assert!(check_title_template("{{alertname}} {{ labels.zone }}").is_ok());
        assert!(check_title_template("{{alert name}}").is_err());
        assert!(check_title_template("{{alertname").is_err());
        assert!(check_title_template(" ").is_err());
    }
}
