//! Inventory access patterns: warehouses, levels (one item per item and warehouse) and the adjustment ledger.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::DisplayErrorContext;

use super::keys::{self, PK, SK};
use super::{from_item, item, n, s, tenant_prefix, Db, TxError};
use crate::error::ApiError;
use crate::events::Event;
use crate::http::pagination::{Page, PageOf};
use crate::ids::{StoreId, WarehouseId};
use crate::inventory::{Adjustment, Level, StockItem, Warehouse};
use crate::tenant::{Mode, Tenant};

fn committed(result: Result<(), TxError>) -> Result<bool, ApiError> {
    match result {
        Ok(()) => Ok(true),
        Err(TxError::ConditionFailed(_) | TxError::Conflict) => Ok(false),
        Err(TxError::Other(error)) => Err(error),
    }
}

impl Db {
    /// Every warehouse of a store and mode (a store has few).
    pub async fn all_warehouses(&self, store: StoreId, mode: Mode) -> Result<Vec<Warehouse>, ApiError> {
        let output = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :wh)")
            .expression_attribute_values(":pk", s(keys::warehouses_partition(store, mode)))
            .expression_attribute_values(":wh", s("WH#"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ApiError::internal(DisplayErrorContext(e)))?;
        output.items.unwrap_or_default().into_iter().map(from_item).collect()
    }

    pub async fn get_warehouse(
        &self,
        store: StoreId,
        mode: Mode,
        id: WarehouseId,
    ) -> Result<Option<Warehouse>, ApiError> {
        self.get(keys::warehouse(store, mode, id), false).await
    }

    /// Creates a warehouse; the default one with the store's default marker, so only one can be made.
    /// `Ok(false)`: a default warehouse exists already.
    pub async fn create_warehouse(
        &self,
        tenant: &Tenant,
        warehouse: &Warehouse,
        default: bool,
        event: Event,
    ) -> Result<bool, ApiError> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let mut tx = self
            .write(event, tenant.key_id.to_string())
            .put_new(item(keys::warehouse(store, mode, warehouse.id), warehouse)?);
        if default {
            let marker = keys::default_warehouse(store, mode);
            tx = tx.put_new(HashMap::from([
                (PK.to_owned(), s(marker.pk)),
                (SK.to_owned(), s(marker.sk)),
                ("warehouse_id".to_owned(), s(warehouse.id.to_string())),
            ]));
        }
        committed(tx.commit().await)
    }

    pub async fn update_warehouse(
        &self,
        tenant: &Tenant,
        before: &Warehouse,
        after: &Warehouse,
        event: Event,
    ) -> Result<bool, ApiError> {
        let record = item(keys::warehouse(tenant.store_id, tenant.mode, after.id), after)?;
        let version = HashMap::from([(":version".to_owned(), n(before.version))]);
        committed(
            self.write(event, tenant.key_id.to_string())
                .put_if(record, "version = :version", version)
                .commit()
                .await,
        )
    }

    /// An item's levels in every warehouse that has held it.
    pub async fn levels(&self, store: StoreId, mode: Mode, item: StockItem) -> Result<Vec<Level>, ApiError> {
        let output = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :wh)")
            .expression_attribute_values(":pk", s(keys::levels_partition(store, mode, &item.to_string())))
            .expression_attribute_values(":wh", s("WH#"))
            .send()
            .await
            .map_err(|e| ApiError::internal(DisplayErrorContext(e)))?;
        output.items.unwrap_or_default().into_iter().map(from_item).collect()
    }

    /// One level, read consistently (it is about to be changed).
    pub async fn level(
        &self,
        store: StoreId,
        mode: Mode,
        item: StockItem,
        warehouse: WarehouseId,
    ) -> Result<Option<Level>, ApiError> {
        self.get(keys::level(store, mode, &item.to_string(), warehouse), true)
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
    ) -> Result<bool, ApiError> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let warehouse: WarehouseId = after.warehouse_id.parse().map_err(ApiError::internal)?;
        let level = item(keys::level(store, mode, &stock_item.to_string(), warehouse), after)?;
        let mut tx = self.write(adjusted, tenant.key_id.to_string());
        if let Some(low) = low_stock {
            tx = tx.and_event(low);
        }
        tx = match before.version {
            0 => tx.put_new(level),
            version => tx.put_if(
                level,
                "version = :version",
                HashMap::from([(":version".to_owned(), n(version))]),
            ),
        };
        let tx = tx.put_new(item(
            keys::adjustment(store, mode, &stock_item.to_string(), entry.id),
            entry,
        )?);
        committed(tx.commit().await)
    }

    /// An item's adjustments, newest first.
    pub async fn adjustments(
        &self,
        store: StoreId,
        mode: Mode,
        stock_item: StockItem,
        page: &Page,
    ) -> Result<PageOf<Adjustment>, ApiError> {
        self.query_partition(
            &tenant_prefix(store, mode),
            keys::ledger_partition(store, mode, &stock_item.to_string()),
            page,
            true,
        )
        .await
    }
}
