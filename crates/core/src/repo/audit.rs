//! SQL for the audit log.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{Entry, Origin};
use crate::db::{Db, DbError, Param, Window};
use crate::repo::{Listed, list_page};

/// Writes one audit row, dated `origin.at`.
///
/// # Errors
/// Database errors.
pub fn insert_entry(db: &dyn Db, origin: &Origin, entry: &Entry) -> Result<(), DbError> {
    let json = |v: &Option<serde_json::Value>| v.clone().map_or(Param::Null, Param::Jsonb);
    db.execute(
        "insert into audit_log (actor_type, actor_id, actor_label, action, entity_type, entity_id,
                                before, after, request_id, ip, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::timestamptz)",
        &[
            origin.actor.kind().into(),
            origin.actor.id().into(),
            origin.actor.label().into(),
            entry.action.into(),
            entry.entity_type.into(),
            entry.entity_id.clone().into(),
            json(&entry.before),
            json(&entry.after),
            origin.request_id.clone().into(),
            origin.ip.clone().into(),
            origin.at.into(),
        ],
    )?;
    Ok(())
}

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
    /// From (inclusive).
    pub from: Option<OffsetDateTime>,
    /// To (exclusive).
    pub to: Option<OffsetDateTime>,
}

/// One audit row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Sequence number.
    pub id: i64,
    /// When.
    #[serde(with = "crate::time::serde")]
    pub created_at: OffsetDateTime,
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

/// Lists entries, newest first.
///
/// # Errors
/// Database errors.
pub fn list_entries(db: &dyn Db, filter: &AuditFilter, window: Window) -> Result<Listed<AuditEntry>, DbError> {
    let matching = "select * from audit_log a
                    where ($1::uuid is null or actor_id = $1::uuid) and ($2::text is null or action = $2::text)
                      and ($3::text is null or entity_type = $3::text) and ($4::text is null or entity_id = $4::text)
                      and ($5::text is null or created_at >= $5::text::timestamptz)
                      and ($6::text is null or created_at < $6::text::timestamptz)";
    let shape = "jsonb_build_object(
                     'id', a.id, 'created_at', rfc3339(a.created_at),
                     'actor', jsonb_build_object('type', a.actor_type, 'id', a.actor_id, 'label', a.actor_label),
                     'action', a.action, 'entity_type', a.entity_type, 'entity_id', a.entity_id,
                     'before', a.before, 'after', a.after, 'request_id', a.request_id, 'ip', a.ip)";
    let params = vec![
        filter.actor_id.into(),
        filter.action.clone().into(),
        filter.entity_type.clone().into(),
        filter.entity_id.clone().into(),
        filter.from.into(),
        filter.to.into(),
    ];
    list_page(db, (matching, shape, "a", "created_at desc, id desc"), params, window)
}
