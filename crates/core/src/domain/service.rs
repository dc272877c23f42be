//! Services of the catalog.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Lifecycle;

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
    /// The old service's single group: the first of `group_ids`, or `null`.
    pub group_id: Option<Uuid>,
    /// Sort key (then name).
    pub order: i32,
    /// Free-form labels.
    pub tags: Tags,
    /// Created, changed, archived.
    #[serde(flatten)]
    pub lifecycle: Lifecycle,
}

/// A service's labels: at most 50, names of 1 to 64 characters, values of at most 256.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tags(std::collections::BTreeMap<String, String>);

impl Tags {
    /// Most tags.
    pub const MAX: usize = 50;
    /// Longest name.
    pub const MAX_NAME: usize = 64;
    /// Longest value.
    pub const MAX_VALUE: usize = 256;

    /// Checks a map of labels.
    ///
    /// # Errors
    /// The bound it breaks.
    pub fn parse(map: std::collections::BTreeMap<String, String>) -> Result<Self, String> {
        if map.len() > Self::MAX {
            return Err(format!("at most {} tags", Self::MAX));
        }
        for (key, value) in &map {
            if key.is_empty() || key.chars().count() > Self::MAX_NAME {
                return Err(format!("tag names must be 1 to {} characters", Self::MAX_NAME));
            }
            if value.chars().count() > Self::MAX_VALUE {
                return Err(format!("tag values must be at most {} characters", Self::MAX_VALUE));
            }
        }
        Ok(Self(map))
    }

    /// The labels.
    #[must_use]
    pub fn as_map(&self) -> &std::collections::BTreeMap<String, String> {
        &self.0
    }
}

/// What changed a service's stored or effective status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusSource {
    /// An admin, through the catalog.
    Manual,
    /// An incident or maintenance (the effective status).
    Event,
    /// An incoming monitoring webhook.
    Webhook,
    /// The scheduler (maintenance automation).
    Scheduler,
}

impl StatusSource {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Event => "event",
            Self::Webhook => "webhook",
            Self::Scheduler => "scheduler",
        }
    }
}

/// One entry of a service's status log (the uptime history is built from these). It carries
/// the old service's field names beside ours (`old_status`, `new_status`, `source_type`,
/// `created_by`), filled by the same SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusLogEntry {
    /// Sequence number.
    pub id: i64,
    /// The service.
    pub service_id: Uuid,
    /// Before (none for the first entry).
    pub from_status: Option<ServiceStatus>,
    /// After.
    pub to_status: ServiceStatus,
    /// What changed it.
    pub source: StatusSource,
    /// The event that changed it, for `event` changes.
    pub event_id: Option<Uuid>,
    /// Why.
    pub reason: String,
    /// Who, for manual changes.
    pub actor_id: Option<Uuid>,
    /// `from_status` by its old name (absent on the first entry, as the old service sent it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_status: Option<ServiceStatus>,
    /// `to_status` by its old name.
    pub new_status: ServiceStatus,
    /// `source` by its old name.
    pub source_type: StatusSource,
    /// `actor_id` by its old name.
    pub created_by: Option<Uuid>,
    /// When.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
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
    fn tags_are_bounded() {
        let map = |pairs: Vec<(String, String)>| pairs.into_iter().collect::<std::collections::BTreeMap<_, _>>();
        assert!(Tags::parse(map((0..51).map(|i| (format!("k{i}"), "v".into())).collect())).is_err());
        assert!(Tags::parse(map(vec![(String::new(), "v".into())])).is_err());
        assert!(Tags::parse(map(vec![("k".into(), "v".repeat(257))])).is_err());
        assert!(Tags::parse(map(vec![("tier".into(), "1".into())])).is_ok());
    }

    #[test]
    fn severity_order_puts_major_outage_worst_and_maintenance_least() {
        use ServiceStatus::*;
        assert!(MajorOutage > PartialOutage && PartialOutage > Degraded && Degraded > Maintenance);
        assert!(Maintenance > Operational);
    }
}
