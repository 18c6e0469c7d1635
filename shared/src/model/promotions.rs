//! Promotions: automatic or by code, on the order, its items or its shipping; their conditions, limits and how
//! they combine; and the one evaluation that gives each promotion its state and its amount, allocated to the
//! lines in whole minor units. Pure; the rules are in docs/promotions.md.

use std::collections::{BTreeSet, HashMap};

use macro_rules_attribute::apply;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::checks::Checks;
use crate::error::ApiError;
use crate::ids::{CampaignId, CartItemId, CategoryId, CustomerGroupId, ProductId, PromotionId};
use crate::model::pricing::window_end;
use crate::model::tax::divide_half_even;
use crate::money::{CurrencyCode, Money, MAX_PRICE};

/// Most promotions a store keeps (active or not); they are read whole, in one item, with every cart priced.
pub const MAX_PROMOTIONS: usize = 100;
/// Most campaigns a store keeps (one item, read with every cart priced).
pub const MAX_CAMPAIGNS: usize = 50;
/// Most codes a cart holds.
pub const MAX_CODES_PER_CART: usize = 5;
/// Most promotions one order takes: each adds up to three items to the checkout's transaction (its use counter,
/// its per-customer counter, its use record), which DynamoDB caps at 100 items beside the lines' two each.
pub const MAX_APPLIED: usize = 3;
/// Products, categories or groups a condition names.
const MAX_CONDITION_IDS: usize = 50;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PromotionStatus {
    #[default]
    Active,
    /// Deactivated (`POST /promotions/{id}/deactivate`): never applies again.
    Inactive,
}

/// What a promotion takes its amount off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The whole order's lines, spread over them.
    Order,
    /// The lines its conditions name (every line when they name none).
    Items,
    /// The chosen shipping option's price.
    Shipping,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// `value` is a percentage (`20` = 20 %, at most two decimals).
    Percentage,
    /// `value` is an amount in minor units of `currency`.
    Fixed,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// A fixed value once, spread over the target.
    #[default]
    Across,
    /// A fixed value off each unit of the target (up to `max_quantity` units).
    Each,
}

/// What a promotion's percentage is computed on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppliesTo {
    /// What the lines cost before any promotion (the default).
    #[default]
    Undiscounted,
    /// What earlier promotions (by priority) left.
    AfterPrevious,
}

/// Which other promotions' targets this one may be applied with; both must allow each other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CombinesWith {
    #[serde(default)]
    pub order: bool,
    #[serde(default)]
    pub items: bool,
    #[serde(default)]
    pub shipping: bool,
}

impl CombinesWith {
    fn allows(&self, target: Target) -> bool {
        match target {
            Target::Order => self.order,
            Target::Items => self.items,
            Target::Shipping => self.shipping,
        }
    }
}

/// What the cart must hold, and who must buy, for the promotion to apply. All that are set must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// The cart's subtotal (before promotions) at least this, in its currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_subtotal: Option<Money>,
    /// At least this many units in the cart (of the named products or categories, when named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 9999)]
    pub min_quantity: Option<u32>,
    /// A line of one of these products (for `items`: the lines discounted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub product_ids: Vec<ProductId>,
    /// A line of a product in one of these categories (for `items`: the lines discounted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub category_ids: Vec<CategoryId>,
    /// A customer in one of these groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub customer_group_ids: Vec<CustomerGroupId>,
    /// A customer (or guest email) with no order yet.
    #[serde(default)]
    pub first_order_only: bool,
}

/// Which lines a side of a buy-X-get-Y counts: lines of these products or of products in these categories (every
/// line when both are empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitSet {
    /// 1 to 99 units.
    #[schema(minimum = 1, maximum = 99)]
    pub quantity: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub product_ids: Vec<ProductId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub category_ids: Vec<CategoryId>,
}

impl UnitSet {
    fn holds(&self, line: &PromotionLine) -> bool {
        (self.product_ids.is_empty() && self.category_ids.is_empty())
            || self.product_ids.contains(&line.product_id)
            || line.category_ids.iter().any(|id| self.category_ids.contains(id))
    }
}

/// Buy `buy.quantity` units of the `buy` set, get `get.quantity` units of the `get` set at the promotion's
/// percentage off (`100`: free), as many times as the cart allows (up to `max_quantity` units got).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyXGetY {
    pub buy: UnitSet,
    pub get: UnitSet,
}

/// A promotion as stored and shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Promotion {
    pub id: PromotionId,
    /// Unique per store without regard to case; absent: applied automatically to every cart it fits.
    pub code: Option<String>,
    pub name: String,
    pub status: PromotionStatus,
    /// RFC 3339; absent: from its creation.
    pub valid_from: Option<String>,
    /// RFC 3339; absent: no end.
    pub valid_until: Option<String>,
    pub target: Target,
    pub value_type: ValueType,
    /// A percentage (`percentage`) or minor units (`fixed`).
    pub value: f64,
    /// For `fixed`: the currency of `value`; the promotion applies only to carts in it.
    #[schema(value_type = Option<String>, example = "EUR")]
    pub currency: Option<CurrencyCode>,
    pub allocation: Allocation,
    /// For `items`: at most this many units discounted per order (the cheapest first).
    pub max_quantity: Option<u32>,
    pub conditions: Conditions,
    /// Buy X get Y (an `items` percentage): which units are bought and which are got at `value` % off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buy_x_get_y: Option<BuyXGetY>,
    /// Uses across all orders; absent: unlimited. Counted at checkout, given back when an order is cancelled.
    pub max_uses: Option<u64>,
    /// Uses by one customer (by id, else by the order's email).
    pub max_uses_per_customer: Option<u64>,
    /// The campaign whose budget it draws on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<CampaignId>,
    pub combines_with: CombinesWith,
    /// Lower first; equal: older (lower id) first.
    pub priority: i32,
    pub applies_to: AppliesTo,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// Every promotion of a store, as stored (one item).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Promotions {
    #[serde(default)]
    pub promotions: Vec<Promotion>,
    #[serde(default)]
    pub version: u64,
}

/// What a campaign's budget counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetType {
    /// Orders that took one of its promotions (one per promotion and order).
    Usage,
    /// Minor units of `currency` its promotions took off.
    Spend,
}

/// A budget shared by several promotions (Medusa's campaigns): checkout never lets them pass `limit` together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub budget_type: BudgetType,
    /// Uses, or minor units of `currency`.
    pub limit: i64,
    /// For `spend`: its promotions apply only to carts in it.
    #[schema(value_type = Option<String>, example = "EUR")]
    pub currency: Option<CurrencyCode>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// Every campaign of a store, as stored (one item).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaigns {
    #[serde(default)]
    pub campaigns: Vec<Campaign>,
    #[serde(default)]
    pub version: u64,
}

#[apply(crate::body::request_body!)]
pub struct CampaignIn {
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    pub budget_type: BudgetType,
    /// Uses (`usage`), or minor units of `currency` (`spend`): 1 to 10^13.
    #[schema(minimum = 1, maximum = 10000000000000.0)]
    pub limit: i64,
    /// Required for `spend`, refused for `usage`.
    #[schema(value_type = Option<String>, example = "EUR", pattern = "^[A-Z]{3}$")]
    pub currency: Option<CurrencyCode>,
}

/// The budget type and currency are fixed.
#[apply(crate::body::patch_body!)]
pub struct CampaignPatch {
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: Option<String>,
    #[schema(minimum = 1, maximum = 10000000000000.0)]
    pub limit: Option<i64>,
}

impl CampaignIn {
    pub fn into_campaign(self, now: &str) -> Result<Campaign, ApiError> {
        let campaign = Campaign {
            id: CampaignId::new(),
            name: self.name.trim().to_owned(),
            budget_type: self.budget_type,
            limit: self.limit,
            currency: self.currency,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            version: 1,
        };
        campaign.check()?;
        Ok(campaign)
    }
}

impl CampaignPatch {
    pub fn apply(&self, before: &Campaign, now: &str) -> Result<Campaign, ApiError> {
        let mut after = before.clone();
        if let Some(name) = &self.name {
            after.name = name.trim().to_owned();
        }
        if let Some(limit) = self.limit {
            after.limit = limit;
        }
        after.check()?;
        if after != *before {
            after.version = before.version + 1;
            after.updated_at = now.to_owned();
        }
        Ok(after)
    }
}

impl Campaign {
    fn check(&self) -> Result<(), ApiError> {
        let mut checks = Checks::default();
        checks.text("name", Some(&self.name), true, 100);
        if !(1..=MAX_PRICE).contains(&self.limit) {
            checks.fail("limit", &format!("must be 1 to {MAX_PRICE}"));
        }
        match (self.budget_type, self.currency) {
            (BudgetType::Usage, Some(_)) => checks.fail("currency", "only a `spend` budget has a currency"),
            (BudgetType::Spend, None) => checks.fail("currency", "required for a `spend` budget"),
            _ => {}
        }
        checks.finish()
    }

    /// What an applied promotion of `amount` draws on this budget.
    pub fn draw(&self, amount: i64) -> i64 {
        match self.budget_type {
            BudgetType::Usage => 1,
            BudgetType::Spend => amount,
        }
    }
}

#[apply(crate::body::request_body!)]
pub struct PromotionIn {
    /// 1–40 letters, digits, `-` or `_`; unique per store without regard to case. Absent: automatic.
    #[schema(min_length = 1, max_length = 40, pattern = "^[A-Za-z0-9_-]+$")]
    pub code: Option<String>,
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    #[schema(format = DateTime, max_length = 64, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub valid_from: Option<String>,
    #[schema(format = DateTime, max_length = 64, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub valid_until: Option<String>,
    /// Default `order`.
    pub target: Option<Target>,
    pub value_type: ValueType,
    /// Percentage: more than 0, at most 100, two decimals at most. Fixed: whole minor units, 1 to 10^13.
    #[schema(minimum = 0.01, maximum = 10000000000000.0)]
    pub value: f64,
    /// Required for `fixed`, refused for `percentage`.
    #[schema(value_type = Option<String>, example = "EUR", pattern = "^[A-Z]{3}$")]
    pub currency: Option<CurrencyCode>,
    pub allocation: Option<Allocation>,
    #[schema(minimum = 1, maximum = 9999)]
    pub max_quantity: Option<u32>,
    pub conditions: Option<Conditions>,
    /// An `items` percentage: buy `buy.quantity` units, get `get.quantity` units at `value` % off.
    pub buy_x_get_y: Option<BuyXGetY>,
    #[schema(minimum = 1, maximum = 1000000000)]
    pub max_uses: Option<u64>,
    #[schema(minimum = 1, maximum = 1000000000)]
    pub max_uses_per_customer: Option<u64>,
    /// A campaign of the store whose budget it draws on.
    pub campaign_id: Option<CampaignId>,
    pub combines_with: Option<CombinesWith>,
    /// Default 0; -1,000 to 1,000.
    #[schema(minimum = -1000, maximum = 1000)]
    pub priority: Option<i32>,
    pub applies_to: Option<AppliesTo>,
    /// Shorthand for `target: shipping`, `value_type: percentage`, `value: 100`.
    #[serde(default)]
    pub free_shipping: bool,
}

/// Absent fields are kept; `null` clears an optional one. The code, target and value type are fixed.
#[apply(crate::body::patch_body!)]
pub struct PromotionPatch {
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(format = DateTime, max_length = 64, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub valid_from: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(format = DateTime, max_length = 64, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub valid_until: Option<Option<String>>,
    #[schema(minimum = 0.01, maximum = 10000000000000.0)]
    pub value: Option<f64>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(minimum = 1, maximum = 9999)]
    pub max_quantity: Option<Option<u32>>,
    pub conditions: Option<Conditions>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(minimum = 1, maximum = 1000000000)]
    pub max_uses: Option<Option<u64>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(minimum = 1, maximum = 1000000000)]
    pub max_uses_per_customer: Option<Option<u64>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub campaign_id: Option<Option<CampaignId>>,
    pub combines_with: Option<CombinesWith>,
    #[schema(minimum = -1000, maximum = 1000)]
    pub priority: Option<i32>,
    pub applies_to: Option<AppliesTo>,
}

/// A code as compared: codes are unique and matched without regard to case.
pub fn normalized_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// Whether a (normalized) code has the documented form: 1 to 40 letters, digits, `-` or `_`.
pub fn well_formed_code(code: &str) -> bool {
    (1..=40).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// What `well_formed_code` wants, for errors.
pub const CODE_FORM: &str = "1 to 40 letters, digits, `-` or `_`";

impl PromotionIn {
    pub fn into_promotion(self, now: &str) -> Result<Promotion, ApiError> {
        let mut checks = Checks::default();
        let (target, value_type, value) = match self.free_shipping {
            true => {
                if self.target.is_some_and(|t| t != Target::Shipping) {
                    checks.fail("target", "free_shipping targets the shipping");
                }
                if self.value_type != ValueType::Percentage || self.value != 100.0 {
                    checks.fail("value", "free_shipping is 100 percent off the shipping");
                }
                (Target::Shipping, ValueType::Percentage, 100.0)
            }
            false => (self.target.unwrap_or(Target::Order), self.value_type, self.value),
        };
        checks.finish()?;
        let promotion = Promotion {
            id: PromotionId::new(),
            code: self.code.as_deref().map(normalized_code),
            name: self.name.trim().to_owned(),
            status: PromotionStatus::Active,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            target,
            value_type,
            value,
            currency: self.currency,
            allocation: self.allocation.unwrap_or_default(),
            max_quantity: self.max_quantity,
            conditions: self.conditions.unwrap_or_default(),
            buy_x_get_y: self.buy_x_get_y,
            max_uses: self.max_uses,
            max_uses_per_customer: self.max_uses_per_customer,
            campaign_id: self.campaign_id,
            combines_with: self.combines_with.unwrap_or_default(),
            priority: self.priority.unwrap_or(0),
            applies_to: self.applies_to.unwrap_or_default(),
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            version: 1,
        };
        promotion.check()?;
        Ok(promotion)
    }
}

impl PromotionPatch {
    pub fn apply(&self, before: &Promotion, now: &str) -> Result<Promotion, ApiError> {
        let mut after = before.clone();
        if let Some(name) = &self.name {
            after.name = name.trim().to_owned();
        }
        if let Some(from) = &self.valid_from {
            after.valid_from = from.clone();
        }
        if let Some(until) = &self.valid_until {
            after.valid_until = until.clone();
        }
        if let Some(value) = self.value {
            after.value = value;
        }
        if let Some(max) = self.max_quantity {
            after.max_quantity = max;
        }
        if let Some(conditions) = &self.conditions {
            after.conditions = conditions.clone();
        }
        if let Some(max) = self.max_uses {
            after.max_uses = max;
        }
        if let Some(max) = self.max_uses_per_customer {
            after.max_uses_per_customer = max;
        }
        if let Some(campaign) = self.campaign_id {
            after.campaign_id = campaign;
        }
        if let Some(combines) = self.combines_with {
            after.combines_with = combines;
        }
        if let Some(priority) = self.priority {
            after.priority = priority;
        }
        if let Some(applies_to) = self.applies_to {
            after.applies_to = applies_to;
        }
        after.check()?;
        Ok(after.touched(before, now))
    }
}

impl Promotion {
    /// `self` with a new version if it differs from `before`.
    pub fn touched(mut self, before: &Promotion, now: &str) -> Promotion {
        if self != *before {
            self.version = before.version + 1;
            self.updated_at = now.to_owned();
        }
        self
    }

    fn check(&self) -> Result<(), ApiError> {
        let mut checks = Checks::default();
        checks.text("name", Some(&self.name), true, 100);
        if self.code.as_deref().is_some_and(|code| !well_formed_code(code)) {
            checks.fail("code", CODE_FORM);
        }
        let from = window_end(&mut checks, "valid_from", self.valid_from.as_deref());
        let until = window_end(&mut checks, "valid_until", self.valid_until.as_deref());
        if let (Some(from), Some(until)) = (from, until) {
            if from >= until {
                checks.fail("valid_until", "must be after valid_from");
            }
        }
        match (self.value_type, self.currency) {
            (ValueType::Percentage, Some(_)) => checks.fail("currency", "only a `fixed` value has a currency"),
            (ValueType::Fixed, None) => checks.fail("currency", "required for a `fixed` value"),
            _ => {}
        }
        if self.basis_points().is_none() && self.fixed_amount().is_none() {
            checks.fail(
                "value",
                match self.value_type {
                    ValueType::Percentage => "a percentage more than 0 and at most 100, two decimals at most",
                    ValueType::Fixed => "whole minor units, 1 to 10^13",
                },
            );
        }
        if self.allocation == Allocation::Each && (self.value_type != ValueType::Fixed || self.target != Target::Items)
        {
            checks.fail("allocation", "`each` is for a `fixed` value on `items`");
        }
        if let Some(deal) = &self.buy_x_get_y {
            if self.target != Target::Items || self.value_type != ValueType::Percentage {
                checks.fail(
                    "buy_x_get_y",
                    "is an `items` promotion with a `percentage` value (what the got units take off)",
                );
            }
            if !self.conditions.product_ids.is_empty() || !self.conditions.category_ids.is_empty() {
                checks.fail(
                    "buy_x_get_y",
                    "names its products in `buy` and `get`, not in `conditions`",
                );
            }
            for (field, set) in [("buy_x_get_y.buy", &deal.buy), ("buy_x_get_y.get", &deal.get)] {
                if !(1..=99).contains(&set.quantity) {
                    checks.fail(&format!("{field}.quantity"), "must be 1 to 99");
                }
                if set.product_ids.len() > MAX_CONDITION_IDS || set.category_ids.len() > MAX_CONDITION_IDS {
                    checks.fail(
                        field,
                        &format!("at most {MAX_CONDITION_IDS} products and categories each"),
                    );
                }
            }
        }
        if self.max_quantity.is_some() && self.target != Target::Items {
            checks.fail("max_quantity", "only an `items` promotion has a max_quantity");
        }
        if self.max_quantity.is_some_and(|q| !(1..=9999).contains(&q)) {
            checks.fail("max_quantity", "must be 1 to 9999");
        }
        for (field, max) in [
            ("max_uses", self.max_uses),
            ("max_uses_per_customer", self.max_uses_per_customer),
        ] {
            if max.is_some_and(|m| !(1..=1_000_000_000).contains(&m)) {
                checks.fail(field, "must be 1 to 1,000,000,000");
            }
        }
        let conditions = &self.conditions;
        if conditions
            .min_subtotal
            .is_some_and(|m| !(0..=MAX_PRICE).contains(&m.amount))
        {
            checks.fail("conditions.min_subtotal.amount", &format!("must be 0 to {MAX_PRICE}"));
        }
        if conditions.min_quantity.is_some_and(|q| !(1..=9999).contains(&q)) {
            checks.fail("conditions.min_quantity", "must be 1 to 9999");
        }
        for (field, count) in [
            ("conditions.product_ids", conditions.product_ids.len()),
            ("conditions.category_ids", conditions.category_ids.len()),
            ("conditions.customer_group_ids", conditions.customer_group_ids.len()),
        ] {
            if count > MAX_CONDITION_IDS {
                checks.fail(field, &format!("at most {MAX_CONDITION_IDS}"));
            }
        }
        if !(-1000..=1000).contains(&self.priority) {
            checks.fail("priority", "must be -1000 to 1000");
        }
        checks.finish()
    }

    /// A percentage value in hundredths of a percent, when it is one.
    fn basis_points(&self) -> Option<i64> {
        let hundredths = self.value * 100.0;
        let whole = hundredths.round();
        (self.value_type == ValueType::Percentage
            && (hundredths - whole).abs() < 1e-6
            && (1.0..=10_000.0).contains(&whole))
        .then_some(whole as i64)
    }

    /// A fixed value in minor units, when it is one.
    fn fixed_amount(&self) -> Option<i64> {
        (self.value_type == ValueType::Fixed
            && self.value.fract() == 0.0
            && (1.0..=MAX_PRICE as f64).contains(&self.value))
        .then_some(self.value as i64)
    }

    /// Whether a line counts for the product and category conditions (every line when they name none).
    fn covers(&self, line: &PromotionLine) -> bool {
        let c = &self.conditions;
        (c.product_ids.is_empty() && c.category_ids.is_empty())
            || c.product_ids.contains(&line.product_id)
            || line.category_ids.iter().any(|id| c.category_ids.contains(id))
    }
}

/// Who buys, when, and how far the promotions' limits are used: what evaluation needs beside the cart.
#[derive(Clone, Debug)]
pub struct PromotionContext {
    /// Unix seconds.
    pub now: i64,
    pub currency: CurrencyCode,
    pub customer_groups: BTreeSet<CustomerGroupId>,
    /// The buyer for per-customer limits: `customer:{id}` or `email:{normalized}`; absent for an anonymous cart.
    pub identity: Option<String>,
    /// Whether the buyer has ordered before; absent when unknown (no identity).
    pub has_ordered: Option<bool>,
    /// The codes the cart holds, normalized.
    pub codes: Vec<String>,
    /// Uses so far: (all orders, this buyer's orders), by promotion.
    pub uses: HashMap<PromotionId, (u64, u64)>,
    /// The store's campaigns, and what each budget has used so far.
    pub campaigns: Vec<Campaign>,
    pub budgets_used: HashMap<CampaignId, i64>,
}

/// A cart line as promotions see it: its amount before promotions (with tax in a tax-inclusive store).
#[derive(Clone, Debug)]
pub struct PromotionLine {
    pub id: CartItemId,
    pub product_id: ProductId,
    pub category_ids: Vec<CategoryId>,
    pub quantity: u32,
    pub amount: i64,
}

/// What became of a promotion considered for a cart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PromotionState {
    Applied,
    /// Deactivated, or its code names no promotion any more.
    Inactive,
    NotStarted,
    Expired,
    /// Below its minimum subtotal or quantity.
    BelowMinimum,
    /// No line of its products or categories, no shipping chosen, or nothing left to take off.
    NotApplicable,
    UsageExhausted,
    /// Its campaign's budget has no room for it.
    BudgetExhausted,
    CustomerNotEligible,
    /// A per-customer limit or a first-order condition, on a cart with neither customer nor email.
    CustomerIdentityRequired,
    CurrencyMismatch,
    /// An applied promotion and this one do not combine.
    NotCombinable,
    /// The order already takes the most promotions it can ([`MAX_APPLIED`]), of higher priority.
    StoppedByPriority,
}

/// One promotion's verdict on a cart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PromotionOutcome {
    /// Absent: the cart's code names no promotion any more (it was deleted).
    pub promotion_id: Option<PromotionId>,
    pub code: Option<String>,
    pub name: String,
    pub target: Target,
    pub state: PromotionState,
    /// What it takes off (0 unless applied).
    pub amount: Money,
}

/// A promotion an order took, as it took it: what a cancellation gives back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderPromotion {
    pub promotion_id: PromotionId,
    pub code: Option<String>,
    pub name: String,
    pub target: Target,
    pub amount: Money,
    /// Its limits when the order took it: the checkout's counters were conditioned on them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses_per_customer: Option<u64>,
    /// The campaign whose budget it drew on, what it drew (1 use, or its amount) and the budget's limit then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<CampaignDraw>,
}

/// What an order's promotion drew on a campaign's budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CampaignDraw {
    pub campaign_id: CampaignId,
    pub drawn: i64,
    pub limit: i64,
}

impl OrderPromotion {
    /// The applied promotions of an evaluation, with the limits they were applied under.
    pub fn taken(
        outcomes: &[PromotionOutcome],
        promotions: &[Promotion],
        campaigns: &[Campaign],
    ) -> Vec<OrderPromotion> {
        outcomes
            .iter()
            .filter(|o| o.state == PromotionState::Applied)
            .filter_map(|o| {
                let promotion = promotions.iter().find(|p| Some(p.id) == o.promotion_id)?;
                Some(OrderPromotion {
                    promotion_id: promotion.id,
                    code: promotion.code.clone(),
                    name: promotion.name.clone(),
                    target: promotion.target,
                    amount: o.amount,
                    max_uses: promotion.max_uses,
                    max_uses_per_customer: promotion.max_uses_per_customer,
                    campaign: promotion
                        .campaign_id
                        .and_then(|id| campaigns.iter().find(|c| c.id == id))
                        .map(|c| CampaignDraw {
                            campaign_id: c.id,
                            drawn: c.draw(o.amount.amount),
                            limit: c.limit,
                        }),
                })
            })
            .collect()
    }
}

/// A part of a promotion's amount on one line (or on the shipping).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DiscountAllocation {
    pub promotion_id: PromotionId,
    pub amount: Money,
}

/// The promotions' effect on a cart: each considered promotion's outcome, and the applied ones' amounts by line
/// (aligned with the lines given) and on the shipping.
#[derive(Clone, Debug, Default)]
pub struct Discounts {
    pub outcomes: Vec<PromotionOutcome>,
    pub lines: Vec<Vec<DiscountAllocation>>,
    pub shipping: Vec<DiscountAllocation>,
}

impl Discounts {
    pub fn line_total(&self, index: usize) -> i64 {
        self.lines
            .get(index)
            .map_or(0, |l| l.iter().map(|a| a.amount.amount).sum())
    }

    pub fn shipping_total(&self) -> i64 {
        self.shipping.iter().map(|a| a.amount.amount).sum()
    }

    pub fn applied(&self) -> impl Iterator<Item = &PromotionOutcome> {
        self.outcomes.iter().filter(|o| o.state == PromotionState::Applied)
    }
}

/// A digest of what promotions take off a cart (each applied promotion's amount, each line's and the shipping's
/// allocations): `POST /v1/promotions/validate` returns it, and a checkout given it refuses with `quote_changed`
/// when its own evaluation digests otherwise.
pub fn quote_hash(
    outcomes: &[PromotionOutcome],
    lines: &[(CartItemId, &[DiscountAllocation])],
    shipping: &[DiscountAllocation],
) -> String {
    use sha2::Digest as _;
    let mut digest = sha2::Sha256::new();
    for outcome in outcomes.iter().filter(|o| o.state == PromotionState::Applied) {
        let id = outcome.promotion_id.map(|id| id.to_string()).unwrap_or_default();
        digest.update(format!("promotion {id} {}\n", outcome.amount.amount));
    }
    for (line, allocations) in lines {
        for allocation in allocations.iter() {
            digest.update(format!(
                "line {line} {} {}\n",
                allocation.promotion_id, allocation.amount.amount
            ));
        }
    }
    for allocation in shipping {
        digest.update(format!(
            "shipping {} {}\n",
            allocation.promotion_id, allocation.amount.amount
        ));
    }
    format!("qh_{}", &hex::encode(digest.finalize())[..32])
}

/// Splits `amount` over `weights` in proportion, in whole units: each part is ⌊amount × w ÷ Σw⌋, and the units
/// left over go one each to the largest remainders, ties to the lower index (callers order the weights by line
/// id, so the split does not depend on the order lines were added). Σ parts = `amount` when Σw > 0; no part
/// exceeds its weight when `amount` ≤ Σw.
pub fn allocate(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    if total == 0 || amount <= 0 {
        return vec![0; weights.len()];
    }
    let amount = i128::from(amount);
    let mut parts: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (index, weight) in weights.iter().enumerate() {
        let product = amount * i128::from((*weight).max(0));
        parts.push(product / total);
        remainders.push((product % total, index));
    }
    let left = amount - parts.iter().sum::<i128>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, index) in remainders.into_iter().take(usize::try_from(left).unwrap_or(0)) {
        parts[index] += 1;
    }
    parts.into_iter().map(|p| i64::try_from(p).unwrap_or(0)).collect()
}

/// Evaluates every automatic promotion and every promotion whose code the cart holds, in order of priority then
/// id: each gets its state, and each applied one its amount (computed once, rounded half-even) allocated to the
/// lines by largest remainder weighted by what each line costs before it (`applies_to`), then — by the
/// cumulative shares a refund by line uses — to the line's units.
pub fn evaluate(
    promotions: &[Promotion],
    lines: &[PromotionLine],
    shipping: Option<i64>,
    context: &PromotionContext,
) -> Discounts {
    let money = |amount: i64| Money::new(amount, context.currency);
    let mut candidates: Vec<&Promotion> = promotions
        .iter()
        .filter(|p| match &p.code {
            None => p.status == PromotionStatus::Active,
            Some(code) => context.codes.contains(code),
        })
        .collect();
    candidates.sort_by_key(|p| (p.priority, p.id));
    // Lines in id order: allocation ties go to the lower id, whatever order the lines came in.
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|i| lines[*i].id);
    let mut discounts = Discounts {
        outcomes: Vec::new(),
        lines: vec![Vec::new(); lines.len()],
        shipping: Vec::new(),
    };
    let subtotal: i64 = lines.iter().map(|l| l.amount).sum();
    let mut applied: Vec<&Promotion> = Vec::new();
    // What this cart's applied promotions draw on each campaign's budget.
    let mut drawn: HashMap<CampaignId, i64> = HashMap::new();
    for promotion in candidates {
        let mut outcome = PromotionOutcome {
            promotion_id: Some(promotion.id),
            code: promotion.code.clone(),
            name: promotion.name.clone(),
            target: promotion.target,
            state: PromotionState::Applied,
            amount: money(0),
        };
        outcome.state = match eligibility(promotion, lines, subtotal, context) {
            Some(state) => state,
            None if applied.len() >= MAX_APPLIED => PromotionState::StoppedByPriority,
            None if applied
                .iter()
                .any(|a| !a.combines_with.allows(promotion.target) || !promotion.combines_with.allows(a.target)) =>
            {
                PromotionState::NotCombinable
            }
            None => {
                let (parts, on_shipping) = amounts(promotion, lines, &order, shipping, &discounts);
                let amount = parts.iter().sum::<i64>() + on_shipping;
                let campaign = promotion
                    .campaign_id
                    .and_then(|id| context.campaigns.iter().find(|c| c.id == id));
                let room = campaign.map(|c| {
                    let used =
                        context.budgets_used.get(&c.id).copied().unwrap_or(0) + drawn.get(&c.id).copied().unwrap_or(0);
                    (c, c.limit - used)
                });
                if amount == 0 {
                    PromotionState::NotApplicable
                } else if room.is_some_and(|(c, _)| c.currency.is_some_and(|cur| cur != context.currency)) {
                    PromotionState::CurrencyMismatch
                } else if room.is_some_and(|(c, room)| c.draw(amount) > room) {
                    PromotionState::BudgetExhausted
                } else {
                    if let Some((c, _)) = room {
                        *drawn.entry(c.id).or_default() += c.draw(amount);
                    }
                    for (index, part) in parts.into_iter().enumerate().filter(|(_, p)| *p > 0) {
                        discounts.lines[index].push(DiscountAllocation {
                            promotion_id: promotion.id,
                            amount: money(part),
                        });
                    }
                    if on_shipping > 0 {
                        discounts.shipping.push(DiscountAllocation {
                            promotion_id: promotion.id,
                            amount: money(on_shipping),
                        });
                    }
                    outcome.amount = money(amount);
                    applied.push(promotion);
                    PromotionState::Applied
                }
            }
        };
        discounts.outcomes.push(outcome);
    }
    // Codes the cart holds that name no promotion (deleted since they were added).
    for code in &context.codes {
        if !promotions.iter().any(|p| p.code.as_ref() == Some(code)) {
            discounts.outcomes.push(PromotionOutcome {
                promotion_id: None,
                code: Some(code.clone()),
                name: String::new(),
                target: Target::Order,
                state: PromotionState::Inactive,
                amount: money(0),
            });
        }
    }
    discounts
}

/// Why the promotion does not apply to this cart and buyer, if it does not (before combination).
fn eligibility(
    promotion: &Promotion,
    lines: &[PromotionLine],
    subtotal: i64,
    context: &PromotionContext,
) -> Option<PromotionState> {
    let at = |text: &Option<String>| {
        text.as_deref()
            .and_then(crate::time::parse_rfc3339)
            .map(|t| t.unix_timestamp())
    };
    let conditions = &promotion.conditions;
    let covered: Vec<&PromotionLine> = lines.iter().filter(|l| promotion.covers(l)).collect();
    let (uses, customer_uses) = context.uses.get(&promotion.id).copied().unwrap_or_default();
    let needs_identity = promotion.max_uses_per_customer.is_some() || conditions.first_order_only;
    let currency_differs = |c: Option<CurrencyCode>| c.is_some_and(|c| c != context.currency);
    Some(if promotion.status == PromotionStatus::Inactive {
        PromotionState::Inactive
    } else if at(&promotion.valid_from).is_some_and(|from| context.now < from) {
        PromotionState::NotStarted
    } else if at(&promotion.valid_until).is_some_and(|until| context.now >= until) {
        PromotionState::Expired
    } else if currency_differs(promotion.currency) || currency_differs(conditions.min_subtotal.map(|m| m.currency)) {
        PromotionState::CurrencyMismatch
    } else if !conditions.customer_group_ids.is_empty()
        && !conditions
            .customer_group_ids
            .iter()
            .any(|g| context.customer_groups.contains(g))
    {
        PromotionState::CustomerNotEligible
    } else if needs_identity && context.identity.is_none() {
        PromotionState::CustomerIdentityRequired
    } else if conditions.first_order_only && context.has_ordered != Some(false) {
        PromotionState::CustomerNotEligible
    } else if promotion.max_uses.is_some_and(|max| uses >= max)
        || promotion.max_uses_per_customer.is_some_and(|max| customer_uses >= max)
    {
        PromotionState::UsageExhausted
    } else if covered.is_empty() {
        PromotionState::NotApplicable
    } else if conditions.min_subtotal.is_some_and(|min| subtotal < min.amount)
        || conditions
            .min_quantity
            .is_some_and(|min| covered.iter().map(|l| u64::from(l.quantity)).sum::<u64>() < u64::from(min))
    {
        PromotionState::BelowMinimum
    } else {
        return None;
    })
}

/// What an eligible promotion takes off each line (aligned with `lines`) and off the shipping.
fn amounts(
    promotion: &Promotion,
    lines: &[PromotionLine],
    order: &[usize],
    shipping: Option<i64>,
    discounts: &Discounts,
) -> (Vec<i64>, i64) {
    let after_previous = promotion.applies_to == AppliesTo::AfterPrevious;
    // What each line (in id order) costs before this promotion, and what it has left to discount.
    let left = |index: usize| lines[index].amount - discounts.line_total(index);
    let base = |index: usize| {
        if after_previous {
            left(index)
        } else {
            lines[index].amount
        }
    };
    let mut parts = vec![0; lines.len()];
    let percentage = |of: i64| {
        let bp = promotion.basis_points().unwrap_or(0);
        i64::try_from(divide_half_even(i128::from(of) * i128::from(bp), 10_000)).unwrap_or(0)
    };
    match promotion.target {
        Target::Shipping => {
            let Some(shipping) = shipping else { return (parts, 0) };
            let already = discounts.shipping_total();
            let of = if after_previous { shipping - already } else { shipping };
            let amount = match promotion.value_type {
                ValueType::Percentage => percentage(of),
                ValueType::Fixed => promotion.fixed_amount().unwrap_or(0).min(of),
            };
            return (parts, amount.clamp(0, (shipping - already).max(0)));
        }
        Target::Order | Target::Items => {}
    }
    // The lines discounted, in id order, with how many of their units: for `items` the covered lines, up to
    // `max_quantity` units, the cheapest units first.
    let mut units: Vec<(usize, u32)> = order
        .iter()
        .filter(|i| promotion.target == Target::Order || promotion.covers(&lines[**i]))
        .map(|i| (*i, lines[*i].quantity))
        .collect();
    if let Some(deal) = &promotion.buy_x_get_y {
        units = got_units(deal, lines, order, promotion.max_quantity);
    } else if let (Target::Items, Some(max)) = (promotion.target, promotion.max_quantity) {
        let mut cheapest = units.clone();
        let unit_price = |i: usize| i128::from(lines[i].amount) * 1_000_000 / i128::from(lines[i].quantity.max(1));
        cheapest.sort_by_key(|(i, _)| (unit_price(*i), lines[*i].id));
        let mut room = max;
        let mut capped = HashMap::new();
        for (index, quantity) in cheapest {
            let take = quantity.min(room);
            room -= take;
            capped.insert(index, take);
        }
        units = units
            .into_iter()
            .map(|(i, _)| (i, capped.get(&i).copied().unwrap_or(0)))
            .collect();
    }
    // A line's weight: its base, for the units taken (the cumulative shares of its units, as refunds use).
    let weight =
        |(index, taken): (usize, u32)| crate::model::orders::share_of(base(index).max(0), taken, lines[index].quantity);
    let weights: Vec<i64> = units.iter().map(|u| weight(*u)).collect();
    let room: Vec<i64> = units.iter().map(|(i, _)| left(*i).max(0)).collect();
    let of: i64 = weights.iter().sum();
    let amount = match (promotion.value_type, promotion.allocation) {
        (ValueType::Percentage, _) => percentage(of),
        (ValueType::Fixed, Allocation::Across) => promotion.fixed_amount().unwrap_or(0).min(of),
        (ValueType::Fixed, Allocation::Each) => {
            // A fixed value off each unit, never more than the unit's share.
            let value = promotion.fixed_amount().unwrap_or(0);
            for ((index, taken), room) in units.iter().zip(&room) {
                let off = i64::from(*taken)
                    .saturating_mul(value)
                    .min(weight((*index, *taken)))
                    .min(*room);
                parts[*index] = off.max(0);
            }
            return (parts, 0);
        }
    };
    let amount = amount.min(room.iter().sum());
    for (((index, _), part), room) in units.iter().zip(allocate(amount, &weights)).zip(&room) {
        parts[*index] = part.min(*room);
    }
    (parts, 0)
}

/// The units a buy-X-get-Y discounts, by line (in `order`): while the cart has them, `buy.quantity` units of the
/// buy set are taken, the dearest first, then `get.quantity` units of the get set, the cheapest first; a unit counts
/// once, as bought or as got. At most `max` units got.
fn got_units(deal: &BuyXGetY, lines: &[PromotionLine], order: &[usize], max: Option<u32>) -> Vec<(usize, u32)> {
    // A unit's price, comparable across lines (the line's amount over its quantity, scaled).
    let unit_price = |i: usize| i128::from(lines[i].amount) * 1_000_000 / i128::from(lines[i].quantity.max(1));
    let mut left: HashMap<usize, u32> = order.iter().map(|i| (*i, lines[*i].quantity)).collect();
    let mut got: HashMap<usize, u32> = HashMap::new();
    let mut dearest: Vec<usize> = order.iter().copied().filter(|i| deal.buy.holds(&lines[*i])).collect();
    dearest.sort_by_key(|i| (std::cmp::Reverse(unit_price(*i)), lines[*i].id));
    let mut cheapest: Vec<usize> = order.iter().copied().filter(|i| deal.get.holds(&lines[*i])).collect();
    cheapest.sort_by_key(|i| (unit_price(*i), lines[*i].id));
    let mut room = max.unwrap_or(u32::MAX);
    let take = |from: &[usize], wanted: u32, left: &mut HashMap<usize, u32>| -> Option<Vec<(usize, u32)>> {
        let mut taken = Vec::new();
        let mut missing = wanted;
        for index in from {
            let available = left.get(index).copied().unwrap_or(0);
            let units = available.min(missing);
            if units > 0 {
                taken.push((*index, units));
                missing -= units;
            }
            if missing == 0 {
                break;
            }
        }
        if missing > 0 {
            return None;
        }
        for (index, units) in &taken {
            if let Some(available) = left.get_mut(index) {
                *available -= units;
            }
        }
        Some(taken)
    };
    while room > 0 {
        let mut trial = left.clone();
        let Some(_) = take(&dearest, deal.buy.quantity, &mut trial) else {
            break;
        };
        let Some(free) = take(&cheapest, deal.get.quantity.min(room), &mut trial) else {
            break;
        };
        left = trial;
        for (index, units) in free {
            *got.entry(index).or_default() += units;
            room = room.saturating_sub(units);
        }
    }
    order.iter().map(|i| (*i, got.get(i).copied().unwrap_or(0))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eur() -> CurrencyCode {
        CurrencyCode::parse("EUR").unwrap()
    }

    fn promotion(body: serde_json::Value) -> Promotion {
        serde_json::from_value::<PromotionIn>(body)
            .unwrap()
            .into_promotion("2026-01-01T00:00:00Z")
            .unwrap()
    }

    fn line(amount: i64, quantity: u32) -> PromotionLine {
        PromotionLine {
            id: CartItemId::new(),
            product_id: ProductId::new(),
            category_ids: Vec::new(),
            quantity,
            amount,
        }
    }

    fn context() -> PromotionContext {
        PromotionContext {
            now: 1_800_000_000,
            currency: eur(),
            customer_groups: BTreeSet::new(),
            identity: Some("customer:cus_1".into()),
            has_ordered: Some(false),
            codes: Vec::new(),
            uses: HashMap::new(),
            campaigns: Vec::new(),
            budgets_used: HashMap::new(),
        }
    }

    fn states(discounts: &Discounts) -> Vec<PromotionState> {
        discounts.outcomes.iter().map(|o| o.state).collect()
    }

    #[test]
    fn largest_remainder_gives_the_leftover_units_to_the_largest_remainders() {
        // 10.00 off 20.00 + 30.00 + 50.00: exact. 1.00 over three equal lines: 0.34, 0.33, 0.33.
        assert_eq!(allocate(1000, &[2000, 3000, 5000]), [200, 300, 500]);
        assert_eq!(allocate(100, &[1, 1, 1]), [34, 33, 33]);
        assert_eq!(allocate(5, &[0, 0]), [0, 0]);
        assert_eq!(allocate(7, &[3, 0, 4]), [3, 0, 4]);
    }

    #[test]
    fn an_order_discount_is_spread_over_the_lines_by_what_each_costs() {
        let order = promotion(json!({"name": "10 off", "value_type": "fixed", "value": 1000, "currency": "EUR"}));
        let lines = [line(2000, 1), line(3000, 3), line(5000, 2)];
        let discounts = evaluate(&[order], &lines, None, &context());
        assert_eq!(states(&discounts), [PromotionState::Applied]);
        let parts: Vec<i64> = (0..3).map(|i| discounts.line_total(i)).collect();
        assert_eq!(parts, [200, 300, 500]);
        assert_eq!(discounts.outcomes[0].amount.amount, 1000);
    }

    #[test]
    fn a_percentage_is_rounded_once_half_even() {
        // 15 % of 3 × 0.99 = 0.4455 → 0.45 (on the order, not per line or unit).
        let percent = promotion(json!({"name": "15", "value_type": "percentage", "value": 15}));
        let lines = [line(99, 1), line(99, 1), line(99, 1)];
        let discounts = evaluate(&[percent], &lines, None, &context());
        assert_eq!(discounts.outcomes[0].amount.amount, 45);
        let parts: Vec<i64> = (0..3).map(|i| discounts.line_total(i)).collect();
        assert_eq!(parts.iter().sum::<i64>(), 45);
    }

    #[test]
    fn after_previous_takes_its_percentage_of_what_is_left() {
        // 50 % then 50 %: undiscounted would take the whole 100.00 (a free order); after_previous takes 25.00.
        let first = promotion(
            json!({"name": "half", "value_type": "percentage", "value": 50, "priority": 1,
            "combines_with": {"order": true}}),
        );
        let stacked = |applies_to: &str| {
            promotion(
                json!({"name": "half again", "value_type": "percentage", "value": 50, "priority": 2,
                "applies_to": applies_to, "combines_with": {"order": true}}),
            )
        };
        let lines = [line(10_000, 1)];
        let after = evaluate(&[first.clone(), stacked("after_previous")], &lines, None, &context());
        assert_eq!(after.line_total(0), 7500);
        let naive = evaluate(&[first, stacked("undiscounted")], &lines, None, &context());
        assert_eq!(naive.line_total(0), 10_000, "never below zero, even so");
    }

    #[test]
    fn promotions_combine_only_when_both_allow_it_and_at_most_three_apply() {
        let order = |name: &str, priority: i32, combines: bool| {
            promotion(
                json!({"name": name, "value_type": "percentage", "value": 1, "priority": priority,
                "combines_with": {"order": combines, "items": combines, "shipping": combines}}),
            )
        };
        let lines = [line(10_000, 1)];
        let alone = evaluate(&[order("a", 1, false), order("b", 2, true)], &lines, None, &context());
        assert_eq!(states(&alone), [PromotionState::Applied, PromotionState::NotCombinable]);
        let all: Vec<Promotion> = (0..5).map(|i| order("x", i, true)).collect();
        let many = evaluate(&all, &lines, None, &context());
        assert_eq!(
            states(&many),
            [
                PromotionState::Applied,
                PromotionState::Applied,
                PromotionState::Applied,
                PromotionState::StoppedByPriority,
                PromotionState::StoppedByPriority
            ]
        );
    }

    #[test]
    fn each_state_names_why_a_promotion_does_not_apply() {
        let group = CustomerGroupId::new();
        let cases = [
            (
                json!({"valid_from": "2030-01-01T00:00:00Z"}),
                PromotionState::NotStarted,
            ),
            (json!({"valid_until": "2020-01-01T00:00:00Z"}), PromotionState::Expired),
            (
                json!({"conditions": {"min_subtotal": {"amount": 5001, "currency": "EUR"}}}),
                PromotionState::BelowMinimum,
            ),
            (
                json!({"conditions": {"min_subtotal": {"amount": 1, "currency": "USD"}}}),
                PromotionState::CurrencyMismatch,
            ),
            (json!({"conditions": {"min_quantity": 3}}), PromotionState::BelowMinimum),
            (
                json!({"conditions": {"customer_group_ids": [group]}}),
                PromotionState::CustomerNotEligible,
            ),
            (
                json!({"conditions": {"product_ids": [ProductId::new()]}}),
                PromotionState::NotApplicable,
            ),
            (json!({"max_uses": 2}), PromotionState::UsageExhausted),
            (json!({"max_uses_per_customer": 1}), PromotionState::UsageExhausted),
        ];
        let lines = [line(5000, 2)];
        let mut context = context();
        for (extra, expected) in cases {
            let mut body = json!({"name": "p", "value_type": "percentage", "value": 10});
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            let promotion = promotion(body.clone());
            context.uses.insert(promotion.id, (2, 1));
            let discounts = evaluate(&[promotion], &lines, None, &context);
            assert_eq!(states(&discounts), [expected], "{body}");
        }
        let guest = PromotionContext {
            identity: None,
            has_ordered: None,
            ..self::context()
        };
        let limited =
            promotion(json!({"name": "p", "value_type": "percentage", "value": 10, "max_uses_per_customer": 1}));
        assert_eq!(
            states(&evaluate(&[limited], &lines, None, &guest)),
            [PromotionState::CustomerIdentityRequired]
        );
        let first = promotion(json!({"name": "p", "value_type": "percentage", "value": 10,
            "conditions": {"first_order_only": true}}));
        assert_eq!(
            states(&evaluate(std::slice::from_ref(&first), &lines, None, &self::context())),
            [PromotionState::Applied]
        );
        let returning = PromotionContext {
            has_ordered: Some(true),
            ..self::context()
        };
        assert_eq!(
            states(&evaluate(&[first], &lines, None, &returning)),
            [PromotionState::CustomerNotEligible]
        );
        let fixed_usd = promotion(json!({"name": "p", "value_type": "fixed", "value": 100, "currency": "USD"}));
        assert_eq!(
            states(&evaluate(&[fixed_usd], &lines, None, &context)),
            [PromotionState::CurrencyMismatch]
        );
        let coded = promotion(json!({"name": "p", "code": "save10", "value_type": "percentage", "value": 10}));
        assert_eq!(coded.code.as_deref(), Some("SAVE10"));
        assert!(
            evaluate(std::slice::from_ref(&coded), &lines, None, &context)
                .outcomes
                .is_empty(),
            "not entered"
        );
        context.codes = vec!["SAVE10".into(), "GONE".into()];
        let entered = evaluate(&[coded], &lines, None, &context);
        assert_eq!(states(&entered), [PromotionState::Applied, PromotionState::Inactive]);
    }

    #[test]
    fn item_discounts_take_the_named_lines_cheapest_units_first() {
        let wanted = ProductId::new();
        let mut lines = [line(3000, 3), line(2000, 1), line(9000, 1)];
        lines[0].product_id = wanted;
        lines[1].product_id = wanted;
        // 5.00 off each unit, at most 2 units, the cheapest first: two of the 10.00 units; none of the others.
        let each = promotion(
            json!({"name": "5 each", "target": "items", "value_type": "fixed", "value": 500,
            "currency": "EUR", "allocation": "each", "max_quantity": 2, "conditions": {"product_ids": [wanted]}}),
        );
        let discounts = evaluate(&[each], &lines, None, &context());
        let parts: Vec<i64> = (0..3).map(|i| discounts.line_total(i)).collect();
        assert_eq!(parts, [1000, 0, 0]);
        // Free shipping takes the shipping's price.
        let free = promotion(json!({"name": "free", "value_type": "percentage", "value": 100, "free_shipping": true}));
        let shipped = evaluate(std::slice::from_ref(&free), &lines, Some(700), &context());
        assert_eq!(
            (shipped.shipping_total(), shipped.outcomes[0].amount.amount),
            (700, 700)
        );
        let unshipped = evaluate(&[free], &lines, None, &context());
        assert_eq!(states(&unshipped), [PromotionState::NotApplicable]);
    }

    #[test]
    fn buy_x_get_y_gives_the_cheapest_units_after_the_dearest_are_bought() {
        let lamp = ProductId::new();
        let shade = ProductId::new();
        let mut lines = [line(8000, 2), line(6000, 3), line(1000, 1)];
        lines[0].product_id = lamp;
        lines[1].product_id = shade;
        // Buy 2 of anything, get 1 free: 6 units → two rounds; the free units are the cheapest (10.00, 20.00).
        let any = promotion(
            json!({"name": "3 for 2", "target": "items", "value_type": "percentage", "value": 100,
            "buy_x_get_y": {"buy": {"quantity": 2}, "get": {"quantity": 1}}}),
        );
        let discounts = evaluate(std::slice::from_ref(&any), &lines, None, &context());
        let parts: Vec<i64> = (0..3).map(|i| discounts.line_total(i)).collect();
        assert_eq!(parts, [0, 2000, 1000]);
        // Buy a lamp, get a shade at 50 % off: two lamps, two shades.
        let pair = promotion(
            json!({"name": "pair", "target": "items", "value_type": "percentage", "value": 50,
            "buy_x_get_y": {"buy": {"quantity": 1, "product_ids": [lamp]}, "get": {"quantity": 1, "product_ids": [shade]}}}),
        );
        let discounts = evaluate(std::slice::from_ref(&pair), &lines, None, &context());
        assert_eq!(discounts.line_total(1), 2000);
        // At most one unit got.
        let capped = promotion(
            json!({"name": "pair", "target": "items", "value_type": "percentage", "value": 50,
            "max_quantity": 1,
            "buy_x_get_y": {"buy": {"quantity": 1, "product_ids": [lamp]}, "get": {"quantity": 1, "product_ids": [shade]}}}),
        );
        let discounts = evaluate(&[capped], &lines, None, &context());
        assert_eq!(discounts.line_total(1), 1000);
        // Not enough to buy: not applicable.
        let few = [line(1000, 1)];
        assert_eq!(
            states(&evaluate(&[any], &few, None, &context())),
            [PromotionState::NotApplicable]
        );
        let wrong: Result<PromotionIn, _> = serde_json::from_value(json!({"name": "x", "value_type": "fixed",
            "value": 100, "currency": "EUR", "buy_x_get_y": {"buy": {"quantity": 0}, "get": {"quantity": 1}}}));
        let Err(ApiError::Validation(errors)) = wrong.unwrap().into_promotion("now") else {
            panic!("refused")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["buy_x_get_y", "buy_x_get_y.buy.quantity"]);
    }

    #[test]
    fn promotions_are_checked() {
        let input: PromotionIn = serde_json::from_value(json!({
            "name": " ", "code": "no spaces", "value_type": "percentage", "value": 12.345, "currency": "EUR",
            "valid_from": "2027-01-01T00:00:00Z", "valid_until": "2026-01-01T00:00:00Z", "allocation": "each",
            "max_quantity": 2, "priority": 5000
        }))
        .unwrap();
        let Err(ApiError::Validation(errors)) = input.into_promotion("now") else {
            panic!("refused")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "code",
                "valid_until",
                "currency",
                "value",
                "allocation",
                "max_quantity",
                "priority"
            ]
        );
    }

    fn arbitrary_lines() -> impl Strategy<Value = Vec<PromotionLine>> {
        prop::collection::vec((0_i64..2_000_000, 1_u32..20), 1..12).prop_map(|lines| {
            lines
                .into_iter()
                .map(|(amount, quantity)| line(amount, quantity))
                .collect()
        })
    }

    proptest! {
        /// Σ allocations = the promotion's amount; no line below zero; the same allocation whatever order the lines
        /// come in.
        #[test]
        fn allocations_sum_to_the_amount_and_do_not_depend_on_line_order(
            lines in arbitrary_lines(),
            value in 1_i64..5_000_000,
            percent in 1_u32..=10_000,
            fixed in any::<bool>(),
        ) {
            let body = if fixed {
                json!({"name": "p", "value_type": "fixed", "value": value, "currency": "EUR"})
            } else {
                json!({"name": "p", "value_type": "percentage", "value": f64::from(percent) / 100.0})
            };
            let promotion = promotion(body);
            let discounts = evaluate(std::slice::from_ref(&promotion), &lines, None, &context());
            let total: i64 = (0..lines.len()).map(|i| discounts.line_total(i)).sum();
            let applied: i64 = discounts.applied().map(|o| o.amount.amount).sum();
            prop_assert_eq!(total, applied);
            for (index, line) in lines.iter().enumerate() {
                prop_assert!(discounts.line_total(index) >= 0 && discounts.line_total(index) <= line.amount);
            }
            let mut reversed = lines.clone();
            reversed.reverse();
            let again = evaluate(&[promotion], &reversed, None, &context());
            for index in 0..lines.len() {
                prop_assert_eq!(discounts.line_total(index), again.line_total(lines.len() - 1 - index));
            }
        }

        #[test]
        fn largest_remainder_is_exact(amount in 0_i64..10_000_000_000, weights in prop::collection::vec(0_i64..1_000_000_000, 1..40)) {
            let parts = allocate(amount, &weights);
            if weights.iter().any(|w| *w > 0) {
                prop_assert_eq!(parts.iter().sum::<i64>(), amount);
            }
            prop_assert!(parts.iter().all(|p| *p >= 0));
        }
    }

    use serde_json::json;
}
