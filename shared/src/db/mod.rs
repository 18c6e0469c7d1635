//! The only module that talks to DynamoDB: one method per access pattern, the store first.
//! docs/data-model.md lists each API operation with the calls it makes here.

mod carts;
mod catalog;
mod counts;
mod customers;
mod inventory;
mod keys;
mod orders;
mod pricing;
mod promotions;
mod schema;
mod tx;
mod webhooks;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use catalog::{OpeningStock, ProductConflict, VariantConflict};
pub use counts::Counted;
pub use customers::MAX_CUSTOMER_GROUPS;
pub use inventory::MAX_WAREHOUSES;
pub use keys::{key_idempotency_scope, platform_idempotency_scope, tenant_prefix};
pub use orders::{CheckoutReads, CheckoutRefusal, OrderWrite, StockMove};
pub use pricing::{guard_shard, PriceBook, PriceConflict, PriceFilter, SettingsItem, PRICE_GUARD_SHARDS};
pub use schema::{KEY_SCHEMA, STREAM_VIEW, TTL_ATTRIBUTE};
pub use tx::{Committed, GuardHeld, Refusal, Stale, WriteError, WriteTx};
pub use webhooks::DeliveryFilter;

use crate::error::ApiError;
use crate::events::Event;
use crate::http::pagination::{Cursor, Page, PageOf};
use crate::ids::{
    BrandId, CartId, CategoryId, CustomerGroupId, CustomerId, KeyId, OrderId, PriceId, ProductId, StoreId, TransferId,
    WarehouseId, WebhookId,
};
use crate::model::apikeys::{ApiKeyLookup, ApiKeyRecord};
use crate::model::stores::StoreRecord;
use crate::tenant::{Mode, Tenant};
use keys::{Key, PK, SK};

pub type Item = HashMap<String, AttributeValue>;

/// A query for one page: a partition of the table or of an index, optionally a sort-key range and a filter.
struct PageQuery {
    index: Option<&'static str>,
    pk: String,
    sort_between: Option<(String, String)>,
    filter: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl PageQuery {
    fn partition(pk: String) -> Self {
        Self::index(None, pk)
    }

    fn index(index: Option<&'static str>, pk: String) -> Self {
        Self {
            index,
            pk,
            sort_between: None,
            filter: None,
            names: HashMap::new(),
            values: HashMap::new(),
        }
    }

    /// Adds `#name = :name` to the filter.
    fn filter_eq(mut self, name: &str, value: AttributeValue) -> Self {
        self.add_filter(format!("#{name} = :{name}"), name, value);
        self
    }

    /// Adds `contains(#name, :name)` to the filter.
    fn filter_contains(mut self, name: &str, value: AttributeValue) -> Self {
        self.add_filter(format!("contains(#{name}, :{name})"), name, value);
        self
    }

    fn add_filter(&mut self, clause: String, name: &str, value: AttributeValue) {
        self.filter = Some(match self.filter.take() {
            Some(filter) => format!("{filter} AND {clause}"),
            None => clause,
        });
        self.names.insert(format!("#{name}"), name.to_owned());
        self.values.insert(format!(":{name}"), value);
    }
}

/// A record stored as one item per id, read by its id: the one `GetItem` every such entity needs.
pub trait Record: DeserializeOwned {
    type Id: Copy + std::str::FromStr;
    /// What a client calls it, in a `404`'s message.
    const NOUN: &'static str;
    fn key(store: StoreId, mode: Mode, id: Self::Id) -> Key;
}

/// The id a client wrote for a record: a malformed one names nothing, so it is a `404` like an unknown one.
pub fn id_of<T: Record>(text: &str) -> Result<T::Id, ApiError> {
    text.parse().map_err(|_| ApiError::not_found(T::NOUN))
}

/// A record whose items share one partition per store and mode, listed a page at a time.
pub trait Listed: Record {
    fn partition(store: StoreId, mode: Mode) -> String;
    /// Lists begin with the newest record (else the oldest).
    const NEWEST_FIRST: bool;
}

/// `Record` (and `Listed`) for entity records: their id type and the key formats of `keys`.
macro_rules! records {
    ($($record:ty, $noun:literal: $id:ty => $key:ident $(, listed in $partition:ident, newest first: $newest:literal)?;)+) => {
        $(impl Record for $record {
            type Id = $id;
            const NOUN: &'static str = $noun;

            fn key(store: StoreId, mode: Mode, id: $id) -> Key {
                keys::$key(store, mode, id)
            }
        }

        $(impl Listed for $record {
            const NEWEST_FIRST: bool = $newest;

            fn partition(store: StoreId, mode: Mode) -> String {
                keys::$partition(store, mode)
            }
        })?)+
    };
}

records! {
    crate::catalog::products::Product, "product": ProductId => product;
    crate::catalog::taxonomy::Category, "category": CategoryId => category, listed in categories_partition, newest first: false;
    crate::catalog::taxonomy::Brand, "brand": BrandId => brand, listed in brands_partition, newest first: false;
    crate::model::customers::Customer, "customer": CustomerId => customer;
    crate::model::customers::CustomerGroup, "customer group": CustomerGroupId => customer_group;
    crate::model::carts::Cart, "cart": CartId => cart;
    crate::model::orders::Order, "order": OrderId => order;
    crate::model::pricing::Price, "price": PriceId => price;
    crate::model::inventory::Warehouse, "warehouse": WarehouseId => warehouse;
    crate::model::inventory::Transfer, "transfer": TransferId => transfer, listed in transfers_partition, newest first: true;
    crate::model::webhooks::Endpoint, "webhook endpoint": WebhookId => webhook, listed in webhooks_partition, newest first: false;
    ApiKeyRecord, "API key": KeyId => api_key, listed in api_keys_partition, newest first: true;
}

impl Scoped<'_> {
    /// One record by id; `consistent` reads the latest write (twice the read cost).
    pub async fn record<T: Record>(&self, id: T::Id, consistent: bool) -> Result<Option<T>, ApiError> {
        self.get(T::key(self.store, self.mode, id), consistent).await
    }

    /// The record a client named by id: `404` when the id is malformed or names nothing.
    pub async fn found<T: Record>(&self, id: &str) -> Result<T, ApiError> {
        self.record::<T>(id_of::<T>(id)?, false)
            .await?
            .ok_or_else(|| ApiError::not_found(T::NOUN))
    }

    /// A page of a listed record, in its order.
    pub async fn page<T: Listed>(&self, page: &Page) -> Result<PageOf<T>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        self.query_partition(
            &tenant_prefix(store, mode),
            T::partition(store, mode),
            page,
            T::NEWEST_FIRST,
        )
        .await
    }
}

/// How long the health probe waits for DynamoDB before it declares it unreachable.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct Db {
    client: Client,
    table: Arc<str>,
}

/// The table as one store in one mode sees it: every read through this handle is keyed inside that store and
/// mode, so no caller passes the pair by hand.
#[derive(Clone, Copy)]
pub struct Scoped<'a> {
    db: &'a Db,
    store: StoreId,
    mode: Mode,
}

impl std::ops::Deref for Scoped<'_> {
    type Target = Db;

    fn deref(&self) -> &Db {
        self.db
    }
}

impl Db {
    /// The store and mode of the caller.
    pub fn scoped(&self, tenant: &Tenant) -> Scoped<'_> {
        self.store_scope(tenant.store_id, tenant.mode)
    }

    /// The store and mode a record or an event names (workers, which act for no caller).
    pub fn store_scope(&self, store: StoreId, mode: Mode) -> Scoped<'_> {
        Scoped { db: self, store, mode }
    }
}

/// An entity item: the entity's fields plus its keys.
fn item<T: Serialize>(key: Key, value: &T) -> Result<Item, ApiError> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(ApiError::internal)?;
    drop_empty_maps(&mut item);
    item.insert(PK.to_owned(), AttributeValue::S(key.pk));
    item.insert(SK.to_owned(), AttributeValue::S(key.sk));
    Ok(item)
}

/// Removes empty map attributes, at any depth. DynamoDB Local writes an empty map into its stream as `{}` (no `M`),
/// which no SDK can parse (docs/local-stack.md); absent and empty read back the same (`#[serde(default)]`).
fn drop_empty_maps(item: &mut Item) {
    item.retain(|_, value| !matches!(value, AttributeValue::M(map) if map.is_empty()));
    for value in item.values_mut() {
        drop_empty_maps_in(value);
    }
}

fn drop_empty_maps_in(value: &mut AttributeValue) {
    match value {
        AttributeValue::M(map) => drop_empty_maps(map),
        AttributeValue::L(list) => list.iter_mut().for_each(drop_empty_maps_in),
        _ => {}
    }
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, ApiError> {
    serde_dynamo::from_item(item).map_err(ApiError::internal)
}

/// DynamoDB's start key for a page after `cursor`.
fn start_key(cursor: Option<&Cursor>) -> Option<HashMap<String, AttributeValue>> {
    cursor.map(|cursor| cursor.iter().map(|(k, v)| (k.clone(), s(v.clone()))).collect())
}

/// A failed page query. A cursor only ever holds keys of the caller's own store (checked when decoded), but one
/// forged there (another list's key, attributes added or missing) is refused by DynamoDB as a bad start key:
/// that is the client's `400`, not our `500`.
fn page_query_error<E, R>(error: aws_sdk_dynamodb::error::SdkError<E, R>, cursor: Option<&Cursor>) -> ApiError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    if cursor.is_some() && error.code() == Some("ValidationException") {
        return Cursor::invalid();
    }
    ApiError::internal(DisplayErrorContext(error))
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Unrevoked API keys a store may hold per mode: each key has a rate limit of its own, so an unbounded number of
/// keys would be an unbounded share of the platform (docs/architecture.md, rate limits).
pub const MAX_ACTIVE_API_KEYS: u32 = 25;

/// The stored result of a POST made with an `Idempotency-Key`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub fingerprint: String,
    /// `in_progress` or `completed`.
    pub state: String,
    /// Unix seconds after which an `in_progress` claim is considered abandoned (its request died).
    pub locked_until: i64,
    /// Unix seconds after which the record no longer counts.
    pub expires_at: i64,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
}

/// What claiming an idempotency key found.
pub enum IdempotencyClaim {
    /// The key is ours: run the request and then save or release it.
    Claimed,
    Existing(IdempotencyRecord),
}

impl Db {
    pub fn new(config: &SdkConfig, table: &str) -> Self {
        Self {
            client: Client::new(config),
            table: table.into(),
        }
    }

    /// A store over a client built elsewhere (a test pointing one client at another endpoint).
    pub fn from_client(client: Client, table: &str) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Deletes items outside any transaction (derived items left by a committed deletion), 25 per
    /// `BatchWriteItem`, sending again what DynamoDB left unprocessed a few times.
    async fn delete_all(&self, keys: Vec<Key>) -> Result<(), ApiError> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        for chunk in keys.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|key| {
                    let delete = DeleteRequest::builder()
                        .set_key(Some(HashMap::from([
                            (PK.to_owned(), s(&key.pk)),
                            (SK.to_owned(), s(&key.sk)),
                        ])))
                        .build()
                        .map_err(ApiError::internal)?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            for attempt in 0..5u64 {
                if requests.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(self.table(), requests)
                    .send()
                    .await
                    .map_err(|e| ApiError::internal(DisplayErrorContext(e)))?;
                requests = output
                    .unprocessed_items
                    .and_then(|mut left| left.remove(self.table()))
                    .unwrap_or_default();
            }
            if !requests.is_empty() {
                return Err(ApiError::internal("deletes left unprocessed after retries"));
            }
        }
        Ok(())
    }

    /// True when DynamoDB answers within the health timeout.
    pub async fn ping(&self) -> bool {
        let key = keys::health();
        let probe = self.get_item_at(key).send();
        match tokio::time::timeout(HEALTH_TIMEOUT, probe).await {
            Ok(Ok(_)) => true,
            Ok(Err(error)) => {
                tracing::warn!(error = %DisplayErrorContext(&error), "health probe failed");
                false
            }
            Err(_) => {
                tracing::warn!("health probe timed out");
                false
            }
        }
    }

    /// What a uniqueness guard (an email, an order number, a slug) points at: its `field`.
    async fn guarded<I: DeserializeOwned>(
        &self,
        key: Key,
        field: &str,
        consistent: bool,
    ) -> Result<Option<I>, ApiError> {
        let guard: Option<serde_json::Map<String, serde_json::Value>> = self.get(key, consistent).await?;
        let Some(target) = guard.and_then(|mut g| g.remove(field)) else {
            return Ok(None);
        };
        serde_json::from_value(target)
            .map(Some)
            .map_err(|e| ApiError::internal(format!("guard {field}: {e}")))
    }

    async fn get<T: DeserializeOwned>(&self, key: Key, consistent: bool) -> Result<Option<T>, ApiError> {
        let output = self
            .get_item_at(key)
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|e| ApiError::internal(DisplayErrorContext(e)))?;
        output.item.map(from_item).transpose()
    }

    /// Every item of a partition whose sort key starts with `sort_prefix`, in sort-key order, however many pages
    /// it takes (for the small partitions that are read whole: warehouses, levels, variants, groups, an order's
    /// fulfillments and refunds).
    async fn query_all<T: DeserializeOwned>(
        &self,
        pk: String,
        sort_prefix: &str,
        consistent: bool,
    ) -> Result<Vec<T>, ApiError> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(sort_prefix))
                .consistent_read(consistent)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| ApiError::internal(DisplayErrorContext(e)))?;
            for item in output.items.unwrap_or_default() {
                found.push(from_item(item)?);
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    /// A page of one partition, resuming after `page.cursor`.
    async fn query_partition<T: DeserializeOwned>(
        &self,
        tenant_prefix: &str,
        pk: String,
        page: &Page,
        newest_first: bool,
    ) -> Result<PageOf<T>, ApiError> {
        self.query_page(tenant_prefix, PageQuery::partition(pk), page, newest_first)
            .await
    }

    /// A page of a query on the table or an index, resuming after `page.cursor`. With a filter, a page can hold
    /// fewer than `limit` items while `next_cursor` still says there are more (DynamoDB filters after reading).
    async fn query_page<T: DeserializeOwned>(
        &self,
        tenant_prefix: &str,
        query: PageQuery,
        page: &Page,
        newest_first: bool,
    ) -> Result<PageOf<T>, ApiError> {
        let mut start = start_key(page.cursor.as_ref());
        let (pk_name, sk_name) = match query.index {
            Some(keys::GSI1) => (keys::GSI1PK, keys::GSI1SK),
            Some(_) => (keys::GSI2PK, keys::GSI2SK),
            None => (PK, SK),
        };
        let mut condition = format!("{pk_name} = :pk");
        let mut values = query.values;
        values.insert(":pk".to_owned(), s(query.pk));
        if let Some((low, high)) = query.sort_between {
            condition.push_str(&format!(" AND {sk_name} BETWEEN :sk_low AND :sk_high"));
            values.insert(":sk_low".to_owned(), s(low));
            values.insert(":sk_high".to_owned(), s(high));
        }
        let request = self
            .client
            .query()
            .table_name(self.table())
            .set_index_name(query.index.map(str::to_owned))
            .key_condition_expression(condition)
            .set_filter_expression(query.filter)
            .set_expression_attribute_names((!query.names.is_empty()).then_some(query.names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!newest_first)
            .limit(page.limit as i32);
        // `page=N`: read past the N-1 pages before it, as following their cursors would.
        for _ in 0..page.skip {
            let skipped = request
                .clone()
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| page_query_error(e, page.cursor.as_ref()))?;
            start = skipped.last_evaluated_key;
            if start.is_none() {
                return Ok(PageOf {
                    items: Vec::new(),
                    next_cursor: None,
                    limit: page.limit,
                });
            }
        }
        let output = request
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| page_query_error(e, page.cursor.as_ref()))?;
        let next = output.last_evaluated_key.map(|key| {
            Cursor::from_key(
                tenant_prefix,
                key.into_iter()
                    .filter_map(|(k, v)| v.as_s().ok().map(|v| (k, v.clone()))),
            )
        });
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok(PageOf {
            items,
            next_cursor: next.transpose()?,
            limit: page.limit,
        })
    }

    /// The items at these keys (missing ones are absent from the map), by `(PK, SK)`: one `BatchGetItem` per
    /// 100 keys, retrying what DynamoDB leaves unprocessed.
    async fn batch_get(&self, wanted: Vec<Key>, consistent: bool) -> Result<HashMap<(String, String), Item>, ApiError> {
        let mut found = HashMap::new();
        let mut unique: Vec<Item> = Vec::new();
        for key in wanted {
            let key = HashMap::from([(PK.to_owned(), s(key.pk)), (SK.to_owned(), s(key.sk))]);
            if !unique.contains(&key) {
                unique.push(key);
            }
        }
        for chunk in unique.chunks(100) {
            let mut keys = chunk.to_vec();
            for _attempt in 0..5 {
                if keys.is_empty() {
                    break;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut keys)))
                    .consistent_read(consistent)
                    .build()
                    .map_err(ApiError::internal)?;
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(self.table(), request)
                    .send()
                    .await
                    .map_err(|e| ApiError::internal(DisplayErrorContext(e)))?;
                for item in output
                    .responses
                    .and_then(|mut r| r.remove(self.table()))
                    .unwrap_or_default()
                {
                    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                    found.insert((text(PK), text(SK)), item);
                }
                keys = output
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(self.table()))
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
            if !keys.is_empty() {
                return Err(ApiError::internal(
                    "BatchGetItem left keys unprocessed after 5 attempts",
                ));
            }
        }
        Ok(found)
    }

    // --- stores and API keys -------------------------------------------------------------------------------

    /// Creates a store with its first keys (one per mode), in one transaction.
    pub async fn create_store(
        &self,
        store: &StoreRecord,
        keys: &[(ApiKeyRecord, ApiKeyLookup)],
        event: Event,
    ) -> Result<(), ApiError> {
        let mut tx = self
            .write(event, "platform")
            .put_new(item(keys::store(store.store_id), store)?);
        for (record, lookup) in keys {
            tx = tx
                .put_new(item(keys::api_key(store.store_id, record.mode, record.key_id), record)?)
                .put_new(item(keys::api_key_lookup(&lookup.hash), lookup)?)
                .update(
                    keys::api_key_count(store.store_id, record.mode),
                    "ADD active :one",
                    None,
                    HashMap::new(),
                    HashMap::from([(":one".to_owned(), n(1))]),
                );
        }
        Ok(tx.commit(Stale).await?)
    }

    pub async fn get_store(&self, store: StoreId) -> Result<Option<StoreRecord>, ApiError> {
        self.get(keys::store(store), false).await
    }

    /// The key with this hash, read consistently so a revoked key stops working at once.
    pub async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKeyLookup>, ApiError> {
        self.get(keys::api_key_lookup(hash), true).await
    }

    /// Creates a key, unless its store and mode already hold [`MAX_ACTIVE_API_KEYS`] unrevoked keys.
    pub async fn create_api_key(
        &self,
        store: StoreId,
        actor: String,
        record: &ApiKeyRecord,
        lookup: &ApiKeyLookup,
        event: Event,
    ) -> Result<(), ApiError> {
        let result = self
            .write(event, actor)
            .update(
                keys::api_key_count(store, record.mode),
                "ADD active :one",
                Some("attribute_not_exists(active) OR active < :cap"),
                HashMap::new(),
                HashMap::from([(":one".to_owned(), n(1)), (":cap".to_owned(), n(MAX_ACTIVE_API_KEYS))]),
            )
            .because(Refusal::Guard)
            .put_new(item(keys::api_key(store, record.mode, record.key_id), record)?)
            .put_new(item(keys::api_key_lookup(&lookup.hash), lookup)?)
            .commit(Refusal::Stale)
            .await;
        match result {
            Ok(()) => Ok(()),
            Err(WriteError::Refused(Refusal::Guard)) => Err(ApiError::Conflict {
                code: "api_key_limit_reached",
                message: format!(
                    "a store holds at most {MAX_ACTIVE_API_KEYS} unrevoked keys per mode; revoke one first"
                ),
                details: Vec::new(),
            }),
            Err(error) => Err(error.into()),
        }
    }

    /// Marks the key revoked and deletes its lookup item, so the authorizer no longer finds it.
    /// Returns false when the key was already revoked (by a concurrent request).
    pub async fn revoke_api_key(
        &self,
        tenant: &Tenant,
        record: &ApiKeyRecord,
        revoked_at: &str,
        event: Event,
    ) -> Result<bool, ApiError> {
        self.write(event, tenant.key_id.to_string())
            .update(
                keys::api_key(tenant.store_id, tenant.mode, record.key_id),
                "SET revoked_at = :at, version = version + :one",
                Some("attribute_exists(PK) AND attribute_not_exists(revoked_at)"),
                HashMap::new(),
                HashMap::from([(":at".to_owned(), s(revoked_at)), (":one".to_owned(), n(1))]),
            )
            .because(Refusal::Guard)
            .delete(keys::api_key_lookup(&record.hash))
            .update(
                keys::api_key_count(tenant.store_id, tenant.mode),
                "ADD active :minus_one",
                None,
                HashMap::new(),
                HashMap::from([(":minus_one".to_owned(), n(-1))]),
            )
            .commit(Refusal::Stale)
            .await
            .guard_held()
    }

    // --- request conventions -------------------------------------------------------------------------------

    /// Adds `requests` to the key's fixed window and returns the count so far (rate-limit leases).
    pub async fn count_requests(
        &self,
        tenant: &Tenant,
        window_start: i64,
        requests: u32,
        expires_at: i64,
    ) -> Result<u32, ApiError> {
        let key = keys::rate_window(tenant.store_id, tenant.mode, window_start);
        let count = self
            .increment(key, "count", u64::from(requests), Some(expires_at))
            .await?;
        u32::try_from(count).map_err(ApiError::internal)
    }

    /// A `GetItem` of the item at `key`.
    fn get_item_at(&self, key: Key) -> aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder {
        self.client
            .get_item()
            .table_name(self.table())
            .key(PK, s(key.pk))
            .key(SK, s(key.sk))
    }

    /// An `UpdateItem` of the item at `key`, to finish with its expressions.
    fn update_item_at(&self, key: Key) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(self.table())
            .key(PK, s(key.pk))
            .key(SK, s(key.sk))
    }

    /// Adds `by` to the number `attribute` of `key` (from 0 when absent) in one atomic `UpdateItem` and returns the
    /// new value; an item made here expires at `expires_at`.
    async fn increment(&self, key: Key, attribute: &str, by: u64, expires_at: Option<i64>) -> Result<u64, ApiError> {
        let mut update = self
            .update_item_at(key)
            .expression_attribute_names("#n", attribute)
            .expression_attribute_values(":by", n(by))
            .return_values(ReturnValue::UpdatedNew);
        update = match expires_at {
            Some(at) => update
                .update_expression("ADD #n :by SET #ttl = if_not_exists(#ttl, :ttl)")
                .expression_attribute_names("#ttl", keys::TTL)
                .expression_attribute_values(":ttl", n(at)),
            None => update.update_expression("ADD #n :by"),
        };
        let output = update
            .send()
            .await
            .map_err(|e| ApiError::internal(DisplayErrorContext(e)))?;
        let value = output
            .attributes
            .as_ref()
            .and_then(|a| a.get(attribute))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok());
        value.ok_or_else(|| ApiError::internal(format!("the counter update returned no `{attribute}`")))
    }

    /// Claims an idempotency key for a request, unless a live record holds it.
    pub async fn claim_idempotency_key(
        &self,
        scope: &str,
        idempotency_key: &str,
        claim: &IdempotencyRecord,
        now: i64,
    ) -> Result<IdempotencyClaim, ApiError> {
        let mut record = item(keys::idempotency(scope, idempotency_key), claim)?;
        record.insert(keys::TTL.to_owned(), n(claim.expires_at));
        let result = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(record))
            // Free, expired, or abandoned by a request that died while holding it.
            .condition_expression(
                "attribute_not_exists(PK) OR expires_at < :now OR (#state = :in_progress AND locked_until < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":in_progress", s("in_progress"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(IdempotencyClaim::Claimed),
            Err(error) => match error.into_service_error() {
                PutItemError::ConditionalCheckFailedException(failed) => match failed.item {
                    Some(existing) => Ok(IdempotencyClaim::Existing(from_item(existing)?)),
                    None => Err(ApiError::internal(
                        "idempotency condition failed without the existing item",
                    )),
                },
                other => Err(ApiError::internal(DisplayErrorContext(other))),
            },
        }
    }

    /// Stores the response of a claimed request so that repeats replay it.
    pub async fn save_idempotent_response(
        &self,
        scope: &str,
        idempotency_key: &str,
        record: &IdempotencyRecord,
    ) -> Result<(), ApiError> {
        let mut item = item(keys::idempotency(scope, idempotency_key), record)?;
        item.insert(keys::TTL.to_owned(), n(record.expires_at));
        self.client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| ApiError::internal(DisplayErrorContext(e)))?;
        Ok(())
    }

    /// Gives a claim back (the request failed in a way a retry may fix).
    pub async fn release_idempotency_key(&self, scope: &str, idempotency_key: &str) -> Result<(), ApiError> {
        let key = keys::idempotency(scope, idempotency_key);
        self.client
            .delete_item()
            .table_name(self.table())
            .key(PK, s(key.pk))
            .key(SK, s(key.sk))
            .send()
            .await
            .map_err(|e| ApiError::internal(DisplayErrorContext(e)))?;
        Ok(())
    }
}
