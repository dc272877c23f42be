//! SQL for reading the audit log (writing is `crate::audit::record`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{Db, DbError, DbExt, Param};
use crate::http::Page;

/// Filters of `GET /audit-log`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Who.
    pub actor_id: Option<Uuid>,
    /// `user.create`...
    pub action: Option<String>,
    /// `user`, `service`...
    pub entity_type: Option<String>,
    /// The entity's id.
    pub entity_id: Option<String>,
    /// From (RFC 3339, inclusive).
    pub from: Option<String>,
    /// To (RFC 3339, exclusive).
    pub to: Option<String>,
}

/// One audit row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Sequence number.
    pub id: i64,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// `{type, id, label}`.
    pub actor: serde_json::Value,
    /// What.
    pub action: String,
    /// Of what type.
    pub entity_type: String,
    /// Which.
    pub entity_id: Option<String>,
    /// State before.
    pub before: Option<serde_json::Value>,
    /// State after.
    pub after: Option<serde_json::Value>,
    /// Request id.
    pub request_id: String,
    /// Client address.
    pub ip: Option<String>,
}

/// A page of entries and the total.
#[derive(Debug, Deserialize)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditEntry>,
    /// In all pages.
    pub total: u64,
}

/// Lists entries, newest first.
///
/// # Errors
/// Database errors.
pub fn list_entries(db: &dyn Db, filter: &AuditFilter, page: Page) -> Result<AuditPage, DbError> {
    db.query_as(
        "with matching as (
             select * from audit_log
             where ($1::uuid is null or actor_id = $1::uuid) and ($2::text is null or action = $2::text)
               and ($3::text is null or entity_type = $3::text) and ($4::text is null or entity_id = $4::text)
               and ($5::text is null or created_at >= $5::text::timestamptz)
               and ($6::text is null or created_at < $6::text::timestamptz))
         select jsonb_build_object(
             'total', (select count(*) from matching),
             'items', coalesce((select jsonb_agg(jsonb_build_object(
                 'id', a.id, 'created_at', rfc3339(a.created_at),
                 'actor', jsonb_build_object('type', a.actor_type, 'id', a.actor_id, 'label', a.actor_label),
                 'action', a.action, 'entity_type', a.entity_type, 'entity_id', a.entity_id,
                 'before', a.before, 'after', a.after, 'request_id', a.request_id, 'ip', a.ip)
                 order by a.created_at desc, a.id desc)
                 from (select * from matching order by created_at desc, id desc limit $7 offset $8) a), '[]'::jsonb))",
        &[
            filter.actor_id.into(),
            filter.action.clone().into(),
            filter.entity_type.clone().into(),
            filter.entity_id.clone().into(),
            filter.from.clone().into(),
            filter.to.clone().into(),
            Param::Int64(page.limit()),
            Param::Int64(page.offset()),
        ],
    )
}
