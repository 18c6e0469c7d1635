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

/// The JSON Schema (2020-12) of each event type's envelope, generated from the same types that produce the events.
/// `make schemas` writes them to `docs/events/schemas/`; a test checks real events against them.
pub mod schemas {
    use serde_json::{json, Value};
    use utoipa::OpenApi;

    use super::{Event, ResourceRef, API_VERSION};
    use crate::apikeys::ApiKeyOut;
    use crate::carts::{Cart, CartLine, CartStatus};
    use crate::catalog::products::Product;
    use crate::catalog::taxonomy::{Brand, Category};
    use crate::catalog::variants::Variant;
    use crate::customers::{Address, Customer, CustomerGroup, PostalAddress};
    use crate::inventory::{Level, Reservation, Warehouse};
    use crate::orders::{Fulfillment, FulfillmentLine, Order, OrderLine, OrderStatus, PaymentStatus, Refund};
    use crate::stores::StoreOut;
    use crate::webhooks::EndpointOut;

    #[derive(OpenApi)]
    #[openapi(components(schemas(
        Event,
        ResourceRef,
        Product,
        Variant,
        Category,
        Brand,
        ApiKeyOut,
        StoreOut,
        EndpointOut,
        Warehouse,
        Level,
        Reservation,
        Customer,
        Address,
        PostalAddress,
        CustomerGroup,
        Cart,
        CartLine,
        CartStatus,
        Order,
        OrderLine,
        OrderStatus,
        PaymentStatus,
        Fulfillment,
        FulfillmentLine,
        Refund
    )))]
    struct Components;

    /// Every event type, and the schema of its `data`.
    pub fn event_types() -> Vec<(&'static str, Value)> {
        let named = |name: &str| json!({"$ref": format!("#/$defs/{name}")});
        let mut types = Vec::new();
        for verb in ["created", "updated", "deleted"] {
            types.push((leak(format!("product.{verb}")), named("Product")));
            types.push((leak(format!("variant.{verb}")), named("Variant")));
            types.push((leak(format!("category.{verb}")), named("Category")));
            types.push((leak(format!("brand.{verb}")), named("Brand")));
        }
        types.push((
            "recall.created",
            json!({"type": "object", "required": ["product", "reason"],
                   "properties": {"product": named("Product"), "reason": {"type": "string"}}}),
        ));
        types.push(("store.created", named("StoreOut")));
        types.push(("warehouse.created", named("Warehouse")));
        types.push(("warehouse.updated", named("Warehouse")));
        types.push(("inventory.adjusted", named("Level")));
        types.push(("inventory.low_stock", named("Level")));
        for verb in ["created", "released", "expired"] {
            types.push((leak(format!("reservation.{verb}")), named("Reservation")));
        }
        types.push(("api_key.created", named("ApiKeyOut")));
        types.push(("api_key.revoked", named("ApiKeyOut")));
        for verb in [
            "endpoint_created",
            "endpoint_updated",
            "endpoint_deleted",
            "endpoint_disabled",
        ] {
            types.push((leak(format!("webhook.{verb}")), named("EndpointOut")));
        }
        for verb in ["created", "updated", "deleted"] {
            types.push((leak(format!("customer.{verb}")), named("Customer")));
        }
        types.push(("customer_group.created", named("CustomerGroup")));
        types.push(("cart.created", named("Cart")));
        types.push(("cart.updated", named("Cart")));
        for order_type in ["order.created", "order.cancelled", "order.fulfilled"] {
            types.push((order_type, named("Order")));
        }
        // The order, with one more field about the change.
        let order_with = |field: &str, schema: Value| json!({"allOf": [named("Order"), {"type": "object", "required": [field], "properties": {field: schema}}]});
        types.push((
            "order.status_changed",
            order_with(
                "status_change",
                json!({"type": "object", "required": ["from", "to"], "properties": {
                    "from": named("OrderStatus"), "to": named("OrderStatus"),
                    "reason": {"type": ["string", "null"]}}}),
            ),
        ));
        types.push((
            "order.fulfillment_created",
            order_with("fulfillment", named("Fulfillment")),
        ));
        types.push(("order.refunded", order_with("refund", named("Refund"))));
        let payment = json!({"type": "object", "required": ["provider_event_id", "payment_intent_id", "amount"],
            "properties": {"provider_event_id": {"type": "string"}, "payment_intent_id": {"type": "string"},
                           "amount": {"type": "integer"}, "failure_message": {"type": ["string", "null"]}}});
        types.push(("payment.received", order_with("payment", payment.clone())));
        types.push(("payment.failed", order_with("payment", payment)));
        types.push((
            "webhook.test",
            json!({"type": "object", "required": ["endpoint_id", "message"],
                   "properties": {"endpoint_id": {"type": "string"}, "message": {"type": "string"}}}),
        ));
        types
    }

    /// Type names live for the program; there are a few dozen.
    fn leak(name: String) -> &'static str {
        Box::leak(name.into_boxed_str())
    }

    /// The schema of one event type's envelope (the EventBridge `detail` and the webhook body).
    pub fn envelope(event_type: &str, data: Value) -> Value {
        let components = Components::openapi().components.unwrap_or_default();
        let defs = serde_json::to_value(&components.schemas).unwrap_or_default();
        let defs: Value =
            serde_json::from_str(&defs.to_string().replace("#/components/schemas/", "#/$defs/")).unwrap_or_default();
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": event_type,
            "description": format!("The `{event_type}` event: EventBridge detail-type `{event_type}`, and the webhook body."),
            "type": "object",
            "required": ["id", "type", "created_at", "store_id", "mode", "api_version", "resource", "data"],
            "properties": {
                "id": {"type": "string", "pattern": "^evt_[0-9A-HJKMNP-TV-Z]{26}$"},
                "type": {"const": event_type},
                "created_at": {"type": "string", "format": "date-time"},
                "store_id": {"type": "string", "pattern": "^st_[0-9A-HJKMNP-TV-Z]{26}$"},
                "mode": {"enum": ["live", "test"]},
                "api_version": {"const": API_VERSION},
                "resource": {"$ref": "#/$defs/ResourceRef"},
                "data": data,
                "changed_fields": {"type": "array", "items": {"type": "string"}}
            },
            "additionalProperties": false,
            "$defs": defs
        })
    }

    /// (file name, pretty JSON) for every event type.
    pub fn files() -> Vec<(String, String)> {
        event_types()
            .into_iter()
            .map(|(event_type, data)| {
                let text = serde_json::to_string_pretty(&envelope(event_type, data)).unwrap_or_default();
                (format!("{event_type}.json"), text + "\n")
            })
            .collect()
    }
}
