//! An SQS queue, as the webhook functions use it.

use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::error::ApiError;

/// SendMessageBatch takes at most 10 messages.
const BATCH: usize = 10;

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

    /// Sends every body; fails if any message was not accepted (the caller's message is then retried whole).
    pub async fn send_all(&self, bodies: &[String]) -> Result<(), ApiError> {
        for batch in bodies.chunks(BATCH) {
            let entries = batch
                .iter()
                .enumerate()
                .map(|(i, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
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
