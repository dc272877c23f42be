//! SQL for the notification outbox (sending comes with the notifications feature).

use time::OffsetDateTime;

use crate::db::{Db, DbError, Param};

/// Queues an e-mail at `at`, in the caller's transaction.
///
/// # Errors
/// Database errors.
pub fn queue_email(
    db: &dyn Db,
    kind: &str,
    recipient: &str,
    payload: serde_json::Value,
    at: OffsetDateTime,
) -> Result<(), DbError> {
    db.execute(
        "insert into notification_outbox (kind, channel, recipient, payload, created_at)
         values ($1, 'email', $2, $3, $4::text::timestamptz)",
        &[kind.into(), recipient.into(), Param::Jsonb(payload), at.into()],
    )?;
    Ok(())
}
