//! The payment provider's callbacks: `Payment-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` (the scheme of
//! Stripe's `Stripe-Signature`), checked in constant time and refused outside a five-minute window, then applied
//! to the order named by `metadata.order_id` in the store named by `metadata.store_id`.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::ApiError;
use crate::ids::{OrderId, StoreId};
use crate::money::CurrencyCode;
use crate::orders::{self, Order, PaymentOutcome};
use crate::tenant::Mode;

pub const SIGNATURE_HEADER: &str = "payment-signature";
/// The longest event or payment-intent id accepted from the provider.
const MAX_PROVIDER_ID: usize = 255;
/// Callbacks older or newer than this are refused as replays.
pub const TOLERANCE_SECS: i64 = 300;

/// The secret shared with the payment provider.
#[derive(Clone)]
pub struct PaymentsSecret(String);

impl std::fmt::Debug for PaymentsSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaymentsSecret(<redacted>)")
    }
}

impl PaymentsSecret {
    pub fn new(secret: &str) -> Option<Self> {
        let secret = secret.trim();
        (!secret.is_empty()).then(|| Self(secret.to_owned()))
    }

    fn mac(&self, timestamp: &str, body: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }

    /// The header a provider would send for `body` at `timestamp` (for tests and local tools).
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        format!(
            "t={timestamp},v1={}",
            hex::encode(self.mac(&timestamp.to_string(), body))
        )
    }

    /// Checks a callback's signature header against its raw body at `now` (Unix seconds). Several `v1` entries
    /// are accepted (the provider sends one per secret while it rotates them).
    pub fn verify(&self, header: Option<&str>, body: &[u8], now: i64) -> Result<(), ApiError> {
        let header = header.ok_or(ApiError::Unauthorized("missing Payment-Signature header"))?;
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", value)) => timestamp = Some(value),
                Some(("v1", value)) => signatures.extend(hex::decode(value).ok()),
                _ => {}
            }
        }
        let text = timestamp.ok_or(ApiError::Unauthorized("Payment-Signature has no timestamp"))?;
        let at: i64 = text
            .parse()
            .map_err(|_| ApiError::Unauthorized("Payment-Signature has no timestamp"))?;
        if (now - at).abs() > TOLERANCE_SECS {
            return Err(ApiError::Unauthorized(
                "Payment-Signature timestamp is outside the five-minute tolerance",
            ));
        }
        let expected = self.mac(text, body);
        if signatures.iter().any(|s| bool::from(s.as_slice().ct_eq(&expected))) {
            Ok(())
        } else {
            Err(ApiError::Unauthorized("Payment-Signature does not match"))
        }
    }
}

/// A callback, as the provider sends it (only what Cartwheel reads).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PaymentCallback {
    /// The provider's event id: a duplicate of a handled one changes nothing.
    pub id: String,
    /// `payment_intent.succeeded` or `payment_intent.payment_failed`; others are acknowledged and ignored.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Live or test payment: the mode of the order.
    #[serde(default)]
    pub livemode: bool,
    pub data: CallbackData,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CallbackData {
    pub object: PaymentIntent,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PaymentIntent {
    pub id: String,
    #[serde(default)]
    pub amount: i64,
    pub amount_received: Option<i64>,
    /// ISO 4217, any case.
    pub currency: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: serde_json::Map<String, Value>,
    pub last_payment_error: Option<PaymentError>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PaymentError {
    pub message: Option<String>,
}

/// Applies a verified callback; `None` for event types Cartwheel does not act on.
pub async fn handle_callback(db: &Db, callback: &PaymentCallback) -> Result<Option<Order>, ApiError> {
    let succeeded = match callback.event_type.as_str() {
        "payment_intent.succeeded" => true,
        "payment_intent.payment_failed" => false,
        _ => return Ok(None),
    };
    let intent = &callback.data.object;
    // Ids name DynamoDB keys (at most 2 KB); the provider's are far shorter.
    for (field, id) in [("id", &callback.id), ("data.object.id", &intent.id)] {
        if id.is_empty() || id.len() > MAX_PROVIDER_ID {
            return Err(ApiError::invalid(
                field,
                format!("must be 1 to {MAX_PROVIDER_ID} characters"),
            ));
        }
    }
    let field = |name: &str| intent.metadata.get(name).and_then(Value::as_str);
    let store: StoreId = field("store_id")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::invalid("data.object.metadata.store_id", "must name the store"))?;
    let order: OrderId = field("order_id")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::invalid("data.object.metadata.order_id", "must name the order"))?;
    let currency = match intent.currency.as_deref() {
        Some(code) => Some(
            CurrencyCode::parse(&code.to_uppercase())
                .ok_or_else(|| ApiError::invalid("data.object.currency", "not an ISO 4217 code"))?,
        ),
        None => None,
    };
    let mode = if callback.livemode { Mode::Live } else { Mode::Test };
    let outcome = PaymentOutcome {
        provider_event_id: &callback.id,
        payment_intent_id: &intent.id,
        succeeded,
        amount: intent.amount_received.unwrap_or(intent.amount),
        currency,
        failure_message: intent.last_payment_error.as_ref().and_then(|e| e.message.as_deref()),
    };
    orders::apply_payment(db, store, mode, order, outcome).await.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_check_the_body_the_secret_and_the_time() {
        let secret = PaymentsSecret::new("whsec_test").unwrap();
        let body = br#"{"id":"evt_1"}"#;
        let header = secret.sign(1_000, body);
        assert!(secret.verify(Some(&header), body, 1_000).is_ok());
        assert!(secret.verify(Some(&header), body, 1_000 + TOLERANCE_SECS).is_ok());
        assert!(secret.verify(Some(&header), body, 1_000 + TOLERANCE_SECS + 1).is_err());
        assert!(secret.verify(Some(&header), br#"{"id":"evt_2"}"#, 1_000).is_err());
        assert!(PaymentsSecret::new("other")
            .unwrap()
            .verify(Some(&header), body, 1_000)
            .is_err());
        assert!(secret.verify(None, body, 1_000).is_err());
        assert!(secret.verify(Some("v1=00"), body, 1_000).is_err());
        let rotated = format!("{header},v1=deadbeef");
        assert!(secret.verify(Some(&rotated), body, 1_000).is_ok());
        assert!(PaymentsSecret::new("  ").is_none());
    }
}
