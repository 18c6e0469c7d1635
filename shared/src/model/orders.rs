//! Order records as stored: orders with their lines, the status and payment-status machines, fulfillments and
//! refunds, and the list filter. Their operations are in `crate::orders`.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::checks::Checks;
use crate::error::ApiError;
use crate::ids::{
    CartId, CustomerId, FulfillmentId, OrderId, OrderLineId, PriceId, PriceModifierId, ProductId, RefundId, VariantId,
    WarehouseId,
};
use crate::model::customers::PostalAddress;
use crate::model::inventory::StockItem;
use crate::model::promotions::{DiscountAllocation, OrderPromotion};
use crate::model::shipping::ShippingLine;
use crate::money::{CurrencyCode, Money};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Processing,
    PartiallyFulfilled,
    Fulfilled,
    Delivered,
    Cancelled,
    Refunded,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Processing => "processing",
            Self::PartiallyFulfilled => "partially_fulfilled",
            Self::Fulfilled => "fulfilled",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
        }
    }

    /// Where `PATCH /orders/{id}/status` may take an order from here. `fulfilled` ships whatever is left;
    /// `partially_fulfilled` comes only from a fulfillment, `refunded` only from a full refund.
    pub fn next(self) -> &'static [OrderStatus] {
        use OrderStatus::*;
        match self {
            Pending => &[Confirmed, Cancelled],
            Confirmed => &[Processing, Fulfilled, Cancelled],
            Processing => &[Fulfilled, Cancelled],
            PartiallyFulfilled => &[Fulfilled, Cancelled],
            Fulfilled => &[Delivered],
            Delivered | Cancelled | Refunded => &[],
        }
    }

    pub fn can_ship(self) -> bool {
        matches!(self, Self::Confirmed | Self::Processing | Self::PartiallyFulfilled)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    /// Payments so far cover part of the total; the order waits for the rest.
    PartiallyPaid,
    Paid,
    Failed,
    PartiallyRefunded,
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::PartiallyPaid => "partially_paid",
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }
}

/// What was sold, as it was when sold: a later catalog change never alters an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderLine {
    pub id: OrderLineId,
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub name: String,
    pub sku: Option<String>,
    pub quantity: u32,
    pub unit_price: Money,
    pub total: Money,
    /// The price record the unit price came from; absent: the catalog's price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_id: Option<PriceId>,
    /// The price modifiers applied to the unit price, in the order they were applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub price_modifier_ids: Vec<PriceModifierId>,
    /// What promotions took off `total` (before tax), by promotion; `net`, `tax_amount` and `gross` are after
    /// them, so a refund by line returns what the line paid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discounts: Vec<DiscountAllocation>,
    /// The tax as charged, kept so refunds and reports never recompute it: the rate (a percentage, `"20"`), the
    /// amount, and the line without and with it.
    pub tax_rate: String,
    pub tax_amount: Money,
    pub net: Money,
    pub gross: Money,
    /// Where the stock was taken from.
    pub warehouse_id: WarehouseId,
    pub fulfilled_quantity: u32,
    /// Units given back to stock (by a cancellation or a refund with `restock`).
    pub restocked_quantity: u32,
    /// Units refunded by line (`POST /orders/{id}/refunds` with `lines`).
    #[serde(default)]
    pub refunded_quantity: u32,
}

impl Order {
    /// The buyer its promotions were counted for: its customer, else its email (as `model::carts::Buyer`).
    pub fn buyer(&self) -> Option<String> {
        match self.customer_id {
            Some(id) => crate::model::carts::Buyer::customer(id, 0).identity,
            None => crate::model::carts::Buyer::guest(&self.email).identity,
        }
    }
}

impl OrderLine {
    pub fn stock_item(&self) -> StockItem {
        match self.variant_id {
            Some(variant) => StockItem::Variant(variant),
            None => StockItem::Product(self.product_id),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Order {
    pub id: OrderId,
    /// `ORD-YYYY-NNNNNN`, from a per-store counter.
    #[schema(example = "ORD-2026-000042")]
    pub number: String,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    /// Where the order came from (`api` unless the checkout named one).
    pub channel: String,
    #[schema(value_type = String, example = "USD")]
    pub currency: CurrencyCode,
    pub customer_id: Option<CustomerId>,
    pub email: String,
    pub cart_id: CartId,
    pub lines: Vec<OrderLine>,
    pub subtotal: Money,
    /// What the promotions took off the lines and the shipping.
    pub discount_total: Money,
    /// The promotions the order took.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promotions: Vec<OrderPromotion>,
    pub shipping_total: Money,
    /// The shipping option taken, its price and tax, as charged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<ShippingLine>,
    pub tax_total: Money,
    pub total: Money,
    pub paid_total: Money,
    pub refunded_total: Money,
    /// Whether a refund has returned the shipping line.
    #[serde(default)]
    pub shipping_refunded: bool,
    pub shipping_address: PostalAddress,
    pub billing_address: PostalAddress,
    pub payment_method_id: Option<String>,
    pub payment_intent_id: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FulfillmentLine {
    pub line_id: OrderLineId,
    pub quantity: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Fulfillment {
    pub id: FulfillmentId,
    pub order_id: OrderId,
    pub items: Vec<FulfillmentLine>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub warehouse_id: Option<WarehouseId>,
    pub created_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Refund {
    pub id: RefundId,
    pub order_id: OrderId,
    pub amount: Money,
    pub reason: String,
    pub restock: bool,
    /// The lines refunded and what each returned (a refund by amount names none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<RefundedLine>,
    /// The shipping returned (gross), when the refund named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<Money>,
    pub created_at: String,
}

/// Units of an order line refunded and their part of what the line was charged, as stored on the order: never
/// recomputed from today's prices or tax rates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RefundedLine {
    pub line_id: OrderLineId,
    pub quantity: u32,
    /// Gross: the units' net plus their tax.
    pub amount: Money,
    pub tax_amount: Money,
}

/// What a refund returns: an amount, or units of lines (and the shipping) at what they were charged.
pub enum RefundAsk {
    /// Absent: all that is left.
    Amount(Option<i64>),
    Lines {
        lines: Vec<(OrderLineId, u32)>,
        shipping: bool,
    },
}

/// What a refund took: its amount, and by line when it named lines.
pub struct Refunded {
    pub amount: Money,
    pub lines: Vec<RefundedLine>,
    pub shipping: Option<Money>,
}

/// The list filters, checked: attribute equalities, and a creation-time range of ids.
pub struct OrderFilter {
    pub equals: Vec<(&'static str, String)>,
    pub created: Option<(OrderId, OrderId)>,
    /// Orders with a line of this product.
    pub product: Option<ProductId>,
}

// --- rules -------------------------------------------------------------------------------------------

pub fn invalid_transition(order: &Order, to: &str) -> ApiError {
    let allowed: Vec<&str> = order.status.next().iter().map(|s| s.as_str()).collect();
    ApiError::Conflict {
        code: "invalid_transition",
        message: format!(
            "an order that is {} cannot become {to}; allowed: {}",
            order.status.as_str(),
            if allowed.is_empty() {
                "none".to_owned()
            } else {
                allowed.join(", ")
            }
        ),
        details: vec![json!({"status": order.status.as_str(), "allowed": allowed})],
    }
}

/// Units of each line not shipped and not given back: what a cancellation returns to stock.
pub fn unshipped(order: &Order) -> Vec<(usize, u32)> {
    order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            (
                i,
                l.quantity.saturating_sub(l.fulfilled_quantity + l.restocked_quantity),
            )
        })
        .filter(|(_, q)| *q > 0)
        .collect()
}

/// Units of each line not given back yet: what a refund with `restock` returns.
pub fn not_restocked(order: &Order) -> Vec<(usize, u32)> {
    order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i, l.quantity.saturating_sub(l.restocked_quantity)))
        .filter(|(_, q)| *q > 0)
        .collect()
}

/// Of the units a refund by line returned, those not given back to stock yet: what its `restock` returns.
pub fn refunded_not_restocked(order: &Order, refunded: &[RefundedLine]) -> Vec<(usize, u32)> {
    refunded
        .iter()
        .filter_map(|r| {
            let index = order.lines.iter().position(|l| l.id == r.line_id)?;
            let line = &order.lines[index];
            Some((
                index,
                r.quantity.min(line.quantity.saturating_sub(line.restocked_quantity)),
            ))
        })
        .filter(|(_, q)| *q > 0)
        .collect()
}

/// Ships some units: never more than ordered; the status follows.
pub fn ship(order: &mut Order, items: &[FulfillmentLine]) -> Result<(), ApiError> {
    if !order.status.can_ship() {
        return Err(ApiError::Conflict {
            code: "invalid_transition",
            message: format!(
                "an order that is {} cannot be fulfilled (confirmed, processing or partially_fulfilled can)",
                order.status.as_str()
            ),
            details: Vec::new(),
        });
    }
    let mut checks = Checks::default();
    if items.is_empty() {
        checks.fail("items", "must name at least one line");
    }
    for (index, item) in items.iter().enumerate() {
        let Some(line) = order.lines.iter_mut().find(|l| l.id == item.line_id) else {
            checks.fail(&format!("items[{index}].line_id"), "no such line in this order");
            continue;
        };
        let open = line
            .quantity
            .saturating_sub(line.fulfilled_quantity + line.restocked_quantity);
        if item.quantity == 0 || item.quantity > open {
            checks.fail(
                &format!("items[{index}].quantity"),
                &format!(
                    "must be 1 to {open} (ordered {}, shipped {})",
                    line.quantity, line.fulfilled_quantity
                ),
            );
            continue;
        }
        line.fulfilled_quantity += item.quantity;
    }
    checks.finish()?;
    order.status = if unshipped(order).is_empty() {
        OrderStatus::Fulfilled
    } else {
        OrderStatus::PartiallyFulfilled
    };
    Ok(())
}

/// What may still be refunded: what was both paid and charged (an overpayment is the provider's to return), less
/// what was refunded already.
pub fn refundable(order: &Order) -> i64 {
    order
        .paid_total
        .amount
        .min(order.total.amount)
        .saturating_sub(order.refunded_total.amount)
}

/// The part of `amount` carried by the first `units` of a line of `of` units. Cumulative floor shares: refunds of a
/// line in any number of parts add up to exactly its amount, and no part depends on how the others were split.
pub fn share_of(amount: i64, units: u32, of: u32) -> i64 {
    if of == 0 {
        return 0;
    }
    let share = i128::from(amount) * i128::from(units.min(of)) / i128::from(of);
    i64::try_from(share).unwrap_or(amount)
}

/// Takes the asked units of each line (and the shipping) off the order at what they were charged.
fn refund_lines(order: &mut Order, asked: &[(OrderLineId, u32)], shipping: bool) -> Result<Refunded, ApiError> {
    let mut checks = Checks::default();
    let mut refunded = Vec::new();
    let mut total = 0_i64;
    for (index, (line_id, quantity)) in asked.iter().enumerate() {
        if asked[..index].iter().any(|(earlier, _)| earlier == line_id) {
            checks.fail(&format!("lines[{index}].line_id"), "names a line already named");
            continue;
        }
        let Some(line) = order.lines.iter_mut().find(|l| l.id == *line_id) else {
            checks.fail(&format!("lines[{index}].line_id"), "no such line in this order");
            continue;
        };
        let left = line.quantity.saturating_sub(line.refunded_quantity);
        if *quantity == 0 || *quantity > left {
            checks.fail(
                &format!("lines[{index}].quantity"),
                &format!(
                    "must be 1 to {left} (ordered {}, refunded {})",
                    line.quantity, line.refunded_quantity
                ),
            );
            continue;
        }
        let (before, after) = (line.refunded_quantity, line.refunded_quantity + quantity);
        let part = |amount: i64| share_of(amount, after, line.quantity) - share_of(amount, before, line.quantity);
        let (amount, tax) = (part(line.gross.amount), part(line.tax_amount.amount));
        line.refunded_quantity = after;
        total = total.saturating_add(amount);
        refunded.push(RefundedLine {
            line_id: *line_id,
            quantity: *quantity,
            amount: Money::new(amount, order.currency),
            tax_amount: Money::new(tax, order.currency),
        });
    }
    let shipping = match (shipping, &order.shipping) {
        (false, _) => None,
        (true, None) => {
            checks.fail("shipping", "this order has no shipping line");
            None
        }
        (true, Some(_)) if order.shipping_refunded => {
            checks.fail("shipping", "the shipping was refunded already");
            None
        }
        (true, Some(line)) => Some(line.gross),
    };
    if asked.is_empty() && shipping.is_none() {
        checks.fail("lines", "must name at least one line, or set shipping");
    }
    checks.finish()?;
    if let Some(gross) = shipping {
        order.shipping_refunded = true;
        total = total.saturating_add(gross.amount);
    }
    Ok(Refunded {
        amount: Money::new(total, order.currency),
        lines: refunded,
        shipping,
    })
}

/// What a refund takes (all that is left for an absent amount; the lines' charged amounts for lines), recorded
/// on the order; never more than is left of what was paid.
pub fn refund(order: &mut Order, ask: RefundAsk) -> Result<Refunded, ApiError> {
    let left = refundable(order);
    let taken = match ask {
        RefundAsk::Amount(Some(amount)) if amount <= 0 => {
            return Err(ApiError::invalid("amount", "must be more than 0"))
        }
        RefundAsk::Amount(requested) => Refunded {
            amount: Money::new(requested.unwrap_or(left), order.currency),
            lines: Vec::new(),
            shipping: None,
        },
        RefundAsk::Lines { lines, shipping } => refund_lines(order, &lines, shipping)?,
    };
    let amount = taken.amount.amount;
    if left <= 0 {
        return Err(ApiError::Conflict {
            code: "nothing_to_refund",
            message: "nothing paid is left to refund".into(),
            details: Vec::new(),
        });
    }
    if amount > left {
        return Err(ApiError::Conflict {
            code: "refund_exceeds_payment",
            message: format!("at most {left} is left to refund"),
            details: vec![json!({"requested": amount, "refundable": left})],
        });
    }
    order.refunded_total.amount += amount;
    if refundable(order) == 0 {
        order.payment_status = PaymentStatus::Refunded;
        if order.status != OrderStatus::Cancelled {
            order.status = OrderStatus::Refunded;
        }
    } else {
        order.payment_status = PaymentStatus::PartiallyRefunded;
    }
    Ok(taken)
}

/// Reconciles a succeeded payment with what the order is due: the amount must be positive and in the order's
/// currency; it adds to `paid_total`, and the order is `paid` (and a pending one `confirmed`) only once the payments
/// cover its total, `partially_paid` before. `false`: this payment intent was already counted, nothing changes.
pub fn record_payment(
    order: &mut Order,
    intent: &str,
    amount: i64,
    currency: Option<CurrencyCode>,
) -> Result<bool, ApiError> {
    if amount <= 0 {
        return Err(ApiError::invalid(
            "data.object.amount_received",
            "a succeeded payment must be more than 0",
        ));
    }
    match currency {
        None => return Err(ApiError::invalid("data.object.currency", "is required")),
        Some(currency) if currency != order.currency => {
            return Err(ApiError::invalid("data.object.currency", "not the order's currency"))
        }
        Some(_) => {}
    }
    let counted = matches!(
        order.payment_status,
        PaymentStatus::Paid | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded
    );
    if counted && order.payment_intent_id.as_deref() == Some(intent) {
        return Ok(false);
    }
    order.paid_total = order
        .paid_total
        .checked_add(Money::new(amount, order.currency))
        .ok_or_else(|| ApiError::invalid("data.object.amount_received", "is too large"))?;
    order.payment_intent_id = Some(intent.to_owned());
    if !counted {
        order.payment_status = if order.paid_total.amount >= order.total.amount {
            PaymentStatus::Paid
        } else {
            PaymentStatus::PartiallyPaid
        };
        if order.payment_status == PaymentStatus::Paid && order.status == OrderStatus::Pending {
            order.status = OrderStatus::Confirmed;
        }
    }
    Ok(true)
}

/// The order number of the `seq`-th order of a year.
pub fn order_number(year: i32, seq: u64) -> String {
    format!("ORD-{year}-{seq:06}")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ids::ProductId;

    /// An order of one USD line per quantity, at 5.00 each (for the tests of the operations too).
    pub(crate) fn order(status: OrderStatus, quantities: &[u32]) -> Order {
        let usd = CurrencyCode::parse("USD").unwrap();
        let zero = Money::new(0, usd);
        Order {
            id: OrderId::new(),
            number: order_number(2026, 1),
            status,
            payment_status: PaymentStatus::Paid,
            channel: "api".into(),
            currency: usd,
            customer_id: None,
            email: "a@b.co".into(),
            cart_id: CartId::new(),
            lines: quantities
                .iter()
                .map(|q| OrderLine {
                    id: OrderLineId::new(),
                    product_id: ProductId::new(),
                    variant_id: None,
                    name: "Mug".into(),
                    sku: None,
                    quantity: *q,
                    unit_price: Money::new(500, usd),
                    total: Money::new(500 * i64::from(*q), usd),
                    price_id: None,
                    price_modifier_ids: Vec::new(),
                    discounts: Vec::new(),
                    tax_rate: "0".into(),
                    tax_amount: Money::new(0, usd),
                    net: Money::new(500 * i64::from(*q), usd),
                    gross: Money::new(500 * i64::from(*q), usd),
                    warehouse_id: WarehouseId::new(),
                    fulfilled_quantity: 0,
                    restocked_quantity: 0,
                    refunded_quantity: 0,
                })
                .collect(),
            subtotal: zero,
            discount_total: zero,
            promotions: Vec::new(),
            shipping_total: zero,
            shipping: None,
            tax_total: zero,
            total: Money::new(1000, usd),
            paid_total: Money::new(1000, usd),
            refunded_total: zero,
            shipping_refunded: false,
            shipping_address: PostalAddress::default(),
            billing_address: PostalAddress::default(),
            payment_method_id: None,
            payment_intent_id: None,
            cancel_reason: None,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        }
    }

    #[test]
    fn numbers_are_zero_padded() {
        assert_eq!(order_number(2026, 42), "ORD-2026-000042");
        assert_eq!(order_number(2027, 1_234_567), "ORD-2027-1234567");
    }

    #[test]
    fn the_machine_allows_only_its_edges() {
        use OrderStatus::*;
        assert_eq!(Pending.next(), &[Confirmed, Cancelled]);
        assert!(!Pending.next().contains(&Delivered));
        assert!(Fulfilled.next() == [Delivered]);
        for terminal in [Delivered, Cancelled, Refunded] {
            assert!(terminal.next().is_empty());
        }
        let error = invalid_transition(&order(Pending, &[1]), "delivered");
        let ApiError::Conflict { details, .. } = error else {
            panic!()
        };
        assert_eq!(details[0]["allowed"], json!(["confirmed", "cancelled"]));
    }

    #[test]
    fn shipping_never_exceeds_what_was_ordered() {
        let mut order = order(OrderStatus::Confirmed, &[3, 1]);
        let (a, b) = (order.lines[0].id, order.lines[1].id);
        ship(
            &mut order,
            &[FulfillmentLine {
                line_id: a,
                quantity: 2,
            }],
        )
        .unwrap();
        assert_eq!(order.status, OrderStatus::PartiallyFulfilled);
        assert!(ship(
            &mut order.clone(),
            &[FulfillmentLine {
                line_id: a,
                quantity: 2
            }]
        )
        .is_err());
        assert!(ship(
            &mut order.clone(),
            &[FulfillmentLine {
                line_id: OrderLineId::new(),
                quantity: 1
            }]
        )
        .is_err());
        ship(
            &mut order,
            &[
                FulfillmentLine {
                    line_id: a,
                    quantity: 1,
                },
                FulfillmentLine {
                    line_id: b,
                    quantity: 1,
                },
            ],
        )
        .unwrap();
        assert_eq!(order.status, OrderStatus::Fulfilled);
        assert!(unshipped(&order).is_empty());
        let mut pending = self::order(OrderStatus::Pending, &[1]);
        let line = pending.lines[0].id;
        assert!(ship(
            &mut pending,
            &[FulfillmentLine {
                line_id: line,
                quantity: 1
            }]
        )
        .is_err());
    }

    #[test]
    fn refunds_never_exceed_what_was_paid() {
        let mut order = order(OrderStatus::Fulfilled, &[2]);
        assert!(matches!(
            refund(&mut order.clone(), RefundAsk::Amount(Some(0))),
            Err(ApiError::Validation(_))
        ));
        assert_eq!(
            refund(&mut order, RefundAsk::Amount(Some(400))).unwrap().amount.amount,
            400
        );
        assert_eq!(order.payment_status, PaymentStatus::PartiallyRefunded);
        assert_eq!(order.status, OrderStatus::Fulfilled);
        let too_much = refund(&mut order.clone(), RefundAsk::Amount(Some(601)));
        assert!(matches!(
            too_much,
            Err(ApiError::Conflict {
                code: "refund_exceeds_payment",
                ..
            })
        ));
        assert_eq!(refund(&mut order, RefundAsk::Amount(None)).unwrap().amount.amount, 600);
        assert_eq!(order.payment_status, PaymentStatus::Refunded);
        assert_eq!(order.status, OrderStatus::Refunded);
        assert!(matches!(
            refund(&mut order, RefundAsk::Amount(None)),
            Err(ApiError::Conflict {
                code: "nothing_to_refund",
                ..
            })
        ));
    }

    #[test]
    fn payments_are_reconciled_with_what_is_due() {
        let usd = CurrencyCode::parse("USD");
        let eur = CurrencyCode::parse("EUR");
        let mut order = order(OrderStatus::Pending, &[2]);
        order.payment_status = PaymentStatus::Pending;
        order.paid_total = Money::new(0, order.currency);
        for (amount, currency) in [(0, usd), (-500, usd), (1, None), (1, eur)] {
            assert!(
                matches!(
                    record_payment(&mut order.clone(), "pi_1", amount, currency),
                    Err(ApiError::Validation(_))
                ),
                "{amount} {currency:?}"
            );
        }
        assert!(record_payment(&mut order, "pi_1", 400, usd).unwrap());
        assert_eq!(
            (order.payment_status, order.status),
            (PaymentStatus::PartiallyPaid, OrderStatus::Pending)
        );
        assert_eq!(refundable(&order), 400);
        assert!(record_payment(&mut order, "pi_2", 600, usd).unwrap());
        assert_eq!(
            (order.payment_status, order.status),
            (PaymentStatus::Paid, OrderStatus::Confirmed)
        );
        assert!(
            !record_payment(&mut order, "pi_2", 600, usd).unwrap(),
            "the same intent twice"
        );
        assert!(matches!(
            record_payment(&mut order.clone(), "pi_3", i64::MAX, usd),
            Err(ApiError::Validation(_))
        ));
    }

    #[test]
    fn an_overpayment_is_not_refundable_past_the_total() {
        let mut order = order(OrderStatus::Confirmed, &[2]);
        order.paid_total = Money::new(1_000_000_000_000, order.currency);
        assert_eq!(refundable(&order), 1000);
        assert!(matches!(
            refund(&mut order.clone(), RefundAsk::Amount(Some(1_000_000_000_000))),
            Err(ApiError::Conflict {
                code: "refund_exceeds_payment",
                ..
            })
        ));
        assert_eq!(refund(&mut order, RefundAsk::Amount(None)).unwrap().amount.amount, 1000);
        assert_eq!(order.payment_status, PaymentStatus::Refunded);
    }

    fn line_refunds(order: &mut Order, line: usize, quantity: u32) -> Result<Refunded, ApiError> {
        let lines = vec![(order.lines[line].id, quantity)];
        refund(order, RefundAsk::Lines { lines, shipping: false })
    }

    #[test]
    fn a_line_refunded_in_parts_returns_exactly_what_it_was_charged() {
        let mut order = order(OrderStatus::Fulfilled, &[3]);
        // 10.00 for three units, 1.67 of it tax: parts of 3.33, 3.33 and 3.34 (the last takes the remainder).
        order.lines[0].gross = Money::new(1000, order.currency);
        order.lines[0].tax_amount = Money::new(167, order.currency);
        let parts: Vec<(i64, i64)> = (0..3)
            .map(|_| {
                let refunded = line_refunds(&mut order, 0, 1).unwrap();
                (refunded.amount.amount, refunded.lines[0].tax_amount.amount)
            })
            .collect();
        assert_eq!(parts, [(333, 55), (333, 56), (334, 56)]);
        assert_eq!(order.refunded_total.amount, 1000);
        assert_eq!(order.payment_status, PaymentStatus::Refunded);
        let Err(ApiError::Validation(errors)) = line_refunds(&mut order, 0, 1) else {
            panic!("a fourth unit of three")
        };
        assert_eq!(errors[0].field, "lines[0].quantity");
    }

    #[test]
    fn a_line_refund_names_real_lines_once_and_the_shipping_once() {
        let mut order = order(OrderStatus::Fulfilled, &[1, 1]);
        let (a, b) = (order.lines[0].id, order.lines[1].id);
        for (lines, shipping) in [
            (vec![(a, 1), (a, 1)], false),
            (vec![(OrderLineId::new(), 1)], false),
            (vec![(b, 0)], false),
            (vec![], false),
            (vec![], true),
        ] {
            assert!(
                matches!(
                    refund(&mut order.clone(), RefundAsk::Lines { lines, shipping }),
                    Err(ApiError::Validation(_))
                ),
                "refused"
            );
        }
        let taken = refund(
            &mut order,
            RefundAsk::Lines {
                lines: vec![(b, 1)],
                shipping: false,
            },
        )
        .unwrap();
        assert_eq!(taken.amount.amount, 500);
        assert_eq!(order.lines[1].refunded_quantity, 1);
        assert_eq!(order.payment_status, PaymentStatus::PartiallyRefunded);
    }

    proptest::proptest! {
        /// However a line's units are split over refunds, the parts sum to the line's gross and tax, and no part
        /// is negative.
        #[test]
        fn line_refund_parts_sum_to_the_line(
            gross in 0_i64..10_000_000_000,
            tax_share in 0_u32..=100,
            splits in proptest::collection::vec(1_u32..5, 1..12),
        ) {
            let quantity: u32 = splits.iter().sum();
            let tax = gross * i64::from(tax_share) / 100;
            let mut order = order(OrderStatus::Fulfilled, &[quantity]);
            order.lines[0].gross = Money::new(gross, order.currency);
            order.lines[0].tax_amount = Money::new(tax, order.currency);
            order.total = Money::new(gross, order.currency);
            order.paid_total = Money::new(gross, order.currency);
            let (mut sum, mut tax_sum) = (0, 0);
            for units in splits {
                let Ok(taken) = line_refunds(&mut order, 0, units) else {
                    // Only a zero-amount line has nothing to refund.
                    proptest::prop_assert_eq!(gross, 0);
                    return Ok(());
                };
                proptest::prop_assert!(taken.amount.amount >= 0 && taken.lines[0].tax_amount.amount >= 0);
                sum += taken.amount.amount;
                tax_sum += taken.lines[0].tax_amount.amount;
            }
            proptest::prop_assert_eq!(sum, gross);
            proptest::prop_assert_eq!(tax_sum, tax);
        }
    }
}
