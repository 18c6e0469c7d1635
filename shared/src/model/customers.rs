//! Customer records as stored and their pure rules: customers with their saved addresses, groups, the list filter,
//! email normalisation. Their operations are in `crate::customers`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::checks::Checks;
use crate::ids::{AddressId, CustomerGroupId, CustomerId};
use crate::money::Money;

/// The longest name, city or similar field of a customer.
pub const MAX_NAME: usize = 100;

/// A postal address, as given on a customer or an order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    #[schema(max_length = 200)]
    pub first_name: Option<String>,
    #[schema(max_length = 200)]
    pub last_name: Option<String>,
    #[schema(max_length = 200)]
    pub company: Option<String>,
    /// Not blank.
    #[schema(example = "1 Market St", min_length = 1, max_length = 200, pattern = r"\S")]
    pub line1: String,
    #[schema(max_length = 200)]
    pub line2: Option<String>,
    /// Not blank.
    #[schema(example = "San Francisco", min_length = 1, max_length = 100, pattern = r"\S")]
    pub city: String,
    /// State, province or region; also accepted as `state`, the name other commerce APIs (and Stripe) use.
    #[serde(alias = "state")]
    #[schema(max_length = 200)]
    pub region: Option<String>,
    #[schema(max_length = 200)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "US", pattern = "^[A-Z]{2}$")]
    pub country: String,
    #[schema(max_length = 200)]
    pub phone: Option<String>,
}

impl PostalAddress {
    pub fn check(&self) -> Checks {
        let mut checks = Checks::default();
        for (field, value) in [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
            ("company", &self.company),
            ("line2", &self.line2),
            ("region", &self.region),
            ("postal_code", &self.postal_code),
            ("phone", &self.phone),
        ] {
            checks.text(field, value.as_deref(), false, 200);
        }
        checks.text("line1", Some(&self.line1), true, 200);
        checks.text("city", Some(&self.city), true, MAX_NAME);
        if self.country.len() != 2 || !self.country.chars().all(|c| c.is_ascii_uppercase()) {
            checks.fail("country", "must be an ISO 3166-1 alpha-2 code such as `US`");
        }
        checks
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Address {
    pub id: AddressId,
    #[serde(flatten)]
    pub address: PostalAddress,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Customer {
    pub id: CustomerId,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub notes: Option<String>,
    #[serde(default)]
    pub group_ids: Vec<CustomerGroupId>,
    #[serde(default)]
    pub addresses: Vec<Address>,
    /// Pays no tax (docs/pricing.md: a tax-inclusive price drops its tax).
    #[serde(default)]
    pub tax_exempt: bool,
    /// A blacklisted customer cannot check out.
    pub blacklisted: bool,
    pub blacklist_reason: Option<String>,
    /// Orders placed (read model, kept by checkout).
    pub orders_count: u64,
    /// Spent per currency: order totals less refunds (read model, kept by checkout and refunds).
    #[serde(default)]
    pub lifetime_spend: Vec<Money>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Customer {
    /// Adds `amount` (negative for a refund) to the spend in its currency.
    pub fn add_spend(&mut self, amount: Money) {
        match self.lifetime_spend.iter_mut().find(|m| m.currency == amount.currency) {
            Some(spent) => spent.amount = spent.amount.saturating_add(amount.amount),
            None => self.lifetime_spend.push(amount),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CustomerGroup {
    pub id: CustomerGroupId,
    pub name: String,
    pub description: Option<String>,
    /// Customers in the group: exact, kept in the same transactions as the customers' `group_ids`.
    #[serde(default)]
    pub member_count: u64,
    pub created_at: String,
    pub version: u64,
}

/// What the customers list can be narrowed by, checked.
pub struct CustomerFilter {
    pub email: Option<String>,
    pub group_id: Option<CustomerGroupId>,
    pub created: Option<(CustomerId, CustomerId)>,
}

/// An email, normalised for the uniqueness guard and lookups; `None` when it is not an address.
pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let valid = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.chars().count() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.matches('@').count() == 1;
    valid.then_some(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_length_counts_characters() {
        // 254 characters, 2 bytes each in the local part: as long as the documented `maxLength` allows.
        let longest = format!("{}@example.com", "é".repeat(254 - 12));
        assert_eq!(normalize_email(&longest), Some(longest.clone()));
        assert_eq!(normalize_email(&format!("é{longest}")), None);
    }
}
