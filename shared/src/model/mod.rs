//! The model layer: records as stored and the pure rules on them, per entity; no I/O. The store (`db/`) reads and
//! writes these; the domain modules re-export them beside their operations.

pub mod apikeys;
pub mod carts;
pub mod customers;
pub mod inventory;
pub mod orders;
pub mod stores;
pub mod webhooks;

/// An entity with an optimistic-concurrency version: what its `ETag` carries.
pub trait Versioned {
    fn version(&self) -> u64;
}

/// `Versioned` for records that keep their version in a `version` field.
macro_rules! versioned {
    ($($record:ty),+ $(,)?) => {
        $(impl Versioned for $record {
            fn version(&self) -> u64 {
                self.version
            }
        })+
    };
}

versioned!(
    crate::catalog::products::Product,
    crate::catalog::variants::Variant,
    crate::catalog::taxonomy::Category,
    crate::catalog::taxonomy::Brand,
    customers::Customer,
);
