//! Refunds, never more than was paid.

use super::*;

pub async fn create_refund(db: &Db, tenant: &Tenant, id: &str, input: RefundIn) -> Result<Refund, ApiError> {
    let mut checks = Checks::default();
    checks.text("reason", Some(&input.reason), true, 500);
    if input.amount.is_some_and(|amount| !(1..=MAX_PRICE).contains(&amount)) {
        checks.fail("amount", &format!("must be 1 to {MAX_PRICE}"));
    }
    checks.finish()?;
    let key_id = tenant.key_id.to_string();
    let who = Changer::key(tenant, &key_id);
    let refund_id = RefundId::new();
    let mut made = None;
    change_order(db, &who, id_of::<Order>(id)?, |order, now| {
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
