//! Variants: one buyable combination of a product's option values, with its own SKU and optional price.

use crate::body::{patch_body, request_body};
use macro_rules_attribute::apply;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::products::{valid_sku, Product, ProductOption, MAX_OPTIONS, SKU_RULE};
use crate::error::{ApiError, FieldError};
use crate::ids::{ProductId, VariantId};
use crate::money::Money;

/// Most variants one product may have (every combination of 3 options can exceed it: generation stops here).
pub const MAX_VARIANTS: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Variant {
    pub id: VariantId,
    pub product_id: ProductId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Overrides the product's price; same currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// One value for each of the product's options: `{"Size": "M", "Color": "Blue"}`.
    pub option_values: BTreeMap<String, String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

#[apply(request_body!)]
pub struct VariantIn {
    #[schema(max_length = 64, pattern = "^[A-Za-z0-9._/-]+$")]
    pub sku: Option<String>,
    pub price: Option<Money>,
    /// One value for each of the product's options, by option name: `{"Size": "M"}`.
    #[schema(schema_with = option_values)]
    pub option_values: BTreeMap<String, String>,
}

/// `option_values`: 1 to 3 entries (a product has 1 to 3 options), option names to one of their values.
fn option_values() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .additional_properties(Some(crate::body::non_blank(100)))
        .property_names(Some(crate::body::non_blank(50)))
        .min_properties(Some(1))
        .max_properties(Some(MAX_OPTIONS))
        .build()
}

#[apply(patch_body!)]
pub struct VariantPatch {
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(max_length = 64, pattern = "^[A-Za-z0-9._/-]+$")]
    pub sku: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub price: Option<Option<Money>>,
}

#[apply(request_body!)]
pub struct OptionIn {
    /// Not blank; trimmed.
    #[schema(example = "Size", min_length = 1, max_length = 50, pattern = r"\S")]
    pub name: String,
    /// Distinct once trimmed, none blank.
    #[schema(example = json!(["S", "M", "L"]), schema_with = crate::body::non_blank_strings::<50, 100>)]
    pub values: Vec<String>,
}

#[apply(request_body!)]
pub struct OptionValuesIn {
    /// Values to add to the option, after its own; distinct once trimmed, none blank, none it has already.
    #[schema(example = json!(["XL"]), schema_with = crate::body::non_blank_strings::<50, 100>)]
    pub values: Vec<String>,
}

/// The product with more values for one of its options. Its variants keep theirs: a new value only widens what
/// can be made (`POST …/variants/generate` makes the missing combinations).
pub fn add_option_values(
    product: &Product,
    option: &str,
    input: OptionValuesIn,
    now: &str,
) -> Result<Product, ApiError> {
    let Some(index) = product.options.iter().position(|o| o.name == option) else {
        return Err(ApiError::not_found("option"));
    };
    let values: Vec<String> = input.values.iter().map(|v| v.trim().to_owned()).collect();
    if values.is_empty() {
        return Err(ApiError::invalid("values", "at least one value"));
    }
    let existing = &product.options[index].values;
    if let Some(i) = values.iter().position(|v| existing.contains(v)) {
        return Err(ApiError::invalid(
            format!("values[{i}]"),
            "is a value of the option already",
        ));
    }
    let mut after = product.clone();
    after.options[index].values.extend(values);
    let problems = after.problems();
    if !problems.is_empty() {
        return Err(request_problems(problems));
    }
    after.updated_at = now.to_owned();
    after.version = product.version + 1;
    Ok(after)
}

/// The product with one more option. Refused while the product has variants, which would lack a value for it.
pub fn add_option(product: &Product, input: OptionIn, has_variants: bool, now: &str) -> Result<Product, ApiError> {
    // What the request itself gets wrong is a 422 whatever the product's state.
    let alone = ProductOption {
        name: input.name.trim().to_owned(),
        values: input.values.iter().map(|v| v.trim().to_owned()).collect(),
    };
    let problems = Product {
        options: vec![alone],
        ..product.clone()
    }
    .problems();
    if !problems.is_empty() {
        return Err(request_problems(problems));
    }
    if has_variants {
        return Err(ApiError::conflict(
            "the product has variants; delete them before adding an option",
        ));
    }
    if product.options.iter().any(|o| o.name == input.name.trim()) {
        return Err(ApiError::conflict(format!(
            "the product already has an option `{}`",
            input.name.trim()
        )));
    }
    if product.options.len() >= MAX_OPTIONS {
        return Err(ApiError::invalid(
            "name",
            format!("a product has at most {MAX_OPTIONS} options"),
        ));
    }
    let mut after = product.clone();
    let values = input.values.iter().map(|v| v.trim().to_owned()).collect();
    after.options.push(ProductOption {
        name: input.name.trim().to_owned(),
        values,
    });
    let problems = after.problems();
    if !problems.is_empty() {
        return Err(request_problems(problems));
    }
    after.updated_at = now.to_owned();
    after.version += 1;
    Ok(after)
}

/// A product's problems named by the fields of the option request, not of the product.
fn request_problems(problems: Vec<FieldError>) -> ApiError {
    let errors = problems
        .into_iter()
        .map(|e| FieldError::new(e.field.rsplit('.').next().unwrap_or("name"), e.message));
    ApiError::Validation(errors.collect())
}

fn check(variant: &Variant, product: &Product) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if variant.sku.as_deref().is_some_and(|s| !valid_sku(s)) {
        errors.push(FieldError::new("sku", SKU_RULE));
    }
    if let Some(price) = variant.price {
        if price.currency != product.price.currency {
            errors.push(FieldError::new("price.currency", "must be the product's currency"));
        }
        errors.extend(price.validate_price("price").err());
    }
    errors
}

/// The option values of a variant, checked against the product's options.
fn check_option_values(values: &BTreeMap<String, String>, product: &Product) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if product.options.is_empty() {
        errors.push(FieldError::new(
            "option_values",
            "the product has no options; add one first",
        ));
        return errors;
    }
    for option in &product.options {
        match values.get(&option.name) {
            None => errors.push(FieldError::new(format!("option_values.{}", option.name), "is required")),
            Some(value) if !option.values.contains(value) => errors.push(FieldError::new(
                format!("option_values.{}", option.name),
                format!("must be one of {}", option.values.join(", ")),
            )),
            Some(_) => {}
        }
    }
    for name in values
        .keys()
        .filter(|name| !product.options.iter().any(|o| &o.name == *name))
    {
        errors.push(FieldError::new(
            format!("option_values.{name}"),
            "the product has no such option",
        ));
    }
    errors
}

impl VariantIn {
    pub fn into_variant(self, product: &Product, now: &str) -> Result<Variant, ApiError> {
        let variant = Variant {
            id: VariantId::new(),
            product_id: product.id,
            sku: self.sku.map(|s| s.trim().to_owned()),
            price: self.price,
            option_values: self.option_values,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            version: 1,
        };
        let mut errors = check_option_values(&variant.option_values, product);
        errors.extend(check(&variant, product));
        if errors.is_empty() {
            Ok(variant)
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

impl VariantPatch {
    pub fn apply(self, before: &Variant, product: &Product, now: &str) -> Result<Variant, ApiError> {
        let mut after = before.clone();
        if let Some(sku) = self.sku {
            after.sku = sku.map(|s| s.trim().to_owned());
        }
        if let Some(price) = self.price {
            after.price = price;
        }
        let errors = check(&after, product);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        if after != *before {
            after.updated_at = now.to_owned();
            after.version = before.version + 1;
        }
        Ok(after)
    }
}

/// The key that makes a combination of option values unique within a product: the values in option order.
pub fn combination(product: &Product, values: &BTreeMap<String, String>) -> String {
    let ordered: Vec<&str> = product
        .options
        .iter()
        .filter_map(|o| values.get(&o.name).map(String::as_str))
        .collect();
    serde_json::to_string(&ordered).unwrap_or_default()
}

/// Every combination of the product's option values that no existing variant has, in option order.
pub fn missing_combinations(product: &Product, existing: &[Variant]) -> Vec<BTreeMap<String, String>> {
    let mut combinations: Vec<BTreeMap<String, String>> = vec![BTreeMap::new()];
    for option in &product.options {
        combinations = combinations
            .into_iter()
            .flat_map(|partial| {
                option.values.iter().map(move |value| {
                    let mut next = partial.clone();
                    next.insert(option.name.clone(), value.clone());
                    next
                })
            })
            .collect();
    }
    let taken: Vec<String> = existing
        .iter()
        .map(|v| combination(product, &v.option_values))
        .collect();
    combinations
        .into_iter()
        .filter(|values| !product.options.is_empty() && !taken.contains(&combination(product, values)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::products::ProductIn;

    fn product() -> Product {
        let input: ProductIn = serde_json::from_value(serde_json::json!({
            "name": "Tee", "price": {"amount": 2000, "currency": "USD"},
            "options": [{"name": "Size", "values": ["S", "M"]}, {"name": "Color", "values": ["Red", "Blue"]}]
        }))
        .unwrap();
        input.into_product(ProductId::new(), "t").unwrap().0
    }

    fn values(size: &str, color: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("Size".to_owned(), size.to_owned()),
            ("Color".to_owned(), color.to_owned()),
        ])
    }

    #[test]
    fn option_values_must_match_the_product() {
        let product = product();
        let ok = VariantIn {
            sku: Some("TEE-S-R".into()),
            price: None,
            option_values: values("S", "Red"),
        };
        assert!(ok.into_variant(&product, "t").is_ok());
        let bad = VariantIn {
            sku: Some("bad sku".into()),
            price: Some(Money::new(1, crate::money::CurrencyCode::parse("EUR").unwrap())),
            option_values: BTreeMap::from([
                ("Size".to_owned(), "XL".to_owned()),
                ("Fit".to_owned(), "Slim".to_owned()),
            ]),
        };
        let Err(ApiError::Validation(errors)) = bad.into_variant(&product, "t") else {
            panic!("expected errors")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "option_values.Size",
                "option_values.Color",
                "option_values.Fit",
                "sku",
                "price.currency"
            ]
        );
    }

    #[test]
    fn generation_fills_the_missing_combinations() {
        let product = product();
        let existing = VariantIn {
            sku: None,
            price: None,
            option_values: values("M", "Blue"),
        }
        .into_variant(&product, "t")
        .unwrap();
        let missing = missing_combinations(&product, &[existing]);
        assert_eq!(missing.len(), 3);
        assert!(!missing.contains(&values("M", "Blue")));
        assert_eq!(missing[0], values("S", "Red"));
        assert_eq!(combination(&product, &values("S", "Red")), r#"["S","Red"]"#);
    }

    #[test]
    fn options_are_added_only_before_variants() {
        let product = product();
        let option = |name: &str, values: &[&str]| OptionIn {
            name: name.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        let after = add_option(&product, option("Fit", &["Slim"]), false, "later").unwrap();
        assert_eq!(after.options.len(), 3);
        assert_eq!(after.version, product.version + 1);
        let blocked = add_option(&product, option("Fit", &["Slim"]), true, "later");
        assert!(matches!(blocked, Err(ApiError::Conflict { .. })));
        let duplicate = add_option(&product, option("Size", &["XL"]), false, "later");
        assert!(matches!(duplicate, Err(ApiError::Conflict { .. })));
        let empty = add_option(&product, option("Fit", &[]), false, "later");
        assert!(matches!(empty, Err(ApiError::Validation(_))));
    }
}
