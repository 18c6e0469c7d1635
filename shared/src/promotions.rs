//! Promotions: created, listed, read, changed and deactivated, each with its event. A store's promotions live in one
//! item beside its other pricing settings (read with every cart priced); how they apply to a cart is
//! `model::promotions::evaluate`, which carts and checkout call. docs/promotions.md has the rules.

use serde::Deserialize;
use utoipa::IntoParams;

pub use crate::model::promotions::{
    Allocation, AppliesTo, BudgetType, Campaign, CampaignIn, CampaignPatch, Campaigns, CombinesWith, Conditions,
    DiscountAllocation, Promotion, PromotionIn, PromotionOutcome, PromotionPatch, PromotionState, PromotionStatus,
    Promotions, Target, ValueType, MAX_PROMOTIONS,
};

use crate::db::Db;
use crate::error::ApiError;
use crate::ids::CampaignId;
use crate::model::promotions::normalized_code;
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
