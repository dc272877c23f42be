//! Incidents and maintenance (SPEC §5): types, statuses, severities.

use serde::{Deserialize, Serialize};

/// What kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// Something broke.
    Incident,
    /// Planned work.
    Maintenance,
}

impl EventType {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incident => "incident",
            Self::Maintenance => "maintenance",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// A message listing the types.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "incident" => Ok(Self::Incident),
            "maintenance" => Ok(Self::Maintenance),
            _ => Err("must be incident or maintenance".into()),
        }
    }

    /// Its statuses, in lifecycle order.
    #[must_use]
    pub fn statuses(self) -> &'static [EventStatus] {
        use EventStatus::*;
        match self {
            Self::Incident => &[Investigating, Identified, Monitoring, Resolved],
            Self::Maintenance => &[Scheduled, InProgress, Completed],
        }
    }
}

/// An event's status; each belongs to one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Incident: looking into it.
    Investigating,
    /// Incident: cause known.
    Identified,
    /// Incident: fixed, watching.
    Monitoring,
    /// Incident: over (terminal).
    Resolved,
    /// Maintenance: planned.
    Scheduled,
    /// Maintenance: under way.
    InProgress,
    /// Maintenance: done (terminal).
    Completed,
}

impl EventStatus {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Investigating => "investigating",
            Self::Identified => "identified",
            Self::Monitoring => "monitoring",
            Self::Resolved => "resolved",
            Self::Scheduled => "scheduled",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
        }
    }

    /// Parses a status of `event_type`.
    ///
    /// # Errors
    /// A message naming the statuses of that type.
    pub fn parse(raw: &str, event_type: EventType) -> Result<Self, String> {
        let allowed = event_type.statuses();
        allowed.iter().copied().find(|s| s.as_str() == raw).ok_or_else(|| {
            let names: Vec<_> = allowed.iter().map(|s| s.as_str()).collect();
            format!("must be a status of an {}: {}", event_type.as_str(), names.join(", "))
        })
    }

    /// Whether nothing may follow it.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Resolved | Self::Completed)
    }
}

/// How bad an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Few users, small impact.
    Minor,
    /// Many users or a key feature.
    Major,
    /// Everyone, everything.
    Critical,
}

impl Severity {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// A message listing the severities.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "minor" => Ok(Self::Minor),
            "major" => Ok(Self::Major),
            "critical" => Ok(Self::Critical),
            _ => Err("must be minor, major or critical".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_belong_to_one_type_and_the_last_is_terminal() {
        for event_type in [EventType::Incident, EventType::Maintenance] {
            let statuses = event_type.statuses();
            for (i, status) in statuses.iter().enumerate() {
                assert_eq!(EventStatus::parse(status.as_str(), event_type), Ok(*status));
                assert_eq!(status.is_terminal(), i == statuses.len() - 1, "{status:?}");
            }
        }
        assert!(EventStatus::parse("in_progress", EventType::Incident).is_err());
        let message = EventStatus::parse("resolved", EventType::Maintenance).expect_err("not a maintenance status");
        assert!(message.contains("scheduled, in_progress, completed"), "{message}");
    }
}
