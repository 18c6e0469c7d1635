//! The payment provider's outcomes applied to an order, each once.

use super::*;

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
