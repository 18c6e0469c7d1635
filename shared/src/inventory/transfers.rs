//! Transfers: stock of one item moved between two warehouses. At once (both levels and both ledger lines in one
//! transaction), or in two steps — `ship` takes it out of the source, `receive` puts it into the destination — for
//! stock that spends time on the road. The source never goes below what is reserved there.

use crate::body::request_body;
use macro_rules_attribute::apply;

use super::{adjust, crossed_low, item, AdjustIn, ADJUST_ATTEMPTS, MAX_NOTE};
use crate::db::{Committed, Db};
use crate::error::{ApiError, FieldError};
use crate::events::{Event, EventType};
use crate::http::pagination::{ListOut, PageParams};
use crate::ids::{TransferId, WarehouseId};
use crate::model::inventory::{AdjustReason, Adjustment, Level, StockItem, Transfer, TransferStatus, Warehouse};
use crate::retry::Backoff;
use crate::tenant::Tenant;
use crate::time;

/// The most units one transfer moves.
const MAX_TRANSFER: i64 = 1_000_000_000;

#[apply(request_body!)]
pub struct TransferIn {
    /// `prod_…` or `var_…` (also accepted as `item`).
    #[serde(alias = "item")]
    #[schema(max_length = 40)]
    pub item_id: String,
    /// The warehouse the stock leaves (also accepted as `from`).
    #[serde(alias = "from")]
    pub from_warehouse_id: WarehouseId,
    /// The warehouse the stock reaches (also accepted as `to`).
    #[serde(alias = "to")]
    pub to_warehouse_id: WarehouseId,
    #[schema(minimum = 1, maximum = 1000000000)]
    pub quantity: i64,
    #[schema(max_length = 500)]
    pub note: Option<String>,
    /// `true`: the transfer starts `pending` and moves with `ship` (out of the source) and `receive` (into the
    /// destination). Default: it moves at once and is created `received`.
    #[serde(default)]
    pub in_transit: bool,
}

/// What each step of a transfer does: the status it leads to, the event it emits, and the level it changes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Created `pending`: nothing moves.
    Create,
    /// Created and moved at once.
    CreateReceived,
    Ship,
    Receive,
}

impl Step {
    fn target(self) -> TransferStatus {
        match self {
            Step::Create => TransferStatus::Pending,
            Step::Ship => TransferStatus::InTransit,
            Step::CreateReceived | Step::Receive => TransferStatus::Received,
        }
    }

    fn event(self) -> EventType {
        match self {
            Step::Create => EventType::InventoryTransferCreated,
            Step::Ship => EventType::InventoryTransferShipped,
            Step::CreateReceived | Step::Receive => EventType::InventoryTransferred,
        }
    }

    fn takes_out(self) -> bool {
        matches!(self, Step::CreateReceived | Step::Ship)
    }

    fn puts_in(self) -> bool {
        matches!(self, Step::CreateReceived | Step::Receive)
    }

    /// The status a transfer must be in for this step (none: the transfer is new).
    fn from(self) -> Option<TransferStatus> {
        match self {
            Step::Create | Step::CreateReceived => None,
            Step::Ship => Some(TransferStatus::Pending),
            Step::Receive => Some(TransferStatus::InTransit),
        }
    }
}

fn check_transition(transfer: &Transfer, step: Step) -> Result<(), ApiError> {
    if step.from() == Some(transfer.status) {
        return Ok(());
    }
    let (verb, needs) = match step {
        Step::Ship => ("shipped", "pending"),
        _ => ("received", "in_transit"),
    };
    Err(ApiError::Conflict {
        code: "invalid_transition",
        message: format!(
            "a transfer that is {} cannot be {verb}; only a {needs} one can",
            serde_json::to_value(transfer.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ),
        details: vec![serde_json::json!({"id": transfer.id, "status": transfer.status})],
    })
}

/// The new transfer a request describes, or every problem with it.
fn new_transfer(input: &TransferIn, now: &str) -> Result<Transfer, ApiError> {
    let mut errors = Vec::new();
    if StockItem::parse(&input.item_id).is_none() {
        errors.push(FieldError::new("item_id", "must be a product or variant id"));
    }
    if input.from_warehouse_id == input.to_warehouse_id {
        errors.push(FieldError::new("to_warehouse_id", "must differ from from_warehouse_id"));
    }
    if !(1..=MAX_TRANSFER).contains(&input.quantity) {
        errors.push(FieldError::new("quantity", "must be 1 to 1,000,000,000"));
    }
    if input.note.as_deref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        errors.push(FieldError::new("note", "must be at most 500 characters"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(Transfer {
        id: TransferId::new(),
        item_id: input.item_id.clone(),
        from_warehouse_id: input.from_warehouse_id,
        to_warehouse_id: input.to_warehouse_id,
        quantity: input.quantity,
        status: TransferStatus::Pending,
        note: input.note.clone(),
        created_at: now.to_owned(),
        shipped_at: None,
        received_at: None,
        updated_at: now.to_owned(),
        version: 0,
    })
}

/// One level's change by a transfer: the level before and after, and its ledger line.
async fn move_stock(
    db: &Db,
    tenant: &Tenant,
    transfer: &Transfer,
    stock_item: StockItem,
    warehouse: WarehouseId,
    delta: i64,
    now: &str,
) -> Result<(StockItem, Level, Level, Adjustment), ApiError> {
    let before = db
        .scoped(tenant)
        .level(stock_item, warehouse)
        .await?
        .unwrap_or_else(|| Level {
            item_id: stock_item.to_string(),
            warehouse_id: warehouse.to_string(),
            ..Default::default()
        });
    let change = AdjustIn {
        delta,
        reason: AdjustReason::Transfer,
        note: transfer.note.clone(),
        warehouse_id: Some(warehouse),
        reorder_point: None,
    };
    let after = adjust(&before, &change, now)?;
    let actor = tenant.key_id.to_string();
    let entry = Adjustment {
        transfer_id: Some(transfer.id),
        ..Adjustment::of_level(&after, delta, AdjustReason::Transfer, transfer.note.clone(), actor, now)
    };
    Ok((stock_item, before, after, entry))
}

/// Takes a transfer through `step`: the transfer (conditional on the version read), the levels it changes
/// (likewise), their ledger lines and the events, in one transaction; re-read and retried when another change came
/// first. `existing`: the transfer to move on (none for a new one, `fresh`).
async fn take_step(
    db: &Db,
    tenant: &Tenant,
    existing: Option<TransferId>,
    fresh: Option<Transfer>,
    step: Step,
) -> Result<Transfer, ApiError> {
    let place = (tenant.store_id, tenant.mode);
    let mut backoff = Backoff::default();
    for _attempt in 0..ADJUST_ATTEMPTS {
        let before = match existing {
            Some(id) => {
                let found: Transfer = db
                    .scoped(tenant)
                    .record(id, true)
                    .await?
                    .ok_or_else(|| ApiError::not_found("transfer"))?;
                check_transition(&found, step)?;
                Some(found)
            }
            None => None,
        };
        let Some(mut after) = before.clone().or_else(|| fresh.clone()) else {
            return Err(ApiError::internal("a transfer step without a transfer"));
        };
        let stock_item = item(&after.item_id)?;
        let now = time::now_rfc3339();
        let mut moves = Vec::new();
        if step.takes_out() {
            let warehouse = after.from_warehouse_id;
            moves.push(move_stock(db, tenant, &after, stock_item, warehouse, -after.quantity, &now).await?);
            after.shipped_at = Some(now.clone());
        }
        if step.puts_in() {
            let warehouse = after.to_warehouse_id;
            moves.push(move_stock(db, tenant, &after, stock_item, warehouse, after.quantity, &now).await?);
            after.received_at = Some(now.clone());
        }
        after.status = step.target();
        after.updated_at = now.clone();
        after.version = before.as_ref().map_or(1, |b| b.version + 1);
        let mut events = Vec::new();
        for (_, level_before, level_after, _) in &moves {
            events.push(Event::about(&place, EventType::InventoryAdjusted, level_after)?);
            if crossed_low(level_before, level_after) {
                events.push(Event::about(&place, EventType::InventoryLowStock, level_after)?);
            }
        }
        let event = Event::about(&place, step.event(), &after)?;
        if db
            .scoped(tenant)
            .put_transfer(
                tenant.key_id.to_string(),
                before.as_ref(),
                &after,
                &moves,
                event,
                events,
            )
            .await
            .committed()?
        {
            return Ok(after);
        }
        backoff.pause().await;
    }
    Err(ApiError::conflict("the stock levels are changing fast; retry"))
}

/// `POST /v1/inventory/transfers`: moves stock at once, or creates a `pending` transfer to ship and receive.
pub async fn create_transfer(db: &Db, tenant: &Tenant, input: TransferIn) -> Result<Transfer, ApiError> {
    let transfer = new_transfer(&input, &time::now_rfc3339())?;
    super::check_exists(db, tenant, item(&transfer.item_id)?).await?;
    let scope = db.scoped(tenant);
    for (field, id) in [
        ("from_warehouse_id", transfer.from_warehouse_id),
        ("to_warehouse_id", transfer.to_warehouse_id),
    ] {
        if scope.record::<Warehouse>(id, false).await?.is_none() {
            return Err(ApiError::invalid(field, "no such warehouse"));
        }
    }
    let step = if input.in_transit {
        Step::Create
    } else {
        Step::CreateReceived
    };
    take_step(db, tenant, None, Some(transfer), step).await
}

pub async fn ship_transfer(db: &Db, tenant: &Tenant, id: &str) -> Result<Transfer, ApiError> {
    let id = crate::db::id_of::<Transfer>(id)?;
    take_step(db, tenant, Some(id), None, Step::Ship).await
}

pub async fn receive_transfer(db: &Db, tenant: &Tenant, id: &str) -> Result<Transfer, ApiError> {
    let id = crate::db::id_of::<Transfer>(id)?;
    take_step(db, tenant, Some(id), None, Step::Receive).await
}

pub async fn get_transfer(db: &Db, tenant: &Tenant, id: &str) -> Result<Transfer, ApiError> {
    db.scoped(tenant).found(id).await
}

/// The store's transfers, newest first.
pub async fn list_transfers(db: &Db, tenant: &Tenant, params: &PageParams) -> Result<ListOut<Transfer>, ApiError> {
    let page = params.parse(&tenant.key_prefix())?;
    Ok(db.scoped(tenant).page::<Transfer>(&page).await?.into_list(|t| t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(quantity: i64) -> TransferIn {
        serde_json::from_value(serde_json::json!({
            "item": "prod_01JD3M5W7Q6V8X9Y0Z1A2B3C4D",
            "from": "whs_01JD3M5W7Q6V8X9Y0Z1A2B3C4D",
            "to": "whs_01JD3M5W7Q6V8X9Y0Z1A2B3C4E",
            "quantity": quantity,
        }))
        .unwrap()
    }

    #[test]
    fn a_transfer_names_an_item_two_warehouses_and_a_quantity() {
        assert!(new_transfer(&input(5), "t").is_ok());
        for bad in [0, -1, MAX_TRANSFER + 1] {
            assert!(matches!(new_transfer(&input(bad), "t"), Err(ApiError::Validation(_))));
        }
        let mut same = input(5);
        same.to_warehouse_id = same.from_warehouse_id;
        match new_transfer(&same, "t") {
            Err(ApiError::Validation(errors)) => assert_eq!(errors[0].field, "to_warehouse_id"),
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn steps_go_pending_in_transit_received_only() {
        let mut transfer = new_transfer(&input(5), "t").unwrap();
        assert!(check_transition(&transfer, Step::Ship).is_ok());
        assert!(check_transition(&transfer, Step::Receive).is_err());
        transfer.status = TransferStatus::InTransit;
        assert!(check_transition(&transfer, Step::Receive).is_ok());
        assert!(check_transition(&transfer, Step::Ship).is_err());
        transfer.status = TransferStatus::Received;
        assert!(check_transition(&transfer, Step::Receive).is_err());
    }
}
