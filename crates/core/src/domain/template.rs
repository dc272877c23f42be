//! Event templates: `{{placeholder}}` text over a fixed, documented set of names. Unknown names
//! are refused when a template is saved, not when it is used.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::EventType;

/// A template as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Id.
    pub id: Uuid,
    /// URL name, unique.
    pub slug: String,
    /// The event type it makes.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Title text with placeholders.
    pub title_template: String,
    /// Body text with placeholders.
    pub body_template: String,
    /// Created.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
    /// Last changed.
    #[serde(with = "crate::time::serde")]
    pub updated_at: OffsetDateTime,
}

/// Placeholders filled from the event itself.
pub const DERIVED: [(&str, &str); 8] = [
    ("service_names", "names of the affected services, comma-separated"),
    ("group_names", "names of the groups the event was declared with, comma-separated"),
    ("resolved_at", "when the event closed (RFC 3339), for events declared closed"),
    ("status", "the event's status"),
    ("severity", "the incident's severity"),
    ("started_at", "when the event started (RFC 3339)"),
    ("scheduled_start_at", "start of the maintenance window (RFC 3339)"),
    ("scheduled_end_at", "end of the maintenance window (RFC 3339)"),
];

/// Placeholders the caller fills through `variables`.
pub const SUPPLIED: [(&str, &str); 5] = [
    ("cause", "what went wrong"),
    ("impact", "what users notice"),
    ("workaround", "what users can do meanwhile"),
    ("eta", "when a fix or the next update is expected"),
    ("details", "anything else"),
];

/// The old service's placeholder names (`{{.ServiceName}}`), each an alias of one of ours.
pub const ALIASES: [(&str, &str); 6] = [
    (".ServiceName", "service_names"),
    (".ServiceGroupName", "group_names"),
    (".StartedAt", "started_at"),
    (".ResolvedAt", "resolved_at"),
    (".ScheduledStart", "scheduled_start_at"),
    (".ScheduledEnd", "scheduled_end_at"),
];

/// Our name for `name` (itself, or what its alias stands for).
#[must_use]
pub fn canonical(name: &str) -> &str {
    ALIASES.iter().find(|(alias, _)| *alias == name).map_or(name, |(_, ours)| ours)
}

/// Whether `name` (or the name it is an alias of) is in the fixed set.
#[must_use]
pub fn is_known(name: &str) -> bool {
    let name = canonical(name);
    DERIVED.iter().chain(SUPPLIED.iter()).any(|(known, _)| *known == name)
}

/// Whether `name` is supplied by the caller (rather than derived from the event).
#[must_use]
pub fn is_supplied(name: &str) -> bool {
    SUPPLIED.iter().any(|(known, _)| *known == name)
}

/// The placeholders of `text` in order of first appearance.
///
/// # Errors
/// An unclosed `{{`, or a name that is not in the fixed set.
pub fn placeholders(text: &str) -> Result<Vec<String>, String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("has an unclosed {{")?;
        let name = canonical(after[..end].trim());
        if !is_known(name) {
            let known: Vec<&str> = DERIVED.iter().chain(SUPPLIED.iter()).map(|(n, _)| *n).collect();
            return Err(format!("uses unknown placeholder {{{{{name}}}}}; known: {}", known.join(", ")));
        }
        if !found.iter().any(|f| f == name) {
            found.push(name.to_owned());
        }
        rest = &after[end + 2..];
    }
    Ok(found)
}

/// Renders `text` (already validated) with `values`; answers the text and the placeholders that
/// had no value (rendered as `[name]`).
#[must_use]
pub fn render(text: &str, values: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut missing = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = canonical(after[..end].trim());
        match values.get(name) {
            Some(value) => out.push_str(value),
            None => {
                out.push_str(&format!("[{name}]"));
                if !missing.iter().any(|m| m == name) {
                    missing.push(name.to_owned());
                }
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    (out, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_checked_against_the_fixed_set() {
        assert_eq!(
            placeholders("{{ service_names }} down: {{cause}}, {{cause}}"),
            Ok(vec!["service_names".into(), "cause".into()])
        );
        assert_eq!(placeholders("no placeholders"), Ok(vec![]));
        assert!(placeholders("{{ nope }}").is_err_and(|e| e.contains("{{nope}}") && e.contains("service_names")));
        assert!(placeholders("broken {{ cause").is_err());
    }

    #[test]
    fn the_old_services_placeholders_are_aliases() {
        assert_eq!(
            placeholders("{{.ServiceName}} since {{ .StartedAt }}"),
            Ok(vec!["service_names".into(), "started_at".into()])
        );
        let values = BTreeMap::from([("service_names".to_owned(), "API".to_owned())]);
        assert_eq!(render("{{.ServiceName}} / {{service_names}}", &values).0, "API / API");
        assert!(placeholders("{{.Nope}}").is_err());
    }

    #[test]
    fn rendering_fills_values_and_reports_gaps() {
        let values = BTreeMap::from([("service_names".to_owned(), "API, Web".to_owned())]);
        let (text, missing) = render("{{service_names}} degraded ({{ cause }}), {{cause}}", &values);
        assert_eq!(text, "API, Web degraded ([cause]), [cause]");
        assert_eq!(missing, ["cause"]);
    }
}
