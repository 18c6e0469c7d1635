//! Inventory: warehouses and stock levels per product or variant per warehouse, changed only by ledgered
//! adjustments that can never take `on_hand` below `reserved`.

mod reservations;
mod transfers;
mod warehouses;

pub use reservations::*;
pub use transfers::*;
pub use warehouses::*;

use crate::body::request_body;
use macro_rules_attribute::apply;
use serde::Serialize;
use utoipa::ToSchema;

use crate::catalog::products::Product;
use crate::db::Committed;
use crate::db::Db;
use crate::error::{ApiError, FieldError};
use crate::events::{Event, EventType};
use crate::ids::{ReservationId, StoreId, WarehouseId};
use crate::retry::Backoff;
use crate::tenant::{Mode, Tenant};
use crate::time;

pub use crate::model::inventory::{
    AdjustReason, Adjustment, Level, LevelChange, Reservation, ReservationLine, ReservationStatus, StockItem, Transfer,
    TransferStatus, Warehouse,
};

const MAX_NOTE: usize = 500;
/// Most ids one batch check reads.
pub const MAX_BATCH: usize = 50;

#[apply(request_body!)]
pub struct AdjustIn {
    /// Change to `on_hand`: positive adds stock, negative removes it.
    #[schema(example = 25, minimum = -1000000000, maximum = 1000000000)]
    pub delta: i64,
    pub reason: AdjustReason,
    #[schema(max_length = 500)]
    pub note: Option<String>,
    /// The store's default warehouse when absent.
    pub warehouse_id: Option<WarehouseId>,
    /// Sets the reorder point of this item in this warehouse.
    #[schema(minimum = 0, maximum = 1000000000)]
    pub reorder_point: Option<i64>,
}

#[apply(request_body!)]
pub struct SetIn {
    /// The level `on_hand` is set to; the ledger records the difference from the level read.
    #[schema(example = 40, minimum = 0, maximum = 1000000000000i64)]
    pub on_hand: i64,
    pub reason: AdjustReason,
    #[schema(max_length = 500)]
    pub note: Option<String>,
    /// The store's default warehouse when absent.
    pub warehouse_id: Option<WarehouseId>,
}

/// Stock of an item: per warehouse and in total.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockOut {
    pub item_id: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub warehouses: Vec<Level>,
}

impl StockOut {
    pub fn new(item_id: String, warehouses: Vec<Level>) -> Self {
        let sum = |f: fn(&Level) -> i64| warehouses.iter().map(f).sum();
        Self {
            on_hand: sum(|l| l.on_hand),
            reserved: sum(|l| l.reserved),
            available: sum(|l| l.available),
            item_id,
            warehouses,
        }
    }
}

/// The most units a level can hold on hand.
pub const MAX_ON_HAND: i64 = 1_000_000_000_000;

/// The level after an adjustment, or why it cannot be made.
pub fn adjust(before: &Level, input: &AdjustIn, now: &str) -> Result<Level, ApiError> {
    let mut errors = Vec::new();
    if input.delta == 0 && input.reorder_point.is_none() {
        errors.push(FieldError::new("delta", "must not be 0"));
    }
    if !(-1_000_000_000..=1_000_000_000).contains(&input.delta) {
        errors.push(FieldError::new("delta", "must be within ±1,000,000,000"));
    }
    if input.reorder_point.is_some_and(|r| !(0..=1_000_000_000).contains(&r)) {
        errors.push(FieldError::new("reorder_point", "must be 0 to 1,000,000,000"));
    }
    if input.note.as_deref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        errors.push(FieldError::new("note", "must be at most 500 characters"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut after = before.clone();
    after.on_hand = before
        .on_hand
        .checked_add(input.delta)
        .filter(|on_hand| *on_hand <= MAX_ON_HAND)
        .ok_or_else(|| ApiError::invalid("delta", format!("would take on_hand past {MAX_ON_HAND}")))?;
    after.available = after.on_hand - after.reserved;
    if let Some(reorder_point) = input.reorder_point {
        after.reorder_point = reorder_point;
    }
    if after.available < 0 {
        return Err(ApiError::Conflict {
            code: "insufficient_stock",
            message: format!(
                "removing {} would leave {} on hand for {} reserved",
                -input.delta, after.on_hand, after.reserved
            ),
            details: vec![serde_json::json!({
                "id": before.item_id, "requested": -input.delta, "available": before.available
            })],
        });
    }
    after.low = after.reorder_point > 0 && after.available <= after.reorder_point;
    after.updated_at = now.to_owned();
    after.version = before.version + 1;
    Ok(after)
}

/// True when this change took the level from above its reorder point to at or below it.
pub fn crossed_low(before: &Level, after: &Level) -> bool {
    after.low && !before.low
}

// --- operations -------------------------------------------------------------------------------------------

fn item(id: &str) -> Result<StockItem, ApiError> {
    StockItem::parse(id).ok_or_else(|| ApiError::not_found("product or variant"))
}

/// An item's stock in every warehouse.
/// `404` for a product or variant this store does not have (another store's included).
async fn check_exists(db: &Db, tenant: &Tenant, item: StockItem) -> Result<(), ApiError> {
    let scope = db.scoped(tenant);
    let found = match item {
        StockItem::Product(product) => scope.record::<Product>(product, false).await?.is_some(),
        StockItem::Variant(variant) => scope.variant_owner(variant).await?.is_some(),
    };
    match found {
        true => Ok(()),
        false => Err(ApiError::not_found(item.noun())),
    }
}

pub async fn stock(db: &Db, tenant: &Tenant, id: &str) -> Result<StockOut, ApiError> {
    let item = item(id)?;
    let levels = db.scoped(tenant).levels(item).await?;
    // Levels are only ever written for an item of this store; without any, whether it exists decides.
    if levels.is_empty() {
        check_exists(db, tenant, item).await?;
    }
    Ok(StockOut::new(item.to_string(), levels))
}

/// Several items' stock (`GET /v1/inventory?ids=a,b,c`).
pub async fn stocks(db: &Db, tenant: &Tenant, ids: &str) -> Result<Vec<StockOut>, ApiError> {
    let ids: Vec<&str> = ids.split(',').map(str::trim).filter(|i| !i.is_empty()).collect();
    if ids.is_empty() || ids.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "ids",
            format!("1 to {MAX_BATCH} comma-separated ids"),
        ));
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let item = StockItem::parse(id)
            .ok_or_else(|| ApiError::invalid("ids", format!("`{id}` is not a product or variant id")))?;
        out.push(StockOut::new(item.to_string(), db.scoped(tenant).levels(item).await?));
    }
    Ok(out)
}

/// Attempts for a change that meets a concurrent one (each re-reads the levels, after a [`Backoff`] pause).
const ADJUST_ATTEMPTS: usize = 10;

/// Applies an adjustment: the level (conditional on the version read), its ledger line and its events, in one
/// transaction.
pub async fn adjust_stock(db: &Db, tenant: &Tenant, id: &str, input: AdjustIn) -> Result<Level, ApiError> {
    let warehouse = input.warehouse_id;
    change_level(db, tenant, id, warehouse, |_| {
        Ok(Some(AdjustIn {
            delta: input.delta,
            reason: input.reason,
            note: input.note.clone(),
            warehouse_id: input.warehouse_id,
            reorder_point: input.reorder_point,
        }))
    })
    .await
}

/// Sets `on_hand` to an absolute level (a stock count), ledgered as the difference from the level it read and
/// conditional on that level's version, so a sale in between is never overwritten.
pub async fn set_stock(db: &Db, tenant: &Tenant, id: &str, input: SetIn) -> Result<Level, ApiError> {
    if !(0..=MAX_ON_HAND).contains(&input.on_hand) {
        return Err(ApiError::invalid("on_hand", format!("must be 0 to {MAX_ON_HAND}")));
    }
    let as_set = |error: ApiError| match error {
        ApiError::Validation(errors) => ApiError::Validation(
            errors
                .into_iter()
                .map(|e| match e.field.as_str() {
                    "delta" => FieldError::new("on_hand", format!("differs too much from the level: {}", e.message)),
                    _ => e,
                })
                .collect(),
        ),
        other => other,
    };
    change_level(db, tenant, id, input.warehouse_id, |before| {
        // Both within 0..=MAX_ON_HAND: the difference cannot overflow.
        let delta = input.on_hand - before.on_hand;
        Ok((delta != 0).then(|| AdjustIn {
            delta,
            reason: input.reason,
            note: input.note.clone(),
            warehouse_id: input.warehouse_id,
            reorder_point: None,
        }))
    })
    .await
    .map_err(as_set)
}

/// Changes one level of an item by the adjustment `change` makes of the level it read (none: nothing to change),
/// with its ledger line and events, in one transaction conditional on that level's version; re-read and retried
/// when another change came first.
async fn change_level(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    warehouse: Option<WarehouseId>,
    change: impl Fn(&Level) -> Result<Option<AdjustIn>, ApiError>,
) -> Result<Level, ApiError> {
    let item = item(id)?;
    check_exists(db, tenant, item).await?;
    let warehouse = match warehouse {
        Some(id) => {
            db.scoped(tenant)
                .record::<Warehouse>(id, false)
                .await?
                .ok_or_else(|| ApiError::invalid("warehouse_id", "no such warehouse"))?
                .id
        }
        None => default_warehouse(db, tenant).await?,
    };
    let mut backoff = Backoff::default();
    for _attempt in 0..ADJUST_ATTEMPTS {
        let before = db
            .scoped(tenant)
            .level(item, warehouse)
            .await?
            .unwrap_or_else(|| Level {
                item_id: item.to_string(),
                warehouse_id: warehouse.to_string(),
                ..Default::default()
            });
        let Some(input) = change(&before)? else {
            return Ok(before);
        };
        let now = time::now_rfc3339();
        let after = adjust(&before, &input, &now)?;
        let actor = tenant.key_id.to_string();
        let entry = Adjustment::of_level(&after, input.delta, input.reason, input.note.clone(), actor, &now);
        let adjusted = Event::about(&(tenant.store_id, tenant.mode), EventType::InventoryAdjusted, &after)?;
        let low = crossed_low(&before, &after)
            .then(|| Event::about(&(tenant.store_id, tenant.mode), EventType::InventoryLowStock, &after))
            .transpose()?;
        if db
            .put_level(tenant, item, &before, &after, &entry, adjusted, low)
            .await
            .committed()?
        {
            return Ok(after);
        }
        backoff.pause().await;
    }
    Err(ApiError::conflict("the stock level is changing fast; retry"))
}

/// Settles the `low` flag of levels that orders changed: their sales and restocks are increments inside the
/// order's transaction, which cannot see a crossing. Read back after the commit, a level now at or below its
/// reorder point emits `inventory.low_stock` (once: the flag is set with the event); one back above it is
/// re-armed (with `inventory.adjusted`). Best effort: a failure is logged, and the next adjustment settles it.
pub async fn settle_low_flags(db: &Db, store: StoreId, mode: Mode, actor: &str, levels: &[(StockItem, WarehouseId)]) {
    for (item, warehouse) in levels {
        if let Err(error) = settle_low_flag(db, store, mode, actor, *item, *warehouse).await {
            tracing::warn!(%item, error = %error, "could not settle the low-stock flag");
        }
    }
}

async fn settle_low_flag(
    db: &Db,
    store: StoreId,
    mode: Mode,
    actor: &str,
    item: StockItem,
    warehouse: WarehouseId,
) -> Result<(), ApiError> {
    let mut backoff = Backoff::default();
    for _attempt in 0..ADJUST_ATTEMPTS {
        let Some(before) = db.store_scope(store, mode).level(item, warehouse).await? else {
            return Ok(());
        };
        let low = before.reorder_point > 0 && before.available <= before.reorder_point;
        if low == before.low {
            return Ok(());
        }
        let mut after = before.clone();
        after.low = low;
        after.version = before.version + 1;
        after.updated_at = time::now_rfc3339();
        let event_type = if low {
            EventType::InventoryLowStock
        } else {
            EventType::InventoryAdjusted
        };
        let event = Event::about(&(store, mode), event_type, &after)?;
        if db
            .store_scope(store, mode)
            .put_level_flag(actor, item, &before, &after, event)
            .await
            .committed()?
        {
            return Ok(());
        }
        backoff.pause().await;
    }
    Ok(())
}

/// The ledger of an item, newest first.
pub async fn history(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    page: &crate::http::pagination::Page,
) -> Result<crate::http::pagination::PageOf<Adjustment>, ApiError> {
    let item = item(id)?;
    let adjustments = db.scoped(tenant).adjustments(item, page).await?;
    if adjustments.items.is_empty() && page.cursor.is_none() {
        check_exists(db, tenant, item).await?;
    }
    Ok(adjustments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(delta: i64) -> AdjustIn {
        AdjustIn {
            delta,
            reason: AdjustReason::Restock,
            note: None,
            warehouse_id: None,
            reorder_point: None,
        }
    }

    #[test]
    fn extreme_deltas_are_refused_not_panicked_on() {
        for delta in [i64::MIN, i64::MAX, -1_000_000_001] {
            assert!(matches!(
                adjust(&level(5, 0, 0), &input(delta), "t"),
                Err(ApiError::Validation(_))
            ));
        }
        assert!(matches!(
            adjust(&level(MAX_ON_HAND, 0, 0), &input(1), "t"),
            Err(ApiError::Validation(_))
        ));
    }

    fn level(on_hand: i64, reserved: i64, reorder_point: i64) -> Level {
        let available = on_hand - reserved;
        Level {
            on_hand,
            reserved,
            available,
            reorder_point,
            low: reorder_point > 0 && available <= reorder_point,
            ..Default::default()
        }
    }

    #[test]
    fn on_hand_never_goes_below_reserved() {
        let before = level(10, 4, 0);
        let after = adjust(&before, &input(-6), "t").unwrap();
        assert_eq!((after.on_hand, after.available, after.version), (4, 0, 1));
        match adjust(&before, &input(-7), "t") {
            Err(ApiError::Conflict { code, details, .. }) => {
                assert_eq!(code, "insufficient_stock");
                assert_eq!(details[0]["available"], 6);
            }
            other => panic!("expected insufficient stock, got {other:?}"),
        }
        assert!(matches!(adjust(&before, &input(0), "t"), Err(ApiError::Validation(_))));
    }

    #[test]
    fn low_stock_fires_once_per_crossing() {
        let mut with_point = input(0);
        with_point.reorder_point = Some(5);
        let start = adjust(&level(20, 0, 0), &with_point, "t").unwrap();
        assert!(!start.low);
        let down = adjust(&start, &input(-15), "t").unwrap();
        assert!(crossed_low(&start, &down), "20 → 5 crosses the reorder point");
        let further = adjust(&down, &input(-1), "t").unwrap();
        assert!(!crossed_low(&down, &further), "already low: no second event");
        let restocked = adjust(&further, &input(10), "t").unwrap();
        assert!(!restocked.low);
        let again = adjust(&restocked, &input(-10), "t").unwrap();
        assert!(crossed_low(&restocked, &again), "a new crossing after a restock");
    }

    #[test]
    fn items_are_products_or_variants() {
        assert!(matches!(
            StockItem::parse("prod_01JD3M5W7Q6V8X9Y0Z1A2B3C4D"),
            Some(StockItem::Product(_))
        ));
        assert!(matches!(
            StockItem::parse("var_01JD3M5W7Q6V8X9Y0Z1A2B3C4D"),
            Some(StockItem::Variant(_))
        ));
        assert_eq!(StockItem::parse("cat_01JD3M5W7Q6V8X9Y0Z1A2B3C4D"), None);
    }

    #[test]
    fn totals_add_up_the_warehouses() {
        let stock = StockOut::new("prod_x".into(), vec![level(10, 2, 0), level(5, 5, 0)]);
        assert_eq!((stock.on_hand, stock.reserved, stock.available), (15, 7, 8));
    }
}
