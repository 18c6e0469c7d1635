//! `functions/pricing`: price records per currency, customer group, time window and quantity tier, tax settings,
//! shipping zones, price modifiers and promotions. What a cart line pays is decided by the one calculation carts
//! and checkout share (docs/pricing.md, docs/promotions.md).

use axum::extract::Path;
use axum::http::StatusCode;
use cartwheel::carts::{self, PromotionQuote, PromotionValidateIn};
use cartwheel::error::ErrorBody;
use cartwheel::http::pagination::{ListOut, PageParams};
use cartwheel::http::versioning::{IfMatch, Tagged};
use cartwheel::http::{AppState, Caller, Created, Data, DataOut, Json, ListQuery, Query};
use cartwheel::pricing::{
    self, Price, PriceIn, PriceListParams, PriceModifier, PriceModifierIn, PriceModifierPatch, PriceModifiers,
    PricePatch, ShippingZone, ShippingZoneIn, ShippingZonePatch, ShippingZones, TaxSettings, TaxSettingsIn,
};
use cartwheel::promotions::{
    self, Campaign, CampaignIn, CampaignPatch, Campaigns, Coupon, CouponIn, Promotion, PromotionIn,
    PromotionListParams, PromotionPatch,
};
use cartwheel::tenant::can;
use cartwheel::ApiError;

cartwheel::function_routes! {
    AppState;
    (create_price, list_prices),
    (get_price, update_price, delete_price),
    (get_tax_settings, put_tax_settings),
    (create_zone, list_zones),
    (get_zone, update_zone, delete_zone),
    (create_modifier, list_modifiers),
    (get_modifier, update_modifier, delete_modifier),
    (create_promotion, list_promotions),
    (get_promotion, update_promotion),
    (deactivate_promotion),
    (validate_promotions),
    (list_coupons, create_coupon),
    (delete_coupon),
    (create_campaign, list_campaigns),
    (get_campaign, update_campaign, delete_campaign),
}

type Result<T> = std::result::Result<T, ApiError>;

/// Create a price
///
/// A price of a product (or of one variant: `variant_id`) in a currency, optionally for one customer group, within
/// a window, or from a quantity on. The product, variant and group must exist (`422` naming the field); a product
/// holds at most 100 records (`409 price_limit_reached`). Emits `price.created`.
#[utoipa::path(post, path = "/v1/prices", tag = "pricing", security(("api_key" = ["pricing:write"])), request_body = PriceIn,
    responses(
        (status = 201, description = "The price", body = DataOut<Price>),
        (status = 409, description = "price_limit_reached", body = ErrorBody),
    ))]
async fn create_price(c: Caller<can::PricingWrite>, Json(input): Json<PriceIn>) -> Result<Tagged<Price>> {
    Ok(Tagged::created(pricing::create_price(&c.db, &c.tenant, input).await?))
}

/// List prices
///
/// Oldest first, narrowed by product, variant, currency and customer group (a filtered page can hold fewer than
/// `limit` prices while `has_more` is true). No `total`: the store keeps no count of its prices.
#[utoipa::path(get, path = "/v1/prices", tag = "pricing", security(("api_key" = ["pricing:read"])), params(PageParams, PriceListParams),
    responses((status = 200, description = "A page of prices", body = ListOut<Price>)))]
async fn list_prices(
    c: Caller<can::PricingRead>,
    ListQuery(page, params): ListQuery<PriceListParams>,
) -> Result<axum::Json<ListOut<Price>>> {
    Ok(axum::Json(pricing::list_prices(&c.db, &c.tenant, &page, params).await?))
}

/// Get a price
#[utoipa::path(get, path = "/v1/prices/{id}", tag = "pricing", security(("api_key" = ["pricing:read"])),
    params(("id" = String, Path, description = "`price_…`")),
    responses((status = 200, description = "The price; `ETag` holds its version", body = DataOut<Price>)))]
async fn get_price(c: Caller<can::PricingRead>, Path(id): Path<String>) -> Result<Tagged<Price>> {
    Ok(Tagged::ok(pricing::get_price(&c.db, &c.tenant, &id).await?))
}

/// Update a price
///
/// Its amount, group, window, tier and priority; the product, variant and currency are the record's identity (a
/// price for another is another record). Emits `price.updated`; a checkout that read the old price fails with
/// `409 price_changed`.
#[utoipa::path(patch, path = "/v1/prices/{id}", tag = "pricing", security(("api_key" = ["pricing:write"])), request_body = PricePatch,
    params(("id" = String, Path, description = "`price_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 200, description = "The price", body = DataOut<Price>),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn update_price(
    c: Caller<can::PricingWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    Json(patch): Json<PricePatch>,
) -> Result<Tagged<Price>> {
    Ok(Tagged::ok(
        pricing::update_price(&c.db, &c.tenant, &id, patch, if_match).await?,
    ))
}

/// Delete a price
///
/// Emits `price.deleted`.
#[utoipa::path(delete, path = "/v1/prices/{id}", tag = "pricing", security(("api_key" = ["pricing:write"])),
    params(("id" = String, Path, description = "`price_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn delete_price(
    c: Caller<can::PricingWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
) -> Result<StatusCode> {
    pricing::delete_price(&c.db, &c.tenant, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Get the tax settings
///
/// Whether prices include tax, whether shipping is taxed, and the rates per country (and region) and tax class;
/// `version` 0 until first saved (no tax).
#[utoipa::path(get, path = "/v1/tax-settings", tag = "pricing", security(("api_key" = ["pricing:read"])),
    responses((status = 200, description = "The settings; `ETag` holds their version", body = DataOut<TaxSettings>)))]
async fn get_tax_settings(c: Caller<can::PricingRead>) -> Result<Tagged<TaxSettings>> {
    Ok(Tagged::ok(pricing::get_tax_settings(&c.db, &c.tenant).await?))
}

/// Replace the tax settings
///
/// The whole settings at once (at most 200 rates; one per country, region and class). Emits
/// `tax_settings.updated`; a checkout that read the old rates fails with `409 price_changed` if its total changes.
#[utoipa::path(put, path = "/v1/tax-settings", tag = "pricing", security(("api_key" = ["pricing:write"])), request_body = TaxSettingsIn,
    params(("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 200, description = "The settings", body = DataOut<TaxSettings>),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn put_tax_settings(
    c: Caller<can::PricingWrite>,
    IfMatch(if_match): IfMatch,
    Json(input): Json<TaxSettingsIn>,
) -> Result<Tagged<TaxSettings>> {
    Ok(Tagged::ok(
        pricing::put_tax_settings(&c.db, &c.tenant, input, if_match).await?,
    ))
}

/// Create a shipping zone
///
/// Where it ships (countries, optionally regions of them) and its options: `flat`, by `subtotal` bands or by
/// `weight` bands, each in one currency. At most 20 zones (`409 shipping_zone_limit_reached`). Emits
/// `shipping_zone.created`.
#[utoipa::path(post, path = "/v1/shipping-zones", tag = "pricing", security(("api_key" = ["pricing:write"])), request_body = ShippingZoneIn,
    responses(
        (status = 201, description = "The zone", body = DataOut<ShippingZone>),
        (status = 409, description = "shipping_zone_limit_reached", body = ErrorBody),
    ))]
async fn create_zone(c: Caller<can::PricingWrite>, Json(input): Json<ShippingZoneIn>) -> Result<Tagged<ShippingZone>> {
    Ok(Tagged::created(pricing::create_zone(&c.db, &c.tenant, input).await?))
}

/// List shipping zones
///
/// Every zone, oldest first (at most 20: one page, with its exact `total`).
#[utoipa::path(get, path = "/v1/shipping-zones", tag = "pricing", security(("api_key" = ["pricing:read"])), params(PageParams),
    responses((status = 200, description = "The zones", body = ListOut<ShippingZone>)))]
async fn list_zones(
    c: Caller<can::PricingRead>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<ListOut<ShippingZone>>> {
    let zones = pricing::list_records::<ShippingZones>(&c.db, &c.tenant).await?;
    Ok(axum::Json(page.page_of(&c.tenant.key_prefix(), zones)?))
}

/// Get a shipping zone
#[utoipa::path(get, path = "/v1/shipping-zones/{id}", tag = "pricing", security(("api_key" = ["pricing:read"])),
    params(("id" = String, Path, description = "`shz_…`")),
    responses((status = 200, description = "The zone; `ETag` holds its version", body = DataOut<ShippingZone>)))]
async fn get_zone(c: Caller<can::PricingRead>, Path(id): Path<String>) -> Result<Tagged<ShippingZone>> {
    Ok(Tagged::ok(
        pricing::get_record::<ShippingZones>(&c.db, &c.tenant, &id).await?,
    ))
}

/// Update a shipping zone
///
/// Its name, places, or options (`options` replaces them all, with new ids). Emits `shipping_zone.updated`; a
/// checkout that read the old prices fails with `409 price_changed` if its total changes.
#[utoipa::path(patch, path = "/v1/shipping-zones/{id}", tag = "pricing", security(("api_key" = ["pricing:write"])), request_body = ShippingZonePatch,
    params(("id" = String, Path, description = "`shz_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 200, description = "The zone", body = DataOut<ShippingZone>),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn update_zone(
    c: Caller<can::PricingWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    Json(patch): Json<ShippingZonePatch>,
) -> Result<Tagged<ShippingZone>> {
    Ok(Tagged::ok(
        pricing::update_zone(&c.db, &c.tenant, &id, patch, if_match).await?,
    ))
}

/// Delete a shipping zone
///
/// Emits `shipping_zone.deleted`.
#[utoipa::path(delete, path = "/v1/shipping-zones/{id}", tag = "pricing", security(("api_key" = ["pricing:write"])),
    params(("id" = String, Path, description = "`shz_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn delete_zone(
    c: Caller<can::PricingWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
) -> Result<StatusCode> {
    pricing::delete_record::<ShippingZones>(&c.db, &c.tenant, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create a price modifier
///
/// A percentage (hundredths of a percent: `-1000` is 10 % off) or fixed (minor units of its `currency`) adjustment
/// of resolved unit prices, for a product, a category and/or a customer group (every condition set must hold).
/// Modifiers apply after resolution, lower `priority` first, each on what the previous left, never below 0
/// (docs/pricing.md). At most 50 (`409 price_modifier_limit_reached`). Emits `price_modifier.created`.
#[utoipa::path(post, path = "/v1/price-modifiers", tag = "pricing", security(("api_key" = ["pricing:write"])), request_body = PriceModifierIn,
    responses(
        (status = 201, description = "The modifier", body = DataOut<PriceModifier>),
        (status = 409, description = "price_modifier_limit_reached", body = ErrorBody),
    ))]
async fn create_modifier(
    c: Caller<can::PricingWrite>,
    Json(input): Json<PriceModifierIn>,
) -> Result<Tagged<PriceModifier>> {
    Ok(Tagged::created(
        pricing::create_modifier(&c.db, &c.tenant, input).await?,
    ))
}

/// List price modifiers
///
/// Every modifier, oldest first (at most 50: pages with an exact `total`).
#[utoipa::path(get, path = "/v1/price-modifiers", tag = "pricing", security(("api_key" = ["pricing:read"])), params(PageParams),
    responses((status = 200, description = "The modifiers", body = ListOut<PriceModifier>)))]
async fn list_modifiers(
    c: Caller<can::PricingRead>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<ListOut<PriceModifier>>> {
    let modifiers = pricing::list_records::<PriceModifiers>(&c.db, &c.tenant).await?;
    Ok(axum::Json(page.page_of(&c.tenant.key_prefix(), modifiers)?))
}

/// Get a price modifier
#[utoipa::path(get, path = "/v1/price-modifiers/{id}", tag = "pricing", security(("api_key" = ["pricing:read"])),
    params(("id" = String, Path, description = "`pmod_…`")),
    responses((status = 200, description = "The modifier; `ETag` holds its version", body = DataOut<PriceModifier>)))]
async fn get_modifier(c: Caller<can::PricingRead>, Path(id): Path<String>) -> Result<Tagged<PriceModifier>> {
    Ok(Tagged::ok(
        pricing::get_record::<PriceModifiers>(&c.db, &c.tenant, &id).await?,
    ))
}

/// Update a price modifier
///
/// Its name, value, conditions and priority (`null` clears a condition); its kind and currency are fixed. Emits
/// `price_modifier.updated`.
#[utoipa::path(patch, path = "/v1/price-modifiers/{id}", tag = "pricing", security(("api_key" = ["pricing:write"])), request_body = PriceModifierPatch,
    params(("id" = String, Path, description = "`pmod_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 200, description = "The modifier", body = DataOut<PriceModifier>),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn update_modifier(
    c: Caller<can::PricingWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    Json(patch): Json<PriceModifierPatch>,
) -> Result<Tagged<PriceModifier>> {
    Ok(Tagged::ok(
        pricing::update_modifier(&c.db, &c.tenant, &id, patch, if_match).await?,
    ))
}

/// Delete a price modifier
///
/// Emits `price_modifier.deleted`.
#[utoipa::path(delete, path = "/v1/price-modifiers/{id}", tag = "pricing", security(("api_key" = ["pricing:write"])),
    params(("id" = String, Path, description = "`pmod_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn delete_modifier(
    c: Caller<can::PricingWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
) -> Result<StatusCode> {
    pricing::delete_record::<PriceModifiers>(&c.db, &c.tenant, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create a promotion
///
/// Automatic (no `code`) or by code (unique per store without regard to case: `409 code_taken`); on the `order`,
/// its `items` or its `shipping`; a percentage or a fixed amount; with conditions, limits, combination and
/// priority (docs/promotions.md). At most 100 per store (`409 promotion_limit_reached`). Emits
/// `promotion.created`.
#[utoipa::path(post, path = "/v1/promotions", tag = "promotions", security(("api_key" = ["promotions:write"])), request_body = PromotionIn,
    responses(
        (status = 201, description = "The promotion", body = DataOut<Promotion>),
        (status = 409, description = "code_taken, promotion_limit_reached", body = ErrorBody),
    ))]
async fn create_promotion(
    c: Caller<can::PromotionsWrite>,
    Json(input): Json<PromotionIn>,
) -> Result<Tagged<Promotion>> {
    Ok(Tagged::created(
        promotions::create_promotion(&c.db, &c.tenant, input).await?,
    ))
}

/// List promotions
///
/// Oldest first, narrowed by `status` and `code` (at most 100: pages with an exact `total`).
#[utoipa::path(get, path = "/v1/promotions", tag = "promotions", security(("api_key" = ["promotions:read"])), params(PageParams, PromotionListParams),
    responses((status = 200, description = "The promotions", body = ListOut<Promotion>)))]
async fn list_promotions(
    c: Caller<can::PromotionsRead>,
    ListQuery(page, params): ListQuery<PromotionListParams>,
) -> Result<axum::Json<ListOut<Promotion>>> {
    let found = promotions::list_promotions(&c.db, &c.tenant, &params).await?;
    Ok(axum::Json(page.page_of(&c.tenant.key_prefix(), found)?))
}

/// Get a promotion
#[utoipa::path(get, path = "/v1/promotions/{id}", tag = "promotions", security(("api_key" = ["promotions:read"])),
    params(("id" = String, Path, description = "`promo_…`")),
    responses((status = 200, description = "The promotion; `ETag` holds its version", body = DataOut<Promotion>)))]
async fn get_promotion(c: Caller<can::PromotionsRead>, Path(id): Path<String>) -> Result<Tagged<Promotion>> {
    Ok(Tagged::ok(promotions::get_promotion(&c.db, &c.tenant, &id).await?))
}

/// Update a promotion
///
/// Its name, window, value, conditions, limits, combination and priority (`null` clears an optional one); its
/// code, target and value type are fixed. Emits `promotion.updated`; a checkout that read it before fails with
/// `409 price_changed` when its total would differ.
#[utoipa::path(patch, path = "/v1/promotions/{id}", tag = "promotions", security(("api_key" = ["promotions:write"])), request_body = PromotionPatch,
    params(("id" = String, Path, description = "`promo_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 200, description = "The promotion", body = DataOut<Promotion>),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn update_promotion(
    c: Caller<can::PromotionsWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    Json(patch): Json<PromotionPatch>,
) -> Result<Tagged<Promotion>> {
    Ok(Tagged::ok(
        promotions::update_promotion(&c.db, &c.tenant, &id, patch, if_match).await?,
    ))
}

/// Deactivate a promotion
///
/// For good: no cart takes it any more; orders placed with it keep it. Emits `promotion.updated`.
#[utoipa::path(post, path = "/v1/promotions/{id}/deactivate", tag = "promotions", security(("api_key" = ["promotions:write"])),
    params(("id" = String, Path, description = "`promo_…`")),
    responses((status = 200, description = "The promotion, inactive", body = DataOut<Promotion>)))]
async fn deactivate_promotion(c: Caller<can::PromotionsWrite>, Path(id): Path<String>) -> Result<Tagged<Promotion>> {
    Ok(Tagged::ok(
        promotions::deactivate_promotion(&c.db, &c.tenant, &id).await?,
    ))
}

/// Create a campaign
///
/// A budget several promotions share (`campaign_id` on each): `usage` counts the orders that took one of them,
/// `spend` the minor units of `currency` they took off. Checkout moves the budget in its transaction, never past
/// `limit` (`409 promotion_unavailable`); a cancellation before shipping gives it back. At most 50 per store
/// (`409 campaign_limit_reached`). Emits `campaign.created`.
#[utoipa::path(post, path = "/v1/campaigns", tag = "promotions", security(("api_key" = ["promotions:write"])), request_body = CampaignIn,
    responses(
        (status = 201, description = "The campaign", body = DataOut<Campaign>),
        (status = 409, description = "campaign_limit_reached", body = ErrorBody),
    ))]
async fn create_campaign(c: Caller<can::PromotionsWrite>, Json(input): Json<CampaignIn>) -> Result<Tagged<Campaign>> {
    Ok(Tagged::created(
        promotions::create_campaign(&c.db, &c.tenant, input).await?,
    ))
}

/// List campaigns
///
/// Oldest first (at most 50: pages with an exact `total`).
#[utoipa::path(get, path = "/v1/campaigns", tag = "promotions", security(("api_key" = ["promotions:read"])), params(PageParams),
    responses((status = 200, description = "The campaigns", body = ListOut<Campaign>)))]
async fn list_campaigns(
    c: Caller<can::PromotionsRead>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<ListOut<Campaign>>> {
    let campaigns = pricing::list_records::<Campaigns>(&c.db, &c.tenant).await?;
    Ok(axum::Json(page.page_of(&c.tenant.key_prefix(), campaigns)?))
}

/// Get a campaign
#[utoipa::path(get, path = "/v1/campaigns/{id}", tag = "promotions", security(("api_key" = ["promotions:read"])),
    params(("id" = String, Path, description = "`camp_…`")),
    responses((status = 200, description = "The campaign; `ETag` holds its version", body = DataOut<Campaign>)))]
async fn get_campaign(c: Caller<can::PromotionsRead>, Path(id): Path<String>) -> Result<Tagged<Campaign>> {
    Ok(Tagged::ok(
        pricing::get_record::<Campaigns>(&c.db, &c.tenant, &id).await?,
    ))
}

/// Update a campaign
///
/// Its name and limit; the budget type and currency are fixed. A limit below what was used stops its promotions
/// and takes nothing back. Emits `campaign.updated`.
#[utoipa::path(patch, path = "/v1/campaigns/{id}", tag = "promotions", security(("api_key" = ["promotions:write"])), request_body = CampaignPatch,
    params(("id" = String, Path, description = "`camp_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 200, description = "The campaign", body = DataOut<Campaign>),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn update_campaign(
    c: Caller<can::PromotionsWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    Json(patch): Json<CampaignPatch>,
) -> Result<Tagged<Campaign>> {
    Ok(Tagged::ok(
        promotions::update_campaign(&c.db, &c.tenant, &id, patch, if_match).await?,
    ))
}

/// Delete a campaign
///
/// Only while no promotion draws on it (`409 campaign_in_use`). Emits `campaign.deleted`.
#[utoipa::path(delete, path = "/v1/campaigns/{id}", tag = "promotions", security(("api_key" = ["promotions:write"])),
    params(("id" = String, Path, description = "`camp_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "campaign_in_use", body = ErrorBody),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn delete_campaign(
    c: Caller<can::PromotionsWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
) -> Result<StatusCode> {
    promotions::delete_campaign(&c.db, &c.tenant, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Validate promotions on a cart
///
/// What the promotions would take off the cart now (with `code` tried beside the cart's codes; the cart does not
/// change): each promotion's state and amount, each line's allocations, and a `quote_hash`. A checkout given the
/// hash refuses with `409 quote_changed` when its own evaluation differs. Reads the cart: scope `carts:read`.
#[utoipa::path(post, path = "/v1/promotions/validate", tag = "promotions", security(("api_key" = ["carts:read"])), request_body = PromotionValidateIn,
    responses(
        (status = 200, description = "The quote", body = DataOut<PromotionQuote>),
        (status = 404, description = "No such cart (or it expired)", body = ErrorBody),
    ))]
async fn validate_promotions(
    c: Caller<can::CartsRead>,
    Json(input): Json<PromotionValidateIn>,
) -> Result<Data<PromotionQuote>> {
    Ok(Data(carts::quote_promotions(&c.db, &c.tenant, input).await?))
}

/// List coupons
///
/// Every promotion with a code, in the coupon shape of reference 002 (oldest first, at most 100: pages with an
/// exact `total`). `GET /v1/promotions/{id}` shows a coupon's whole promotion.
#[utoipa::path(get, path = "/v1/coupons", tag = "promotions", security(("api_key" = ["promotions:read"])), params(PageParams),
    responses((status = 200, description = "The coupons", body = ListOut<Coupon>)))]
async fn list_coupons(
    c: Caller<can::PromotionsRead>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<ListOut<Coupon>>> {
    let coupons = promotions::list_coupons(&c.db, &c.tenant).await?;
    Ok(axum::Json(page.page_of(&c.tenant.key_prefix(), coupons)?))
}

/// Create a coupon
///
/// A promotion by code: `type` (`percentage` or `fixed`) and `value` off the order, or off `applies_to_products`
/// only; `max_uses`, `expires_at`, `min_order_amount` (minor units of `currency`). The same record as `POST
/// /v1/promotions` makes (`409 code_taken` for a code another promotion has). Emits `promotion.created`.
#[utoipa::path(post, path = "/v1/coupons", tag = "promotions", security(("api_key" = ["promotions:write"])), request_body = CouponIn,
    responses(
        (status = 201, description = "The coupon", body = DataOut<Coupon>),
        (status = 409, description = "code_taken, promotion_limit_reached", body = ErrorBody),
    ))]
async fn create_coupon(c: Caller<can::PromotionsWrite>, Json(input): Json<CouponIn>) -> Result<Created<Coupon>> {
    Ok(Created(promotions::create_coupon(&c.db, &c.tenant, input).await?))
}

/// Delete a coupon
///
/// Deletes the promotion (any promotion, by its id): carts holding its code show it `inactive`; orders that took
/// it keep it. Emits `promotion.deleted`.
#[utoipa::path(delete, path = "/v1/coupons/{id}", tag = "promotions", security(("api_key" = ["promotions:write"])),
    params(("id" = String, Path, description = "`promo_…`")),
    responses((status = 204, description = "Deleted")))]
async fn delete_coupon(c: Caller<can::PromotionsWrite>, Path(id): Path<String>) -> Result<StatusCode> {
    promotions::delete_promotion(&c.db, &c.tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
