//! SQL for the many-to-many memberships of services and groups, from either side.

use uuid::Uuid;

use crate::db::{Db, DbError, DbExt};

/// A side of the membership table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Services (rows of `services`).
    Services,
    /// Groups (rows of `groups`).
    Groups,
}

impl Side {
    /// `(table, this side's column, the other side's column)`.
    const fn columns(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Services => ("services", "service_id", "group_id"),
            Self::Groups => ("groups", "group_id", "service_id"),
        }
    }
}

/// Replaces the members of `id` (on `side`) with `others` (on the other side).
///
/// # Errors
/// Database errors.
pub fn replace(db: &dyn Db, side: Side, id: Uuid, others: &[Uuid]) -> Result<(), DbError> {
    let (_, this, other) = side.columns();
    db.execute(&format!("delete from service_groups where {this} = $1"), &[id.into()])?;
    db.execute(
        &format!(
            "insert into service_groups ({this}, {other}) select $1, o::uuid from unnest($2::text[]) o
             on conflict do nothing"
        ),
        &[id.into(), others.into()],
    )?;
    Ok(())
}

/// Of `ids` (on `side`), those that are not live: unknown or archived.
///
/// # Errors
/// Database errors.
pub fn missing(db: &dyn Db, side: Side, ids: &[Uuid]) -> Result<Vec<Uuid>, DbError> {
    let (table, _, _) = side.columns();
    db.query_as(
        &format!(
            "select coalesce(jsonb_agg(i), '[]') from unnest($1::text[]) i
             where not exists (select 1 from {table} where id = i::uuid and archived_at is null)"
        ),
        &[ids.into()],
    )
}
