//! The EventBridge bus: where domain events go once their transaction has committed.

use aws_sdk_eventbridge::error::DisplayErrorContext;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

/// PutEvents takes at most 10 entries.
const BATCH: usize = 10;
/// Attempts for the entries of one batch that PutEvents reports as failed.
const ATTEMPTS: usize = 3;

/// One event as EventBridge takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusEvent {
    /// `cartwheel.{group}`
    pub source: String,
    /// The event type, e.g. `product.created`.
    pub detail_type: String,
    /// The envelope, as JSON text.
    pub detail: String,
}

#[derive(Clone)]
pub struct Bus {
    client: aws_sdk_eventbridge::Client,
    name: String,
}

impl Bus {
    pub fn new(sdk: &aws_config::SdkConfig, name: &str) -> Self {
        Self {
            client: aws_sdk_eventbridge::Client::new(sdk),
            name: name.to_owned(),
        }
    }

    /// Publishes `events` in order, ten at a time, retrying entries that fail. Returns the index of the first event
    /// that could not be published; the events before it are on the bus.
    pub async fn publish(&self, events: &[BusEvent]) -> Result<(), usize> {
        for (batch_index, batch) in events.chunks(BATCH).enumerate() {
            let mut pending: Vec<usize> = (0..batch.len()).collect();
            for _attempt in 0..ATTEMPTS {
                let entries = pending.iter().map(|i| {
                    let event = &batch[*i];
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.name)
                        .source(&event.source)
                        .detail_type(&event.detail_type)
                        .detail(&event.detail)
                        .build()
                });
                match self
                    .client
                    .put_events()
                    .set_entries(Some(entries.collect()))
                    .send()
                    .await
                {
                    Ok(output) => {
                        // Entries come back in request order; a failed one carries an error code.
                        let results = output.entries();
                        pending = pending
                            .iter()
                            .zip(results.iter().map(Some).chain(std::iter::repeat(None)))
                            .filter(|(_, result)| result.is_none_or(|r| r.error_code().is_some()))
                            .map(|(i, _)| *i)
                            .collect();
                    }
                    Err(error) => tracing::warn!(error = %DisplayErrorContext(&error), "PutEvents failed"),
                }
                if pending.is_empty() {
                    break;
                }
            }
            if let Some(first) = pending.first() {
                return Err(batch_index * BATCH + first);
            }
        }
        Ok(())
    }
}
