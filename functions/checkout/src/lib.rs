//! `functions/checkout`: a cart becomes an order in one DynamoDB transaction, or nothing happens.

use axum::http::StatusCode;
use cartwheel::error::ErrorBody;
use cartwheel::http::Caller;
use cartwheel::http::{AppState, DataOut, Json};
use cartwheel::orders::{self, CheckoutIn, Order};
use cartwheel::tenant::can;
use cartwheel::ApiError;

cartwheel::function_routes! {
    AppState;
    (checkout),
}

/// Check out a cart
///
/// The order's `ORD-YYYY-NNNNNN` number comes from an atomic counter first; then one transaction writes the order
/// and its lines, takes each line's stock (only if available), marks the cart converted, updates the customer's
/// `orders_count` and `lifetime_spend`, and records `order.created` and the audit entry — all of it, or none of it
/// (a refused checkout leaves a gap in the numbers). Prices come from the catalog. Send an `Idempotency-Key`: a
/// retry returns the same order.
#[utoipa::path(post, path = "/v1/checkout", tag = "checkout", security(("api_key" = ["checkout:write"])), request_body = CheckoutIn,
    responses(
        (status = 201, description = "The order", body = DataOut<Order>),
        (status = 403, description = "The customer is blacklisted", body = ErrorBody),
        (status = 404, description = "No such cart, or it expired", body = ErrorBody),
        (status = 409, description = "`insufficient_stock` (details per short line: id, requested, available), or the cart was checked out", body = ErrorBody),
        (status = 422, description = "Invalid input, an inactive product, or more lines than an order holds", body = ErrorBody),
    ))]
async fn checkout(
    c: Caller<can::CheckoutWrite>,
    Json(input): Json<CheckoutIn>,
) -> Result<(StatusCode, axum::Json<DataOut<Order>>), ApiError> {
    let order = orders::checkout(&c.db, &c.tenant, input).await?;
    Ok((StatusCode::CREATED, axum::Json(DataOut::new(order))))
}
