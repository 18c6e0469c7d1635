//! Request bodies: what every body refuses, and partial updates (`…Patch` bodies: an absent field keeps its value,
//! `null` clears it).

use serde::{Deserialize, Deserializer};

// A body is JSON with a schema in the OpenAPI document, and a field it does not know is a `422`, never silently
// dropped: a client that misspells a field, or tries to set one it may not (`store_id`, `version`, a total), hears
// so. Written once here so that no body can forget it.
macro_rules_attribute::attribute_alias! {
    #[apply(request_body!)] =
        #[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)];
    #[apply(patch_body!)] =
        #[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)];
}

/// `Some(None)` for an explicit `null` (clear the field), `None` when the field is absent (keep it). Use with
/// `#[serde(default, deserialize_with = "crate::body::nullable")]`.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}
