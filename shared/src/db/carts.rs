//! Cart access patterns: the cart item (lines inside) and the catalog entries its lines name.

use std::collections::HashMap;

use super::keys::{self, Key, TTL};
use super::{from_item, item, n, Db, Item, Scoped, Stale, WriteError};
use super::{PriceBook, SettingsItem};
use crate::error::ApiError;
use crate::events::Event;
use crate::ids::{CustomerId, StoreId};
use crate::model::carts::{Cart, CartLine, CatalogSnapshot};
use crate::model::customers::Customer;
use crate::model::modifiers::PriceModifiers;
use crate::model::promotions::{Campaigns, Promotions};
use crate::model::shipping::ShippingZones;
use crate::model::tax::TaxSettings;
use crate::tenant::{Mode, Tenant};

/// The cart's item, with its TTL (which only tidies up: reads check `expires_at`).
pub(super) fn cart_item(store: StoreId, mode: Mode, cart: &Cart) -> Result<Item, ApiError> {
    let mut record = item(keys::cart(store, mode, cart.id), cart)?;
    record.insert(TTL.to_owned(), n(cart.expires_at + keys::TTL_GRACE_SECS));
    Ok(record)
}

/// What pricing `lines` reads: the tax settings, shipping zones, price modifiers and promotions, each product,
/// variant and product's price book.
pub(super) fn catalog_keys(store: StoreId, mode: Mode, lines: &[CartLine]) -> Vec<Key> {
    let mut wanted = vec![
        TaxSettings::key(store, mode),
        ShippingZones::key(store, mode),
        PriceModifiers::key(store, mode),
        Promotions::key(store, mode),
        Campaigns::key(store, mode),
    ];
    for line in lines {
        wanted.push(keys::product(store, mode, line.product_id));
        wanted.push(keys::price_book(store, mode, line.product_id));
        if let Some(variant) = line.variant_id {
            wanted.push(keys::variant(store, mode, line.product_id, variant));
        }
    }
    wanted
}

/// A settings item out of a batch read (its default when the store never saved it).
fn take_settings<T: SettingsItem>(
    found: &mut HashMap<(String, String), Item>,
    store: StoreId,
    mode: Mode,
) -> Result<T, ApiError> {
    let key = T::key(store, mode);
    found
        .remove(&(key.pk, key.sk))
        .map(from_item)
        .transpose()
        .map(Option::unwrap_or_default)
}

/// Takes the products, variants and price books of `lines` out of a batch read.
pub(super) fn take_catalog(
    found: &mut HashMap<(String, String), Item>,
    store: StoreId,
    mode: Mode,
    lines: &[CartLine],
) -> Result<CatalogSnapshot, ApiError> {
    let mut catalog = CatalogSnapshot {
        tax: take_settings(found, store, mode)?,
        shipping: take_settings(found, store, mode)?,
        modifiers: take_settings(found, store, mode)?,
        promotions: take_settings(found, store, mode)?,
        campaigns: take_settings(found, store, mode)?,
        ..CatalogSnapshot::default()
    };
    for line in lines {
        let key = keys::product(store, mode, line.product_id);
        if let Some(found) = found.remove(&(key.pk, key.sk)) {
            catalog.products.insert(line.product_id, from_item(found)?);
        }
        let key = keys::price_book(store, mode, line.product_id);
        if let Some(found) = found.remove(&(key.pk, key.sk)) {
            let book: PriceBook = from_item(found)?;
            catalog.books.insert(line.product_id, book.prices);
        }
        if let Some(variant) = line.variant_id {
            let key = keys::variant(store, mode, line.product_id, variant);
            if let Some(found) = found.remove(&(key.pk, key.sk)) {
                catalog.variants.insert(variant, from_item(found)?);
            }
        }
    }
    Ok(catalog)
}

impl Db {
    /// Creates (`read_version` = `None`) or replaces a cart still at the version read.
    pub async fn put_cart(
        &self,
        tenant: &Tenant,
        read_version: Option<u64>,
        cart: &Cart,
        event: Event,
    ) -> Result<(), WriteError<Stale>> {
        self.write(event, tenant.key_id.to_string())
            .put_versioned(cart_item(tenant.store_id, tenant.mode, cart)?, read_version)
            .commit(Stale)
            .await
    }
}

impl Scoped<'_> {
    /// What pricing the lines reads (their products, variants and price books, the store's pricing settings and
    /// promotions) and the groups of `customer`: one `BatchGetItem` per 100 keys (none for an empty cart), and one
    /// more for the uses of the promotions with a limit that could apply (`codes`: the cart's).
    pub async fn cart_catalog(
        &self,
        lines: &[CartLine],
        customer: Option<CustomerId>,
        codes: &[String],
    ) -> Result<CatalogSnapshot, ApiError> {
        let (store, mode) = (self.store, self.mode);
        if lines.is_empty() {
            return Ok(CatalogSnapshot::default());
        }
        let mut wanted = catalog_keys(store, mode, lines);
        wanted.extend(customer.map(|id| keys::customer(store, mode, id)));
        let mut found = self.batch_get(wanted, false).await?;
        let mut catalog = take_catalog(&mut found, store, mode, lines)?;
        if let Some(id) = customer {
            let key = keys::customer(store, mode, id);
            if let Some(item) = found.remove(&(key.pk, key.sk)) {
                let customer: Customer = from_item(item)?;
                catalog.for_customer(&customer);
            }
        }
        catalog.promotion_codes = codes.to_vec();
        (catalog.promotion_uses, catalog.budgets_used) = self.promotion_usage(&catalog, false).await?;
        Ok(catalog)
    }
}
