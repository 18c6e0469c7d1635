//! `functions/webhook-fanout`: each store event from EventBridge (through the webhook-events queue) becomes one
//! pending delivery and one delivery job per enabled endpoint that subscribes to its type (held back until the
//! endpoint's cooldown ends, if it is cooling down).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use cartwheel::config::WebhookQueue;
use cartwheel::deliveries;
use cartwheel::events::Event;
use cartwheel::http::AppState;
use cartwheel::queue::Queue;
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
        let url = state.config.queue_url(WebhookQueue::Deliveries)?;
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
        deliveries::fan_out(&self.db, &self.deliveries, &event).await
    }
}
