//! SQL for the notification outbox (sending comes with the notifications feature).

use crate::db::{Db, DbError, Param};

/// Queues an e-mail in the caller's transaction.
///
/// # Errors
/// Database errors.
pub fn queue_email(db: &dyn Db, kind: &str, recipient: &str, payload: serde_json::Value) -> Result<(), DbError> {
    db.execute(
        "insert into notification_outbox (kind, channel, recipient, payload) values ($1, 'email', $2, $3)",
        &[kind.into(), recipient.into(), Param::Jsonb(payload)],
    )?;
    Ok(())
}
