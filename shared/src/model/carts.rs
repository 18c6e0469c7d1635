//! Cart records as stored, and the pure pricing of a cart from the catalog entries it names (prices are never
//! stored on a cart). Their operations are in `crate::carts`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalog::products::{Product, ProductStatus};
use crate::catalog::variants::Variant;
use crate::error::ApiError;
use crate::ids::{CartId, CartItemId, CustomerId, OrderId, ProductId, VariantId};
use crate::money::{CurrencyCode, Money};
use crate::time;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CartStatus {
    Active,
    /// Checked out: the order is `order_id`; the cart can no longer change.
    Converted,
}

/// A line as stored: what and how many, never a price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CartLine {
    pub id: CartItemId,
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub quantity: u32,
}

/// A cart as stored (and as carried by `cart.*` events).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Cart {
    pub id: CartId,
    #[schema(value_type = String, example = "USD")]
    pub currency: CurrencyCode,
    pub customer_id: Option<CustomerId>,
    pub status: CartStatus,
    pub order_id: Option<OrderId>,
    #[serde(default)]
    pub lines: Vec<CartLine>,
    pub created_at: String,
    pub updated_at: String,
    /// Unix seconds; an expired cart reads as not found.
    pub expires_at: i64,
    pub version: u64,
}

impl Cart {
    pub fn is_expired(&self, now: i64) -> bool {
        self.status == CartStatus::Active && self.expires_at <= now
    }
}

/// A line at the catalog's current price.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CartItemOut {
    pub id: CartItemId,
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub name: String,
    pub sku: Option<String>,
    pub quantity: u32,
    pub unit_price: Money,
    pub total: Money,
    /// False when the product is no longer active (or was deleted): checkout refuses the cart until the line goes.
    pub purchasable: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CartOut {
    pub id: CartId,
    #[schema(value_type = String, example = "USD")]
    pub currency: CurrencyCode,
    pub customer_id: Option<CustomerId>,
    pub status: CartStatus,
    pub order_id: Option<OrderId>,
    pub items: Vec<CartItemOut>,
    /// Sum of purchasable lines.
    pub subtotal: Money,
    /// Promotions are not applied yet (the pricing function will); always zero.
    pub discount_total: Money,
    pub total: Money,
    pub expires_at: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// The catalog entries a cart names, as read in one batch.
#[derive(Default)]
pub struct CatalogSnapshot {
    pub products: HashMap<ProductId, Product>,
    pub variants: HashMap<VariantId, Variant>,
}

impl CatalogSnapshot {
    /// The line priced now, or why it cannot be bought.
    pub fn price(&self, line: &CartLine, currency: CurrencyCode) -> Result<CartItemOut, &'static str> {
        let item = self.describe(line, currency);
        let problem = match self.products.get(&line.product_id) {
            None => Some("the product no longer exists"),
            Some(p) if p.status != ProductStatus::Active => Some("the product is not active"),
            Some(_) if line.variant_id.is_some_and(|v| !self.variants.contains_key(&v)) => {
                Some("the variant no longer exists")
            }
            Some(_) if item.unit_price.currency != currency => Some("the product is priced in another currency"),
            Some(_) if item.unit_price.times(line.quantity).is_none() => Some("the line's total is too large"),
            Some(_) => None,
        };
        match problem {
            None => Ok(item),
            Some(problem) => Err(problem),
        }
    }

    /// The cart priced now; `422` when its total cannot be represented (checked arithmetic, never a wrapped sum).
    pub fn price_cart(&self, cart: &Cart) -> Result<CartOut, ApiError> {
        let zero = Money::new(0, cart.currency);
        let items: Vec<CartItemOut> = cart
            .lines
            .iter()
            .map(|line| {
                let mut item = self.describe(line, cart.currency);
                item.purchasable = self.price(line, cart.currency).is_ok();
                item
            })
            .collect();
        let subtotal = items
            .iter()
            .filter(|i| i.purchasable)
            .try_fold(zero, |sum, i| sum.checked_add(i.total))
            .ok_or_else(|| ApiError::invalid("items", "the cart's total is too large"))?;
        Ok(CartOut {
            id: cart.id,
            currency: cart.currency,
            customer_id: cart.customer_id,
            status: cart.status,
            order_id: cart.order_id,
            items,
            subtotal,
            discount_total: zero,
            total: subtotal,
            expires_at: time::rfc3339_of_unix(cart.expires_at),
            created_at: cart.created_at.clone(),
            updated_at: cart.updated_at.clone(),
            version: cart.version,
        })
    }

    /// A line described with what is known of it, whether or not it can be bought (`purchasable` unchecked).
    fn describe(&self, line: &CartLine, currency: CurrencyCode) -> CartItemOut {
        let product = self.products.get(&line.product_id);
        let variant = line.variant_id.and_then(|v| self.variants.get(&v));
        let unit_price = product
            .map(|p| variant.and_then(|v| v.price).unwrap_or(p.price))
            .unwrap_or(Money::new(0, currency));
        CartItemOut {
            id: line.id,
            product_id: line.product_id,
            variant_id: line.variant_id,
            name: product.map(|p| p.name.clone()).unwrap_or_default(),
            sku: variant
                .and_then(|v| v.sku.clone())
                .or_else(|| product.and_then(|p| p.sku.clone())),
            quantity: line.quantity,
            unit_price,
            // An overflowing line is not purchasable (`price`) and counts in no total.
            total: unit_price
                .times(line.quantity)
                .unwrap_or(Money::new(0, unit_price.currency)),
            purchasable: true,
        }
    }
}
