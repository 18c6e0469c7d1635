//! Price records: created, read, listed, changed and deleted, each with its event and in the same transaction as
//! its product's price book. How a line's price is chosen is `model::pricing::resolve`; carts and checkout call it.

use serde::Deserialize;
use utoipa::IntoParams;

pub use crate::model::modifiers::{
    ModifierKind, PriceModifier, PriceModifierIn, PriceModifierPatch, PriceModifiers, MAX_MODIFIERS,
};
pub use crate::model::pricing::{
    LineQuantities, Price, PriceCandidate, PriceIn, PriceOutcome, PricePatch, PriceSource, PricingContext, TierBasis,
    MAX_PRICES_PER_PRODUCT,
};
pub use crate::model::shipping::{
    Band, ShippingLine, ShippingOption, ShippingQuote, ShippingRate, ShippingZone, ShippingZoneIn, ShippingZonePatch,
    ShippingZones, MAX_ZONES,
};
pub use crate::model::tax::{TaxRate, TaxSettings, TaxSettingsIn};

use crate::model::promotions::{Campaign, Campaigns, Promotion, Promotions, MAX_CAMPAIGNS, MAX_PROMOTIONS};

use crate::db::{id_of, Committed, Db, PriceBook, PriceConflict, PriceFilter, SettingsItem, WriteError};
use crate::error::ApiError;
use crate::events::{Event, EventType};
use crate::http::pagination::{ListOut, PageParams};
use crate::ids::{CustomerGroupId, PriceId, ProductId, VariantId};
use crate::model::{Resource, Versioned};
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
    db.scoped(tenant).settings::<TaxSettings>().await
}

/// Replaces the tax settings (at the version `If-Match` names, if any).
pub async fn put_tax_settings(
    db: &Db,
    tenant: &Tenant,
    input: TaxSettingsIn,
    if_match: Option<u64>,
) -> Result<TaxSettings, ApiError> {
    let before = db.scoped(tenant).settings::<TaxSettings>().await?;
    ApiError::unless_version("tax settings", before.version, if_match)?;
    let after = input.into_settings(&before, &time::now_rfc3339())?;
    let event = Event::about(tenant, EventType::TaxSettingsUpdated, &after)?;
    if !db
        .put_settings(tenant, before.version, &after, event)
        .await
        .committed()?
    {
        return Err(ApiError::conflict(
            "the tax settings were changed by another request; read them again",
        ));
    }
    Ok(after)
}

/// Records a store keeps in one settings item (its shipping zones, its price modifiers), read whole with every cart
/// and changed a record at a time, each change a new version of the item.
pub trait RecordsItem: SettingsItem + Clone {
    type Record: Clone + PartialEq + Resource;
    /// What a client calls a record, in a `404`'s message.
    const NOUN: &'static str;
    const MAX: usize;
    const LIMIT_CODE: &'static str;
    const CREATED: EventType;
    const UPDATED: EventType;
    const DELETED: EventType;
    fn records(&mut self) -> &mut Vec<Self::Record>;
    fn version(&self) -> u64;
    fn set_version(&mut self, version: u64);
    /// Why `record` cannot sit beside the others (`records` holds it already), if it cannot.
    fn refuse(_records: &[Self::Record], _record: &Self::Record) -> Option<ApiError> {
        None
    }
}

impl RecordsItem for ShippingZones {
    type Record = ShippingZone;
    const NOUN: &'static str = "shipping zone";
    const MAX: usize = MAX_ZONES;
    const LIMIT_CODE: &'static str = "shipping_zone_limit_reached";
    const CREATED: EventType = EventType::ShippingZoneCreated;
    const UPDATED: EventType = EventType::ShippingZoneUpdated;
    const DELETED: EventType = EventType::ShippingZoneDeleted;
    fn records(&mut self) -> &mut Vec<ShippingZone> {
        &mut self.zones
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn set_version(&mut self, version: u64) {
        self.version = version;
    }
}

impl RecordsItem for PriceModifiers {
    type Record = PriceModifier;
    const NOUN: &'static str = "price modifier";
    const MAX: usize = MAX_MODIFIERS;
    const LIMIT_CODE: &'static str = "price_modifier_limit_reached";
    const CREATED: EventType = EventType::PriceModifierCreated;
    const UPDATED: EventType = EventType::PriceModifierUpdated;
    const DELETED: EventType = EventType::PriceModifierDeleted;
    fn records(&mut self) -> &mut Vec<PriceModifier> {
        &mut self.modifiers
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn set_version(&mut self, version: u64) {
        self.version = version;
    }
}

impl RecordsItem for Promotions {
    type Record = Promotion;
    const NOUN: &'static str = "promotion";
    const MAX: usize = MAX_PROMOTIONS;
    const LIMIT_CODE: &'static str = "promotion_limit_reached";
    const CREATED: EventType = EventType::PromotionCreated;
    const UPDATED: EventType = EventType::PromotionUpdated;
    const DELETED: EventType = EventType::PromotionDeleted;
    fn records(&mut self) -> &mut Vec<Promotion> {
        &mut self.promotions
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn set_version(&mut self, version: u64) {
        self.version = version;
    }
    fn refuse(records: &[Promotion], record: &Promotion) -> Option<ApiError> {
        let code = record.code.as_ref()?;
        records
            .iter()
            .any(|other| other.id != record.id && other.code.as_ref() == Some(code))
            .then(|| ApiError::Conflict {
                code: "code_taken",
                message: format!("another promotion of this store has the code {code}"),
                details: vec![],
            })
    }
}

impl RecordsItem for Campaigns {
    type Record = Campaign;
    const NOUN: &'static str = "campaign";
    const MAX: usize = MAX_CAMPAIGNS;
    const LIMIT_CODE: &'static str = "campaign_limit_reached";
    const CREATED: EventType = EventType::CampaignCreated;
    const UPDATED: EventType = EventType::CampaignUpdated;
    const DELETED: EventType = EventType::CampaignDeleted;
    fn records(&mut self) -> &mut Vec<Campaign> {
        &mut self.campaigns
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn set_version(&mut self, version: u64) {
        self.version = version;
    }
}

/// Adds a record (at most `T::MAX` per store: `409 T::LIMIT_CODE`). Emits `T::CREATED`.
pub async fn create_record<T: RecordsItem>(db: &Db, tenant: &Tenant, record: T::Record) -> Result<T::Record, ApiError> {
    change_records::<T>(db, tenant, T::CREATED, |records| {
        if records.len() >= T::MAX {
            return Err(ApiError::Conflict {
                code: T::LIMIT_CODE,
                message: format!("a store has at most {} of these", T::MAX),
                details: vec![],
            });
        }
        if let Some(refused) = T::refuse(records, &record) {
            return Err(refused);
        }
        records.push(record.clone());
        Ok(record.clone())
    })
    .await
}

/// Every record, oldest first.
pub async fn list_records<T: RecordsItem>(db: &Db, tenant: &Tenant) -> Result<Vec<T::Record>, ApiError> {
    Ok(db.scoped(tenant).settings::<T>().await?.records().clone())
}

pub async fn get_record<T: RecordsItem>(db: &Db, tenant: &Tenant, id: &str) -> Result<T::Record, ApiError> {
    list_records::<T>(db, tenant)
        .await?
        .into_iter()
        .find(|r| r.resource_id() == id)
        .ok_or_else(|| ApiError::not_found(T::NOUN))
}

/// Changes a record with `patch` (at the version `If-Match` names, if any). Emits `T::UPDATED`.
pub async fn update_record<T: RecordsItem>(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    if_match: Option<u64>,
    patch: impl Fn(&T::Record, &str) -> Result<T::Record, ApiError>,
) -> Result<T::Record, ApiError> {
    let now = time::now_rfc3339();
    change_records::<T>(db, tenant, T::UPDATED, |records| {
        let record = record_for_change::<T>(records, id, if_match)?;
        let after = patch(record, &now)?;
        *record = after.clone();
        if let Some(refused) = T::refuse(records, &after) {
            return Err(refused);
        }
        Ok(after)
    })
    .await
}

/// Deletes a record (at the version `If-Match` names, if any). Emits `T::DELETED`.
pub async fn delete_record<T: RecordsItem>(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    if_match: Option<u64>,
) -> Result<(), ApiError> {
    change_records::<T>(db, tenant, T::DELETED, |records| {
        let record = record_for_change::<T>(records, id, if_match)?.clone();
        records.retain(|r| r.resource_id() != id);
        Ok(record)
    })
    .await
    .map(|_| ())
}

fn record_for_change<'a, T: RecordsItem>(
    records: &'a mut [T::Record],
    id: &str,
    if_match: Option<u64>,
) -> Result<&'a mut T::Record, ApiError> {
    let record = records
        .iter_mut()
        .find(|r| r.resource_id() == id)
        .ok_or_else(|| ApiError::not_found(T::NOUN))?;
    ApiError::unless_version(T::NOUN, record.version(), if_match)?;
    Ok(record)
}

/// Reads the store's records, changes them with `change` (which answers the record its event is about), and
/// writes them while nothing else changed them.
async fn change_records<T: RecordsItem>(
    db: &Db,
    tenant: &Tenant,
    event_type: EventType,
    change: impl FnOnce(&mut Vec<T::Record>) -> Result<T::Record, ApiError>,
) -> Result<T::Record, ApiError> {
    let before: T = db.scoped(tenant).settings::<T>().await?;
    let mut after = before.clone();
    let record = change(after.records())?;
    after.set_version(before.version() + 1);
    let event = Event::about(tenant, event_type, &record)?;
    if !db
        .put_settings(tenant, before.version(), &after, event)
        .await
        .committed()?
    {
        return Err(ApiError::conflict(format!(
            "the store's {}s were changed by another request; retry",
            T::NOUN
        )));
    }
    Ok(record)
}

/// Adds a shipping zone (at most 20). Emits `shipping_zone.created`.
pub async fn create_zone(db: &Db, tenant: &Tenant, input: ShippingZoneIn) -> Result<ShippingZone, ApiError> {
    create_record::<ShippingZones>(db, tenant, input.into_zone(&time::now_rfc3339())?).await
}

pub async fn update_zone(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    patch: ShippingZonePatch,
    if_match: Option<u64>,
) -> Result<ShippingZone, ApiError> {
    update_record::<ShippingZones>(db, tenant, id, if_match, |zone, now| patch.apply(zone, now)).await
}

/// Adds a price modifier (at most 50). Emits `price_modifier.created`.
pub async fn create_modifier(db: &Db, tenant: &Tenant, input: PriceModifierIn) -> Result<PriceModifier, ApiError> {
    create_record::<PriceModifiers>(db, tenant, input.into_modifier(&time::now_rfc3339())?).await
}

pub async fn update_modifier(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    patch: PriceModifierPatch,
    if_match: Option<u64>,
) -> Result<PriceModifier, ApiError> {
    update_record::<PriceModifiers>(db, tenant, id, if_match, |modifier, now| patch.apply(modifier, now)).await
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
    ApiError::unless_version("price", price.version, if_match)?;
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
