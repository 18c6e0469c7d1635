//! The model layer: records as stored and the pure rules on them, per entity; no I/O. The store (`db/`) reads and
//! writes these; the domain modules re-export them beside their operations.

pub mod apikeys;
pub mod carts;
pub mod customers;
pub mod inventory;
pub mod orders;
pub mod stores;
pub mod webhooks;
