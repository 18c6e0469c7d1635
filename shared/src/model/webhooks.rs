//! Webhook records as stored: endpoints with their sealed secrets, deliveries and their attempts. Their operations
//! are in `crate::webhooks`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::WebhookId;

/// A webhook endpoint as stored: its secrets only encrypted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    pub secret: Sealed,
    /// The secret before the last rotation, and when it stops signing (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<(Sealed, i64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// Unix seconds of the first failure since the last success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<i64>,
    /// Unix seconds until which the endpoint is not called: its last attempt timed out, and a hanging endpoint
    /// must not hold the delivery workers every other endpoint shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_until: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Endpoint {
    /// Seconds of cooldown left at `now` (Unix seconds): 0 when the endpoint may be called.
    pub fn cooldown_left(&self, now: i64) -> u32 {
        self.cooldown_until
            .map_or(0, |until| u32::try_from(until.saturating_sub(now)).unwrap_or(0))
    }

    pub fn subscribes_to(&self, event_type: &str) -> bool {
        self.enabled
            && self.events.iter().any(|filter| {
                filter == "*"
                    || filter == event_type
                    || filter
                        .strip_suffix(".*")
                        .is_some_and(|group| event_type.split('.').next() == Some(group))
            })
    }
}

/// A secret encrypted with the deployment's master key (AES-256-GCM).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// Which master key sealed it (first 8 hex digits of its hash).
    pub key_id: String,
    pub nonce: String,
    pub ciphertext: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

/// One POST to the endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Attempt {
    pub at: String,
    /// The HTTP status, when the endpoint answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why there was no answer (timeout, connection refused, refused address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub latency_ms: u64,
    /// The first 2 KB of the response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
}

/// One event for one endpoint, with every attempt to deliver it. Its id is the event's id, which is also the
/// `webhook-id` header: stable across retries, so receivers can drop duplicates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    pub id: crate::ids::EventId,
    pub endpoint_id: WebhookId,
    pub event_type: String,
    pub status: DeliveryStatus,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// The envelope that is POSTed, as JSON text.
    pub payload: String,
    pub created_at: String,
    pub updated_at: String,
}
