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
    queue.send_all(&[job_of(tenant, delivery).message(delay_secs)?]).await
}

#[cfg(feature = "sqs")]
fn job_of(tenant: &Tenant, delivery: &Delivery) -> DeliveryJob {
    DeliveryJob {
        store_id: tenant.store_id,
        mode: tenant.mode,
        endpoint_id: delivery.endpoint_id,
        event_id: delivery.id,
    }
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
    /// RFC 3339: re-send every failed delivery of events created since then, and deliver every event since then that
    /// never reached this endpoint (lost before fan-out: a bus rule gone, a queue lost).
    #[schema(max_length = 64, format = DateTime, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub since: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoverOut {
    /// How many failed deliveries were queued again.
    pub queued: u64,
    /// How many events of the store's outbox since then the endpoint subscribes to but had no delivery of, or one
    /// never attempted, or whose next attempt was lost: each is queued now.
    pub restored: u64,
    /// Set when a per-call limit (1,000 events, or 3 s of work) stopped the walk: call again with this as `since`
    /// to go on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_since: Option<String>,
}

/// Most failed deliveries one recover call looks at; call again for more.
#[cfg(feature = "sqs")]
pub(super) const MAX_RECOVER: u64 = 1000;
/// How long one recover call works before it answers with `next_since` (well inside an API call's timeout; the
/// fuzzer's 10 s read timeout found a call over a store of thousands of events passing it).
#[cfg(feature = "sqs")]
const RECOVER_BUDGET: std::time::Duration = std::time::Duration::from_secs(3);
/// Recovered attempts an endpoint gets per second: 1,000 are spread over 100 s (SQS delays go up to 900 s).
#[cfg(feature = "sqs")]
pub(super) const RECOVER_PER_SECOND: u64 = 10;

/// Re-sends every failed delivery since a time, then walks the store's outbox over the same time for events the
/// endpoint never got: nothing accepted is lost even when the event path lost it after the commit.
#[cfg(feature = "sqs")]
pub async fn recover(
    db: &Db,
    queue: &crate::queue::Queue,
    tenant: &Tenant,
    id: &str,
    input: RecoverIn,
    stall_after_secs: i64,
) -> Result<RecoverOut, ApiError> {
    let endpoint = endpoint_by_id(db, tenant, id).await?;
    let deadline = tokio::time::Instant::now() + RECOVER_BUDGET;
    let params = DeliveryListParams {
        status: Some(DeliveryStatus::Failed),
        from: Some(input.since.clone()),
        ..Default::default()
    };
    let filter = params.parse().map_err(|e| match e {
        ApiError::Validation(_) => ApiError::invalid("since", "must be an RFC 3339 time"),
        other => other,
    })?;
    let mut page = crate::http::pagination::Page::first(100);
    let prefix = crate::db::tenant_prefix(tenant.store_id, tenant.mode);
    let (mut queued, mut examined) = (0, 0);
    // Past a limit the rest waits for the next call, with the same `since`: what was re-sent is no longer failed.
    // The limits are checked per delivery, not per page: a page of writes on a slow table alone can take seconds.
    let over = |examined: u64| examined >= MAX_RECOVER || tokio::time::Instant::now() >= deadline;
    let stopped = 'pages: loop {
        let found = db.scoped(tenant).list_deliveries(endpoint.id, &filter, &page).await?;
        for delivery in &found.items {
            if examined > 0 && over(examined) {
                break 'pages true;
            }
            examined += 1;
            // Spread over time: the endpoint gets at most RECOVER_PER_SECOND of these attempts a second.
            let delay = u32::try_from(queued / RECOVER_PER_SECOND).unwrap_or(u32::MAX);
            if resend(db, queue, tenant, delivery, delay).await? {
                queued += 1;
            }
        }
        match found.next_cursor {
            Some(_) if over(examined) => break true,
            Some(next) => page.cursor = Some(crate::http::pagination::Cursor::decode(&prefix, &next)?),
            None => break false,
        }
    };
    if stopped {
        // Failed deliveries are left: the outbox walk waits for the call that finishes them.
        return Ok(RecoverOut {
            queued,
            restored: 0,
            next_since: Some(input.since),
        });
    }
    let range = (filter.from, filter.to);
    let (restored, next_since) = restore_missing(
        db,
        queue,
        tenant,
        &endpoint,
        range,
        (queued, stall_after_secs),
        deadline,
    )
    .await?;
    Ok(RecoverOut {
        queued,
        restored,
        next_since,
    })
}

/// Queues every event of the outbox in `range` that `endpoint` subscribes to and has no delivery of (fan-out never
/// reached it), or whose pending delivery nothing has touched for `stall_after_secs` (its job was lost). `already` attempts are
/// queued before these; the spread over time goes on from there.
#[cfg(feature = "sqs")]
async fn restore_missing(
    db: &Db,
    queue: &crate::queue::Queue,
    tenant: &Tenant,
    endpoint: &Endpoint,
    (from, to): (crate::ids::EventId, crate::ids::EventId),
    (already, stall_after_secs): (u64, i64),
    deadline: tokio::time::Instant,
) -> Result<(u64, Option<String>), ApiError> {
    let now = time::now();
    let stalled = |delivery: &Delivery| {
        time::parse_rfc3339(&delivery.updated_at).is_some_and(|at| (now - at).whole_seconds() > stall_after_secs)
    };
    // Events before the endpoint existed were never its to get.
    let from = from.max(event_id_bound("since", Some(&endpoint.created_at), false)?);
    let scope = db.scoped(tenant);
    let prefix = crate::db::tenant_prefix(tenant.store_id, tenant.mode);
    let mut page = crate::http::pagination::Page::first(100);
    let (mut restored, mut examined) = (0, 0);
    loop {
        let found = scope.events_between(from, to, &page).await?;
        let mut jobs = Vec::new();
        let subscribed: Vec<&Event> = found
            .items
            .iter()
            .filter(|e| endpoint.subscribes_to(&e.event_type))
            .collect();
        // What exists already, in one read per page: only the missing ones are written.
        let ids: Vec<crate::ids::EventId> = subscribed.iter().map(|e| e.id).collect();
        let mut existing = scope.deliveries_of(endpoint.id, &ids).await?;
        let mut stopped_at = None;
        for event in subscribed {
            // Checked per event: one page of writes on a slow table alone can take seconds.
            if examined > 0 && (examined >= MAX_RECOVER || tokio::time::Instant::now() >= deadline) {
                stopped_at = Some(event.created_at.clone());
                break;
            }
            examined += 1;
            let candidate = Delivery::for_event(event, endpoint.id)?;
            let stored = match existing.remove(&event.id) {
                Some(stored) => stored,
                None => scope.create_delivery(&candidate).await?,
            };
            // Made just now: fan-out never reached it. A pending one that exists already has a job on its way (from
            // fan-out, a retry or an earlier recover), unless nothing has touched it for the stall time; claiming it
            // on its `updated_at` lets one recover only queue it, so repeated recovers do not pile up jobs.
            let lost = match stored.status {
                DeliveryStatus::Pending if stored == candidate => true,
                DeliveryStatus::Pending if stalled(&stored) => {
                    scope.claim_stalled(&stored, &time::rfc3339(now)).await?
                }
                _ => false,
            };
            if lost {
                let delay = u32::try_from((already + restored) / RECOVER_PER_SECOND).unwrap_or(u32::MAX);
                jobs.push(job_of(tenant, &stored).message(delay)?);
                restored += 1;
            }
        }
        // A page's jobs in batches of ten.
        queue.send_all(&jobs).await?;
        if stopped_at.is_some() {
            // The caller goes on from the first event not looked at.
            return Ok((restored, stopped_at));
        }
        match found.next_cursor {
            Some(next) if examined < MAX_RECOVER && tokio::time::Instant::now() < deadline => {
                page.cursor = Some(crate::http::pagination::Cursor::decode(&prefix, &next)?)
            }
            // Stopped by a limit: the caller goes on from the last event looked at.
            Some(_) => return Ok((restored, found.items.last().map(|e| e.created_at.clone()))),
            None => return Ok((restored, None)),
        }
    }
}
