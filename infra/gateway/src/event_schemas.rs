//! The JSON Schema (2020-12) of each event type's envelope, generated from the same types that produce the events.
//! `make openapi` writes them to `docs/events/schemas/` (this binary's `--write-event-schemas`); a test checks real
//! events against them. Here, beside the OpenAPI document, rather than in the events module: the generator names
//! every domain's types, and the events module sits below them.

use serde_json::{json, Value};
use utoipa::OpenApi;

use cartwheel::apikeys::ApiKeyOut;
use cartwheel::carts::{Cart, CartLine, CartStatus};
use cartwheel::catalog::products::Product;
use cartwheel::catalog::taxonomy::{Brand, Category};
use cartwheel::catalog::variants::Variant;
use cartwheel::customers::{Address, Customer, CustomerGroup, PostalAddress};
use cartwheel::events::{Event, ResourceRef, API_VERSION};
use cartwheel::inventory::{Level, Reservation, Warehouse};
use cartwheel::orders::{Fulfillment, FulfillmentLine, Order, OrderLine, OrderStatus, PaymentStatus, Refund};
use cartwheel::stores::StoreOut;
use cartwheel::webhooks::EndpointOut;

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
