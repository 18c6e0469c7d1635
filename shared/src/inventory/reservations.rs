//! Reservations: stock held for a while (a cart, a quote), released, or expired by the sweeper.

use super::*;
use crate::body::request_body;
use macro_rules_attribute::apply;

/// Most lines one reservation holds (each is a level write in one transaction).
pub const MAX_RESERVATION_LINES: usize = 25;
pub(super) const DEFAULT_HOLD_SECS: i64 = 900;
pub(super) const MAX_HOLD_SECS: i64 = 86_400;

#[apply(request_body!)]
pub struct ReserveLineIn {
    /// `prod_…` or `var_…`.
    #[schema(max_length = 40)]
    pub id: String,
    #[schema(minimum = 1, maximum = 1000000)]
    pub quantity: i64,
    /// The default warehouse when absent.
    pub warehouse_id: Option<WarehouseId>,
}

#[apply(request_body!)]
pub struct ReserveIn {
    #[schema(min_items = 1, max_items = 25)]
    pub items: Vec<ReserveLineIn>,
    /// Seconds the stock is held (1 to 86400; default 900). Expired holds give their stock back.
    #[schema(minimum = 1, maximum = 86400)]
    pub expires_in: Option<i64>,
}

#[apply(request_body!)]
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

pub(super) fn check_reserve(input: &ReserveIn) -> Result<i64, ApiError> {
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
pub(super) fn low_stock_events(store: StoreId, mode: Mode, changes: &[LevelChange]) -> Result<Vec<Event>, ApiError> {
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
pub(super) async fn end_reservation(
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
