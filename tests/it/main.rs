//! One integration-test binary: every module runs against DynamoDB Local and moto, over real HTTP.

mod auth;
mod calls;
mod catalog;
mod commerce;
mod conventions;
mod documents;
mod events;
mod health;
mod inventory;
mod layers;
mod limits;
mod pricing;
mod promotions;
mod security;
mod soak;
mod tenancy;
mod webhooks;
