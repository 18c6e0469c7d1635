//! Price records: created, read, listed, changed and deleted, each with its event and in the same transaction as
//! its product's price book. How a line's price is chosen is `model::pricing::resolve`; carts and checkout call it.

use serde::Deserialize;
use utoipa::IntoParams;

pub use crate::model::pricing::{
    LineQuantities, Price, PriceCandidate, PriceIn, PriceOutcome, PricePatch, PriceSource, PricingContext, TierBasis,
    MAX_PRICES_PER_PRODUCT,
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
