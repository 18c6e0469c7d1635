//! An SQS queue, as the webhook functions use it.

use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::error::ApiError;

/// SendMessageBatch takes at most 10 messages.
const BATCH: usize = 10;

/// SQS hides a new message for at most 15 minutes.
pub const MAX_DELAY_SECS: u32 = 900;

/// A message to send, hidden from receivers for its first `delay_secs` (at most [`MAX_DELAY_SECS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub body: String,
    pub delay_secs: u32,
}

impl Outgoing {
    pub fn now(body: String) -> Self {
        Self { body, delay_secs: 0 }
    }
}

#[derive(Clone)]
pub struct Queue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl Queue {
    pub fn new(sdk: &aws_config::SdkConfig, url: &str) -> Self {
        Self {
            client: aws_sdk_sqs::Client::new(sdk),
            url: url.to_owned(),
        }
    }

    /// Sends every message; fails if any was not accepted (the caller's message is then retried whole).
    pub async fn send_all(&self, messages: &[Outgoing]) -> Result<(), ApiError> {
        for batch in messages.chunks(BATCH) {
            let entries = batch
                .iter()
                .enumerate()
                .map(|(i, message)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(&message.body)
                        .delay_seconds(i32::try_from(message.delay_secs.min(MAX_DELAY_SECS)).unwrap_or(0))
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(ApiError::internal)?;
            let output = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| ApiError::internal(DisplayErrorContext(e)))?;
            if !output.failed().is_empty() {
                return Err(ApiError::internal(format!(
                    "{} messages were not queued",
                    output.failed().len()
                )));
            }
        }
        Ok(())
    }

    /// Hides a received message for `seconds` (at most just under 12 h): how a retry is scheduled.
    pub async fn delay(&self, receipt_handle: &str, seconds: u64) -> Result<(), ApiError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(i32::try_from(seconds).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| ApiError::internal(DisplayErrorContext(e)))?;
        Ok(())
    }
}
