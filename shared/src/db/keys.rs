//! Every key format of the table, defined once per entity.
//!
//! Store data lives under `S#{store_id}#{mode}#…`, so a key of one store can never name another store's item.
//! Two platform-level items are the documented exceptions (docs/data-model.md): the store itself, and the API-key
//! lookup by hash, which the authorizer must find before it knows the store.

use crate::ids::{
    AdjustmentId, AuditId, BrandId, CampaignId, CartId, CategoryId, CustomerGroupId, CustomerId, EventId,
    FulfillmentId, KeyId, OrderId, PriceId, ProductId, PromotionId, RefundId, ReservationId, StoreId, TransferId,
    VariantId, WarehouseId, WebhookId,
};
use crate::tenant::Mode;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
pub const TTL: &str = "ttl";
/// Items that expire stay this long after their `expires_at` before TTL may delete them: reads decide expiry.
pub const TTL_GRACE_SECS: i64 = 24 * 3600;

/// A partition and sort key.
#[derive(Clone)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

/// The prefix every key of one store's data in one mode begins with.
pub fn tenant_prefix(store: StoreId, mode: Mode) -> String {
    crate::tenant::key_prefix(store, mode)
}

pub fn store(store: StoreId) -> Key {
    Key {
        pk: format!("STORE#{store}"),
        sk: "STORE".into(),
    }
}

pub fn api_key_lookup(hash: &str) -> Key {
    Key {
        pk: format!("APIKEY#{hash}"),
        sk: "APIKEY".into(),
    }
}

/// All keys of a store and mode share a partition, newest last (ids are time-ordered).
pub fn api_key(store: StoreId, mode: Mode, key_id: KeyId) -> Key {
    Key {
        pk: api_keys_partition(store, mode),
        sk: format!("APIKEY#{key_id}"),
    }
}

pub fn api_keys_partition(store: StoreId, mode: Mode) -> String {
    format!("{}APIKEYS", tenant_prefix(store, mode))
}

/// The rate-limit window of a store in one mode: every key of the store and mode counts against it.
pub fn rate_window(store: StoreId, mode: Mode, window_start: i64) -> Key {
    Key {
        pk: format!("{}RATE#STORE", tenant_prefix(store, mode)),
        sk: format!("W#{window_start}"),
    }
}

/// How many unrevoked keys a store has in one mode (the cap on keys per store).
pub fn api_key_count(store: StoreId, mode: Mode) -> Key {
    Key {
        pk: format!("{}APIKEYCOUNT", tenant_prefix(store, mode)),
        sk: "COUNT".into(),
    }
}

/// The idempotency records of one API key: a key never sees another key's records, whatever their store.
pub fn key_idempotency_scope(store: StoreId, mode: Mode, key_id: KeyId) -> String {
    format!("{}KEY#{key_id}#", tenant_prefix(store, mode))
}

/// The idempotency records of a platform-route caller, by the SHA-256 of the key it presented (never the key).
pub fn platform_idempotency_scope(presented_key_hash: &str) -> String {
    format!("PLATFORM#{presented_key_hash}#")
}

/// `scope` is one of the two above.
pub fn idempotency(scope: &str, idempotency_key: &str) -> Key {
    Key {
        pk: format!("{scope}IDEM#{idempotency_key}"),
        sk: "IDEM".into(),
    }
}

pub fn event(store: StoreId, mode: Mode, id: EventId) -> Key {
    Key {
        pk: format!("{}EVENT#{id}", tenant_prefix(store, mode)),
        sk: "EVENT".into(),
    }
}

/// GSI1 lists a store's events in time order.
pub fn events_index(store: StoreId, mode: Mode, id: EventId) -> Key {
    Key {
        pk: format!("{}EVENTS", tenant_prefix(store, mode)),
        sk: id.to_string(),
    }
}

pub fn audit(store: StoreId, mode: Mode, id: AuditId) -> Key {
    Key {
        pk: format!("{}AUDIT", tenant_prefix(store, mode)),
        sk: id.to_string(),
    }
}

/// The key read by the health probe; it never exists.
pub fn health() -> Key {
    Key {
        pk: "HEALTH".into(),
        sk: "HEALTH".into(),
    }
}

// --- catalog ----------------------------------------------------------------------------------------------

pub fn product(store: StoreId, mode: Mode, id: ProductId) -> Key {
    Key {
        pk: format!("{}PRODUCT#{id}", tenant_prefix(store, mode)),
        sk: "PRODUCT".into(),
    }
}

/// Uniqueness guard of a product slug; holds the product id.
pub fn product_slug(store: StoreId, mode: Mode, slug: &str) -> Key {
    Key {
        pk: format!("{}SLUG#{slug}", tenant_prefix(store, mode)),
        sk: "SLUG".into(),
    }
}

/// Uniqueness guard of a SKU (products and variants share the namespace); holds the product id.
pub fn sku(store: StoreId, mode: Mode, sku: &str) -> Key {
    Key {
        pk: format!("{}SKU#{sku}", tenant_prefix(store, mode)),
        sk: "SKU".into(),
    }
}

/// A listing entry: the product in one list (`all`, `status=active`, `category=cat_…`, …) under one sort order.
pub fn product_listing(store: StoreId, mode: Mode, list: &str, sort_tag: &str, sort_value: &str, id: ProductId) -> Key {
    Key {
        pk: product_listing_partition(store, mode, list),
        sk: format!("{sort_tag}#{sort_value}#{id}"),
    }
}

pub fn product_listing_partition(store: StoreId, mode: Mode, list: &str) -> String {
    format!("{}PLIST#{list}", tenant_prefix(store, mode))
}

/// A search-token entry, partitioned by the token's first character so a prefix query reads one partition.
pub fn product_token(store: StoreId, mode: Mode, token: &str, id: ProductId) -> Key {
    Key {
        pk: product_token_partition(store, mode, token),
        sk: format!("{token}#{id}"),
    }
}

pub fn product_token_partition(store: StoreId, mode: Mode, token: &str) -> String {
    let first: String = token.chars().take(1).collect();
    format!("{}PTOK#{first}", tenant_prefix(store, mode))
}

/// A name-token entry of a category or brand (`kind`) for suggestions, partitioned like product tokens.
pub fn taxon_token(store: StoreId, mode: Mode, kind: &str, token: &str, id: &str) -> Key {
    Key {
        pk: taxon_token_partition(store, mode, kind, token),
        sk: format!("{token}#{id}"),
    }
}

pub fn taxon_token_partition(store: StoreId, mode: Mode, kind: &str, token: &str) -> String {
    let first: String = token.chars().take(1).collect();
    format!("{}TTOK#{kind}#{first}", tenant_prefix(store, mode))
}

/// Categories and brands of a store each share one partition: they are few, and listed whole.
pub fn category(store: StoreId, mode: Mode, id: CategoryId) -> Key {
    Key {
        pk: categories_partition(store, mode),
        sk: format!("CATEGORY#{id}"),
    }
}

pub fn categories_partition(store: StoreId, mode: Mode) -> String {
    format!("{}CATEGORIES", tenant_prefix(store, mode))
}

pub fn brand(store: StoreId, mode: Mode, id: BrandId) -> Key {
    Key {
        pk: brands_partition(store, mode),
        sk: format!("BRAND#{id}"),
    }
}

pub fn brands_partition(store: StoreId, mode: Mode) -> String {
    format!("{}BRANDS", tenant_prefix(store, mode))
}

/// Variants live in their product's partition, so one query reads them all.
pub fn variant(store: StoreId, mode: Mode, product_id: ProductId, id: VariantId) -> Key {
    Key {
        pk: product(store, mode, product_id).pk,
        sk: format!("VARIANT#{id}"),
    }
}

/// Which product a variant belongs to, found by the variant id alone (`var_…` in the inventory routes).
pub fn variant_owner(store: StoreId, mode: Mode, id: VariantId) -> Key {
    Key {
        pk: format!("{}VARIANTOF#{id}", tenant_prefix(store, mode)),
        sk: "VARIANTOF".into(),
    }
}

pub fn variants_prefix() -> &'static str {
    "VARIANT#"
}

/// Uniqueness guard of one combination of option values within a product.
pub fn variant_combination(store: StoreId, mode: Mode, product_id: ProductId, combination: &str) -> Key {
    Key {
        pk: product(store, mode, product_id).pk,
        sk: format!("VCOMBO#{combination}"),
    }
}

// --- webhooks ---------------------------------------------------------------------------------------------

pub fn webhook(store: StoreId, mode: Mode, id: WebhookId) -> Key {
    Key {
        pk: webhooks_partition(store, mode),
        sk: format!("WEBHOOK#{id}"),
    }
}

pub fn webhooks_partition(store: StoreId, mode: Mode) -> String {
    format!("{}WEBHOOKS", tenant_prefix(store, mode))
}

/// An endpoint's deliveries share a partition, in event (time) order.
pub fn delivery(store: StoreId, mode: Mode, endpoint: WebhookId, event: EventId) -> Key {
    Key {
        pk: deliveries_partition(store, mode, endpoint),
        sk: event.to_string(),
    }
}

pub fn deliveries_partition(store: StoreId, mode: Mode, endpoint: WebhookId) -> String {
    format!("{}WEBHOOK#{endpoint}#DELIVERIES", tenant_prefix(store, mode))
}

// --- inventory --------------------------------------------------------------------------------------------

pub fn warehouses_partition(store: StoreId, mode: Mode) -> String {
    format!("{}WAREHOUSES", tenant_prefix(store, mode))
}

pub fn warehouse(store: StoreId, mode: Mode, id: WarehouseId) -> Key {
    Key {
        pk: warehouses_partition(store, mode),
        sk: format!("WH#{id}"),
    }
}

/// One shard of the counter of a store's products, orders or customers (`kind`), beside the others.
pub fn count(store: StoreId, mode: Mode, kind: &str, shard: u32) -> Key {
    Key {
        pk: format!("{}COUNTS", tenant_prefix(store, mode)),
        sk: format!("{kind}#{shard:02}"),
    }
}

/// All transfers of a store and mode share a partition, in creation (id) order.
pub fn transfer(store: StoreId, mode: Mode, id: TransferId) -> Key {
    Key {
        pk: transfers_partition(store, mode),
        sk: format!("TRANSFER#{id}"),
    }
}

pub fn transfers_partition(store: StoreId, mode: Mode) -> String {
    format!("{}TRANSFERS", tenant_prefix(store, mode))
}

/// Marks that the store has its default warehouse: one per store and mode, made with it.
pub fn default_warehouse(store: StoreId, mode: Mode) -> Key {
    Key {
        pk: warehouses_partition(store, mode),
        sk: "DEFAULT".into(),
    }
}

/// An item's levels share a partition: one query gives every warehouse.
pub fn level(store: StoreId, mode: Mode, item: &str, warehouse: WarehouseId) -> Key {
    Key {
        pk: levels_partition(store, mode, item),
        sk: format!("WH#{warehouse}"),
    }
}

pub fn levels_partition(store: StoreId, mode: Mode, item: &str) -> String {
    format!("{}INV#{item}", tenant_prefix(store, mode))
}

pub fn adjustment(store: StoreId, mode: Mode, item: &str, id: AdjustmentId) -> Key {
    Key {
        pk: ledger_partition(store, mode, item),
        sk: id.to_string(),
    }
}

pub fn ledger_partition(store: StoreId, mode: Mode, item: &str) -> String {
    format!("{}INV#{item}#LEDGER", tenant_prefix(store, mode))
}

pub fn reservation(store: StoreId, mode: Mode, id: ReservationId) -> Key {
    Key {
        pk: format!("{}RESERVATION#{id}", tenant_prefix(store, mode)),
        sk: "RESERVATION".into(),
    }
}

/// GSI2 holds active reservations of every store by expiry, so the sweep finds the expired ones without a scan.
/// (An index key, not a table key: the items themselves stay under their store.)
pub const ACTIVE_RESERVATIONS: &str = "RESERVATIONS#ACTIVE";

pub fn active_reservation_index(expires_at: i64, id: ReservationId) -> Key {
    Key {
        pk: ACTIVE_RESERVATIONS.into(),
        sk: format!("{expires_at:012}#{id}"),
    }
}

// --- customers --------------------------------------------------------------------------------------------

/// A customer, with its addresses inside; GSI1 lists a store's customers in creation order.
pub fn customer(store: StoreId, mode: Mode, id: CustomerId) -> Key {
    Key {
        pk: format!("{}CUSTOMER#{id}", tenant_prefix(store, mode)),
        sk: "CUSTOMER".into(),
    }
}

pub fn customers_index(store: StoreId, mode: Mode, id: CustomerId) -> Key {
    Key {
        pk: format!("{}CUSTOMERS", tenant_prefix(store, mode)),
        sk: id.to_string(),
    }
}

/// Uniqueness guard of a customer's email (lower-cased); holds the customer id.
pub fn customer_email(store: StoreId, mode: Mode, email: &str) -> Key {
    Key {
        pk: format!("{}CUSTEMAIL#{email}", tenant_prefix(store, mode)),
        sk: "CUSTEMAIL".into(),
    }
}

/// Customer groups of a store share one partition: they are few, and listed whole.
pub fn customer_group(store: StoreId, mode: Mode, id: CustomerGroupId) -> Key {
    Key {
        pk: customer_groups_partition(store, mode),
        sk: format!("GROUP#{id}"),
    }
}

/// Counts a store's customer groups (in their partition, but outside `GROUP#`, so lists never see it).
pub fn customer_group_count(store: StoreId, mode: Mode) -> Key {
    Key {
        pk: customer_groups_partition(store, mode),
        sk: "COUNT".into(),
    }
}

pub fn customer_groups_partition(store: StoreId, mode: Mode) -> String {
    format!("{}CUSTOMER_GROUPS", tenant_prefix(store, mode))
}

// --- prices ---------------------------------------------------------------------------------------------------

/// A price record, listed with the store's others.
pub fn price(store: StoreId, mode: Mode, id: PriceId) -> Key {
    Key {
        pk: prices_partition(store, mode),
        sk: format!("PRICE#{id}"),
    }
}

pub fn prices_partition(store: StoreId, mode: Mode) -> String {
    format!("{}PRICES", tenant_prefix(store, mode))
}

/// Every price record of a product and its variants, in one item beside the product: a cart reads its lines'
/// books in the batch that reads their products.
pub fn price_book(store: StoreId, mode: Mode, product_id: ProductId) -> Key {
    Key {
        pk: product(store, mode, product_id).pk,
        sk: "PRICES".into(),
    }
}

/// One of the store's settings items (per mode): a small partition read item by item.
fn settings(store: StoreId, mode: Mode, name: &str) -> Key {
    Key {
        pk: format!("{}SETTINGS", tenant_prefix(store, mode)),
        sk: name.into(),
    }
}

/// The store's tax settings (per mode).
pub fn tax_settings(store: StoreId, mode: Mode) -> Key {
    settings(store, mode, "TAX")
}

/// The store's shipping zones and their options (per mode), in one item.
pub fn shipping_zones(store: StoreId, mode: Mode) -> Key {
    settings(store, mode, "SHIPPING")
}

/// A promotion's use counter (`uses`): moved by checkouts, given back by cancellations.
pub fn promotion_uses(store: StoreId, mode: Mode, promotion: PromotionId) -> Key {
    Key {
        pk: format!("{}PROMOTION#{promotion}", tenant_prefix(store, mode)),
        sk: "USES".into(),
    }
}

/// One buyer's uses of a promotion. The buyer (`customer:{id}` or `email:{address}`) goes in by its SHA-256, so
/// no email address sits in a key.
pub fn promotion_buyer_uses(store: StoreId, mode: Mode, promotion: PromotionId, buyer: &str) -> Key {
    use sha2::Digest as _;
    let digest = hex::encode(sha2::Sha256::digest(buyer.as_bytes()));
    Key {
        pk: promotion_uses(store, mode, promotion).pk,
        sk: format!("BUYER#{}", &digest[..32]),
    }
}

/// An order's use of a promotion: written by its checkout, deleted when the order is cancelled.
pub fn promotion_use(store: StoreId, mode: Mode, promotion: PromotionId, order: OrderId) -> Key {
    Key {
        pk: promotion_uses(store, mode, promotion).pk,
        sk: format!("USE#{order}"),
    }
}

/// A campaign's budget counter (`used`: uses, or minor units).
pub fn campaign_budget(store: StoreId, mode: Mode, campaign: CampaignId) -> Key {
    Key {
        pk: format!("{}CAMPAIGN#{campaign}", tenant_prefix(store, mode)),
        sk: "BUDGET".into(),
    }
}

/// The store's campaigns (per mode), in one item.
pub fn campaigns(store: StoreId, mode: Mode) -> Key {
    settings(store, mode, "CAMPAIGNS")
}

/// The store's promotions (per mode), in one item.
pub fn promotions(store: StoreId, mode: Mode) -> Key {
    settings(store, mode, "PROMOTIONS")
}

/// The store's price modifiers (per mode), in one item.
pub fn price_modifiers(store: StoreId, mode: Mode) -> Key {
    settings(store, mode, "MODIFIERS")
}

/// One of the store's price-guard shards: every price write moves them all; a checkout checks one in its
/// transaction, so a price changed after the checkout read it fails the checkout instead of charging a stale price.
pub fn price_guard(store: StoreId, mode: Mode, shard: u8) -> Key {
    Key {
        pk: format!("{}PRICE_GUARD", tenant_prefix(store, mode)),
        sk: format!("SHARD#{shard}"),
    }
}

// --- carts and orders -------------------------------------------------------------------------------------

/// A cart, with its lines inside.
pub fn cart(store: StoreId, mode: Mode, id: CartId) -> Key {
    Key {
        pk: format!("{}CART#{id}", tenant_prefix(store, mode)),
        sk: "CART".into(),
    }
}

/// An order, with its lines inside; its fulfillments and refunds share its partition.
pub fn order(store: StoreId, mode: Mode, id: OrderId) -> Key {
    Key {
        pk: order_partition(store, mode, id),
        sk: "ORDER".into(),
    }
}

pub fn order_partition(store: StoreId, mode: Mode, id: OrderId) -> String {
    format!("{}ORDER#{id}", tenant_prefix(store, mode))
}

/// GSI1 lists a store's orders in creation order.
pub fn orders_index(store: StoreId, mode: Mode, id: OrderId) -> Key {
    Key {
        pk: format!("{}ORDERS", tenant_prefix(store, mode)),
        sk: id.to_string(),
    }
}

pub fn fulfillment(store: StoreId, mode: Mode, order: OrderId, id: FulfillmentId) -> Key {
    Key {
        pk: order_partition(store, mode, order),
        sk: format!("FUL#{id}"),
    }
}

pub fn refund(store: StoreId, mode: Mode, order: OrderId, id: RefundId) -> Key {
    Key {
        pk: order_partition(store, mode, order),
        sk: format!("REFUND#{id}"),
    }
}

/// The human order number (`ORD-2026-000042`) → the order id; also makes each number unique.
pub fn order_number(store: StoreId, mode: Mode, number: &str) -> Key {
    Key {
        pk: format!("{}ORDERNO#{number}", tenant_prefix(store, mode)),
        sk: "ORDERNO".into(),
    }
}

/// The per-store, per-year order-number counter (`seq`: the last number given).
pub fn order_counter(store: StoreId, mode: Mode, year: i32) -> Key {
    Key {
        pk: format!("{}COUNTER#ORDERS#{year}", tenant_prefix(store, mode)),
        sk: "COUNTER".into(),
    }
}

/// A payment provider's event, once handled (duplicate callbacks find it and change nothing).
pub fn payment_event(store: StoreId, mode: Mode, provider_event_id: &str) -> Key {
    Key {
        pk: format!("{}PAYEVT#{provider_event_id}", tenant_prefix(store, mode)),
        sk: "PAYEVT".into(),
    }
}
