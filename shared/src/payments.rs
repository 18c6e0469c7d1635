//! The payment provider's callbacks, once their signature holds ([`crate::payment_signature`]): applied to the order
//! named by `metadata.order_id` in the store named by `metadata.store_id`, reconciled against what it is due.

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::ApiError;
use crate::ids::{OrderId, StoreId};
use crate::money::CurrencyCode;
use crate::orders::{self, Order, PaymentOutcome};
use crate::tenant::Mode;

pub use crate::payment_signature::{PaymentsSecret, SIGNATURE_HEADER, TOLERANCE_SECS};

/// The longest event or payment-intent id accepted from the provider.
const MAX_PROVIDER_ID: usize = 255;

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
