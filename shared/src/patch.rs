//! Partial updates (`…Patch` bodies): an absent field keeps its value, `null` clears it.

use serde::{Deserialize, Deserializer};

/// `Some(None)` for an explicit `null` (clear the field), `None` when the field is absent (keep it). Use with
/// `#[serde(default, deserialize_with = "crate::patch::nullable")]`.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}
