//! Price records: each in the store's price partition (read by id, listed with filters), and all of a product's in
//! its price book beside the product (read with the product to price a cart). Both are written in one transaction,
//! with the store's price-guard shards, so a checkout that read a price fails if any price changed since.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::keys;
use super::{item, n, s, Db, PageQuery, Scoped, Stale, WriteError, WriteTx};
use crate::error::ApiError;
use crate::events::Event;
use crate::http::pagination::{Page, PageOf};
use crate::ids::{CartId, CustomerGroupId, ProductId, StoreId, VariantId};
use crate::model::modifiers::PriceModifiers;
use crate::model::pricing::Price;
use crate::model::shipping::ShippingZones;
use crate::model::tax::TaxSettings;
use crate::money::CurrencyCode;
use crate::tenant::{Mode, Tenant};

/// Shards of the price guard: a checkout checks one (picked by its cart), so checkouts do not all read one item.
pub const PRICE_GUARD_SHARDS: u8 = 4;

/// Every price record of a product and its variants, as stored beside the product.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PriceBook {
    #[serde(default)]
    pub prices: Vec<Price>,
    /// 0 for a product that never had one (no item).
    #[serde(default)]
    pub version: u64,
}

/// Why a price write did not commit.
#[derive(Debug, PartialEq, Eq)]
pub enum PriceConflict {
    MissingProduct,
    MissingVariant,
    MissingGroup,
    /// The record or its product's book changed since they were read.
    Stale,
}

/// What a price list can be narrowed by.
#[derive(Debug, Default)]
pub struct PriceFilter {
    pub product_id: Option<ProductId>,
    pub variant_id: Option<VariantId>,
    pub currency: Option<CurrencyCode>,
    pub customer_group_id: Option<CustomerGroupId>,
}

/// A store's item of settings, one per mode, read with every cart priced: the tax settings, the shipping zones,
/// the price modifiers. Each carries its own `version`.
pub trait SettingsItem: Serialize + serde::de::DeserializeOwned + Default {
    fn key(store: StoreId, mode: Mode) -> keys::Key;
}

impl SettingsItem for TaxSettings {
    fn key(store: StoreId, mode: Mode) -> keys::Key {
        keys::tax_settings(store, mode)
    }
}

impl SettingsItem for ShippingZones {
    fn key(store: StoreId, mode: Mode) -> keys::Key {
        keys::shipping_zones(store, mode)
    }
}

impl SettingsItem for crate::model::promotions::Campaigns {
    fn key(store: StoreId, mode: Mode) -> keys::Key {
        keys::campaigns(store, mode)
    }
}

impl SettingsItem for crate::model::promotions::Promotions {
    fn key(store: StoreId, mode: Mode) -> keys::Key {
        keys::promotions(store, mode)
    }
}

impl SettingsItem for PriceModifiers {
    fn key(store: StoreId, mode: Mode) -> keys::Key {
        keys::price_modifiers(store, mode)
    }
}

/// The price-guard shard a cart's checkout checks.
pub fn guard_shard(cart: CartId) -> u8 {
    let last = cart.to_string().bytes().last().unwrap_or_default();
    last % PRICE_GUARD_SHARDS
}

impl Db {
    /// Writes a price change: the record (`before` → `after`; `None` for a creation or a deletion), its product's
    /// book as it becomes (conditioned on the version read; deleted when empty), every guard shard moved on, and the
    /// product, variant and customer group the record names checked to exist.
    pub async fn put_price(
        &self,
        tenant: &Tenant,
        before: Option<&Price>,
        after: Option<&Price>,
        book: (&PriceBook, Vec<Price>),
        event: Event,
    ) -> Result<(), WriteError<PriceConflict>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let (read_book, prices) = book;
        let Some(record) = after.or(before) else {
            return Err(WriteError::Other(ApiError::internal("a price write without a price")));
        };
        let product = record.product_id;
        let mut tx = self.write(event, tenant.key_id.to_string());
        tx = match (before, after) {
            (_, Some(after)) => {
                let record = item(keys::price(store, mode, after.id), after).map_err(WriteError::Other)?;
                tx.put_versioned(record, before.map(|b| b.version))
            }
            (Some(before), None) => tx.delete_if(
                keys::price(store, mode, before.id),
                "version = :version",
                HashMap::from([(":version".to_owned(), n(before.version))]),
            ),
            (None, None) => tx,
        };
        let book_key = keys::price_book(store, mode, product);
        let condition = match read_book.version {
            0 => ("attribute_not_exists(PK)", HashMap::new()),
            version => ("version = :book", HashMap::from([(":book".to_owned(), n(version))])),
        };
        tx = if prices.is_empty() {
            tx.delete_if(book_key, condition.0, condition.1)
        } else {
            let written = PriceBook {
                prices,
                version: read_book.version + 1,
            };
            tx.put_if(
                item(book_key, &written).map_err(WriteError::Other)?,
                condition.0,
                condition.1,
            )
        };
        if let Some(after) = after {
            tx = names_exist(tx, tenant, after);
        }
        move_guard(tx, tenant).commit(PriceConflict::Stale).await
    }

    /// Replaces a store's settings item read at `read_version` (0: never saved), moving the price guard: a
    /// checkout that read the old settings fails rather than charge by them.
    pub async fn put_settings<T: SettingsItem>(
        &self,
        tenant: &Tenant,
        read_version: u64,
        settings: &T,
        event: Event,
    ) -> Result<(), WriteError<Stale>> {
        let record = item(T::key(tenant.store_id, tenant.mode), settings)?;
        let tx = self
            .write(event, tenant.key_id.to_string())
            .put_versioned(record, (read_version > 0).then_some(read_version));
        move_guard(tx, tenant).commit(Stale).await
    }

    /// Deletes the records and the book of a deleted product (after its deletion committed: they can no longer
    /// apply, and a failure here leaves records that name nothing, which a retry of this removes).
    pub async fn delete_prices_of(&self, tenant: &Tenant, product: ProductId) -> Result<(), ApiError> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let book: Option<PriceBook> = self
            .scoped(tenant)
            .get(keys::price_book(store, mode, product), true)
            .await?;
        let Some(book) = book else { return Ok(()) };
        let mut doomed: Vec<keys::Key> = book.prices.iter().map(|p| keys::price(store, mode, p.id)).collect();
        doomed.push(keys::price_book(store, mode, product));
        self.delete_all(doomed).await
    }
}

/// Every guard shard moved on: checkouts that read prices before this write fail.
pub(super) fn move_guard<'a, R>(mut tx: WriteTx<'a, R>, tenant: &Tenant) -> WriteTx<'a, R> {
    for shard in 0..PRICE_GUARD_SHARDS {
        tx = tx.update(
            keys::price_guard(tenant.store_id, tenant.mode, shard),
            "ADD version :one",
            None,
            HashMap::new(),
            HashMap::from([(":one".to_owned(), n(1))]),
        );
    }
    tx
}

/// The product, variant and group a record names must exist when it is written.
fn names_exist<'a>(mut tx: WriteTx<'a, PriceConflict>, tenant: &Tenant, price: &Price) -> WriteTx<'a, PriceConflict> {
    let (store, mode) = (tenant.store_id, tenant.mode);
    tx = tx
        .check_exists(keys::product(store, mode, price.product_id))
        .because(PriceConflict::MissingProduct);
    if let Some(variant) = price.variant_id {
        tx = tx
            .check_exists(keys::variant(store, mode, price.product_id, variant))
            .because(PriceConflict::MissingVariant);
    }
    if let Some(group) = price.customer_group_id {
        tx = tx
            .check_exists(keys::customer_group(store, mode, group))
            .because(PriceConflict::MissingGroup);
    }
    tx
}

impl Scoped<'_> {
    /// A product's book, read consistently (a change is computed on it); empty when it has none.
    pub async fn price_book(&self, product: ProductId) -> Result<PriceBook, ApiError> {
        let found = self.get(keys::price_book(self.store, self.mode, product), true).await?;
        Ok(found.unwrap_or_default())
    }

    /// A store's settings item, read consistently (its default when never saved).
    pub async fn settings<T: SettingsItem>(&self) -> Result<T, ApiError> {
        let found = self.get(T::key(self.store, self.mode), true).await?;
        Ok(found.unwrap_or_default())
    }

    /// A page of the store's price records, oldest first, narrowed by `filter`.
    pub async fn list_prices(&self, filter: &PriceFilter, page: &Page) -> Result<PageOf<Price>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let mut query = PageQuery::partition(keys::prices_partition(store, mode));
        if let Some(product) = filter.product_id {
            query = query.filter_eq("product_id", s(product.to_string()));
        }
        if let Some(variant) = filter.variant_id {
            query = query.filter_eq("variant_id", s(variant.to_string()));
        }
        if let Some(currency) = filter.currency {
            query = query.filter_eq("currency", s(currency.code()));
        }
        if let Some(group) = filter.customer_group_id {
            query = query.filter_eq("customer_group_id", s(group.to_string()));
        }
        self.query_page(&super::tenant_prefix(store, mode), query, page, false)
            .await
    }
}
