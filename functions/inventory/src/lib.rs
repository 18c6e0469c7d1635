//! `functions/inventory`: warehouses, stock levels per product or variant and warehouse, and the ledger of
//! adjustments.

use axum::extract::Path;
use cartwheel::error::ErrorBody;
use cartwheel::http::pagination::{ListOut, PageParams};
use cartwheel::http::{AppState, DataOut, Json, Query};
use cartwheel::http::{Caller, Created, Data};
use cartwheel::inventory::{
    self, AdjustIn, Adjustment, Level, ReleaseIn, Reservation, ReserveIn, SetIn, StockOut, Transfer, TransferIn,
    Warehouse, WarehouseIn, WarehousePatch,
};
use cartwheel::tenant::can;
use cartwheel::ApiError;
use serde::Deserialize;
use utoipa::IntoParams;

cartwheel::function_routes! {
    AppState;
    (create_warehouse, list_warehouses),
    (update_warehouse),
    (check_stock),
    (get_stock),
    (adjust_stock),
    (set_stock),
    (history),
    (create_transfer, list_transfers),
    (get_transfer),
    (ship_transfer),
    (receive_transfer),
    (reserve),
    (release),
    (get_reservation),
}

type Result<T> = std::result::Result<T, ApiError>;

/// Create a warehouse
#[utoipa::path(post, path = "/v1/warehouses", tag = "inventory", security(("api_key" = ["inventory:write"])), request_body = WarehouseIn,
    responses((status = 201, description = "The warehouse", body = DataOut<Warehouse>)))]
async fn create_warehouse(
    c: Caller<can::InventoryWrite>,
    Json(input): Json<WarehouseIn>,
) -> Result<Created<Warehouse>> {
    let warehouse = inventory::create_warehouse(&c.db, &c.tenant, input).await?;
    Ok(Created(warehouse))
}

/// List warehouses
///
/// Every store has a default warehouse (made on first use), where stock goes when a request names none.
#[utoipa::path(get, path = "/v1/warehouses", tag = "inventory", security(("api_key" = ["inventory:read"])),
    params(PageParams),
    responses((status = 200, description = "The store's warehouses", body = ListOut<Warehouse>)))]
async fn list_warehouses(
    c: Caller<can::InventoryRead>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<ListOut<Warehouse>>> {
    let warehouses = inventory::list_warehouses(&c.db, &c.tenant).await?;
    Ok(axum::Json(page.page_of(&c.tenant.key_prefix(), warehouses)?))
}

/// Update a warehouse
#[utoipa::path(patch, path = "/v1/warehouses/{id}", tag = "inventory", security(("api_key" = ["inventory:write"])), request_body = WarehousePatch,
    params(("id" = String, Path, description = "`whs_…`")),
    responses((status = 200, description = "The warehouse", body = DataOut<Warehouse>)))]
async fn update_warehouse(
    c: Caller<can::InventoryWrite>,
    Path(id): Path<String>,
    Json(patch): Json<WarehousePatch>,
) -> Result<Data<Warehouse>> {
    Ok(Data(inventory::update_warehouse(&c.db, &c.tenant, &id, patch).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct CheckParams {
    /// Up to 50 comma-separated product or variant ids.
    ids: String,
}

/// Check the stock of several items
#[utoipa::path(get, path = "/v1/inventory", tag = "inventory", security(("api_key" = ["inventory:read"])), params(CheckParams),
    responses((status = 200, description = "Each item's stock, in the order asked", body = DataOut<Vec<StockOut>>)))]
async fn check_stock(c: Caller<can::InventoryRead>, Query(params): Query<CheckParams>) -> Result<Data<Vec<StockOut>>> {
    Ok(Data(inventory::stocks(&c.db, &c.tenant, &params.ids).await?))
}

/// Get an item's stock
///
/// Per warehouse and in total: `on_hand`, `reserved`, `available = on_hand − reserved`.
#[utoipa::path(get, path = "/v1/inventory/{id}", tag = "inventory", security(("api_key" = ["inventory:read"])), params(("id" = String, Path, description = "`prod_…` or `var_…`")),
    responses(
        (status = 200, description = "The stock", body = DataOut<StockOut>),
        (status = 404, description = "Not a product or variant id", body = ErrorBody),
    ))]
async fn get_stock(c: Caller<can::InventoryRead>, Path(id): Path<String>) -> Result<Data<StockOut>> {
    Ok(Data(inventory::stock(&c.db, &c.tenant, &id).await?))
}

/// Adjust stock
///
/// Adds or removes stock in one warehouse, with a reason; refused with `409 insufficient_stock` when it would take
/// `on_hand` below `reserved`. Every adjustment is kept in the ledger and emits `inventory.adjusted`; crossing down
/// to the reorder point emits `inventory.low_stock` once.
#[utoipa::path(post, path = "/v1/inventory/{id}/adjust", tag = "inventory", security(("api_key" = ["inventory:write"])), request_body = AdjustIn,
    params(("id" = String, Path, description = "`prod_…` or `var_…`")),
    responses(
        (status = 200, description = "The level after the adjustment", body = DataOut<Level>),
        (status = 409, description = "insufficient_stock", body = ErrorBody),
    ))]
async fn adjust_stock(
    c: Caller<can::InventoryWrite>,
    Path(id): Path<String>,
    Json(input): Json<AdjustIn>,
) -> Result<Data<Level>> {
    Ok(Data(inventory::adjust_stock(&c.db, &c.tenant, &id, input).await?))
}

/// Set stock to a counted level
///
/// Sets `on_hand` in one warehouse to an absolute level (a stock count), with a reason. The ledger records the
/// difference from the level it read, and the write is conditional on that level: a sale in between is re-read,
/// never overwritten. Setting the level it already has changes nothing. `409 insufficient_stock` when the level
/// would be below `reserved`. Emits `inventory.adjusted` (and `inventory.low_stock` on a crossing).
#[utoipa::path(post, path = "/v1/inventory/{id}/set", tag = "inventory", security(("api_key" = ["inventory:write"])), request_body = SetIn,
    params(("id" = String, Path, description = "`prod_…` or `var_…`")),
    responses(
        (status = 200, description = "The level after the change", body = DataOut<Level>),
        (status = 409, description = "insufficient_stock", body = ErrorBody),
    ))]
async fn set_stock(
    c: Caller<can::InventoryWrite>,
    Path(id): Path<String>,
    Json(input): Json<SetIn>,
) -> Result<Data<Level>> {
    Ok(Data(inventory::set_stock(&c.db, &c.tenant, &id, input).await?))
}

/// Transfer stock between warehouses
///
/// Moves `quantity` of an item from one warehouse to another: at once by default (both levels, both ledger lines
/// and the events in one transaction; created `received`, emits `inventory.transferred`), or, with
/// `in_transit: true`, as a `pending` transfer that `ship` takes out of the source and `receive` puts into the
/// destination (`inventory.transfer_created`, `inventory.transfer_shipped`, `inventory.transferred`). The source
/// never goes below what is reserved there: `409 insufficient_stock`.
#[utoipa::path(post, path = "/v1/inventory/transfers", tag = "inventory", security(("api_key" = ["inventory:write"])), request_body = TransferIn,
    responses(
        (status = 201, description = "The transfer", body = DataOut<Transfer>),
        (status = 409, description = "insufficient_stock", body = ErrorBody),
    ))]
async fn create_transfer(c: Caller<can::InventoryWrite>, Json(input): Json<TransferIn>) -> Result<Created<Transfer>> {
    Ok(Created(inventory::create_transfer(&c.db, &c.tenant, input).await?))
}

/// List transfers
#[utoipa::path(get, path = "/v1/inventory/transfers", tag = "inventory", security(("api_key" = ["inventory:read"])), params(PageParams),
    responses((status = 200, description = "The transfers, newest first", body = ListOut<Transfer>)))]
async fn list_transfers(
    c: Caller<can::InventoryRead>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<ListOut<Transfer>>> {
    Ok(axum::Json(inventory::list_transfers(&c.db, &c.tenant, &page).await?))
}

/// Get a transfer
#[utoipa::path(get, path = "/v1/inventory/transfers/{id}", tag = "inventory", security(("api_key" = ["inventory:read"])), params(("id" = String, Path, description = "`trf_…`")),
    responses((status = 200, description = "The transfer", body = DataOut<Transfer>)))]
async fn get_transfer(c: Caller<can::InventoryRead>, Path(id): Path<String>) -> Result<Data<Transfer>> {
    Ok(Data(inventory::get_transfer(&c.db, &c.tenant, &id).await?))
}

/// Ship a transfer
///
/// Takes a `pending` transfer's stock out of its source warehouse: `in_transit`. Emits
/// `inventory.transfer_shipped`.
#[utoipa::path(post, path = "/v1/inventory/transfers/{id}/ship", tag = "inventory", security(("api_key" = ["inventory:write"])), params(("id" = String, Path, description = "`trf_…`")),
    responses(
        (status = 200, description = "The transfer, in transit", body = DataOut<Transfer>),
        (status = 409, description = "insufficient_stock, or invalid_transition (not pending)", body = ErrorBody),
    ))]
async fn ship_transfer(c: Caller<can::InventoryWrite>, Path(id): Path<String>) -> Result<Data<Transfer>> {
    Ok(Data(inventory::ship_transfer(&c.db, &c.tenant, &id).await?))
}

/// Receive a transfer
///
/// Puts an `in_transit` transfer's stock into its destination warehouse: `received`. Emits
/// `inventory.transferred`.
#[utoipa::path(post, path = "/v1/inventory/transfers/{id}/receive", tag = "inventory", security(("api_key" = ["inventory:write"])), params(("id" = String, Path, description = "`trf_…`")),
    responses(
        (status = 200, description = "The transfer, received", body = DataOut<Transfer>),
        (status = 409, description = "invalid_transition (not in transit)", body = ErrorBody),
    ))]
async fn receive_transfer(c: Caller<can::InventoryWrite>, Path(id): Path<String>) -> Result<Data<Transfer>> {
    Ok(Data(inventory::receive_transfer(&c.db, &c.tenant, &id).await?))
}

/// An item's adjustment history
#[utoipa::path(get, path = "/v1/inventory/{id}/history", tag = "inventory", security(("api_key" = ["inventory:read"])), params(("id" = String, Path, description = "`prod_…` or `var_…`"), PageParams),
    responses((status = 200, description = "The ledger, newest first", body = ListOut<Adjustment>)))]
async fn history(
    c: Caller<can::InventoryRead>,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<axum::Json<ListOut<Adjustment>>> {
    let page = params.parse(&c.tenant.key_prefix())?;
    Ok(axum::Json(
        inventory::history(&c.db, &c.tenant, &id, &page).await?.into_list(|a| a),
    ))
}

/// Reserve stock
///
/// Holds stock for every line or for none (`409 insufficient_stock` lists the short lines). The hold ends by
/// `release`, or by itself after `expires_in` seconds (a scheduled sweep gives the stock back; until then an expired
/// hold already reads as `expired`).
#[utoipa::path(post, path = "/v1/inventory/reserve", tag = "inventory", security(("api_key" = ["inventory:write"])), request_body = ReserveIn,
    responses(
        (status = 201, description = "The reservation", body = DataOut<Reservation>),
        (status = 409, description = "insufficient_stock", body = ErrorBody),
    ))]
async fn reserve(c: Caller<can::InventoryWrite>, Json(input): Json<ReserveIn>) -> Result<Created<Reservation>> {
    let reservation = inventory::reserve(&c.db, &c.tenant, input).await?;
    Ok(Created(reservation))
}

/// Release a reservation
#[utoipa::path(post, path = "/v1/inventory/release", tag = "inventory", security(("api_key" = ["inventory:write"])), request_body = ReleaseIn,
    responses(
        (status = 200, description = "The reservation, released; its stock is available again", body = DataOut<Reservation>),
        (status = 404, description = "No such reservation in this store and mode", body = ErrorBody),
        (status = 409, description = "Already released or expired", body = ErrorBody),
    ))]
async fn release(c: Caller<can::InventoryWrite>, Json(input): Json<ReleaseIn>) -> Result<Data<Reservation>> {
    Ok(Data(inventory::release(&c.db, &c.tenant, input).await?))
}

/// Get a reservation
#[utoipa::path(get, path = "/v1/inventory/reservations/{id}", tag = "inventory", security(("api_key" = ["inventory:read"])), params(("id" = String, Path, description = "`res_…`")),
    responses((status = 200, description = "The reservation", body = DataOut<Reservation>)))]
async fn get_reservation(c: Caller<can::InventoryRead>, Path(id): Path<String>) -> Result<Data<Reservation>> {
    Ok(Data(inventory::get_reservation(&c.db, &c.tenant, &id).await?))
}
