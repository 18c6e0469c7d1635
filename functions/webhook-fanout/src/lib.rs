//! `functions/webhook-fanout`: each store event from EventBridge (through the webhook-events queue) becomes one
//! pending delivery and one delivery job per enabled endpoint that subscribes to its type (held back until the
//! endpoint's cooldown ends, if it is cooling down).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use cartwheel::events::Event;
use cartwheel::http::AppState;
use cartwheel::queue::{Outgoing, Queue};
use cartwheel::time;
use cartwheel::webhooks::{Delivery, DeliveryJob, DeliveryStatus};
use cartwheel::{ApiError, Db};
use futures_util::future::join_all;
use lambda_runtime::LambdaEvent;
use serde::Deserialize;

/// The EventBridge envelope as the rule's SQS target delivers it (`account` and the rest are not needed).
#[derive(Debug, Deserialize)]
pub struct BusMessage {
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub detail: Event,
}

pub struct Fanout {
    db: Db,
    deliveries: Queue,
}

impl Fanout {
    pub fn new(state: &AppState, sdk: &aws_config::SdkConfig) -> Result<Self, &'static str> {
        let url = state
            .config
            .webhook_deliveries_queue_url
            .as_deref()
            .ok_or("CARTWHEEL_WEBHOOK_DELIVERIES_QUEUE_URL is not set")?;
        Ok(Self {
            db: state.db.clone(),
            deliveries: Queue::new(sdk, url),
        })
    }

    /// Fans out every message of the batch at once; a message that fails is reported so SQS offers it again
    /// (nothing is created twice: deliveries are keyed by event and endpoint).
    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        let results = join_all(event.payload.records.iter().map(|message| async move {
            match serde_json::from_str::<BusMessage>(message.body.as_deref().unwrap_or_default()) {
                Ok(bus_message) => self.fan_out(bus_message.detail).await,
                Err(error) => {
                    // Not an event: retrying cannot fix it, and the DLQ would only collect it.
                    tracing::error!(%error, "unreadable message dropped");
                    Ok(0)
                }
            }
        }))
        .await;
        let mut response = SqsBatchResponse::default();
        for (message, result) in event.payload.records.iter().zip(results) {
            if let Err(error) = result {
                tracing::warn!(?error, "fanout failed; the message will be retried");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message.message_id.clone().unwrap_or_default();
                response.batch_item_failures.push(failure);
            }
        }
        Ok(response)
    }

    /// Returns how many jobs were queued.
    pub async fn fan_out(&self, event: Event) -> Result<usize, ApiError> {
        let (store, mode) = (event.store_id, event.mode);
        let endpoints = self.db.all_endpoints(store, mode).await?;
        let payload = serde_json::to_string(&event).map_err(ApiError::internal)?;
        let now = time::now().unix_timestamp();
        let mut jobs = Vec::new();
        for endpoint in endpoints.iter().filter(|e| e.subscribes_to(&event.event_type)) {
            let delivery = Delivery {
                id: event.id,
                endpoint_id: endpoint.id,
                event_type: event.event_type.clone(),
                status: DeliveryStatus::Pending,
                attempts: Vec::new(),
                payload: payload.clone(),
                created_at: event.created_at.clone(),
                updated_at: event.created_at.clone(),
            };
            let stored = self.db.create_delivery(store, mode, &delivery).await?;
            // A repeat of this message finds the delivery made: queue it again only while it is pending.
            if stored.status == DeliveryStatus::Pending && stored.attempts.is_empty() {
                let job = DeliveryJob {
                    store_id: store,
                    mode,
                    endpoint_id: endpoint.id,
                    event_id: event.id,
                };
                jobs.push(Outgoing {
                    body: serde_json::to_string(&job).map_err(ApiError::internal)?,
                    // An endpoint cooling down after a timeout gets its new jobs when the cooldown ends, not
                    // now: attempting them would only record failures and take the workers' time.
                    delay_secs: endpoint.cooldown_left(now),
                });
            }
        }
        self.deliveries.send_all(&jobs).await?;
        Ok(jobs.len())
    }
}
