//! `functions/carts`: carts whose lines are priced from the catalog at every read.

use axum::extract::Path;
use cartwheel::carts::{
    self, CartIn, CartItemIn, CartItemPatch, CartOut, CartPatch, CartViewParams, PromotionCodeIn, ShippingQuote,
};
use cartwheel::error::ErrorBody;
use cartwheel::http::{AppState, DataOut, Json, Query};
use cartwheel::http::{Caller, Created, Data};
use cartwheel::tenant::can;
use cartwheel::ApiError;

cartwheel::function_routes! {
    AppState;
    (create_cart),
    (get_cart, update_cart),
    (shipping_options),
    (add_item),
    (update_item, remove_item),
    (add_promotion_code),
    (remove_promotion_code),
}

type Result<T> = std::result::Result<T, ApiError>;

/// Create a cart
///
/// Carts expire after 7 days without a change.
#[utoipa::path(post, path = "/v1/carts", tag = "carts", security(("api_key" = ["carts:write"])), request_body = CartIn,
    responses((status = 201, description = "The cart", body = DataOut<CartOut>)))]
async fn create_cart(c: Caller<can::CartsWrite>, Json(input): Json<CartIn>) -> Result<Created<CartOut>> {
    let cart = carts::create_cart(&c.db, &c.tenant, input).await?;
    Ok(Created(cart))
}

/// Get a cart
///
/// Lines at their current prices: the price record that applies to the cart's currency, customer groups, time and
/// quantities, else the catalog's price (`price_source`; docs/pricing.md). A line whose product is no longer
/// active, or has no price in the cart's currency, reads `purchasable: false` and is left out of the totals.
/// `explain=prices` lists, per line, every candidate record and why it lost.
#[utoipa::path(get, path = "/v1/carts/{id}", tag = "carts", security(("api_key" = ["carts:read"])),
    params(("id" = String, Path, description = "`cart_…`"), CartViewParams),
    responses(
        (status = 200, description = "The cart", body = DataOut<CartOut>),
        (status = 404, description = "No such cart, or it expired", body = ErrorBody),
    ))]
async fn get_cart(
    c: Caller<can::CartsRead>,
    Path(id): Path<String>,
    Query(params): Query<CartViewParams>,
) -> Result<Data<CartOut>> {
    Ok(Data(carts::get_cart(&c.db, &c.tenant, &id, params).await?))
}

/// Update a cart
///
/// Sets (or, with `null`, clears) its shipping address: the tax of its lines follows it.
#[utoipa::path(patch, path = "/v1/carts/{id}", tag = "carts", security(("api_key" = ["carts:write"])), request_body = CartPatch,
    params(("id" = String, Path, description = "`cart_…`")),
    responses(
        (status = 200, description = "The cart", body = DataOut<CartOut>),
        (status = 404, description = "No such cart, or it expired", body = ErrorBody),
    ))]
async fn update_cart(
    c: Caller<can::CartsWrite>,
    Path(id): Path<String>,
    Json(patch): Json<CartPatch>,
) -> Result<Data<CartOut>> {
    Ok(Data(carts::update_cart(&c.db, &c.tenant, &id, patch).await?))
}

/// List a cart's shipping options
///
/// The options of the zones that cover the cart's shipping address, in its currency, whose band the cart reaches,
/// each priced for it. None for a cart of digital products and services only. `422` until the cart has an address.
#[utoipa::path(get, path = "/v1/carts/{id}/shipping-options", tag = "carts", security(("api_key" = ["carts:read"])),
    params(("id" = String, Path, description = "`cart_…`")),
    responses(
        (status = 200, description = "The options that apply", body = DataOut<Vec<ShippingQuote>>),
        (status = 404, description = "No such cart, or it expired", body = ErrorBody),
    ))]
async fn shipping_options(c: Caller<can::CartsRead>, Path(id): Path<String>) -> Result<Data<Vec<ShippingQuote>>> {
    Ok(Data(carts::shipping_options(&c.db, &c.tenant, &id).await?))
}

/// Add an item
///
/// Only `active` products, priced in the cart's currency; adding a product (and variant) already in the cart
/// adds to its quantity.
#[utoipa::path(post, path = "/v1/carts/{id}/items", tag = "carts", security(("api_key" = ["carts:write"])), request_body = CartItemIn,
    params(("id" = String, Path, description = "`cart_…`")),
    responses(
        (status = 200, description = "The cart", body = DataOut<CartOut>),
        (status = 409, description = "The cart was checked out", body = ErrorBody),
        (status = 422, description = "No such product, or not active", body = ErrorBody),
    ))]
async fn add_item(
    c: Caller<can::CartsWrite>,
    Path(id): Path<String>,
    Json(input): Json<CartItemIn>,
) -> Result<Data<CartOut>> {
    Ok(Data(carts::add_item(&c.db, &c.tenant, &id, input).await?))
}

/// Change an item's quantity
///
/// `0` removes the line.
#[utoipa::path(patch, path = "/v1/carts/{id}/items/{item_id}", tag = "carts", security(("api_key" = ["carts:write"])), request_body = CartItemPatch,
    params(("id" = String, Path, description = "`cart_…`"), ("item_id" = String, Path, description = "`cli_…`")),
    responses((status = 200, description = "The cart", body = DataOut<CartOut>)))]
async fn update_item(
    c: Caller<can::CartsWrite>,
    Path((id, item)): Path<(String, String)>,
    Json(patch): Json<CartItemPatch>,
) -> Result<Data<CartOut>> {
    Ok(Data(carts::update_item(&c.db, &c.tenant, &id, &item, patch).await?))
}

/// Remove an item
#[utoipa::path(delete, path = "/v1/carts/{id}/items/{item_id}", tag = "carts", security(("api_key" = ["carts:write"])),
    params(("id" = String, Path, description = "`cart_…`"), ("item_id" = String, Path, description = "`cli_…`")),
    responses((status = 200, description = "The cart", body = DataOut<CartOut>)))]
async fn remove_item(c: Caller<can::CartsWrite>, Path((id, item)): Path<(String, String)>) -> Result<Data<CartOut>> {
    Ok(Data(carts::remove_item(&c.db, &c.tenant, &id, &item).await?))
}

/// Enter a promotion code
///
/// The code (without regard to case) must name one of the store's promotions (`422` otherwise); a cart holds at
/// most 5. Whether it applies, and why not, is in the cart's `promotions` (docs/promotions.md).
#[utoipa::path(post, path = "/v1/carts/{id}/promotion-codes", tag = "carts", security(("api_key" = ["carts:write"])), request_body = PromotionCodeIn,
    params(("id" = String, Path, description = "`cart_…`")),
    responses(
        (status = 200, description = "The cart", body = DataOut<CartOut>),
        (status = 422, description = "No promotion has the code, or the cart holds 5", body = ErrorBody),
    ))]
async fn add_promotion_code(
    c: Caller<can::CartsWrite>,
    Path(id): Path<String>,
    Json(input): Json<PromotionCodeIn>,
) -> Result<Data<CartOut>> {
    Ok(Data(carts::add_promotion_code(&c.db, &c.tenant, &id, input).await?))
}

/// Remove a promotion code
#[utoipa::path(delete, path = "/v1/carts/{id}/promotion-codes/{code}", tag = "carts", security(("api_key" = ["carts:write"])),
    params(("id" = String, Path, description = "`cart_…`"), ("code" = String, Path, description = "The code")),
    responses(
        (status = 200, description = "The cart", body = DataOut<CartOut>),
        (status = 404, description = "The cart does not hold the code", body = ErrorBody),
    ))]
async fn remove_promotion_code(
    c: Caller<can::CartsWrite>,
    Path((id, code)): Path<(String, String)>,
) -> Result<Data<CartOut>> {
    Ok(Data(carts::remove_promotion_code(&c.db, &c.tenant, &id, &code).await?))
}
