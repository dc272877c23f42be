//! Service groups.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Lifecycle;

/// A group as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// URL name, unique.
    pub slug: String,
    /// Free text.
    pub description: String,
    /// Sort key (then name).
    pub order: i32,
    /// Its live (not archived) services, by order then name.
    pub service_ids: Vec<Uuid>,
    /// Created, changed, archived.
    #[serde(flatten)]
    pub lifecycle: Lifecycle,
}
