//! Catalog access patterns: products with their uniqueness guards and index entries, categories, brands.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;

use super::counts::{count, Counted};
use super::keys::{self, Key, PK, SK};
use super::tx::MAX_STATE_ITEMS;
use super::{
    from_item, item, n, page_query_error, s, start_key, tenant_prefix, Db, Item, Scoped, Stale, WriteError, WriteTx,
};
use crate::catalog::products::{IndexScan, Product, SortField};
use crate::catalog::taxonomy::{Brand, Category};
use crate::catalog::text;
use crate::catalog::variants::{self, Variant};
use crate::error::ApiError;
use crate::events::Event;
use crate::http::pagination::Cursor;
use crate::ids::StoreId;
use crate::ids::{BrandId, CategoryId, ProductId, VariantId, WarehouseId};
use crate::model::inventory::{Adjustment, Level};
use crate::tenant::{Mode, Tenant};

/// A new product's first stock: its level in the default warehouse, the ledger line and the event, written with it.
pub struct OpeningStock {
    pub level: Level,
    pub entry: Adjustment,
    pub event: Event,
}

/// Why a product write did not commit.
#[derive(Debug, PartialEq, Eq)]
pub enum ProductConflict {
    Slug,
    Sku,
    MissingCategory(CategoryId),
    MissingBrand(BrandId),
    /// The product changed (or vanished) since it was read.
    Stale,
    /// The change touches more items than one transaction holds.
    TooLarge,
}

/// An index entry of a product: its key, and the name a name or SKU token entry carries for suggestions.
type Entries = BTreeMap<(String, String), Option<String>>;

fn entries(store: StoreId, mode: Mode, product: &Product) -> Entries {
    let mut entries = Entries::new();
    for listing in product.listings() {
        for sort in SortField::ALL {
            let key = keys::product_listing(
                store,
                mode,
                &listing.name(),
                sort.tag(),
                &product.sort_value(sort),
                product.id,
            );
            entries.insert((key.pk, key.sk), None);
        }
    }
    let name_tokens = product.tokens();
    // Words of the texts carry no name: suggestions come from names and SKUs only.
    for token in product.text_tokens(&name_tokens) {
        let key = keys::product_token(store, mode, &token, product.id);
        entries.insert((key.pk, key.sk), None);
    }
    for token in name_tokens {
        let key = keys::product_token(store, mode, &token, product.id);
        entries.insert((key.pk, key.sk), Some(product.name.clone()));
    }
    entries
}

fn entry_item(pk: &str, sk: &str, id: ProductId, name: Option<&String>) -> Item {
    let mut item = HashMap::from([
        (PK.to_owned(), s(pk)),
        (SK.to_owned(), s(sk)),
        ("product_id".to_owned(), s(id.to_string())),
    ]);
    if let Some(name) = name {
        item.insert("name".to_owned(), s(name.clone()));
    }
    item
}

/// The name-token entries of a category or brand that change when its name goes from `before` to `after` (`None`:
/// created or deleted); each entry carries the name it suggests.
fn taxon_tokens<'a, R>(
    mut tx: WriteTx<'a, R>,
    tenant: &Tenant,
    (kind, id): (&str, &str),
    before: Option<&str>,
    after: Option<&str>,
) -> WriteTx<'a, R> {
    if before == after {
        return tx;
    }
    let (store, mode) = (tenant.store_id, tenant.mode);
    let old = before.map(|name| text::tokens(name, None)).unwrap_or_default();
    let new = after.map(|name| text::tokens(name, None)).unwrap_or_default();
    for gone in old.difference(&new) {
        tx = tx.delete(keys::taxon_token(store, mode, kind, gone, id));
    }
    if let Some(name) = after {
        for token in &new {
            let key = keys::taxon_token(store, mode, kind, token, id);
            tx = tx.put(HashMap::from([
                (PK.to_owned(), s(key.pk)),
                (SK.to_owned(), s(key.sk)),
                ("taxon_id".to_owned(), s(id)),
                ("name".to_owned(), s(name)),
            ]));
        }
    }
    tx
}

fn guard_item(key: Key, id: ProductId) -> Item {
    HashMap::from([
        (PK.to_owned(), s(key.pk)),
        (SK.to_owned(), s(key.sk)),
        ("product_id".to_owned(), s(id.to_string())),
    ])
}

/// Moves a category's or brand's counter by `delta`, on condition the category or brand exists.
fn add_count<'a, R>(tx: WriteTx<'a, R>, key: Key, expression: &str, delta: i64) -> WriteTx<'a, R> {
    tx.update(
        key,
        expression,
        Some(EXISTS),
        HashMap::new(),
        HashMap::from([(":delta".to_owned(), n(delta))]),
    )
}

/// A condition that a category's parent is still `parent`.
fn parent_is(parent: Option<CategoryId>) -> (String, HashMap<String, AttributeValue>) {
    match parent {
        Some(parent) => (
            "parent_id = :read_parent".to_owned(),
            HashMap::from([(":read_parent".to_owned(), s(parent.to_string()))]),
        ),
        None => ("attribute_not_exists(parent_id)".to_owned(), HashMap::new()),
    }
}

fn version_is(version: u64) -> HashMap<String, AttributeValue> {
    HashMap::from([(":version".to_owned(), n(version))])
}

const PRODUCT_COUNT: &str = "ADD product_count :delta";
const CHILD_COUNT: &str = "ADD child_count :delta";
const EXISTS: &str = "attribute_exists(PK)";

impl Db {
    /// Creates (`before` = `None`) or updates a product in one transaction: the product (conditional on its
    /// version), its slug and SKU guards, the product counts of its categories and brand (each conditional on
    /// the category or brand existing), and exactly the index entries that changed.
    pub async fn put_product(
        &self,
        tenant: &Tenant,
        before: Option<&Product>,
        after: &Product,
        event: Event,
        extra_event: Option<Event>,
        opening: Option<OpeningStock>,
    ) -> Result<(), WriteError<ProductConflict>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let mut tx = self.write(event, tenant.key_id.to_string());
        if let Some(extra) = extra_event {
            tx = tx.and_event(extra);
        }
        if let Some(OpeningStock { level, entry, event }) = opening {
            let warehouse: WarehouseId = level
                .warehouse_id
                .parse()
                .map_err(|e| WriteError::Other(ApiError::internal(e)))?;
            let level_key = keys::level(store, mode, &level.item_id, warehouse);
            let entry_key = keys::adjustment(store, mode, &level.item_id, entry.id);
            tx = tx
                .and_event(event)
                .put_new(item(level_key, &level).map_err(WriteError::Other)?)
                .put_new(item(entry_key, &entry).map_err(WriteError::Other)?);
        }
        let product_item = item(keys::product(store, mode, after.id), after).map_err(WriteError::Other)?;
        tx = tx.put_versioned(product_item, before.map(|b| b.version));
        let id = after.id.to_string();
        let new_status = after.status.as_str();
        tx = match before {
            None => count(tx, store, mode, Counted::Products, &id, 1, &[(new_status, 1)]),
            Some(b) if b.status != after.status => count(
                tx,
                store,
                mode,
                Counted::Products,
                &id,
                0,
                &[(b.status.as_str(), -1), (new_status, 1)],
            ),
            Some(_) => tx,
        };

        let old_slug = before.map(|b| b.slug.as_str());
        if old_slug != Some(after.slug.as_str()) {
            tx = tx
                .put_new(guard_item(keys::product_slug(store, mode, &after.slug), after.id))
                .because(ProductConflict::Slug);
            if let Some(old) = old_slug {
                tx = tx.delete(keys::product_slug(store, mode, old));
            }
        }
        let old_sku = before.and_then(|b| b.sku.as_deref());
        if old_sku != after.sku.as_deref() {
            if let Some(sku) = &after.sku {
                tx = tx
                    .put_new(guard_item(keys::sku(store, mode, sku), after.id))
                    .because(ProductConflict::Sku);
            }
            if let Some(old) = old_sku {
                tx = tx.delete(keys::sku(store, mode, old));
            }
        }

        let old_categories = before.map(|b| b.category_ids.as_slice()).unwrap_or_default();
        for added in after.category_ids.iter().filter(|c| !old_categories.contains(c)) {
            tx = add_count(tx, keys::category(store, mode, *added), PRODUCT_COUNT, 1)
                .because(ProductConflict::MissingCategory(*added));
        }
        for removed in old_categories.iter().filter(|c| !after.category_ids.contains(c)) {
            tx = add_count(tx, keys::category(store, mode, *removed), PRODUCT_COUNT, -1);
        }
        let old_brand = before.and_then(|b| b.brand_id);
        if old_brand != after.brand_id {
            if let Some(brand) = after.brand_id {
                tx = add_count(tx, keys::brand(store, mode, brand), PRODUCT_COUNT, 1)
                    .because(ProductConflict::MissingBrand(brand));
            }
            if let Some(old) = old_brand {
                tx = add_count(tx, keys::brand(store, mode, old), PRODUCT_COUNT, -1);
            }
        }

        // A checkout that read the old price fails rather than charge it.
        if before.is_some_and(|b| b.price != after.price) {
            tx = super::pricing::move_guard(tx, tenant);
        }
        let old_entries = before.map(|b| entries(store, mode, b)).unwrap_or_default();
        let new_entries = entries(store, mode, after);
        for (key, _) in old_entries.iter().filter(|(key, _)| !new_entries.contains_key(*key)) {
            tx = tx.delete(Key {
                pk: key.0.clone(),
                sk: key.1.clone(),
            });
        }
        for ((pk, sk), name) in new_entries
            .iter()
            .filter(|(key, name)| old_entries.get(*key) != Some(name))
        {
            tx = tx.put(entry_item(pk, sk, after.id, name.as_ref()));
        }
        product_commit(tx).await
    }

    /// Deletes a product with its variants, guards and index entries, and gives back its category and brand
    /// counts.
    pub async fn delete_product(
        &self,
        tenant: &Tenant,
        product: &Product,
        variants: &[Variant],
        event: Event,
    ) -> Result<(), WriteError<ProductConflict>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let mut tx = self
            .write(event, tenant.key_id.to_string())
            .delete_if(
                keys::product(store, mode, product.id),
                "version = :version",
                version_is(product.version),
            )
            .delete(keys::product_slug(store, mode, &product.slug));
        let status = product.status.as_str();
        tx = count(
            tx,
            store,
            mode,
            Counted::Products,
            &product.id.to_string(),
            -1,
            &[(status, -1)],
        );
        if let Some(sku) = &product.sku {
            tx = tx.delete(keys::sku(store, mode, sku));
        }
        for category in &product.category_ids {
            tx = add_count(tx, keys::category(store, mode, *category), PRODUCT_COUNT, -1);
        }
        if let Some(brand) = product.brand_id {
            tx = add_count(tx, keys::brand(store, mode, brand), PRODUCT_COUNT, -1);
        }
        for (pk, sk) in entries(store, mode, product).into_keys() {
            tx = tx.delete(Key { pk, sk });
        }
        for variant in variants {
            tx = self.variant_deletes(tx, tenant, product, variant);
        }
        product_commit(tx).await
    }

    // --- variants ---------------------------------------------------------------------------------------

    /// Creates variants of an existing product in one transaction: each variant with its combination guard and
    /// SKU guard, and its `variant.created` event (the first is `event`, the others come in `more`).
    pub async fn create_variants(
        &self,
        tenant: &Tenant,
        product: &Product,
        created: &[Variant],
        event: Event,
        more: Vec<Event>,
    ) -> Result<(), WriteError<VariantConflict>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let mut tx = self
            .write(event, tenant.key_id.to_string())
            .check_exists(keys::product(store, mode, product.id));
        for extra in more {
            tx = tx.and_event(extra);
        }
        for variant in created {
            let record =
                item(keys::variant(store, mode, product.id, variant.id), variant).map_err(WriteError::Other)?;
            let combination = variants::combination(product, &variant.option_values);
            tx = tx
                .put_new(record)
                .put_new(guard_item(
                    keys::variant_combination(store, mode, product.id, &combination),
                    product.id,
                ))
                .because(VariantConflict::Combination)
                .put_new(guard_item(keys::variant_owner(store, mode, variant.id), product.id));
            if let Some(sku) = &variant.sku {
                tx = tx
                    .put_new(variant_sku_item(store, mode, sku, variant))
                    .because(VariantConflict::Sku);
            }
        }
        variant_commit(tx).await
    }

    pub async fn update_variant(
        &self,
        tenant: &Tenant,
        before: &Variant,
        after: &Variant,
        event: Event,
    ) -> Result<(), WriteError<VariantConflict>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let record = item(keys::variant(store, mode, after.product_id, after.id), after).map_err(WriteError::Other)?;
        let mut tx = self.write(event, tenant.key_id.to_string()).put_if(
            record,
            "version = :version",
            version_is(before.version),
        );
        if before.sku != after.sku {
            if let Some(sku) = &after.sku {
                tx = tx
                    .put_new(variant_sku_item(store, mode, sku, after))
                    .because(VariantConflict::Sku);
            }
            if let Some(old) = &before.sku {
                tx = tx.delete(keys::sku(store, mode, old));
            }
        }
        // A checkout that read the old price fails rather than charge it.
        if before.price != after.price {
            tx = super::pricing::move_guard(tx, tenant);
        }
        variant_commit(tx).await
    }

    pub async fn delete_variant(
        &self,
        tenant: &Tenant,
        product: &Product,
        variant: &Variant,
        event: Event,
    ) -> Result<(), WriteError<VariantConflict>> {
        let tx = self.write(event, tenant.key_id.to_string());
        let tx = self.variant_deletes(tx, tenant, product, variant);
        variant_commit(tx).await
    }

    fn variant_deletes<'a, R>(
        &self,
        tx: WriteTx<'a, R>,
        tenant: &Tenant,
        product: &Product,
        variant: &Variant,
    ) -> WriteTx<'a, R> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let combination = variants::combination(product, &variant.option_values);
        let mut tx = tx
            .delete_if(
                keys::variant(store, mode, product.id, variant.id),
                "version = :version",
                version_is(variant.version),
            )
            .delete(keys::variant_combination(store, mode, product.id, &combination))
            .delete(keys::variant_owner(store, mode, variant.id));
        if let Some(sku) = &variant.sku {
            tx = tx.delete(keys::sku(store, mode, sku));
        }
        tx
    }

    // --- categories -------------------------------------------------------------------------------------

    /// Creates or updates a category; a new parent's `child_count` goes up (on condition it exists), the old one's
    /// down. Returns `Ok(false)` when a condition failed: the category changed, or the parent is gone.
    /// Writes a category. `lineage` is its new parent and that parent's ancestors, nearest first, each with the
    /// parent it had when read (empty when the parent did not change): the write holds only while none of them
    /// moved, so two concurrent moves can never close a cycle (X under Y while Y goes under X).
    pub async fn put_category(
        &self,
        tenant: &Tenant,
        before: Option<&Category>,
        after: &Category,
        event: Event,
        lineage: &[(CategoryId, Option<CategoryId>)],
    ) -> Result<(), WriteError<Stale>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let record = item(keys::category(store, mode, after.id), after)?;
        let mut tx = self
            .write(event, tenant.key_id.to_string())
            .put_versioned(record, before.map(|b| b.version));
        let id = after.id.to_string();
        tx = taxon_tokens(
            tx,
            tenant,
            ("category", &id),
            before.map(|b| b.name.as_str()),
            Some(&after.name),
        );
        let old_parent = before.and_then(|b| b.parent_id);
        if old_parent != after.parent_id {
            if let Some(parent) = after.parent_id {
                let mut values = HashMap::from([(":delta".to_owned(), n(1))]);
                let mut condition = EXISTS.to_owned();
                if let Some((_, grandparent)) = lineage.first().filter(|(id, _)| *id == parent) {
                    let (still, more) = parent_is(*grandparent);
                    condition = format!("{EXISTS} AND {still}");
                    values.extend(more);
                }
                tx = tx.update(
                    keys::category(store, mode, parent),
                    CHILD_COUNT,
                    Some(&condition),
                    HashMap::new(),
                    values,
                );
            }
            if let Some(old) = old_parent {
                tx = add_count(tx, keys::category(store, mode, old), CHILD_COUNT, -1);
            }
        }
        for (ancestor, its_parent) in lineage.iter().skip(1) {
            let (condition, values) = parent_is(*its_parent);
            tx = tx.check(keys::category(store, mode, *ancestor), &condition, values);
        }
        tx.commit(Stale).await
    }

    /// Deletes a category that has no products and no subcategories (checked in the same write).
    pub async fn delete_category(
        &self,
        tenant: &Tenant,
        category: &Category,
        event: Event,
    ) -> Result<(), WriteError<Stale>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let mut values = version_is(category.version);
        values.insert(":zero".to_owned(), n(0));
        let mut tx = self.write(event, tenant.key_id.to_string()).delete_if(
            keys::category(store, mode, category.id),
            "version = :version AND (attribute_not_exists(product_count) OR product_count = :zero) AND (attribute_not_exists(child_count) OR child_count = :zero)",
            values,
        );
        if let Some(parent) = category.parent_id {
            tx = add_count(tx, keys::category(store, mode, parent), CHILD_COUNT, -1);
        }
        tx = taxon_tokens(
            tx,
            tenant,
            ("category", &category.id.to_string()),
            Some(&category.name),
            None,
        );
        tx.commit(Stale).await
    }

    // --- brands -----------------------------------------------------------------------------------------

    pub async fn put_brand(
        &self,
        tenant: &Tenant,
        before: Option<&Brand>,
        after: &Brand,
        event: Event,
    ) -> Result<(), WriteError<Stale>> {
        let record = item(keys::brand(tenant.store_id, tenant.mode, after.id), after)?;
        let tx = self
            .write(event, tenant.key_id.to_string())
            .put_versioned(record, before.map(|b| b.version));
        let id = after.id.to_string();
        taxon_tokens(
            tx,
            tenant,
            ("brand", &id),
            before.map(|b| b.name.as_str()),
            Some(&after.name),
        )
        .commit(Stale)
        .await
    }

    /// Deletes a brand no product uses (checked in the same write).
    pub async fn delete_brand(&self, tenant: &Tenant, brand: &Brand, event: Event) -> Result<(), WriteError<Stale>> {
        let mut values = version_is(brand.version);
        values.insert(":zero".to_owned(), n(0));
        let tx = self.write(event, tenant.key_id.to_string()).delete_if(
            keys::brand(tenant.store_id, tenant.mode, brand.id),
            "version = :version AND (attribute_not_exists(product_count) OR product_count = :zero)",
            values,
        );
        taxon_tokens(tx, tenant, ("brand", &brand.id.to_string()), Some(&brand.name), None)
            .commit(Stale)
            .await
    }
}

impl Scoped<'_> {
    pub async fn find_product_by_slug(&self, slug: &str) -> Result<Option<ProductId>, ApiError> {
        self.guarded(keys::product_slug(self.store, self.mode, slug), "product_id", false)
            .await
    }

    pub async fn find_product_by_sku(&self, sku: &str) -> Result<Option<ProductId>, ApiError> {
        self.guarded(keys::sku(self.store, self.mode, sku), "product_id", false)
            .await
    }

    /// A page of product ids from one listing index, in one sort order.
    pub async fn list_product_ids(
        &self,
        scan: &IndexScan,
        limit: u32,
        start: Option<&Cursor>,
    ) -> Result<(Vec<ProductId>, Option<String>), ApiError> {
        let (store, mode) = (self.store, self.mode);
        let IndexScan {
            listing,
            sort,
            descending,
            range,
        } = scan;
        let partition = keys::product_listing_partition(store, mode, &listing.name());
        let mut query = self
            .client
            .query()
            .table_name(self.table())
            .expression_attribute_values(":pk", s(partition))
            .scan_index_forward(!descending)
            .limit(limit as i32);
        query = match range {
            Some((from, to)) => query
                .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
                .expression_attribute_values(":from", s(format!("{}#{from}", sort.tag())))
                .expression_attribute_values(":to", s(format!("{}#{to}~", sort.tag()))),
            None => query
                .key_condition_expression("PK = :pk AND begins_with(SK, :sort)")
                .expression_attribute_values(":sort", s(format!("{}#", sort.tag()))),
        };
        self.product_ids(query, start).await
    }

    /// A page of product ids whose search tokens start with `prefix`.
    pub async fn search_product_ids(
        &self,
        prefix: &str,
        limit: u32,
        start: Option<&Cursor>,
    ) -> Result<(Vec<ProductId>, Option<String>), ApiError> {
        let query = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(keys::product_token_partition(self.store, self.mode, prefix)))
            .expression_attribute_values(":prefix", s(prefix))
            .limit(limit as i32);
        self.product_ids(query, start).await
    }

    /// Product names whose name or SKU tokens start with `prefix`: (token, product id, name).
    pub async fn suggest_products(&self, prefix: &str, limit: u32) -> Result<Vec<(String, String, String)>, ApiError> {
        let partition = keys::product_token_partition(self.store, self.mode, prefix);
        self.named_tokens(partition, prefix, limit, "product_id").await
    }

    /// Category (`kind` "category") or brand ("brand") names whose tokens start with `prefix`: (token, id, name).
    pub async fn suggest_taxons(
        &self,
        kind: &str,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<(String, String, String)>, ApiError> {
        let partition = keys::taxon_token_partition(self.store, self.mode, kind, prefix);
        self.named_tokens(partition, prefix, limit, "taxon_id").await
    }

    /// Token entries starting with `prefix` that carry a name: (token, the id in `id_attribute`, name).
    async fn named_tokens(
        &self,
        partition: String,
        prefix: &str,
        limit: u32,
        id_attribute: &str,
    ) -> Result<Vec<(String, String, String)>, ApiError> {
        let output = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":prefix", s(prefix))
            .limit(limit as i32)
            .send()
            .await
            .map_err(|e| ApiError::internal(DisplayErrorContext(e)))?;
        let mut found = Vec::new();
        for item in output.items.unwrap_or_default() {
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
            let token = text(SK).and_then(|sk| sk.rsplit_once('#').map(|(token, _)| token.to_owned()));
            if let (Some(token), Some(id), Some(name)) = (token, text(id_attribute), text("name")) {
                found.push((token, id, name));
            }
        }
        Ok(found)
    }

    async fn product_ids(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        start: Option<&Cursor>,
    ) -> Result<(Vec<ProductId>, Option<String>), ApiError> {
        let (store, mode) = (self.store, self.mode);
        let output = query
            .set_exclusive_start_key(start_key(start))
            .send()
            .await
            .map_err(|e| page_query_error(e, start))?;
        let ids = output
            .items()
            .iter()
            .filter_map(|item| item.get("product_id")?.as_s().ok()?.parse().ok())
            .collect();
        let next = output
            .last_evaluated_key
            .map(|key| {
                Cursor::from_key(
                    &tenant_prefix(store, mode),
                    key.into_iter()
                        .filter_map(|(k, v)| v.as_s().ok().map(|v| (k, v.clone()))),
                )
            })
            .transpose()?;
        Ok((ids, next))
    }

    /// The products with these ids, in the same order (ids without a product are skipped). One `BatchGetItem`
    /// per 100 ids, retrying what DynamoDB leaves unprocessed.
    pub async fn get_products(&self, ids: &[ProductId]) -> Result<Vec<Product>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let keys = ids.iter().map(|id| keys::product(store, mode, *id)).collect();
        let mut found = self.batch_get(keys, false).await?;
        ids.iter()
            .filter_map(|id| {
                let key = keys::product(store, mode, *id);
                found.remove(&(key.pk, key.sk)).map(from_item)
            })
            .collect()
    }

    /// The product a variant belongs to, if the variant exists.
    pub async fn variant_owner(&self, id: VariantId) -> Result<Option<ProductId>, ApiError> {
        self.guarded(keys::variant_owner(self.store, self.mode, id), "product_id", false)
            .await
    }

    pub async fn get_variant(&self, product: ProductId, id: VariantId) -> Result<Option<Variant>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        self.get(keys::variant(store, mode, product, id), false).await
    }

    /// Every variant of a product (at most a hundred), oldest first.
    pub async fn list_variants(&self, product: ProductId) -> Result<Vec<Variant>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        self.query_all(keys::product(store, mode, product).pk, keys::variants_prefix(), false)
            .await
    }
}

/// Why a variant write did not commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VariantConflict {
    /// Another variant of the product has these option values.
    Combination,
    Sku,
    /// The variant or its product changed or vanished since it was read.
    Stale,
}

fn variant_sku_item(store: StoreId, mode: Mode, sku: &str, variant: &Variant) -> Item {
    let mut guard = guard_item(keys::sku(store, mode, sku), variant.product_id);
    guard.insert("variant_id".to_owned(), s(variant.id.to_string()));
    guard
}

/// Commits a product write, unless it needs more items than one transaction holds.
async fn product_commit(tx: WriteTx<'_, ProductConflict>) -> Result<(), WriteError<ProductConflict>> {
    if tx.len() > MAX_STATE_ITEMS {
        return Err(WriteError::Refused(ProductConflict::TooLarge));
    }
    tx.commit(ProductConflict::Stale).await
}

async fn variant_commit(tx: WriteTx<'_, VariantConflict>) -> Result<(), WriteError<VariantConflict>> {
    if tx.len() > MAX_STATE_ITEMS {
        return Err(WriteError::Other(ApiError::internal(
            "variant transaction over the item limit",
        )));
    }
    tx.commit(VariantConflict::Stale).await
}
