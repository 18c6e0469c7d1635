//! Products: the entity, its validation, its status machine, and the index entries that serve its lists.

mod actions;
mod listing;

pub use actions::*;
pub use listing::*;

use crate::body::{patch_body, request_body};
use macro_rules_attribute::apply;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::text;
use crate::error::{ApiError, FieldError};
use crate::ids::{BrandId, CategoryId, ProductId};
use crate::money::{Money, MAX_PRICE};

pub const MAX_CATEGORIES: usize = 5;
const MAX_IMAGES: usize = 20;
const MAX_METADATA: usize = 50;
const MAX_LOCALES: usize = 20;
const MAX_NAME: usize = 255;
const MAX_DESCRIPTION: usize = 20_000;
const MAX_SKU: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductType {
    Physical,
    Digital,
    Service,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    Draft,
    Active,
    Archived,
    Discontinued,
    Recalled,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Archived => "archived",
            Self::Discontinued => "discontinued",
            Self::Recalled => "recalled",
        }
    }
}

impl ProductType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Physical => "physical",
            Self::Digital => "digital",
            Self::Service => "service",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// An `http` or `https` URL, without white space.
    #[schema(
        example = "https://cdn.example.com/mug.jpg",
        max_length = 2048,
        pattern = r"^https?://[^\s\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub alt: Option<String>,
    #[serde(default)]
    pub position: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dimensions {
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
}

/// Per-locale texts (`en`, `fr-CA`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 255)]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 255)]
    pub seo_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub seo_description: Option<String>,
}

/// A product, as stored and as returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Product {
    pub id: ProductId,
    #[schema(example = "Blue mug")]
    pub name: String,
    #[schema(example = "blue-mug")]
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: ProductType,
    pub status: ProductStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "MUG-BL-01")]
    pub sku: Option<String>,
    pub price: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare_at_price: Option<Money>,
    #[serde(default)]
    pub category_ids: Vec<CategoryId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_id: Option<BrandId>,
    #[serde(default)]
    pub images: Vec<Image>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_grams: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<Dimensions>,
    pub is_visible: bool,
    /// The marketplace vendor selling it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    /// Which of the store's tax rates applies (`reduced`, `zero`, …); absent: `standard`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_class: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub localized: BTreeMap<String, Localized>,
    /// Why the product was recalled (status `recalled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall_reason: Option<String>,
    /// Its options (`Size: S, M, L`), at most 3; each variant picks one value of each.
    #[serde(default)]
    pub options: Vec<ProductOption>,
    pub created_at: String,
    pub updated_at: String,
    /// Increases with every change; send it back as `If-Match` to update only what you read.
    pub version: u64,
}

#[apply(request_body!)]
pub struct ProductIn {
    /// Not blank; trimmed.
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    pub name: String,
    /// Unique in the store; made from the name when absent.
    #[schema(max_length = 100, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<ProductType>,
    /// `draft` (default) or `active`; later changes go through the action routes.
    pub status: Option<ProductStatus>,
    /// Unique in the store (across products and variants).
    #[schema(max_length = 64, pattern = "^[A-Za-z0-9._/-]+$")]
    pub sku: Option<String>,
    pub price: Money,
    pub compare_at_price: Option<Money>,
    #[serde(default)]
    #[schema(max_items = 5)]
    pub category_ids: Vec<CategoryId>,
    pub brand_id: Option<BrandId>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub images: Vec<Image>,
    pub weight_grams: Option<u32>,
    pub dimensions: Option<Dimensions>,
    pub is_visible: Option<bool>,
    #[schema(min_length = 1, max_length = 64)]
    pub vendor_id: Option<String>,
    /// The tax class its rates come from (default `standard`).
    #[schema(example = "reduced", pattern = "^[a-z0-9_]{1,40}$")]
    pub tax_class: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::body::metadata::<50, 40, 500>)]
    pub metadata: BTreeMap<String, String>,
    /// Keyed by locale: `en`, `fr-CA`, `zh-Hant`.
    #[serde(default)]
    #[schema(schema_with = locales)]
    pub localized: BTreeMap<String, Localized>,
    /// Units to put in the default warehouse at creation, in the same transaction (ledgered as a restock with
    /// the note `initial stock`).
    #[schema(minimum = 0, maximum = 1000000000)]
    pub stock: Option<i64>,
    /// Options to start with; more can be added with `POST /v1/products/{id}/options`.
    #[serde(default)]
    #[schema(max_items = 3)]
    pub options: Vec<ProductOption>,
}

/// A product option and its values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductOption {
    #[schema(example = "Size", min_length = 1, max_length = 50, pattern = r"\S")]
    pub name: String,
    #[schema(example = json!(["S", "M", "L"]), schema_with = crate::body::non_blank_strings::<50, 100>)]
    pub values: Vec<String>,
}

/// `localized`: at most 20 locales (`en`, `fr-CA`: see `valid_locale`).
fn locales() -> utoipa::openapi::Object {
    let mut map = crate::body::map_of::<Localized, MAX_LOCALES>();
    map.property_names = Some(Box::new(
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(LOCALE_PATTERN))
            .into(),
    ));
    map
}

/// What [`valid_locale`] accepts.
const LOCALE_PATTERN: &str = "^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$";

pub const MAX_OPTIONS: usize = 3;
const MAX_OPTION_VALUES: usize = 50;

/// A partial update: absent fields are kept, `null` clears an optional field.
#[apply(patch_body!)]
pub struct ProductPatch {
    /// Not blank; trimmed.
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    pub name: Option<String>,
    #[schema(max_length = 100, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(max_length = 20000)]
    pub description: Option<Option<String>>,
    #[serde(rename = "type")]
    pub kind: Option<ProductType>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(max_length = 64, pattern = "^[A-Za-z0-9._/-]+$")]
    pub sku: Option<Option<String>>,
    pub price: Option<Money>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub compare_at_price: Option<Option<Money>>,
    #[schema(max_items = 5)]
    pub category_ids: Option<Vec<CategoryId>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub brand_id: Option<Option<BrandId>>,
    #[schema(max_items = 20)]
    pub images: Option<Vec<Image>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub weight_grams: Option<Option<u32>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub dimensions: Option<Option<Dimensions>>,
    pub is_visible: Option<bool>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(min_length = 1, max_length = 64)]
    pub vendor_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(pattern = "^[a-z0-9_]{1,40}$")]
    pub tax_class: Option<Option<String>>,
    #[schema(schema_with = crate::body::metadata::<50, 40, 500>)]
    pub metadata: Option<BTreeMap<String, String>>,
    #[schema(schema_with = locales)]
    pub localized: Option<BTreeMap<String, Localized>>,
}

impl ProductIn {
    /// The new product, validated. `slug_generated` tells the caller it may retry with a suffix on a clash.
    pub fn into_product(self, id: ProductId, now: &str) -> Result<(Product, bool), ApiError> {
        let slug_generated = self.slug.is_none();
        let status = self.status.unwrap_or(ProductStatus::Draft);
        let mut errors = Vec::new();
        if !matches!(status, ProductStatus::Draft | ProductStatus::Active) {
            errors.push(FieldError::new("status", "a new product is `draft` or `active`"));
        }
        let product = Product {
            id,
            slug: self.slug.unwrap_or_else(|| generated_slug(&self.name, id)),
            name: self.name.trim().to_owned(),
            description: self.description,
            kind: self.kind.unwrap_or(ProductType::Physical),
            status,
            sku: self.sku.map(|s| s.trim().to_owned()),
            price: self.price,
            compare_at_price: self.compare_at_price,
            category_ids: self.category_ids,
            brand_id: self.brand_id,
            images: self.images,
            weight_grams: self.weight_grams,
            dimensions: self.dimensions,
            is_visible: self.is_visible.unwrap_or(true),
            vendor_id: self.vendor_id,
            tax_class: self.tax_class,
            metadata: self.metadata,
            localized: self.localized,
            recall_reason: None,
            options: self.options,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            version: 1,
        };
        errors.extend(product.problems());
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok((product, slug_generated))
    }
}

impl ProductPatch {
    /// The product after the patch, validated, and the names of the fields that changed.
    pub fn apply(self, before: &Product, now: &str) -> Result<(Product, Vec<&'static str>), ApiError> {
        let mut after = before.clone();
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(value) = self.$field { after.$field = value; } )* };
        }
        set!(
            name,
            slug,
            description,
            kind,
            price,
            compare_at_price,
            category_ids,
            brand_id,
            images
        );
        set!(
            weight_grams,
            dimensions,
            is_visible,
            vendor_id,
            tax_class,
            metadata,
            localized
        );
        if let Some(sku) = self.sku {
            after.sku = sku.map(|s| s.trim().to_owned());
        }
        after.name = after.name.trim().to_owned();
        let problems = after.problems();
        if !problems.is_empty() {
            return Err(ApiError::Validation(problems));
        }
        let changed = before.changed_fields(&after);
        if !changed.is_empty() {
            after.updated_at = now.to_owned();
            after.version = before.version + 1;
        }
        Ok((after, changed))
    }
}

/// The largest product, as JSON: it and its event must each fit in a 400 KB item.
pub const MAX_PRODUCT_BYTES: usize = 300 * 1024;

/// The longest search text `q` (its words become key prefixes, and keys stop at 2 KB).
pub(crate) const MAX_QUERY: usize = 200;

pub(crate) const SKU_RULE: &str = "must be 1 to 64 of A-Z, a-z, 0-9, `-`, `_`, `.`, `/`";

pub(crate) fn valid_sku(sku: &str) -> bool {
    !sku.is_empty() && sku.len() <= MAX_SKU && sku.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
}

/// The slug made from `name`, or from the product's id when the name has no letter or digit to make one of
/// (`!!!`): a slug the client did not send is never the reason a valid product is refused.
fn generated_slug(name: &str, id: ProductId) -> String {
    match text::slugify(name) {
        slug if slug.is_empty() => text::slugify(&id.to_string()),
        slug => slug,
    }
}

fn too_long(text: &str, max: usize) -> bool {
    text.chars().count() > max
}

fn valid_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !too_long(url, 2048)
        && !url.contains(char::is_whitespace)
}

/// `en`, `fr`, `fr-CA`, `zh-Hant`.
fn valid_locale(locale: &str) -> bool {
    let mut parts = locale.split('-');
    let language = parts.next().unwrap_or_default();
    let region = parts.next();
    parts.next().is_none()
        && (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| (2..=4).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

impl Product {
    /// Every problem with the product's fields, each naming its field.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut check = |ok: bool, field: &str, message: &str| {
            if !ok {
                errors.push(FieldError::new(field, message));
            }
        };
        check(
            !self.name.is_empty() && !too_long(&self.name, MAX_NAME),
            "name",
            "must be 1 to 255 characters",
        );
        check(
            text::is_slug(&self.slug),
            "slug",
            "must be 1 to 100 of a-z, 0-9 and single hyphens",
        );
        check(
            self.description
                .as_deref()
                .is_none_or(|d| !too_long(d, MAX_DESCRIPTION)),
            "description",
            "must be at most 20000 characters",
        );
        check(self.sku.as_deref().is_none_or(valid_sku), "sku", SKU_RULE);
        check(self.price.amount >= 0, "price.amount", "must not be negative");
        check(
            self.price.amount <= MAX_PRICE && self.compare_at_price.is_none_or(|c| c.amount <= MAX_PRICE),
            "price.amount",
            "must be at most 10000000000000 minor units",
        );
        if let Some(compare) = self.compare_at_price {
            check(
                compare.currency == self.price.currency,
                "compare_at_price.currency",
                "must be the price's currency",
            );
            check(
                compare.amount >= self.price.amount,
                "compare_at_price.amount",
                "must be at least the price",
            );
        }
        let distinct: BTreeSet<_> = self.category_ids.iter().collect();
        check(
            self.category_ids.len() <= MAX_CATEGORIES,
            "category_ids",
            "at most 5 categories",
        );
        check(
            distinct.len() == self.category_ids.len(),
            "category_ids",
            "must not repeat a category",
        );
        check(self.images.len() <= MAX_IMAGES, "images", "at most 20 images");
        for (i, image) in self.images.iter().enumerate() {
            check(
                valid_url(&image.url),
                &format!("images[{i}].url"),
                "must be an http(s) URL of at most 2048 characters",
            );
            check(
                image.alt.as_deref().is_none_or(|a| !too_long(a, 500)),
                &format!("images[{i}].alt"),
                "must be at most 500 characters",
            );
        }
        let physical = self.kind == ProductType::Physical;
        check(
            physical || self.weight_grams.is_none(),
            "weight_grams",
            "only physical products have a weight",
        );
        check(
            physical || self.dimensions.is_none(),
            "dimensions",
            "only physical products have dimensions",
        );
        check(
            self.vendor_id
                .as_deref()
                .is_none_or(|v| !v.is_empty() && !too_long(v, 64)),
            "vendor_id",
            "must be 1 to 64 characters",
        );
        check(
            self.tax_class.as_deref().is_none_or(|c| {
                (1..=40).contains(&c.len())
                    && c.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            }),
            "tax_class",
            "1 to 40 of a-z, 0-9 and _",
        );
        check(self.metadata.len() <= MAX_METADATA, "metadata", "at most 50 keys");
        for (key, value) in &self.metadata {
            let ok = !key.is_empty() && !too_long(key, 40) && !too_long(value, 500);
            check(
                ok,
                &format!("metadata.{key}"),
                "keys are 1 to 40 characters, values at most 500",
            );
        }
        check(self.localized.len() <= MAX_LOCALES, "localized", "at most 20 locales");
        check(self.options.len() <= MAX_OPTIONS, "options", "at most 3 options");
        let names: BTreeSet<_> = self.options.iter().map(|o| o.name.as_str()).collect();
        check(names.len() == self.options.len(), "options", "option names must differ");
        for (i, option) in self.options.iter().enumerate() {
            let name_ok = !option.name.trim().is_empty() && !too_long(&option.name, 50);
            check(name_ok, &format!("options[{i}].name"), "must be 1 to 50 characters");
            let values: BTreeSet<_> = option.values.iter().collect();
            let values_ok = !option.values.is_empty()
                && option.values.len() <= MAX_OPTION_VALUES
                && values.len() == option.values.len()
                && option.values.iter().all(|v| !v.trim().is_empty() && !too_long(v, 100));
            check(
                values_ok,
                &format!("options[{i}].values"),
                "1 to 50 distinct values of 1 to 100 characters",
            );
        }
        for (locale, texts) in &self.localized {
            check(
                valid_locale(locale),
                &format!("localized.{locale}"),
                "locale must look like `en` or `fr-CA`",
            );
            let lengths = [
                (&texts.title, 255),
                (&texts.seo_title, 255),
                (&texts.seo_description, 1000),
                (&texts.description, MAX_DESCRIPTION),
            ];
            let ok = lengths
                .iter()
                .all(|(text, max)| text.as_deref().is_none_or(|t| !too_long(t, *max)));
            check(ok, &format!("localized.{locale}"), "a localized text is too long");
        }
        // The product and its event each go into one item, and an item holds at most 400 KB.
        let size = serde_json::to_vec(self).map_or(usize::MAX, |json| json.len());
        check(
            size <= MAX_PRODUCT_BYTES,
            "body",
            "the product is larger than 300 KB in all; shorten its descriptions or localized texts",
        );
        errors
    }

    /// The names of the fields that differ between `self` and `other`.
    pub fn changed_fields(&self, other: &Product) -> Vec<&'static str> {
        let mut changed = Vec::new();
        macro_rules! compare {
            ($($field:ident => $name:literal),*) => { $( if self.$field != other.$field { changed.push($name); } )* };
        }
        compare!(name => "name", slug => "slug", description => "description", kind => "type", status => "status",
            sku => "sku", price => "price", compare_at_price => "compare_at_price", category_ids => "category_ids",
            brand_id => "brand_id", images => "images", weight_grams => "weight_grams", dimensions => "dimensions",
            is_visible => "is_visible", vendor_id => "vendor_id", tax_class => "tax_class", metadata => "metadata",
            localized => "localized",
            recall_reason => "recall_reason", options => "options");
        changed
    }

    /// The lists this product appears in.
    pub fn listings(&self) -> Vec<Listing> {
        let mut listings = vec![
            Listing::All,
            Listing::Status(self.status),
            Listing::Type(self.kind),
            Listing::Visible(self.is_visible),
        ];
        listings.extend(self.brand_id.map(Listing::Brand));
        listings.extend(self.category_ids.iter().copied().map(Listing::Category));
        listings
    }

    /// The sortable value of this product for each sort field.
    pub fn sort_value(&self, field: SortField) -> String {
        match field {
            SortField::CreatedAt => self.id.to_string(),
            SortField::Name => {
                let mut name = text::fold(&self.name);
                name.truncate(100);
                name
            }
            // Non-negative (checked), so zero-padding sorts numerically.
            SortField::Price => format!("{:019}", self.price.amount.max(0)),
        }
    }

    /// The index tokens of its name and SKU (suggestions come from these).
    pub fn tokens(&self) -> BTreeSet<String> {
        text::tokens(&self.name, self.sku.as_deref())
    }

    /// The index tokens of its description and localized titles and descriptions, beside [`Self::tokens`]:
    /// localized titles first (names in other languages), then the description, then localized descriptions.
    pub fn text_tokens(&self, name_tokens: &BTreeSet<String>) -> BTreeSet<String> {
        let titles = self.localized.values().filter_map(|l| l.title.as_deref());
        let descriptions = self.localized.values().filter_map(|l| l.description.as_deref());
        let texts = titles.chain(self.description.as_deref()).chain(descriptions);
        text::text_tokens(texts, name_tokens)
    }

    /// Every token a search matches this product by.
    pub fn search_tokens(&self) -> BTreeSet<String> {
        let mut tokens = self.tokens();
        tokens.extend(self.text_tokens(&tokens));
        tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::CurrencyCode;

    fn input() -> ProductIn {
        serde_json::from_value(serde_json::json!({
            "name": "Crème Mug", "sku": "MUG-1", "price": {"amount": 1200, "currency": "EUR"}
        }))
        .unwrap()
    }

    fn product() -> Product {
        input()
            .into_product(ProductId::new(), "2026-11-25T00:00:00Z")
            .unwrap()
            .0
    }

    fn fields(error: ApiError) -> Vec<String> {
        match error {
            ApiError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_new_product_gets_defaults() {
        let (product, generated) = input().into_product(ProductId::new(), "t").unwrap();
        assert!(generated);
        assert_eq!(product.slug, "creme-mug");
        assert_eq!(product.status, ProductStatus::Draft);
        assert_eq!(product.kind, ProductType::Physical);
        assert!(product.is_visible);
        assert_eq!(product.version, 1);
    }

    #[test]
    fn fields_are_validated() {
        let mut input = input();
        input.name = " ".into();
        input.slug = Some("Not A Slug".into());
        input.sku = Some("has space".into());
        input.price.amount = -1;
        input.status = Some(ProductStatus::Recalled);
        input.kind = Some(ProductType::Digital);
        input.weight_grams = Some(10);
        input.images = vec![Image {
            url: "ftp://x".into(),
            alt: None,
            position: 0,
        }];
        input.localized.insert("english".into(), Localized::default());
        let fields = fields(input.into_product(ProductId::new(), "t").unwrap_err());
        for expected in [
            "status",
            "name",
            "slug",
            "sku",
            "price.amount",
            "images[0].url",
            "weight_grams",
            "localized.english",
        ] {
            assert!(fields.iter().any(|f| f == expected), "{expected} not in {fields:?}");
        }
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut input = input();
        input.vendor_id = Some("é".repeat(64));
        input.metadata.insert("ü".repeat(40), "ß".repeat(500));
        input.images = vec![Image {
            url: format!("https://cdn.example.com/{}", "é".repeat(2000)),
            alt: None,
            position: 0,
        }];
        let product = input.into_product(ProductId::new(), "t").unwrap().0;
        assert_eq!(product.vendor_id.as_deref().map(|v| v.chars().count()), Some(64));

        let mut input = self::input();
        input.vendor_id = Some("é".repeat(65));
        input.metadata.insert("ü".repeat(41), "x".into());
        let fields = fields(input.into_product(ProductId::new(), "t").unwrap_err());
        assert!(fields.contains(&"vendor_id".to_owned()), "{fields:?}");
        assert!(fields.iter().any(|f| f.starts_with("metadata.")), "{fields:?}");
    }

    #[test]
    fn a_name_without_letters_gets_a_slug_from_the_id() {
        let mut input = input();
        input.name = "!!! ???".into();
        let id = ProductId::new();
        let (product, generated) = input.into_product(id, "t").unwrap();
        assert!(generated);
        assert!(text::is_slug(&product.slug), "{}", product.slug);
        assert_eq!(product.slug, id.to_string().to_lowercase().replace('_', "-"));
    }

    #[test]
    fn compare_at_price_must_match() {
        let mut input = input();
        input.compare_at_price = Some(Money::new(100, CurrencyCode::parse("USD").unwrap()));
        let fields = fields(input.into_product(ProductId::new(), "t").unwrap_err());
        assert_eq!(fields, ["compare_at_price.currency", "compare_at_price.amount"]);
    }

    #[test]
    fn patches_change_only_what_they_name() {
        let before = product();
        let patch: ProductPatch = serde_json::from_value(serde_json::json!({"name": "Big mug", "sku": null})).unwrap();
        let (after, changed) = patch.apply(&before, "later").unwrap();
        assert_eq!(changed, ["name", "sku"]);
        assert_eq!(after.slug, before.slug, "the slug is not regenerated");
        assert_eq!(after.sku, None);
        assert_eq!(after.version, 2);
        let (same, nothing) = ProductPatch::default().apply(&before, "later").unwrap();
        assert!(nothing.is_empty());
        assert_eq!(same, before);
        assert!(serde_json::from_value::<ProductPatch>(serde_json::json!({"status": "active"})).is_err());
    }

    #[test]
    fn the_status_machine_names_the_allowed_actions() {
        let draft = product();
        let active = transition(&draft, Action::Publish, None, "t").unwrap();
        assert_eq!(active.status, ProductStatus::Active);
        match transition(&active, Action::Publish, None, "t") {
            Err(ApiError::Conflict { message, .. }) => {
                assert!(message.contains("archive, discontinue, recall"), "{message}")
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert!(matches!(
            transition(&active, Action::Recall, None, "t"),
            Err(ApiError::Validation(_))
        ));
        let recalled = transition(&active, Action::Recall, Some("lead in glaze".into()), "t").unwrap();
        assert_eq!(recalled.recall_reason.as_deref(), Some("lead in glaze"));
        match transition(&recalled, Action::Publish, None, "t") {
            Err(ApiError::Conflict { message, .. }) => {
                assert!(message.ends_with("allowed actions: none"), "{message}")
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn sort_values_order_correctly() {
        let mut cheap = product();
        cheap.price.amount = 99;
        let mut dear = product();
        dear.price.amount = 1000;
        assert!(cheap.sort_value(SortField::Price) < dear.sort_value(SortField::Price));
        assert_eq!(cheap.sort_value(SortField::Name), "creme mug");
    }

    #[test]
    fn plans_pick_the_most_selective_index() {
        let params = ProductListParams {
            status: Some(ProductStatus::Active),
            category_id: Some(CategoryId::new()),
            ..Default::default()
        };
        let plan = params.plan().unwrap();
        assert!(matches!(
            plan.source,
            ListSource::Index(IndexScan {
                listing: Listing::Category(_),
                ..
            })
        ));
        let mut draft = product();
        draft.status = ProductStatus::Draft;
        assert!(!plan.filter.matches(&draft), "the status filter still applies");

        let searched = ProductListParams {
            q: Some("Crè mu".into()),
            ..Default::default()
        };
        let plan = searched.plan().unwrap();
        let words = vec!["cre".into(), "mu".into()];
        assert_eq!(
            plan.source,
            ListSource::Search {
                prefix: "cre".into(),
                words
            }
        );
        assert!(plan.filter.matches(&product()));

        let sorted = |sort: &str| ProductListParams {
            sort: Some(sort.into()),
            ..Default::default()
        };
        let by_price = IndexScan {
            listing: Listing::All,
            sort: SortField::Price,
            descending: false,
            range: None,
        };
        assert_eq!(sorted("price:asc").plan().unwrap().source, ListSource::Index(by_price));
        assert!(sorted("weight").plan().is_err());
        let sorted_search = ProductListParams {
            q: Some("x".into()),
            ..sorted("name")
        };
        assert!(sorted_search.plan().is_err());
        let bad_date = ProductListParams {
            created_from: Some("yesterday".into()),
            ..Default::default()
        };
        assert!(bad_date.plan().is_err());
    }

    #[test]
    fn an_empty_creation_range_reads_one_key_and_keeps_nothing() {
        let at = "2000-01-01T00:00:00Z";
        let plan = ProductListParams {
            created_from: Some(at.into()),
            created_to: Some(at.into()),
            ..Default::default()
        }
        .plan()
        .unwrap();
        let ListSource::Index(IndexScan {
            range: Some((from, to)),
            ..
        }) = plan.source
        else {
            panic!("expected a range")
        };
        assert!(from <= to, "DynamoDB refuses a reversed range");
        let mut old = product();
        old.id = from;
        assert!(!plan.filter.matches(&old));
    }

    #[test]
    fn creation_ranges_use_id_bounds() {
        let plan = ProductListParams {
            created_from: Some("2026-11-25T00:00:00Z".into()),
            ..Default::default()
        }
        .plan()
        .unwrap();
        let ListSource::Index(IndexScan {
            range: Some((from, _)), ..
        }) = plan.source
        else {
            panic!("expected a range")
        };
        assert!(product().id > from);
    }
}
