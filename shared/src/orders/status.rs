//! An order's status moves, and the stock a cancellation puts back.

use super::*;

pub(super) fn restock_moves(
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
    change_order(db, &who, id_of::<Order>(id)?, |order, now| {
        let from = order.status;
        if !from.next().contains(&patch.status) {
            return Err(invalid_transition(order, patch.status.as_str()));
        }
        let mut write = OrderWrite::default();
        match patch.status {
            OrderStatus::Cancelled => {
                order.status = OrderStatus::Cancelled;
                order.cancel_reason = patch.reason.clone();
                // Before anything shipped, the order's promotion uses come back (once: this write is conditioned
                // on the order's version, and a cancelled order cannot be cancelled again).
                write.release_promotions = order.lines.iter().all(|l| l.fulfilled_quantity == 0);
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
