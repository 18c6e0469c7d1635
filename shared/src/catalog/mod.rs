//! The catalog: products, categories, brands and search. Pure rules live in the submodules; the functions here
//! put them together with storage, and are what the `catalog` function's handlers call.

pub mod products;
pub mod stock;
pub mod taxonomy;
pub mod taxons;
pub mod text;
pub mod variants;

use std::collections::{BTreeMap, BTreeSet};

use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::{id_of, tenant_prefix, Db, ProductConflict, VariantConflict, WriteError};
use crate::error::ApiError;
use crate::events::{Event, EventType, ResourceRef};
use crate::http::pagination::{ListMeta, ListOut, PageParams, Pagination};
use crate::ids::{BrandId, CategoryId, ProductId, VariantId};
use crate::tenant::Tenant;
use crate::time;
use products::{Action, ListSource, Product, ProductIn, ProductListParams, ProductPatch};
use stock::{answer, answered, answered_variants, IncludeParams, Includes, ProductOut, VariantOut};
use variants::{OptionIn, Variant, VariantIn, VariantPatch};

/// Index reads one list request may make before it answers with a partial page and a cursor.
const MAX_LIST_ROUNDS: usize = 5;
/// Products read to count facets.
pub const MAX_FACET_SCAN: usize = 500;
/// Index reads one `page=N` request may make in all (each reads at most `limit` ids): at most 2,000 products.
const MAX_WALK_ROUNDS: usize = 20;

fn product_conflict(conflict: ProductConflict, product: &Product, if_match: Option<u64>) -> ApiError {
    match conflict {
        ProductConflict::Slug => {
            ApiError::conflict(format!("slug `{}` is already used by another product", product.slug))
        }
        ProductConflict::Sku => ApiError::conflict(format!(
            "SKU `{}` is already used by another product or variant",
            product.sku.as_deref().unwrap_or_default()
        )),
        ProductConflict::MissingCategory(id) => {
            let index = product.category_ids.iter().position(|c| *c == id).unwrap_or_default();
            ApiError::invalid(
                format!("category_ids[{index}]"),
                format!("category {id} does not exist"),
            )
        }
        ProductConflict::MissingBrand(id) => ApiError::invalid("brand_id", format!("brand {id} does not exist")),
        ProductConflict::Stale if if_match.is_some() => {
            ApiError::PreconditionFailed("the product changed since you read it; read it again".into())
        }
        ProductConflict::Stale => ApiError::conflict("the product was changed by another request; retry"),
        ProductConflict::TooLarge => ApiError::invalid(
            "body",
            "this change touches more index entries than one transaction holds; split it into smaller patches",
        ),
    }
}

// --- products ---------------------------------------------------------------------------------------------

/// The most units a product may be created with.
const MAX_OPENING_STOCK: i64 = 1_000_000_000;

/// Creates a product; an initial `stock` is put in the default warehouse in the same transaction, ledgered as a
/// restock.
pub async fn create_product(db: &Db, tenant: &Tenant, input: ProductIn) -> Result<ProductOut, ApiError> {
    let units = input.stock.unwrap_or(0);
    if !(0..=MAX_OPENING_STOCK).contains(&units) {
        return Err(ApiError::invalid("stock", "must be 0 to 1,000,000,000"));
    }
    let now = time::now_rfc3339();
    let (mut product, slug_generated) = input.into_product(ProductId::new(), &now)?;
    let warehouse = match units {
        0 => None,
        _ => Some(crate::inventory::default_warehouse(db, tenant).await?),
    };
    let base_slug = product.slug.clone();
    for attempt in 0..3 {
        let created = Event::about(tenant, EventType::ProductCreated, &product)?;
        let opening = warehouse
            .map(|warehouse| opening_stock(tenant, &product, warehouse, units, &now))
            .transpose()?;
        match db.put_product(tenant, None, &product, created, None, opening).await {
            Ok(()) => {
                return Ok(ProductOut {
                    product,
                    stock: units,
                    variants: None,
                    inventory: None,
                })
            }
            // A slug made from the name clashed: keep the name's slug, made unique.
            Err(WriteError::Refused(ProductConflict::Slug)) if slug_generated && attempt < 2 => {
                let suffix = Alphanumeric.sample_string(&mut rand::rng(), 5).to_lowercase();
                product.slug = format!("{}-{suffix}", &base_slug[..base_slug.len().min(text::MAX_SLUG_LEN - 6)]);
            }
            Err(WriteError::Refused(conflict)) => return Err(product_conflict(conflict, &product, None)),
            Err(WriteError::Other(error)) => return Err(error),
        }
    }
    Err(product_conflict(ProductConflict::Slug, &product, None))
}

/// A new product's first level in the default warehouse, its ledger line and its event.
fn opening_stock(
    tenant: &Tenant,
    product: &Product,
    warehouse: crate::ids::WarehouseId,
    units: i64,
    now: &str,
) -> Result<crate::db::OpeningStock, ApiError> {
    use crate::model::inventory::{AdjustReason, Adjustment, Level};
    let level = Level {
        item_id: product.id.to_string(),
        warehouse_id: warehouse.to_string(),
        on_hand: units,
        available: units,
        updated_at: now.to_owned(),
        version: 1,
        ..Level::default()
    };
    let note = Some("initial stock".to_owned());
    let entry = Adjustment::of_level(
        &level,
        units,
        AdjustReason::Restock,
        note,
        tenant.key_id.to_string(),
        now,
    );
    let event = Event::about(tenant, EventType::InventoryAdjusted, &level)?;
    Ok(crate::db::OpeningStock { level, entry, event })
}

/// A product by id or by slug, as answered (`include=variants,inventory`).
pub async fn get_product(
    db: &Db,
    tenant: &Tenant,
    id_or_slug: &str,
    include: &IncludeParams,
) -> Result<ProductOut, ApiError> {
    let include = Includes::parse(include.include.as_deref())?;
    if let (Ok(id), true) = (id_or_slug.parse::<ProductId>(), include == Includes::default()) {
        // The product and its stock at once: the stock's keys need only the id.
        let scope = db.scoped(tenant);
        let items = [crate::model::inventory::StockItem::Product(id)];
        let (product, sellable) = tokio::try_join!(scope.record::<Product>(id, false), scope.sellable(&items))?;
        let product = product.ok_or_else(|| ApiError::not_found("product"))?;
        return Ok(ProductOut {
            stock: sellable.get(&id.to_string()).copied().unwrap_or(0),
            product,
            variants: None,
            inventory: None,
        });
    }
    let product = product_record(db, tenant, id_or_slug).await?;
    answer(db, tenant, product, include).await
}

async fn product_record(db: &Db, tenant: &Tenant, id_or_slug: &str) -> Result<Product, ApiError> {
    let id = match id_or_slug.parse::<ProductId>() {
        Ok(id) => Some(id),
        Err(_) if text::is_slug(id_or_slug) => db.scoped(tenant).find_product_by_slug(id_or_slug).await?,
        Err(_) => None,
    };
    let product = match id {
        Some(id) => db.scoped(tenant).record::<Product>(id, false).await?,
        None => None,
    };
    product.ok_or_else(|| ApiError::not_found("product"))
}

async fn product_by_id(db: &Db, tenant: &Tenant, id: &str) -> Result<Product, ApiError> {
    db.scoped(tenant).found(id).await
}

async fn save_product(
    db: &Db,
    tenant: &Tenant,
    before: &Product,
    after: Product,
    event: Event,
    extra: Option<Event>,
    if_match: Option<u64>,
) -> Result<ProductOut, ApiError> {
    match db.put_product(tenant, Some(before), &after, event, extra, None).await {
        Ok(()) => answer(db, tenant, after, Includes::default()).await,
        Err(WriteError::Refused(conflict)) => Err(product_conflict(conflict, &after, if_match)),
        Err(WriteError::Other(error)) => Err(error),
    }
}

pub async fn update_product(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    patch: ProductPatch,
    if_match: Option<u64>,
) -> Result<ProductOut, ApiError> {
    let before = product_by_id(db, tenant, id).await?;
    ApiError::unless_version("product", before.version, if_match)?;
    let (after, changed) = patch.apply(&before, &time::now_rfc3339())?;
    if changed.is_empty() {
        return answer(db, tenant, before, Includes::default()).await;
    }
    let updated = Event::about(tenant, EventType::ProductUpdated, &after)?.with_changes(&changed);
    save_product(db, tenant, &before, after, updated, None, if_match).await
}

pub async fn delete_product(db: &Db, tenant: &Tenant, id: &str, if_match: Option<u64>) -> Result<(), ApiError> {
    let product = product_by_id(db, tenant, id).await?;
    ApiError::unless_version("product", product.version, if_match)?;
    let mut deleted = product.clone();
    deleted.version += 1;
    let event = Event::about(tenant, EventType::ProductDeleted, &deleted)?;
    let variants = db.scoped(tenant).list_variants(product.id).await?;
    match db.delete_product(tenant, &product, &variants, event).await {
        // Its prices can no longer apply; they go after the commit (a failure leaves records naming nothing).
        Ok(()) => db.delete_prices_of(tenant, product.id).await,
        Err(WriteError::Refused(ProductConflict::TooLarge)) => Err(ApiError::conflict(
            "the product has too many variants to delete in one step; delete some variants first",
        )),
        Err(WriteError::Refused(conflict)) => Err(product_conflict(conflict, &product, if_match)),
        Err(WriteError::Other(error)) => Err(error),
    }
}

/// Publish, archive, discontinue or recall. A recall also emits `recall.created`.
pub async fn act_on_product(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    action: Action,
    reason: Option<String>,
    if_match: Option<u64>,
) -> Result<ProductOut, ApiError> {
    let before = product_by_id(db, tenant, id).await?;
    ApiError::unless_version("product", before.version, if_match)?;
    let after = products::transition(&before, action, reason, &time::now_rfc3339())?;
    let changed = before.changed_fields(&after);
    let updated = Event::about(tenant, EventType::ProductUpdated, &after)?.with_changes(&changed);
    let recall = match action {
        Action::Recall => Some(Event::new(
            tenant.store_id,
            tenant.mode,
            EventType::RecallCreated,
            ResourceRef::of(&after),
            serde_json::json!({"product": &after, "reason": &after.recall_reason}),
        )),
        _ => None,
    };
    save_product(db, tenant, &before, after, updated, recall, if_match).await
}

/// Adds a product to a category, or takes it out.
pub async fn set_product_category(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    category: &str,
    add: bool,
) -> Result<ProductOut, ApiError> {
    let category = id_of::<taxonomy::Category>(category)?;
    let product = product_by_id(db, tenant, id).await?;
    if add == product.category_ids.contains(&category) {
        return answer(db, tenant, product, Includes::default()).await;
    }
    let patch = taxonomy::category_patch(product.category_ids.clone(), category, add);
    update_product(db, tenant, id, patch, None).await
}

/// One list page: reads the chosen index, then the products, keeping those every other filter accepts.
pub async fn list_products(
    db: &Db,
    tenant: &Tenant,
    page: &PageParams,
    params: &ProductListParams,
) -> Result<ListOut<ProductOut>, ApiError> {
    let include = Includes::parse(params.include.as_deref())?;
    let (products, pagination) = matching_products(db, tenant, page, params).await?;
    Ok(ListOut {
        data: answered(db, tenant, products, include).await?,
        meta: ListMeta { pagination },
    })
}

/// A page of the products a list asks for, without their stock.
async fn matching_products(
    db: &Db,
    tenant: &Tenant,
    page: &PageParams,
    params: &ProductListParams,
) -> Result<(Vec<Product>, Pagination), ApiError> {
    let plan = params.plan()?;
    let prefix = tenant_prefix(tenant.store_id, tenant.mode);
    let mut page = page.parse(&prefix)?;
    let scope = db.scoped(tenant);

    if let ListSource::Sku(sku) = &plan.source {
        let found = match scope.find_product_by_sku(sku).await? {
            Some(id) => scope.record::<Product>(id, false).await?,
            None => None,
        };
        let data: Vec<Product> = found.into_iter().filter(|p| plan.filter.matches(p)).collect();
        let pagination = Pagination {
            limit: page.limit,
            next_cursor: None,
            has_more: false,
            total: None,
        };
        return Ok((data, pagination));
    }

    // `page=N`: walk N-1 pages with the cursor.
    let skip_pages = page.skip;
    let mut out = Vec::new();
    let mut next = None;
    let mut rounds_left = if skip_pages > 0 {
        MAX_WALK_ROUNDS
    } else {
        MAX_LIST_ROUNDS
    };
    for walked in 0..=skip_pages {
        out.clear();
        next = None;
        for _round in 0..MAX_LIST_ROUNDS {
            if rounds_left == 0 {
                // A selective filter made the walk long: refuse rather than read without bound.
                if walked < skip_pages {
                    return Err(ApiError::invalid(
                        "page",
                        "too deep for this filter; follow `next_cursor` instead",
                    ));
                }
                break;
            }
            rounds_left -= 1;
            let want = page.limit - out.len() as u32;
            let (ids, cursor) = match &plan.source {
                ListSource::Index(scan) => scope.list_product_ids(scan, want, page.cursor.as_ref()).await?,
                ListSource::Search { prefix, .. } => {
                    scope.search_product_ids(prefix, want, page.cursor.as_ref()).await?
                }
                ListSource::Sku(_) => unreachable_source()?,
            };
            let mut seen: BTreeSet<ProductId> = out.iter().map(|p: &Product| p.id).collect();
            let ids: Vec<ProductId> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
            out.extend(
                scope
                    .get_products(&ids)
                    .await?
                    .into_iter()
                    .filter(|p| plan.filter.matches(p)),
            );
            next = cursor;
            page.cursor = next
                .as_deref()
                .map(|c| crate::http::pagination::Cursor::decode(&prefix, c))
                .transpose()?;
            if next.is_none() || out.len() as u32 >= page.limit {
                break;
            }
        }
        if next.is_none() && walked < skip_pages {
            out.clear();
            break;
        }
    }
    // Exact from the counter when nothing but the status narrows the list.
    let status_only = params.kind.is_none()
        && params.category_id.is_none()
        && params.brand_id.is_none()
        && params.is_visible.is_none()
        && params.q.is_none()
        && params.created_from.is_none()
        && params.created_to.is_none();
    let total = match status_only {
        true => Some(
            scope
                .count(crate::db::Counted::Products, params.status.map(|s| s.as_str()))
                .await?,
        ),
        false => None,
    };
    let pagination = Pagination {
        limit: page.limit,
        has_more: next.is_some(),
        next_cursor: next,
        total,
    };
    Ok((out, pagination))
}

fn unreachable_source() -> Result<(Vec<ProductId>, Option<String>), ApiError> {
    Err(ApiError::internal("SKU lists are answered before the index loop"))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Words every matching product has (prefix match, accent- and case-insensitive): in its name or SKU, or among
    /// the first 16 distinct words of 3+ characters of its description and localized titles and descriptions (HTML
    /// and common English words skipped); needs a letter or digit.
    #[param(max_length = 200, pattern = r"[^\W_]")]
    pub q: String,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<products::ProductType>,
    pub category_id: Option<CategoryId>,
    pub brand_id: Option<BrandId>,
    pub status: Option<products::ProductStatus>,
    /// Comma-separated: `category_id`, `brand_id`, `status`.
    #[param(pattern = "^(category_id|brand_id|status)(,(category_id|brand_id|status))*$")]
    pub facets: Option<String>,
}

/// Counts per value of each requested facet, over the first [`MAX_FACET_SCAN`] matches.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Facets {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_id: Option<BTreeMap<String, u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand_id: Option<BTreeMap<String, u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<BTreeMap<String, u64>>,
    /// False when more than 500 products matched and the counts cover the first 500.
    pub complete: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchMeta {
    pub pagination: Pagination,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<Facets>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchOut {
    pub data: Vec<ProductOut>,
    pub meta: SearchMeta,
}

pub async fn search_products(
    db: &Db,
    tenant: &Tenant,
    page: &PageParams,
    params: SearchParams,
) -> Result<SearchOut, ApiError> {
    let mut wanted = (false, false, false);
    for facet in params
        .facets
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        match facet {
            "category_id" => wanted.0 = true,
            "brand_id" => wanted.1 = true,
            "status" => wanted.2 = true,
            other => {
                return Err(ApiError::invalid(
                    "facets",
                    format!("unknown facet `{other}`; use category_id, brand_id, status"),
                ))
            }
        }
    }
    let list = ProductListParams {
        q: Some(params.q),
        kind: params.kind,
        category_id: params.category_id,
        brand_id: params.brand_id,
        status: params.status,
        ..Default::default()
    };
    let found = list_products(db, tenant, page, &list).await?;
    let mut pagination = found.meta.pagination;
    // The last page read from its start (`page=N`, no cursor) gives the total away; otherwise count the matches.
    let offset = page.page.unwrap_or(1).saturating_sub(1) * pagination.limit;
    let total_known = page.cursor.is_none() && !pagination.has_more && (offset == 0 || !found.data.is_empty());
    let facets = if total_known && wanted == (false, false, false) {
        pagination.total = Some(u64::from(offset) + found.data.len() as u64);
        None
    } else {
        let (total, facets) = count_matches(db, tenant, list, wanted).await?;
        pagination.total = total;
        (wanted != (false, false, false)).then_some(facets)
    };
    Ok(SearchOut {
        data: found.data,
        meta: SearchMeta { pagination, facets },
    })
}

/// Walks the first [`MAX_FACET_SCAN`] matches of a search: their number when that is all of them, and the counts
/// of the `wanted` facets.
async fn count_matches(
    db: &Db,
    tenant: &Tenant,
    scan: ProductListParams,
    wanted: (bool, bool, bool),
) -> Result<(Option<u64>, Facets), ApiError> {
    let mut page = PageParams {
        limit: Some(100),
        ..PageParams::default()
    };
    let mut facets = Facets {
        category_id: wanted.0.then(BTreeMap::new),
        brand_id: wanted.1.then(BTreeMap::new),
        status: wanted.2.then(BTreeMap::new),
        complete: true,
    };
    let mut counted = 0;
    loop {
        let (found, pagination) = matching_products(db, tenant, &page, &scan).await?;
        for product in &found {
            if let Some(counts) = facets.category_id.as_mut() {
                for category in &product.category_ids {
                    *counts.entry(category.to_string()).or_default() += 1;
                }
            }
            if let (Some(counts), Some(brand)) = (facets.brand_id.as_mut(), product.brand_id) {
                *counts.entry(brand.to_string()).or_default() += 1;
            }
            if let Some(counts) = facets.status.as_mut() {
                *counts.entry(product.status.as_str().to_owned()).or_default() += 1;
            }
        }
        counted += found.len();
        match pagination.next_cursor {
            Some(cursor) if counted < MAX_FACET_SCAN => page.cursor = Some(cursor),
            Some(_) => {
                facets.complete = false;
                return Ok((None, facets));
            }
            None => return Ok((Some(counted as u64), facets)),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SuggestParams {
    /// The start of a word, e.g. `mu`; needs a letter or digit.
    #[param(max_length = 200, pattern = r"[^\W_]")]
    pub prefix: String,
    /// Only this kind of entity (default: products, categories and brands).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<SuggestionType>,
    /// At most 50 (default 10).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionType {
    Product,
    Category,
    Brand,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    /// The entity's name.
    pub text: String,
    #[serde(rename = "type")]
    pub kind: SuggestionType,
    /// The product's, category's or brand's id.
    pub id: String,
    /// The product's id, for a product (as `id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<ProductId>,
}

/// Names with a word starting with the prefix, ordered by that word, then name; each entity once.
pub async fn suggest(db: &Db, tenant: &Tenant, params: SuggestParams) -> Result<Vec<Suggestion>, ApiError> {
    let limit = params.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 50"));
    }
    if params.prefix.chars().count() > products::MAX_QUERY {
        return Err(ApiError::invalid(
            "prefix",
            format!("must be at most {} characters", products::MAX_QUERY),
        ));
    }
    let Some(prefix) = text::words(&params.prefix).next() else {
        return Err(ApiError::invalid("prefix", "must contain a letter or digit"));
    };
    let scope = db.scoped(tenant);
    let wants = |kind| params.kind.is_none_or(|k| k == kind);
    // An entity can match through several tokens: read a few more and keep each once.
    let mut found = Vec::new();
    if wants(SuggestionType::Product) {
        let products = scope.suggest_products(&prefix, limit * 3).await?;
        found.extend(
            products
                .into_iter()
                .map(|(token, id, name)| (token, name, SuggestionType::Product, id)),
        );
    }
    for (kind, noun) in [(SuggestionType::Category, "category"), (SuggestionType::Brand, "brand")] {
        if wants(kind) {
            let taxons = scope.suggest_taxons(noun, &prefix, limit * 3).await?;
            found.extend(taxons.into_iter().map(|(token, id, name)| (token, name, kind, id)));
        }
    }
    found.sort();
    let mut seen = BTreeSet::new();
    let mut suggestions = Vec::new();
    for (_, text, kind, id) in found {
        if suggestions.len() == limit as usize {
            break;
        }
        if !seen.insert(id.clone()) {
            continue;
        }
        let product_id = match kind {
            SuggestionType::Product => Some(id.parse().map_err(ApiError::internal)?),
            _ => None,
        };
        suggestions.push(Suggestion {
            text,
            kind,
            id,
            product_id,
        });
    }
    Ok(suggestions)
}

// --- options and variants -------------------------------------------------------------------------------

/// Variants created by one transaction of `generate`: each is 3 items (the variant, its combination and owner
/// guards; generated variants have no SKU) and an event, so 24 take 96 of a transaction's 100 with the product
/// check and the audit item.
const VARIANTS_PER_WRITE: usize = 24;

pub async fn add_option(db: &Db, tenant: &Tenant, product_id: &str, input: OptionIn) -> Result<ProductOut, ApiError> {
    let before = product_by_id(db, tenant, product_id).await?;
    let has_variants = !db.scoped(tenant).list_variants(before.id).await?.is_empty();
    let after = variants::add_option(&before, input, has_variants, &time::now_rfc3339())?;
    let updated = Event::about(tenant, EventType::ProductUpdated, &after)?.with_changes(&["options"]);
    save_product(db, tenant, &before, after, updated, None, None).await
}

/// Adds values to one of a product's options (`option`: its name).
pub async fn add_option_values(
    db: &Db,
    tenant: &Tenant,
    product_id: &str,
    option: &str,
    input: variants::OptionValuesIn,
) -> Result<ProductOut, ApiError> {
    let before = product_by_id(db, tenant, product_id).await?;
    let after = variants::add_option_values(&before, option, input, &time::now_rfc3339())?;
    let updated = Event::about(tenant, EventType::ProductUpdated, &after)?.with_changes(&["options"]);
    save_product(db, tenant, &before, after, updated, None, None).await
}

fn variant_conflict(conflict: VariantConflict, variant: &Variant, if_match: Option<u64>) -> ApiError {
    match conflict {
        VariantConflict::Combination => ApiError::conflict("another variant of this product has these option values"),
        VariantConflict::Sku => ApiError::conflict(format!(
            "SKU `{}` is already used by another product or variant",
            variant.sku.as_deref().unwrap_or_default()
        )),
        VariantConflict::Stale => stale(if_match, "variant"),
    }
}

async fn variant_by_id(db: &Db, tenant: &Tenant, product: ProductId, id: &str) -> Result<Variant, ApiError> {
    let id: VariantId = id.parse().map_err(|_| ApiError::not_found("variant"))?;
    db.scoped(tenant)
        .get_variant(product, id)
        .await?
        .ok_or_else(|| ApiError::not_found("variant"))
}

pub async fn create_variant(db: &Db, tenant: &Tenant, product_id: &str, input: VariantIn) -> Result<Variant, ApiError> {
    let product = product_by_id(db, tenant, product_id).await?;
    let existing = db.scoped(tenant).list_variants(product.id).await?;
    if existing.len() >= variants::MAX_VARIANTS {
        return Err(ApiError::conflict(format!(
            "a product has at most {} variants",
            variants::MAX_VARIANTS
        )));
    }
    let variant = input.into_variant(&product, &time::now_rfc3339())?;
    let created = Event::about(tenant, EventType::VariantCreated, &variant)?;
    match db
        .create_variants(tenant, &product, std::slice::from_ref(&variant), created, Vec::new())
        .await
    {
        Ok(()) => Ok(variant),
        Err(WriteError::Refused(VariantConflict::Stale)) => Err(ApiError::not_found("product")),
        Err(WriteError::Refused(conflict)) => Err(variant_conflict(conflict, &variant, None)),
        Err(WriteError::Other(error)) => Err(error),
    }
}

/// Creates a variant for every combination of option values that has none yet.
pub async fn generate_variants(db: &Db, tenant: &Tenant, product_id: &str) -> Result<Vec<Variant>, ApiError> {
    let product = product_by_id(db, tenant, product_id).await?;
    if product.options.is_empty() {
        return Err(ApiError::conflict(
            "the product has no options to combine; add one first",
        ));
    }
    let existing = db.scoped(tenant).list_variants(product.id).await?;
    let missing = variants::missing_combinations(&product, &existing);
    if existing.len() + missing.len() > variants::MAX_VARIANTS {
        return Err(ApiError::conflict(format!(
            "{} more variants would exceed the limit of {} per product",
            missing.len(),
            variants::MAX_VARIANTS
        )));
    }
    let now = time::now_rfc3339();
    let created: Vec<Variant> = missing
        .into_iter()
        .map(|option_values| {
            VariantIn {
                sku: None,
                price: None,
                option_values,
            }
            .into_variant(&product, &now)
        })
        .collect::<Result<_, _>>()?;
    for chunk in created.chunks(VARIANTS_PER_WRITE) {
        let mut events = chunk
            .iter()
            .map(|v| Event::about(tenant, EventType::VariantCreated, v))
            .collect::<Result<Vec<_>, _>>()?;
        let first = events.remove(0);
        match db.create_variants(tenant, &product, chunk, first, events).await {
            Ok(()) => {}
            // A concurrent request created one of these combinations: the others are still missing.
            Err(WriteError::Refused(VariantConflict::Combination)) => {
                return Err(ApiError::conflict("variants were created meanwhile; generate again"))
            }
            Err(WriteError::Refused(conflict)) => return Err(variant_conflict(conflict, &chunk[0], None)),
            Err(WriteError::Other(error)) => return Err(error),
        }
    }
    Ok(created)
}

/// A product's variants, each with its stock.
pub async fn list_variants(db: &Db, tenant: &Tenant, product_id: &str) -> Result<Vec<VariantOut>, ApiError> {
    let product = product_by_id(db, tenant, product_id).await?;
    let variants = db.scoped(tenant).list_variants(product.id).await?;
    answered_variants(db, tenant, variants).await
}

pub async fn get_variant(db: &Db, tenant: &Tenant, product_id: &str, id: &str) -> Result<VariantOut, ApiError> {
    let product = product_by_id(db, tenant, product_id).await?;
    let variant = variant_by_id(db, tenant, product.id, id).await?;
    let mut answered = answered_variants(db, tenant, vec![variant]).await?;
    answered
        .pop()
        .ok_or_else(|| ApiError::internal("a variant went missing from its own answer"))
}

pub async fn update_variant(
    db: &Db,
    tenant: &Tenant,
    product_id: &str,
    id: &str,
    patch: VariantPatch,
    if_match: Option<u64>,
) -> Result<Variant, ApiError> {
    let product = product_by_id(db, tenant, product_id).await?;
    let before = variant_by_id(db, tenant, product.id, id).await?;
    ApiError::unless_version("variant", before.version, if_match)?;
    let after = patch.apply(&before, &product, &time::now_rfc3339())?;
    if after == before {
        return Ok(before);
    }
    let updated = Event::about(tenant, EventType::VariantUpdated, &after)?;
    match db.update_variant(tenant, &before, &after, updated).await {
        Ok(()) => Ok(after),
        Err(WriteError::Refused(conflict)) => Err(variant_conflict(conflict, &after, if_match)),
        Err(WriteError::Other(error)) => Err(error),
    }
}

pub async fn delete_variant(db: &Db, tenant: &Tenant, product_id: &str, id: &str) -> Result<(), ApiError> {
    let product = product_by_id(db, tenant, product_id).await?;
    let variant = variant_by_id(db, tenant, product.id, id).await?;
    let deleted = Event::about(tenant, EventType::VariantDeleted, &variant)?;
    match db.delete_variant(tenant, &product, &variant, deleted).await {
        Ok(()) => Ok(()),
        Err(WriteError::Refused(conflict)) => Err(variant_conflict(conflict, &variant, None)),
        Err(WriteError::Other(error)) => Err(error),
    }
}

fn stale(if_match: Option<u64>, what: &str) -> ApiError {
    match if_match {
        Some(_) => ApiError::PreconditionFailed(format!("the {what} changed since you read it; read it again")),
        None => ApiError::conflict(format!("the {what} was changed by another request; retry")),
    }
}
