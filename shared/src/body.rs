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

/// A list of at most `ITEMS` strings of at most `LENGTH` characters, for `#[schema(schema_with = …)]`: utoipa puts
/// a field's own `max_length` on the list, not on its items.
pub fn strings<const ITEMS: usize, const LENGTH: usize>() -> utoipa::openapi::Array {
    utoipa::openapi::ArrayBuilder::new()
        .items(short_string(LENGTH))
        .max_items(Some(ITEMS))
        .build()
}

/// A map of at most `ENTRIES` string values of at most `LENGTH` characters (keys: see the field's description).
pub fn string_map<const ENTRIES: usize, const LENGTH: usize>() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .additional_properties(Some(short_string(LENGTH)))
        .max_properties(Some(ENTRIES))
        .build()
}

fn short_string(length: usize) -> utoipa::openapi::ObjectBuilder {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .max_length(Some(length))
}

/// A map of at most `ENTRIES` values of schema `T`.
pub fn map_of<T: utoipa::ToSchema, const ENTRIES: usize>() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .additional_properties(Some(utoipa::openapi::Ref::from_schema_name(T::name())))
        .max_properties(Some(ENTRIES))
        .build()
}
