//! Price records: created, read, listed, changed and deleted, each with its event and in the same transaction as
//! its product's price book. How a line's price is chosen is `model::pricing::resolve`; carts and checkout call it.

use serde::Deserialize;
use utoipa::IntoParams;

pub use crate::model::pricing::{
    LineQuantities, Price, PriceCandidate, PriceIn, PriceOutcome, PricePatch, PriceSource, PricingContext, TierBasis,
    MAX_PRICES_PER_PRODUCT,
};
pub use crate::model::shipping::{
    Band, ShippingLine, ShippingOption, ShippingQuote, ShippingRate, ShippingZone, ShippingZoneIn, ShippingZonePatch,
    MAX_ZONES,
};
pub use crate::model::tax::{TaxRate, TaxSettings, TaxSettingsIn};

use crate::db::{id_of, Committed, Db, PriceBook, PriceConflict, PriceFilter, WriteError};
use crate::error::ApiError;
use crate::events::{Event, EventType};
use crate::http::pagination::{ListOut, PageParams};
use crate::ids::{CustomerGroupId, PriceId, ProductId, VariantId};
use crate::money::CurrencyCode;
use crate::tenant::Tenant;
use crate::time;

/// Attempts at a write that lost a race with another write to the same product's prices.
const ATTEMPTS: usize = 5;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PriceListParams {
    pub product_id: Option<ProductId>,
    pub variant_id: Option<VariantId>,
    #[param(value_type = Option<String>, pattern = "^[A-Z]{3}$")]
    pub currency: Option<CurrencyCode>,
    pub customer_group_id: Option<CustomerGroupId>,
}

pub async fn create_price(db: &Db, tenant: &Tenant, input: PriceIn) -> Result<Price, ApiError> {
    let price = input.into_price(PriceId::new(), &time::now_rfc3339())?;
    for _attempt in 0..ATTEMPTS {
        let book = db.scoped(tenant).price_book(price.product_id).await?;
        if book.prices.len() >= MAX_PRICES_PER_PRODUCT {
            return Err(ApiError::Conflict {
                code: "price_limit_reached",
                message: format!(
                    "a product (with its variants) holds at most {MAX_PRICES_PER_PRODUCT} price records; delete one first"
                ),
                details: vec![],
            });
        }
        let mut prices = book.prices.clone();
        prices.push(price.clone());
        let event = Event::about(tenant, EventType::PriceCreated, &price)?;
        if committed(db.put_price(tenant, None, Some(&price), (&book, prices), event).await)? {
            return Ok(price);
        }
    }
    Err(busy())
}

pub async fn get_price(db: &Db, tenant: &Tenant, id: &str) -> Result<Price, ApiError> {
    db.scoped(tenant).found(id).await
}

/// A page of the store's prices, oldest first.
pub async fn list_prices(
    db: &Db,
    tenant: &Tenant,
    page: &PageParams,
    params: PriceListParams,
) -> Result<ListOut<Price>, ApiError> {
    let page = page.parse(&tenant.key_prefix())?;
    let filter = PriceFilter {
        product_id: params.product_id,
        variant_id: params.variant_id,
        currency: params.currency,
        customer_group_id: params.customer_group_id,
    };
    Ok(db.scoped(tenant).list_prices(&filter, &page).await?.into_list(|p| p))
}

pub async fn update_price(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    patch: PricePatch,
    if_match: Option<u64>,
) -> Result<Price, ApiError> {
    for _attempt in 0..ATTEMPTS {
        let (before, book) = price_for_change(db, tenant, id, if_match).await?;
        let after = before.patched(&patch, &time::now_rfc3339())?;
        if after == before {
            return Ok(before);
        }
        let prices = book
            .prices
            .iter()
            .map(|p| if p.id == after.id { after.clone() } else { p.clone() })
            .collect();
        let event = Event::about(tenant, EventType::PriceUpdated, &after)?.with_changes(&after.changed_fields(&before));
        if committed(
            db.put_price(tenant, Some(&before), Some(&after), (&book, prices), event)
                .await,
        )? {
            return Ok(after);
        }
        if if_match.is_some() {
            return Err(ApiError::PreconditionFailed(
                "the price changed since you read it; read it again".into(),
            ));
        }
    }
    Err(busy())
}

pub async fn delete_price(db: &Db, tenant: &Tenant, id: &str, if_match: Option<u64>) -> Result<(), ApiError> {
    for _attempt in 0..ATTEMPTS {
        let (price, book) = price_for_change(db, tenant, id, if_match).await?;
        let prices = book.prices.iter().filter(|p| p.id != price.id).cloned().collect();
        let event = Event::about(tenant, EventType::PriceDeleted, &price)?;
        if committed(db.put_price(tenant, Some(&price), None, (&book, prices), event).await)? {
            return Ok(());
        }
        if if_match.is_some() {
            return Err(ApiError::PreconditionFailed(
                "the price changed since you read it; read it again".into(),
            ));
        }
    }
    Err(busy())
}

pub async fn get_tax_settings(db: &Db, tenant: &Tenant) -> Result<TaxSettings, ApiError> {
    db.scoped(tenant).tax_settings().await
}

/// Replaces the tax settings (at the version `If-Match` names, if any).
pub async fn put_tax_settings(
    db: &Db,
    tenant: &Tenant,
    input: TaxSettingsIn,
    if_match: Option<u64>,
) -> Result<TaxSettings, ApiError> {
    let before = db.scoped(tenant).tax_settings().await?;
    if let Some(expected) = if_match.filter(|v| *v != before.version) {
        return Err(ApiError::PreconditionFailed(format!(
            "the tax settings are at version {}, not {expected}; read them again",
            before.version
        )));
    }
    let after = input.into_settings(&before, &time::now_rfc3339())?;
    let event = Event::about(tenant, EventType::TaxSettingsUpdated, &after)?;
    if !db
        .put_tax_settings(tenant, before.version, &after, event)
        .await
        .committed()?
    {
        return Err(ApiError::conflict(
            "the tax settings were changed by another request; read them again",
        ));
    }
    Ok(after)
}

/// Adds a shipping zone (at most 20 per store). Emits `shipping_zone.created`.
pub async fn create_zone(db: &Db, tenant: &Tenant, input: ShippingZoneIn) -> Result<ShippingZone, ApiError> {
    let zone = input.into_zone(&time::now_rfc3339())?;
    change_zones(db, tenant, EventType::ShippingZoneCreated, |zones| {
        if zones.len() >= MAX_ZONES {
            return Err(ApiError::Conflict {
                code: "shipping_zone_limit_reached",
                message: format!("a store has at most {MAX_ZONES} shipping zones"),
                details: vec![],
            });
        }
        zones.push(zone.clone());
        Ok(zone.clone())
    })
    .await
}

pub async fn list_zones(db: &Db, tenant: &Tenant) -> Result<Vec<ShippingZone>, ApiError> {
    Ok(db.scoped(tenant).shipping_zones().await?.zones)
}

pub async fn get_zone(db: &Db, tenant: &Tenant, id: &str) -> Result<ShippingZone, ApiError> {
    let zones = list_zones(db, tenant).await?;
    zones
        .into_iter()
        .find(|z| z.id.to_string() == id)
        .ok_or_else(|| ApiError::not_found("shipping zone"))
}

/// Changes a zone (at the version `If-Match` names, if any). Emits `shipping_zone.updated`.
pub async fn update_zone(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    patch: ShippingZonePatch,
    if_match: Option<u64>,
) -> Result<ShippingZone, ApiError> {
    let now = time::now_rfc3339();
    let mut patch = Some(patch);
    change_zones(db, tenant, EventType::ShippingZoneUpdated, |zones| {
        let zone = zone_for_change(zones, id, if_match)?;
        let patch = patch
            .take()
            .ok_or_else(|| ApiError::conflict("the shipping zones are changing fast; retry"))?;
        *zone = patch.apply(zone, &now)?;
        Ok(zone.clone())
    })
    .await
}

/// Deletes a zone (at the version `If-Match` names, if any). Emits `shipping_zone.deleted`.
pub async fn delete_zone(db: &Db, tenant: &Tenant, id: &str, if_match: Option<u64>) -> Result<(), ApiError> {
    change_zones(db, tenant, EventType::ShippingZoneDeleted, |zones| {
        let zone = zone_for_change(zones, id, if_match)?.clone();
        zones.retain(|z| z.id != zone.id);
        Ok(zone)
    })
    .await
    .map(|_| ())
}

fn zone_for_change<'a>(
    zones: &'a mut [ShippingZone],
    id: &str,
    if_match: Option<u64>,
) -> Result<&'a mut ShippingZone, ApiError> {
    let zone = zones
        .iter_mut()
        .find(|z| z.id.to_string() == id)
        .ok_or_else(|| ApiError::not_found("shipping zone"))?;
    if let Some(expected) = if_match.filter(|v| *v != zone.version) {
        return Err(ApiError::PreconditionFailed(format!(
            "the shipping zone is at version {}, not {expected}; read it again",
            zone.version
        )));
    }
    Ok(zone)
}

/// Reads the store's zones, changes them with `change` (which answers the zone its event is about), and writes them
/// while nothing else changed them.
async fn change_zones(
    db: &Db,
    tenant: &Tenant,
    event_type: EventType,
    mut change: impl FnMut(&mut Vec<ShippingZone>) -> Result<ShippingZone, ApiError>,
) -> Result<ShippingZone, ApiError> {
    let before = db.scoped(tenant).shipping_zones().await?;
    let mut after = before.clone();
    let zone = change(&mut after.zones)?;
    after.version = before.version + 1;
    let event = Event::about(tenant, event_type, &zone)?;
    if !db
        .put_shipping_zones(tenant, before.version, &after, event)
        .await
        .committed()?
    {
        return Err(ApiError::conflict(
            "the shipping zones were changed by another request; retry",
        ));
    }
    Ok(zone)
}

/// A price read for a change (at the version `If-Match` names, if any), with its product's book.
async fn price_for_change(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    if_match: Option<u64>,
) -> Result<(Price, PriceBook), ApiError> {
    let scope = db.scoped(tenant);
    let price: Price = scope
        .record(id_of::<Price>(id)?, true)
        .await?
        .ok_or_else(|| ApiError::not_found("price"))?;
    if let Some(expected) = if_match.filter(|v| *v != price.version) {
        return Err(ApiError::PreconditionFailed(format!(
            "the price is at version {}, not {expected}; read it again",
            price.version
        )));
    }
    let book = scope.price_book(price.product_id).await?;
    Ok((price, book))
}

/// `Ok(true)` committed, `Ok(false)` lost a race (read again), or what the refusal means to the client.
fn committed(result: Result<(), WriteError<PriceConflict>>) -> Result<bool, ApiError> {
    match result {
        Ok(()) => Ok(true),
        Err(WriteError::Refused(PriceConflict::Stale)) => Ok(false),
        Err(WriteError::Refused(PriceConflict::MissingProduct)) => {
            Err(ApiError::invalid("product_id", "no such product"))
        }
        Err(WriteError::Refused(PriceConflict::MissingVariant)) => {
            Err(ApiError::invalid("variant_id", "no such variant of this product"))
        }
        Err(WriteError::Refused(PriceConflict::MissingGroup)) => {
            Err(ApiError::invalid("customer_group_id", "no such customer group"))
        }
        Err(WriteError::Other(error)) => Err(error),
    }
}

fn busy() -> ApiError {
    ApiError::conflict("the product's prices are changing fast; retry")
}
