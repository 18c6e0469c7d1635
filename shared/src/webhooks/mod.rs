//! Webhook endpoints: what a store subscribes, how its secrets are kept, which URLs are allowed, and how a delivery
//! is signed (Standard Webhooks).

mod resend;
mod secrets;

pub use resend::*;
pub use secrets::*;

use crate::body::{patch_body, request_body};
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use macro_rules_attribute::apply;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::{ApiError, FieldError};
use crate::events::{Event, EventType, ResourceRef};
use crate::http::pagination::{ListOut, PageParams};
use crate::ids::WebhookId;
use crate::tenant::{Mode, Scope, Scopes, Tenant};
use crate::time;

pub use crate::model::webhooks::{
    check_events, check_url, next_delay, public_address, simple_signature, standard_signature, Attempt, Delivery,
    DeliveryStatus, Endpoint, Sealed, UrlPolicy,
};

/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP_SECS: i64 = 24 * 3600;

// --- endpoints ----------------------------------------------------------------------------------------------

#[apply(request_body!)]
pub struct EndpointIn {
    /// `https` (`http` only for test-mode endpoints), to a public address.
    #[schema(
        example = "https://example.com/hooks/cartwheel",
        max_length = 2048,
        pattern = r"^https?://[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub url: String,
    /// Event types: exact (`order.created`), a group (`order.*`) or everything (`*`).
    #[schema(example = json!(["order.*", "product.created"]), schema_with = event_filters)]
    pub events: Vec<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

#[apply(patch_body!)]
pub struct EndpointPatch {
    /// `https` (`http` only for test-mode endpoints), to a public address.
    #[schema(
        max_length = 2048,
        pattern = r"^https?://[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub url: Option<String>,
    /// Event types: exact (`order.created`), a group (`order.*`) or everything (`*`).
    #[schema(schema_with = event_filters)]
    pub events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::body::nullable")]
    #[schema(max_length = 500)]
    pub description: Option<Option<String>>,
    /// Re-enabling clears `disabled_reason` and the failure clock.
    pub enabled: Option<bool>,
}

/// `events`: 1 to 50 filters of the form `check_events` accepts.
fn event_filters() -> utoipa::openapi::Array {
    utoipa::openapi::ArrayBuilder::new()
        .items(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .max_length(Some(100))
                .pattern(Some(r"^(\*|[a-z_]+\.(\*|[a-z_]+))$")),
        )
        .min_items(Some(1))
        .max_items(Some(50))
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointOut {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The response that shows a signing secret, once.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointWithSecretOut {
    #[serde(flatten)]
    pub endpoint: EndpointOut,
    /// `whsec_…`: verify deliveries with it. Shown only in this response.
    pub secret: String,
}

/// What a repeat of the request that showed this secret is told (the secret itself is not kept).
impl crate::model::ShowsSecretOnce for EndpointWithSecretOut {
    fn shown_once_notice(&self) -> String {
        format!(
            "this request already succeeded for webhook endpoint {}; its signing secret is shown only once and was \
             not kept: rotate the secret (POST /v1/webhooks/{}/rotate-secret) to get a new one",
            self.endpoint.id, self.endpoint.id
        )
    }
}

impl From<&Endpoint> for EndpointOut {
    fn from(endpoint: &Endpoint) -> Self {
        Self {
            id: endpoint.id,
            url: endpoint.url.clone(),
            events: endpoint.events.clone(),
            description: endpoint.description.clone(),
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason.clone(),
            created_at: endpoint.created_at.clone(),
            updated_at: endpoint.updated_at.clone(),
        }
    }
}

// --- URLs -------------------------------------------------------------------------------------------------

/// Resolves the URL's host and refuses it unless every address is allowed: checked when the endpoint is saved and
/// again before every delivery (DNS can change in between). Returns the address to connect to.
pub async fn resolve_allowed(url: &str, mode: Mode, policy: UrlPolicy) -> Result<std::net::SocketAddr, ApiError> {
    let (host, port) = check_url(url, mode, policy)?;
    // One answer whether the name does not resolve or resolves somewhere private: the message must not let a
    // caller probe internal DNS.
    let refused = || {
        ApiError::invalid(
            "url",
            "the host is not allowed: it must resolve to public addresses only",
        )
    };
    let addresses: Vec<_> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| refused())?
        .collect();
    let first = *addresses.first().ok_or_else(refused)?;
    if addresses.iter().any(|a| !public_address(a.ip(), policy)) {
        return Err(refused());
    }
    Ok(first)
}

// --- secrets ----------------------------------------------------------------------------------------------
// --- deliveries -------------------------------------------------------------------------------------------

/// A delivery as a key sees it: the payload only when the key may read the event's resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeliveryOut {
    pub id: crate::ids::EventId,
    pub endpoint_id: WebhookId,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: Vec<Attempt>,
    /// The envelope that is POSTed, as JSON text; `null` when this key lacks the read scope of the event's
    /// resource (`customers:read` for `customer.*`, `orders:read` for `order.*` and `payment.*`, …;
    /// docs/architecture.md, "What each scope may read").
    pub payload: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The scope that reads the resource of an event type: its payload is shown to keys holding it.
pub fn read_scope_of(event_type: &str) -> Scope {
    match event_type.split('.').next().unwrap_or_default() {
        "customer" | "customer_group" => Scope::CustomersRead,
        "order" | "payment" => Scope::OrdersRead,
        "product" | "variant" | "category" | "brand" | "recall" => Scope::ProductsRead,
        "inventory" | "warehouse" | "reservation" => Scope::InventoryRead,
        "cart" => Scope::CartsRead,
        "price" | "price_modifier" | "tax_settings" | "shipping_zone" => Scope::PricingRead,
        "promotion" | "campaign" => Scope::PromotionsRead,
        "api_key" | "store" => Scope::ApiKeysManage,
        "webhook" => Scope::WebhooksManage,
        _ => Scope::Everything,
    }
}

impl DeliveryOut {
    pub fn for_key(delivery: Delivery, scopes: &Scopes) -> Self {
        let visible = scopes.allows(read_scope_of(&delivery.event_type));
        Self {
            id: delivery.id,
            endpoint_id: delivery.endpoint_id,
            event_type: delivery.event_type,
            status: delivery.status,
            attempts: delivery.attempts,
            payload: visible.then_some(delivery.payload),
            created_at: delivery.created_at,
            updated_at: delivery.updated_at,
        }
    }
}

/// What the delivery queue carries: which delivery to attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub store_id: crate::ids::StoreId,
    pub mode: Mode,
    pub endpoint_id: WebhookId,
    pub event_id: crate::ids::EventId,
}

#[cfg(feature = "sqs")]
impl DeliveryJob {
    /// The job as the delivery queue carries it, hidden for `delay_secs`.
    pub fn message(&self, delay_secs: u32) -> Result<crate::queue::Outgoing, ApiError> {
        Ok(crate::queue::Outgoing {
            body: serde_json::to_string(self).map_err(ApiError::internal)?,
            delay_secs,
        })
    }
}

// --- operations -------------------------------------------------------------------------------------------

/// What the endpoint operations need beside storage.
pub struct Context<'a> {
    pub db: &'a Db,
    pub keys: &'a MasterKeys,
    pub policy: UrlPolicy,
}

fn endpoint_event(tenant: &Tenant, event_type: EventType, endpoint: &Endpoint) -> Result<Event, ApiError> {
    let data = serde_json::to_value(EndpointOut::from(endpoint)).map_err(ApiError::internal)?;
    let resource = ResourceRef {
        kind: "webhook_endpoint".into(),
        id: endpoint.id.to_string(),
        version: endpoint.version,
    };
    Ok(Event::new(tenant.store_id, tenant.mode, event_type, resource, data))
}

/// A page of the store's endpoints, oldest first (never their secrets).
pub async fn list_endpoints(db: &Db, tenant: &Tenant, params: &PageParams) -> Result<ListOut<EndpointOut>, ApiError> {
    let page = params.parse(&tenant.key_prefix())?;
    let endpoints = db.scoped(tenant).page::<Endpoint>(&page).await?;
    Ok(endpoints.into_list(|e| EndpointOut::from(&e)))
}

/// A page of an endpoint's deliveries, newest first, as the caller's scopes may see them.
pub async fn list_deliveries(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    page: &PageParams,
    params: &DeliveryListParams,
) -> Result<ListOut<DeliveryOut>, ApiError> {
    let endpoint = endpoint_by_id(db, tenant, id).await?;
    let (filter, page) = (params.parse()?, page.parse(&tenant.key_prefix())?);
    // `to` at or before `from`: nothing between (and DynamoDB refuses a range whose bounds are reversed).
    let deliveries = if filter.from > filter.to {
        crate::http::pagination::PageOf {
            items: Vec::new(),
            next_cursor: None,
            limit: page.limit,
        }
    } else {
        db.scoped(tenant).list_deliveries(endpoint.id, &filter, &page).await?
    };
    Ok(deliveries.into_list(|d| DeliveryOut::for_key(d, &tenant.scopes)))
}

/// One delivery of an endpoint, with its attempts, as the caller's scopes may see it.
pub async fn get_delivery(db: &Db, tenant: &Tenant, id: &str, delivery_id: &str) -> Result<DeliveryOut, ApiError> {
    let endpoint = endpoint_by_id(db, tenant, id).await?;
    let event = delivery_id.parse().map_err(|_| ApiError::not_found("delivery"))?;
    let delivery = db.scoped(tenant).get_delivery(endpoint.id, event).await?;
    let delivery = delivery.ok_or_else(|| ApiError::not_found("delivery"))?;
    Ok(DeliveryOut::for_key(delivery, &tenant.scopes))
}

async fn endpoint_by_id(db: &Db, tenant: &Tenant, id: &str) -> Result<Endpoint, ApiError> {
    db.scoped(tenant).found(id).await
}

fn check_description(description: Option<&str>) -> Vec<FieldError> {
    match description {
        Some(d) if d.chars().count() > 500 => vec![FieldError::new("description", "must be at most 500 characters")],
        _ => Vec::new(),
    }
}

pub async fn create_endpoint(
    ctx: &Context<'_>,
    tenant: &Tenant,
    input: EndpointIn,
) -> Result<EndpointWithSecretOut, ApiError> {
    let mut errors = check_events(&input.events);
    errors.extend(check_description(input.description.as_deref()));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    resolve_allowed(&input.url, tenant.mode, ctx.policy).await?;
    let secret = new_secret();
    let now = time::now_rfc3339();
    let endpoint = Endpoint {
        id: WebhookId::new(),
        url: input.url,
        events: input.events,
        description: input.description,
        enabled: input.enabled.unwrap_or(true),
        secret: ctx.keys.seal(&secret)?,
        previous_secret: None,
        disabled_reason: None,
        failing_since: None,
        cooldown_until: None,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let event = endpoint_event(tenant, EventType::WebhookEndpointCreated, &endpoint)?;
    ctx.db.put_endpoint(tenant, None, Some(&endpoint), event).await?;
    Ok(EndpointWithSecretOut {
        endpoint: EndpointOut::from(&endpoint),
        secret,
    })
}

pub async fn get_endpoint(db: &Db, tenant: &Tenant, id: &str) -> Result<Endpoint, ApiError> {
    endpoint_by_id(db, tenant, id).await
}

pub async fn update_endpoint(
    ctx: &Context<'_>,
    tenant: &Tenant,
    id: &str,
    patch: EndpointPatch,
) -> Result<EndpointOut, ApiError> {
    let before = endpoint_by_id(ctx.db, tenant, id).await?;
    let mut after = before.clone();
    if let Some(events) = patch.events {
        after.events = events;
    }
    if let Some(description) = patch.description {
        after.description = description;
    }
    if let Some(enabled) = patch.enabled {
        after.enabled = enabled;
        if enabled {
            after.disabled_reason = None;
            after.failing_since = None;
            after.cooldown_until = None;
        }
    }
    let mut errors = check_events(&after.events);
    errors.extend(check_description(after.description.as_deref()));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if let Some(url) = patch.url {
        resolve_allowed(&url, tenant.mode, ctx.policy).await?;
        after.url = url;
    }
    if after == before {
        return Ok(EndpointOut::from(&before));
    }
    after.version += 1;
    after.updated_at = time::now_rfc3339();
    let event = endpoint_event(tenant, EventType::WebhookEndpointUpdated, &after)?;
    // Changed meanwhile: 409, retry.
    ctx.db.put_endpoint(tenant, Some(&before), Some(&after), event).await?;
    Ok(EndpointOut::from(&after))
}

pub async fn delete_endpoint(db: &Db, tenant: &Tenant, id: &str) -> Result<(), ApiError> {
    let endpoint = endpoint_by_id(db, tenant, id).await?;
    let event = endpoint_event(tenant, EventType::WebhookEndpointDeleted, &endpoint)?;
    // Changed meanwhile: 409, retry.
    db.put_endpoint(tenant, Some(&endpoint), None, event).await?;
    Ok(())
}

/// A new secret; the old one keeps signing (a second `v1,` signature) for 24 h so receivers can switch over.
pub async fn rotate_secret(ctx: &Context<'_>, tenant: &Tenant, id: &str) -> Result<EndpointWithSecretOut, ApiError> {
    let before = endpoint_by_id(ctx.db, tenant, id).await?;
    let secret = new_secret();
    let mut after = before.clone();
    after.previous_secret = Some((
        before.secret.clone(),
        time::now().unix_timestamp() + ROTATION_OVERLAP_SECS,
    ));
    after.secret = ctx.keys.seal(&secret)?;
    after.version += 1;
    after.updated_at = time::now_rfc3339();
    let event = endpoint_event(tenant, EventType::WebhookEndpointUpdated, &after)?.with_changes(&["secret"]);
    // Changed meanwhile: 409, retry.
    ctx.db.put_endpoint(tenant, Some(&before), Some(&after), event).await?;
    Ok(EndpointWithSecretOut {
        endpoint: EndpointOut::from(&after),
        secret,
    })
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryListParams {
    pub status: Option<DeliveryStatus>,
    pub event_type: Option<String>,
    /// RFC 3339, 1970 or later: deliveries of events created at or after.
    #[param(format = DateTime, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub from: Option<String>,
    /// RFC 3339, 1970 or later: deliveries of events created before.
    #[param(format = DateTime, pattern = "^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub to: Option<String>,
}

fn event_id_bound(field: &str, text: Option<&str>, upper: bool) -> Result<crate::ids::EventId, ApiError> {
    let ms = match text {
        Some(text) => {
            let at = time::parse_rfc3339(text).ok_or_else(|| ApiError::invalid(field, "must be an RFC 3339 time"))?;
            u64::try_from(at.unix_timestamp_nanos() / 1_000_000)
                .map_err(|_| ApiError::invalid(field, "must be after 1970"))?
        }
        None if upper => (1u64 << 48) - 1,
        None => 0,
    };
    let (low, high) = crate::ids::EventId::bounds_at(if upper && text.is_some() {
        ms.saturating_sub(1)
    } else {
        ms
    });
    Ok(if upper { high } else { low })
}

impl DeliveryListParams {
    pub fn parse(&self) -> Result<crate::db::DeliveryFilter, ApiError> {
        Ok(crate::db::DeliveryFilter {
            from: event_id_bound("from", self.from.as_deref(), false)?,
            to: event_id_bound("to", self.to.as_deref(), true)?,
            status: self.status,
            event_type: self.event_type.clone(),
        })
    }
}
/// The endpoint, disabled for `reason`, and its `webhook.endpoint_disabled` event.
pub fn disabled(
    endpoint: &Endpoint,
    store: crate::ids::StoreId,
    mode: Mode,
    reason: &str,
) -> Result<(Endpoint, Event), ApiError> {
    let mut after = endpoint.clone();
    after.enabled = false;
    after.disabled_reason = Some(reason.to_owned());
    after.version += 1;
    after.updated_at = time::now_rfc3339();
    let data = serde_json::to_value(EndpointOut::from(&after)).map_err(ApiError::internal)?;
    let resource = ResourceRef {
        kind: "webhook_endpoint".into(),
        id: after.id.to_string(),
        version: after.version,
    };
    Ok((
        after,
        Event::new(store, mode, EventType::WebhookEndpointDisabled, resource, data),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_seal_open_and_survive_a_master_key_rotation() {
        let old = MasterKeys::parse("old-material").unwrap();
        let secret = new_secret();
        assert!(secret.starts_with("whsec_"));
        let sealed = old.seal(&secret).unwrap();
        assert!(!sealed.ciphertext.contains(&secret[6..]));
        assert_eq!(old.open(&sealed).unwrap(), secret);
        let rotated = MasterKeys::parse("new-material, old-material").unwrap();
        assert_eq!(rotated.open(&sealed).unwrap(), secret);
        assert_ne!(rotated.seal(&secret).unwrap().key_id, sealed.key_id);
        assert!(MasterKeys::parse("other").unwrap().open(&sealed).is_err());
        assert!(!format!("{rotated:?}").contains("material"));
    }
}
