//! Inventory access patterns: warehouses, levels (one item per item and warehouse) and the adjustment ledger.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::DisplayErrorContext;

use super::keys::{self, GSI2PK, GSI2SK, PK, SK};
use super::{from_item, item, n, s, tenant_prefix, Db, Scoped, Stale, WriteError};
use crate::error::ApiError;
use crate::events::Event;
use crate::http::pagination::{Page, PageOf};
use crate::ids::{ReservationId, StoreId, WarehouseId};
use crate::model::inventory::{
    Adjustment, Level, LevelChange, Reservation, ReservationStatus, StockItem, Transfer, Warehouse,
};
use crate::tenant::{Mode, Tenant};

/// Warehouses a store may have per mode: every list of them is read whole.
pub const MAX_WAREHOUSES: u32 = 50;

impl Db {
    /// Creates a warehouse; the default one with the store's default marker, so only one can be made. The marker
    /// also counts the store's warehouses, and a new one is refused past [`MAX_WAREHOUSES`].
    /// `Ok(false)`: a default warehouse exists already, or (for another) the store has the most it may.
    pub async fn create_warehouse(
        &self,
        tenant: &Tenant,
        warehouse: &Warehouse,
        event: Event,
    ) -> Result<(), WriteError<Stale>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let mut tx = self
            .write(event, tenant.key_id.to_string())
            .put_new(item(keys::warehouse(store, mode, warehouse.id), warehouse)?);
        let marker = keys::default_warehouse(store, mode);
        // The default warehouse creates the marker that counts the others: one default per store is a condition.
        if warehouse.is_default {
            tx = tx.put_new(HashMap::from([
                (PK.to_owned(), s(marker.pk)),
                (SK.to_owned(), s(marker.sk)),
                ("warehouse_id".to_owned(), s(warehouse.id.to_string())),
                ("warehouse_count".to_owned(), n(1)),
            ]));
        } else {
            tx = tx.update(
                marker,
                "ADD warehouse_count :one",
                Some("attribute_exists(PK) AND (attribute_not_exists(warehouse_count) OR warehouse_count < :cap)"),
                HashMap::new(),
                HashMap::from([(":one".to_owned(), n(1)), (":cap".to_owned(), n(MAX_WAREHOUSES))]),
            );
        }
        tx.commit(Stale).await
    }

    pub async fn update_warehouse(
        &self,
        tenant: &Tenant,
        before: &Warehouse,
        after: &Warehouse,
        event: Event,
    ) -> Result<(), WriteError<Stale>> {
        let record = item(keys::warehouse(tenant.store_id, tenant.mode, after.id), after)?;
        let version = HashMap::from([(":version".to_owned(), n(before.version))]);
        self.write(event, tenant.key_id.to_string())
            .put_if(record, "version = :version", version)
            .commit(Stale)
            .await
    }

    /// Writes a level changed from `before` (conditional on its version: `Ok(false)` when another change came
    /// first), its ledger line and its events, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_level(
        &self,
        tenant: &Tenant,
        stock_item: StockItem,
        before: &Level,
        after: &Level,
        entry: &Adjustment,
        adjusted: Event,
        low_stock: Option<Event>,
    ) -> Result<(), WriteError<Stale>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let warehouse: WarehouseId = after.warehouse_id.parse().map_err(ApiError::internal)?;
        let level = item(keys::level(store, mode, &stock_item.to_string(), warehouse), after)?;
        let mut tx = self.write(adjusted, tenant.key_id.to_string());
        if let Some(low) = low_stock {
            tx = tx.and_event(low);
        }
        // A level never written has version 0.
        tx = tx.put_versioned(level, Some(before.version).filter(|v| *v > 0));
        let tx = tx.put_new(item(
            keys::adjustment(store, mode, &stock_item.to_string(), entry.id),
            entry,
        )?);
        tx.commit(Stale).await
    }
}

impl Scoped<'_> {
    /// Writes a transfer (new when `before` is none, else conditional on the version read), the levels it changes
    /// (each conditional on the version read), their ledger lines and the events, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_transfer(
        &self,
        actor: String,
        before: Option<&Transfer>,
        after: &Transfer,
        moves: &[(StockItem, Level, Level, Adjustment)],
        event: Event,
        more_events: Vec<Event>,
    ) -> Result<(), WriteError<Stale>> {
        let (store, mode) = (self.store, self.mode);
        let mut tx = self.write(event, actor);
        for extra in more_events {
            tx = tx.and_event(extra);
        }
        tx = tx.put_versioned(
            item(keys::transfer(store, mode, after.id), after)?,
            before.map(|b| b.version),
        );
        for (stock_item, level_before, level_after, entry) in moves {
            let warehouse: WarehouseId = level_after.warehouse_id.parse().map_err(ApiError::internal)?;
            let level = item(
                keys::level(store, mode, &stock_item.to_string(), warehouse),
                level_after,
            )?;
            tx = tx
                .put_versioned(level, Some(level_before.version).filter(|v| *v > 0))
                .put_new(item(
                    keys::adjustment(store, mode, &stock_item.to_string(), entry.id),
                    entry,
                )?);
        }
        tx.commit(Stale).await
    }

    /// Every warehouse of a store and mode (at most [`MAX_WAREHOUSES`]).
    pub async fn all_warehouses(&self) -> Result<Vec<Warehouse>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        self.query_all(keys::warehouses_partition(store, mode), "WH#", true)
            .await
    }

    /// The store's default warehouse, from its marker (read consistently: it may have just been made).
    pub async fn default_warehouse_id(&self) -> Result<Option<WarehouseId>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        #[derive(serde::Deserialize)]
        struct Marker {
            warehouse_id: WarehouseId,
        }
        let marker: Option<Marker> = self.get(keys::default_warehouse(store, mode), true).await?;
        Ok(marker.map(|m| m.warehouse_id))
    }

    /// What each item has available to sell, in the default warehouse (where checkout sells from): one
    /// `BatchGetItem` per 100 items (the default warehouse's id is the store's: no read to find it). Items never
    /// stocked there are absent.
    pub async fn sellable(&self, items: &[StockItem]) -> Result<HashMap<String, i64>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let warehouse = WarehouseId::default_of(store);
        if items.is_empty() {
            return Ok(HashMap::new());
        }
        let wanted = items
            .iter()
            .map(|item| keys::level(store, mode, &item.to_string(), warehouse))
            .collect();
        let found = self.batch_get(wanted, false).await?;
        found
            .into_values()
            .map(|item| from_item::<Level>(item).map(|level| (level.item_id, level.available)))
            .collect()
    }

    /// An item's levels in every warehouse that has held it.
    pub async fn levels(&self, item: StockItem) -> Result<Vec<Level>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        self.query_all(keys::levels_partition(store, mode, &item.to_string()), "WH#", false)
            .await
    }

    /// One level, read consistently (it is about to be changed).
    pub async fn level(&self, item: StockItem, warehouse: WarehouseId) -> Result<Option<Level>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        self.get(keys::level(store, mode, &item.to_string(), warehouse), true)
            .await
    }

    /// Writes a level changed only in its flags, while still at the version read.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_level_flag(
        &self,
        actor: &str,
        stock_item: StockItem,
        before: &Level,
        after: &Level,
        event: Event,
    ) -> Result<(), WriteError<Stale>> {
        let (store, mode) = (self.store, self.mode);
        let warehouse: WarehouseId = after.warehouse_id.parse().map_err(ApiError::internal)?;
        let level = item(keys::level(store, mode, &stock_item.to_string(), warehouse), after)?;
        self.write(event, actor)
            .put_versioned(level, Some(before.version))
            .commit(Stale)
            .await
    }

    /// An item's adjustments, newest first.
    pub async fn adjustments(&self, stock_item: StockItem, page: &Page) -> Result<PageOf<Adjustment>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        self.query_partition(
            &tenant_prefix(store, mode),
            keys::ledger_partition(store, mode, &stock_item.to_string()),
            page,
            true,
        )
        .await
    }
}

/// A reservation as stored: with its store and mode (for the sweep), and its index keys while active.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredReservation {
    store_id: StoreId,
    mode: Mode,
    #[serde(flatten)]
    reservation: Reservation,
}

impl Db {
    /// Active reservations of any store whose expiry has passed, oldest first.
    pub async fn expired_reservations(
        &self,
        now: i64,
        limit: u32,
    ) -> Result<Vec<(StoreId, Mode, Reservation)>, ApiError> {
        let output = self
            .client
            .query()
            .table_name(self.table())
            .index_name(keys::GSI2)
            .key_condition_expression("GSI2PK = :pk AND GSI2SK < :now")
            .expression_attribute_values(":pk", s(keys::ACTIVE_RESERVATIONS))
            // `~` sorts after the `#` that follows the expiry: everything that expired at or before `now`.
            .expression_attribute_values(":now", s(format!("{now:012}~")))
            .limit(limit as i32)
            .send()
            .await
            .map_err(|e| ApiError::internal(DisplayErrorContext(e)))?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<StoredReservation>(item).map(|s| (s.store_id, s.mode, s.reservation)))
            .collect()
    }
}

impl Scoped<'_> {
    pub async fn get_reservation(&self, id: ReservationId) -> Result<Option<Reservation>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let stored: Option<StoredReservation> = self.get(keys::reservation(store, mode, id), true).await?;
        Ok(stored.map(|s| s.reservation))
    }

    /// Creates (`before` = `None`) or ends a reservation together with its level changes (each conditional on the
    /// version read) and events. `Ok(false)`: something changed meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_reservation(
        &self,
        actor: &str,
        before: Option<&Reservation>,
        after: &Reservation,
        levels: &[LevelChange],
        event: Event,
        more_events: Vec<Event>,
    ) -> Result<(), WriteError<Stale>> {
        let (store, mode) = (self.store, self.mode);
        let stored = StoredReservation {
            store_id: store,
            mode,
            reservation: after.clone(),
        };
        let mut record = item(keys::reservation(store, mode, after.id), &stored)?;
        if after.status == ReservationStatus::Active {
            let index = keys::active_reservation_index(after.expires_at, after.id);
            record.insert(GSI2PK.to_owned(), s(index.pk));
            record.insert(GSI2SK.to_owned(), s(index.sk));
        }
        let mut tx = self.write(event, actor);
        for extra in more_events {
            tx = tx.and_event(extra);
        }
        tx = tx.put_versioned(record, before.map(|b| b.version));
        for (stock_item, level_before, level_after) in levels {
            let warehouse: WarehouseId = level_after.warehouse_id.parse().map_err(ApiError::internal)?;
            let level = item(
                keys::level(store, mode, &stock_item.to_string(), warehouse),
                level_after,
            )?;
            tx = tx.put_versioned(level, Some(level_before.version).filter(|v| *v > 0));
        }
        tx.commit(Stale).await
    }
}
