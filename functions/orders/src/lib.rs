//! `functions/orders`: orders, their status machine, fulfillments and refunds, and the payment provider's
//! callbacks (`POST /v1/payments/webhook`, signed with a shared secret instead of an API key).

use axum::extract::{FromRef, Path, State};
use axum::http::HeaderMap;
use cartwheel::error::ErrorBody;
use cartwheel::http::pagination::{ListOut, PageParams};
use cartwheel::http::{parse_json, AppState, DataOut, Json, ListQuery, Query};
use cartwheel::http::{Caller, Created, Data};
use cartwheel::orders::{self, Fulfillment, FulfillmentIn, Order, OrderListParams, Refund, RefundIn, StatusPatch};
use cartwheel::payments::{self, PaymentCallback, PaymentsSecret};
use cartwheel::secrets::{self, SecretError};
use cartwheel::tenant::can;
use cartwheel::{time, ApiError};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone)]
pub struct OrdersState {
    pub app: AppState,
    pub payments: PaymentsSecret,
}

impl FromRef<OrdersState> for AppState {
    fn from_ref(state: &OrdersState) -> AppState {
        state.app.clone()
    }
}

impl OrdersState {
    /// The payment provider's secret: from `CARTWHEEL_PAYMENTS_WEBHOOK_SECRET` on the local stack, otherwise
    /// from Secrets Manager, once per cold start.
    pub async fn load(app: AppState, sdk: &aws_config::SdkConfig) -> std::result::Result<Self, SecretError> {
        if let Some(payments) = app.config.payments_webhook_secret.clone() {
            return Ok(Self { app, payments });
        }
        let secret = &app.config.payments_webhook_secret_id;
        let payments = PaymentsSecret::new(&secrets::read(sdk, secret).await?)
            .ok_or_else(|| SecretError::new(secret, "the secret is empty"))?;
        Ok(Self { app, payments })
    }
}

cartwheel::function_routes! {
    OrdersState;
    (list_orders),
    (get_order),
    (change_status),
    (create_fulfillment, list_fulfillments),
    (create_refund, list_refunds),
    (payment_webhook),
}

type Result<T> = std::result::Result<T, ApiError>;

/// List orders
///
/// Newest first; every filter may be combined (a filtered page can hold fewer than `limit` orders while
/// `has_more` is true).
#[utoipa::path(get, path = "/v1/orders", tag = "orders", security(("api_key" = ["orders:read"])), params(PageParams, OrderListParams),
    responses((status = 200, description = "A page of orders", body = ListOut<Order>)))]
async fn list_orders(
    c: Caller<can::OrdersRead>,
    ListQuery(page, params): ListQuery<OrderListParams>,
) -> Result<axum::Json<ListOut<Order>>> {
    let page = page.parse(&c.tenant.key_prefix())?;
    Ok(axum::Json(orders::list_orders(&c.db, &c.tenant, &params, &page).await?))
}

/// Get an order
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders", security(("api_key" = ["orders:read"])),
    params(("id" = String, Path, description = "`ord_…` or the order number `ORD-2026-000042`")),
    responses((status = 200, description = "The order", body = DataOut<Order>)))]
async fn get_order(c: Caller<can::OrdersRead>, Path(id): Path<String>) -> Result<Data<Order>> {
    Ok(Data(orders::get_order(&c.db, &c.tenant, &id).await?))
}

/// Change an order's status
///
/// Along the machine only: `pending → confirmed → processing → fulfilled → delivered` (fulfillments make
/// `partially_fulfilled`), and `cancelled` from `pending`, `confirmed`, `processing` or `partially_fulfilled` —
/// which puts back in stock what was not shipped. `fulfilled` ships what is left (with `tracking_number`).
/// Any other move is `409 invalid_transition` with the allowed ones in `details`. Emits `order.status_changed`
/// (with `from` and `to`), and `order.cancelled` / `order.fulfilled`.
#[utoipa::path(patch, path = "/v1/orders/{id}/status", tag = "orders", security(("api_key" = ["orders:write"])), request_body = StatusPatch,
    params(("id" = String, Path, description = "`ord_…`")),
    responses(
        (status = 200, description = "The order", body = DataOut<Order>),
        (status = 409, description = "invalid_transition", body = ErrorBody),
    ))]
async fn change_status(
    c: Caller<can::OrdersWrite>,
    Path(id): Path<String>,
    Json(patch): Json<StatusPatch>,
) -> Result<Data<Order>> {
    Ok(Data(orders::change_status(&c.db, &c.tenant, &id, patch).await?))
}

/// Fulfill some lines
///
/// Ships units of a `confirmed`, `processing` or `partially_fulfilled` order, never more than ordered; the
/// order becomes `partially_fulfilled` or `fulfilled`. Emits `order.fulfillment_created`.
#[utoipa::path(post, path = "/v1/orders/{id}/fulfillments", tag = "orders", security(("api_key" = ["orders:write"])), request_body = FulfillmentIn,
    params(("id" = String, Path, description = "`ord_…`")),
    responses(
        (status = 201, description = "The fulfillment", body = DataOut<Fulfillment>),
        (status = 409, description = "The order cannot be fulfilled in its status", body = ErrorBody),
        (status = 422, description = "More than is left to ship, or an unknown line", body = ErrorBody),
    ))]
async fn create_fulfillment(
    c: Caller<can::OrdersWrite>,
    Path(id): Path<String>,
    Json(input): Json<FulfillmentIn>,
) -> Result<Created<Fulfillment>> {
    let fulfillment = orders::create_fulfillment(&c.db, &c.tenant, &id, input).await?;
    Ok(Created(fulfillment))
}

/// List an order's fulfillments
#[utoipa::path(get, path = "/v1/orders/{id}/fulfillments", tag = "orders", security(("api_key" = ["orders:read"])),
    params(("id" = String, Path, description = "`ord_…` or the order number"), PageParams),
    responses((status = 200, description = "The fulfillments, oldest first", body = ListOut<Fulfillment>)))]
async fn list_fulfillments(
    c: Caller<can::OrdersRead>,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<ListOut<Fulfillment>>> {
    let fulfillments = orders::list_fulfillments(&c.db, &c.tenant, &id).await?;
    Ok(axum::Json(page.page_of(&c.tenant.key_prefix(), fulfillments)?))
}

/// Refund an order
///
/// By `amount` in minor units (absent: all that is left), or by `lines` (and `shipping`): each unit's share of
/// what its line was charged, as stored on the order (never recomputed from today's prices or tax rates; a line
/// refunded in parts returns exactly its gross and tax). Refunds together never exceed what was paid, even when
/// sent at once (`409 refund_exceeds_payment`). `restock` puts back every unit not put back yet (with `lines`,
/// the refunded units). Emits `order.refunded`; a full refund makes the order `refunded` (a cancelled one stays
/// cancelled).
#[utoipa::path(post, path = "/v1/orders/{id}/refunds", tag = "orders", security(("api_key" = ["orders:write"])), request_body = RefundIn,
    params(("id" = String, Path, description = "`ord_…`")),
    responses(
        (status = 201, description = "The refund", body = DataOut<Refund>),
        (status = 409, description = "More than is left to refund, or nothing paid", body = ErrorBody),
    ))]
async fn create_refund(
    c: Caller<can::OrdersWrite>,
    Path(id): Path<String>,
    Json(input): Json<RefundIn>,
) -> Result<Created<Refund>> {
    let refund = orders::create_refund(&c.db, &c.tenant, &id, input).await?;
    Ok(Created(refund))
}

/// List an order's refunds
#[utoipa::path(get, path = "/v1/orders/{id}/refunds", tag = "orders", security(("api_key" = ["orders:read"])),
    params(("id" = String, Path, description = "`ord_…` or the order number"), PageParams),
    responses((status = 200, description = "The refunds, oldest first", body = ListOut<Refund>)))]
async fn list_refunds(
    c: Caller<can::OrdersRead>,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<ListOut<Refund>>> {
    let refunds = orders::list_refunds(&c.db, &c.tenant, &id).await?;
    Ok(axum::Json(page.page_of(&c.tenant.key_prefix(), refunds)?))
}

#[derive(Serialize, ToSchema)]
struct CallbackOut {
    received: bool,
    /// The order after the callback; absent for event types Cartwheel ignores.
    order_id: Option<String>,
    payment_status: Option<String>,
}

/// Receive a payment provider callback
///
/// No API key: the body is signed with the secret shared with the provider, `Payment-Signature:
/// t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, and refused (`401`) when the signature does not match or
/// `t` is more than five minutes away. `payment_intent.succeeded` with `metadata.order_id` and
/// `metadata.store_id` marks the order paid and confirms it (`payment.received`);
/// `payment_intent.payment_failed` emits `payment.failed`; other types are acknowledged. A repeated callback
/// changes nothing.
#[utoipa::path(post, path = "/v1/payments/webhook", tag = "payments", security(()), request_body = PaymentCallback,
    params(("Payment-Signature" = String, Header, description = "t=…,v1=…")),
    responses(
        (status = 200, description = "Handled (or ignored)", body = DataOut<CallbackOut>),
        (status = 401, description = "Bad or stale signature", body = ErrorBody),
    ))]
async fn payment_webhook(
    State(state): State<OrdersState>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Result<Data<CallbackOut>> {
    let signature = headers.get(payments::SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    state.payments.verify(signature, &body, time::now().unix_timestamp())?;
    let callback: PaymentCallback = parse_json(&body)?;
    let order = payments::handle_callback(&state.app.db, &callback).await?;
    Ok(Data(CallbackOut {
        received: true,
        order_id: order.as_ref().map(|o| o.id.to_string()),
        payment_status: order.map(|o| o.payment_status.as_str().to_owned()),
    }))
}
