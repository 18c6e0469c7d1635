//! Categories (nested, no cycles) and brands.

use crate::body::{patch_body, request_body};
use macro_rules_attribute::apply;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::products::ProductPatch;
use crate::error::{ApiError, FieldError};
use crate::ids::{BrandId, CategoryId};

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
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<CategoryId>,
}

#[apply(patch_body!)]
pub struct CategoryPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
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
    pub name: String,
    pub description: Option<String>,
    pub logo_url: Option<String>,
}

#[apply(patch_body!)]
pub struct BrandPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
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

impl CategoryIn {
    pub fn into_category(self, id: CategoryId, now: &str) -> Result<Category, ApiError> {
        let mut errors = Vec::new();
        check_texts(&self.name, self.description.as_deref(), &mut errors);
        let category = Category {
            id,
            name: self.name.trim().to_owned(),
            description: self.description,
            parent_id: self.parent_id,
            product_count: 0,
            child_count: 0,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            version: 1,
        };
        finish(category, errors)
    }
}

impl CategoryPatch {
    pub fn apply(self, before: &Category, now: &str) -> Result<Category, ApiError> {
        let mut after = before.clone();
        if let Some(name) = self.name {
            after.name = name.trim().to_owned();
        }
        if let Some(description) = self.description {
            after.description = description;
        }
        if let Some(parent) = self.parent_id {
            after.parent_id = parent;
        }
        let mut errors = Vec::new();
        check_texts(&after.name, after.description.as_deref(), &mut errors);
        if after.parent_id == Some(before.id) {
            errors.push(FieldError::new("parent_id", "a category cannot be its own parent"));
        }
        if after != *before {
            after.updated_at = now.to_owned();
            after.version = before.version + 1;
        }
        finish(after, errors)
    }
}

fn valid_logo(url: Option<&str>) -> bool {
    url.is_none_or(|u| u.starts_with("https://") && u.len() <= 2048 && !u.contains(char::is_whitespace))
}

impl BrandIn {
    pub fn into_brand(self, id: BrandId, now: &str) -> Result<Brand, ApiError> {
        let mut errors = Vec::new();
        check_texts(&self.name, self.description.as_deref(), &mut errors);
        if !valid_logo(self.logo_url.as_deref()) {
            errors.push(FieldError::new("logo_url", "must be an https URL"));
        }
        let brand = Brand {
            id,
            name: self.name.trim().to_owned(),
            description: self.description,
            logo_url: self.logo_url,
            product_count: 0,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            version: 1,
        };
        finish(brand, errors)
    }
}

impl BrandPatch {
    pub fn apply(self, before: &Brand, now: &str) -> Result<Brand, ApiError> {
        let mut after = before.clone();
        if let Some(name) = self.name {
            after.name = name.trim().to_owned();
        }
        if let Some(description) = self.description {
            after.description = description;
        }
        if let Some(logo) = self.logo_url {
            after.logo_url = logo;
        }
        let mut errors = Vec::new();
        check_texts(&after.name, after.description.as_deref(), &mut errors);
        if !valid_logo(after.logo_url.as_deref()) {
            errors.push(FieldError::new("logo_url", "must be an https URL"));
        }
        if after != *before {
            after.updated_at = now.to_owned();
            after.version = before.version + 1;
        }
        finish(after, errors)
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
        assert!(matches!(
            input.into_category(CategoryId::new(), "t"),
            Err(ApiError::Validation(_))
        ));
        let brand = BrandIn {
            name: "Acme".into(),
            description: None,
            logo_url: Some("http://x".into()),
        };
        assert!(matches!(
            brand.into_brand(BrandId::new(), "t"),
            Err(ApiError::Validation(_))
        ));
    }

    #[test]
    fn category_edits_bump_the_version_only_when_something_changes() {
        let category = CategoryIn {
            name: "Mugs".into(),
            description: None,
            parent_id: None,
        }
        .into_category(CategoryId::new(), "t")
        .unwrap();
        assert_eq!(CategoryPatch::default().apply(&category, "later").unwrap().version, 1);
        let renamed = CategoryPatch {
            name: Some("Cups".into()),
            ..Default::default()
        }
        .apply(&category, "later")
        .unwrap();
        assert_eq!(renamed.version, 2);
        let own_parent = CategoryPatch {
            parent_id: Some(Some(category.id)),
            ..Default::default()
        };
        assert!(own_parent.apply(&category, "later").is_err());
    }
}
