//! Price records and their resolution: which unit price a cart line pays, and why every other candidate lost. Pure;
//! stored by `db::pricing`, operated by `crate::pricing`. The rules are in docs/pricing.md.

use std::collections::BTreeSet;

use macro_rules_attribute::apply;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::checks::Checks;
use crate::error::ApiError;
use crate::ids::{CustomerGroupId, PriceId, ProductId, VariantId};
use crate::money::{CurrencyCode, Money, MAX_PRICE};

/// Most price records one product (with its variants) holds: they are read together, in one item, to price a cart.
pub const MAX_PRICES_PER_PRODUCT: usize = 100;
/// Largest `min_quantity` of a tier (a cart line holds at most 999 units; a product tier counts several lines).
pub const MAX_MIN_QUANTITY: u32 = 100_000;
/// `priority` runs from -1,000 to 1,000.
pub const MAX_PRIORITY: i32 = 1000;

/// What a tier's `min_quantity` counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TierBasis {
    /// The units of the line the price is for.
    #[default]
    Line,
    /// The units of every line of the product in the cart, whatever their variants (mix-and-match tiers).
    Product,
}

/// A price record: what a product or one of its variants costs in a currency, optionally only for a customer
/// group, within a time window, or from a quantity on (a tier).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Price {
    pub id: PriceId,
    pub product_id: ProductId,
    /// Set: the price of this variant only; absent: of the product and every variant of it.
    pub variant_id: Option<VariantId>,
    #[schema(value_type = String, example = "EUR")]
    pub currency: CurrencyCode,
    /// Minor units of `currency`.
    pub amount: i64,
    /// Set: only customers in this group get it.
    pub customer_group_id: Option<CustomerGroupId>,
    /// RFC 3339; absent: since always.
    pub valid_from: Option<String>,
    /// RFC 3339, exclusive; absent: for ever.
    pub valid_until: Option<String>,
    /// The tier: the price applies from this many units on (see `tier_basis`).
    pub min_quantity: u32,
    pub tier_basis: TierBasis,
    /// Breaks ties between equal prices: higher wins (then the lower id).
    pub priority: i32,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

#[apply(crate::body::request_body!)]
pub struct PriceIn {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    #[schema(value_type = String, example = "EUR", pattern = "^[A-Z]{3}$")]
    pub currency: CurrencyCode,
    /// Minor units, 0 to 10^13.
    #[schema(minimum = 0, maximum = 10000000000000.0)]
    pub amount: i64,
    pub customer_group_id: Option<CustomerGroupId>,
    #[schema(format = DateTime, max_length = 64, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub valid_from: Option<String>,
    #[schema(format = DateTime, max_length = 64, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub valid_until: Option<String>,
    /// Default 1.
    #[schema(minimum = 1, maximum = 100_000)]
    pub min_quantity: Option<u32>,
    /// Default `line`.
    pub tier_basis: Option<TierBasis>,
    /// Default 0.
    #[schema(minimum = -1000, maximum = 1000)]
    pub priority: Option<i32>,
}

/// The product, variant and currency of a price are fixed: a price for another is another record.
#[apply(crate::body::patch_body!)]
pub struct PricePatch {
    #[schema(minimum = 0, maximum = 10000000000000.0)]
    pub amount: Option<i64>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub customer_group_id: Option<Option<CustomerGroupId>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(format = DateTime, max_length = 64, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub valid_from: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(format = DateTime, max_length = 64, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub valid_until: Option<Option<String>>,
    #[schema(minimum = 1, maximum = 100_000)]
    pub min_quantity: Option<u32>,
    pub tier_basis: Option<TierBasis>,
    #[schema(minimum = -1000, maximum = 1000)]
    pub priority: Option<i32>,
}

impl PriceIn {
    pub fn into_price(self, id: PriceId, now: &str) -> Result<Price, ApiError> {
        let price = Price {
            id,
            product_id: self.product_id,
            variant_id: self.variant_id,
            currency: self.currency,
            amount: self.amount,
            customer_group_id: self.customer_group_id,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            min_quantity: self.min_quantity.unwrap_or(1),
            tier_basis: self.tier_basis.unwrap_or_default(),
            priority: self.priority.unwrap_or(0),
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            version: 1,
        };
        price.check()?;
        Ok(price)
    }
}

impl Price {
    /// `before` with `patch` applied, checked; the same record when nothing changes.
    pub fn patched(&self, patch: &PricePatch, now: &str) -> Result<Price, ApiError> {
        let mut after = self.clone();
        if let Some(amount) = patch.amount {
            after.amount = amount;
        }
        if let Some(group) = patch.customer_group_id {
            after.customer_group_id = group;
        }
        if let Some(from) = &patch.valid_from {
            after.valid_from = from.clone();
        }
        if let Some(until) = &patch.valid_until {
            after.valid_until = until.clone();
        }
        if let Some(min) = patch.min_quantity {
            after.min_quantity = min;
        }
        if let Some(basis) = patch.tier_basis {
            after.tier_basis = basis;
        }
        if let Some(priority) = patch.priority {
            after.priority = priority;
        }
        after.check()?;
        if after != *self {
            after.version = self.version + 1;
            after.updated_at = now.to_owned();
        }
        Ok(after)
    }

    /// The names of the fields that differ between `self` and `other`.
    pub fn changed_fields(&self, other: &Price) -> Vec<&'static str> {
        let mut changed = Vec::new();
        macro_rules! compare {
            ($($field:ident),*) => { $( if self.$field != other.$field { changed.push(stringify!($field)); } )* };
        }
        compare!(
            amount,
            customer_group_id,
            valid_from,
            valid_until,
            min_quantity,
            tier_basis,
            priority
        );
        changed
    }

    fn check(&self) -> Result<(), ApiError> {
        let mut checks = Checks::default();
        if !(0..=MAX_PRICE).contains(&self.amount) {
            checks.fail("amount", &format!("must be 0 to {MAX_PRICE} minor units"));
        }
        if !(1..=MAX_MIN_QUANTITY).contains(&self.min_quantity) {
            checks.fail("min_quantity", &format!("must be 1 to {MAX_MIN_QUANTITY}"));
        }
        if !(-MAX_PRIORITY..=MAX_PRIORITY).contains(&self.priority) {
            checks.fail("priority", &format!("must be -{MAX_PRIORITY} to {MAX_PRIORITY}"));
        }
        let from = window_end(&mut checks, "valid_from", self.valid_from.as_deref());
        let until = window_end(&mut checks, "valid_until", self.valid_until.as_deref());
        if let (Some(from), Some(until)) = (from, until) {
            if until <= from {
                checks.fail("valid_until", "must be after valid_from");
            }
        }
        checks.finish()
    }

    fn in_window(&self, at: OffsetDateTime) -> bool {
        let parse = |t: &Option<String>| t.as_deref().and_then(crate::time::parse_rfc3339);
        parse(&self.valid_from).is_none_or(|from| from <= at) && parse(&self.valid_until).is_none_or(|until| at < until)
    }

    /// How specific it is: a variant's price over the product's, a group's over everyone's.
    fn specificity(&self) -> (bool, bool) {
        (self.variant_id.is_some(), self.customer_group_id.is_some())
    }
}

/// A window's end: an RFC 3339 time, 1970 or later (a failed check otherwise).
pub(crate) fn window_end(checks: &mut Checks, field: &str, text: Option<&str>) -> Option<OffsetDateTime> {
    let text = text?;
    let parsed = crate::time::parse_rfc3339(text).filter(|at| at.year() >= 1970);
    if parsed.is_none() {
        checks.fail(field, "must be an RFC 3339 time, 1970 or later");
    }
    parsed
}

/// Who buys, in what currency, when.
#[derive(Clone, Debug)]
pub struct PricingContext {
    pub currency: CurrencyCode,
    pub customer_groups: BTreeSet<CustomerGroupId>,
    pub at: OffsetDateTime,
}

/// A line to price: what, how many, and how many of its product the cart holds in all (for `product` tiers).
#[derive(Clone, Copy, Debug)]
pub struct LineQuantities {
    pub variant_id: Option<VariantId>,
    pub quantity: u32,
    pub product_quantity: u32,
}

/// Where a line's unit price comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// The catalog's price of the product or variant.
    Catalog,
    /// A price record (`price_id`).
    PriceRecord,
}

/// Why a candidate price record is not the one a line pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceOutcome {
    /// This is the price the line pays.
    Applied,
    WrongCurrency,
    OutsideWindow,
    /// For a customer group the cart's customer is not in (or a guest).
    GroupMismatch,
    /// Its `min_quantity` is more than the line (or the product, for `tier_basis: product`) has.
    TierNotReached,
    /// A variant's price beats the product's; a group's price beats everyone's.
    LessSpecific,
    /// A higher tier reached in the same group applies.
    LowerTier,
    /// A lower eligible price applies (a customer in several groups gets the lowest).
    HigherPrice,
    /// An equal price with a higher `priority` (or, equal too, a lower id) applies.
    LowerPriority,
}

/// One candidate record of a line and what became of it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PriceCandidate {
    pub price_id: PriceId,
    pub amount: Money,
    pub variant_id: Option<VariantId>,
    pub customer_group_id: Option<CustomerGroupId>,
    pub min_quantity: u32,
    pub outcome: PriceOutcome,
}

/// The unit price a line pays, where it comes from, and every candidate record with its outcome.
#[derive(Clone, Debug)]
pub struct Resolution {
    /// `None`: no record applies and the catalog's price is in another currency.
    pub unit_price: Option<Money>,
    pub source: PriceSource,
    pub price_id: Option<PriceId>,
    pub candidates: Vec<PriceCandidate>,
}

/// Resolves a line's unit price from its product's records (`book`, in any order) and the catalog's price
/// (`base`): currency, window, group and tier are hard filters; of what is left the most specific records stay
/// (variant over product, then group over everyone), each group keeps its highest tier reached, and the lowest
/// amount wins, ties by higher `priority`, then lower id. No record left: the catalog's price, if its currency is the
/// cart's.
pub fn resolve(line: LineQuantities, base: Money, book: &[Price], context: &PricingContext) -> Resolution {
    let mut candidates: Vec<(&Price, PriceOutcome)> = book
        .iter()
        .filter(|p| p.variant_id.is_none() || p.variant_id == line.variant_id)
        .map(|p| {
            let reached = match p.tier_basis {
                TierBasis::Line => line.quantity,
                TierBasis::Product => line.product_quantity,
            };
            let outcome = if p.currency != context.currency {
                PriceOutcome::WrongCurrency
            } else if !p.in_window(context.at) {
                PriceOutcome::OutsideWindow
            } else if p
                .customer_group_id
                .is_some_and(|g| !context.customer_groups.contains(&g))
            {
                PriceOutcome::GroupMismatch
            } else if reached < p.min_quantity {
                PriceOutcome::TierNotReached
            } else {
                PriceOutcome::Applied
            };
            (p, outcome)
        })
        .collect();
    let eligible = |c: &[(&Price, PriceOutcome)]| -> Vec<usize> {
        (0..c.len()).filter(|i| c[*i].1 == PriceOutcome::Applied).collect()
    };
    if let Some(best) = eligible(&candidates)
        .iter()
        .map(|i| candidates[*i].0.specificity())
        .max()
    {
        for (price, outcome) in candidates.iter_mut() {
            if *outcome == PriceOutcome::Applied && price.specificity() < best {
                *outcome = PriceOutcome::LessSpecific;
            }
        }
    }
    let top_tiers: Vec<(Option<CustomerGroupId>, u32)> = eligible(&candidates)
        .iter()
        .map(|i| (candidates[*i].0.customer_group_id, candidates[*i].0.min_quantity))
        .collect();
    for (price, outcome) in candidates.iter_mut() {
        let group_top = top_tiers
            .iter()
            .filter(|(group, _)| *group == price.customer_group_id)
            .map(|(_, min)| *min)
            .max();
        if *outcome == PriceOutcome::Applied && group_top.is_some_and(|top| price.min_quantity < top) {
            *outcome = PriceOutcome::LowerTier;
        }
    }
    let winner = eligible(&candidates)
        .into_iter()
        .min_by_key(|i| {
            let p = candidates[*i].0;
            (p.amount, std::cmp::Reverse(p.priority), p.id)
        })
        .map(|i| candidates[i].0.clone());
    if let Some(winner) = &winner {
        for (price, outcome) in candidates.iter_mut() {
            if *outcome == PriceOutcome::Applied && price.id != winner.id {
                *outcome = if price.amount > winner.amount {
                    PriceOutcome::HigherPrice
                } else {
                    PriceOutcome::LowerPriority
                };
            }
        }
    }
    candidates.sort_by_key(|(p, _)| p.id);
    let candidates = candidates
        .into_iter()
        .map(|(p, outcome)| PriceCandidate {
            price_id: p.id,
            amount: Money::new(p.amount, p.currency),
            variant_id: p.variant_id,
            customer_group_id: p.customer_group_id,
            min_quantity: p.min_quantity,
            outcome,
        })
        .collect();
    match winner {
        Some(winner) => Resolution {
            unit_price: Some(Money::new(winner.amount, winner.currency)),
            source: PriceSource::PriceRecord,
            price_id: Some(winner.id),
            candidates,
        },
        None => Resolution {
            unit_price: (base.currency == context.currency).then_some(base),
            source: PriceSource::Catalog,
            price_id: None,
            candidates,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eur() -> CurrencyCode {
        CurrencyCode::parse("EUR").unwrap()
    }

    fn usd() -> CurrencyCode {
        CurrencyCode::parse("USD").unwrap()
    }

    fn record(amount: i64) -> Price {
        Price {
            id: PriceId::new(),
            product_id: ProductId::new(),
            variant_id: None,
            currency: eur(),
            amount,
            customer_group_id: None,
            valid_from: None,
            valid_until: None,
            min_quantity: 1,
            tier_basis: TierBasis::Line,
            priority: 0,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        }
    }

    fn context(groups: &[CustomerGroupId]) -> PricingContext {
        PricingContext {
            currency: eur(),
            customer_groups: groups.iter().copied().collect(),
            at: crate::time::parse_rfc3339("2026-06-01T00:00:00Z").unwrap(),
        }
    }

    fn line(quantity: u32) -> LineQuantities {
        LineQuantities {
            variant_id: None,
            quantity,
            product_quantity: quantity,
        }
    }

    fn outcome(resolution: &Resolution, id: PriceId) -> PriceOutcome {
        resolution.candidates.iter().find(|c| c.price_id == id).unwrap().outcome
    }

    #[test]
    fn the_catalog_price_applies_only_in_its_currency() {
        let base = Money::new(1000, usd());
        let in_usd = resolve(
            line(1),
            base,
            &[],
            &PricingContext {
                currency: usd(),
                ..context(&[])
            },
        );
        assert_eq!(in_usd.unit_price, Some(base));
        assert_eq!(in_usd.source, PriceSource::Catalog);
        assert_eq!(resolve(line(1), base, &[], &context(&[])).unit_price, None);
        // A EUR record prices the product in a EUR cart although the catalog's price is in USD.
        let eur_record = record(900);
        let in_eur = resolve(line(1), base, std::slice::from_ref(&eur_record), &context(&[]));
        assert_eq!(in_eur.unit_price, Some(Money::new(900, eur())));
        assert_eq!(in_eur.price_id, Some(eur_record.id));
    }

    #[test]
    fn hard_filters_name_their_reason() {
        let group = CustomerGroupId::new();
        let mut dollars = record(100);
        dollars.currency = usd();
        let mut expired = record(200);
        expired.valid_until = Some("2026-01-01T00:00:00Z".into());
        let mut wholesale = record(300);
        wholesale.customer_group_id = Some(group);
        let mut tier = record(400);
        tier.min_quantity = 10;
        let book = [dollars.clone(), expired.clone(), wholesale.clone(), tier.clone()];
        let resolved = resolve(line(5), Money::new(999, eur()), &book, &context(&[]));
        assert_eq!(resolved.unit_price, Some(Money::new(999, eur())));
        assert_eq!(outcome(&resolved, dollars.id), PriceOutcome::WrongCurrency);
        assert_eq!(outcome(&resolved, expired.id), PriceOutcome::OutsideWindow);
        assert_eq!(outcome(&resolved, wholesale.id), PriceOutcome::GroupMismatch);
        assert_eq!(outcome(&resolved, tier.id), PriceOutcome::TierNotReached);
    }

    #[test]
    fn specific_records_and_the_highest_tier_win() {
        let group = CustomerGroupId::new();
        let variant = VariantId::new();
        let everyone = record(500);
        let mut members = record(600);
        members.customer_group_id = Some(group);
        let mut members_10 = members.clone();
        members_10.id = PriceId::new();
        members_10.min_quantity = 10;
        members_10.amount = 450;
        let mut other_variant = record(1);
        other_variant.variant_id = Some(VariantId::new());
        let book = [
            everyone.clone(),
            members.clone(),
            members_10.clone(),
            other_variant.clone(),
        ];
        let quantities = LineQuantities {
            variant_id: Some(variant),
            quantity: 12,
            product_quantity: 12,
        };
        let resolved = resolve(quantities, Money::new(999, eur()), &book, &context(&[group]));
        assert_eq!(resolved.price_id, Some(members_10.id));
        assert_eq!(outcome(&resolved, everyone.id), PriceOutcome::LessSpecific);
        assert_eq!(outcome(&resolved, members.id), PriceOutcome::LowerTier);
        // Another variant's record is no candidate at all.
        assert!(resolved.candidates.iter().all(|c| c.price_id != other_variant.id));
        // A variant's own price beats the group's.
        let mut own = record(700);
        own.variant_id = Some(variant);
        let with_own = [book.as_slice(), &[own.clone()]].concat();
        let resolved = resolve(quantities, Money::new(999, eur()), &with_own, &context(&[group]));
        assert_eq!(resolved.price_id, Some(own.id));
        assert_eq!(outcome(&resolved, members_10.id), PriceOutcome::LessSpecific);
    }

    #[test]
    fn a_customer_in_two_groups_gets_the_lower_price_and_ties_go_by_priority() {
        // Medusa #11875: price lists ignored for a customer in two groups.
        let (a, b) = (CustomerGroupId::new(), CustomerGroupId::new());
        let mut in_a = record(800);
        in_a.customer_group_id = Some(a);
        let mut in_b = record(700);
        in_b.customer_group_id = Some(b);
        let resolved = resolve(
            line(1),
            Money::new(999, eur()),
            &[in_a.clone(), in_b.clone()],
            &context(&[a, b]),
        );
        assert_eq!(resolved.price_id, Some(in_b.id));
        assert_eq!(outcome(&resolved, in_a.id), PriceOutcome::HigherPrice);
        in_a.amount = 700;
        in_a.priority = 5;
        let resolved = resolve(
            line(1),
            Money::new(999, eur()),
            &[in_a.clone(), in_b.clone()],
            &context(&[a, b]),
        );
        assert_eq!(resolved.price_id, Some(in_a.id));
        assert_eq!(outcome(&resolved, in_b.id), PriceOutcome::LowerPriority);
    }

    #[test]
    fn product_tiers_count_every_variant_of_the_product() {
        let mut tier = record(300);
        tier.min_quantity = 10;
        tier.tier_basis = TierBasis::Product;
        let quantities = LineQuantities {
            variant_id: Some(VariantId::new()),
            quantity: 4,
            product_quantity: 10,
        };
        let resolved = resolve(
            quantities,
            Money::new(999, eur()),
            std::slice::from_ref(&tier),
            &context(&[]),
        );
        assert_eq!(resolved.price_id, Some(tier.id));
        tier.tier_basis = TierBasis::Line;
        let resolved = resolve(
            quantities,
            Money::new(999, eur()),
            std::slice::from_ref(&tier),
            &context(&[]),
        );
        assert_eq!(outcome(&resolved, tier.id), PriceOutcome::TierNotReached);
    }

    #[test]
    fn records_are_checked() {
        let input = |body: serde_json::Value| serde_json::from_value::<PriceIn>(body).unwrap();
        let product = ProductId::new();
        let bad = input(serde_json::json!({
            "product_id": product, "currency": "EUR", "amount": -1, "min_quantity": 0, "priority": 5000,
            "valid_from": "2026-02-01T00:00:00Z", "valid_until": "2026-01-01T00:00:00Z"
        }));
        let Err(ApiError::Validation(errors)) = bad.into_price(PriceId::new(), "now") else {
            panic!("refused")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["amount", "min_quantity", "priority", "valid_until"]);
        let good = input(serde_json::json!({"product_id": product, "currency": "EUR", "amount": 100}));
        let price = good.into_price(PriceId::new(), "now").unwrap();
        assert_eq!(
            (price.min_quantity, price.tier_basis, price.priority),
            (1, TierBasis::Line, 0)
        );
        let same = price.patched(&PricePatch::default(), "later").unwrap();
        assert_eq!(same, price);
        let cheaper = price
            .patched(
                &PricePatch {
                    amount: Some(90),
                    ..Default::default()
                },
                "later",
            )
            .unwrap();
        assert_eq!((cheaper.amount, cheaper.version), (90, 2));
    }

    fn arbitrary_record() -> impl Strategy<Value = Price> {
        (0i64..2000, 0usize..3, 1u32..20, -2i32..3, any::<bool>(), any::<bool>()).prop_map(
            |(amount, group, min_quantity, priority, dollars, product_basis)| {
                let groups = [None, Some(group_a()), Some(group_b())];
                let mut price = record(amount);
                price.customer_group_id = groups[group];
                price.min_quantity = min_quantity;
                price.priority = priority;
                if dollars {
                    price.currency = usd();
                }
                if product_basis {
                    price.tier_basis = TierBasis::Product;
                }
                price
            },
        )
    }

    fn group_a() -> CustomerGroupId {
        "cgrp_01J00000000000000000000001".parse().unwrap()
    }

    fn group_b() -> CustomerGroupId {
        "cgrp_01J00000000000000000000002".parse().unwrap()
    }

    proptest! {
        /// The price does not depend on the order the records are read in; exactly one candidate applies when a
        /// price is found through a record, and it is the cheapest eligible one of the most specific kind.
        #[test]
        fn resolution_is_independent_of_the_order_of_records(
            book in proptest::collection::vec(arbitrary_record(), 0..12),
            quantity in 1u32..25,
            seed in any::<u64>(),
        ) {
            let context = context(&[group_a()]);
            let quantities = LineQuantities { variant_id: None, quantity, product_quantity: quantity + 3 };
            let base = Money::new(999, eur());
            let first = resolve(quantities, base, &book, &context);
            let mut shuffled = book.clone();
            let len = shuffled.len().max(1);
            shuffled.rotate_left((seed as usize) % len);
            if seed % 2 == 0 {
                shuffled.reverse();
            }
            let second = resolve(quantities, base, &shuffled, &context);
            prop_assert_eq!(first.unit_price, second.unit_price);
            prop_assert_eq!(first.price_id, second.price_id);
            let applied = first.candidates.iter().filter(|c| c.outcome == PriceOutcome::Applied).count();
            prop_assert_eq!(applied, usize::from(first.price_id.is_some()));
            if let Some(price) = first.unit_price {
                prop_assert!(price.amount >= 0 && price.currency == eur());
            }
        }
    }
}
