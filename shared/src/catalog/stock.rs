//! Products and variants as the API answers them: the record with what it has to sell (`stock`), and, when asked
//! (`include=variants,inventory`), its variants and its level in every warehouse — the shapes integrators of the
//! reference APIs expect (`stock` on every product, `inventory_level`, `include=`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::products::Product;
use super::variants::Variant;
use crate::db::Db;
use crate::error::ApiError;
use crate::model::inventory::{Level, StockItem};
use crate::model::Versioned;
use crate::tenant::Tenant;

/// A product as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductOut {
    #[serde(flatten)]
    pub product: Product,
    /// Units available to sell: `on_hand − reserved` in the store's default warehouse, which checkout sells from
    /// (0 when never stocked there). Every warehouse's level: `include=inventory` or `GET /v1/inventory/{id}`.
    pub stock: i64,
    /// Its variants, each with its own `stock`: with `include=variants`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<VariantOut>>,
    /// Its level in every warehouse that has held it: with `include=inventory`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory: Option<Vec<Level>>,
}

impl Versioned for ProductOut {
    fn version(&self) -> u64 {
        self.product.version
    }
}

/// A variant as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct VariantOut {
    #[serde(flatten)]
    pub variant: Variant,
    /// Units available to sell in the default warehouse, as the product's `stock`.
    pub stock: i64,
}

impl Versioned for VariantOut {
    fn version(&self) -> u64 {
        self.variant.version
    }
}

/// `include=variants,inventory` on product reads.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IncludeParams {
    /// Comma-separated: `variants` (each with its stock; one more query per product) and `inventory` (every
    /// warehouse's level; one more query per product).
    #[param(pattern = r"^(variants|inventory)(,(variants|inventory))*$")]
    pub include: Option<String>,
}

/// What a product read adds to each product.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Includes {
    variants: bool,
    inventory: bool,
}

impl Includes {
    pub fn parse(text: Option<&str>) -> Result<Self, ApiError> {
        let mut includes = Includes::default();
        for part in text
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match part {
                "variants" => includes.variants = true,
                "inventory" => includes.inventory = true,
                other => {
                    return Err(ApiError::invalid(
                        "include",
                        format!("unknown `{other}`; use variants, inventory"),
                    ))
                }
            }
        }
        Ok(includes)
    }
}

/// Products as answered: the stock of the products (and of their variants) in one batch read, and what `include`
/// asks for (one query per product for each).
pub async fn answered(
    db: &Db,
    tenant: &Tenant,
    products: Vec<Product>,
    include: Includes,
) -> Result<Vec<ProductOut>, ApiError> {
    let scope = db.scoped(tenant);
    let mut variants: HashMap<_, Vec<Variant>> = HashMap::new();
    if include.variants {
        for product in &products {
            variants.insert(product.id, scope.list_variants(product.id).await?);
        }
    }
    let items: Vec<StockItem> = products
        .iter()
        .map(|p| StockItem::Product(p.id))
        .chain(variants.values().flatten().map(|v| StockItem::Variant(v.id)))
        .collect();
    let sellable = scope.sellable(&items).await?;
    let stock = |item: String| sellable.get(&item).copied().unwrap_or(0);
    let mut out = Vec::with_capacity(products.len());
    for product in products {
        let inventory = match include.inventory {
            true => Some(scope.levels(StockItem::Product(product.id)).await?),
            false => None,
        };
        let variants = variants.remove(&product.id).map(|list| {
            list.into_iter()
                .map(|variant| VariantOut {
                    stock: stock(variant.id.to_string()),
                    variant,
                })
                .collect()
        });
        out.push(ProductOut {
            stock: stock(product.id.to_string()),
            product,
            variants,
            inventory,
        });
    }
    Ok(out)
}

/// One product as answered.
pub async fn answer(db: &Db, tenant: &Tenant, product: Product, include: Includes) -> Result<ProductOut, ApiError> {
    answered(db, tenant, vec![product], include)
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("a product went missing from its own answer"))
}

/// Variants as answered, with their stock in one batch read.
pub async fn answered_variants(db: &Db, tenant: &Tenant, variants: Vec<Variant>) -> Result<Vec<VariantOut>, ApiError> {
    let items: Vec<StockItem> = variants.iter().map(|v| StockItem::Variant(v.id)).collect();
    let sellable = db.scoped(tenant).sellable(&items).await?;
    Ok(variants
        .into_iter()
        .map(|variant| VariantOut {
            stock: sellable.get(&variant.id.to_string()).copied().unwrap_or(0),
            variant,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_name_variants_and_inventory_only() {
        let both = Includes::parse(Some("variants, inventory")).unwrap();
        assert!(both.variants && both.inventory);
        assert_eq!(Includes::parse(None).unwrap(), Includes::default());
        assert!(Includes::parse(Some("prices")).is_err());
    }
}
