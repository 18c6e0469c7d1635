//! A store's tax settings and the tax of a line: rates per country (and region) and tax class, prices entered with
//! or without tax, computed per line in integer minor units and rounded half-even. Pure; the rules are in
//! docs/pricing.md.

use macro_rules_attribute::apply;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::checks::Checks;
use crate::error::ApiError;
use crate::money::Money;

/// Most rates a store keeps.
pub const MAX_TAX_RATES: usize = 200;
/// The class of a product that names none.
pub const STANDARD_CLASS: &str = "standard";
/// A rate is a percentage with at most four decimals, kept in millionths of the taxed amount (20 % = 200,000).
const PER_MILLION: i128 = 1_000_000;

/// One rate: where it applies (a country, optionally one region of it) and to which tax class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRate {
    /// ISO 3166-1 alpha-2, e.g. `FR`.
    #[schema(example = "FR", pattern = "^[A-Z]{2}$")]
    pub country: String,
    /// Applies only to addresses in this region (matched without regard to case); absent: the whole country
    /// where no region's rate applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 100, pattern = r"\S")]
    pub region: Option<String>,
    /// The products' tax class it applies to: `standard` (default), `reduced`, `zero` or one of the store's own.
    #[serde(default = "standard")]
    #[schema(example = "standard", pattern = "^[a-z0-9_]{1,40}$")]
    pub tax_class: String,
    /// A percentage, 0 to 100, at most four decimals, as text: `"20"`, `"8.875"`.
    #[schema(example = "20", pattern = r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$")]
    pub rate: String,
    /// What receipts call it (`VAT`, `Sales tax`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50)]
    pub name: Option<String>,
}

fn standard() -> String {
    STANDARD_CLASS.to_owned()
}

/// A store's tax settings (per mode).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TaxSettings {
    /// True: catalog prices and price records include tax (the net is derived per line); false: tax is added.
    pub prices_include_tax: bool,
    /// Whether shipping is taxed (at the standard rate of the address).
    pub tax_shipping: bool,
    pub rates: Vec<TaxRate>,
    /// 0 until first saved.
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// The whole settings, replacing what was there.
#[apply(crate::body::request_body!)]
pub struct TaxSettingsIn {
    pub prices_include_tax: bool,
    #[serde(default)]
    pub tax_shipping: bool,
    #[schema(max_items = 200)]
    pub rates: Vec<TaxRate>,
}

/// The tax of one amount: its rate, tax, net and gross.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Taxed {
    /// Millionths of the net amount.
    pub rate: u32,
    pub tax: Money,
    pub net: Money,
    pub gross: Money,
}

impl TaxSettingsIn {
    pub fn into_settings(self, before: &TaxSettings, now: &str) -> Result<TaxSettings, ApiError> {
        let mut checks = Checks::default();
        if self.rates.len() > MAX_TAX_RATES {
            checks.fail("rates", &format!("at most {MAX_TAX_RATES}"));
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut rates = Vec::with_capacity(self.rates.len());
        for (index, mut rate) in self.rates.into_iter().enumerate() {
            let field = |name: &str| format!("rates[{index}].{name}");
            rate.country = rate.country.trim().to_ascii_uppercase();
            if rate.country.len() != 2 || !rate.country.bytes().all(|b| b.is_ascii_uppercase()) {
                checks.fail(&field("country"), "must be an ISO 3166-1 alpha-2 code");
            }
            rate.region = rate.region.map(|r| r.trim().to_owned());
            checks.text(&field("region"), rate.region.as_deref(), false, 100);
            if rate.region.as_deref() == Some("") {
                checks.fail(&field("region"), "must not be empty");
            }
            let class_ok = (1..=40).contains(&rate.tax_class.len())
                && rate
                    .tax_class
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !class_ok {
                checks.fail(&field("tax_class"), "1 to 40 of a-z, 0-9 and _");
            }
            if parse_rate(&rate.rate).is_none() {
                checks.fail(&field("rate"), "a percentage from 0 to 100 with at most four decimals");
            }
            checks.text(&field("name"), rate.name.as_deref(), false, 50);
            let place = (
                rate.country.clone(),
                rate.region.as_deref().map(str::to_lowercase),
                rate.tax_class.clone(),
            );
            if !seen.insert(place) {
                checks.fail(&field("country"), "another rate has this country, region and class");
            }
            rates.push(rate);
        }
        checks.finish()?;
        Ok(TaxSettings {
            prices_include_tax: self.prices_include_tax,
            tax_shipping: self.tax_shipping,
            rates,
            version: before.version + 1,
            updated_at: Some(now.to_owned()),
        })
    }
}

/// `"8.875"` → 88,750 millionths; `None` unless 0 to 100 with at most four decimals.
pub fn parse_rate(text: &str) -> Option<u32> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) if digits(fraction) => (whole, fraction),
        Some(_) => return None,
        None => (text, ""),
    };
    if !digits(whole) || whole.len() > 3 || fraction.len() > 4 {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let fraction: u32 = format!("{fraction:0<4}").parse().ok()?;
    let millionths = whole.checked_mul(10_000)?.checked_add(fraction)?;
    (millionths <= 1_000_000).then_some(millionths)
}

/// 88,750 → `"8.875"`.
pub fn format_rate(millionths: u32) -> String {
    let (whole, fraction) = (millionths / 10_000, millionths % 10_000);
    if fraction == 0 {
        return whole.to_string();
    }
    format!("{whole}.{fraction:04}").trim_end_matches('0').to_owned()
}

/// `numerator / denominator` rounded half to even; both non-negative, the denominator positive.
pub fn divide_half_even(numerator: i128, denominator: i128) -> i128 {
    let (quotient, remainder) = (numerator / denominator, numerator % denominator);
    match (remainder * 2).cmp(&denominator) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + (quotient % 2),
    }
}

impl TaxSettings {
    /// The rate for an address and a tax class: a rate of its region first, else of its whole country; none: 0.
    pub fn rate_for(&self, country: &str, region: Option<&str>, tax_class: &str) -> u32 {
        let matches = |rate: &&TaxRate| rate.country.eq_ignore_ascii_case(country) && rate.tax_class == tax_class;
        let regional = self.rates.iter().filter(matches).find(|rate| {
            rate.region
                .as_deref()
                .zip(region)
                .is_some_and(|(wanted, given)| wanted.eq_ignore_ascii_case(given.trim()))
        });
        let national = || self.rates.iter().filter(matches).find(|rate| rate.region.is_none());
        regional
            .or_else(national)
            .and_then(|rate| parse_rate(&rate.rate))
            .unwrap_or(0)
    }

    /// The tax of one line's `amount` (what its prices add up to) at `rate`: per line, not per unit, so a line of
    /// ten is taxed as one amount (one rounding, not ten). `exempt`: no tax; a tax-inclusive price then drops its
    /// tax. `None` on overflow.
    pub fn tax(&self, amount: Money, rate: u32, exempt: bool) -> Option<Taxed> {
        let currency = amount.currency;
        let value = i128::from(amount.amount);
        let rate_i = i128::from(rate);
        let (net, tax) = if self.prices_include_tax {
            let net = divide_half_even(value.checked_mul(PER_MILLION)?, PER_MILLION + rate_i);
            (net, value - net)
        } else {
            (value, divide_half_even(value.checked_mul(rate_i)?, PER_MILLION))
        };
        let tax = if exempt { 0 } else { tax };
        let money = |v: i128| i64::try_from(v).ok().map(|v| Money::new(v, currency));
        Some(Taxed {
            rate: if exempt { 0 } else { rate },
            tax: money(tax)?,
            net: money(net)?,
            gross: money(net.checked_add(tax)?)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::CurrencyCode;
    use proptest::prelude::*;

    fn eur(amount: i64) -> Money {
        Money::new(amount, CurrencyCode::parse("EUR").unwrap())
    }

    fn settings(inclusive: bool) -> TaxSettings {
        TaxSettings {
            prices_include_tax: inclusive,
            ..TaxSettings::default()
        }
    }

    #[test]
    fn rates_are_percentages_with_four_decimals() {
        assert_eq!(parse_rate("20"), Some(200_000));
        assert_eq!(parse_rate("8.875"), Some(88_750));
        assert_eq!(parse_rate("0"), Some(0));
        assert_eq!(parse_rate("100.0000"), Some(1_000_000));
        for bad in ["", "-1", "100.0001", "1.23456", "abc", "1.", ".5", "1e2", "1000"] {
            assert_eq!(parse_rate(bad), None, "{bad}");
        }
        assert_eq!(format_rate(88_750), "8.875");
        assert_eq!(format_rate(200_000), "20");
        assert_eq!(format_rate(55_000), "5.5");
    }

    #[test]
    fn half_even_rounds_ties_to_even() {
        assert_eq!(divide_half_even(25, 10), 2);
        assert_eq!(divide_half_even(35, 10), 4);
        assert_eq!(divide_half_even(26, 10), 3);
        assert_eq!(divide_half_even(24, 10), 2);
    }

    #[test]
    fn tax_is_added_or_derived_per_line() {
        // 3 × 1.08 at 19 %: 3.24 net, 0.6156 → 0.62 tax (one rounding for the line; per unit would give 0.63).
        let added = settings(false).tax(eur(324), 190_000, false).unwrap();
        assert_eq!((added.net, added.tax, added.gross), (eur(324), eur(62), eur(386)));
        // 12.00 including 20 % VAT: 10.00 net, 2.00 tax.
        let included = settings(true).tax(eur(1200), 200_000, false).unwrap();
        assert_eq!(
            (included.net, included.tax, included.gross),
            (eur(1000), eur(200), eur(1200))
        );
        // Exempt: nothing added; an inclusive price drops its tax.
        let exempt = settings(true).tax(eur(1200), 200_000, true).unwrap();
        assert_eq!(
            (exempt.net, exempt.tax, exempt.gross, exempt.rate),
            (eur(1000), eur(0), eur(1000), 0)
        );
    }

    #[test]
    fn a_region_rate_beats_the_country_rate() {
        let rate = |country: &str, region: Option<&str>, class: &str, rate: &str| TaxRate {
            country: country.into(),
            region: region.map(Into::into),
            tax_class: class.into(),
            rate: rate.into(),
            name: None,
        };
        let settings = TaxSettings {
            rates: vec![
                rate("US", None, "standard", "5"),
                rate("US", Some("NY"), "standard", "8.875"),
                rate("FR", None, "standard", "20"),
                rate("FR", None, "reduced", "5.5"),
            ],
            ..TaxSettings::default()
        };
        assert_eq!(settings.rate_for("US", Some("ny"), "standard"), 88_750);
        assert_eq!(settings.rate_for("US", Some("CA"), "standard"), 50_000);
        assert_eq!(settings.rate_for("FR", None, "reduced"), 55_000);
        assert_eq!(settings.rate_for("FR", None, "zero"), 0);
        assert_eq!(settings.rate_for("DE", None, "standard"), 0);
    }

    #[test]
    fn settings_are_checked() {
        let input: TaxSettingsIn = serde_json::from_value(serde_json::json!({
            "prices_include_tax": true,
            "rates": [
                {"country": "fr", "rate": "20"},
                {"country": "FRA", "rate": "20"},
                {"country": "DE", "rate": "101"},
                {"country": "DE", "tax_class": "Reduced!", "rate": "7"},
                {"country": "FR", "rate": "19"}
            ]
        }))
        .unwrap();
        let Err(ApiError::Validation(errors)) = input.into_settings(&TaxSettings::default(), "now") else {
            panic!("refused")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "rates[1].country",
                "rates[2].rate",
                "rates[3].tax_class",
                "rates[4].country"
            ]
        );
    }

    proptest! {
        /// Net, tax and gross never go negative and always add up; a gross computed from a net by the exclusive
        /// rule, entered as a tax-inclusive price, gives back that net within one minor unit.
        #[test]
        fn inclusive_and_exclusive_agree_on_the_gross(net in 0i64..10_000_000_000, rate in 0u32..=1_000_000) {
            let exclusive = settings(false).tax(eur(net), rate, false).unwrap();
            prop_assert!(exclusive.tax.amount >= 0);
            prop_assert_eq!(exclusive.net.amount + exclusive.tax.amount, exclusive.gross.amount);
            let inclusive = settings(true).tax(exclusive.gross, rate, false).unwrap();
            prop_assert_eq!(inclusive.gross, exclusive.gross);
            prop_assert!(inclusive.net.amount >= 0 && inclusive.tax.amount >= 0);
            prop_assert!((inclusive.net.amount - net).abs() <= 1, "net {} back as {}", net, inclusive.net.amount);
        }
    }
}
