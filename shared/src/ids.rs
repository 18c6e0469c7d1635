//! Prefixed, sortable, random ids (`st_01J…`): a ULID behind a prefix that says what the id names.
//! One macro makes every id type, so each parses and prints the same way.

use std::fmt;
use std::str::FromStr;

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(ulid::Ulid);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn new() -> Self {
                Self(ulid::Ulid::new())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}_{}", Self::PREFIX, self.0)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(text: &str) -> Result<Self, InvalidId> {
                text.strip_prefix(Self::PREFIX)
                    .and_then(|rest| rest.strip_prefix('_'))
                    .and_then(|ulid| {
                        // Only the canonical spelling: Crockford base32 also reads lowercase and a first digit
                        // past 7 wraps, so other spellings would alias a real id.
                        let parsed = ulid::Ulid::from_string(ulid).ok()?;
                        (parsed.to_string() == ulid).then_some(parsed)
                    })
                    .map(Self)
                    .ok_or(InvalidId { expected: Self::PREFIX })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some(concat!("^", $prefix, "_[0-7][0-9A-HJKMNP-TV-Z]{25}$")))
                    .examples([concat!($prefix, "_01JD3M5W7Q6V8X9Y0Z1A2B3C4D")])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id: expected `{expected}_` followed by 26 base32 characters")]
pub struct InvalidId {
    pub expected: &'static str,
}

prefixed_id!(
    /// A store (tenant).
    StoreId, "st"
);
prefixed_id!(
    /// An API key (the key's id, not the secret).
    KeyId, "key"
);
prefixed_id!(
    /// A domain event.
    EventId, "evt"
);
prefixed_id!(
    /// An audit-log entry.
    AuditId, "aud"
);
prefixed_id!(
    /// A request, when the client sent no usable `X-Request-Id`.
    RequestId, "req"
);
prefixed_id!(
    /// A product of the catalog.
    ProductId, "prod"
);
prefixed_id!(
    /// A catalog category.
    CategoryId, "cat"
);
prefixed_id!(
    /// A brand.
    BrandId, "brand"
);
prefixed_id!(
    /// A variant of a product.
    VariantId, "var"
);
prefixed_id!(
    /// A price record of a product or variant.
    PriceId, "price"
);
prefixed_id!(
    /// A price modifier.
    PriceModifierId, "pmod"
);
prefixed_id!(
    /// A shipping zone.
    ShippingZoneId, "shz"
);
prefixed_id!(
    /// A promotion (or coupon).
    PromotionId, "promo"
);
prefixed_id!(
    /// A campaign: a budget shared by promotions.
    CampaignId, "camp"
);
prefixed_id!(
    /// A shipping option of a zone.
    ShippingOptionId, "sho"
);
prefixed_id!(
    /// A webhook endpoint.
    WebhookId, "wh"
);
prefixed_id!(
    /// A warehouse.
    WarehouseId, "whs"
);

impl WarehouseId {
    /// A store's default warehouse: its id is the store's (in both modes, whose keys never meet), so that stock in
    /// it can be read by key without first reading which warehouse is the default.
    pub fn default_of(store: StoreId) -> Self {
        Self(store.0)
    }
}
prefixed_id!(
    /// One line of the inventory ledger.
    AdjustmentId, "adj"
);
prefixed_id!(
    /// A hold on stock.
    ReservationId, "res"
);
prefixed_id!(
    /// A move of stock between two warehouses.
    TransferId, "trf"
);

prefixed_id!(
    /// A customer.
    CustomerId, "cus"
);
prefixed_id!(
    /// A group of customers.
    CustomerGroupId, "cgrp"
);
prefixed_id!(
    /// A saved address of a customer.
    AddressId, "addr"
);
prefixed_id!(
    /// A shopping cart.
    CartId, "cart"
);
prefixed_id!(
    /// A line of a cart.
    CartItemId, "cli"
);
prefixed_id!(
    /// An order.
    OrderId, "ord"
);
prefixed_id!(
    /// A line of an order.
    OrderLineId, "oli"
);
prefixed_id!(
    /// A shipment of some of an order's lines.
    FulfillmentId, "ful"
);
prefixed_id!(
    /// A refund of an order.
    RefundId, "re"
);

macro_rules! time_bounds {
    ($($name:ident),*) => {$(
        impl $name {
            /// The smallest and largest ids that can have been made at `unix_ms`: bounds for a creation-time range.
            pub fn bounds_at(unix_ms: u64) -> (Self, Self) {
                (Self(ulid::Ulid::from_parts(unix_ms, 0)), Self(ulid::Ulid::from_parts(unix_ms, u128::MAX)))
            }
        }
    )*};
}

time_bounds!(ProductId, EventId, CustomerId, OrderId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks_the_prefix() {
        let id = StoreId::new();
        let text = id.to_string();
        assert!(text.starts_with("st_") && text.len() == 29, "{text}");
        assert_eq!(text.parse::<StoreId>(), Ok(id));
        assert!(text.parse::<KeyId>().is_err());
        assert!("st_notaulid".parse::<StoreId>().is_err());
        assert!("st01JD3M5W7Q6V8X9Y0Z1A2B3C4D".parse::<StoreId>().is_err());
        let lower = text.to_lowercase();
        assert!(lower.parse::<StoreId>().is_err(), "{lower}");
        assert!(
            "st_81JD3M5W7Q6V8X9Y0Z1A2B3C4D".parse::<StoreId>().is_err(),
            "overflowing first digit"
        );
    }

    #[test]
    fn sorts_by_creation_time() {
        let first = EventId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = EventId::new();
        assert!(first.to_string() < second.to_string());
    }

    #[test]
    fn serde_uses_the_text_form() {
        let id = KeyId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<KeyId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<KeyId>("\"st_01JD3M5W7Q6V8X9Y0Z1A2B3C4D\"").is_err());
    }
}
