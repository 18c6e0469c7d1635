//! `functions/catalog`: products, categories, brands and search. Handlers parse, call `cartwheel::catalog`, and
//! answer; every rule lives there.

use axum::extract::Path;
use axum::http::StatusCode;
use bytes::Bytes;
use cartwheel::catalog::products::{Action, ProductIn, ProductListParams, ProductPatch};
use cartwheel::catalog::stock::{IncludeParams, ProductOut, VariantOut};
use cartwheel::catalog::taxonomy::{Brand, BrandIn, BrandPatch, Category, CategoryIn, CategoryPatch};
use cartwheel::catalog::variants::{OptionIn, OptionValuesIn, Variant, VariantIn, VariantPatch};
use cartwheel::catalog::{self, taxons, SearchOut, SearchParams, SuggestParams, Suggestion};
use cartwheel::error::ErrorBody;
use cartwheel::http::extract::parse_json;
use cartwheel::http::pagination::{ListOut, PageParams};
use cartwheel::http::versioning::{IfMatch, Tagged};
use cartwheel::http::{AppState, DataOut, Json, ListQuery, Query};
use cartwheel::http::{Caller, Created, Data};
use cartwheel::tenant::can;
use cartwheel::ApiError;
use serde::Deserialize;
use utoipa::ToSchema;

cartwheel::function_routes! {
    AppState;
    (create_product, list_products),
    (get_product),
    (update_product, delete_product),
    (act_on_product),
    (add_product_category, remove_product_category),
    (add_option),
    (add_option_values),
    (create_variant, list_variants),
    (generate_variants),
    (get_variant, update_variant, delete_variant),
    (create_category, list_categories),
    (get_category, update_category, delete_category),
    (create_brand, list_brands),
    (get_brand, update_brand, delete_brand),
    (search),
    (suggest),
}

type Result<T> = std::result::Result<T, ApiError>;

/// Create a product
#[utoipa::path(post, path = "/v1/products", tag = "products", security(("api_key" = ["products:write"])), request_body = ProductIn,
    responses(
        (status = 201, description = "Created; `ETag` holds its version", body = DataOut<ProductOut>),
        (status = 409, description = "Slug or SKU already used", body = ErrorBody),
    ))]
async fn create_product(c: Caller<can::ProductsWrite>, Json(input): Json<ProductIn>) -> Result<Tagged<ProductOut>> {
    Ok(Tagged::created(catalog::create_product(&c.db, &c.tenant, input).await?))
}

/// List products
///
/// Filters combine; the most selective one picks the index, the others are checked on each product.
#[utoipa::path(get, path = "/v1/products", tag = "products", security(("api_key" = ["products:read"])), params(PageParams, ProductListParams),
    responses((status = 200, description = "A page of products", body = ListOut<ProductOut>)))]
async fn list_products(
    c: Caller<can::ProductsRead>,
    ListQuery(page, params): ListQuery<ProductListParams>,
) -> Result<axum::Json<ListOut<ProductOut>>> {
    Ok(axum::Json(
        catalog::list_products(&c.db, &c.tenant, &page, &params).await?,
    ))
}

/// Get a product by id or slug
#[utoipa::path(get, path = "/v1/products/{id}", tag = "products", security(("api_key" = ["products:read"])),
    params(("id" = String, Path, description = "`prod_…`, or the product's slug"), IncludeParams),
    responses((status = 200, description = "The product; `ETag` holds its version", body = DataOut<ProductOut>)))]
async fn get_product(
    c: Caller<can::ProductsRead>,
    Path(id_or_slug): Path<String>,
    Query(include): Query<IncludeParams>,
) -> Result<Tagged<ProductOut>> {
    Ok(Tagged::ok(
        catalog::get_product(&c.db, &c.tenant, &id_or_slug, &include).await?,
    ))
}

/// Update a product
///
/// Partial: absent fields are kept, `null` clears. Send `If-Match` with the `ETag` you read to refuse
/// overwriting someone else's change (`412`). Status changes go through the action routes.
#[utoipa::path(patch, path = "/v1/products/{id}", tag = "products", security(("api_key" = ["products:write"])), request_body = ProductPatch,
    params(("id" = String, Path, description = "`prod_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 200, description = "The product after the change", body = DataOut<ProductOut>),
        (status = 409, description = "Slug or SKU already used, or a concurrent change", body = ErrorBody),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn update_product(
    c: Caller<can::ProductsWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    Json(patch): Json<ProductPatch>,
) -> Result<Tagged<ProductOut>> {
    Ok(Tagged::ok(
        catalog::update_product(&c.db, &c.tenant, &id, patch, if_match).await?,
    ))
}

/// Delete a product
///
/// Removes the product, its slug and SKU, and its index entries. Orders keep their own copy of what was sold,
/// so a deleted product never changes an order.
#[utoipa::path(delete, path = "/v1/products/{id}", tag = "products", security(("api_key" = ["products:write"])),
    params(("id" = String, Path, description = "`prod_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn delete_product(
    c: Caller<can::ProductsWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
) -> Result<StatusCode> {
    catalog::delete_product(&c.db, &c.tenant, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum ProductAction {
    Publish,
    Archive,
    Discontinue,
    Recall,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ActionIn {
    /// Required for `recall`, which records it; the other actions take it but keep no reason.
    #[schema(max_length = 1000)]
    reason: Option<String>,
}

/// Change a product's status
///
/// `publish` (draft, archived → active), `archive` (draft, active, discontinued → archived), `discontinue`
/// (active, archived → discontinued), `recall` (any but recalled → recalled; needs `reason`; emits
/// `recall.created`). Any other move is `409`, naming the actions allowed.
#[utoipa::path(post, path = "/v1/products/{id}/{action}", tag = "products", security(("api_key" = ["products:write"])), request_body(content = ActionIn, description = "Optional except for `recall`"),
    params(("id" = String, Path, description = "`prod_…`"),
           ("action" = inline(ProductAction), Path, description = "publish, archive, discontinue or recall"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 200, description = "The product after the change", body = DataOut<ProductOut>),
        (status = 409, description = "Not allowed from the current status", body = ErrorBody),
    ))]
async fn act_on_product(
    c: Caller<can::ProductsWrite>,
    Path((id, action)): Path<(String, String)>,
    IfMatch(if_match): IfMatch,
    body: Bytes,
) -> Result<Tagged<ProductOut>> {
    let action = match action.as_str() {
        "publish" => Action::Publish,
        "archive" => Action::Archive,
        "discontinue" => Action::Discontinue,
        "recall" => Action::Recall,
        _ => return Err(ApiError::NotFound("no such route".into())),
    };
    let input: ActionIn = if body.iter().all(u8::is_ascii_whitespace) {
        ActionIn::default()
    } else {
        parse_json(&body)?
    };
    let product = catalog::act_on_product(&c.db, &c.tenant, &id, action, input.reason, if_match).await?;
    Ok(Tagged::ok(product))
}

/// Add a product to a category
#[utoipa::path(post, path = "/v1/products/{id}/categories/{category_id}", tag = "products", security(("api_key" = ["products:write"])),
    params(("id" = String, Path), ("category_id" = String, Path)),
    responses((status = 200, description = "The product", body = DataOut<ProductOut>)))]
async fn add_product_category(
    c: Caller<can::ProductsWrite>,
    Path((id, category)): Path<(String, String)>,
) -> Result<Tagged<ProductOut>> {
    Ok(Tagged::ok(
        catalog::set_product_category(&c.db, &c.tenant, &id, &category, true).await?,
    ))
}

/// Take a product out of a category
#[utoipa::path(delete, path = "/v1/products/{id}/categories/{category_id}", tag = "products", security(("api_key" = ["products:write"])),
    params(("id" = String, Path), ("category_id" = String, Path)),
    responses((status = 200, description = "The product", body = DataOut<ProductOut>)))]
async fn remove_product_category(
    c: Caller<can::ProductsWrite>,
    Path((id, category)): Path<(String, String)>,
) -> Result<Tagged<ProductOut>> {
    Ok(Tagged::ok(
        catalog::set_product_category(&c.db, &c.tenant, &id, &category, false).await?,
    ))
}

/// Add values to a product's option
///
/// `{"values": ["XL"]}` after the option's own (at most 50 in all). Its variants keep theirs; `generate` makes
/// the combinations the new values allow. Emits `product.updated`.
#[utoipa::path(post, path = "/v1/products/{id}/options/{option}/values", tag = "variants", security(("api_key" = ["products:write"])), request_body = OptionValuesIn,
    params(("id" = String, Path, description = "`prod_…`"), ("option" = String, Path, description = "The option's name, e.g. `Size`")),
    responses(
        (status = 201, description = "The product with the option's new values", body = DataOut<ProductOut>),
        (status = 404, description = "No such product, or no option of that name", body = ErrorBody),
    ))]
async fn add_option_values(
    c: Caller<can::ProductsWrite>,
    Path((id, option)): Path<(String, String)>,
    Json(input): Json<OptionValuesIn>,
) -> Result<Tagged<ProductOut>> {
    let product = catalog::add_option_values(&c.db, &c.tenant, &id, &option, input).await?;
    Ok(Tagged::created(product))
}

/// Add an option to a product
///
/// `{"name": "Size", "values": ["S", "M", "L"]}`; at most 3 options, and only while the product has no variants.
#[utoipa::path(post, path = "/v1/products/{id}/options", tag = "variants", security(("api_key" = ["products:write"])), request_body = OptionIn,
    params(("id" = String, Path, description = "`prod_…`")),
    responses(
        (status = 201, description = "The product with its new option", body = DataOut<ProductOut>),
        (status = 409, description = "The option exists, or the product has variants", body = ErrorBody),
    ))]
async fn add_option(
    c: Caller<can::ProductsWrite>,
    Path(id): Path<String>,
    Json(input): Json<OptionIn>,
) -> Result<Tagged<ProductOut>> {
    Ok(Tagged::created(
        catalog::add_option(&c.db, &c.tenant, &id, input).await?,
    ))
}

/// Create a variant
///
/// One value for each of the product's options; its own SKU (unique across products and variants) and,
/// optionally, its own price in the product's currency.
#[utoipa::path(post, path = "/v1/products/{id}/variants", tag = "variants", security(("api_key" = ["products:write"])), request_body = VariantIn,
    params(("id" = String, Path, description = "`prod_…`")),
    responses(
        (status = 201, description = "The variant", body = DataOut<Variant>),
        (status = 409, description = "SKU used, or these option values taken", body = ErrorBody),
    ))]
async fn create_variant(
    c: Caller<can::ProductsWrite>,
    Path(id): Path<String>,
    Json(input): Json<VariantIn>,
) -> Result<Tagged<Variant>> {
    Ok(Tagged::created(
        catalog::create_variant(&c.db, &c.tenant, &id, input).await?,
    ))
}

/// List a product's variants
#[utoipa::path(get, path = "/v1/products/{id}/variants", tag = "variants", security(("api_key" = ["products:read"])),
    params(("id" = String, Path, description = "`prod_…`"), PageParams),
    responses(
        (status = 200, description = "Its variants (at most 100 in all), oldest first, each with its stock", body = ListOut<VariantOut>),
    ))]
async fn list_variants(
    c: Caller<can::ProductsRead>,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<ListOut<VariantOut>>> {
    let variants = catalog::list_variants(&c.db, &c.tenant, &id).await?;
    Ok(axum::Json(page.page_of(&c.tenant.key_prefix(), variants)?))
}

/// Generate the missing variants
///
/// Creates one variant for every combination of option values that has none yet (the cartesian product of the
/// options, skipping existing ones), without SKU or price override.
#[utoipa::path(post, path = "/v1/products/{id}/variants/generate", tag = "variants", security(("api_key" = ["products:write"])),
    params(("id" = String, Path, description = "`prod_…`")),
    responses(
        (status = 201, description = "The variants created (possibly none)", body = DataOut<Vec<Variant>>),
        (status = 409, description = "No options, or over 100 variants", body = ErrorBody),
    ))]
async fn generate_variants(c: Caller<can::ProductsWrite>, Path(id): Path<String>) -> Result<Created<Vec<Variant>>> {
    let created = catalog::generate_variants(&c.db, &c.tenant, &id).await?;
    Ok(Created(created))
}

/// Get a variant
#[utoipa::path(get, path = "/v1/products/{id}/variants/{variant_id}", tag = "variants", security(("api_key" = ["products:read"])),
    params(("id" = String, Path), ("variant_id" = String, Path)),
    responses((status = 200, description = "The variant, with its stock", body = DataOut<VariantOut>)))]
async fn get_variant(
    c: Caller<can::ProductsRead>,
    Path((id, variant)): Path<(String, String)>,
) -> Result<Tagged<VariantOut>> {
    Ok(Tagged::ok(catalog::get_variant(&c.db, &c.tenant, &id, &variant).await?))
}

/// Update a variant's SKU or price
#[utoipa::path(patch, path = "/v1/products/{id}/variants/{variant_id}", tag = "variants", security(("api_key" = ["products:write"])), request_body = VariantPatch,
    params(("id" = String, Path), ("variant_id" = String, Path),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 200, description = "The variant", body = DataOut<Variant>),
        (status = 409, description = "SKU used", body = ErrorBody),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn update_variant(
    c: Caller<can::ProductsWrite>,
    Path((id, variant)): Path<(String, String)>,
    IfMatch(if_match): IfMatch,
    Json(patch): Json<VariantPatch>,
) -> Result<Tagged<Variant>> {
    let variant = catalog::update_variant(&c.db, &c.tenant, &id, &variant, patch, if_match).await?;
    Ok(Tagged::ok(variant))
}

/// Delete a variant
#[utoipa::path(delete, path = "/v1/products/{id}/variants/{variant_id}", tag = "variants", security(("api_key" = ["products:write"])),
    params(("id" = String, Path), ("variant_id" = String, Path)),
    responses((status = 204, description = "Deleted")))]
async fn delete_variant(
    c: Caller<can::ProductsWrite>,
    Path((id, variant)): Path<(String, String)>,
) -> Result<StatusCode> {
    catalog::delete_variant(&c.db, &c.tenant, &id, &variant).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Categories and brands answer the same five routes over their record (`cartwheel::catalog::taxons`); only the
/// names and the documentation differ.
macro_rules! taxon_routes {
    (
        $record:ident($input:ident, $patch:ident), tag $tag:tt, at $collection:tt and $item:tt;
        $create:ident $create_doc:tt, $list:ident $list_doc:tt $listed:tt, $get:ident $get_doc:tt $got:tt;
        $(#[$update_doc:meta])* $update:ident;
        $(#[$delete_doc:meta])* $delete:ident $in_use:tt;
    ) => {
        #[doc = $create_doc]
        #[utoipa::path(post, path = $collection, tag = $tag, security(("api_key" = ["products:write"])), request_body = $input,
            responses((status = 201, description = "Created", body = DataOut<$record>)))]
        async fn $create(c: Caller<can::ProductsWrite>, Json(input): Json<$input>) -> Result<Tagged<$record>> {
            Ok(Tagged::created(taxons::create::<$record>(&c.db, &c.tenant, input).await?))
        }

        #[doc = $list_doc]
        #[utoipa::path(get, path = $collection, tag = $tag, security(("api_key" = ["products:read"])), params(PageParams),
            responses((status = 200, description = $listed, body = ListOut<$record>)))]
        async fn $list(c: Caller<can::ProductsRead>, Query(params): Query<PageParams>) -> Result<axum::Json<ListOut<$record>>> {
            Ok(axum::Json(taxons::list::<$record>(&c.db, &c.tenant, &params).await?))
        }

        #[doc = $get_doc]
        #[utoipa::path(get, path = $item, tag = $tag, security(("api_key" = ["products:read"])), params(("id" = String, Path)),
            responses((status = 200, description = $got, body = DataOut<$record>)))]
        async fn $get(c: Caller<can::ProductsRead>, Path(id): Path<String>) -> Result<Tagged<$record>> {
            Ok(Tagged::ok(taxons::get::<$record>(&c.db, &c.tenant, &id).await?))
        }

        $(#[$update_doc])*
        #[utoipa::path(patch, path = $item, tag = $tag, security(("api_key" = ["products:write"])), request_body = $patch,
            params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
            responses(
                (status = 200, description = $got, body = DataOut<$record>),
                (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
            ))]
        async fn $update(
            c: Caller<can::ProductsWrite>,
            Path(id): Path<String>,
            IfMatch(if_match): IfMatch,
            Json(patch): Json<$patch>,
        ) -> Result<Tagged<$record>> {
            Ok(Tagged::ok(taxons::update::<$record>(&c.db, &c.tenant, &id, patch, if_match).await?))
        }

        $(#[$delete_doc])*
        #[utoipa::path(delete, path = $item, tag = $tag, security(("api_key" = ["products:write"])), params(("id" = String, Path)),
            responses(
                (status = 204, description = "Deleted"),
                (status = 409, description = $in_use, body = ErrorBody),
            ))]
        async fn $delete(c: Caller<can::ProductsWrite>, Path(id): Path<String>) -> Result<StatusCode> {
            taxons::delete::<$record>(&c.db, &c.tenant, &id).await?;
            Ok(StatusCode::NO_CONTENT)
        }
    };
}

taxon_routes! {
    Category(CategoryIn, CategoryPatch), tag "categories", at "/v1/categories" and "/v1/categories/{id}";
    create_category "Create a category", list_categories "List categories" "A page of categories, oldest first",
        get_category "Get a category" "The category";
    /// Update a category
    ///
    /// Moving it (`parent_id`) under itself or one of its subcategories is refused.
    update_category;
    /// Delete a category
    ///
    /// Only an empty one: `409` while products or subcategories are in it.
    delete_category "Still has products or subcategories";
}

taxon_routes! {
    Brand(BrandIn, BrandPatch), tag "brands", at "/v1/brands" and "/v1/brands/{id}";
    create_brand "Create a brand", list_brands "List brands" "A page of brands, oldest first",
        get_brand "Get a brand" "The brand";
    /// Update a brand
    update_brand;
    /// Delete a brand
    ///
    /// Only one no product uses: `409` otherwise.
    delete_brand "Products use it";
}

/// Search products
///
/// Prefix match on the words of names, SKUs, descriptions and localized texts, accent- and case-insensitive, with
/// the exact total when at most 500 products match, and optional facet counts.
#[utoipa::path(get, path = "/v1/search", tag = "search", security(("api_key" = ["products:read"])), params(PageParams, SearchParams),
    responses((status = 200, description = "Matching products, and facet counts when asked", body = SearchOut)))]
async fn search(
    c: Caller<can::ProductsRead>,
    ListQuery(page, params): ListQuery<SearchParams>,
) -> Result<axum::Json<SearchOut>> {
    Ok(axum::Json(
        catalog::search_products(&c.db, &c.tenant, &page, params).await?,
    ))
}

/// Suggest names
///
/// Products (by the words of their names and SKUs), categories and brands with a word starting with `prefix`.
#[utoipa::path(get, path = "/v1/search/suggest", tag = "search", security(("api_key" = ["products:read"])), params(SuggestParams),
    responses((status = 200, description = "Names with a word that starts with `prefix`, ordered by that word", body = DataOut<Vec<Suggestion>>)))]
async fn suggest(c: Caller<can::ProductsRead>, Query(params): Query<SuggestParams>) -> Result<Data<Vec<Suggestion>>> {
    Ok(Data(catalog::suggest(&c.db, &c.tenant, params).await?))
}
