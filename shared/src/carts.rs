//! Carts: lines of catalog products priced from the catalog at every read (never from the client), only
//! `active` products, and expiry after a week without a change.

use crate::body::request_body;
use macro_rules_attribute::apply;

use crate::catalog::products::ProductStatus;
use crate::customers::{Checks, Customer, PostalAddress};
use crate::db::Committed;
use crate::db::{id_of, Db};
use crate::error::{ApiError, FieldError};
use crate::events::{Event, EventType};
use crate::ids::{CartId, CartItemId, CustomerId, ProductId, ShippingOptionId, VariantId};
use crate::model::promotions::{
    normalized_code, well_formed_code, DiscountAllocation, PromotionOutcome, Promotions, CODE_FORM, MAX_CODES_PER_CART,
};
pub use crate::model::shipping::ShippingQuote;
use crate::money::CurrencyCode;
use crate::money::Money;
use crate::tenant::Tenant;
use crate::time;
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::model::carts::{Cart, CartItemOut, CartLine, CartOut, CartStatus, CatalogSnapshot, LineProblem};

/// A cart expires after this long without a change.
pub const CART_TTL_SECS: i64 = 7 * 24 * 3600;
pub const MAX_CART_LINES: usize = 100;
pub const MAX_LINE_QUANTITY: u32 = 999;

#[apply(request_body!)]
pub struct CartIn {
    #[schema(value_type = String, example = "USD", pattern = "^[A-Z]{3}$")]
    pub currency: CurrencyCode,
    pub customer_id: Option<CustomerId>,
    /// Where it ships: the cart's tax follows it.
    pub shipping_address: Option<PostalAddress>,
}

/// Absent fields are kept; `null` clears the address.
#[apply(crate::body::patch_body!)]
pub struct CartPatch {
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub shipping_address: Option<Option<PostalAddress>>,
    /// One of `GET /v1/carts/{id}/shipping-options`.
    #[serde(default, deserialize_with = "crate::body::nullable")]
    pub shipping_option_id: Option<Option<ShippingOptionId>>,
}

#[apply(request_body!)]
pub struct PromotionCodeIn {
    /// A promotion's code (without regard to case).
    #[schema(min_length = 1, max_length = 40, pattern = "^[A-Za-z0-9_-]+$")]
    pub code: String,
}

#[apply(request_body!)]
pub struct CartItemIn {
    pub product_id: ProductId,
    /// Required when the product has variants.
    pub variant_id: Option<VariantId>,
    #[schema(example = 2, minimum = 1, maximum = 999)]
    pub quantity: u32,
}

#[apply(request_body!)]
pub struct CartItemPatch {
    /// `0` removes the line.
    #[schema(maximum = 999)]
    pub quantity: u32,
}

fn now() -> (String, i64) {
    let now = time::now();
    (time::rfc3339(now), now.unix_timestamp())
}

fn check_address(address: Option<&PostalAddress>) -> Result<(), ApiError> {
    let mut checks = Checks::default();
    if let Some(address) = address {
        checks.nest("shipping_address", address.check());
    }
    checks.finish()
}

pub async fn create_cart(db: &Db, tenant: &Tenant, input: CartIn) -> Result<CartOut, ApiError> {
    check_address(input.shipping_address.as_ref())?;
    if let Some(customer) = input.customer_id {
        db.scoped(tenant)
            .record::<Customer>(customer, false)
            .await?
            .ok_or_else(|| ApiError::invalid("customer_id", "no such customer"))?;
    }
    let (at, unix) = now();
    let cart = Cart {
        id: CartId::new(),
        currency: input.currency,
        customer_id: input.customer_id,
        status: CartStatus::Active,
        order_id: None,
        lines: Vec::new(),
        shipping_address: input.shipping_address,
        shipping_option_id: None,
        promotion_codes: Vec::new(),
        created_at: at.clone(),
        updated_at: at,
        expires_at: unix + CART_TTL_SECS,
        version: 1,
    };
    let created = Event::about(tenant, EventType::CartCreated, &cart)?;
    db.put_cart(tenant, None, &cart, created).await?;
    CatalogSnapshot::default().price_cart(&cart, false)
}

/// A cart that exists and has not expired.
pub async fn load_cart(db: &Db, tenant: &Tenant, id: CartId, consistent: bool) -> Result<Cart, ApiError> {
    db.scoped(tenant)
        .record::<Cart>(id, consistent)
        .await?
        .filter(|cart| !cart.is_expired(time::now().unix_timestamp()))
        .ok_or_else(|| ApiError::NotFound("cart not found (carts expire after 7 days without a change)".into()))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CartViewParams {
    /// `prices`: each line lists every price record of its product and why it applies or not (docs/pricing.md).
    #[param(inline)]
    pub explain: Option<Explain>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Explain {
    Prices,
}

pub async fn get_cart(db: &Db, tenant: &Tenant, id: &str, params: CartViewParams) -> Result<CartOut, ApiError> {
    let cart = load_cart(db, tenant, id_of::<Cart>(id)?, false).await?;
    let catalog = db
        .scoped(tenant)
        .cart_catalog(&cart.lines, cart.customer_id, &cart.promotion_codes)
        .await?;
    catalog.price_cart(&cart, params.explain == Some(Explain::Prices))
}

/// Reads, changes and writes a cart while nothing else changed it, then prices it.
async fn change_cart(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    change: impl Fn(&mut Cart) -> Result<(), ApiError>,
) -> Result<CartOut, ApiError> {
    let id = id_of::<Cart>(id)?;
    for _attempt in 0..5 {
        let before = load_cart(db, tenant, id, true).await?;
        if before.status == CartStatus::Converted {
            return Err(ApiError::conflict("the cart was checked out and can no longer change"));
        }
        let mut after = before.clone();
        change(&mut after)?;
        let (at, unix) = now();
        after.updated_at = at;
        after.expires_at = unix + CART_TTL_SECS;
        after.version = before.version + 1;
        let event = Event::about(tenant, EventType::CartUpdated, &after)?;
        if db
            .put_cart(tenant, Some(before.version), &after, event)
            .await
            .committed()?
        {
            let catalog = db
                .scoped(tenant)
                .cart_catalog(&after.lines, after.customer_id, &after.promotion_codes)
                .await?;
            return catalog.price_cart(&after, false);
        }
    }
    Err(ApiError::conflict("the cart is changing fast; retry"))
}

/// Sets or clears the cart's shipping address and option (an option that does not apply reads
/// `shipping_option_available: false`; checkout refuses it).
pub async fn update_cart(db: &Db, tenant: &Tenant, id: &str, patch: CartPatch) -> Result<CartOut, ApiError> {
    if let Some(address) = &patch.shipping_address {
        check_address(address.as_ref())?;
    }
    change_cart(db, tenant, id, |cart| {
        if let Some(address) = &patch.shipping_address {
            cart.shipping_address = address.clone();
        }
        if let Some(option) = patch.shipping_option_id {
            cart.shipping_option_id = option;
        }
        Ok(())
    })
    .await
}

/// Enters a promotion code on the cart (at most 5; entering one twice changes nothing). The code must name one of
/// the store's promotions; whether it applies is the cart's `promotions` (with the reason when it does not).
pub async fn add_promotion_code(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    input: PromotionCodeIn,
) -> Result<CartOut, ApiError> {
    let code = normalized_code(&input.code);
    if !well_formed_code(&code) {
        return Err(ApiError::invalid("code", CODE_FORM));
    }
    let promotions = db.scoped(tenant).settings::<Promotions>().await?;
    let known = promotions.promotions.iter().any(|p| p.code.as_ref() == Some(&code));
    // Reported once the cart is found: another store's cart is a 404 whatever the body names.
    change_cart(db, tenant, id, |cart| {
        if !known {
            return Err(ApiError::invalid("code", "no promotion of this store has this code"));
        }
        if cart.promotion_codes.contains(&code) {
            return Ok(());
        }
        if cart.promotion_codes.len() >= MAX_CODES_PER_CART {
            return Err(ApiError::invalid(
                "code",
                format!("a cart holds at most {MAX_CODES_PER_CART} codes"),
            ));
        }
        cart.promotion_codes.push(code.clone());
        Ok(())
    })
    .await
}

#[apply(request_body!)]
pub struct PromotionValidateIn {
    pub cart_id: CartId,
    /// A code to try on the cart beside the codes it holds (the cart does not change).
    #[schema(min_length = 1, max_length = 40, pattern = "^[A-Za-z0-9_-]+$")]
    pub code: Option<String>,
}

/// What promotions would take off a cart now, and the digest a checkout can be held to.
#[derive(Debug, Serialize, ToSchema)]
pub struct PromotionQuote {
    pub cart_id: CartId,
    /// Every promotion considered, with its state and amount (as the cart's `promotions`).
    pub promotions: Vec<PromotionOutcome>,
    pub discount_total: Money,
    /// Each line's allocations.
    pub lines: Vec<QuotedLine>,
    pub shipping_discounts: Vec<DiscountAllocation>,
    /// Pass it to checkout as `quote_hash`: the checkout refuses with `409 quote_changed` when what the promotions
    /// take off differs by then.
    pub quote_hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuotedLine {
    pub line_id: CartItemId,
    pub discounts: Vec<DiscountAllocation>,
}

/// The promotions of a cart (with `code` tried beside its own), evaluated as checkout will: the state of each, the
/// allocations and the quote's digest. The cart does not change.
pub async fn quote_promotions(
    db: &Db,
    tenant: &Tenant,
    input: PromotionValidateIn,
) -> Result<PromotionQuote, ApiError> {
    let code = input.code.as_deref().map(normalized_code);
    if code.as_deref().is_some_and(|code| !well_formed_code(code)) {
        return Err(ApiError::invalid("code", CODE_FORM));
    }
    let cart = load_cart(db, tenant, input.cart_id, false).await?;
    let mut codes = cart.promotion_codes.clone();
    codes.extend(code.filter(|c| !codes.contains(c)));
    let catalog = db
        .scoped(tenant)
        .cart_catalog(&cart.lines, cart.customer_id, &codes)
        .await?;
    let shipping = (cart.shipping_address.as_ref(), cart.shipping_option_id);
    let priced = catalog.price_cart_lines(&cart.lines, cart.currency, shipping)?;
    Ok(PromotionQuote {
        cart_id: cart.id,
        quote_hash: priced.quote_hash(),
        discount_total: priced.discount_total,
        lines: priced
            .items
            .iter()
            .map(|(item, _)| QuotedLine {
                line_id: item.id,
                discounts: item.discounts.clone(),
            })
            .collect(),
        shipping_discounts: priced.shipping.map(|s| s.discounts).unwrap_or_default(),
        promotions: priced.promotions,
    })
}

/// Takes a code off the cart (one it does not hold: `404`).
pub async fn remove_promotion_code(db: &Db, tenant: &Tenant, id: &str, code: &str) -> Result<CartOut, ApiError> {
    let code = normalized_code(code);
    change_cart(db, tenant, id, |cart| {
        let before = cart.promotion_codes.len();
        cart.promotion_codes.retain(|c| *c != code);
        match cart.promotion_codes.len() < before {
            true => Ok(()),
            false => Err(ApiError::not_found("promotion code on this cart")),
        }
    })
    .await
}

/// The shipping options that apply to the cart at its address, priced for it.
pub async fn shipping_options(db: &Db, tenant: &Tenant, id: &str) -> Result<Vec<ShippingQuote>, ApiError> {
    let cart = load_cart(db, tenant, id_of::<Cart>(id)?, false).await?;
    let Some(address) = cart.shipping_address.as_ref() else {
        return Err(ApiError::invalid(
            "shipping_address",
            "the cart has no shipping address yet: set it with PATCH /v1/carts/{id}",
        ));
    };
    let catalog = db
        .scoped(tenant)
        .cart_catalog(&cart.lines, cart.customer_id, &cart.promotion_codes)
        .await?;
    Ok(catalog
        .price_cart_lines(&cart.lines, cart.currency, (Some(address), None))?
        .quotes)
}

fn check_quantity(quantity: u32, allow_zero: bool) -> Result<(), ApiError> {
    let least = u32::from(!allow_zero);
    if !(least..=MAX_LINE_QUANTITY).contains(&quantity) {
        return Err(ApiError::invalid(
            "quantity",
            format!("must be {least} to {MAX_LINE_QUANTITY}"),
        ));
    }
    Ok(())
}

pub async fn add_item(db: &Db, tenant: &Tenant, id: &str, input: CartItemIn) -> Result<CartOut, ApiError> {
    check_quantity(input.quantity, false)?;
    let line = CartLine {
        id: CartItemId::new(),
        product_id: input.product_id,
        variant_id: input.variant_id,
        quantity: input.quantity,
    };
    let catalog = db
        .scoped(tenant)
        .cart_catalog(std::slice::from_ref(&line), None, &[])
        .await?;
    let mut checks = Checks::default();
    match catalog.products.get(&line.product_id) {
        None => checks.fail("product_id", "no such product"),
        Some(product) if product.status != ProductStatus::Active => {
            checks.fail("product_id", "the product is not active")
        }
        Some(product) if !product.options.is_empty() && line.variant_id.is_none() => {
            checks.fail("variant_id", "required: the product has variants")
        }
        Some(_) if line.variant_id.is_some_and(|v| !catalog.variants.contains_key(&v)) => {
            checks.fail("variant_id", "no such variant of this product")
        }
        Some(_) => {}
    }
    // Reported once the cart is found: another store's cart is a 404 whatever the body names.
    let problems = checks.0;
    change_cart(db, tenant, id, |cart| {
        if !problems.is_empty() {
            return Err(ApiError::Validation(problems.clone()));
        }
        if !catalog.may_have_price(&line, cart.currency) {
            return Err(ApiError::Unprocessable {
                code: "no_price_for_currency",
                message: format!("the product has no price in {}", cart.currency.code()),
                details: vec![FieldError::new("product_id", LineProblem::NoPriceForCurrency.message())],
            });
        }
        let lines = cart.lines.len();
        let same = cart
            .lines
            .iter_mut()
            .find(|l| l.product_id == line.product_id && l.variant_id == line.variant_id);
        match same {
            Some(existing) => {
                existing.quantity += line.quantity;
                check_quantity(existing.quantity, false)?;
            }
            None if lines >= MAX_CART_LINES => {
                return Err(ApiError::invalid("items", "a cart holds at most 100 lines"));
            }
            None => cart.lines.push(line.clone()),
        }
        Ok(())
    })
    .await
}

fn item_id(id: &str) -> Result<CartItemId, ApiError> {
    id.parse().map_err(|_| ApiError::not_found("cart item"))
}

pub async fn update_item(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    item: &str,
    patch: CartItemPatch,
) -> Result<CartOut, ApiError> {
    check_quantity(patch.quantity, true)?;
    let item = item_id(item)?;
    change_cart(db, tenant, id, |cart| {
        let line = cart
            .lines
            .iter_mut()
            .find(|l| l.id == item)
            .ok_or_else(|| ApiError::not_found("cart item"))?;
        line.quantity = patch.quantity;
        cart.lines.retain(|l| l.quantity > 0);
        Ok(())
    })
    .await
}

pub async fn remove_item(db: &Db, tenant: &Tenant, id: &str, item: &str) -> Result<CartOut, ApiError> {
    let item = item_id(item)?;
    change_cart(db, tenant, id, |cart| {
        let before = cart.lines.len();
        cart.lines.retain(|l| l.id != item);
        if cart.lines.len() == before {
            return Err(ApiError::not_found("cart item"));
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cart(status: CartStatus, expires_at: i64) -> Cart {
        Cart {
            id: CartId::new(),
            currency: CurrencyCode::parse("USD").unwrap(),
            customer_id: None,
            status,
            order_id: None,
            lines: vec![CartLine {
                id: CartItemId::new(),
                product_id: ProductId::new(),
                variant_id: None,
                quantity: 2,
            }],
            promotion_codes: Vec::new(),
            shipping_address: None,
            shipping_option_id: None,
            created_at: String::new(),
            updated_at: String::new(),
            expires_at,
            version: 1,
        }
    }

    #[test]
    fn active_carts_expire_converted_ones_stay() {
        assert!(cart(CartStatus::Active, 100).is_expired(100));
        assert!(!cart(CartStatus::Active, 101).is_expired(100));
        assert!(!cart(CartStatus::Converted, 100).is_expired(200));
    }

    #[test]
    fn a_line_without_its_product_is_not_purchasable_and_not_counted() {
        let cart = cart(CartStatus::Active, i64::MAX);
        let out = CatalogSnapshot::default().price_cart(&cart, false).unwrap();
        assert!(!out.items[0].purchasable);
        assert_eq!(out.subtotal.amount, 0);
        let catalog = CatalogSnapshot::default();
        let priced = catalog.price_lines(&cart.lines, &catalog.context(cart.currency));
        assert_eq!(priced[0].1, Some(LineProblem::ProductGone));
    }
}
