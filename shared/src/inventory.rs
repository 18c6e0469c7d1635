//! Inventory: warehouses and stock levels per product or variant per warehouse, changed only by ledgered
//! adjustments that can never take `on_hand` below `reserved`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalog::products::Product;
use crate::db::Committed;
use crate::db::Db;
use crate::error::{ApiError, FieldError};
use crate::events::{Event, EventType};
use crate::ids::{AdjustmentId, ReservationId, StoreId, WarehouseId};
use crate::retry::Backoff;
use crate::tenant::{Mode, Tenant};
use crate::time;

pub use crate::model::inventory::{
    AdjustReason, Adjustment, Level, LevelChange, Reservation, ReservationLine, ReservationStatus, StockItem, Warehouse,
};

const MAX_NOTE: usize = 500;
/// Most ids one batch check reads.
pub const MAX_BATCH: usize = 50;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseIn {
    pub name: String,
    pub code: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehousePatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub code: Option<Option<String>>,
}

fn check_warehouse(warehouse: &Warehouse) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if warehouse.name.trim().is_empty() || warehouse.name.chars().count() > 100 {
        errors.push(FieldError::new("name", "must be 1 to 100 characters"));
    }
    if warehouse.code.as_deref().is_some_and(|c| c.is_empty() || c.len() > 32) {
        errors.push(FieldError::new("code", "must be 1 to 32 characters"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustIn {
    /// Change to `on_hand`: positive adds stock, negative removes it.
    #[schema(example = 25)]
    pub delta: i64,
    pub reason: AdjustReason,
    pub note: Option<String>,
    /// The store's default warehouse when absent.
    pub warehouse_id: Option<WarehouseId>,
    /// Sets the reorder point of this item in this warehouse.
    pub reorder_point: Option<i64>,
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

/// The store's default warehouse, made on first use. One `GetItem` of its marker, not a read of every warehouse.
pub async fn default_warehouse(db: &Db, tenant: &Tenant) -> Result<WarehouseId, ApiError> {
    if let Some(found) = db.scoped(tenant).default_warehouse_id().await? {
        return Ok(found);
    }
    let now = time::now_rfc3339();
    let warehouse = Warehouse {
        id: WarehouseId::new(),
        name: "Default warehouse".into(),
        code: None,
        is_default: true,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    // The marker makes "one default per store" a condition: of two first uses at once, one creates it.
    if db
        .create_warehouse(
            tenant,
            &warehouse,
            true,
            Event::about(tenant, EventType::WarehouseCreated, &warehouse)?,
        )
        .await
        .committed()?
    {
        return Ok(warehouse.id);
    }
    db.scoped(tenant)
        .default_warehouse_id()
        .await?
        .ok_or_else(|| ApiError::internal("the default warehouse vanished"))
}

pub async fn create_warehouse(db: &Db, tenant: &Tenant, input: WarehouseIn) -> Result<Warehouse, ApiError> {
    // The first warehouse of a store is its default one; made first, so this one is not.
    default_warehouse(db, tenant).await?;
    let now = time::now_rfc3339();
    let warehouse = Warehouse {
        id: WarehouseId::new(),
        name: input.name.trim().to_owned(),
        code: input.code,
        is_default: false,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    check_warehouse(&warehouse)?;
    let created = db
        .create_warehouse(
            tenant,
            &warehouse,
            false,
            Event::about(tenant, EventType::WarehouseCreated, &warehouse)?,
        )
        .await
        .committed()?;
    if !created {
        return Err(ApiError::Conflict {
            code: "warehouse_limit_reached",
            message: format!("a store has at most {} warehouses per mode", crate::db::MAX_WAREHOUSES),
            details: Vec::new(),
        });
    }
    Ok(warehouse)
}

pub async fn list_warehouses(db: &Db, tenant: &Tenant) -> Result<Vec<Warehouse>, ApiError> {
    default_warehouse(db, tenant).await?;
    db.scoped(tenant).all_warehouses().await
}

pub async fn update_warehouse(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    patch: WarehousePatch,
) -> Result<Warehouse, ApiError> {
    let id: WarehouseId = id.parse().map_err(|_| ApiError::not_found("warehouse"))?;
    let before = db
        .scoped(tenant)
        .record::<Warehouse>(id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("warehouse"))?;
    let mut after = before.clone();
    if let Some(name) = patch.name {
        after.name = name.trim().to_owned();
    }
    if let Some(code) = patch.code {
        after.code = code;
    }
    check_warehouse(&after)?;
    if after == before {
        return Ok(before);
    }
    after.version += 1;
    after.updated_at = time::now_rfc3339();
    if !db
        .update_warehouse(
            tenant,
            &before,
            &after,
            Event::about(tenant, EventType::WarehouseUpdated, &after)?,
        )
        .await
        .committed()?
    {
        return Err(ApiError::conflict(
            "the warehouse was changed by another request; retry",
        ));
    }
    Ok(after)
}

fn item(id: &str) -> Result<StockItem, ApiError> {
    StockItem::parse(id).ok_or_else(|| ApiError::not_found("product or variant"))
}

/// An item's stock in every warehouse.
pub async fn stock(db: &Db, tenant: &Tenant, id: &str) -> Result<StockOut, ApiError> {
    let item = item(id)?;
    let levels = db.scoped(tenant).levels(item).await?;
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
    let item = item(id)?;
    match item {
        StockItem::Product(product) => {
            db.scoped(tenant)
                .record::<Product>(product, false)
                .await?
                .ok_or_else(|| ApiError::not_found("product"))?;
        }
        StockItem::Variant(variant) => {
            db.scoped(tenant)
                .variant_owner(variant)
                .await?
                .ok_or_else(|| ApiError::not_found("variant"))?;
        }
    }
    let warehouse = match input.warehouse_id {
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
        let now = time::now_rfc3339();
        let after = adjust(&before, &input, &now)?;
        let entry = Adjustment {
            id: AdjustmentId::new(),
            item_id: after.item_id.clone(),
            warehouse_id: after.warehouse_id.clone(),
            delta: input.delta,
            reason: input.reason,
            note: input.note.clone(),
            on_hand_after: Some(after.on_hand),
            available_after: Some(after.available),
            order_id: None,
            at: now,
            actor: tenant.key_id.to_string(),
        };
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
    db.scoped(tenant).adjustments(item(id)?, page).await
}

// --- reservations -----------------------------------------------------------------------------------------

/// Most lines one reservation holds (each is a level write in one transaction).
pub const MAX_RESERVATION_LINES: usize = 25;
const DEFAULT_HOLD_SECS: i64 = 900;
const MAX_HOLD_SECS: i64 = 86_400;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveLineIn {
    /// `prod_…` or `var_…`.
    pub id: String,
    pub quantity: i64,
    /// The default warehouse when absent.
    pub warehouse_id: Option<WarehouseId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveIn {
    pub items: Vec<ReserveLineIn>,
    /// Seconds the stock is held (1 to 86400; default 900). Expired holds give their stock back.
    pub expires_in: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseIn {
    pub reservation_id: ReservationId,
}

/// The levels after holding (`sign` = 1) or giving back (`sign` = -1) `quantity`, or the lines short of stock.
pub fn hold(changes: &mut [LevelChange], quantities: &[i64], sign: i64, now: &str) -> Result<(), ApiError> {
    let mut short = Vec::new();
    for ((item, before, after), quantity) in changes.iter_mut().zip(quantities) {
        *after = before.clone();
        after.reserved += sign * quantity;
        after.available = after.on_hand - after.reserved;
        if after.available < 0 {
            short.push(
                serde_json::json!({"id": item.to_string(), "requested": quantity, "available": before.available}),
            );
        }
        after.low = after.reorder_point > 0 && after.available <= after.reorder_point;
        after.updated_at = now.to_owned();
        after.version = before.version + 1;
    }
    if short.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Conflict {
            code: "insufficient_stock",
            message: "not enough stock for every line".into(),
            details: short,
        })
    }
}

fn check_reserve(input: &ReserveIn) -> Result<i64, ApiError> {
    let mut errors = Vec::new();
    if input.items.is_empty() || input.items.len() > MAX_RESERVATION_LINES {
        errors.push(FieldError::new("items", format!("1 to {MAX_RESERVATION_LINES} lines")));
    }
    for (i, line) in input.items.iter().enumerate() {
        if StockItem::parse(&line.id).is_none() {
            errors.push(FieldError::new(
                format!("items[{i}].id"),
                "must be a product or variant id",
            ));
        }
        if !(1..=1_000_000).contains(&line.quantity) {
            errors.push(FieldError::new(
                format!("items[{i}].quantity"),
                "must be 1 to 1,000,000",
            ));
        }
    }
    let hold = input.expires_in.unwrap_or(DEFAULT_HOLD_SECS);
    if !(1..=MAX_HOLD_SECS).contains(&hold) {
        errors.push(FieldError::new("expires_in", "must be 1 to 86400 seconds"));
    }
    if errors.is_empty() {
        Ok(hold)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The `inventory.low_stock` events of levels that crossed down.
fn low_stock_events(store: StoreId, mode: Mode, changes: &[LevelChange]) -> Result<Vec<Event>, ApiError> {
    changes
        .iter()
        .filter(|(_, before, after)| crossed_low(before, after))
        .map(|(_, _, after)| Event::about(&(store, mode), EventType::InventoryLowStock, after))
        .collect()
}

/// Holds stock for every line, all or nothing.
pub async fn reserve(db: &Db, tenant: &Tenant, input: ReserveIn) -> Result<Reservation, ApiError> {
    let hold_secs = check_reserve(&input)?;
    let default = default_warehouse(db, tenant).await?;
    let mut lines: Vec<(StockItem, WarehouseId, i64)> = Vec::new();
    for (i, line) in input.items.iter().enumerate() {
        let item = StockItem::parse(&line.id)
            .ok_or_else(|| ApiError::invalid(format!("items[{i}].id"), "must be a product or variant id"))?;
        let warehouse = match line.warehouse_id {
            Some(id) => {
                db.scoped(tenant)
                    .record::<Warehouse>(id, false)
                    .await?
                    .ok_or_else(|| ApiError::invalid(format!("items[{i}].warehouse_id"), "no such warehouse"))?
                    .id
            }
            None => default,
        };
        if lines.iter().any(|(it, wh, _)| *it == item && *wh == warehouse) {
            return Err(ApiError::invalid(
                format!("items[{i}]"),
                "each item and warehouse once per reservation",
            ));
        }
        lines.push((item, warehouse, line.quantity));
    }
    let mut backoff = Backoff::default();
    for _attempt in 0..ADJUST_ATTEMPTS {
        let now_text = time::now_rfc3339();
        let now_unix = time::now().unix_timestamp();
        let mut changes = Vec::with_capacity(lines.len());
        for (item, warehouse, _) in &lines {
            let before = db
                .scoped(tenant)
                .level(*item, *warehouse)
                .await?
                .unwrap_or_else(|| Level {
                    item_id: item.to_string(),
                    warehouse_id: warehouse.to_string(),
                    ..Default::default()
                });
            changes.push((*item, before, Level::default()));
        }
        let quantities: Vec<i64> = lines.iter().map(|(_, _, q)| *q).collect();
        hold(&mut changes, &quantities, 1, &now_text)?;
        let reservation = Reservation {
            id: ReservationId::new(),
            status: ReservationStatus::Active,
            lines: lines
                .iter()
                .map(|(item, wh, q)| ReservationLine {
                    item_id: item.to_string(),
                    warehouse_id: wh.to_string(),
                    quantity: *q,
                })
                .collect(),
            expires_at: now_unix + hold_secs,
            created_at: now_text.clone(),
            updated_at: now_text,
            version: 1,
        };
        let created = Event::about(
            &(tenant.store_id, tenant.mode),
            EventType::ReservationCreated,
            &reservation,
        )?;
        let low = low_stock_events(tenant.store_id, tenant.mode, &changes)?;
        if db
            .scoped(tenant)
            .put_reservation(&tenant.key_id.to_string(), None, &reservation, &changes, created, low)
            .await
            .committed()?
        {
            return Ok(reservation);
        }
        backoff.pause().await;
    }
    Err(ApiError::conflict("the stock levels are changing fast; retry"))
}

pub async fn get_reservation(db: &Db, tenant: &Tenant, id: &str) -> Result<Reservation, ApiError> {
    let id: ReservationId = id.parse().map_err(|_| ApiError::not_found("reservation"))?;
    let mut reservation = db
        .scoped(tenant)
        .get_reservation(id)
        .await?
        .ok_or_else(|| ApiError::not_found("reservation"))?;
    reservation.status = reservation.status_at(time::now().unix_timestamp());
    Ok(reservation)
}

/// Gives a reservation's stock back: `released` by the client, `expired` by the sweep.
async fn end_reservation(
    db: &Db,
    store: StoreId,
    mode: Mode,
    actor: &str,
    reservation: Reservation,
    status: ReservationStatus,
) -> Result<Option<Reservation>, ApiError> {
    for _attempt in 0..ADJUST_ATTEMPTS {
        let now_text = time::now_rfc3339();
        let mut changes = Vec::with_capacity(reservation.lines.len());
        for line in &reservation.lines {
            let item = StockItem::parse(&line.item_id)
                .ok_or_else(|| ApiError::internal("reservation line without an item"))?;
            let warehouse: WarehouseId = line.warehouse_id.parse().map_err(ApiError::internal)?;
            let before = db
                .store_scope(store, mode)
                .level(item, warehouse)
                .await?
                .ok_or_else(|| ApiError::internal("reserved level missing"))?;
            changes.push((item, before, Level::default()));
        }
        let quantities: Vec<i64> = reservation.lines.iter().map(|l| l.quantity).collect();
        hold(&mut changes, &quantities, -1, &now_text)?;
        let mut after = reservation.clone();
        after.status = status;
        after.version += 1;
        after.updated_at = now_text;
        let event_type = match status {
            ReservationStatus::Expired => EventType::ReservationExpired,
            _ => EventType::ReservationReleased,
        };
        let event = Event::about(&(store, mode), event_type, &after)?;
        if db
            .store_scope(store, mode)
            .put_reservation(actor, Some(&reservation), &after, &changes, event, Vec::new())
            .await
            .committed()?
        {
            return Ok(Some(after));
        }
        // Ended meanwhile (released and swept at once)? Then there is nothing left to give back.
        match db.store_scope(store, mode).get_reservation(reservation.id).await? {
            Some(current) if current.status == ReservationStatus::Active => {}
            _ => return Ok(None),
        }
    }
    Err(ApiError::conflict("the stock levels are changing fast; retry"))
}

/// Releases an active reservation; its stock is available again at once.
pub async fn release(db: &Db, tenant: &Tenant, input: ReleaseIn) -> Result<Reservation, ApiError> {
    let reservation = db
        .scoped(tenant)
        .get_reservation(input.reservation_id)
        .await?
        .ok_or_else(|| ApiError::not_found("reservation"))?;
    match reservation.status_at(time::now().unix_timestamp()) {
        ReservationStatus::Active => {}
        status => {
            return Err(ApiError::conflict(format!(
                "the reservation is already {}",
                serde_json::to_value(status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )))
        }
    }
    end_reservation(
        db,
        tenant.store_id,
        tenant.mode,
        &tenant.key_id.to_string(),
        reservation,
        ReservationStatus::Released,
    )
    .await?
    .ok_or_else(|| ApiError::conflict("the reservation ended meanwhile"))
}

/// Expired reservations one sweep ends; the next run takes the rest.
pub const SWEEP_BATCH: u32 = 100;

/// Gives back the stock of every reservation past its expiry (the scheduled sweep); returns how many it ended.
pub async fn sweep_expired(db: &Db, limit: u32) -> Result<usize, ApiError> {
    let now = time::now().unix_timestamp();
    let mut ended = 0;
    for (store, mode, reservation) in db.expired_reservations(now, limit).await? {
        if end_reservation(
            db,
            store,
            mode,
            "system:inventory-sweeper",
            reservation,
            ReservationStatus::Expired,
        )
        .await?
        .is_some()
        {
            ended += 1;
        }
    }
    Ok(ended)
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
