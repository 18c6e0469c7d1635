//! Domain events: the envelope every consumer sees (EventBridge `detail` and the webhook body).
//!
//! Events are written as EVENT items in the same DynamoDB transaction as the change they describe
//! (the outbox); the table's stream carries them to EventBridge.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::ids::{EventId, StoreId};
use crate::model::Resource;
use crate::tenant::{Mode, Tenant};
use crate::time;

/// Declares every event type once: its variant and its name (`product.created`, the envelope's `type` and the
/// EventBridge `detail-type`).
macro_rules! event_types {
    ($($variant:ident = $name:literal),+ $(,)?) => {
        /// Every event Cartwheel emits.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($variant),+
        }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name),+
                }
            }
        }
    };
}

event_types! {
    ProductCreated = "product.created",
    ProductUpdated = "product.updated",
    ProductDeleted = "product.deleted",
    VariantCreated = "variant.created",
    VariantUpdated = "variant.updated",
    VariantDeleted = "variant.deleted",
    CategoryCreated = "category.created",
    CategoryUpdated = "category.updated",
    CategoryDeleted = "category.deleted",
    BrandCreated = "brand.created",
    BrandUpdated = "brand.updated",
    BrandDeleted = "brand.deleted",
    RecallCreated = "recall.created",
    StoreCreated = "store.created",
    WarehouseCreated = "warehouse.created",
    WarehouseUpdated = "warehouse.updated",
    InventoryAdjusted = "inventory.adjusted",
    InventoryLowStock = "inventory.low_stock",
    InventoryTransferCreated = "inventory.transfer_created",
    InventoryTransferShipped = "inventory.transfer_shipped",
    InventoryTransferred = "inventory.transferred",
    ReservationCreated = "reservation.created",
    ReservationReleased = "reservation.released",
    ReservationExpired = "reservation.expired",
    ApiKeyCreated = "api_key.created",
    ApiKeyRevoked = "api_key.revoked",
    WebhookEndpointCreated = "webhook.endpoint_created",
    WebhookEndpointUpdated = "webhook.endpoint_updated",
    WebhookEndpointDeleted = "webhook.endpoint_deleted",
    WebhookEndpointDisabled = "webhook.endpoint_disabled",
    WebhookTest = "webhook.test",
    CustomerCreated = "customer.created",
    CustomerUpdated = "customer.updated",
    CustomerDeleted = "customer.deleted",
    CustomerGroupCreated = "customer_group.created",
    CustomerGroupUpdated = "customer_group.updated",
    CustomerGroupDeleted = "customer_group.deleted",
    CartCreated = "cart.created",
    CartUpdated = "cart.updated",
    OrderCreated = "order.created",
    OrderStatusChanged = "order.status_changed",
    OrderCancelled = "order.cancelled",
    OrderFulfilled = "order.fulfilled",
    OrderFulfillmentCreated = "order.fulfillment_created",
    OrderRefunded = "order.refunded",
    PaymentReceived = "payment.received",
    PaymentFailed = "payment.failed",
    PriceCreated = "price.created",
    PriceUpdated = "price.updated",
    PriceDeleted = "price.deleted",
    TaxSettingsUpdated = "tax_settings.updated",
    ShippingZoneCreated = "shipping_zone.created",
    ShippingZoneUpdated = "shipping_zone.updated",
    ShippingZoneDeleted = "shipping_zone.deleted",
    PriceModifierCreated = "price_modifier.created",
    PriceModifierUpdated = "price_modifier.updated",
    PriceModifierDeleted = "price_modifier.deleted",
    PromotionCreated = "promotion.created",
    PromotionUpdated = "promotion.updated",
    PromotionDeleted = "promotion.deleted",
    CampaignCreated = "campaign.created",
    CampaignUpdated = "campaign.updated",
    CampaignDeleted = "campaign.deleted",
}

impl EventType {
    /// The endpoint group it comes from: its EventBridge source is `cartwheel.{group}`.
    pub fn source_group(self) -> &'static str {
        source_group(self.as_str())
    }
}

/// Where an event happens: the store and mode of a caller, or of the record a worker acts on.
pub trait Place {
    fn store_and_mode(&self) -> (StoreId, Mode);
}

impl Place for Tenant {
    fn store_and_mode(&self) -> (StoreId, Mode) {
        (self.store_id, self.mode)
    }
}

impl Place for (StoreId, Mode) {
    fn store_and_mode(&self) -> (StoreId, Mode) {
        *self
    }
}

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

impl ResourceRef {
    pub fn of<R: Resource>(resource: &R) -> Self {
        ResourceRef {
            kind: R::KIND.into(),
            id: resource.resource_id(),
            version: resource.version(),
        }
    }
}

impl Event {
    pub fn new(store_id: StoreId, mode: Mode, event_type: EventType, resource: ResourceRef, data: Value) -> Self {
        Self {
            id: EventId::new(),
            event_type: event_type.as_str().to_owned(),
            created_at: time::rfc3339(time::now()),
            store_id,
            mode,
            api_version: API_VERSION.to_owned(),
            resource,
            data,
            changed_fields: None,
        }
    }

    /// The event about `resource`, whose `data` is the resource as published.
    pub fn about<R: Resource>(place: &impl Place, event_type: EventType, resource: &R) -> Result<Self, ApiError> {
        let (store_id, mode) = place.store_and_mode();
        let data = serde_json::to_value(resource).map_err(ApiError::internal)?;
        Ok(Self::new(store_id, mode, event_type, ResourceRef::of(resource), data))
    }

    /// Adds a field about the change beside the resource's own in `data` (an order's `refund`, `payment`, …).
    pub fn with_data(mut self, name: &str, value: Value) -> Self {
        if let Some(object) = self.data.as_object_mut() {
            object.insert(name.to_owned(), value);
        }
        self
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
        "promotion" | "campaign" | "coupon" | "price" | "price_modifier" | "tax_settings" | "shipping_zone" => {
            "pricing"
        }
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
            EventType::ProductCreated,
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
    fn every_event_type_has_a_unique_name_and_a_group() {
        let names: std::collections::BTreeSet<_> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names.len(), EventType::ALL.len());
        assert!(names
            .iter()
            .all(|n| n.split_once('.').is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())));
        assert_eq!(EventType::RecallCreated.source_group(), "catalog");
        assert_eq!(EventType::ApiKeyRevoked.source_group(), "admin");
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
