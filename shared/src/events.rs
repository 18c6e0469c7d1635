//! Domain events: the envelope every consumer sees (EventBridge `detail` and the webhook body).
//!
//! Events are written as EVENT items in the same DynamoDB transaction as the change they describe
//! (the outbox); the table's stream carries them to EventBridge.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::ids::{EventId, StoreId};
use crate::tenant::Mode;
use crate::time;

/// The version of the event and API contract the envelope follows.
pub const API_VERSION: &str = "2026-11-01";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: EventId,
    /// `order.created`, `product.updated`, …; also the EventBridge `detail-type`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// RFC 3339.
    pub created_at: String,
    pub store_id: StoreId,
    pub mode: Mode,
    pub api_version: String,
    pub resource: ResourceRef,
    /// The resource after the change.
    pub data: Value,
    /// For `*.updated` events: the names of the fields that changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_fields: Option<Vec<String>>,
}

/// The entity an event is about. `version` is the entity's own version after the change, so a consumer that sees
/// events out of order can drop a stale one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub version: u64,
}

impl Event {
    pub fn new(store_id: StoreId, mode: Mode, event_type: &str, resource: ResourceRef, data: Value) -> Self {
        Self {
            id: EventId::new(),
            event_type: event_type.to_owned(),
            created_at: time::rfc3339(time::now()),
            store_id,
            mode,
            api_version: API_VERSION.to_owned(),
            resource,
            data,
            changed_fields: None,
        }
    }

    pub fn with_changes(mut self, fields: &[&str]) -> Self {
        self.changed_fields = Some(fields.iter().map(|f| (*f).to_owned()).collect());
        self
    }

    /// The EventBridge `source`: `cartwheel.{group}`, the group being the first word of the type's function group.
    pub fn source(&self) -> String {
        format!("cartwheel.{}", source_group(&self.event_type))
    }
}

/// Which endpoint group an event type comes from (`product.created` → `catalog`).
pub fn source_group(event_type: &str) -> &'static str {
    match event_type.split('.').next().unwrap_or_default() {
        "product" | "variant" | "recall" | "category" | "brand" => "catalog",
        "inventory" | "warehouse" | "reservation" => "inventory",
        "order" | "payment" | "refund" | "fulfillment" => "orders",
        "customer" | "customer_group" => "customers",
        "cart" => "carts",
        "promotion" | "coupon" | "price" => "pricing",
        "webhook" => "webhooks",
        "vendor" | "payout" | "dispute" | "return" | "review" => "marketplace",
        _ => "admin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_the_documented_fields() {
        let event = Event::new(
            StoreId::new(),
            Mode::Test,
            "product.created",
            ResourceRef {
                kind: "product".into(),
                id: "prod_1".into(),
                version: 1,
            },
            serde_json::json!({"name": "Mug"}),
        );
        let json = serde_json::to_value(&event).unwrap();
        for field in [
            "id",
            "type",
            "created_at",
            "store_id",
            "mode",
            "api_version",
            "resource",
            "data",
        ] {
            assert!(json.get(field).is_some(), "missing {field}");
        }
        assert_eq!(json["mode"], "test");
        assert_eq!(json["resource"]["type"], "product");
        assert!(json["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(event.source(), "cartwheel.catalog");
    }

    #[test]
    fn groups_follow_the_design() {
        assert_eq!(source_group("order.status_changed"), "orders");
        assert_eq!(source_group("inventory.low_stock"), "inventory");
        assert_eq!(source_group("payout.paid"), "marketplace");
        assert_eq!(source_group("api_key.created"), "admin");
        assert_eq!(source_group("customer_group.created"), "customers");
    }
}
