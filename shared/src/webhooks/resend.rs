//! Deliveries sent again on request: a test event, a manual retry, a recovery of every failed delivery since a time.

use super::*;
use crate::body::request_body;
use macro_rules_attribute::apply;

/// Claims a finished delivery for another attempt (a manual retry, a recover) and queues its job after
/// `delay_secs`. `false`: another request claimed it first (it is pending), nothing was queued.
#[cfg(feature = "sqs")]
pub(super) async fn resend(
    db: &Db,
    queue: &crate::queue::Queue,
    tenant: &Tenant,
    delivery: &Delivery,
    delay_secs: u32,
) -> Result<bool, ApiError> {
    let claimed = db
        .scoped(tenant)
        .claim_resend((delivery.endpoint_id, delivery.id), &time::now_rfc3339())
        .await?;
    if !claimed {
        return Ok(false);
    }
    queue_job(queue, tenant, delivery, delay_secs).await?;
    Ok(true)
}

/// Queues a delivery's job: a test event's, or one claimed for a resend.
#[cfg(feature = "sqs")]
pub(super) async fn queue_job(
    queue: &crate::queue::Queue,
    tenant: &Tenant,
    delivery: &Delivery,
    delay_secs: u32,
) -> Result<(), ApiError> {
    let job = DeliveryJob {
        store_id: tenant.store_id,
        mode: tenant.mode,
        endpoint_id: delivery.endpoint_id,
        event_id: delivery.id,
    };
    queue.send_all(&[job.message(delay_secs)?]).await
}

/// Sends a `webhook.test` event to one endpoint now (straight to the delivery queue, not through the bus).
#[cfg(feature = "sqs")]
pub async fn send_test(db: &Db, queue: &crate::queue::Queue, tenant: &Tenant, id: &str) -> Result<Delivery, ApiError> {
    let endpoint = endpoint_by_id(db, tenant, id).await?;
    let resource = ResourceRef {
        kind: "webhook_endpoint".into(),
        id: endpoint.id.to_string(),
        version: endpoint.version,
    };
    let data = serde_json::json!({"endpoint_id": endpoint.id, "message": "a test event from Cartwheel"});
    let event = Event::new(tenant.store_id, tenant.mode, EventType::WebhookTest, resource, data);
    let delivery = Delivery::for_event(&event, endpoint.id)?;
    let stored = db.scoped(tenant).create_delivery(&delivery).await?;
    queue_job(queue, tenant, &stored, 0).await?;
    Ok(stored)
}

/// Sends one delivery again (whatever its status): one more attempt, outside the schedule.
#[cfg(feature = "sqs")]
pub async fn retry_delivery(
    db: &Db,
    queue: &crate::queue::Queue,
    tenant: &Tenant,
    id: &str,
    delivery_id: &str,
) -> Result<Delivery, ApiError> {
    let endpoint = endpoint_by_id(db, tenant, id).await?;
    let event = delivery_id.parse().map_err(|_| ApiError::not_found("delivery"))?;
    let mut delivery = db
        .scoped(tenant)
        .get_delivery(endpoint.id, event)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    if delivery.status == DeliveryStatus::Pending || !resend(db, queue, tenant, &delivery, 0).await? {
        return Err(ApiError::conflict(
            "the delivery is pending: its next attempt is already scheduled",
        ));
    }
    delivery.status = DeliveryStatus::Pending;
    Ok(delivery)
}

#[apply(request_body!)]
pub struct RecoverIn {
    /// RFC 3339: re-send every failed delivery of events created since then.
    #[schema(max_length = 64)]
    pub since: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoverOut {
    /// How many failed deliveries were queued again.
    pub queued: u64,
}

/// Most failed deliveries one recover call looks at; call again for more.
#[cfg(feature = "sqs")]
pub(super) const MAX_RECOVER: u64 = 1000;
/// Recovered attempts an endpoint gets per second: 1,000 are spread over 100 s (SQS delays go up to 900 s).
#[cfg(feature = "sqs")]
pub(super) const RECOVER_PER_SECOND: u64 = 10;

/// Re-sends every failed delivery since a time.
#[cfg(feature = "sqs")]
pub async fn recover(
    db: &Db,
    queue: &crate::queue::Queue,
    tenant: &Tenant,
    id: &str,
    input: RecoverIn,
) -> Result<RecoverOut, ApiError> {
    let endpoint = endpoint_by_id(db, tenant, id).await?;
    let params = DeliveryListParams {
        status: Some(DeliveryStatus::Failed),
        from: Some(input.since),
        limit: Some(100),
        ..Default::default()
    };
    let prefix = crate::db::tenant_prefix(tenant.store_id, tenant.mode);
    let (filter, mut page) = params.parse(&prefix).map_err(|e| match e {
        ApiError::Validation(_) => ApiError::invalid("since", "must be an RFC 3339 time"),
        other => other,
    })?;
    let (mut queued, mut examined) = (0, 0);
    loop {
        let found = db.scoped(tenant).list_deliveries(endpoint.id, &filter, &page).await?;
        for delivery in &found.items {
            examined += 1;
            // Spread over time: the endpoint gets at most RECOVER_PER_SECOND of these attempts a second.
            let delay = u32::try_from(queued / RECOVER_PER_SECOND).unwrap_or(u32::MAX);
            if resend(db, queue, tenant, delivery, delay).await? {
                queued += 1;
            }
        }
        match found.next_cursor {
            Some(next) if examined < MAX_RECOVER => {
                page.cursor = Some(crate::http::pagination::Cursor::decode(&prefix, &next)?)
            }
            _ => return Ok(RecoverOut { queued }),
        }
    }
}
