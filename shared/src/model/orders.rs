//! Order records as stored: orders with their lines, the status and payment-status machines, fulfillments and
//! refunds, and the list filter. Their operations are in `crate::orders`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{
    CartId, CustomerId, FulfillmentId, OrderId, OrderLineId, ProductId, RefundId, VariantId, WarehouseId,
};
use crate::model::customers::PostalAddress;
use crate::model::inventory::StockItem;
use crate::money::{CurrencyCode, Money};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Processing,
    PartiallyFulfilled,
    Fulfilled,
    Delivered,
    Cancelled,
    Refunded,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Processing => "processing",
            Self::PartiallyFulfilled => "partially_fulfilled",
            Self::Fulfilled => "fulfilled",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
        }
    }

    /// Where `PATCH /orders/{id}/status` may take an order from here. `fulfilled` ships whatever is left;
    /// `partially_fulfilled` comes only from a fulfillment, `refunded` only from a full refund.
    pub fn next(self) -> &'static [OrderStatus] {
        use OrderStatus::*;
        match self {
            Pending => &[Confirmed, Cancelled],
            Confirmed => &[Processing, Fulfilled, Cancelled],
            Processing => &[Fulfilled, Cancelled],
            PartiallyFulfilled => &[Fulfilled, Cancelled],
            Fulfilled => &[Delivered],
            Delivered | Cancelled | Refunded => &[],
        }
    }

    pub fn can_ship(self) -> bool {
        matches!(self, Self::Confirmed | Self::Processing | Self::PartiallyFulfilled)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    /// Payments so far cover part of the total; the order waits for the rest.
    PartiallyPaid,
    Paid,
    Failed,
    PartiallyRefunded,
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::PartiallyPaid => "partially_paid",
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }
}

/// What was sold, as it was when sold: a later catalog change never alters an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderLine {
    pub id: OrderLineId,
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub name: String,
    pub sku: Option<String>,
    pub quantity: u32,
    pub unit_price: Money,
    pub total: Money,
    /// Where the stock was taken from.
    pub warehouse_id: WarehouseId,
    pub fulfilled_quantity: u32,
    /// Units given back to stock (by a cancellation or a refund with `restock`).
    pub restocked_quantity: u32,
}

impl OrderLine {
    pub fn stock_item(&self) -> StockItem {
        match self.variant_id {
            Some(variant) => StockItem::Variant(variant),
            None => StockItem::Product(self.product_id),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Order {
    pub id: OrderId,
    /// `ORD-YYYY-NNNNNN`, from a per-store counter.
    #[schema(example = "ORD-2026-000042")]
    pub number: String,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    /// Where the order came from (`api` unless the checkout named one).
    pub channel: String,
    #[schema(value_type = String, example = "USD")]
    pub currency: CurrencyCode,
    pub customer_id: Option<CustomerId>,
    pub email: String,
    pub cart_id: CartId,
    pub lines: Vec<OrderLine>,
    pub subtotal: Money,
    pub discount_total: Money,
    pub shipping_total: Money,
    pub tax_total: Money,
    pub total: Money,
    pub paid_total: Money,
    pub refunded_total: Money,
    pub shipping_address: PostalAddress,
    pub billing_address: PostalAddress,
    pub payment_method_id: Option<String>,
    pub payment_intent_id: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FulfillmentLine {
    pub line_id: OrderLineId,
    pub quantity: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Fulfillment {
    pub id: FulfillmentId,
    pub order_id: OrderId,
    pub items: Vec<FulfillmentLine>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub warehouse_id: Option<WarehouseId>,
    pub created_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Refund {
    pub id: RefundId,
    pub order_id: OrderId,
    pub amount: Money,
    pub reason: String,
    pub restock: bool,
    pub created_at: String,
}

/// The list filters, checked: attribute equalities, and a creation-time range of ids.
pub struct OrderFilter {
    pub equals: Vec<(&'static str, String)>,
    pub created: Option<(OrderId, OrderId)>,
}
