//! Statement parameters.

use uuid::Uuid;

/// A statement parameter. The variants are the ones that bind reliably through Spin's PostgreSQL
/// interface (README, "The test host"): each binds only to its own column type, so write times as
/// RFC 3339 text with `$n::text::timestamptz`.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// SQL `NULL`; binds to any type.
    Null,
    /// `bool`.
    Bool(bool),
    /// `int4` only.
    Int32(i32),
    /// `int8`, `count(*)`, `limit $n`, `offset $n`.
    Int64(i64),
    /// `text`, `varchar`.
    Text(String),
    /// `uuid` only.
    Uuid(Uuid),
    /// `jsonb` only.
    Jsonb(serde_json::Value),
    /// `text[]`.
    TextArray(Vec<String>),
}

impl From<&str> for Param {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<String> for Param {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<bool> for Param {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<i32> for Param {
    fn from(value: i32) -> Self {
        Self::Int32(value)
    }
}

impl From<i64> for Param {
    fn from(value: i64) -> Self {
        Self::Int64(value)
    }
}

impl From<Uuid> for Param {
    fn from(value: Uuid) -> Self {
        Self::Uuid(value)
    }
}

impl From<serde_json::Value> for Param {
    fn from(value: serde_json::Value) -> Self {
        Self::Jsonb(value)
    }
}

/// A time binds as RFC 3339 text: write it as `$n::text::timestamptz` (Spin cannot bind a
/// `timestamptz` parameter any other way with sub-second precision).
impl From<time::OffsetDateTime> for Param {
    fn from(value: time::OffsetDateTime) -> Self {
        Self::Text(crate::time::format_rfc3339(value))
    }
}

/// A list of ids binds as `text[]`: write it as `$n::text[]::uuid[]`.
impl From<&[Uuid]> for Param {
    fn from(value: &[Uuid]) -> Self {
        Self::TextArray(value.iter().map(Uuid::to_string).collect())
    }
}

impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}
