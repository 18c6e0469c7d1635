//! Money: integer minor units and an ISO 4217 currency. Never floats.

use iso_currency::Currency;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Money {
    /// Amount in the currency's minor units (cents for USD, yen for JPY).
    #[schema(example = 1999)]
    pub amount: i64,
    /// ISO 4217 code.
    #[schema(value_type = String, example = "USD", pattern = "^[A-Z]{3}$")]
    pub currency: CurrencyCode,
}

/// An ISO 4217 currency code, validated on the way in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CurrencyCode(Currency);

impl CurrencyCode {
    /// A currency money can be taken in: ISO 4217 codes without minor units (`XXX` "no currency", `XTS` testing,
    /// gold, silver, SDRs and the like) are refused.
    pub fn parse(code: &str) -> Option<Self> {
        Currency::from_code(code).filter(|c| c.exponent().is_some()).map(Self)
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point (2 for USD, 0 for JPY, 3 for KWD).
    pub fn minor_digits(self) -> u16 {
        self.0.exponent().unwrap_or(0)
    }
}

impl Serialize for CurrencyCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for CurrencyCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&code).ok_or_else(|| serde::de::Error::custom(format!("`{code}` is not an ISO 4217 currency code")))
    }
}

/// The largest price, in minor units: 10^13 (100 billion in a two-decimal currency). A cart of 100 lines of 999
/// units at this price still totals under `i64::MAX` (≈ 9.2 × 10^18), so no order total can overflow; the sums are
/// checked all the same.
pub const MAX_PRICE: i64 = 10_000_000_000_000;

impl Money {
    pub fn new(amount: i64, currency: CurrencyCode) -> Self {
        Self { amount, currency }
    }

    /// Adds two amounts of one currency; `None` on a currency mismatch or overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.amount.checked_add(other.amount))
            .flatten()
            .map(|amount| Money::new(amount, self.currency))
    }

    /// `quantity` times this amount; `None` on overflow.
    pub fn times(self, quantity: u32) -> Option<Money> {
        self.amount
            .checked_mul(i64::from(quantity))
            .map(|amount| Money::new(amount, self.currency))
    }

    /// Checks a price: not negative, and at most [`MAX_PRICE`].
    pub fn validate_price(self, field: &str) -> Result<Self, FieldError> {
        if self.amount < 0 {
            return Err(FieldError::new(format!("{field}.amount"), "must not be negative"));
        }
        if self.amount > MAX_PRICE {
            return Err(FieldError::new(
                format!("{field}.amount"),
                format!("must be at most {MAX_PRICE} minor units"),
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> CurrencyCode {
        CurrencyCode::parse("USD").unwrap()
    }

    #[test]
    fn parses_iso_codes_only() {
        assert_eq!(usd().code(), "USD");
        assert_eq!(CurrencyCode::parse("JPY").unwrap().minor_digits(), 0);
        assert_eq!(CurrencyCode::parse("KWD").unwrap().minor_digits(), 3);
        assert!(CurrencyCode::parse("XXY").is_none());
        assert!(serde_json::from_str::<Money>(r#"{"amount": 100, "currency": "usd!"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount": 1.5, "currency": "USD"}"#).is_err());
    }

    #[test]
    fn arithmetic_is_checked() {
        let price = Money::new(1999, usd());
        assert_eq!(price.times(3), Some(Money::new(5997, usd())));
        assert_eq!(price.checked_add(price), Some(Money::new(3998, usd())));
        let yen = Money::new(100, CurrencyCode::parse("JPY").unwrap());
        assert_eq!(price.checked_add(yen), None);
        assert_eq!(Money::new(i64::MAX, usd()).times(2), None);
        assert!(Money::new(-1, usd()).validate_price("price").is_err());
        for not_money in ["XXX", "XTS", "XAU", "XDR"] {
            assert!(CurrencyCode::parse(not_money).is_none(), "{not_money}");
        }
        for money in ["USD", "JPY", "KWD", "XOF", "EUR"] {
            assert!(CurrencyCode::parse(money).is_some(), "{money}");
        }
        assert!(Money::new(MAX_PRICE, usd()).validate_price("price").is_ok());
        assert!(Money::new(MAX_PRICE + 1, usd()).validate_price("price").is_err());
        let most = Money::new(MAX_PRICE, usd()).times(999).unwrap();
        assert!((0..100)
            .try_fold(Money::new(0, usd()), |sum, _| sum.checked_add(most))
            .is_some());
    }

    #[test]
    fn serializes_as_documented() {
        let json = serde_json::to_value(Money::new(1999, usd())).unwrap();
        assert_eq!(json, serde_json::json!({"amount": 1999, "currency": "USD"}));
    }
}
