//! Shipping an order's lines.

use super::*;

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
    for (i, item) in input.items.iter().enumerate() {
        if !(1..=MAX_LINE_QUANTITY).contains(&item.quantity) {
            checks.fail(
                &format!("items[{i}].quantity"),
                &format!("must be 1 to {MAX_LINE_QUANTITY}"),
            );
        }
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
    change_order(db, &who, id_of::<Order>(id)?, |order, now| {
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
