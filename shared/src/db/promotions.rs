//! Promotion access patterns: the store's promotions (one settings item, read with every cart priced), their use
//! counters, and what a checkout and a cancellation write to them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::keys;
use super::{from_item, n, s, Item, Scoped, WriteTx};
use crate::error::ApiError;
use crate::ids::StoreId;
use crate::ids::{CampaignId, OrderId, PromotionId};
use crate::model::carts::CatalogSnapshot;
use crate::model::promotions::{OrderPromotion, PromotionStatus};
use crate::tenant::Mode;

/// `#uses`: a counter's attribute, by name (DynamoDB reserves many short words).
fn uses_name() -> HashMap<String, String> {
    HashMap::from([("#uses".to_owned(), "uses".to_owned())])
}

/// A use counter (`uses`) or a budget counter (`used`).
#[derive(serde::Deserialize)]
struct Counter {
    #[serde(default)]
    uses: i64,
    #[serde(default)]
    used: i64,
}

/// Uses so far of each promotion, overall and by the buyer; and what each campaign's budget has used.
pub(super) type Usage = (HashMap<PromotionId, (u64, u64)>, HashMap<CampaignId, i64>);

impl Scoped<'_> {
    /// The uses so far, overall and by the snapshot's buyer, of each promotion that could apply to its cart (an
    /// active automatic one, or one whose code the cart holds) and has a limit, and what the budgets of their
    /// campaigns have used: one `BatchGetItem`, none when no such promotion exists.
    pub(super) async fn promotion_usage(&self, catalog: &CatalogSnapshot, consistent: bool) -> Result<Usage, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let buyer = catalog.buyer.identity.as_deref();
        let candidates: Vec<_> = catalog
            .promotions
            .promotions
            .iter()
            .filter(|p| p.status == PromotionStatus::Active)
            .filter(|p| p.code.as_ref().is_none_or(|c| catalog.promotion_codes.contains(c)))
            .collect();
        let limited: Vec<_> = candidates
            .iter()
            .filter(|p| p.max_uses.is_some() || p.max_uses_per_customer.is_some())
            .collect();
        let campaigns: BTreeSet<CampaignId> = candidates.iter().filter_map(|p| p.campaign_id).collect();
        if limited.is_empty() && campaigns.is_empty() {
            return Ok(Usage::default());
        }
        let mut wanted = Vec::new();
        for promotion in &limited {
            wanted.push(keys::promotion_uses(store, mode, promotion.id));
            if let Some(buyer) = buyer.filter(|_| promotion.max_uses_per_customer.is_some()) {
                wanted.push(keys::promotion_buyer_uses(store, mode, promotion.id, buyer));
            }
        }
        wanted.extend(campaigns.iter().map(|c| keys::campaign_budget(store, mode, *c)));
        let mut found = self.batch_get(wanted, consistent).await?;
        let mut count = |key: keys::Key| -> Result<i64, ApiError> {
            let counter: Option<Counter> = found.remove(&(key.pk, key.sk)).map(from_item).transpose()?;
            Ok(counter.map_or(0, |c| c.uses.max(c.used)))
        };
        let mut uses = HashMap::new();
        for promotion in limited {
            let overall = count(keys::promotion_uses(store, mode, promotion.id))?;
            let by_buyer = match buyer {
                Some(buyer) => count(keys::promotion_buyer_uses(store, mode, promotion.id, buyer))?,
                None => 0,
            };
            uses.insert(promotion.id, (overall.unsigned_abs(), by_buyer.unsigned_abs()));
        }
        let mut budgets = HashMap::new();
        for campaign in campaigns {
            budgets.insert(campaign, count(keys::campaign_budget(store, mode, campaign))?);
        }
        Ok((uses, budgets))
    }
}

/// What each campaign's budget takes from an order's promotions: DynamoDB lets a transaction touch an item once, so
/// promotions of one campaign draw in one update.
fn draws(promotions: &[OrderPromotion]) -> BTreeMap<CampaignId, (i64, i64)> {
    let mut draws: BTreeMap<CampaignId, (i64, i64)> = BTreeMap::new();
    for draw in promotions.iter().filter_map(|p| p.campaign) {
        let entry = draws.entry(draw.campaign_id).or_insert((0, draw.limit));
        entry.0 += draw.drawn;
    }
    draws
}

/// The checkout's writes for each promotion its order took: the use counter moved (conditioned on its limit), the
/// buyer's counter likewise when the promotion limits uses per customer, and the order's use record; then each
/// campaign's budget moved by what its promotions drew (conditioned on `used + drawn <= limit`). A failed limit
/// refuses the transaction with `refused(promotion)`, a full budget with `over_budget(campaign)`.
pub(super) fn take_promotions<'a, R>(
    mut tx: WriteTx<'a, R>,
    (store, mode): (StoreId, Mode),
    (order, buyer): (OrderId, Option<&str>),
    promotions: &[OrderPromotion],
    (refused, over_budget): (impl Fn(PromotionId) -> R, impl Fn(CampaignId) -> R),
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
    for (campaign, (drawn, limit)) in draws(promotions) {
        let values = HashMap::from([(":drawn".to_owned(), n(drawn)), (":room".to_owned(), n(limit - drawn))]);
        tx = tx
            .update(
                keys::campaign_budget(store, mode, campaign),
                "ADD #used :drawn",
                Some("attribute_not_exists(#used) OR #used <= :room"),
                HashMap::from([("#used".to_owned(), "used".to_owned())]),
                values,
            )
            .because(over_budget(campaign));
    }
    Ok(tx)
}

/// A cancellation's writes: each promotion's use given back (its counters moved down, its use record deleted) and
/// what it drew on its campaign's budget. The order's own versioned write in the same transaction makes this
/// happen once per order.
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
    for (campaign, (drawn, _)) in draws(promotions) {
        tx = tx.update(
            keys::campaign_budget(store, mode, campaign),
            "ADD #used :less",
            Some("#used >= :drawn"),
            HashMap::from([("#used".to_owned(), "used".to_owned())]),
            HashMap::from([(":less".to_owned(), n(-drawn)), (":drawn".to_owned(), n(drawn))]),
        );
    }
    tx
}
