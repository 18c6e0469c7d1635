//! Orders: checkout (one transaction: the order, its stock, the cart, the number, the customer), the status
//! machine, fulfillments, refunds and the payment provider's callbacks. The rules are pure functions of an order;
//! the operations below put them together with storage, retrying when a concurrent change came first.

use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::carts::{self, CartStatus};
use crate::customers::{self, normalize_email, Checks, Customer, PostalAddress};
use crate::db::Committed;
use crate::db::{Db, OrderWrite, Stale, StockMove, WriteError};
use crate::error::ApiError;
use crate::events::{Event, EventType};
use crate::http::pagination::{Page, PageOf};
use crate::ids::{
    AdjustmentId, CartId, CustomerId, FulfillmentId, OrderId, OrderLineId, RefundId, StoreId, WarehouseId,
};
use crate::inventory::{self, AdjustReason, Adjustment, Warehouse};
use crate::money::{CurrencyCode, Money};
use crate::retry::Backoff;
use crate::tenant::{Mode, Scope, Tenant};
use crate::time;

use crate::model::orders::{invalid_transition, not_restocked, unshipped};
pub use crate::model::orders::{order_number, record_payment, refund, refundable, ship};

pub use crate::model::orders::{
    Fulfillment, FulfillmentLine, Order, OrderFilter, OrderLine, OrderStatus, PaymentStatus, Refund,
};

/// Lines of one order: each takes two items of the checkout transaction (stock and ledger) beside the order,
/// its number's guard, the cart, the customer, the event and the audit entry (DynamoDB's limit is 100).
pub const MAX_ORDER_LINES: usize = 40;
/// How long a write that keeps meeting concurrent ones retries (each attempt re-reads, after a [`Backoff`] pause)
/// before it answers `409 … retry`: checkouts of one hot product take turns on its stock level, so a busy
/// store's checkout waits rather than fails. Well inside the functions' 10 s timeout.
const RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(6);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutIn {
    pub cart_id: CartId,
    /// The buyer: a customer, or an email for a guest (an email of an existing customer links the order to it).
    pub customer_id: Option<CustomerId>,
    pub email: Option<String>,
    pub shipping_address: PostalAddress,
    /// The shipping address when absent.
    pub billing_address: Option<PostalAddress>,
    pub payment_method_id: Option<String>,
    /// Not available until the pricing function lands: any code is refused with `422`.
    #[serde(default)]
    pub promotion_codes: Vec<String>,
    /// Free text such as `web`, `pos`, `marketplace` (default `api`).
    pub channel: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPatch {
    pub status: OrderStatus,
    pub reason: Option<String>,
    /// With `fulfilled`: the tracking number of the shipment of what is left.
    pub tracking_number: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfillmentLineIn {
    pub line_id: OrderLineId,
    pub quantity: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfillmentIn {
    pub items: Vec<FulfillmentLineIn>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub warehouse_id: Option<WarehouseId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundIn {
    /// In the order's currency's minor units; absent: everything paid and not yet refunded.
    pub amount: Option<i64>,
    pub reason: String,
    /// Give back to stock every unit not given back yet.
    #[serde(default)]
    pub restock: bool,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderListParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub status: Option<OrderStatus>,
    pub payment_status: Option<PaymentStatus>,
    pub customer_id: Option<CustomerId>,
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

// --- operations -------------------------------------------------------------------------------------------

fn insufficient_stock(details: Vec<Value>) -> ApiError {
    ApiError::Conflict {
        code: "insufficient_stock",
        message: "not enough stock for every line; nothing was ordered".into(),
        details,
    }
}

/// Places an order from a cart: everything in one transaction, or nothing.
pub async fn checkout(db: &Db, tenant: &Tenant, input: CheckoutIn) -> Result<Order, ApiError> {
    let (store, mode) = (tenant.store_id, tenant.mode);
    let mut checks = Checks::default();
    checks.nest("shipping_address", input.shipping_address.check());
    if let Some(billing) = &input.billing_address {
        checks.nest("billing_address", billing.check());
    }
    let email = match &input.email {
        Some(email) => normalize_email(email).or_else(|| {
            checks.fail("email", "must be an email address");
            None
        }),
        None => None,
    };
    if !input.promotion_codes.is_empty() {
        checks.fail("promotion_codes", "promotion codes are not available yet");
    }
    checks.text("channel", input.channel.as_deref(), false, 50);
    checks.text("payment_method_id", input.payment_method_id.as_deref(), false, 200);
    checks.finish()?;

    let mut backoff = Backoff::default();
    let mut taken = None;
    let deadline = std::time::Instant::now() + RETRY_FOR;
    while std::time::Instant::now() < deadline {
        let cart = carts::load_cart(db, tenant, input.cart_id, true).await?;
        if cart.status == CartStatus::Converted {
            return Err(ApiError::conflict("the cart was checked out already"));
        }
        if cart.lines.is_empty() {
            return Err(ApiError::invalid("cart_id", "the cart is empty"));
        }
        if cart.lines.len() > MAX_ORDER_LINES {
            return Err(ApiError::invalid(
                "cart_id",
                format!(
                    "an order holds at most {MAX_ORDER_LINES} lines; this cart has {}",
                    cart.lines.len()
                ),
            ));
        }
        let customer_id = input.customer_id.or(cart.customer_id);
        let reads = db
            .store_scope(store, mode)
            .checkout_reads(&cart, customer_id, email.as_deref())
            .await?;
        let customer: Option<Customer> = match (customer_id, reads.customer) {
            (Some(_), None) => return Err(ApiError::invalid("customer_id", "no such customer")),
            (_, found) => found,
        };
        if customer.as_ref().is_some_and(|c| c.blacklisted) {
            return Err(ApiError::Forbidden(
                "this customer is blacklisted and cannot check out".into(),
            ));
        }
        let email = match (&email, &customer) {
            (Some(email), _) => email.clone(),
            // The customer's email would come back in the order: only to a key that may read it.
            (None, Some(_))
                if !(tenant.scopes.allows(Scope::CustomersRead) || tenant.scopes.allows(Scope::OrdersRead)) =>
            {
                return Err(ApiError::Forbidden(
                    "the order would show the customer's email, which this key may not read: pass `email`, or use a \
                     key with `customers:read` or `orders:read`"
                        .into(),
                ))
            }
            (None, Some(customer)) => customer.email.clone(),
            (None, None) => return Err(ApiError::invalid("email", "required for a guest checkout")),
        };
        let mut lines = Vec::with_capacity(cart.lines.len());
        let mut problems = Checks::default();
        for (index, line) in cart.lines.iter().enumerate() {
            match reads.catalog.price(line, cart.currency) {
                Ok(priced) => lines.push(OrderLine {
                    id: OrderLineId::new(),
                    product_id: line.product_id,
                    variant_id: line.variant_id,
                    name: priced.name,
                    sku: priced.sku,
                    quantity: line.quantity,
                    unit_price: priced.unit_price,
                    total: priced.total,
                    warehouse_id: reads.default_warehouse.unwrap_or_default(),
                    fulfilled_quantity: 0,
                    restocked_quantity: 0,
                }),
                Err(problem) => problems.fail(&format!("cart.items[{index}]"), problem),
            }
        }
        problems.finish()?;
        let zero = Money::new(0, cart.currency);
        let subtotal = lines
            .iter()
            .try_fold(zero, |sum, l| sum.checked_add(l.total))
            .ok_or_else(|| ApiError::invalid("cart_id", "the total is too large"))?;
        let Some(warehouse) = reads.default_warehouse else {
            // No warehouse has ever held stock: nothing is available.
            return Err(insufficient_stock(
                lines
                    .iter()
                    .map(|l| json!({"id": l.stock_item().to_string(), "requested": l.quantity, "available": 0}))
                    .collect(),
            ));
        };
        // Taken once the checkout is valid, and kept by its retries: gaps come only from checkouts refused below.
        let (year, number) = match taken {
            Some(taken) => taken,
            None => {
                let year = time::now().year();
                *taken.insert((year, db.store_scope(store, mode).take_order_number(year).await?))
            }
        };
        let now = time::now_rfc3339();
        let order = Order {
            id: OrderId::new(),
            number: order_number(year, number),
            status: OrderStatus::Pending,
            payment_status: PaymentStatus::Pending,
            channel: input.channel.clone().unwrap_or_else(|| "api".into()),
            currency: cart.currency,
            customer_id: customer.as_ref().map(|c| c.id),
            email,
            cart_id: cart.id,
            lines,
            subtotal,
            discount_total: zero,
            shipping_total: zero,
            tax_total: zero,
            total: subtotal,
            paid_total: zero,
            refunded_total: zero,
            shipping_address: input.shipping_address.clone(),
            billing_address: input
                .billing_address
                .clone()
                .unwrap_or_else(|| input.shipping_address.clone()),
            payment_method_id: input.payment_method_id.clone(),
            payment_intent_id: None,
            cancel_reason: None,
            created_at: now.clone(),
            updated_at: now.clone(),
            version: 1,
        };
        let customer = customer.map(|before| {
            let mut after = before.clone();
            after.orders_count += 1;
            after.add_spend(order.total);
            after.version += 1;
            after.updated_at = now.clone();
            (before.version, after)
        });
        let moves = sale_moves(&order, warehouse, &tenant.key_id.to_string(), &now);
        let event = Event::about(&(store, mode), EventType::OrderCreated, &order)?;
        let placed = db
            .place_order(tenant, &order, cart.version, customer.as_ref(), &moves, event)
            .await;
        match placed {
            Ok(()) => {
                let levels: Vec<_> = moves.iter().map(|m| (m.item, m.warehouse)).collect();
                inventory::settle_low_flags(db, store, mode, &tenant.key_id.to_string(), &levels).await;
                return Ok(order);
            }
            // A transaction conflict can hide a level that sold out meanwhile: reading the levels after any
            // refusal ends a sell-out rush at once instead of retrying it until the deadline.
            Err(WriteError::Refused(Stale)) => {
                let levels = db.store_scope(store, mode).levels_at(&moves).await?;
                let short: Vec<Value> = moves
                    .iter()
                    .zip(levels)
                    .filter(|(m, available)| *available < -m.delta)
                    .map(|(m, available)| json!({"id": m.item.to_string(), "requested": -m.delta, "available": available.max(0)}))
                    .collect();
                if !short.is_empty() {
                    return Err(insufficient_stock(short));
                }
            }
            Err(WriteError::Other(error)) => return Err(error),
        }
        backoff.pause().await;
    }
    Err(ApiError::conflict("the store is taking many orders at once; retry"))
}

/// Each line's units taken from `warehouse`, with its ledger line.
fn sale_moves(order: &Order, warehouse: WarehouseId, actor: &str, now: &str) -> Vec<StockMove> {
    order
        .lines
        .iter()
        .map(|line| StockMove {
            item: line.stock_item(),
            warehouse,
            delta: -i64::from(line.quantity),
            entry: ledger_entry(line, -i64::from(line.quantity), AdjustReason::Sale, order, actor, now),
        })
        .collect()
}

fn ledger_entry(
    line: &OrderLine,
    delta: i64,
    reason: AdjustReason,
    order: &Order,
    actor: &str,
    now: &str,
) -> Adjustment {
    Adjustment {
        id: AdjustmentId::new(),
        item_id: line.stock_item().to_string(),
        warehouse_id: line.warehouse_id.to_string(),
        delta,
        reason,
        note: Some(format!("order {}", order.number)),
        on_hand_after: None,
        available_after: None,
        order_id: Some(order.id),
        at: now.to_owned(),
        actor: actor.to_owned(),
    }
}

fn order_id(id: &str) -> Result<OrderId, ApiError> {
    id.parse().map_err(|_| ApiError::not_found("order"))
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
        order_id(id_or_number)?
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
) -> Result<PageOf<Order>, ApiError> {
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
    db.scoped(tenant)
        .list_orders(&OrderFilter { equals, created }, page)
        .await
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
            .put_order_change(who.actor, before.version, &after, write, events)
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

fn restock_moves(
    order: &mut Order,
    units: Vec<(usize, u32)>,
    reason: AdjustReason,
    actor: &str,
    now: &str,
) -> Vec<StockMove> {
    units
        .into_iter()
        .map(|(index, quantity)| {
            order.lines[index].restocked_quantity += quantity;
            let line = &order.lines[index];
            StockMove {
                item: line.stock_item(),
                warehouse: line.warehouse_id,
                delta: i64::from(quantity),
                entry: ledger_entry(line, i64::from(quantity), reason, order, actor, now),
            }
        })
        .collect()
}

pub async fn change_status(db: &Db, tenant: &Tenant, id: &str, patch: StatusPatch) -> Result<Order, ApiError> {
    let mut checks = Checks::default();
    checks.text("reason", patch.reason.as_deref(), false, 500);
    checks.text("tracking_number", patch.tracking_number.as_deref(), false, 100);
    checks.finish()?;
    let key_id = tenant.key_id.to_string();
    let who = Changer::key(tenant, &key_id);
    change_order(db, &who, order_id(id)?, |order, now| {
        let from = order.status;
        if !from.next().contains(&patch.status) {
            return Err(invalid_transition(order, patch.status.as_str()));
        }
        let mut write = OrderWrite::default();
        match patch.status {
            OrderStatus::Cancelled => {
                order.status = OrderStatus::Cancelled;
                order.cancel_reason = patch.reason.clone();
                write.stock = restock_moves(order, unshipped(order), AdjustReason::Restock, who.actor, now);
            }
            OrderStatus::Fulfilled => {
                let items: Vec<FulfillmentLine> = unshipped(order)
                    .into_iter()
                    .map(|(i, quantity)| FulfillmentLine {
                        line_id: order.lines[i].id,
                        quantity,
                    })
                    .collect();
                ship(order, &items)?;
                write.fulfillment = Some(Fulfillment {
                    id: FulfillmentId::new(),
                    order_id: order.id,
                    items,
                    carrier: None,
                    tracking_number: patch.tracking_number.clone(),
                    tracking_url: None,
                    warehouse_id: None,
                    created_at: now.to_owned(),
                });
            }
            to => order.status = to,
        }
        let mut events = Vec::new();
        if let Some(fulfillment) = &write.fulfillment {
            events.push(fulfillment_event(who.store, who.mode, order, fulfillment)?);
        }
        events.extend(status_events(
            who.store,
            who.mode,
            from,
            order,
            patch.reason.as_deref(),
        )?);
        Ok(Some(OrderChange { events, write }))
    })
    .await
}

pub async fn create_fulfillment(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    input: FulfillmentIn,
) -> Result<Fulfillment, ApiError> {
    let mut checks = Checks::default();
    checks.text("carrier", input.carrier.as_deref(), false, 100);
    checks.text("tracking_number", input.tracking_number.as_deref(), false, 100);
    checks.text("tracking_url", input.tracking_url.as_deref(), false, 2000);
    if input.items.len() > MAX_ORDER_LINES {
        checks.fail("items", "at most one entry per line");
    }
    checks.finish()?;
    if let Some(warehouse) = input.warehouse_id {
        db.scoped(tenant)
            .record::<Warehouse>(warehouse, false)
            .await?
            .ok_or_else(|| ApiError::invalid("warehouse_id", "no such warehouse"))?;
    }
    let items: Vec<FulfillmentLine> = input
        .items
        .iter()
        .map(|i| FulfillmentLine {
            line_id: i.line_id,
            quantity: i.quantity,
        })
        .collect();
    let key_id = tenant.key_id.to_string();
    let who = Changer::key(tenant, &key_id);
    let fulfillment_id = FulfillmentId::new();
    let mut made = None;
    change_order(db, &who, order_id(id)?, |order, now| {
        let from = order.status;
        ship(order, &items)?;
        let fulfillment = Fulfillment {
            id: fulfillment_id,
            order_id: order.id,
            items: items.clone(),
            carrier: input.carrier.clone(),
            tracking_number: input.tracking_number.clone(),
            tracking_url: input.tracking_url.clone(),
            warehouse_id: input.warehouse_id,
            created_at: now.to_owned(),
        };
        let mut events = vec![fulfillment_event(who.store, who.mode, order, &fulfillment)?];
        events.extend(status_events(who.store, who.mode, from, order, None)?);
        made = Some(fulfillment.clone());
        Ok(Some(OrderChange {
            events,
            write: OrderWrite {
                fulfillment: Some(fulfillment),
                ..Default::default()
            },
        }))
    })
    .await?;
    made.ok_or_else(|| ApiError::internal("the fulfillment was not made"))
}

pub async fn list_fulfillments(db: &Db, tenant: &Tenant, id: &str) -> Result<Vec<Fulfillment>, ApiError> {
    let order = get_order(db, tenant, id).await?;
    db.scoped(tenant).fulfillments(order.id).await
}

pub async fn create_refund(db: &Db, tenant: &Tenant, id: &str, input: RefundIn) -> Result<Refund, ApiError> {
    let mut checks = Checks::default();
    checks.text("reason", Some(&input.reason), true, 500);
    checks.finish()?;
    let key_id = tenant.key_id.to_string();
    let who = Changer::key(tenant, &key_id);
    let refund_id = RefundId::new();
    let mut made = None;
    change_order(db, &who, order_id(id)?, |order, now| {
        let from = order.status;
        let amount = refund(order, input.amount)?;
        let record = Refund {
            id: refund_id,
            order_id: order.id,
            amount,
            reason: input.reason.trim().to_owned(),
            restock: input.restock,
            created_at: now.to_owned(),
        };
        let stock = if input.restock {
            restock_moves(order, not_restocked(order), AdjustReason::Return, who.actor, now)
        } else {
            Vec::new()
        };
        let mut events = vec![order_event(
            who.store,
            who.mode,
            EventType::OrderRefunded,
            order,
            Some(("refund", serde_json::to_value(&record).map_err(ApiError::internal)?)),
        )?];
        events.extend(status_events(who.store, who.mode, from, order, Some(&record.reason))?);
        made = Some(record.clone());
        Ok(Some(OrderChange {
            events,
            write: OrderWrite {
                refund: Some(record),
                stock,
                spend: Some(Money::new(-amount.amount, amount.currency)),
                ..Default::default()
            },
        }))
    })
    .await?;
    made.ok_or_else(|| ApiError::internal("the refund was not made"))
}

pub async fn list_refunds(db: &Db, tenant: &Tenant, id: &str) -> Result<Vec<Refund>, ApiError> {
    let order = get_order(db, tenant, id).await?;
    db.scoped(tenant).refunds(order.id).await
}

// --- payments ---------------------------------------------------------------------------------------------

/// What a payment callback tells about an order, once its signature checked out.
pub struct PaymentOutcome<'a> {
    pub provider_event_id: &'a str,
    pub payment_intent_id: &'a str,
    pub succeeded: bool,
    pub amount: i64,
    pub currency: Option<CurrencyCode>,
    pub failure_message: Option<&'a str>,
}

/// Applies a payment callback: a success marks the order paid (and confirms a pending one) with
/// `payment.received`; a failure emits `payment.failed`. A callback already handled changes nothing.
pub async fn apply_payment(
    db: &Db,
    store: StoreId,
    mode: Mode,
    order: OrderId,
    outcome: PaymentOutcome<'_>,
) -> Result<Order, ApiError> {
    if db
        .store_scope(store, mode)
        .payment_event_seen(outcome.provider_event_id)
        .await?
    {
        return db
            .store_scope(store, mode)
            .record::<Order>(order, false)
            .await?
            .ok_or_else(|| ApiError::not_found("order"));
    }
    let who = Changer {
        store,
        mode,
        actor: "payments",
    };
    change_order(db, &who, order, |order, _now| {
        let from = order.status;
        let payment = json!({
            "provider_event_id": outcome.provider_event_id,
            "payment_intent_id": outcome.payment_intent_id,
            "amount": outcome.amount,
            "failure_message": outcome.failure_message,
        });
        let mut events = Vec::new();
        if outcome.succeeded {
            if !record_payment(order, outcome.payment_intent_id, outcome.amount, outcome.currency)? {
                return Ok(None);
            }
            events.push(order_event(
                who.store,
                who.mode,
                EventType::PaymentReceived,
                order,
                Some(("payment", payment)),
            )?);
            events.extend(status_events(
                who.store,
                who.mode,
                from,
                order,
                Some("payment received"),
            )?);
        } else {
            if order.payment_status == PaymentStatus::Pending {
                order.payment_status = PaymentStatus::Failed;
            }
            order.payment_intent_id = Some(outcome.payment_intent_id.to_owned());
            events.push(order_event(
                who.store,
                who.mode,
                EventType::PaymentFailed,
                order,
                Some(("payment", payment)),
            )?);
        }
        Ok(Some(OrderChange {
            events,
            write: OrderWrite {
                payment_event: Some(outcome.provider_event_id.to_owned()),
                ..Default::default()
            },
        }))
    })
    .await
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
