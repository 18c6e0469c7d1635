//! Orders: checkout (one transaction: the order, its stock, the cart, the number, the customer), the status
//! machine, fulfillments, refunds and the payment provider's callbacks. The rules are pure functions of an order;
//! the operations below put them together with storage, retrying when a concurrent change came first.

mod checkout;
mod fulfillments;
mod payment;
mod refunds;
mod status;

pub use checkout::*;
pub use fulfillments::*;
pub use payment::*;
pub use refunds::*;
pub use status::*;

use crate::body::request_body;
use macro_rules_attribute::apply;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use crate::carts::{self, CartStatus, MAX_LINE_QUANTITY};
use crate::customers::{self, normalize_email, Checks, Customer, PostalAddress};
use crate::db::Committed;
use crate::db::{id_of, Db, OrderWrite, StockMove, WriteError};
use crate::error::ApiError;
use crate::events::{Event, EventType};
use crate::http::pagination::Page;
use crate::ids::{
    AdjustmentId, CartId, CustomerId, FulfillmentId, OrderId, OrderLineId, ProductId, RefundId, ShippingOptionId,
    StoreId, WarehouseId,
};
use crate::inventory::{self, AdjustReason, Adjustment, Warehouse};
use crate::metrics::{self, Metric};
use crate::money::{CurrencyCode, Money, MAX_PRICE};
use crate::retry::Backoff;
use crate::tenant::{Mode, Scope, Tenant};
use crate::time;

use crate::model::orders::{invalid_transition, not_restocked, refunded_not_restocked, unshipped, RefundAsk};
pub use crate::model::orders::{order_number, record_payment, refund, refundable, ship};

pub use crate::model::orders::{
    Fulfillment, FulfillmentLine, Order, OrderFilter, OrderLine, OrderStatus, PaymentStatus, Refund, RefundedLine,
};

/// Lines of one order: each takes two items of the checkout transaction (stock and ledger) beside the order,
/// its number's guard, the cart, the customer, the event and the audit entry (DynamoDB's limit is 100).
pub const MAX_ORDER_LINES: usize = 40;
/// How long a write that keeps meeting concurrent ones retries (each attempt re-reads, after a [`Backoff`] pause)
/// before it answers `409 … retry`: checkouts of one hot product take turns on its stock level, so a busy
/// store's checkout waits rather than fails. Well inside the functions' 10 s timeout.
const RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(6);

#[apply(request_body!)]
pub struct CheckoutIn {
    pub cart_id: CartId,
    /// The buyer: a customer, or an email for a guest (an email of an existing customer links the order to it).
    pub customer_id: Option<CustomerId>,
    /// An email address: one `@`, a domain with a dot inside it, no white space (case-insensitive).
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\u0000-\u001F\u007F-\u009F]+@[^@.\s\u0000-\u001F\u007F-\u009F][^@\s\u0000-\u001F\u007F-\u009F]*\.[^@\s\u0000-\u001F\u007F-\u009F]*[^@.\s\u0000-\u001F\u007F-\u009F]$"
    )]
    pub email: Option<String>,
    pub shipping_address: PostalAddress,
    /// The shipping address when absent.
    pub billing_address: Option<PostalAddress>,
    /// The shipping option (default: the cart's). Required for physical products when options ship to the
    /// address (`422 shipping_option_required`).
    pub shipping_option_id: Option<ShippingOptionId>,
    #[schema(max_length = 200)]
    pub payment_method_id: Option<String>,
    /// Codes to apply beside the cart's (at most 5 together). Each code, the cart's too, must apply to this order:
    /// one that does not is refused with `422 promotion_not_applicable` and the reason.
    #[serde(default)]
    #[schema(schema_with = crate::body::strings::<5, 40>)]
    pub promotion_codes: Vec<String>,
    /// From `POST /v1/promotions/validate`: the checkout refuses with `409 quote_changed` when what its promotions
    /// take off differs from that quote.
    #[schema(max_length = 64)]
    pub quote_hash: Option<String>,
    /// Free text such as `web`, `pos`, `marketplace` (default `api`).
    #[schema(max_length = 50)]
    pub channel: Option<String>,
}

#[apply(request_body!)]
pub struct StatusPatch {
    pub status: OrderStatus,
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// With `fulfilled`: the tracking number of the shipment of what is left.
    #[schema(max_length = 100)]
    pub tracking_number: Option<String>,
}

#[apply(request_body!)]
pub struct FulfillmentLineIn {
    pub line_id: OrderLineId,
    /// At most what is left to ship of the line.
    #[schema(minimum = 1, maximum = 999)]
    pub quantity: u32,
}

#[apply(request_body!)]
pub struct FulfillmentIn {
    #[schema(min_items = 1, max_items = 40)]
    pub items: Vec<FulfillmentLineIn>,
    #[schema(max_length = 100)]
    pub carrier: Option<String>,
    #[schema(max_length = 100)]
    pub tracking_number: Option<String>,
    #[schema(max_length = 2000)]
    pub tracking_url: Option<String>,
    pub warehouse_id: Option<WarehouseId>,
}

#[apply(request_body!)]
pub struct RefundLineIn {
    pub line_id: OrderLineId,
    /// At most the line's units not refunded yet.
    #[schema(minimum = 1, maximum = 999)]
    pub quantity: u32,
}

#[apply(request_body!)]
pub struct RefundIn {
    /// In the order's currency's minor units; absent (and no `lines`): everything paid and not yet refunded.
    #[schema(minimum = 1, maximum = 10_000_000_000_000_i64)]
    pub amount: Option<i64>,
    /// Refund these units at what they were charged (their share of the line's stored gross and tax), instead of
    /// an amount. Each line at most once.
    #[schema(max_items = 250)]
    pub lines: Option<Vec<RefundLineIn>>,
    /// With `lines`: also refund the shipping line, once.
    #[serde(default)]
    pub shipping: bool,
    /// Not blank.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: String,
    /// Give back to stock every unit not given back yet; with `lines`, only the refunded units.
    #[serde(default)]
    pub restock: bool,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrderListParams {
    pub status: Option<OrderStatus>,
    pub payment_status: Option<PaymentStatus>,
    pub customer_id: Option<CustomerId>,
    /// Orders with a line of this product (any of its variants).
    pub product_id: Option<ProductId>,
    /// Exact email (case-insensitive).
    #[param(
        max_length = 254,
        pattern = r"^[^@\s\u0000-\u001F\u007F-\u009F]+@[^@.\s\u0000-\u001F\u007F-\u009F][^@\s\u0000-\u001F\u007F-\u009F]*\.[^@\s\u0000-\u001F\u007F-\u009F]*[^@.\s\u0000-\u001F\u007F-\u009F]$"
    )]
    pub email: Option<String>,
    pub channel: Option<String>,
    /// Created at or after (RFC 3339).
    pub from: Option<String>,
    /// Created at or before (RFC 3339).
    pub to: Option<String>,
}

// --- events -----------------------------------------------------------------------------------------------

/// An event about an order: `data` is the order, with `extra` fields beside its own (`status_change`, `refund`,
/// `payment`).
fn order_event(
    store: StoreId,
    mode: Mode,
    event_type: EventType,
    order: &Order,
    extra: Option<(&str, Value)>,
) -> Result<Event, ApiError> {
    let event = Event::about(&(store, mode), event_type, order)?;
    Ok(match extra {
        Some((name, value)) => event.with_data(name, value),
        None => event,
    })
}

/// `order.fulfillment_created`: the order, with the shipment.
fn fulfillment_event(store: StoreId, mode: Mode, order: &Order, fulfillment: &Fulfillment) -> Result<Event, ApiError> {
    let fulfillment = serde_json::to_value(fulfillment).map_err(ApiError::internal)?;
    order_event(
        store,
        mode,
        EventType::OrderFulfillmentCreated,
        order,
        Some(("fulfillment", fulfillment)),
    )
}

/// `order.status_changed` (with `from`, `to` and the reason), then `order.cancelled` / `order.fulfilled` where
/// they apply; nothing when the status did not change.
fn status_events(
    store: StoreId,
    mode: Mode,
    before: OrderStatus,
    after: &Order,
    reason: Option<&str>,
) -> Result<Vec<Event>, ApiError> {
    if before == after.status {
        return Ok(Vec::new());
    }
    let change = json!({"from": before.as_str(), "to": after.status.as_str(), "reason": reason});
    let mut events = vec![order_event(
        store,
        mode,
        EventType::OrderStatusChanged,
        after,
        Some(("status_change", change)),
    )?];
    match after.status {
        OrderStatus::Cancelled => events.push(Event::about(&(store, mode), EventType::OrderCancelled, after)?),
        OrderStatus::Fulfilled => events.push(Event::about(&(store, mode), EventType::OrderFulfilled, after)?),
        _ => {}
    }
    Ok(events)
}

/// Shaped like an order number: `ORD-`, a year, `-`, up to 19 digits. Anything else cannot name an order (and must
/// not reach DynamoDB, whose keys stop at 2 KB).
fn is_order_number(text: &str) -> bool {
    let digits =
        |part: &str, most: usize| !part.is_empty() && part.len() <= most && part.bytes().all(|b| b.is_ascii_digit());
    match text.strip_prefix("ORD-").and_then(|rest| rest.split_once('-')) {
        Some((year, seq)) => digits(year, 4) && digits(seq, 19),
        None => false,
    }
}

/// An order by its id or its number (`ORD-2026-000042`).
pub async fn get_order(db: &Db, tenant: &Tenant, id_or_number: &str) -> Result<Order, ApiError> {
    let id = if id_or_number.starts_with("ORD-") {
        if !is_order_number(id_or_number) {
            return Err(ApiError::not_found("order"));
        }
        db.scoped(tenant)
            .order_id_by_number(id_or_number)
            .await?
            .ok_or_else(|| ApiError::not_found("order"))?
    } else {
        id_of::<Order>(id_or_number)?
    };
    db.scoped(tenant)
        .record::<Order>(id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))
}

pub async fn list_orders(
    db: &Db,
    tenant: &Tenant,
    params: &OrderListParams,
    page: &Page,
) -> Result<crate::http::pagination::ListOut<Order>, ApiError> {
    let mut checks = Checks::default();
    let from = params
        .from
        .as_deref()
        .map(|t| customers::parse_time(&mut checks, "from", t, false));
    let to = params
        .to
        .as_deref()
        .map(|t| customers::parse_time(&mut checks, "to", t, true));
    let email = params.email.as_deref().map(|e| {
        normalize_email(e).unwrap_or_else(|| {
            checks.fail("email", "must be an email address");
            String::new()
        })
    });
    checks.finish()?;
    let mut equals = Vec::new();
    if let Some(status) = params.status {
        equals.push(("status", status.as_str().to_owned()));
    }
    if let Some(status) = params.payment_status {
        equals.push(("payment_status", status.as_str().to_owned()));
    }
    if let Some(customer) = params.customer_id {
        equals.push(("customer_id", customer.to_string()));
    }
    if let Some(email) = email {
        equals.push(("email", email));
    }
    if let Some(channel) = &params.channel {
        equals.push(("channel", channel.clone()));
    }
    let created = (from.is_some() || to.is_some()).then(|| {
        (
            OrderId::bounds_at(from.flatten().unwrap_or(0)).0,
            OrderId::bounds_at(to.flatten().unwrap_or(u64::MAX >> 16)).1,
        )
    });
    // `to` before `from`: nothing between (and DynamoDB refuses a range whose bounds are reversed).
    if created.is_some_and(|(from, to)| from > to) {
        return Ok(crate::http::pagination::PageOf {
            items: Vec::new(),
            next_cursor: None,
            limit: page.limit,
        }
        .into_list(|o| o));
    }
    let scope = db.scoped(tenant);
    let filter = OrderFilter {
        equals,
        created,
        product: params.product_id,
    };
    let found = scope.list_orders(&filter, page).await?;
    // Exact from the counter when nothing but the status narrows the list.
    let status_only = filter.created.is_none()
        && filter.product.is_none()
        && filter.equals.len() == usize::from(params.status.is_some());
    let total = match status_only {
        true => Some(
            scope
                .count(crate::db::Counted::Orders, params.status.map(|s| s.as_str()))
                .await?,
        ),
        false => None,
    };
    Ok(found.into_list(|o| o).with_total(total))
}

/// Who changes an order: a key of the store, or the payment provider.
pub struct Changer<'a> {
    pub store: StoreId,
    pub mode: Mode,
    pub actor: &'a str,
}

impl<'a> Changer<'a> {
    fn key(tenant: &Tenant, key_id: &'a str) -> Self {
        Changer {
            store: tenant.store_id,
            mode: tenant.mode,
            actor: key_id,
        }
    }
}

/// What a change of an order writes beside the order.
pub struct OrderChange {
    pub events: Vec<Event>,
    pub write: OrderWrite,
}

/// Reads an order, applies `change` and writes it (with what the change adds) while nothing else changed it;
/// a concurrent change makes it start over from a fresh read, so rules are always checked on the latest order.
async fn change_order(
    db: &Db,
    who: &Changer<'_>,
    id: OrderId,
    mut change: impl FnMut(&mut Order, &str) -> Result<Option<OrderChange>, ApiError>,
) -> Result<Order, ApiError> {
    let scope = db.store_scope(who.store, who.mode);
    let mut backoff = Backoff::default();
    let deadline = std::time::Instant::now() + RETRY_FOR;
    while std::time::Instant::now() < deadline {
        let before = scope
            .record::<Order>(id, true)
            .await?
            .ok_or_else(|| ApiError::not_found("order"))?;
        let mut after = before.clone();
        let now = time::now_rfc3339();
        after.version = before.version + 1;
        after.updated_at = now.clone();
        let Some(OrderChange { events, mut write }) = change(&mut after, &now)? else {
            return Ok(before);
        };
        if let Some(spend) = write.spend.take() {
            if let Some(customer) = before.customer_id {
                write.customer = scope.record::<Customer>(customer, true).await?.map(|c| {
                    let mut after = c.clone();
                    after.add_spend(spend);
                    after.version += 1;
                    after.updated_at = now.clone();
                    (c.version, after)
                });
            }
        }
        let levels: Vec<_> = write.stock.iter().map(|m| (m.item, m.warehouse)).collect();
        let payment_event = write.payment_event.clone();
        if scope
            .put_order_change(who.actor, &before, &after, write, events)
            .await
            .committed()?
        {
            inventory::settle_low_flags(db, who.store, who.mode, who.actor, &levels).await;
            return Ok(after);
        }
        // A duplicate callback that lost the race to its twin: the twin's change is the answer, not a retry.
        if let Some(event) = payment_event {
            if scope.payment_event_seen(&event).await? {
                return scope
                    .record::<Order>(id, true)
                    .await?
                    .ok_or_else(|| ApiError::not_found("order"));
            }
        }
        backoff.pause().await;
    }
    Err(ApiError::conflict("the order is changing fast; retry"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::orders::tests::order;

    #[test]
    fn order_numbers_are_recognised_by_shape() {
        assert!(is_order_number(&order_number(2026, 42)));
        assert!(is_order_number("ORD-2026-1234567"));
        for junk in [
            "ORD-",
            "ORD-2026",
            "ORD-2026-",
            "ORD-20x6-1",
            "ORD-2026-1a",
            &format!("ORD-2026-{}", "9".repeat(3000)),
        ] {
            assert!(!is_order_number(junk), "{junk}");
        }
    }

    #[test]
    fn cancelling_returns_only_what_was_not_shipped() {
        let mut order = order(OrderStatus::Confirmed, &[3, 2]);
        let a = order.lines[0].id;
        ship(
            &mut order,
            &[FulfillmentLine {
                line_id: a,
                quantity: 1,
            }],
        )
        .unwrap();
        assert_eq!(unshipped(&order), vec![(0, 2), (1, 2)]);
        let units = unshipped(&order);
        let moves = restock_moves(&mut order, units, AdjustReason::Restock, "key", "now");
        assert_eq!(moves.iter().map(|m| m.delta).collect::<Vec<_>>(), vec![2, 2]);
        assert!(unshipped(&order).is_empty());
        assert_eq!(not_restocked(&order), vec![(0, 1)]);
    }
}
