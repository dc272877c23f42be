//! Services of the catalog (SPEC §4).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A service's status, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    /// Working normally.
    Operational,
    /// Under planned maintenance.
    Maintenance,
    /// Slower or less reliable than usual.
    Degraded,
    /// Failing for some users.
    PartialOutage,
    /// Failing for everyone.
    MajorOutage,
}

impl ServiceStatus {
    /// Every status, in the order of the API documentation.
    pub const ALL: [Self; 5] =
        [Self::Operational, Self::Degraded, Self::PartialOutage, Self::MajorOutage, Self::Maintenance];

    /// The wire name (`partial_outage`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operational => "operational",
            Self::Maintenance => "maintenance",
            Self::Degraded => "degraded",
            Self::PartialOutage => "partial_outage",
            Self::MajorOutage => "major_outage",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// A message listing the accepted values.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|s| s.as_str()).collect();
            format!("must be one of {}", names.join(", "))
        })
    }
}

/// A service as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// URL name, unique.
    pub slug: String,
    /// Free text.
    pub description: String,
    /// The status an admin set.
    pub status: ServiceStatus,
    /// The status the public sees: the worst of its active events, else `status`.
    pub effective_status: ServiceStatus,
    /// Whether an active event affects it.
    pub has_active_events: bool,
    /// Groups it belongs to.
    pub group_ids: Vec<Uuid>,
    /// Sort key (then name).
    pub order: i32,
    /// Free-form labels.
    pub tags: std::collections::BTreeMap<String, String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
    /// RFC 3339 UTC when archived.
    pub archived_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_unknown_ones_are_explained() {
        for status in ServiceStatus::ALL {
            assert_eq!(ServiceStatus::parse(status.as_str()), Ok(status));
            assert_eq!(serde_json::to_value(status).ok(), Some(serde_json::json!(status.as_str())));
        }
        let message = ServiceStatus::parse("broken").expect_err("unknown status");
        assert!(message.contains("partial_outage"), "{message}");
    }

    #[test]
    fn severity_order_puts_major_outage_worst_and_maintenance_least() {
        use ServiceStatus::*;
        assert!(MajorOutage > PartialOutage && PartialOutage > Degraded && Degraded > Maintenance);
        assert!(Maintenance > Operational);
    }
}
