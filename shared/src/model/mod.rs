//! The model layer: records as stored and the pure rules on them, per entity; no I/O. The store (`db/`) reads and
//! writes these; the domain modules re-export them beside their operations.

pub mod apikeys;
pub mod carts;
pub mod customers;
pub mod inventory;
pub mod modifiers;
pub mod orders;
pub mod pricing;
pub mod promotions;
pub mod shipping;
pub mod stores;
pub mod tax;
pub mod webhooks;

/// An answer that shows a secret once: what a repeat of its request is told instead (the secret is not kept).
pub trait ShowsSecretOnce {
    fn shown_once_notice(&self) -> String;
}

/// An entity with an optimistic-concurrency version: what its `ETag` carries.
pub trait Versioned {
    fn version(&self) -> u64;
}

/// An entity events are about: the `resource` of their envelope (kind, id, version) and, as published, their
/// `data`.
pub trait Resource: Versioned + serde::Serialize {
    /// The `resource.type` of its events.
    const KIND: &'static str;
    fn resource_id(&self) -> String;
}

/// `Versioned` and `Resource` for records with `id` and `version` fields.
macro_rules! resources {
    ($($record:ty => $kind:literal),+ $(,)?) => {
        $(impl Versioned for $record {
            fn version(&self) -> u64 {
                self.version
            }
        }

        impl Resource for $record {
            const KIND: &'static str = $kind;

            fn resource_id(&self) -> String {
                self.id.to_string()
            }
        })+
    };
}

resources!(
    crate::catalog::products::Product => "product",
    crate::catalog::variants::Variant => "variant",
    crate::catalog::taxonomy::Category => "category",
    crate::catalog::taxonomy::Brand => "brand",
    customers::Customer => "customer",
    customers::CustomerGroup => "customer_group",
    carts::Cart => "cart",
    inventory::Warehouse => "warehouse",
    inventory::Reservation => "reservation",
    inventory::Transfer => "inventory_transfer",
    orders::Order => "order",
    pricing::Price => "price",
    shipping::ShippingZone => "shipping_zone",
    modifiers::PriceModifier => "price_modifier",
    promotions::Promotion => "promotion",
    promotions::Campaign => "campaign",
);

impl Versioned for tax::TaxSettings {
    fn version(&self) -> u64 {
        self.version
    }
}

/// A store has one set of tax settings per mode: its events name it `tax`.
impl Resource for tax::TaxSettings {
    const KIND: &'static str = "tax_settings";

    fn resource_id(&self) -> String {
        "tax".to_owned()
    }
}

impl Versioned for inventory::Level {
    fn version(&self) -> u64 {
        self.version
    }
}

/// A level is one item in one warehouse: its id names both.
impl Resource for inventory::Level {
    const KIND: &'static str = "inventory_level";

    fn resource_id(&self) -> String {
        format!("{}:{}", self.item_id, self.warehouse_id)
    }
}
