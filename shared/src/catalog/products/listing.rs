//! The lists a product is found in, their sort orders, and how a list request becomes an index scan with filters.

use super::*;

/// A list a product can be found in: the whole catalog, or one value of one filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Listing {
    All,
    Status(ProductStatus),
    Type(ProductType),
    Visible(bool),
    Brand(BrandId),
    Category(CategoryId),
}

impl Listing {
    /// The name of the list, as stored in its index partition key.
    pub fn name(&self) -> String {
        match self {
            Self::All => "all".to_owned(),
            Self::Status(status) => format!("status={}", status.as_str()),
            Self::Type(kind) => format!("type={}", kind.as_str()),
            Self::Visible(visible) => format!("visible={visible}"),
            Self::Brand(brand) => format!("brand={brand}"),
            Self::Category(category) => format!("category={category}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortField {
    CreatedAt,
    Name,
    Price,
}

impl SortField {
    pub const ALL: [SortField; 3] = [SortField::CreatedAt, SortField::Name, SortField::Price];

    /// The one-letter tag the index sort key starts with.
    pub fn tag(self) -> &'static str {
        match self {
            Self::CreatedAt => "c",
            Self::Name => "n",
            Self::Price => "p",
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductListParams {
    pub status: Option<ProductStatus>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<ProductType>,
    pub category_id: Option<CategoryId>,
    pub brand_id: Option<BrandId>,
    pub is_visible: Option<bool>,
    #[param(max_length = 64, pattern = "^[A-Za-z0-9._/-]+$")]
    pub sku: Option<String>,
    /// Words every matching product has (prefix match, accent- and case-insensitive), e.g. `q=blue mu`: in its name
    /// or SKU, or among the first 16 distinct words of 3+ characters of its description and localized titles and
    /// descriptions (HTML and common English words skipped); needs a letter or digit.
    #[param(max_length = 200, pattern = r"[^\W_]")]
    pub q: Option<String>,
    /// RFC 3339, 1970 or later; products created at or after.
    #[param(format = DateTime, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub created_from: Option<String>,
    /// RFC 3339, 1970 or later; products created before.
    #[param(format = DateTime, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub created_to: Option<String>,
    /// `created_at`, `name` or `price`, with `:asc` or `:desc` (default `created_at:desc`); not with `q`.
    #[param(pattern = "^(created_at|name|price)(:(asc|desc))?$")]
    pub sort: Option<String>,
    /// Comma-separated: `variants` (each with its stock) and `inventory` (every warehouse's level); each costs
    /// one more query per product of the page.
    #[param(pattern = r"^(variants|inventory)(,(variants|inventory))*$")]
    pub include: Option<String>,
}

/// How a list request is served: the index read, and the filters checked on each product read.
#[derive(Debug, PartialEq)]
pub struct ListPlan {
    pub source: ListSource,
    pub filter: ListFilter,
}

#[derive(Debug, PartialEq)]
pub enum ListSource {
    /// One product by its SKU (the uniqueness guard).
    Sku(String),
    /// The token index, by the longest query word.
    Search { prefix: String, words: Vec<String> },
    /// A listing index.
    Index(IndexScan),
}

/// A read of one listing index, in a sort order, optionally within an id range (creation time).
#[derive(Debug, PartialEq)]
pub struct IndexScan {
    pub listing: Listing,
    pub sort: SortField,
    pub descending: bool,
    pub range: Option<(ProductId, ProductId)>,
}

/// The predicates a product read from the source must also meet.
#[derive(Debug, Default, PartialEq)]
pub struct ListFilter {
    status: Option<ProductStatus>,
    kind: Option<ProductType>,
    category: Option<CategoryId>,
    brand: Option<BrandId>,
    visible: Option<bool>,
    words: Vec<String>,
    created: Option<(ProductId, ProductId)>,
}

impl ListFilter {
    pub fn matches(&self, product: &Product) -> bool {
        let tokens = if self.words.is_empty() {
            BTreeSet::new()
        } else {
            product.search_tokens()
        };
        self.status.is_none_or(|s| s == product.status)
            && self.kind.is_none_or(|k| k == product.kind)
            && self.category.is_none_or(|c| product.category_ids.contains(&c))
            && self.brand.is_none_or(|b| product.brand_id == Some(b))
            && self.visible.is_none_or(|v| v == product.is_visible)
            && self
                .words
                .iter()
                .all(|w| tokens.iter().any(|t| t.starts_with(w.as_str())))
            && self
                .created
                .is_none_or(|(from, to)| from <= product.id && product.id <= to)
    }
}

pub(super) fn parse_time_ms(field: &str, text: &str) -> Result<u64, ApiError> {
    let at = crate::time::parse_rfc3339(text).ok_or_else(|| ApiError::invalid(field, "must be an RFC 3339 time"))?;
    u64::try_from(at.unix_timestamp_nanos() / 1_000_000).map_err(|_| ApiError::invalid(field, "must be after 1970"))
}

pub fn parse_sort(sort: Option<&str>) -> Result<(SortField, bool), ApiError> {
    let Some(sort) = sort else {
        return Ok((SortField::CreatedAt, true));
    };
    let (field, direction) = sort.split_once(':').unwrap_or((sort, "asc"));
    let field = match field {
        "created_at" => SortField::CreatedAt,
        "name" => SortField::Name,
        "price" => SortField::Price,
        _ => return Err(ApiError::invalid("sort", "sort by created_at, name or price")),
    };
    let descending = match direction {
        "asc" => false,
        "desc" => true,
        _ => return Err(ApiError::invalid("sort", "direction is asc or desc")),
    };
    Ok((field, descending))
}

impl ProductListParams {
    /// Chooses the most selective index for the request; every other filter is checked on the products read.
    pub fn plan(&self) -> Result<ListPlan, ApiError> {
        let (sort, descending) = parse_sort(self.sort.as_deref())?;
        let from = self
            .created_from
            .as_deref()
            .map(|t| parse_time_ms("created_from", t))
            .transpose()?;
        let to = self
            .created_to
            .as_deref()
            .map(|t| parse_time_ms("created_to", t))
            .transpose()?;
        let created = match (from, to) {
            (None, None) => None,
            (from, to) => Some((
                ProductId::bounds_at(from.unwrap_or(0)).0,
                ProductId::bounds_at(to.unwrap_or((1u64 << 48) - 1).saturating_sub(u64::from(to.is_some()))).1,
            )),
        };
        if self.q.as_deref().is_some_and(|q| too_long(q, MAX_QUERY)) {
            return Err(ApiError::invalid(
                "q",
                format!("must be at most {MAX_QUERY} characters"),
            ));
        }
        let words: Vec<String> = self.q.as_deref().map(|q| text::words(q).collect()).unwrap_or_default();
        let mut filter = ListFilter {
            status: self.status,
            kind: self.kind,
            category: self.category_id,
            brand: self.brand_id,
            visible: self.is_visible,
            words: words.clone(),
            created,
        };
        if let Some(sku) = &self.sku {
            if !valid_sku(sku.trim()) {
                return Err(ApiError::invalid("sku", SKU_RULE));
            }
            return Ok(ListPlan {
                source: ListSource::Sku(sku.trim().to_owned()),
                filter,
            });
        }
        if self.q.is_some() {
            if self.sort.is_some() {
                return Err(ApiError::invalid(
                    "sort",
                    "results of `q` come in index order; sort is not available with q",
                ));
            }
            let Some(prefix) = words.iter().max_by_key(|w| w.len()).cloned() else {
                return Err(ApiError::invalid("q", "must contain a letter or digit"));
            };
            return Ok(ListPlan {
                source: ListSource::Search { prefix, words },
                filter,
            });
        }
        let listing = if let Some(category) = filter.category.take() {
            Listing::Category(category)
        } else if let Some(brand) = filter.brand.take() {
            Listing::Brand(brand)
        } else if let Some(status) = filter.status.take() {
            Listing::Status(status)
        } else if let Some(kind) = filter.kind.take() {
            Listing::Type(kind)
        } else if let Some(visible) = filter.visible.take() {
            Listing::Visible(visible)
        } else {
            Listing::All
        };
        // A creation-time range is a key range when the list is sorted by creation time.
        let range = match filter.created {
            // `created_to` at or before `created_from`: DynamoDB refuses a key range whose bounds are reversed, so
            // the read is of the one key it starts at, and the filter kept (from > to) matches nothing there.
            Some((from, to)) if sort == SortField::CreatedAt && from > to => Some((from, from)),
            _ if sort == SortField::CreatedAt => filter.created.take(),
            _ => None,
        };
        Ok(ListPlan {
            source: ListSource::Index(IndexScan {
                listing,
                sort,
                descending,
                range,
            }),
            filter,
        })
    }
}
