//! Promotion access patterns: the store's promotions (one settings item, read with every cart priced), their use
//! counters, and what a checkout and a cancellation write to them.

use std::collections::HashMap;

use super::keys;
use super::{from_item, n, s, Item, Scoped, WriteTx};
use crate::error::ApiError;
use crate::ids::StoreId;
use crate::ids::{OrderId, PromotionId};
use crate::model::carts::CatalogSnapshot;
use crate::model::promotions::{OrderPromotion, PromotionStatus};
use crate::tenant::Mode;

/// `#uses`: a counter's attribute, by name (DynamoDB reserves many short words).
fn uses_name() -> HashMap<String, String> {
    HashMap::from([("#uses".to_owned(), "uses".to_owned())])
}

#[derive(serde::Deserialize)]
struct Uses {
    #[serde(default)]
    uses: u64,
}

impl Scoped<'_> {
    /// The uses so far, overall and by the snapshot's buyer, of each promotion that could apply to its cart (an
    /// active automatic one, or one whose code the cart holds) and has a limit: one `BatchGetItem`, none when no
    /// such promotion exists.
    pub(super) async fn promotion_uses(
        &self,
        catalog: &CatalogSnapshot,
        consistent: bool,
    ) -> Result<HashMap<PromotionId, (u64, u64)>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let buyer = catalog.buyer.identity.as_deref();
        let limited: Vec<_> = catalog
            .promotions
            .promotions
            .iter()
            .filter(|p| p.status == PromotionStatus::Active)
            .filter(|p| p.code.as_ref().is_none_or(|c| catalog.promotion_codes.contains(c)))
            .filter(|p| p.max_uses.is_some() || p.max_uses_per_customer.is_some())
            .collect();
        if limited.is_empty() {
            return Ok(HashMap::new());
        }
        let mut wanted = Vec::new();
        for promotion in &limited {
            wanted.push(keys::promotion_uses(store, mode, promotion.id));
            if let Some(buyer) = buyer.filter(|_| promotion.max_uses_per_customer.is_some()) {
                wanted.push(keys::promotion_buyer_uses(store, mode, promotion.id, buyer));
            }
        }
        let mut found = self.batch_get(wanted, consistent).await?;
        let mut count = |key: keys::Key| -> Result<u64, ApiError> {
            let uses: Option<Uses> = found.remove(&(key.pk, key.sk)).map(from_item).transpose()?;
            Ok(uses.map_or(0, |u| u.uses))
        };
        let mut uses = HashMap::new();
        for promotion in limited {
            let overall = count(keys::promotion_uses(store, mode, promotion.id))?;
            let by_buyer = match buyer {
                Some(buyer) => count(keys::promotion_buyer_uses(store, mode, promotion.id, buyer))?,
                None => 0,
            };
            uses.insert(promotion.id, (overall, by_buyer));
        }
        Ok(uses)
    }
}

/// The checkout's writes for each promotion its order took: the use counter moved (conditioned on its limit), the
/// buyer's counter likewise when the promotion limits uses per customer, and the order's use record. A failed
/// limit refuses the transaction with `refused(promotion)`.
pub(super) fn take_promotions<'a, R>(
    mut tx: WriteTx<'a, R>,
    (store, mode): (StoreId, Mode),
    (order, buyer): (OrderId, Option<&str>),
    promotions: &[OrderPromotion],
    refused: impl Fn(PromotionId) -> R,
) -> Result<WriteTx<'a, R>, ApiError> {
    for promotion in promotions {
        let id = promotion.promotion_id;
        let counted = |tx: WriteTx<'a, R>, key: keys::Key, max: Option<u64>| {
            let mut values = HashMap::from([(":one".to_owned(), n(1))]);
            let condition = max.map(|max| {
                values.insert(":max".to_owned(), n(max));
                "attribute_not_exists(#uses) OR #uses < :max"
            });
            tx.update(key, "ADD #uses :one", condition, uses_name(), values)
                .because(refused(id))
        };
        tx = counted(tx, keys::promotion_uses(store, mode, id), promotion.max_uses);
        if let (Some(max), Some(buyer)) = (promotion.max_uses_per_customer, buyer) {
            tx = counted(tx, keys::promotion_buyer_uses(store, mode, id, buyer), Some(max));
        }
        let mut record: Item = HashMap::from([
            ("order_id".to_owned(), s(order.to_string())),
            ("amount".to_owned(), n(promotion.amount.amount)),
        ]);
        let key = keys::promotion_use(store, mode, id, order);
        record.insert(keys::PK.to_owned(), s(key.pk));
        record.insert(keys::SK.to_owned(), s(key.sk));
        tx = tx.put_new(record);
    }
    Ok(tx)
}

/// A cancellation's writes: each promotion's use given back (its counters moved down, its use record deleted). The
/// order's own versioned write in the same transaction makes this happen once per order.
pub(super) fn give_back_promotions<'a, R>(
    mut tx: WriteTx<'a, R>,
    (store, mode): (StoreId, Mode),
    (order, buyer): (OrderId, Option<&str>),
    promotions: &[OrderPromotion],
) -> WriteTx<'a, R> {
    for promotion in promotions {
        let id = promotion.promotion_id;
        let back = |tx: WriteTx<'a, R>, key: keys::Key| {
            let values = HashMap::from([(":one".to_owned(), n(1)), (":less".to_owned(), n(-1))]);
            tx.update(key, "ADD #uses :less", Some("#uses >= :one"), uses_name(), values)
        };
        tx = back(tx, keys::promotion_uses(store, mode, id));
        if let (Some(_), Some(buyer)) = (promotion.max_uses_per_customer, buyer) {
            tx = back(tx, keys::promotion_buyer_uses(store, mode, id, buyer));
        }
        tx = tx.delete(keys::promotion_use(store, mode, id, order));
    }
    tx
}
