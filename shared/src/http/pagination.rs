//! Cursor pagination: `limit` (default 20, at most 100) and an opaque `cursor` that resumes a DynamoDB query.
//! A cursor is bound to the store and mode that made it: one forged for another store is refused.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// `meta.pagination.next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The last key a query read, as strings: what DynamoDB needs to resume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor(BTreeMap<String, String>);

impl Cursor {
    /// Wraps the last evaluated key of a query on `tenant_prefix`'s items.
    pub fn from_key(tenant_prefix: &str, key: impl IntoIterator<Item = (String, String)>) -> Result<String, ApiError> {
        let cursor = Cursor(key.into_iter().collect());
        if !cursor.belongs_to(tenant_prefix) {
            return Err(ApiError::internal("query returned a key outside the tenant"));
        }
        let json = serde_json::to_vec(&cursor.0).map_err(ApiError::internal)?;
        Ok(URL_SAFE_NO_PAD.encode(json))
    }

    /// The answer to a cursor that is not one we made for this list.
    pub fn invalid() -> ApiError {
        ApiError::BadRequest("invalid cursor; pass `next_cursor` from the previous page unchanged".into())
    }

    pub fn decode(tenant_prefix: &str, text: &str) -> Result<Self, ApiError> {
        let invalid = Self::invalid;
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let key: BTreeMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        let cursor = Cursor(key);
        if !cursor.belongs_to(tenant_prefix) {
            return Err(invalid());
        }
        Ok(cursor)
    }

    /// Every partition key in the cursor must be one of the tenant's.
    fn belongs_to(&self, tenant_prefix: &str) -> bool {
        let partitions: Vec<_> = self.0.iter().filter(|(name, _)| name.ends_with("PK")).collect();
        !partitions.is_empty() && partitions.iter().all(|(_, value)| value.starts_with(tenant_prefix))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }
}

/// A validated page request.
#[derive(Debug)]
pub struct Page {
    pub limit: u32,
    pub cursor: Option<Cursor>,
}

impl PageParams {
    pub fn parse(&self, tenant_prefix: &str) -> Result<Page, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let cursor = self
            .cursor
            .as_deref()
            .map(|text| Cursor::decode(tenant_prefix, text))
            .transpose()?;
        Ok(Page { limit, cursor })
    }
}

/// One page of results from storage.
pub struct PageOf<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    pub limit: u32,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListMeta {
    pub pagination: Pagination,
}

/// `{"data": [...], "meta": {"pagination": {...}}}`
#[derive(Debug, Serialize, ToSchema)]
pub struct ListOut<T: ToSchema> {
    pub data: Vec<T>,
    pub meta: ListMeta,
}

impl<T> PageOf<T> {
    pub fn into_list<U: ToSchema>(self, map: impl FnMut(T) -> U) -> ListOut<U> {
        ListOut {
            data: self.items.into_iter().map(map).collect(),
            meta: ListMeta {
                pagination: Pagination {
                    limit: self.limit,
                    has_more: self.next_cursor.is_some(),
                    next_cursor: self.next_cursor,
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINE: &str = "S#st_A#test#";

    #[test]
    fn cursors_round_trip_within_the_tenant() {
        let text = Cursor::from_key(
            MINE,
            [
                ("PK".to_owned(), format!("{MINE}APIKEYS")),
                ("SK".to_owned(), "APIKEY#k".to_owned()),
            ],
        )
        .unwrap();
        let cursor = Cursor::decode(MINE, &text).unwrap();
        assert_eq!(cursor.iter().count(), 2);
        assert!(Cursor::decode("S#st_B#test#", &text).is_err());
        assert!(Cursor::decode("S#st_A#live#", &text).is_err());
        assert!(Cursor::decode(MINE, "not-a-cursor").is_err());
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(PageParams::default().parse(MINE).unwrap().limit, DEFAULT_LIMIT);
        for bad in [0, 101] {
            let params = PageParams {
                limit: Some(bad),
                cursor: None,
            };
            assert!(matches!(params.parse(MINE), Err(ApiError::Validation(_))));
        }
    }
}
