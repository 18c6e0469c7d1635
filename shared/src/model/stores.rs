//! The store (tenant) record as stored. Its operations are in `crate::stores`.

use serde::{Deserialize, Serialize};

use crate::ids::StoreId;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreRecord {
    pub store_id: StoreId,
    pub name: String,
    pub plan: String,
    pub created_at: String,
    pub version: u64,
}
