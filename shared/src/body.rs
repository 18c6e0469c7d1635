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

/// What every string of every request body may hold: no control character but tab, LF and CR (`parse_json` refuses
/// the others, in values and keys alike). `openapi::finish` puts it on each request string that has no pattern of its
/// own; a field's own pattern must exclude them too.
pub const NO_CONTROL: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// Written `pattern = r"\S"` on a field: a text that must not be blank once trimmed. `openapi::finish` turns it into
/// this, which also says [`NO_CONTROL`]: one character that is neither white space nor control, anywhere.
pub const NOT_BLANK: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// The marker for [`NOT_BLANK`] in `#[schema(pattern = …)]` (which takes only a literal).
pub const NOT_BLANK_MARKER: &str = r"\S";

/// A list of at most `ITEMS` strings of at most `LENGTH` characters, for `#[schema(schema_with = …)]`: utoipa puts
/// a field's own `max_length` on the list, not on its items.
pub fn strings<const ITEMS: usize, const LENGTH: usize>() -> utoipa::openapi::Array {
    utoipa::openapi::ArrayBuilder::new()
        .items(short_string(LENGTH))
        .max_items(Some(ITEMS))
        .build()
}

/// A list of 1 to `ITEMS` distinct texts of 1 to `LENGTH` characters, none blank.
pub fn non_blank_strings<const ITEMS: usize, const LENGTH: usize>() -> utoipa::openapi::Array {
    utoipa::openapi::ArrayBuilder::new()
        .items(non_blank(LENGTH))
        .min_items(Some(1))
        .max_items(Some(ITEMS))
        .unique_items(true)
        .build()
}

/// A text of 1 to `length` characters that is not blank.
pub fn non_blank(length: usize) -> utoipa::openapi::ObjectBuilder {
    short_string(length).min_length(Some(1)).pattern(Some(NOT_BLANK_MARKER))
}

/// A map of at most `ENTRIES` string values of at most `LENGTH` characters (keys: see the field's description).
pub fn string_map<const ENTRIES: usize, const LENGTH: usize>() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .additional_properties(Some(short_string(LENGTH)))
        .max_properties(Some(ENTRIES))
        .build()
}

/// `metadata`: at most `ENTRIES` keys of 1 to `KEY_LENGTH` characters, values of at most `LENGTH` characters.
pub fn metadata<const ENTRIES: usize, const KEY_LENGTH: usize, const LENGTH: usize>() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .additional_properties(Some(short_string(LENGTH)))
        .property_names(Some(short_string(KEY_LENGTH).min_length(Some(1))))
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
