//! API-key records as stored: the store's own record of a key, and the lookup item the authorizer finds by the
//! key's hash. Their operations are in `crate::apikeys`.

use serde::{Deserialize, Serialize};

use crate::ids::{KeyId, StoreId};
use crate::tenant::{Mode, Scopes, Tenant};

/// What the authorizer finds by the key's hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyLookup {
    pub key_id: KeyId,
    pub store_id: StoreId,
    pub mode: Mode,
    pub scopes: String,
    pub plan: String,
    pub hash: String,
}

impl ApiKeyLookup {
    pub fn tenant(&self) -> Option<Tenant> {
        Some(Tenant {
            store_id: self.store_id,
            mode: self.mode,
            key_id: self.key_id,
            scopes: Scopes::from_joined(&self.scopes).ok()?,
            plan: self.plan.clone(),
        })
    }
}

/// The store's own record of a key, listed by `GET /v1/api-keys`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub key_id: KeyId,
    pub name: String,
    pub mode: Mode,
    pub scopes: String,
    pub hint: String,
    /// Kept so that revoking can delete the lookup item; a hash of a 190-bit random key reveals nothing.
    pub hash: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    pub version: u64,
}
