//! Shipping zones and their options: where a zone ships (countries, optionally regions), and what each option costs
//! (flat, by the cart's subtotal, or by its weight). Pure; the rules are in docs/pricing.md.

use macro_rules_attribute::apply;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::checks::Checks;
use crate::error::ApiError;
use crate::ids::{ShippingOptionId, ShippingZoneId};
use crate::model::customers::PostalAddress;
use crate::money::{CurrencyCode, Money, MAX_PRICE};

/// Most zones a store keeps; they are read whole, in one item, with every cart priced.
pub const MAX_ZONES: usize = 20;
/// Most options per zone, and bands per option.
pub const MAX_OPTIONS: usize = 10;
pub const MAX_BANDS: usize = 20;

/// One band of a banded rate: from `from` on (subtotal minor units, or grams), the option costs `amount`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Band {
    #[schema(minimum = 0)]
    pub from: i64,
    #[schema(minimum = 0, maximum = 10000000000000.0)]
    pub amount: i64,
}

/// What an option costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ShippingRate {
    /// The same for every cart.
    Flat {
        #[schema(minimum = 0, maximum = 10000000000000.0)]
        amount: i64,
    },
    /// By the cart's subtotal: the band with the highest `from` the subtotal reaches (in minor units).
    Subtotal {
        #[schema(min_items = 1, max_items = 20)]
        bands: Vec<Band>,
    },
    /// By the cart's weight (each physical line's product `weight_grams` × quantity): the band with the highest
    /// `from` (grams) reached.
    Weight {
        #[schema(min_items = 1, max_items = 20)]
        bands: Vec<Band>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShippingOption {
    pub id: ShippingOptionId,
    pub name: String,
    #[schema(value_type = String, example = "EUR")]
    pub currency: CurrencyCode,
    pub rate: ShippingRate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShippingZone {
    pub id: ShippingZoneId,
    pub name: String,
    /// ISO 3166-1 alpha-2 codes.
    pub countries: Vec<String>,
    /// When set, only addresses in these regions (matched without regard to case) of those countries.
    #[serde(default)]
    pub regions: Vec<String>,
    pub options: Vec<ShippingOption>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// Every zone of a store, as stored (one item).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingZones {
    #[serde(default)]
    pub zones: Vec<ShippingZone>,
    /// 0 until the first zone.
    #[serde(default)]
    pub version: u64,
}

#[apply(crate::body::request_body!)]
#[derive(Clone)]
pub struct ShippingOptionIn {
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    #[schema(value_type = String, example = "EUR", pattern = "^[A-Z]{3}$")]
    pub currency: CurrencyCode,
    pub rate: ShippingRate,
}

#[apply(crate::body::request_body!)]
pub struct ShippingZoneIn {
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    /// ISO 3166-1 alpha-2 codes.
    #[schema(schema_with = crate::body::non_blank_strings::<250, 2>)]
    pub countries: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = crate::body::strings::<100, 100>)]
    pub regions: Vec<String>,
    #[schema(max_items = 10)]
    pub options: Vec<ShippingOptionIn>,
}

/// Absent fields are kept; `options` replaces every option (their ids change).
#[apply(crate::body::patch_body!)]
pub struct ShippingZonePatch {
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: Option<String>,
    #[schema(schema_with = crate::body::non_blank_strings::<250, 2>)]
    pub countries: Option<Vec<String>>,
    #[schema(schema_with = crate::body::strings::<100, 100>)]
    pub regions: Option<Vec<String>>,
    #[schema(max_items = 10)]
    pub options: Option<Vec<ShippingOptionIn>>,
}

/// An option a cart can take, with its price for that cart.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ShippingQuote {
    pub id: ShippingOptionId,
    pub zone_id: ShippingZoneId,
    pub name: String,
    /// Before tax in a store whose prices exclude it; with it otherwise.
    pub amount: Money,
}

/// The shipping a cart or order takes: the option, its price, and its tax.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShippingLine {
    pub option_id: ShippingOptionId,
    pub zone_id: ShippingZoneId,
    pub name: String,
    /// As priced: with tax in a store whose prices include it, without otherwise.
    pub amount: Money,
    /// What promotions take off `amount` (before tax), by promotion.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discounts: Vec<crate::model::promotions::DiscountAllocation>,
    /// `"0"` unless the store taxes shipping (at the address's standard rate).
    pub tax_rate: String,
    pub tax_amount: Money,
    pub gross: Money,
}

/// What a cart weighs and costs, and whether it ships at all.
#[derive(Clone, Copy, Debug)]
pub struct Parcel {
    pub currency: CurrencyCode,
    pub subtotal: i64,
    pub weight_grams: u64,
    /// False for a cart of only digital products and services: no shipping.
    pub physical: bool,
}

fn options_of(input: Vec<ShippingOptionIn>, checks: &mut Checks) -> Vec<ShippingOption> {
    if input.len() > MAX_OPTIONS {
        checks.fail("options", &format!("at most {MAX_OPTIONS}"));
    }
    input
        .into_iter()
        .enumerate()
        .map(|(index, option)| {
            let field = |name: &str| format!("options[{index}].{name}");
            let name = option.name.trim().to_owned();
            checks.text(&field("name"), Some(&name), true, 100);
            let bands = match &option.rate {
                ShippingRate::Flat { amount } => {
                    if !(0..=MAX_PRICE).contains(amount) {
                        checks.fail(&field("rate.amount"), &format!("must be 0 to {MAX_PRICE}"));
                    }
                    &[][..]
                }
                ShippingRate::Subtotal { bands } | ShippingRate::Weight { bands } => bands.as_slice(),
            };
            if !matches!(option.rate, ShippingRate::Flat { .. }) && !(1..=MAX_BANDS).contains(&bands.len()) {
                checks.fail(&field("rate.bands"), &format!("1 to {MAX_BANDS} bands"));
            }
            let mut froms: Vec<i64> = bands.iter().map(|b| b.from).collect();
            froms.sort_unstable();
            froms.dedup();
            if froms.len() != bands.len() {
                checks.fail(&field("rate.bands"), "each band starts at a different `from`");
            }
            if bands.iter().any(|b| b.from < 0 || !(0..=MAX_PRICE).contains(&b.amount)) {
                checks.fail(
                    &field("rate.bands"),
                    &format!("`from` 0 or more, `amount` 0 to {MAX_PRICE}"),
                );
            }
            ShippingOption {
                id: ShippingOptionId::new(),
                name,
                currency: option.currency,
                rate: option.rate,
            }
        })
        .collect()
}

fn places(countries: Vec<String>, regions: Vec<String>, checks: &mut Checks) -> (Vec<String>, Vec<String>) {
    let countries: Vec<String> = countries.into_iter().map(|c| c.trim().to_ascii_uppercase()).collect();
    if countries.is_empty() || countries.len() > 250 {
        checks.fail("countries", "1 to 250 countries");
    }
    for (index, country) in countries.iter().enumerate() {
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            checks.fail(&format!("countries[{index}]"), "must be an ISO 3166-1 alpha-2 code");
        }
    }
    let regions: Vec<String> = regions.into_iter().map(|r| r.trim().to_owned()).collect();
    if regions.len() > 100 {
        checks.fail("regions", "at most 100");
    }
    for (index, region) in regions.iter().enumerate() {
        checks.text(&format!("regions[{index}]"), Some(region), true, 100);
    }
    (countries, regions)
}

impl ShippingZoneIn {
    pub fn into_zone(self, now: &str) -> Result<ShippingZone, ApiError> {
        let mut checks = Checks::default();
        let name = self.name.trim().to_owned();
        checks.text("name", Some(&name), true, 100);
        let (countries, regions) = places(self.countries, self.regions, &mut checks);
        let options = options_of(self.options, &mut checks);
        checks.finish()?;
        Ok(ShippingZone {
            id: ShippingZoneId::new(),
            name,
            countries,
            regions,
            options,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            version: 1,
        })
    }
}

impl ShippingZonePatch {
    pub fn apply(&self, before: &ShippingZone, now: &str) -> Result<ShippingZone, ApiError> {
        let mut checks = Checks::default();
        let mut after = before.clone();
        if let Some(name) = &self.name {
            after.name = name.trim().to_owned();
            checks.text("name", Some(&after.name), true, 100);
        }
        if self.countries.is_some() || self.regions.is_some() {
            let countries = self.countries.clone().unwrap_or_else(|| before.countries.clone());
            let regions = self.regions.clone().unwrap_or_else(|| before.regions.clone());
            (after.countries, after.regions) = places(countries, regions, &mut checks);
        }
        if let Some(options) = &self.options {
            after.options = options_of(options.clone(), &mut checks);
        }
        checks.finish()?;
        if after != *before {
            after.version = before.version + 1;
            after.updated_at = now.to_owned();
        }
        Ok(after)
    }
}

impl ShippingZone {
    fn covers(&self, address: &PostalAddress) -> bool {
        let country = self
            .countries
            .iter()
            .any(|c| c.eq_ignore_ascii_case(address.country.trim()));
        let region = self.regions.is_empty()
            || address
                .region
                .as_deref()
                .is_some_and(|given| self.regions.iter().any(|r| r.eq_ignore_ascii_case(given.trim())));
        country && region
    }
}

impl ShippingOption {
    /// Its price for `parcel`; `None` when no band is reached.
    fn price(&self, parcel: &Parcel) -> Option<i64> {
        let reached = |bands: &[Band], value: i64| {
            bands
                .iter()
                .filter(|b| b.from <= value)
                .max_by_key(|b| b.from)
                .map(|b| b.amount)
        };
        match &self.rate {
            ShippingRate::Flat { amount } => Some(*amount),
            ShippingRate::Subtotal { bands } => reached(bands, parcel.subtotal),
            ShippingRate::Weight { bands } => reached(bands, i64::try_from(parcel.weight_grams).unwrap_or(i64::MAX)),
        }
    }
}

impl ShippingZones {
    /// The options that ship `parcel` to `address`, with their prices, in zone then option order: the option's
    /// currency is the cart's, its zone covers the address, and a band is reached. None for a cart that is not
    /// physical.
    pub fn quotes(&self, address: &PostalAddress, parcel: &Parcel) -> Vec<ShippingQuote> {
        if !parcel.physical {
            return Vec::new();
        }
        self.zones
            .iter()
            .filter(|zone| zone.covers(address))
            .flat_map(|zone| {
                zone.options
                    .iter()
                    .filter(|option| option.currency == parcel.currency)
                    .filter_map(move |option| {
                        option.price(parcel).map(|amount| ShippingQuote {
                            id: option.id,
                            zone_id: zone.id,
                            name: option.name.clone(),
                            amount: Money::new(amount, parcel.currency),
                        })
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> CurrencyCode {
        CurrencyCode::parse("EUR").unwrap()
    }

    fn zone(body: serde_json::Value) -> ShippingZone {
        serde_json::from_value::<ShippingZoneIn>(body)
            .unwrap()
            .into_zone("now")
            .unwrap()
    }

    fn address(country: &str, region: Option<&str>) -> PostalAddress {
        serde_json::from_value(
            serde_json::json!({"line1": "1 Rue", "city": "Paris", "country": country, "region": region}),
        )
        .unwrap()
    }

    fn parcel(subtotal: i64, weight_grams: u64) -> Parcel {
        Parcel {
            currency: eur(),
            subtotal,
            weight_grams,
            physical: true,
        }
    }

    #[test]
    fn options_apply_by_zone_currency_and_band() {
        let zones = ShippingZones {
            zones: vec![
                zone(serde_json::json!({"name": "France", "countries": ["fr"], "options": [
                    {"name": "Colissimo", "currency": "EUR", "rate": {"type": "weight", "bands": [
                        {"from": 0, "amount": 500}, {"from": 1000, "amount": 900}]}},
                    {"name": "Free over 50", "currency": "EUR", "rate": {"type": "subtotal", "bands": [{"from": 5000, "amount": 0}]}},
                    {"name": "In dollars", "currency": "USD", "rate": {"type": "flat", "amount": 700}}
                ]})),
                zone(
                    serde_json::json!({"name": "Corsica", "countries": ["FR"], "regions": ["corse"], "options": [
                        {"name": "Ferry", "currency": "EUR", "rate": {"type": "flat", "amount": 1500}}
                    ]}),
                ),
            ],
            version: 1,
        };
        let paris = address("FR", None);
        let light: Vec<(String, i64)> = zones
            .quotes(&paris, &parcel(2000, 800))
            .into_iter()
            .map(|q| (q.name, q.amount.amount))
            .collect();
        assert_eq!(light, [("Colissimo".to_owned(), 500)]);
        let heavy: Vec<(String, i64)> = zones
            .quotes(&paris, &parcel(6000, 1000))
            .into_iter()
            .map(|q| (q.name, q.amount.amount))
            .collect();
        assert_eq!(heavy, [("Colissimo".to_owned(), 900), ("Free over 50".to_owned(), 0)]);
        assert_eq!(zones.quotes(&address("FR", Some("Corse")), &parcel(100, 1)).len(), 2);
        assert!(zones.quotes(&address("DE", None), &parcel(100, 1)).is_empty());
        let digital = Parcel {
            physical: false,
            ..parcel(100, 0)
        };
        assert!(zones.quotes(&paris, &digital).is_empty());
    }

    #[test]
    fn zones_are_checked() {
        let input: ShippingZoneIn = serde_json::from_value(serde_json::json!({
            "name": " ", "countries": ["FRA"], "options": [
                {"name": "x", "currency": "EUR", "rate": {"type": "weight", "bands": []}},
                {"name": "y", "currency": "EUR", "rate": {"type": "subtotal", "bands": [{"from": 0, "amount": 1}, {"from": 0, "amount": 2}]}},
                {"name": "z", "currency": "EUR", "rate": {"type": "flat", "amount": -1}}
            ]
        }))
        .unwrap();
        let Err(ApiError::Validation(errors)) = input.into_zone("now") else {
            panic!("refused")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "countries[0]",
                "options[0].rate.bands",
                "options[1].rate.bands",
                "options[2].rate.amount"
            ]
        );
    }
}
