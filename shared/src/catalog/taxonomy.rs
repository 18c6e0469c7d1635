//! Categories (nested, no cycles) and brands.

use crate::body::{patch_body, request_body};
use macro_rules_attribute::apply;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::products::ProductPatch;
use crate::error::{ApiError, FieldError};
use crate::events::EventType;
use crate::ids::{BrandId, CategoryId};
use crate::model::Resource;

const MAX_NAME: usize = 255;
const MAX_DESCRIPTION: usize = 5_000;
/// Deepest nesting allowed; bounds the ancestor walk of the cycle check.
pub const MAX_DEPTH: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Category {
    pub id: CategoryId,
    #[schema(example = "Mugs")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<CategoryId>,
    /// Products in this category (kept by the product writes).
    #[serde(default)]
    pub product_count: u64,
    /// Direct subcategories.
    #[serde(default)]
    pub child_count: u64,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

#[apply(request_body!)]
pub struct CategoryIn {
    /// Not blank; trimmed.
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    pub name: String,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub parent_id: Option<CategoryId>,
}

#[apply(patch_body!)]
pub struct CategoryPatch {
    /// Not blank; trimmed.
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(max_length = 5000)]
    pub description: Option<Option<String>>,
    /// Move under another category, or `null` for the top level.
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub parent_id: Option<Option<CategoryId>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Brand {
    pub id: BrandId,
    #[schema(example = "Acme")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    #[serde(default)]
    pub product_count: u64,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

#[apply(request_body!)]
pub struct BrandIn {
    /// Not blank; trimmed.
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    pub name: String,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// An `https` URL, without white space.
    #[schema(max_length = 2048, pattern = r"^https://[^\s\u0000-\u001F\u007F-\u009F]*$")]
    pub logo_url: Option<String>,
}

#[apply(patch_body!)]
pub struct BrandPatch {
    /// Not blank; trimmed.
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(max_length = 5000)]
    pub description: Option<Option<String>>,
    /// An `https` URL, without white space.
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(max_length = 2048, pattern = r"^https://[^\s\u0000-\u001F\u007F-\u009F]*$")]
    pub logo_url: Option<Option<String>>,
}

fn check_texts(name: &str, description: Option<&str>, errors: &mut Vec<FieldError>) {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME {
        errors.push(FieldError::new("name", "must be 1 to 255 characters"));
    }
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        errors.push(FieldError::new("description", "must be at most 5000 characters"));
    }
}

fn finish<T>(value: T, errors: Vec<FieldError>) -> Result<T, ApiError> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// What categories and brands share: a named, described group of products that counts them. Their routes, their
/// domain operations and these rules are written once, over this trait.
pub trait Taxon: Clone + PartialEq + Resource + utoipa::ToSchema + Send + Sync {
    type In: Send;
    type Patch: Send;
    const CREATED: EventType;
    const UPDATED: EventType;
    const DELETED: EventType;

    /// A new one from a request body, or every reason it is invalid.
    fn from_input(input: Self::In, now: &str) -> Result<Self, ApiError>;
    /// `self` changed by `patch`, checked; absent fields are kept.
    fn edit(&mut self, patch: Self::Patch, errors: &mut Vec<FieldError>);
    /// Why it cannot be deleted now, if it cannot.
    fn in_use(&self) -> Option<String>;
    fn touch(&mut self, now: &str, version: u64);

    /// `before` changed by `patch`: a real change takes a new version and `updated_at`, no change keeps both.
    fn patched(before: &Self, patch: Self::Patch, now: &str) -> Result<Self, ApiError> {
        let mut after = before.clone();
        let mut errors = Vec::new();
        after.edit(patch, &mut errors);
        if after != *before {
            after.touch(now, before.version() + 1);
        }
        finish(after, errors)
    }
}

/// Applies the name and description of a patch; both are checked on the result.
fn edit_texts(
    (name, description): (&mut String, &mut Option<String>),
    new_name: Option<String>,
    new_description: Option<Option<String>>,
    errors: &mut Vec<FieldError>,
) {
    if let Some(new_name) = new_name {
        *name = new_name.trim().to_owned();
    }
    if let Some(new_description) = new_description {
        *description = new_description;
    }
    check_texts(name, description.as_deref(), errors);
}

impl Taxon for Category {
    type In = CategoryIn;
    type Patch = CategoryPatch;
    const CREATED: EventType = EventType::CategoryCreated;
    const UPDATED: EventType = EventType::CategoryUpdated;
    const DELETED: EventType = EventType::CategoryDeleted;

    fn from_input(input: CategoryIn, now: &str) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        check_texts(&input.name, input.description.as_deref(), &mut errors);
        let category = Category {
            id: CategoryId::new(),
            name: input.name.trim().to_owned(),
            description: input.description,
            parent_id: input.parent_id,
            product_count: 0,
            child_count: 0,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            version: 1,
        };
        finish(category, errors)
    }

    fn edit(&mut self, patch: CategoryPatch, errors: &mut Vec<FieldError>) {
        edit_texts(
            (&mut self.name, &mut self.description),
            patch.name,
            patch.description,
            errors,
        );
        if let Some(parent) = patch.parent_id {
            self.parent_id = parent;
        }
        if self.parent_id == Some(self.id) {
            errors.push(FieldError::new("parent_id", "a category cannot be its own parent"));
        }
    }

    fn in_use(&self) -> Option<String> {
        (self.product_count > 0 || self.child_count > 0).then(|| {
            format!(
                "the category still has {} products and {} subcategories; move them first",
                self.product_count, self.child_count
            )
        })
    }

    fn touch(&mut self, now: &str, version: u64) {
        self.updated_at = now.to_owned();
        self.version = version;
    }
}

fn valid_logo(url: Option<&str>) -> bool {
    url.is_none_or(|u| u.starts_with("https://") && u.chars().count() <= 2048 && !u.contains(char::is_whitespace))
}

fn check_logo(url: Option<&str>, errors: &mut Vec<FieldError>) {
    if !valid_logo(url) {
        errors.push(FieldError::new("logo_url", "must be an https URL"));
    }
}

impl Taxon for Brand {
    type In = BrandIn;
    type Patch = BrandPatch;
    const CREATED: EventType = EventType::BrandCreated;
    const UPDATED: EventType = EventType::BrandUpdated;
    const DELETED: EventType = EventType::BrandDeleted;

    fn from_input(input: BrandIn, now: &str) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        check_texts(&input.name, input.description.as_deref(), &mut errors);
        check_logo(input.logo_url.as_deref(), &mut errors);
        let brand = Brand {
            id: BrandId::new(),
            name: input.name.trim().to_owned(),
            description: input.description,
            logo_url: input.logo_url,
            product_count: 0,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            version: 1,
        };
        finish(brand, errors)
    }

    fn edit(&mut self, patch: BrandPatch, errors: &mut Vec<FieldError>) {
        edit_texts(
            (&mut self.name, &mut self.description),
            patch.name,
            patch.description,
            errors,
        );
        if let Some(logo) = patch.logo_url {
            self.logo_url = logo;
        }
        check_logo(self.logo_url.as_deref(), errors);
    }

    fn in_use(&self) -> Option<String> {
        (self.product_count > 0).then(|| format!("{} products use this brand; change them first", self.product_count))
    }

    fn touch(&mut self, now: &str, version: u64) {
        self.updated_at = now.to_owned();
        self.version = version;
    }
}

/// Refuses a move that would put `category` under one of its own descendants. `ancestors` are the new parent's
/// ancestors, nearest first, as read from storage (at most [`MAX_DEPTH`]).
pub fn check_move(category: CategoryId, new_parent: CategoryId, ancestors: &[CategoryId]) -> Result<(), ApiError> {
    if new_parent == category || ancestors.contains(&category) {
        return Err(ApiError::invalid(
            "parent_id",
            "a category cannot move under itself or its own subcategory",
        ));
    }
    if ancestors.len() + 1 >= MAX_DEPTH {
        return Err(ApiError::invalid(
            "parent_id",
            format!("categories nest at most {MAX_DEPTH} deep"),
        ));
    }
    Ok(())
}

/// A patch that only edits a product's category list (the `POST/DELETE /products/{id}/categories/{cid}` routes).
pub fn category_patch(mut categories: Vec<CategoryId>, category: CategoryId, add: bool) -> ProductPatch {
    categories.retain(|c| *c != category);
    if add {
        categories.push(category);
    }
    ProductPatch {
        category_ids: Some(categories),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_cannot_form_cycles() {
        let [a, b, c] = [CategoryId::new(), CategoryId::new(), CategoryId::new()];
        // c is under b, b under a: moving a under c closes a loop.
        assert!(check_move(a, c, &[b, a]).is_err());
        assert!(check_move(a, a, &[]).is_err());
        assert!(check_move(c, a, &[]).is_ok());
        let deep: Vec<_> = (0..MAX_DEPTH).map(|_| CategoryId::new()).collect();
        assert!(check_move(a, b, &deep).is_err());
    }

    #[test]
    fn names_are_required() {
        let input = CategoryIn {
            name: " ".into(),
            description: None,
            parent_id: None,
        };
        assert!(matches!(Category::from_input(input, "t"), Err(ApiError::Validation(_))));
        let brand = BrandIn {
            name: "Acme".into(),
            description: None,
            logo_url: Some("http://x".into()),
        };
        assert!(matches!(Brand::from_input(brand, "t"), Err(ApiError::Validation(_))));
    }

    #[test]
    fn logo_urls_are_counted_in_characters() {
        let brand = |length: usize| BrandIn {
            name: "Acme".into(),
            description: None,
            logo_url: Some(format!("https://cdn.example.com/{}", "é".repeat(length - 24))),
        };
        assert!(Brand::from_input(brand(2048), "t").is_ok());
        assert!(matches!(
            Brand::from_input(brand(2049), "t"),
            Err(ApiError::Validation(_))
        ));
    }

    #[test]
    fn category_edits_bump_the_version_only_when_something_changes() {
        let input = CategoryIn {
            name: "Mugs".into(),
            description: None,
            parent_id: None,
        };
        let category = Category::from_input(input, "t").unwrap();
        let unchanged = Category::patched(&category, CategoryPatch::default(), "later").unwrap();
        assert_eq!(unchanged.version, 1);
        let rename = CategoryPatch {
            name: Some("Cups".into()),
            ..Default::default()
        };
        assert_eq!(Category::patched(&category, rename, "later").unwrap().version, 2);
        let own_parent = CategoryPatch {
            parent_id: Some(Some(category.id)),
            ..Default::default()
        };
        assert!(Category::patched(&category, own_parent, "later").is_err());
    }
}
