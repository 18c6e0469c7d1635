//! Cursor pagination: `limit` (alias `per_page`; default 20, at most 100) and an opaque `cursor` that resumes a
//! DynamoDB query. A cursor is bound to the store and mode that made it: one forged for another store is refused.
//! `page=N`, for clients written against page-numbered APIs, reads the N-1 pages before it (DynamoDB has no
//! offset), so it is bounded: page × limit at most 1,000.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
/// The deepest item `page` may reach (page × limit): each page before it costs a read.
pub const MAX_PAGE_DEPTH: u32 = 1000;

/// The query parameters every list takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Alias of `limit`.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// Page number, from 1, for page-numbered clients: it reads the pages before it, so page × limit must be at
    /// most 1000 (follow `next_cursor` beyond). Not with `cursor`.
    #[param(minimum = 1, maximum = 1000)]
    pub page: Option<u32>,
    /// `meta.pagination.next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The names of `PageParams`' fields: what a list's query string holds besides its filters.
const PAGE_KEYS: [&str; 4] = ["limit", "per_page", "page", "cursor"];

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

    /// Where a list read whole resumes.
    fn offset(tenant_prefix: &str, offset: usize) -> Result<String, ApiError> {
        Self::from_key(
            tenant_prefix,
            [
                ("PK".to_owned(), format!("{tenant_prefix}LIST")),
                ("offset".to_owned(), offset.to_string()),
            ],
        )
    }
}

/// A validated page request.
#[derive(Debug, Default)]
pub struct Page {
    pub limit: u32,
    pub cursor: Option<Cursor>,
    /// Pages to read past before this one (`page` - 1).
    pub skip: u32,
}

impl Page {
    /// The first `limit` items.
    pub fn first(limit: u32) -> Self {
        Self {
            limit,
            ..Self::default()
        }
    }
}

impl PageParams {
    pub fn parse(&self, tenant_prefix: &str) -> Result<Page, ApiError> {
        let limit = match (self.limit, self.per_page) {
            (Some(limit), Some(per_page)) if limit != per_page => {
                return Err(ApiError::invalid(
                    "per_page",
                    "is an alias of `limit`: give one, or both equal",
                ))
            }
            (limit, per_page) => limit.or(per_page).unwrap_or(DEFAULT_LIMIT),
        };
        if !(1..=MAX_LIMIT).contains(&limit) {
            let field = if self.limit.is_some() { "limit" } else { "per_page" };
            return Err(ApiError::invalid(field, format!("must be between 1 and {MAX_LIMIT}")));
        }
        let skip = match (self.page, &self.cursor) {
            (None, _) => 0,
            (Some(_), Some(_)) => return Err(ApiError::invalid("page", "give `page` or `cursor`, not both")),
            (Some(0), None) => return Err(ApiError::invalid("page", "pages start at 1")),
            (Some(page), None) if page.saturating_mul(limit) > MAX_PAGE_DEPTH => {
                return Err(ApiError::invalid(
                    "page",
                    format!("page × limit must be at most {MAX_PAGE_DEPTH}; follow `next_cursor` beyond"),
                ))
            }
            (Some(page), None) => page - 1,
        };
        let cursor = self
            .cursor
            .as_deref()
            .map(|text| Cursor::decode(tenant_prefix, text))
            .transpose()?;
        Ok(Page { limit, cursor, skip })
    }
}

/// A list's query string: the page parameters, and the list's own filters `F` (a struct that denies unknown
/// fields, so that a parameter the list does not know is a `422`).
pub fn split_list_query<F: serde::de::DeserializeOwned>(query: &str) -> Result<(PageParams, F), ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(query_error)?;
    let (paging, filters): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(k, _)| PAGE_KEYS.contains(&k.as_str()));
    Ok((reparse(paging)?, reparse(filters)?))
}

/// A query string that does not parse: a parameter the route does not know (its struct denies unknown fields) is a
/// `422` naming it, as an unknown body field is; anything else a `400` naming the problem.
pub(crate) fn query_error(error: serde_urlencoded::de::Error) -> ApiError {
    let text = error.to_string();
    match text
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
    {
        Some((name, _)) => ApiError::invalid(name, "is not a query parameter of this route"),
        None => ApiError::BadRequest(format!("invalid query string: {text}")),
    }
}

fn reparse<T: serde::de::DeserializeOwned>(pairs: Vec<(String, String)>) -> Result<T, ApiError> {
    let text = serde_urlencoded::to_string(pairs).map_err(ApiError::internal)?;
    serde_urlencoded::from_str(&text).map_err(query_error)
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
    /// Every item of the list (all pages), where it is exact: lists read whole (a product's variants, an order's
    /// refunds), and products and orders unfiltered or filtered by `status` alone, and customers unfiltered, whose
    /// counters are kept in the same transactions as the items. Absent elsewhere: a total would mean reading every
    /// item that matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
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
                    total: None,
                },
            },
        }
    }
}

impl<T: ToSchema> ListOut<T> {
    /// The list with its exact total, where a counter gives one.
    pub fn with_total(mut self, total: Option<u64>) -> Self {
        self.meta.pagination.total = total;
        self
    }
}

impl PageParams {
    /// A page of a list read whole (bounded by its own limits: a product's variants, a customer's addresses):
    /// its cursor holds the offset, bound to the tenant as every cursor is, and its total is exact.
    pub fn page_of<T: ToSchema>(&self, tenant_prefix: &str, items: Vec<T>) -> Result<ListOut<T>, ApiError> {
        let page = self.parse(tenant_prefix)?;
        let limit = page.limit as usize;
        let start = match &page.cursor {
            Some(cursor) => cursor
                .iter()
                .find(|(name, _)| *name == "offset")
                .and_then(|(_, offset)| offset.parse::<usize>().ok())
                .ok_or_else(Cursor::invalid)?,
            None => page.skip as usize * limit,
        };
        let total = items.len();
        let end = start.saturating_add(limit).min(total);
        let next_cursor = (end < total).then(|| Cursor::offset(tenant_prefix, end)).transpose()?;
        Ok(ListOut {
            data: items.into_iter().skip(start).take(limit).collect(),
            meta: ListMeta {
                pagination: Pagination {
                    limit: page.limit,
                    has_more: next_cursor.is_some(),
                    next_cursor,
                    total: Some(total as u64),
                },
            },
        })
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
                ..Default::default()
            };
            assert!(matches!(params.parse(MINE), Err(ApiError::Validation(_))));
        }
        let per_page = PageParams {
            per_page: Some(50),
            ..Default::default()
        };
        assert_eq!(per_page.parse(MINE).unwrap().limit, 50);
        let both = PageParams {
            limit: Some(10),
            per_page: Some(50),
            ..Default::default()
        };
        assert!(both.parse(MINE).is_err());
    }

    #[test]
    fn pages_are_bounded_and_exclusive_of_cursors() {
        let page = |page, limit| PageParams {
            page: Some(page),
            limit: Some(limit),
            ..Default::default()
        };
        assert_eq!(page(3, 20).parse(MINE).unwrap().skip, 2);
        assert_eq!(page(10, 100).parse(MINE).unwrap().skip, 9);
        for bad in [page(0, 20), page(11, 100), page(u32::MAX, 100)] {
            assert!(matches!(bad.parse(MINE), Err(ApiError::Validation(_))));
        }
        let with_cursor = PageParams {
            page: Some(2),
            cursor: Some("x".into()),
            ..Default::default()
        };
        assert!(with_cursor.parse(MINE).is_err());
    }

    #[test]
    fn a_list_read_whole_pages_by_offset_with_its_total() {
        let pages = |params: PageParams| params.page_of(MINE, (0..45).collect::<Vec<u32>>()).unwrap();
        let first = pages(PageParams {
            per_page: Some(20),
            ..Default::default()
        });
        assert_eq!((first.data.len(), first.meta.pagination.total), (20, Some(45)));
        let second = pages(PageParams {
            cursor: first.meta.pagination.next_cursor,
            per_page: Some(20),
            ..Default::default()
        });
        assert_eq!(second.data.first(), Some(&20));
        let third = pages(PageParams {
            page: Some(3),
            per_page: Some(20),
            ..Default::default()
        });
        assert_eq!(third.data, (40..45).collect::<Vec<_>>());
        assert!(!third.meta.pagination.has_more);
        let beyond = pages(PageParams {
            page: Some(9),
            ..Default::default()
        });
        assert!(beyond.data.is_empty());
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Filter {
        status: Option<String>,
    }

    #[test]
    fn a_list_query_splits_into_pages_and_filters_and_refuses_unknown_parameters() {
        let (page, filter) = split_list_query::<Filter>("per_page=50&status=open&page=2").unwrap();
        assert_eq!((page.per_page, page.page), (Some(50), Some(2)));
        assert_eq!(filter.status.as_deref(), Some("open"));
        match split_list_query::<Filter>("limit=5&colour=red") {
            Err(ApiError::Validation(errors)) => assert_eq!(errors[0].field, "colour"),
            other => panic!("expected a 422, got {other:?}"),
        }
    }
}
