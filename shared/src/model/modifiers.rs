//! Price modifiers: a percentage or fixed adjustment of the resolved unit price for a product, a category or a
//! customer group, applied after resolution in a documented order. Pure; the rules are in docs/pricing.md.

use std::collections::BTreeSet;

use macro_rules_attribute::apply;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::checks::Checks;
use crate::error::ApiError;
use crate::ids::{CategoryId, CustomerGroupId, PriceModifierId, ProductId};
use crate::model::tax::divide_half_even;
use crate::money::{CurrencyCode, Money, MAX_PRICE};

/// Most modifiers a store keeps; they are read whole, in one item, with every cart priced.
pub const MAX_MODIFIERS: usize = 50;
/// A percentage modifier is -100 % to +1,000 %, in hundredths of a percent (`-1000` = -10 %).
const MIN_BASIS_POINTS: i64 = -10_000;
const MAX_BASIS_POINTS: i64 = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModifierKind {
    /// `value` in hundredths of a percent of the unit price: `-1000` is 10 % off, `500` is 5 % more.
    Percentage,
    /// `value` in minor units of `currency`, added to the unit price (negative: taken off).
    Fixed,
}

/// An adjustment of resolved unit prices. Every condition set must hold: the line's product (`product_id`), one of
/// its product's categories (`category_id`), one of the customer's groups (`customer_group_id`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PriceModifier {
    pub id: PriceModifierId,
    pub name: String,
    pub kind: ModifierKind,
    pub value: i64,
    /// For `fixed`: the currency of `value`; it applies only to carts in it.
    #[schema(value_type = Option<String>, example = "EUR")]
    pub currency: Option<CurrencyCode>,
    pub product_id: Option<ProductId>,
    pub category_id: Option<CategoryId>,
    pub customer_group_id: Option<CustomerGroupId>,
    /// Lower first; equal: older (lower id) first.
    pub priority: i32,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// Every modifier of a store, as stored (one item).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceModifiers {
    #[serde(default)]
    pub modifiers: Vec<PriceModifier>,
    #[serde(default)]
    pub version: u64,
}

#[apply(crate::body::request_body!)]
pub struct PriceModifierIn {
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    pub kind: ModifierKind,
    /// Hundredths of a percent (`percentage`, -10,000 to 100,000) or minor units (`fixed`, ±10^13).
    #[schema(minimum = -10000000000000.0, maximum = 10000000000000.0)]
    pub value: i64,
    /// Required for `fixed`, refused for `percentage`.
    #[schema(value_type = Option<String>, example = "EUR", pattern = "^[A-Z]{3}$")]
    pub currency: Option<CurrencyCode>,
    pub product_id: Option<ProductId>,
    pub category_id: Option<CategoryId>,
    pub customer_group_id: Option<CustomerGroupId>,
    /// Default 0; -1,000 to 1,000.
    #[schema(minimum = -1000, maximum = 1000)]
    pub priority: Option<i32>,
}

/// Absent fields are kept; `null` clears a condition. The kind and currency are fixed.
#[apply(crate::body::patch_body!)]
pub struct PriceModifierPatch {
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: Option<String>,
    #[schema(minimum = -10000000000000.0, maximum = 10000000000000.0)]
    pub value: Option<i64>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub product_id: Option<Option<ProductId>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub category_id: Option<Option<CategoryId>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub customer_group_id: Option<Option<CustomerGroupId>>,
    #[schema(minimum = -1000, maximum = 1000)]
    pub priority: Option<i32>,
}

impl PriceModifierIn {
    pub fn into_modifier(self, now: &str) -> Result<PriceModifier, ApiError> {
        let modifier = PriceModifier {
            id: PriceModifierId::new(),
            name: self.name.trim().to_owned(),
            kind: self.kind,
            value: self.value,
            currency: self.currency,
            product_id: self.product_id,
            category_id: self.category_id,
            customer_group_id: self.customer_group_id,
            priority: self.priority.unwrap_or(0),
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            version: 1,
        };
        modifier.check()?;
        Ok(modifier)
    }
}

impl PriceModifierPatch {
    pub fn apply(&self, before: &PriceModifier, now: &str) -> Result<PriceModifier, ApiError> {
        let mut after = before.clone();
        if let Some(name) = &self.name {
            after.name = name.trim().to_owned();
        }
        if let Some(value) = self.value {
            after.value = value;
        }
        if let Some(product) = self.product_id {
            after.product_id = product;
        }
        if let Some(category) = self.category_id {
            after.category_id = category;
        }
        if let Some(group) = self.customer_group_id {
            after.customer_group_id = group;
        }
        if let Some(priority) = self.priority {
            after.priority = priority;
        }
        after.check()?;
        if after != *before {
            after.version = before.version + 1;
            after.updated_at = now.to_owned();
        }
        Ok(after)
    }
}

impl PriceModifier {
    fn check(&self) -> Result<(), ApiError> {
        let mut checks = Checks::default();
        checks.text("name", Some(&self.name), true, 100);
        match (self.kind, self.currency) {
            (ModifierKind::Percentage, Some(_)) => checks.fail("currency", "only a `fixed` modifier has a currency"),
            (ModifierKind::Fixed, None) => checks.fail("currency", "required for a `fixed` modifier"),
            _ => {}
        }
        let range = match self.kind {
            ModifierKind::Percentage => MIN_BASIS_POINTS..=MAX_BASIS_POINTS,
            ModifierKind::Fixed => -MAX_PRICE..=MAX_PRICE,
        };
        if !range.contains(&self.value) {
            checks.fail("value", &format!("must be {} to {}", range.start(), range.end()));
        }
        if !(-1000..=1000).contains(&self.priority) {
            checks.fail("priority", "must be -1000 to 1000");
        }
        checks.finish()
    }

    fn applies(&self, product: ProductId, categories: &[CategoryId], groups: &BTreeSet<CustomerGroupId>) -> bool {
        self.product_id.is_none_or(|p| p == product)
            && self.category_id.is_none_or(|c| categories.contains(&c))
            && self.customer_group_id.is_none_or(|g| groups.contains(&g))
    }
}

impl PriceModifiers {
    /// `unit` after every modifier that applies to the line, in order of `priority` then id, each on the price the
    /// previous one left (a percentage rounded half-even to the minor unit); never below 0. The ids applied, in
    /// order.
    pub fn apply(
        &self,
        unit: Money,
        (product, categories): (ProductId, &[CategoryId]),
        groups: &BTreeSet<CustomerGroupId>,
    ) -> (Money, Vec<PriceModifierId>) {
        let mut ordered: Vec<&PriceModifier> = self
            .modifiers
            .iter()
            .filter(|m| m.applies(product, categories, groups))
            .filter(|m| m.kind == ModifierKind::Percentage || m.currency == Some(unit.currency))
            .collect();
        ordered.sort_by_key(|m| (m.priority, m.id));
        let mut amount = i128::from(unit.amount);
        for modifier in &ordered {
            amount += match modifier.kind {
                ModifierKind::Percentage => {
                    let change = amount * i128::from(modifier.value);
                    let magnitude = divide_half_even(change.abs(), 10_000);
                    if change < 0 {
                        -magnitude
                    } else {
                        magnitude
                    }
                }
                ModifierKind::Fixed => i128::from(modifier.value),
            };
            amount = amount.clamp(0, i128::from(MAX_PRICE));
        }
        let amount = i64::try_from(amount).unwrap_or(MAX_PRICE);
        (
            Money::new(amount, unit.currency),
            ordered.iter().map(|m| m.id).collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(amount: i64) -> Money {
        Money::new(amount, CurrencyCode::parse("EUR").unwrap())
    }

    fn modifier(body: serde_json::Value) -> PriceModifier {
        serde_json::from_value::<PriceModifierIn>(body)
            .unwrap()
            .into_modifier("now")
            .unwrap()
    }

    #[test]
    fn modifiers_apply_in_order_of_priority_on_what_the_previous_left() {
        let product = ProductId::new();
        let category = CategoryId::new();
        let group = CustomerGroupId::new();
        let all = PriceModifiers {
            modifiers: vec![
                modifier(
                    serde_json::json!({"name": "Sale", "kind": "percentage", "value": -1000, "category_id": category, "priority": 1}),
                ),
                modifier(serde_json::json!({"name": "Handling", "kind": "fixed", "value": 50, "currency": "EUR"})),
                modifier(
                    serde_json::json!({"name": "Members", "kind": "percentage", "value": -500, "customer_group_id": group, "priority": 2}),
                ),
                modifier(serde_json::json!({"name": "Dollars", "kind": "fixed", "value": -100, "currency": "USD"})),
            ],
            version: 1,
        };
        // 10.00 + 0.50 = 10.50; -10 % = 9.45; -5 % = 8.9775 → 8.98.
        let (price, applied) = all.apply(eur(1000), (product, &[category]), &[group].into_iter().collect());
        assert_eq!(price, eur(898));
        assert_eq!(applied.len(), 3);
        // Without the category and the group: only the handling fee.
        let (price, applied) = all.apply(eur(1000), (product, &[]), &BTreeSet::new());
        assert_eq!((price, applied.len()), (eur(1050), 1));
        // Never below zero.
        let free = PriceModifiers {
            modifiers: vec![modifier(
                serde_json::json!({"name": "Gift", "kind": "fixed", "value": -5000, "currency": "EUR"}),
            )],
            version: 1,
        };
        assert_eq!(free.apply(eur(1000), (product, &[]), &BTreeSet::new()).0, eur(0));
    }

    #[test]
    fn modifiers_are_checked() {
        let input: PriceModifierIn = serde_json::from_value(serde_json::json!({
            "name": " ", "kind": "percentage", "value": -20000, "currency": "EUR", "priority": 5000
        }))
        .unwrap();
        let Err(ApiError::Validation(errors)) = input.into_modifier("now") else {
            panic!("refused")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "currency", "value", "priority"]);
    }
}
