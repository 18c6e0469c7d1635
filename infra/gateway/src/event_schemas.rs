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
use cartwheel::events::{Event, EventType, ResourceRef, API_VERSION};
use cartwheel::inventory::{Level, Reservation, Warehouse};
use cartwheel::orders::{Fulfillment, FulfillmentLine, Order, OrderLine, OrderStatus, PaymentStatus, Refund};
use cartwheel::pricing::{
    Band, ModifierKind, Price, PriceModifier, ShippingOption, ShippingRate, ShippingZone, TaxRate, TaxSettings,
    TierBasis,
};
use cartwheel::promotions::{
    Allocation, AppliesTo, BudgetType, BuyXGetY, Campaign, CombinesWith, Conditions, Promotion, PromotionStatus,
    Target, UnitSet, ValueType,
};
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
    Price,
    TierBasis,
    TaxSettings,
    TaxRate,
    ShippingZone,
    ShippingOption,
    PriceModifier,
    ModifierKind,
    Promotion,
    PromotionStatus,
    Target,
    ValueType,
    Allocation,
    Conditions,
    CombinesWith,
    AppliesTo,
    Campaign,
    BudgetType,
    BuyXGetY,
    UnitSet,
    ShippingRate,
    Band,
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

/// Every event type, and the schema of its `data`: a match on every variant, so a new type without a schema
/// does not compile.
pub fn event_types() -> Vec<(&'static str, Value)> {
    EventType::ALL.iter().map(|t| (t.as_str(), data_schema(*t))).collect()
}

fn data_schema(event_type: EventType) -> Value {
    use EventType as T;
    let named = |name: &str| json!({"$ref": format!("#/$defs/{name}")});
    // The order, with one more field about the change.
    let order_with = |field: &str, schema: Value| json!({"allOf": [named("Order"), {"type": "object", "required": [field], "properties": {field: schema}}]});
    let payment = || {
        order_with(
            "payment",
            json!({"type": "object", "required": ["provider_event_id", "payment_intent_id", "amount"],
            "properties": {"provider_event_id": {"type": "string"}, "payment_intent_id": {"type": "string"},
                           "amount": {"type": "integer"}, "failure_message": {"type": ["string", "null"]}}}),
        )
    };
    match event_type {
        T::ProductCreated | T::ProductUpdated | T::ProductDeleted => named("Product"),
        T::VariantCreated | T::VariantUpdated | T::VariantDeleted => named("Variant"),
        T::CategoryCreated | T::CategoryUpdated | T::CategoryDeleted => named("Category"),
        T::BrandCreated | T::BrandUpdated | T::BrandDeleted => named("Brand"),
        T::RecallCreated => json!({"type": "object", "required": ["product", "reason"],
               "properties": {"product": named("Product"), "reason": {"type": "string"}}}),
        T::StoreCreated => named("StoreOut"),
        T::WarehouseCreated | T::WarehouseUpdated => named("Warehouse"),
        T::InventoryAdjusted | T::InventoryLowStock => named("Level"),
        T::InventoryTransferCreated | T::InventoryTransferShipped | T::InventoryTransferred => named("Transfer"),
        T::ReservationCreated | T::ReservationReleased | T::ReservationExpired => named("Reservation"),
        T::ApiKeyCreated | T::ApiKeyRevoked => named("ApiKeyOut"),
        T::WebhookEndpointCreated
        | T::WebhookEndpointUpdated
        | T::WebhookEndpointDeleted
        | T::WebhookEndpointDisabled => named("EndpointOut"),
        T::WebhookTest => json!({"type": "object", "required": ["endpoint_id", "message"],
               "properties": {"endpoint_id": {"type": "string"}, "message": {"type": "string"}}}),
        T::CustomerCreated | T::CustomerUpdated | T::CustomerDeleted => named("Customer"),
        T::CustomerGroupCreated | T::CustomerGroupUpdated | T::CustomerGroupDeleted => named("CustomerGroup"),
        T::CartCreated | T::CartUpdated => named("Cart"),
        T::PriceCreated | T::PriceUpdated | T::PriceDeleted => named("Price"),
        T::TaxSettingsUpdated => named("TaxSettings"),
        T::ShippingZoneCreated | T::ShippingZoneUpdated | T::ShippingZoneDeleted => named("ShippingZone"),
        T::PriceModifierCreated | T::PriceModifierUpdated | T::PriceModifierDeleted => named("PriceModifier"),
        T::PromotionCreated | T::PromotionUpdated | T::PromotionDeleted => named("Promotion"),
        T::CampaignCreated | T::CampaignUpdated | T::CampaignDeleted => named("Campaign"),
        T::OrderCreated | T::OrderCancelled | T::OrderFulfilled => named("Order"),
        T::OrderStatusChanged => order_with(
            "status_change",
            json!({"type": "object", "required": ["from", "to"], "properties": {
                "from": named("OrderStatus"), "to": named("OrderStatus"),
                "reason": {"type": ["string", "null"]}}}),
        ),
        T::OrderFulfillmentCreated => order_with("fulfillment", named("Fulfillment")),
        T::OrderRefunded => order_with("refund", named("Refund")),
        T::PaymentReceived | T::PaymentFailed => payment(),
    }
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
