//! The webhook pipeline's operations: an event fanned out to one delivery per subscribed endpoint, and the
//! effects of an attempt's verdict (`model::webhooks::judge`). The POST itself belongs to the delivery function.

use crate::db::Db;
use crate::error::ApiError;
use crate::events::Event;
use crate::metrics::{self, Metric};
use crate::model::webhooks::{judge, Delivery, DeliveryRules, DeliveryStatus, Endpoint, Posted, Verdict};
use crate::queue::{Outgoing, Queue};
use crate::time;
use crate::webhooks::DeliveryJob;

/// Makes one pending delivery and one job per enabled endpoint that subscribes to the event's type (a job for an
/// endpoint cooling down is held back until its cooldown ends). Returns how many jobs were queued; a repeat of the
/// same event queues nothing new, since deliveries are keyed by event and endpoint.
pub async fn fan_out(db: &Db, deliveries: &Queue, event: &Event) -> Result<usize, ApiError> {
    let scope = db.store_scope(event.store_id, event.mode);
    let endpoints = scope.all_endpoints().await?;
    let now = time::now().unix_timestamp();
    let mut jobs = Vec::new();
    for endpoint in endpoints.iter().filter(|e| e.subscribes_to(&event.event_type)) {
        let stored = scope.create_delivery(&Delivery::for_event(event, endpoint.id)?).await?;
        // A repeat of this event finds the delivery made: queue it again only while it is untouched.
        if stored.status == DeliveryStatus::Pending && stored.attempts.is_empty() {
            let job = DeliveryJob {
                store_id: event.store_id,
                mode: event.mode,
                endpoint_id: endpoint.id,
                event_id: event.id,
            };
            jobs.push(job.message(endpoint.cooldown_left(now))?);
        }
    }
    deliveries.send_all(&jobs).await?;
    Ok(jobs.len())
}

/// The job's delivery and its endpoint, when there is an attempt to make: the delivery is still pending and the
/// endpoint still enabled. A delivery whose endpoint is gone or disabled is marked failed here.
pub async fn pending(db: &Db, job: &DeliveryJob) -> Result<Option<(Delivery, Endpoint)>, ApiError> {
    let scope = db.store_scope(job.store_id, job.mode);
    // Both reads at once: a job is nearly always pending, so the endpoint is nearly always needed.
    let (delivery, endpoint) = tokio::try_join!(
        scope.get_delivery(job.endpoint_id, job.event_id),
        scope.record::<Endpoint>(job.endpoint_id, false),
    )?;
    let Some(delivery) = delivery.filter(|d| d.status == DeliveryStatus::Pending) else {
        return Ok(None);
    };
    match endpoint {
        Some(endpoint) if endpoint.enabled => Ok(Some((delivery, endpoint))),
        _ => {
            scope
                .record_attempt(
                    (job.endpoint_id, job.event_id),
                    None,
                    DeliveryStatus::Failed,
                    &time::now_rfc3339(),
                )
                .await?;
            Ok(None)
        }
    }
}

/// Where a job came from, for what its verdict does to it.
pub struct JobMessage<'a> {
    /// The job as queued (what goes to the dead-letter queue).
    pub body: &'a str,
    /// The handle that delays the job's next attempt.
    pub receipt: Option<&'a str>,
}

/// What settles attempts: the store, the queues a verdict may send to, and the rules it is judged by.
pub struct Settler {
    pub db: Db,
    pub deliveries: Queue,
    pub dead_letters: Queue,
    pub rules: DeliveryRules,
}

impl Settler {
    /// Records an attempt and carries out its verdict: the delivery's status, the endpoint's health (cooldown after
    /// a timeout, failing since, disabled), the job's next attempt or its dead letter. `None`: another attempt of
    /// the same job (seen again after its visibility timeout) settled the delivery first; this one is only logged.
    pub async fn settle(
        &self,
        job: &DeliveryJob,
        message: &JobMessage<'_>,
        (delivery, endpoint): (&Delivery, &Endpoint),
        posted: Posted,
        jitter: f64,
    ) -> Result<Option<Verdict>, ApiError> {
        let rules = &self.rules;
        let scope = self.db.store_scope(job.store_id, job.mode);
        let now = time::now().unix_timestamp();
        let now_text = time::now_rfc3339();
        if posted.timed_out {
            scope.cool_down_endpoint(endpoint.id, now + rules.cooldown_secs).await?;
        }
        let verdict = judge(endpoint, delivery.attempts.len() + 1, &posted, now, rules, jitter);
        let status = match verdict {
            Verdict::Delivered => DeliveryStatus::Succeeded,
            Verdict::RetryIn(_) => DeliveryStatus::Pending,
            Verdict::Disable(_) | Verdict::DeadLetter => DeliveryStatus::Failed,
        };
        let recorded = scope
            .record_attempt(
                (job.endpoint_id, job.event_id),
                Some(&posted.attempt),
                status,
                &now_text,
            )
            .await?;
        if !recorded {
            return Ok(None);
        }
        match &verdict {
            Verdict::Delivered => {
                if endpoint.failing_since.is_some() {
                    scope.set_endpoint_failing(endpoint.id, None).await?;
                }
            }
            Verdict::Disable(reason) => {
                let (after, event) = crate::webhooks::disabled(endpoint, job.store_id, job.mode, reason)?;
                scope.disable_endpoint(endpoint.version, &after, event).await?;
            }
            Verdict::RetryIn(delay) => {
                if endpoint.failing_since.is_none() {
                    scope.set_endpoint_failing(endpoint.id, Some(now)).await?;
                }
                if let Some(receipt) = message.receipt {
                    self.deliveries.delay(receipt, *delay).await?;
                }
            }
            Verdict::DeadLetter => {
                if endpoint.failing_since.is_none() {
                    scope.set_endpoint_failing(endpoint.id, Some(now)).await?;
                }
                self.dead_letters
                    .send_all(&[Outgoing::now(message.body.to_owned())])
                    .await?;
            }
        }
        let counted: &[Metric] = match verdict {
            Verdict::Delivered => &[Metric::DeliveriesSent],
            Verdict::RetryIn(_) => &[Metric::DeliveriesFailed, Metric::DeliveryRetries],
            Verdict::Disable(_) | Verdict::DeadLetter => &[Metric::DeliveriesFailed],
        };
        for metric in counted {
            metrics::count(*metric, 1);
        }
        Ok(Some(verdict))
    }
}
