//! Checkout: a cart becomes an order, its stock, its customer's totals and its number, in one transaction.

use super::*;
use crate::carts::LineProblem;
use crate::db::CheckoutRefusal;
use crate::error::FieldError;
use crate::model::promotions::{
    normalized_code, well_formed_code, OrderPromotion, PromotionState, CODE_FORM, MAX_CODES_PER_CART,
};

fn price_changed() -> ApiError {
    ApiError::Conflict {
        code: "price_changed",
        message: "a price of this cart changed during the checkout; nothing was ordered: read the cart and check out \
                  again"
            .into(),
        details: vec![],
    }
}

pub(super) fn insufficient_stock(details: Vec<Value>) -> ApiError {
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
    let entered: Vec<String> = input.promotion_codes.iter().map(|c| normalized_code(c)).collect();
    for (index, code) in entered.iter().enumerate() {
        if !well_formed_code(code) {
            checks.fail(&format!("promotion_codes[{index}]"), CODE_FORM);
        }
    }
    checks.text("channel", input.channel.as_deref(), false, 50);
    checks.text("quote_hash", input.quote_hash.as_deref(), false, 64);
    checks.text("payment_method_id", input.payment_method_id.as_deref(), false, 200);
    checks.finish()?;

    let mut backoff = Backoff::default();
    let mut taken = None;
    let mut first_prices = None;
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
        let mut codes = cart.promotion_codes.clone();
        codes.extend(entered.iter().filter(|c| !cart.promotion_codes.contains(c)).cloned());
        if codes.len() > MAX_CODES_PER_CART {
            return Err(ApiError::invalid(
                "promotion_codes",
                format!("at most {MAX_CODES_PER_CART} codes with the cart's"),
            ));
        }
        let reads = db
            .store_scope(store, mode)
            .checkout_reads(&cart, customer_id, email.as_deref(), &codes)
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
        let option = input.shipping_option_id.or(cart.shipping_option_id);
        let priced_cart = reads
            .catalog
            .price_cart_lines(&cart.lines, cart.currency, (Some(&input.shipping_address), option))
            .map_err(|_| ApiError::invalid("cart_id", "the total is too large"))?;
        // A code the buyer entered (on the cart or here) that does not apply is refused rather than charged at
        // the full price: the buyer expected the discount.
        let refused: Vec<FieldError> = priced_cart
            .promotions
            .iter()
            .filter(|o| o.state != PromotionState::Applied)
            .filter_map(|o| {
                let code = o.code.as_ref()?;
                let state = serde_json::to_value(o.state).ok()?;
                let reason = state.as_str().unwrap_or_default();
                Some(FieldError::new(
                    "promotion_codes",
                    format!("{code} does not apply: {reason}"),
                ))
            })
            .collect();
        if !refused.is_empty() {
            return Err(ApiError::Unprocessable {
                code: "promotion_not_applicable",
                message: "a promotion code entered does not apply to this order; nothing was ordered".into(),
                details: refused,
            });
        }
        if input
            .quote_hash
            .as_ref()
            .is_some_and(|quoted| *quoted != priced_cart.quote_hash())
        {
            return Err(ApiError::Conflict {
                code: "quote_changed",
                message: "what the promotions take off this cart changed since the quote; nothing was ordered: \
                          validate again"
                    .into(),
                details: vec![json!({"quote_hash": priced_cart.quote_hash()})],
            });
        }
        if priced_cart.shipping_option_unavailable {
            return Err(ApiError::Unprocessable {
                code: "shipping_option_unavailable",
                message: "the shipping option does not ship this cart to this address".into(),
                details: vec![FieldError::new(
                    "shipping_option_id",
                    "not one of the cart's shipping options",
                )],
            });
        }
        if priced_cart.shipping_required && priced_cart.shipping.is_none() {
            return Err(ApiError::Unprocessable {
                code: "shipping_option_required",
                message: "choose a shipping option: GET /v1/carts/{id}/shipping-options lists them".into(),
                details: vec![FieldError::new("shipping_option_id", "required for physical products")],
            });
        }
        let shipping = priced_cart.shipping.clone();
        let mut lines = Vec::with_capacity(cart.lines.len());
        let (mut problems, mut unpriced) = (Vec::new(), Vec::new());
        for (index, (priced, problem)) in priced_cart.items.into_iter().enumerate() {
            let field = format!("cart.items[{index}]");
            match problem {
                None => lines.push(OrderLine {
                    id: OrderLineId::new(),
                    product_id: priced.product_id,
                    variant_id: priced.variant_id,
                    name: priced.name,
                    sku: priced.sku,
                    quantity: priced.quantity,
                    unit_price: priced.unit_price,
                    total: priced.total,
                    price_id: priced.price_id,
                    price_modifier_ids: priced.price_modifier_ids,
                    discounts: priced.discounts,
                    tax_rate: priced.tax_rate,
                    tax_amount: priced.tax_amount,
                    net: priced.net,
                    gross: priced.gross,
                    warehouse_id: reads.default_warehouse.unwrap_or_default(),
                    fulfilled_quantity: 0,
                    restocked_quantity: 0,
                    refunded_quantity: 0,
                }),
                Some(LineProblem::NoPriceForCurrency) => {
                    unpriced.push(FieldError::new(field, LineProblem::NoPriceForCurrency.message()))
                }
                Some(problem) => problems.push(FieldError::new(field, problem.message())),
            }
        }
        if !problems.is_empty() {
            return Err(ApiError::Validation(problems));
        }
        if !unpriced.is_empty() {
            return Err(ApiError::Unprocessable {
                code: "no_price_for_currency",
                message: format!("some lines have no price in {}", cart.currency.code()),
                details: unpriced,
            });
        }
        // A retry after a refused commit reads the prices again: charging what changed since is not what was
        // priced (the commit's guard refuses the same change within one attempt).
        // What is charged: each line's price and its record, and the total (which moves with tax and shipping).
        let unit_prices = (
            lines.iter().map(|l| (l.unit_price, l.price_id)).collect::<Vec<_>>(),
            priced_cart.total,
        );
        match &first_prices {
            Some(first) if *first != unit_prices => return Err(price_changed()),
            Some(_) => {}
            None => first_prices = Some(unit_prices),
        }
        let zero = Money::new(0, cart.currency);
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
            subtotal: priced_cart.subtotal,
            discount_total: priced_cart.discount_total,
            promotions: OrderPromotion::taken(
                &priced_cart.promotions,
                &reads.catalog.promotions.promotions,
                &reads.catalog.campaigns.campaigns,
            ),
            shipping_total: priced_cart.shipping_total,
            shipping,
            tax_total: priced_cart.tax_total,
            total: priced_cart.total,
            paid_total: zero,
            refunded_total: zero,
            shipping_refunded: false,
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
            .place_order(
                tenant,
                &order,
                (cart.version, reads.price_guard),
                customer.as_ref(),
                &moves,
                event,
            )
            .await;
        match placed {
            Ok(()) => {
                metrics::count(Metric::OrdersPlaced, 1);
                let levels: Vec<_> = moves.iter().map(|m| (m.item, m.warehouse)).collect();
                inventory::settle_low_flags(db, store, mode, &tenant.key_id.to_string(), &levels).await;
                return Ok(order);
            }
            // A transaction conflict can hide a level that sold out meanwhile: reading the levels after any
            // refusal ends a sell-out rush at once instead of retrying it until the deadline.
            // A price changed after this attempt read it: the next attempt reads it again and compares.
            Err(WriteError::Refused(CheckoutRefusal::PriceChanged)) => {}
            Err(WriteError::Refused(CheckoutRefusal::BudgetExhausted(id))) => {
                return Err(ApiError::Conflict {
                    code: "promotion_unavailable",
                    message: "a campaign budget of this order's promotions ran out during the checkout; nothing was \
                              ordered: read the cart and check out again"
                        .into(),
                    details: vec![json!({"campaign_id": id, "state": "budget_exhausted"})],
                });
            }
            Err(WriteError::Refused(CheckoutRefusal::PromotionUsedUp(id))) => {
                let taken = order.promotions.iter().find(|p| p.promotion_id == id);
                return Err(ApiError::Conflict {
                    code: "promotion_unavailable",
                    message: "a promotion of this order reached its limit during the checkout; nothing was ordered: \
                              read the cart and check out again"
                        .into(),
                    details: vec![json!({"promotion_id": id, "code": taken.and_then(|p| p.code.clone()),
                                         "state": "usage_exhausted"})],
                });
            }
            Err(WriteError::Refused(CheckoutRefusal::Stale)) => {
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
pub(super) fn sale_moves(order: &Order, warehouse: WarehouseId, actor: &str, now: &str) -> Vec<StockMove> {
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

pub(super) fn ledger_entry(
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
        transfer_id: None,
        at: now.to_owned(),
        actor: actor.to_owned(),
    }
}
