//! Refunds, never more than was paid: by amount, or by line at what each line was charged.

use super::*;

const MAX_REFUND_LINES: usize = 250;

pub async fn create_refund(db: &Db, tenant: &Tenant, id: &str, input: RefundIn) -> Result<Refund, ApiError> {
    let mut checks = Checks::default();
    checks.text("reason", Some(&input.reason), true, 500);
    if input.amount.is_some_and(|amount| !(1..=MAX_PRICE).contains(&amount)) {
        checks.fail("amount", &format!("must be 1 to {MAX_PRICE}"));
    }
    if input.amount.is_some() && (input.lines.is_some() || input.shipping) {
        checks.fail("amount", "give an amount, or lines (and shipping), not both");
    }
    if input.lines.as_ref().is_some_and(|lines| lines.len() > MAX_REFUND_LINES) {
        checks.fail("lines", &format!("at most {MAX_REFUND_LINES} lines"));
    }
    checks.finish()?;
    let by_line = input.lines.is_some() || input.shipping;
    let lines: Vec<(OrderLineId, u32)> = input
        .lines
        .iter()
        .flatten()
        .map(|line| (line.line_id, line.quantity))
        .collect();
    let key_id = tenant.key_id.to_string();
    let who = Changer::key(tenant, &key_id);
    let refund_id = RefundId::new();
    let mut made = None;
    change_order(db, &who, id_of::<Order>(id)?, |order, now| {
        let from = order.status;
        let ask = match by_line {
            true => RefundAsk::Lines {
                lines: lines.clone(),
                shipping: input.shipping,
            },
            false => RefundAsk::Amount(input.amount),
        };
        let taken = refund(order, ask)?;
        let record = Refund {
            id: refund_id,
            order_id: order.id,
            amount: taken.amount,
            reason: input.reason.trim().to_owned(),
            restock: input.restock,
            lines: taken.lines,
            shipping: taken.shipping,
            created_at: now.to_owned(),
        };
        let returned = match by_line {
            true => refunded_not_restocked(order, &record.lines),
            false => not_restocked(order),
        };
        let stock = if input.restock {
            restock_moves(order, returned, AdjustReason::Return, who.actor, now)
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
                spend: Some(Money::new(-taken.amount.amount, taken.amount.currency)),
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
