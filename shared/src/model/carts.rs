//! Cart records as stored, and the pure pricing of a cart from the catalog entries and price records it names
//! (prices are never stored on a cart). Their operations are in `crate::carts`.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalog::products::{Product, ProductStatus, ProductType};
use crate::catalog::variants::Variant;
use crate::error::ApiError;
use crate::ids::{
    CampaignId, CartId, CartItemId, CustomerGroupId, CustomerId, OrderId, PriceId, PriceModifierId, ProductId,
    PromotionId, ShippingOptionId, VariantId,
};
use crate::model::customers::PostalAddress;
use crate::model::modifiers::PriceModifiers;
use crate::model::pricing::{self, LineQuantities, Price, PriceCandidate, PriceSource, PricingContext};
use crate::model::promotions::{
    self, Campaigns, DiscountAllocation, PromotionContext, PromotionLine, PromotionOutcome, Promotions,
};
use crate::model::shipping::{Parcel, ShippingLine, ShippingQuote, ShippingZones};
use crate::model::tax::{self, TaxSettings, STANDARD_CLASS};
use crate::money::{CurrencyCode, Money};
use crate::time;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CartStatus {
    Active,
    /// Checked out: the order is `order_id`; the cart can no longer change.
    Converted,
}

/// A line as stored: what and how many, never a price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CartLine {
    pub id: CartItemId,
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub quantity: u32,
}

/// A cart as stored (and as carried by `cart.*` events).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Cart {
    pub id: CartId,
    #[schema(value_type = String, example = "USD")]
    pub currency: CurrencyCode,
    pub customer_id: Option<CustomerId>,
    pub status: CartStatus,
    pub order_id: Option<OrderId>,
    #[serde(default)]
    pub lines: Vec<CartLine>,
    /// Where it ships: the tax of its lines follows it (checkout takes the address it is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<PostalAddress>,
    /// The shipping option chosen (`GET /v1/carts/{id}/shipping-options` lists those that apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_option_id: Option<ShippingOptionId>,
    /// Promotion codes entered (upper-cased), at most 5.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promotion_codes: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Unix seconds; an expired cart reads as not found.
    pub expires_at: i64,
    pub version: u64,
}

impl Cart {
    pub fn is_expired(&self, now: i64) -> bool {
        self.status == CartStatus::Active && self.expires_at <= now
    }
}

/// A line at its current price.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CartItemOut {
    pub id: CartItemId,
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub name: String,
    pub sku: Option<String>,
    pub quantity: u32,
    pub unit_price: Money,
    /// `unit_price` × `quantity`: with tax in a store whose prices include it, without otherwise.
    pub total: Money,
    /// The rate of the line's tax class at the shipping address, a percentage (`"20"`); `"0"` without an address.
    pub tax_rate: String,
    pub tax_amount: Money,
    /// What promotions take off the line's `total` (before tax), by promotion.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub discounts: Vec<DiscountAllocation>,
    /// The line without tax, and with it, after its discounts: what it adds to the cart's total.
    pub net: Money,
    pub gross: Money,
    /// `catalog`: the product's or variant's own price; `price_record`: the record `price_id` (docs/pricing.md).
    pub price_source: PriceSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_id: Option<PriceId>,
    /// The price modifiers applied to the resolved price, in the order applied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub price_modifier_ids: Vec<PriceModifierId>,
    /// With `explain=prices`: every price record of the line's product (and variant) and what became of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_candidates: Option<Vec<PriceCandidate>>,
    /// False when the product is no longer active (or was deleted), or has no price in the cart's currency:
    /// checkout refuses the cart until the line goes.
    pub purchasable: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CartOut {
    pub id: CartId,
    #[schema(value_type = String, example = "USD")]
    pub currency: CurrencyCode,
    pub customer_id: Option<CustomerId>,
    pub status: CartStatus,
    pub order_id: Option<OrderId>,
    pub items: Vec<CartItemOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<PostalAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_option_id: Option<ShippingOptionId>,
    pub promotion_codes: Vec<String>,
    /// Every automatic promotion and every entered code considered, in the order evaluated, with its state
    /// (`applied` or why not) and amount (docs/promotions.md).
    pub promotions: Vec<PromotionOutcome>,
    /// The chosen option priced for this cart; absent when none is chosen, or the one chosen no longer applies
    /// (`shipping_option_available` false: checkout refuses it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping: Option<ShippingLine>,
    pub shipping_option_available: bool,
    /// True when the cart holds physical products and options ship to its address: checkout needs one chosen.
    pub shipping_required: bool,
    /// Whether the store's prices (and so `subtotal` and each line's `total`) include tax.
    pub prices_include_tax: bool,
    /// False until the cart has a shipping address: the tax depends on it, and is 0 until then.
    pub tax_calculated: bool,
    /// Sum of purchasable lines' `total`.
    pub subtotal: Money,
    /// What the applied promotions take off the lines and the shipping.
    pub discount_total: Money,
    /// The chosen option's `amount`.
    pub shipping_total: Money,
    /// Sum of the lines' tax.
    pub tax_total: Money,
    /// Sum of the lines' and the shipping's `gross`: what checkout charges.
    pub total: Money,
    pub expires_at: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// What pricing a cart reads, in one batch: the products and variants its lines name, their price records, and
/// the groups of its customer.
#[derive(Default)]
pub struct CatalogSnapshot {
    pub products: HashMap<ProductId, Product>,
    pub variants: HashMap<VariantId, Variant>,
    /// Each product's price records (absent: it has none).
    pub books: HashMap<ProductId, Vec<Price>>,
    pub customer_groups: BTreeSet<CustomerGroupId>,
    pub customer_tax_exempt: bool,
    pub tax: TaxSettings,
    pub shipping: ShippingZones,
    pub modifiers: PriceModifiers,
    pub promotions: Promotions,
    pub campaigns: Campaigns,
    /// The cart's codes, the buyer (for per-customer limits and first orders), the promotions' uses and the
    /// campaigns' budgets used so far.
    pub promotion_codes: Vec<String>,
    pub buyer: Buyer,
    pub promotion_uses: HashMap<PromotionId, (u64, u64)>,
    pub budgets_used: HashMap<CampaignId, i64>,
}

/// Who buys, as promotions need to know: `customer:{id}` or `email:{address}` (none for an anonymous cart), and
/// whether they ordered before (unknown for a guest).
#[derive(Clone, Debug, Default)]
pub struct Buyer {
    pub identity: Option<String>,
    pub has_ordered: Option<bool>,
}

impl Buyer {
    pub fn customer(id: CustomerId, orders_count: u64) -> Self {
        Self {
            identity: Some(format!("customer:{id}")),
            has_ordered: Some(orders_count > 0),
        }
    }

    pub fn guest(email: &str) -> Self {
        Self {
            identity: Some(format!("email:{}", email.trim().to_lowercase())),
            has_ordered: None,
        }
    }
}

/// A cart's lines priced and taxed, and its totals: what the cart view shows and checkout charges.
pub struct PricedCart {
    pub items: Vec<(CartItemOut, Option<LineProblem>)>,
    pub tax_calculated: bool,
    /// The options that ship the cart to its address, priced for it.
    pub quotes: Vec<ShippingQuote>,
    pub shipping: Option<ShippingLine>,
    /// An option was chosen but does not apply (another zone, currency or band now).
    pub shipping_option_unavailable: bool,
    pub shipping_required: bool,
    pub subtotal: Money,
    pub promotions: Vec<PromotionOutcome>,
    pub discount_total: Money,
    pub shipping_total: Money,
    pub tax_total: Money,
    pub total: Money,
}

impl PricedCart {
    /// The digest of what its promotions take off (`model::promotions::quote_hash`).
    pub fn quote_hash(&self) -> String {
        let lines: Vec<(CartItemId, &[DiscountAllocation])> = self
            .items
            .iter()
            .map(|(item, _)| (item.id, item.discounts.as_slice()))
            .collect();
        let shipping = self
            .shipping
            .as_ref()
            .map(|s| s.discounts.as_slice())
            .unwrap_or_default();
        promotions::quote_hash(&self.promotions, &lines, shipping)
    }
}

/// Why a line cannot be bought now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineProblem {
    ProductGone,
    ProductInactive,
    VariantGone,
    /// No price record applies and the catalog's price is in another currency.
    NoPriceForCurrency,
    TooLarge,
}

impl LineProblem {
    pub fn message(self) -> &'static str {
        match self {
            Self::ProductGone => "the product no longer exists",
            Self::ProductInactive => "the product is not active",
            Self::VariantGone => "the variant no longer exists",
            Self::NoPriceForCurrency => "the product has no price in the cart's currency",
            Self::TooLarge => "the line's total is too large",
        }
    }
}

impl CatalogSnapshot {
    /// Prices for `customer`: its groups, its tax exemption, and it as the buyer promotions see.
    pub fn for_customer(&mut self, customer: &crate::model::customers::Customer) {
        self.customer_groups = customer.group_ids.iter().copied().collect();
        self.customer_tax_exempt = customer.tax_exempt;
        self.buyer = Buyer::customer(customer.id, customer.orders_count);
    }

    /// Who buys, in what currency, now.
    pub fn context(&self, currency: CurrencyCode) -> PricingContext {
        PricingContext {
            currency,
            customer_groups: self.customer_groups.clone(),
            at: time::now(),
        }
    }

    /// Whether a line can have a price in `currency` for some customer and quantity: the catalog's price is in it,
    /// or a record of the product (or of the line's variant) is.
    pub fn may_have_price(&self, line: &CartLine, currency: CurrencyCode) -> bool {
        let Some(product) = self.products.get(&line.product_id) else {
            return false;
        };
        let variant = line.variant_id.and_then(|v| self.variants.get(&v));
        let base = variant.and_then(|v| v.price).unwrap_or(product.price);
        let records = self.books.get(&line.product_id).map(Vec::as_slice).unwrap_or_default();
        base.currency == currency
            || records
                .iter()
                .any(|p| p.currency == currency && (p.variant_id.is_none() || p.variant_id == line.variant_id))
    }

    /// Every line priced in `context`, with why it cannot be bought, if it cannot. A `product` tier counts the
    /// units of every line of the product.
    pub fn price_lines(&self, lines: &[CartLine], context: &PricingContext) -> Vec<(CartItemOut, Option<LineProblem>)> {
        let mut per_product: HashMap<ProductId, u32> = HashMap::new();
        for line in lines {
            let units = per_product.entry(line.product_id).or_default();
            *units = units.saturating_add(line.quantity);
        }
        lines
            .iter()
            .map(|line| {
                self.price_line(
                    line,
                    per_product.get(&line.product_id).copied().unwrap_or_default(),
                    context,
                )
            })
            .collect()
    }

    fn price_line(
        &self,
        line: &CartLine,
        product_quantity: u32,
        context: &PricingContext,
    ) -> (CartItemOut, Option<LineProblem>) {
        let zero = Money::new(0, context.currency);
        let product = self.products.get(&line.product_id);
        let variant = line.variant_id.and_then(|v| self.variants.get(&v));
        let base = product
            .map(|p| variant.and_then(|v| v.price).unwrap_or(p.price))
            .unwrap_or(zero);
        let book = self.books.get(&line.product_id).map(Vec::as_slice).unwrap_or_default();
        let quantities = LineQuantities {
            variant_id: line.variant_id,
            quantity: line.quantity,
            product_quantity,
        };
        let resolution = pricing::resolve(quantities, base, book, context);
        let categories = product.map(|p| p.category_ids.as_slice()).unwrap_or_default();
        let (unit_price, price_modifier_ids) = match resolution.unit_price {
            Some(unit) => {
                let (unit, applied) =
                    self.modifiers
                        .apply(unit, (line.product_id, categories), &context.customer_groups);
                (Some(unit), applied)
            }
            None => (None, Vec::new()),
        };
        let total = unit_price.and_then(|unit| unit.times(line.quantity));
        let problem = match product {
            None => Some(LineProblem::ProductGone),
            Some(p) if p.status != ProductStatus::Active => Some(LineProblem::ProductInactive),
            Some(_) if line.variant_id.is_some() && variant.is_none() => Some(LineProblem::VariantGone),
            Some(_) if unit_price.is_none() => Some(LineProblem::NoPriceForCurrency),
            Some(_) if total.is_none() => Some(LineProblem::TooLarge),
            Some(_) => None,
        };
        let item = CartItemOut {
            id: line.id,
            product_id: line.product_id,
            variant_id: line.variant_id,
            name: product.map(|p| p.name.clone()).unwrap_or_default(),
            sku: variant
                .and_then(|v| v.sku.clone())
                .or_else(|| product.and_then(|p| p.sku.clone())),
            quantity: line.quantity,
            unit_price: unit_price.unwrap_or(zero),
            // A line that cannot be bought counts in no total.
            total: total.unwrap_or(zero),
            tax_rate: "0".into(),
            tax_amount: zero,
            discounts: Vec::new(),
            net: zero,
            gross: zero,
            price_source: resolution.source,
            price_id: resolution.price_id,
            price_modifier_ids,
            price_candidates: Some(resolution.candidates),
            purchasable: problem.is_none(),
        };
        (item, problem)
    }

    /// The one calculation of a cart's money: each line priced; the promotions evaluated on the lines' totals and
    /// the chosen shipping, their amounts taken off before tax; each line then taxed per line at the rate of its
    /// product's tax class at `address` (none: untaxed, `tax_calculated` false), and the totals as sums of the
    /// lines. `422` when a total cannot be represented (checked arithmetic, never a wrapped sum).
    pub fn price_cart_lines(
        &self,
        lines: &[CartLine],
        currency: CurrencyCode,
        (address, option): (Option<&PostalAddress>, Option<ShippingOptionId>),
    ) -> Result<PricedCart, ApiError> {
        let zero = Money::new(0, currency);
        let too_large = || ApiError::invalid("items", "the cart's total is too large");
        let mut items = self.price_lines(lines, &self.context(currency));
        let mut subtotal = zero;
        for (item, _) in items.iter().filter(|(_, problem)| problem.is_none()) {
            subtotal = subtotal.checked_add(item.total).ok_or_else(too_large)?;
        }
        let parcel = self.parcel(&items, subtotal);
        let quotes = address.map(|a| self.shipping.quotes(a, &parcel)).unwrap_or_default();
        let chosen = option.and_then(|id| quotes.iter().find(|q| q.id == id));
        let discounts = self.discounts(&items, chosen.map(|q| q.amount.amount), currency);
        let (mut tax_total, mut total, mut discount_total) = (zero, zero, zero);
        let purchasable = items.iter_mut().filter(|(_, problem)| problem.is_none());
        for ((item, _), allocations) in purchasable.zip(discounts.lines) {
            let class = self
                .products
                .get(&item.product_id)
                .and_then(|p| p.tax_class.as_deref())
                .unwrap_or(STANDARD_CLASS);
            let rate = address.map_or(0, |a| self.tax.rate_for(&a.country, a.region.as_deref(), class));
            let off: i64 = allocations.iter().map(|a| a.amount.amount).sum();
            let charged = Money::new(item.total.amount - off, currency);
            let taxed = self
                .tax
                .tax(charged, rate, self.customer_tax_exempt)
                .ok_or_else(too_large)?;
            item.tax_rate = tax::format_rate(taxed.rate);
            (item.tax_amount, item.net, item.gross) = (taxed.tax, taxed.net, taxed.gross);
            item.discounts = allocations;
            discount_total = discount_total
                .checked_add(Money::new(off, currency))
                .ok_or_else(too_large)?;
            tax_total = tax_total.checked_add(taxed.tax).ok_or_else(too_large)?;
            total = total.checked_add(taxed.gross).ok_or_else(too_large)?;
        }
        let shipping = match (chosen, address) {
            (Some(quote), Some(address)) => {
                let rate = match self.tax.tax_shipping {
                    true => self
                        .tax
                        .rate_for(&address.country, address.region.as_deref(), STANDARD_CLASS),
                    false => 0,
                };
                let off: i64 = discounts.shipping.iter().map(|a| a.amount.amount).sum();
                let charged = Money::new(quote.amount.amount - off, currency);
                let taxed = self
                    .tax
                    .tax(charged, rate, self.customer_tax_exempt)
                    .ok_or_else(too_large)?;
                discount_total = discount_total
                    .checked_add(Money::new(off, currency))
                    .ok_or_else(too_large)?;
                tax_total = tax_total.checked_add(taxed.tax).ok_or_else(too_large)?;
                total = total.checked_add(taxed.gross).ok_or_else(too_large)?;
                Some(ShippingLine {
                    option_id: quote.id,
                    zone_id: quote.zone_id,
                    name: quote.name.clone(),
                    amount: quote.amount,
                    discounts: discounts.shipping,
                    tax_rate: tax::format_rate(taxed.rate),
                    tax_amount: taxed.tax,
                    gross: taxed.gross,
                })
            }
            _ => None,
        };
        Ok(PricedCart {
            items,
            tax_calculated: address.is_some(),
            shipping_option_unavailable: option.is_some() && shipping.is_none(),
            shipping_required: !quotes.is_empty(),
            shipping_total: shipping.as_ref().map_or(zero, |s| s.amount),
            quotes,
            shipping,
            subtotal,
            promotions: discounts.outcomes,
            discount_total,
            tax_total,
            total,
        })
    }

    /// The promotions on the purchasable lines (their totals before promotions) and the chosen shipping's price:
    /// the allocations by purchasable line, in order.
    fn discounts(
        &self,
        items: &[(CartItemOut, Option<LineProblem>)],
        shipping: Option<i64>,
        currency: CurrencyCode,
    ) -> promotions::Discounts {
        let lines: Vec<PromotionLine> = items
            .iter()
            .filter(|(_, problem)| problem.is_none())
            .map(|(item, _)| PromotionLine {
                id: item.id,
                product_id: item.product_id,
                category_ids: self
                    .products
                    .get(&item.product_id)
                    .map(|p| p.category_ids.clone())
                    .unwrap_or_default(),
                quantity: item.quantity,
                amount: item.total.amount,
            })
            .collect();
        let context = PromotionContext {
            now: time::now().unix_timestamp(),
            currency,
            customer_groups: self.customer_groups.clone(),
            identity: self.buyer.identity.clone(),
            has_ordered: self.buyer.has_ordered,
            codes: self.promotion_codes.clone(),
            uses: self.promotion_uses.clone(),
            campaigns: self.campaigns.campaigns.clone(),
            budgets_used: self.budgets_used.clone(),
        };
        promotions::evaluate(&self.promotions.promotions, &lines, shipping, &context)
    }

    /// What the purchasable lines weigh and cost, and whether any ships.
    fn parcel(&self, items: &[(CartItemOut, Option<LineProblem>)], subtotal: Money) -> Parcel {
        let mut parcel = Parcel {
            currency: subtotal.currency,
            subtotal: subtotal.amount,
            weight_grams: 0,
            physical: false,
        };
        for (item, _) in items.iter().filter(|(_, problem)| problem.is_none()) {
            if let Some(product) = self
                .products
                .get(&item.product_id)
                .filter(|p| p.kind == ProductType::Physical)
            {
                parcel.physical = true;
                let weight = u64::from(product.weight_grams.unwrap_or(0)) * u64::from(item.quantity);
                parcel.weight_grams = parcel.weight_grams.saturating_add(weight);
            }
        }
        parcel
    }

    /// The cart priced now (`explain`: with each line's price candidates).
    pub fn price_cart(&self, cart: &Cart, explain: bool) -> Result<CartOut, ApiError> {
        let shipping = (cart.shipping_address.as_ref(), cart.shipping_option_id);
        let priced = self.price_cart_lines(&cart.lines, cart.currency, shipping)?;
        let items = priced
            .items
            .into_iter()
            .map(|(mut item, _)| {
                if !explain {
                    item.price_candidates = None;
                }
                item
            })
            .collect();
        Ok(CartOut {
            id: cart.id,
            currency: cart.currency,
            customer_id: cart.customer_id,
            status: cart.status,
            order_id: cart.order_id,
            items,
            shipping_address: cart.shipping_address.clone(),
            shipping_option_id: cart.shipping_option_id,
            promotion_codes: cart.promotion_codes.clone(),
            promotions: priced.promotions,
            shipping: priced.shipping,
            shipping_option_available: !priced.shipping_option_unavailable,
            shipping_required: priced.shipping_required,
            prices_include_tax: self.tax.prices_include_tax,
            tax_calculated: priced.tax_calculated,
            subtotal: priced.subtotal,
            discount_total: priced.discount_total,
            shipping_total: priced.shipping_total,
            tax_total: priced.tax_total,
            total: priced.total,
            expires_at: time::rfc3339_of_unix(cart.expires_at),
            created_at: cart.created_at.clone(),
            updated_at: cart.updated_at.clone(),
            version: cart.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::products::ProductIn;
    use crate::model::shipping::ShippingZoneIn;
    use crate::model::tax::TaxRate;
    use proptest::prelude::*;

    fn eur() -> CurrencyCode {
        CurrencyCode::parse("EUR").unwrap()
    }

    fn product(amount: i64, class: Option<&str>, weight: u32) -> Product {
        let input: ProductIn = serde_json::from_value(serde_json::json!({
            "name": "Thing", "status": "active", "price": {"amount": amount, "currency": "EUR"},
            "tax_class": class, "weight_grams": weight
        }))
        .unwrap();
        input.into_product(ProductId::new(), "2026-01-01T00:00:00Z").unwrap().0
    }

    fn rate(class: &str, millionths: u32) -> TaxRate {
        TaxRate {
            country: "FR".into(),
            region: None,
            tax_class: class.into(),
            rate: tax::format_rate(millionths),
            name: None,
        }
    }

    proptest! {
        /// Whatever the prices, quantities, rates, tax mode and promotions: every line's net and tax are
        /// non-negative and add up to its gross, the cart's subtotal, discount, tax and total are the sums of its
        /// lines (and its shipping), and refunding every unit of every line (and the shipping) returns the total.
        #[test]
        fn totals_are_sums_of_lines_and_never_negative(
            lines in proptest::collection::vec((0i64..1_000_000, 1u32..999, any::<bool>(), 0u32..5_000), 1..20),
            inclusive in any::<bool>(),
            (standard, reduced) in (0u32..=1_000_000, 0u32..=1_000_000),
            exempt in any::<bool>(),
            with_address in any::<bool>(),
            shipping in 0i64..100_000,
            (percent, fixed, free_shipping) in (0u32..=10_000, 0i64..2_000_000, any::<bool>()),
        ) {
            let zone: ShippingZoneIn = serde_json::from_value(serde_json::json!({
                "name": "France", "countries": ["FR"],
                "options": [{"name": "Post", "currency": "EUR", "rate": {"type": "flat", "amount": shipping}}]
            }))
            .unwrap();
            let zone = zone.into_zone("now").unwrap();
            let option = zone.options[0].id;
            let mut catalog = CatalogSnapshot {
                tax: TaxSettings {
                    prices_include_tax: inclusive,
                    tax_shipping: true,
                    rates: vec![rate("standard", standard), rate("reduced", reduced)],
                    version: 1,
                    updated_at: None,
                },
                shipping: ShippingZones { zones: vec![zone], version: 1 },
                customer_tax_exempt: exempt,
                ..CatalogSnapshot::default()
            };
            let everything = serde_json::json!({"order": true, "items": true, "shipping": true});
            let mut offers = vec![serde_json::json!({"name": "fixed", "value_type": "fixed", "value": fixed.max(1),
                "currency": "EUR", "combines_with": everything})];
            if percent > 0 {
                offers.push(serde_json::json!({"name": "percent", "value_type": "percentage",
                    "value": f64::from(percent) / 100.0, "applies_to": "after_previous", "combines_with": everything}));
            }
            if free_shipping {
                offers.push(serde_json::json!({"name": "ship", "value_type": "percentage", "value": 100,
                    "free_shipping": true, "combines_with": everything}));
            }
            catalog.promotions.promotions = offers
                .into_iter()
                .map(|body| serde_json::from_value::<promotions::PromotionIn>(body).unwrap().into_promotion("now").unwrap())
                .collect();
            let mut cart_lines = Vec::new();
            for (amount, quantity, is_reduced, weight) in lines {
                let product = product(amount, is_reduced.then_some("reduced"), weight);
                cart_lines.push(CartLine { id: CartItemId::new(), product_id: product.id, variant_id: None, quantity });
                catalog.products.insert(product.id, product);
            }
            let address: PostalAddress =
                serde_json::from_value(serde_json::json!({"line1": "1 Rue", "city": "Paris", "country": "FR"})).unwrap();
            let address = with_address.then_some(&address);
            let priced = catalog.price_cart_lines(&cart_lines, eur(), (address, Some(option))).unwrap();
            let (mut subtotal, mut tax, mut total, mut discount, mut refunded) = (0, 0, 0, 0, 0);
            for (item, problem) in &priced.items {
                prop_assert!(problem.is_none());
                prop_assert!(item.net.amount >= 0 && item.tax_amount.amount >= 0);
                prop_assert_eq!(item.net.amount + item.tax_amount.amount, item.gross.amount);
                subtotal += item.total.amount;
                tax += item.tax_amount.amount;
                total += item.gross.amount;
                discount += item.discounts.iter().map(|d| d.amount.amount).sum::<i64>();
                // Unit by unit, as refunds by line take them.
                let share = |k| crate::model::orders::share_of(item.gross.amount, k, item.quantity);
                refunded += (1..=item.quantity).map(|k| share(k) - share(k - 1)).sum::<i64>();
            }
            if let Some(line) = &priced.shipping {
                prop_assert_eq!(priced.shipping_total, line.amount);
                tax += line.tax_amount.amount;
                total += line.gross.amount;
                discount += line.discounts.iter().map(|d| d.amount.amount).sum::<i64>();
                refunded += line.gross.amount;
            }
            prop_assert_eq!(priced.discount_total.amount, discount);
            prop_assert_eq!(refunded, priced.total.amount, "refunding everything returns what was charged");
            prop_assert_eq!(priced.shipping.is_some(), with_address);
            prop_assert_eq!(priced.subtotal.amount, subtotal);
            prop_assert_eq!(priced.tax_total.amount, tax);
            prop_assert_eq!(priced.total.amount, total);
            prop_assert!(priced.total.amount >= 0);
        }
    }
}
