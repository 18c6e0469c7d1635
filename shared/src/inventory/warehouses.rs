//! Warehouses: the default one made on first use, the cap per store, names.

use super::*;
use crate::body::{patch_body, request_body};
use macro_rules_attribute::apply;

#[apply(request_body!)]
pub struct WarehouseIn {
    #[schema(max_length = 100)]
    pub name: String,
    #[schema(max_length = 32)]
    pub code: Option<String>,
}

#[apply(patch_body!)]
pub struct WarehousePatch {
    #[schema(max_length = 100)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(max_length = 32)]
    pub code: Option<Option<String>>,
}

pub(super) fn check_warehouse(warehouse: &Warehouse) -> Result<(), ApiError> {
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

/// The store's default warehouse, made on first use. One `GetItem` of its marker, not a read of every warehouse.
pub async fn default_warehouse(db: &Db, tenant: &Tenant) -> Result<WarehouseId, ApiError> {
    if let Some(found) = db.scoped(tenant).default_warehouse_id().await? {
        return Ok(found);
    }
    let mut warehouse = Warehouse::new("Default warehouse", None, true, &time::now_rfc3339());
    warehouse.id = WarehouseId::default_of(tenant.store_id);
    // The marker makes "one default per store" a condition: of two first uses at once, one creates it.
    if insert_warehouse(db, tenant, &warehouse).await? {
        return Ok(warehouse.id);
    }
    db.scoped(tenant)
        .default_warehouse_id()
        .await?
        .ok_or_else(|| ApiError::internal("the default warehouse vanished"))
}

/// Whether it was made: a second default, or one past the cap, is not.
async fn insert_warehouse(db: &Db, tenant: &Tenant, warehouse: &Warehouse) -> Result<bool, ApiError> {
    let created = Event::about(tenant, EventType::WarehouseCreated, warehouse)?;
    db.create_warehouse(tenant, warehouse, created).await.committed()
}

pub async fn create_warehouse(db: &Db, tenant: &Tenant, input: WarehouseIn) -> Result<Warehouse, ApiError> {
    // The first warehouse of a store is its default one; made first, so this one is not.
    default_warehouse(db, tenant).await?;
    let warehouse = Warehouse::new(&input.name, input.code, false, &time::now_rfc3339());
    check_warehouse(&warehouse)?;
    if !insert_warehouse(db, tenant, &warehouse).await? {
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
    let before: Warehouse = db.scoped(tenant).found(id).await?;
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
