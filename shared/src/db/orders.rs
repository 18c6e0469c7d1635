//! Order access patterns: the checkout transaction, order changes with what they write beside the order
//! (fulfillments, refunds, stock, the customer's read model, handled payment events), and the order lists.

use std::collections::HashMap;

use super::carts::{catalog_keys, take_catalog};
use super::counts::{count, Counted};
use super::customers::customer_item;
use super::keys::{self, Key, GSI1, GSI1PK, GSI1SK, PK, SK};
use super::promotions::{give_back_promotions, take_promotions};
use super::{
    from_item, guard_shard, item, n, s, tenant_prefix, Db, Item, PageQuery, Scoped, Stale, WriteError, WriteTx,
};
use crate::error::ApiError;
use crate::events::Event;
use crate::http::pagination::{Page, PageOf};
use crate::ids::{CampaignId, CustomerId, OrderId, PromotionId, StoreId, WarehouseId};
use crate::model::carts::{Buyer, Cart, CatalogSnapshot};
use crate::model::customers::Customer;
use crate::model::inventory::{Adjustment, Level, StockItem};
use crate::model::orders::{Fulfillment, Order, OrderFilter, Refund};
use crate::money::Money;
use crate::tenant::{Mode, Tenant};

/// A change of one level by an order (a sale is negative), with its ledger line.
pub struct StockMove {
    pub item: StockItem,
    pub warehouse: WarehouseId,
    pub delta: i64,
    pub entry: Adjustment,
}

/// What one change of an order writes beside the order itself.
#[derive(Default)]
pub struct OrderWrite {
    pub fulfillment: Option<Fulfillment>,
    pub refund: Option<Refund>,
    pub stock: Vec<StockMove>,
    /// Added to the customer's `lifetime_spend`; the domain turns it into `customer` (read at its version).
    pub spend: Option<Money>,
    pub customer: Option<(u64, Customer)>,
    /// The payment provider's event id, recorded so that a duplicate callback changes nothing.
    pub payment_event: Option<String>,
    /// Gives back the order's promotion uses (a cancellation).
    pub release_promotions: bool,
}

/// Everything a checkout reads after the cart, in one batch.
/// Why a checkout's transaction did not commit.
#[derive(Debug, PartialEq, Eq)]
pub enum CheckoutRefusal {
    /// A price record changed after the checkout read the prices.
    PriceChanged,
    /// A promotion the order takes reached its limit (overall or for this buyer) meanwhile.
    PromotionUsedUp(PromotionId),
    /// A campaign's budget had no room left for what the order's promotions draw.
    BudgetExhausted(CampaignId),
    /// A level, the cart or the customer changed (or a concurrent transaction).
    Stale,
}

pub struct CheckoutReads {
    pub catalog: CatalogSnapshot,
    pub customer: Option<Customer>,
    pub default_warehouse: Option<WarehouseId>,
    /// The version of the cart's price-guard shard when the prices were read (0: never moved).
    pub price_guard: u64,
}

fn order_item(store: StoreId, mode: Mode, order: &Order) -> Result<Item, ApiError> {
    let mut record = item(keys::order(store, mode, order.id), order)?;
    let index = keys::orders_index(store, mode, order.id);
    record.insert(GSI1PK.to_owned(), s(index.pk));
    record.insert(GSI1SK.to_owned(), s(index.sk));
    // What `GET /v1/orders?product_id=` filters on: a list filter cannot look inside the lines.
    let products: std::collections::BTreeSet<String> = order.lines.iter().map(|l| l.product_id.to_string()).collect();
    if !products.is_empty() {
        record.insert(
            PRODUCT_IDS.to_owned(),
            aws_sdk_dynamodb::types::AttributeValue::Ss(products.into_iter().collect()),
        );
    }
    Ok(record)
}

/// The order item's set of the products its lines sell.
const PRODUCT_IDS: &str = "product_ids";

fn guard(key: Key, field: &str, value: String) -> Item {
    HashMap::from([
        (PK.to_owned(), s(key.pk)),
        (SK.to_owned(), s(key.sk)),
        (field.to_owned(), s(value)),
    ])
}

fn take<T: serde::de::DeserializeOwned>(
    found: &mut HashMap<(String, String), Item>,
    key: Key,
) -> Result<Option<T>, ApiError> {
    found.remove(&(key.pk, key.sk)).map(from_item).transpose()
}

/// Adds the level changes and ledger lines of `moves`.
fn add_moves<'a, R>(
    mut tx: WriteTx<'a, R>,
    store: StoreId,
    mode: Mode,
    moves: &[StockMove],
    now: &str,
) -> Result<WriteTx<'a, R>, ApiError> {
    for stock_move in moves {
        let item_id = stock_move.item.to_string();
        let mut values = HashMap::from([
            (":delta".to_owned(), n(stock_move.delta)),
            (":one".to_owned(), n(1)),
            (":now".to_owned(), s(now)),
        ]);
        // A sale needs the units available; a return needs only the level.
        let condition = if stock_move.delta < 0 {
            values.insert(":need".to_owned(), n(-stock_move.delta));
            "available >= :need"
        } else {
            "attribute_exists(PK)"
        };
        tx = tx
            .update(
                keys::level(store, mode, &item_id, stock_move.warehouse),
                "SET on_hand = on_hand + :delta, available = available + :delta, version = version + :one, \
                 updated_at = :now",
                Some(condition),
                HashMap::new(),
                values,
            )
            .put_new(item(
                keys::adjustment(store, mode, &item_id, stock_move.entry.id),
                &stock_move.entry,
            )?);
    }
    Ok(tx)
}

impl Db {
    /// The checkout transaction: the order, its number's guard, the cart converted, the customer's read
    /// model, a conditional stock decrement and a ledger line per line, the event and the audit entry.
    pub async fn place_order(
        &self,
        tenant: &Tenant,
        order: &Order,
        (cart_version, price_guard): (u64, u64),
        customer: Option<&(u64, Customer)>,
        moves: &[StockMove],
        event: Event,
    ) -> Result<(), WriteError<CheckoutRefusal>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let built = (|| {
            let status = order.status.as_str();
            // The prices were read at this guard version: a price written since fails the order.
            let guard_key = keys::price_guard(store, mode, guard_shard(order.cart_id));
            let mut tx = self.write(event, tenant.key_id.to_string());
            tx = match price_guard {
                0 => tx.check(guard_key, "attribute_not_exists(PK)", HashMap::new()),
                version => tx.check(
                    guard_key,
                    "version = :guard",
                    HashMap::from([(":guard".to_owned(), n(version))]),
                ),
            }
            .because(CheckoutRefusal::PriceChanged);
            tx = tx
                .put_new(order_item(store, mode, order)?)
                .put_new(guard(
                    keys::order_number(store, mode, &order.number),
                    "order_id",
                    order.id.to_string(),
                ))
                .update(
                    keys::cart(store, mode, order.cart_id),
                    "SET #status = :converted, order_id = :order, version = version + :one, updated_at = :now",
                    Some("version = :version AND #status = :active"),
                    HashMap::from([("#status".to_owned(), "status".to_owned())]),
                    HashMap::from([
                        (":converted".to_owned(), s("converted")),
                        (":active".to_owned(), s("active")),
                        (":order".to_owned(), s(order.id.to_string())),
                        (":one".to_owned(), n(1)),
                        (":now".to_owned(), s(&order.created_at)),
                        (":version".to_owned(), n(cart_version)),
                    ]),
                );
            if let Some((read_version, after)) = customer {
                tx = tx.put_versioned(customer_item(store, mode, after)?, Some(*read_version));
            }
            tx = count(
                tx,
                store,
                mode,
                Counted::Orders,
                &order.id.to_string(),
                1,
                &[(status, 1)],
            );
            let buyer = order.buyer();
            tx = take_promotions(
                tx,
                (store, mode),
                (order.id, buyer.as_deref()),
                &order.promotions,
                (CheckoutRefusal::PromotionUsedUp, CheckoutRefusal::BudgetExhausted),
            )?;
            add_moves(tx, store, mode, moves, &order.created_at)
        })();
        // Refused: a price changed, or a line's stock is short, or the cart or the customer changed since they were
        // read (the caller reads the levels to tell which).
        built?.commit(CheckoutRefusal::Stale).await
    }
}

impl Scoped<'_> {
    pub async fn order_id_by_number(&self, number: &str) -> Result<Option<OrderId>, ApiError> {
        let key = keys::order_number(self.store, self.mode, number);
        self.guarded(key, "order_id", false).await
    }

    /// The catalog entries of the cart, the customer (by id, or by the guest's email) and the default warehouse:
    /// one `BatchGetItem` (plus one `GetItem` when a guest's email names a customer).
    pub async fn checkout_reads(
        &self,
        cart: &Cart,
        customer: Option<CustomerId>,
        email: Option<&str>,
        codes: &[String],
    ) -> Result<CheckoutReads, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let mut wanted = catalog_keys(store, mode, &cart.lines);
        wanted.push(keys::default_warehouse(store, mode));
        wanted.push(keys::price_guard(store, mode, guard_shard(cart.id)));
        match (customer, email) {
            (Some(id), _) => wanted.push(keys::customer(store, mode, id)),
            (None, Some(email)) => wanted.push(keys::customer_email(store, mode, email)),
            (None, None) => {}
        }
        let mut found = self.batch_get(wanted, true).await?;
        let catalog = take_catalog(&mut found, store, mode, &cart.lines)?;
        #[derive(serde::Deserialize)]
        struct DefaultWarehouse {
            warehouse_id: WarehouseId,
        }
        #[derive(serde::Deserialize)]
        struct EmailGuard {
            customer_id: CustomerId,
        }
        #[derive(serde::Deserialize)]
        struct PriceGuard {
            version: u64,
        }
        let default_warehouse: Option<DefaultWarehouse> = take(&mut found, keys::default_warehouse(store, mode))?;
        let guard: Option<PriceGuard> = take(&mut found, keys::price_guard(store, mode, guard_shard(cart.id)))?;
        let customer = match (customer, email) {
            (Some(id), _) => take(&mut found, keys::customer(store, mode, id))?,
            (None, Some(email)) => match take::<EmailGuard>(&mut found, keys::customer_email(store, mode, email))? {
                Some(guard) => self.record::<Customer>(guard.customer_id, true).await?,
                None => None,
            },
            (None, None) => None,
        };
        let mut catalog = catalog;
        match (&customer, email) {
            (Some(customer), _) => catalog.for_customer(customer),
            (None, Some(email)) => catalog.buyer = Buyer::guest(email),
            (None, None) => {}
        }
        catalog.promotion_codes = codes.to_vec();
        (catalog.promotion_uses, catalog.budgets_used) = self.promotion_usage(&catalog, true).await?;
        Ok(CheckoutReads {
            catalog,
            customer,
            default_warehouse: default_warehouse.map(|d| d.warehouse_id),
            price_guard: guard.map_or(0, |g| g.version),
        })
    }

    /// Takes the next order number of the store's year: an atomic `ADD` on its counter, so simultaneous checkouts
    /// never wait for each other's number. A checkout that fails after taking one leaves a gap.
    pub async fn take_order_number(&self, year: i32) -> Result<u64, ApiError> {
        let (store, mode) = (self.store, self.mode);
        self.increment(keys::order_counter(store, mode, year), "seq", 1, None)
            .await
    }

    /// `available` of each move's level now (0 for a level never stocked): one `BatchGetItem`.
    pub async fn levels_at(&self, moves: &[StockMove]) -> Result<Vec<i64>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let key = |m: &StockMove| keys::level(store, mode, &m.item.to_string(), m.warehouse);
        let mut found = self.batch_get(moves.iter().map(key).collect(), true).await?;
        moves
            .iter()
            .map(|m| Ok(take::<Level>(&mut found, key(m))?.map_or(0, |l| l.available)))
            .collect()
    }

    /// Writes an order changed from `read_version`, with what the change adds, in one transaction.
    /// `Ok(false)`: something changed meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_order_change(
        &self,
        actor: &str,
        before: &Order,
        order: &Order,
        write: OrderWrite,
        events: Vec<Event>,
    ) -> Result<(), WriteError<Stale>> {
        let (store, mode) = (self.store, self.mode);
        let mut events = events.into_iter();
        let first = events
            .next()
            .ok_or_else(|| ApiError::internal("an order change without an event"))?;
        let mut tx = self
            .write(first, actor)
            .put_versioned(order_item(store, mode, order)?, Some(before.version));
        if before.status != order.status {
            let moved = [(before.status.as_str(), -1), (order.status.as_str(), 1)];
            tx = count(tx, store, mode, Counted::Orders, &order.id.to_string(), 0, &moved);
        }
        for event in events {
            tx = tx.and_event(event);
        }
        if let Some(fulfillment) = &write.fulfillment {
            tx = tx.put_new(item(
                keys::fulfillment(store, mode, order.id, fulfillment.id),
                fulfillment,
            )?);
        }
        if let Some(refund) = &write.refund {
            tx = tx.put_new(item(keys::refund(store, mode, order.id, refund.id), refund)?);
        }
        if let Some((read_version, customer)) = &write.customer {
            tx = tx.put_versioned(customer_item(store, mode, customer)?, Some(*read_version));
        }
        if write.release_promotions {
            let buyer = order.buyer();
            tx = give_back_promotions(tx, (store, mode), (order.id, buyer.as_deref()), &order.promotions);
        }
        if let Some(provider_event) = &write.payment_event {
            tx = tx.put_new(guard(
                keys::payment_event(store, mode, provider_event),
                "order_id",
                order.id.to_string(),
            ));
        }
        add_moves(tx, store, mode, &write.stock, &order.updated_at)?
            .commit(Stale)
            .await
    }

    pub async fn payment_event_seen(&self, provider_event: &str) -> Result<bool, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let seen: Option<HashMap<String, serde_json::Value>> =
            self.get(keys::payment_event(store, mode, provider_event), true).await?;
        Ok(seen.is_some())
    }

    /// A page of orders, newest first: one `Query` on GSI1, the filters applied by DynamoDB.
    pub async fn list_orders(&self, filter: &OrderFilter, page: &Page) -> Result<PageOf<Order>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let index = keys::orders_index(store, mode, OrderId::new());
        let mut query = PageQuery::index(Some(GSI1), index.pk);
        if let Some((from, to)) = filter.created {
            query.sort_between = Some((from.to_string(), to.to_string()));
        }
        for (name, value) in &filter.equals {
            query = query.filter_eq(name, s(value.clone()));
        }
        if let Some(product) = filter.product {
            query = query.filter_contains(PRODUCT_IDS, s(product.to_string()));
        }
        self.query_page(&tenant_prefix(store, mode), query, page, true).await
    }

    /// An order's fulfillments, oldest first: one `Query` of its partition.
    pub async fn fulfillments(&self, order: OrderId) -> Result<Vec<Fulfillment>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        self.query_all(keys::order_partition(store, mode, order), "FUL#", false)
            .await
    }

    /// An order's refunds, oldest first: one `Query` of its partition.
    pub async fn refunds(&self, order: OrderId) -> Result<Vec<Refund>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        self.query_all(keys::order_partition(store, mode, order), "REFUND#", false)
            .await
    }
}
