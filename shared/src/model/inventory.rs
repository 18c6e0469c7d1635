//! Inventory records as stored: warehouses, stock items, levels, the ledger's adjustments and reservations, with
//! their pure rules. Their operations are in `crate::inventory`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{AdjustmentId, OrderId, ProductId, ReservationId, TransferId, VariantId, WarehouseId};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Warehouse {
    pub id: WarehouseId,
    #[schema(example = "Main warehouse")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Where stock goes when a request names no warehouse.
    pub is_default: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Warehouse {
    pub fn new(name: &str, code: Option<String>, is_default: bool, now: &str) -> Self {
        Warehouse {
            id: WarehouseId::new(),
            name: name.trim().to_owned(),
            code,
            is_default,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            version: 1,
        }
    }
}

/// What stock is kept for: a product, or one of its variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StockItem {
    Product(ProductId),
    Variant(VariantId),
}

impl StockItem {
    pub fn parse(id: &str) -> Option<Self> {
        id.parse()
            .map(Self::Product)
            .or_else(|_| id.parse().map(Self::Variant))
            .ok()
    }

    pub fn noun(self) -> &'static str {
        match self {
            Self::Product(_) => "product",
            Self::Variant(_) => "variant",
        }
    }
}

impl std::fmt::Display for StockItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Product(id) => id.fmt(f),
            Self::Variant(id) => id.fmt(f),
        }
    }
}

/// The stock of one item in one warehouse.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Level {
    /// `prod_…` or `var_…`.
    pub item_id: String,
    pub warehouse_id: String,
    pub on_hand: i64,
    /// Held by open reservations.
    pub reserved: i64,
    /// `on_hand − reserved`; stored so a sale can be a conditional write (`available >= quantity`).
    pub available: i64,
    /// `inventory.low_stock` is emitted when `available` falls to or below it (0: never).
    pub reorder_point: i64,
    /// Below the reorder point since the last crossing (so the event comes once per crossing).
    #[serde(default)]
    pub low: bool,
    #[serde(default)]
    pub updated_at: String,
    #[serde(default)]
    pub version: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustReason {
    Restock,
    Sale,
    Return,
    DamagedGoods,
    Correction,
    Transfer,
}

/// One line of the ledger: every adjustment, as it was applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Adjustment {
    pub id: AdjustmentId,
    pub item_id: String,
    pub warehouse_id: String,
    pub delta: i64,
    pub reason: AdjustReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Absent for the sales and restocks of orders: those are applied as conditional increments inside the
    /// order's transaction, which does not read the level back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_hand_after: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_after: Option<i64>,
    /// The order a sale, cancellation or return belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    /// The transfer that moved this stock out of or into the warehouse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<TransferId>,
    pub at: String,
    /// The API key that made it (`payments` for the payment provider's callbacks).
    pub actor: String,
}

impl Adjustment {
    /// The ledger line of a change of `delta` that took a level to `after`: it records the level it left.
    pub fn of_level(
        after: &Level,
        delta: i64,
        reason: AdjustReason,
        note: Option<String>,
        actor: String,
        at: &str,
    ) -> Self {
        Self {
            id: AdjustmentId::new(),
            item_id: after.item_id.clone(),
            warehouse_id: after.warehouse_id.clone(),
            delta,
            reason,
            note,
            on_hand_after: Some(after.on_hand),
            available_after: Some(after.available),
            order_id: None,
            transfer_id: None,
            at: at.to_owned(),
            actor,
        }
    }
}

/// Where a transfer is: `pending` (nothing moved yet), `in_transit` (out of the source, not yet in the
/// destination), `received` (in the destination).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    Pending,
    InTransit,
    Received,
}

/// Stock of one item moving from one warehouse to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Transfer {
    pub id: TransferId,
    /// `prod_…` or `var_…`.
    pub item_id: String,
    pub from_warehouse_id: WarehouseId,
    pub to_warehouse_id: WarehouseId,
    pub quantity: i64,
    pub status: TransferStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
    pub updated_at: String,
    pub version: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    Active,
    Released,
    Expired,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReservationLine {
    pub item_id: String,
    pub warehouse_id: String,
    pub quantity: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reservation {
    pub id: ReservationId,
    pub status: ReservationStatus,
    pub lines: Vec<ReservationLine>,
    /// Unix seconds after which the hold no longer counts.
    pub expires_at: i64,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Reservation {
    /// The status as of `now`: an active hold past its expiry is expired, swept or not.
    pub fn status_at(&self, now: i64) -> ReservationStatus {
        match self.status {
            ReservationStatus::Active if now >= self.expires_at => ReservationStatus::Expired,
            status => status,
        }
    }
}

/// Levels before and after a change, with the item they belong to.
pub type LevelChange = (StockItem, Level, Level);
