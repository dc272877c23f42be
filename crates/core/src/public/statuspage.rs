//! The Statuspage-compatible public API (`/api/v2/*.json`): Atlassian Statuspage's public v2
//! format field for field, so its widgets, exporters and clients read this page unchanged.
//!
//! Mapping: a service is a component, a group a component group (`group: true`, `components`:
//! its members); services belong to many groups here and to one there, so a component's
//! `group_id` is its first group. Statuses: `degraded` → `degraded_performance`, `maintenance`
//! → `under_maintenance`. An incident's `impact` is its severity; maintenance's is
//! `maintenance`. Times are RFC 3339 UTC; the page's `time_zone` is `Etc/UTC`.

use serde_json::{Value, json};

use super::document::Document;
use super::model::{PublicEvent, PublicUpdate, Snapshot};
use super::site::Site;
use super::status_json::json_document;
use crate::domain::{ChangeKind, EventStatus, EventType, Group, Service, ServiceStatus};
use crate::time::format_rfc3339;

/// Every Statuspage document: `(path, document)`.
#[must_use]
pub fn documents(snapshot: &Snapshot, site: &Site) -> Vec<(&'static str, Document)> {
    let v2 = V2 { snapshot, site, page_id: site.page_id() };
    let page = v2.page();
    let status = v2.status();
    let components = v2.components();
    let incidents: Vec<&PublicEvent> = snapshot.recent(EventType::Incident).collect();
    let unresolved: Vec<&PublicEvent> =
        incidents.iter().copied().filter(|e| e.event.status != EventStatus::Resolved).collect();
    let maintenance: Vec<&PublicEvent> = snapshot.recent(EventType::Maintenance).collect();
    let upcoming = snapshot.upcoming();
    let active: Vec<&PublicEvent> =
        maintenance.iter().copied().filter(|e| e.event.status == EventStatus::InProgress).collect();
    let summary_maintenance: Vec<&PublicEvent> = upcoming.iter().chain(active.iter()).copied().collect();
    let list = |events: &[&PublicEvent]| -> Value { Value::Array(events.iter().map(|e| v2.incident(e)).collect()) };
    let docs = [
        (
            "/api/v2/summary.json",
            json!({ "page": page, "components": components, "incidents": list(&unresolved),
                    "scheduled_maintenances": list(&summary_maintenance), "status": status }),
        ),
        ("/api/v2/status.json", json!({ "page": page, "status": status })),
        ("/api/v2/components.json", json!({ "page": page, "components": components })),
        ("/api/v2/incidents.json", json!({ "page": page, "incidents": list(&incidents) })),
        ("/api/v2/incidents/unresolved.json", json!({ "page": page, "incidents": list(&unresolved) })),
        ("/api/v2/scheduled-maintenances.json", json!({ "page": page, "scheduled_maintenances": list(&maintenance) })),
        (
            "/api/v2/scheduled-maintenances/upcoming.json",
            json!({ "page": page, "scheduled_maintenances": list(&upcoming) }),
        ),
        (
            "/api/v2/scheduled-maintenances/active.json",
            json!({ "page": page, "scheduled_maintenances": list(&active) }),
        ),
    ];
    docs.into_iter().map(|(path, body)| (path, json_document(&body))).collect()
}

/// Statuspage's name of a status.
#[must_use]
pub fn component_status(status: ServiceStatus) -> &'static str {
    match status {
        ServiceStatus::Operational => "operational",
        ServiceStatus::Degraded => "degraded_performance",
        ServiceStatus::PartialOutage => "partial_outage",
        ServiceStatus::MajorOutage => "major_outage",
        ServiceStatus::Maintenance => "under_maintenance",
    }
}

struct V2<'a> {
    snapshot: &'a Snapshot,
    site: &'a Site,
    page_id: String,
}

impl V2<'_> {
    fn page(&self) -> Value {
        json!({
            "id": self.page_id,
            "name": self.site.title,
            "url": self.site.home(),
            "time_zone": "Etc/UTC",
            "updated_at": format_rfc3339(self.snapshot.updated_at()),
        })
    }

    fn status(&self) -> Value {
        let indicator = self.snapshot.indicator();
        json!({ "indicator": indicator.as_str(), "description": indicator.description() })
    }

    /// Groups, each followed by the services whose first group it is, then the services in no
    /// group; `position` counts through that order.
    fn components(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut position = 0;
        let mut next = || {
            position += 1;
            position
        };
        for group in &self.snapshot.groups {
            out.push(self.group(group, next()));
            for service in self.snapshot.services.iter().filter(|s| s.group_id == Some(group.id)) {
                out.push(self.component(service, next()));
            }
        }
        for service in self.snapshot.services.iter().filter(|s| s.group_id.is_none()) {
            out.push(self.component(service, next()));
        }
        out
    }

    fn component(&self, service: &Service, position: u32) -> Value {
        json!({
            "id": service.id,
            "name": service.name,
            "status": component_status(service.effective_status),
            "created_at": format_rfc3339(service.lifecycle.created_at),
            "updated_at": format_rfc3339(service.lifecycle.updated_at),
            "position": position,
            "description": (!service.description.is_empty()).then_some(&service.description),
            "showcase": true,
            "start_date": service.lifecycle.created_at.date().to_string(),
            "group_id": service.group_id,
            "page_id": self.page_id,
            "group": false,
            "only_show_if_degraded": false,
        })
    }

    fn group(&self, group: &Group, position: u32) -> Value {
        let worst = group
            .service_ids
            .iter()
            .filter_map(|id| self.snapshot.service(*id))
            .map(|s| s.effective_status)
            .max()
            .unwrap_or(ServiceStatus::Operational);
        json!({
            "id": group.id,
            "name": group.name,
            "status": component_status(worst),
            "created_at": format_rfc3339(group.lifecycle.created_at),
            "updated_at": format_rfc3339(group.lifecycle.updated_at),
            "position": position,
            "description": (!group.description.is_empty()).then_some(&group.description),
            "showcase": false,
            "start_date": Value::Null,
            "group_id": Value::Null,
            "page_id": self.page_id,
            "group": true,
            "only_show_if_degraded": false,
            "components": group.service_ids,
        })
    }

    fn incident(&self, public: &PublicEvent) -> Value {
        let e = &public.event;
        let components: Vec<Value> = e
            .affected_services
            .iter()
            .filter_map(|a| self.snapshot.service(a.service_id))
            .enumerate()
            .map(|(i, s)| self.component(s, u32::try_from(i + 1).unwrap_or(u32::MAX)))
            .collect();
        let impact = match (e.event_type, e.severity) {
            (EventType::Maintenance, _) => "maintenance",
            (EventType::Incident, Some(severity)) => severity.as_str(),
            (EventType::Incident, None) => "none",
        };
        let mut incident = json!({
            "id": e.id,
            "name": e.title,
            "status": e.status.as_str(),
            "created_at": format_rfc3339(e.created_at),
            "updated_at": format_rfc3339(e.updated_at),
            "monitoring_at": e.monitoring_at.map(format_rfc3339),
            "resolved_at": e.resolved_at.map(format_rfc3339),
            "impact": impact,
            "shortlink": self.site.url(&format!("/incidents/{}", e.id)),
            "started_at": format_rfc3339(public.happened_at()),
            "page_id": self.page_id,
            "incident_updates": public.updates.iter().map(|u| self.update(u)).collect::<Vec<_>>(),
            "components": components,
        });
        if e.event_type == EventType::Maintenance {
            let extra = json!({
                "scheduled_for": e.scheduled_start_at.map(format_rfc3339),
                "scheduled_until": e.scheduled_end_at.map(format_rfc3339),
                "scheduled_remind_prior": e.remind_before_minutes.is_some(),
                "scheduled_reminded_at": e.reminded_at.map(format_rfc3339),
                "scheduled_auto_in_progress": e.auto_start,
                "scheduled_auto_completed": e.auto_complete,
            });
            if let (Some(target), Value::Object(extra)) = (incident.as_object_mut(), extra) {
                target.extend(extra);
            }
        }
        incident
    }

    fn update(&self, public: &PublicUpdate) -> Value {
        let u = &public.update;
        let affected: Vec<Value> = public
            .changes
            .iter()
            .map(|c| {
                let (old, new) = match c.kind {
                    ChangeKind::Removed => (c.from, Some(ServiceStatus::Operational)),
                    ChangeKind::Added | ChangeKind::StatusChanged => {
                        (c.from.or(Some(ServiceStatus::Operational)), c.to)
                    }
                };
                json!({
                    "code": c.service_id,
                    "name": c.name,
                    "old_status": old.map(component_status),
                    "new_status": new.map(component_status),
                })
            })
            .collect();
        json!({
            "id": u.id,
            "status": u.status.as_str(),
            "body": u.message,
            "incident_id": u.event_id,
            "created_at": format_rfc3339(u.created_at),
            "updated_at": format_rfc3339(u.created_at),
            "display_at": format_rfc3339(u.created_at),
            "affected_components": (!affected.is_empty()).then_some(affected),
            "deliver_notifications": u.notify_subscribers,
            "custom_tweet": Value::Null,
            "tweet_id": Value::Null,
        })
    }
}
