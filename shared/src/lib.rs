//! Cartwheel's core, shared by every function and the local gateway.
//!
//! Handlers stay thin: they parse input, call a domain function from here and map the result to a response.
//! Only [`db`] talks to DynamoDB; only [`error`] turns failures into HTTP error bodies.

pub mod apikeys;
pub mod aws;
pub mod body;
#[cfg(feature = "eventbridge")]
pub mod bus;
pub mod carts;
pub mod catalog;
pub mod checks;
pub mod config;
pub mod customers;
pub mod db;
#[cfg(feature = "sqs")]
pub mod deliveries;
pub mod error;
pub mod events;
pub mod http;
pub mod ids;
pub mod inventory;
pub mod metrics;
pub mod model;
pub mod money;
pub mod openapi;
pub mod orders;

pub mod payment_signature;
pub mod payments;
pub mod pricing;
pub mod promotions;
#[cfg(feature = "sqs")]
pub mod queue;
pub mod retry;
#[cfg(feature = "secretsmanager")]
pub mod secrets;
pub mod stores;
pub mod tenant;
pub mod time;
pub mod webhooks;

pub use config::Config;
pub use db::Db;
pub use error::{ApiError, FieldError};
pub use tenant::{Mode, Scope, Scopes, Tenant};
