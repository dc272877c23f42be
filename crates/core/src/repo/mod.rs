//! Repositories: every SQL statement of the product, one function each. Reads return typed rows
//! (deserialised here from the one-row `jsonb` they are built as); times go in as parameters.

pub mod api_keys;
pub mod audit;
pub mod channels;
pub mod events;
pub mod groups;
pub mod housekeeping;
pub mod integrations;
pub mod memberships;
pub mod metrics;
pub mod outbox;
pub mod principals;
pub mod public;
pub mod rate_limits;
pub mod scheduler;
pub mod services;
pub mod sessions;
pub mod sso;
pub mod templates;
pub mod users;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::db::{Db, DbError, DbExt, Param, Window};

/// A page of rows and the total over all pages.
#[derive(Debug, Deserialize)]
pub struct Listed<T> {
    /// This page.
    pub items: Vec<T>,
    /// Matching rows in all pages.
    pub total: u64,
}

/// One page of a list and its total, in one statement: the rows `matching` selects (a
/// `select ... from <table> <alias> where ...` using `params`), shaped by `shape` (SQL over
/// `alias`), ordered by `order` (columns of the table), `window` of them. `matching`, `shape` and
/// `order` are the caller's fixed SQL text; values only ever go in as parameters.
///
/// # Errors
/// Database errors; [`DbError::Shape`] when the rows do not fit `T`.
pub(crate) fn list_page<T: DeserializeOwned>(
    db: &dyn Db,
    (matching, shape, alias, order): (&str, &str, &str, &str),
    mut params: Vec<Param>,
    window: Window,
) -> Result<Listed<T>, DbError> {
    let (limit, offset) = (params.len() + 1, params.len() + 2);
    let outer_order: Vec<String> = order.split(',').map(|column| format!("{alias}.{}", column.trim())).collect();
    let sql = format!(
        "with matching as ({matching})
         select jsonb_build_object(
             'total', (select count(*) from matching),
             'items', coalesce((select jsonb_agg({shape} order by {outer})
                                from (select * from matching order by {order} limit ${limit} offset ${offset}) {alias}),
                               '[]'::jsonb))",
        outer = outer_order.join(", ")
    );
    params.extend([window.limit(), window.offset()]);
    db.query_as(&sql, &params)
}

/// Every unique constraint a call site maps to a client error (a test checks each exists).
pub const MAPPED_CONSTRAINTS: &[&str] = &[
    services::SLUG_KEY,
    groups::SLUG_KEY,
    users::EMAIL_KEY,
    api_keys::PREFIX_KEY,
    templates::SLUG_KEY,
    channels::USER_TARGET_KEY,
    channels::PUBLIC_EMAIL_KEY,
    integrations::SLUG_KEY,
];
