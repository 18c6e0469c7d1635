//! Promotions: created, listed, read, changed and deactivated, each with its event. A store's promotions live in one
//! item beside its other pricing settings (read with every cart priced); how they apply to a cart is
//! `model::promotions::evaluate`, which carts and checkout call. docs/promotions.md has the rules.

use macro_rules_attribute::apply;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use crate::model::promotions::{
    Allocation, AppliesTo, BudgetType, BuyXGetY, Campaign, CampaignIn, CampaignPatch, Campaigns, CombinesWith,
    Conditions, DiscountAllocation, Promotion, PromotionIn, PromotionOutcome, PromotionPatch, PromotionState,
    PromotionStatus, Promotions, Target, UnitSet, ValueType, MAX_PROMOTIONS,
};

use crate::db::Db;
use crate::error::ApiError;
use crate::ids::{CampaignId, ProductId, PromotionId};
use crate::model::promotions::normalized_code;
use crate::money::{CurrencyCode, Money};
use crate::pricing::{create_record, delete_record, get_record, list_records, update_record};
use crate::tenant::Tenant;
use crate::time;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PromotionListParams {
    #[param(inline)]
    pub status: Option<PromotionStatus>,
    /// The promotion with this code (without regard to case).
    #[param(max_length = 40)]
    pub code: Option<String>,
}

/// Adds a promotion (at most 100 per store: `409 promotion_limit_reached`; a code another has: `409 code_taken`).
/// Emits `promotion.created`.
pub async fn create_promotion(db: &Db, tenant: &Tenant, input: PromotionIn) -> Result<Promotion, ApiError> {
    let promotion = input.into_promotion(&time::now_rfc3339())?;
    check_campaign(db, tenant, promotion.campaign_id).await?;
    create_record::<Promotions>(db, tenant, promotion).await
}

/// The store's promotions, oldest first, narrowed by status and code.
pub async fn list_promotions(
    db: &Db,
    tenant: &Tenant,
    params: &PromotionListParams,
) -> Result<Vec<Promotion>, ApiError> {
    let code = params.code.as_deref().map(normalized_code);
    let promotions = list_records::<Promotions>(db, tenant).await?;
    Ok(promotions
        .into_iter()
        .filter(|p| params.status.is_none_or(|s| p.status == s))
        .filter(|p| code.is_none() || p.code == code)
        .collect())
}

pub async fn get_promotion(db: &Db, tenant: &Tenant, id: &str) -> Result<Promotion, ApiError> {
    get_record::<Promotions>(db, tenant, id).await
}

/// Emits `promotion.updated`.
pub async fn update_promotion(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    patch: PromotionPatch,
    if_match: Option<u64>,
) -> Result<Promotion, ApiError> {
    if patch.campaign_id.flatten().is_some() {
        // Another store's promotion is a 404 whatever the body names.
        get_promotion(db, tenant, id).await?;
        check_campaign(db, tenant, patch.campaign_id.flatten()).await?;
    }
    update_record::<Promotions>(db, tenant, id, if_match, |promotion, now| patch.apply(promotion, now)).await
}

/// Stops a promotion for good: no cart takes it any more (orders placed with it keep it). Emits
/// `promotion.updated`.
pub async fn deactivate_promotion(db: &Db, tenant: &Tenant, id: &str) -> Result<Promotion, ApiError> {
    update_record::<Promotions>(db, tenant, id, None, |promotion, now| {
        let mut after = promotion.clone();
        after.status = PromotionStatus::Inactive;
        Ok(after.touched(promotion, now))
    })
    .await
}

/// Refuses a campaign that does not exist.
async fn check_campaign(db: &Db, tenant: &Tenant, campaign: Option<CampaignId>) -> Result<(), ApiError> {
    let Some(campaign) = campaign else { return Ok(()) };
    let campaigns = list_records::<Campaigns>(db, tenant).await?;
    match campaigns.iter().any(|c| c.id == campaign) {
        true => Ok(()),
        false => Err(ApiError::invalid("campaign_id", "no such campaign")),
    }
}

/// Adds a campaign (at most 50 per store: `409 campaign_limit_reached`). Emits `campaign.created`.
pub async fn create_campaign(db: &Db, tenant: &Tenant, input: CampaignIn) -> Result<Campaign, ApiError> {
    create_record::<Campaigns>(db, tenant, input.into_campaign(&time::now_rfc3339())?).await
}

/// Emits `campaign.updated`. A lower limit than what was used stops its promotions; it takes nothing back.
pub async fn update_campaign(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    patch: CampaignPatch,
    if_match: Option<u64>,
) -> Result<Campaign, ApiError> {
    update_record::<Campaigns>(db, tenant, id, if_match, |campaign, now| patch.apply(campaign, now)).await
}

/// Deletes a campaign no promotion names (`409 campaign_in_use` otherwise). Emits `campaign.deleted`.
pub async fn delete_campaign(db: &Db, tenant: &Tenant, id: &str, if_match: Option<u64>) -> Result<(), ApiError> {
    let promotions = list_records::<Promotions>(db, tenant).await?;
    let users: Vec<String> = promotions
        .iter()
        .filter(|p| p.campaign_id.is_some_and(|c| c.to_string() == id))
        .map(|p| p.id.to_string())
        .collect();
    if !users.is_empty() {
        return Err(ApiError::Conflict {
            code: "campaign_in_use",
            message: "promotions draw on this campaign: move them to another first".into(),
            details: vec![serde_json::json!({"promotion_ids": users})],
        });
    }
    delete_record::<Campaigns>(db, tenant, id, if_match).await
}

/// A coupon: a promotion with a code, seen through the simpler shape of reference 002 (`/v1/coupons`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Coupon {
    /// The promotion's id: `GET /v1/promotions/{id}` shows all of it.
    pub id: PromotionId,
    pub code: String,
    #[serde(rename = "type")]
    pub value_type: ValueType,
    pub value: f64,
    #[schema(value_type = Option<String>, example = "USD")]
    pub currency: Option<CurrencyCode>,
    pub max_uses: Option<u64>,
    pub expires_at: Option<String>,
    /// Minor units of `currency`.
    pub min_order_amount: Option<i64>,
    pub applies_to_products: Vec<ProductId>,
    pub status: PromotionStatus,
    pub created_at: String,
}

#[apply(crate::body::request_body!)]
pub struct CouponIn {
    #[schema(min_length = 1, max_length = 40, pattern = "^[A-Za-z0-9_-]+$")]
    pub code: String,
    #[serde(rename = "type")]
    pub value_type: ValueType,
    /// Percentage (`20` = 20 %), or minor units of `currency`.
    #[schema(minimum = 0.01, maximum = 10000000000000.0)]
    pub value: f64,
    /// Required with a `fixed` value or a `min_order_amount`.
    #[schema(value_type = Option<String>, example = "USD", pattern = "^[A-Z]{3}$")]
    pub currency: Option<CurrencyCode>,
    #[schema(minimum = 1, maximum = 1000000000)]
    pub max_uses: Option<u64>,
    #[schema(format = DateTime, max_length = 64, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub expires_at: Option<String>,
    /// Minor units of `currency`: the order's subtotal at least this.
    #[schema(minimum = 0, maximum = 10000000000000.0)]
    pub min_order_amount: Option<i64>,
    /// Only these products are discounted (an `items` promotion); absent: the whole order.
    #[schema(max_items = 50)]
    pub applies_to_products: Option<Vec<ProductId>>,
}

impl From<Promotion> for Coupon {
    fn from(promotion: Promotion) -> Self {
        let minimum = promotion.conditions.min_subtotal;
        Coupon {
            id: promotion.id,
            code: promotion.code.unwrap_or_default(),
            value_type: promotion.value_type,
            value: promotion.value,
            currency: promotion.currency.or(minimum.map(|m| m.currency)),
            max_uses: promotion.max_uses,
            expires_at: promotion.valid_until,
            min_order_amount: minimum.map(|m| m.amount),
            applies_to_products: promotion.conditions.product_ids,
            status: promotion.status,
            created_at: promotion.created_at,
        }
    }
}

impl CouponIn {
    /// The promotion the coupon is: named by its code, on the named products' lines (else the order).
    fn into_promotion(self) -> Result<PromotionIn, ApiError> {
        let minimum = match (self.min_order_amount, self.currency) {
            (Some(amount), Some(currency)) => Some(Money::new(amount, currency)),
            (Some(_), None) => {
                return Err(ApiError::invalid("currency", "required with a min_order_amount"));
            }
            (None, _) => None,
        };
        let products = self.applies_to_products.unwrap_or_default();
        Ok(PromotionIn {
            name: self.code.trim().to_owned(),
            code: Some(self.code),
            valid_from: None,
            valid_until: self.expires_at,
            target: Some(if products.is_empty() {
                Target::Order
            } else {
                Target::Items
            }),
            value_type: self.value_type,
            value: self.value,
            currency: self.currency.filter(|_| self.value_type == ValueType::Fixed),
            allocation: None,
            max_quantity: None,
            conditions: Some(Conditions {
                min_subtotal: minimum,
                product_ids: products,
                ..Conditions::default()
            }),
            buy_x_get_y: None,
            max_uses: self.max_uses,
            max_uses_per_customer: None,
            campaign_id: None,
            combines_with: None,
            priority: None,
            applies_to: None,
            free_shipping: false,
        })
    }
}

/// Every promotion with a code, as coupons, oldest first.
pub async fn list_coupons(db: &Db, tenant: &Tenant) -> Result<Vec<Coupon>, ApiError> {
    let promotions = list_records::<Promotions>(db, tenant).await?;
    Ok(promotions
        .into_iter()
        .filter(|p| p.code.is_some())
        .map(Coupon::from)
        .collect())
}

/// Creates the promotion a coupon is. Emits `promotion.created`.
pub async fn create_coupon(db: &Db, tenant: &Tenant, input: CouponIn) -> Result<Coupon, ApiError> {
    Ok(create_promotion(db, tenant, input.into_promotion()?).await?.into())
}

/// Deletes a promotion (orders that took it keep it; its use counters stay). Emits `promotion.deleted`.
pub async fn delete_promotion(db: &Db, tenant: &Tenant, id: &str) -> Result<(), ApiError> {
    delete_record::<Promotions>(db, tenant, id, None).await
}
