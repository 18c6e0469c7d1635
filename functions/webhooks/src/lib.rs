//! `functions/webhooks`: a store's webhook endpoints, their signing secrets, and their delivery logs.

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use cartwheel::config::WebhookQueue;
use cartwheel::http::pagination::{ListOut, PageParams};
use cartwheel::http::{Accepted, Caller, Data};
use cartwheel::http::{AppState, DataOut, Json, ListQuery, Query, SecretAnswer, ShownOnce};
use cartwheel::queue::Queue;
use cartwheel::secrets::SecretError;
use cartwheel::tenant::can;
use cartwheel::webhooks::{
    self, DeliveryListParams, DeliveryOut, EndpointIn, EndpointOut, EndpointPatch, EndpointWithSecretOut, MasterKeys,
    RecoverIn, RecoverOut, UrlPolicy,
};
use cartwheel::ApiError;

#[derive(Clone)]
pub struct WebhooksState {
    pub app: AppState,
    pub keys: MasterKeys,
    /// The delivery queue, for test events and manual retries.
    pub deliveries: Queue,
}

impl FromRef<WebhooksState> for AppState {
    fn from_ref(state: &WebhooksState) -> AppState {
        state.app.clone()
    }
}

impl WebhooksState {
    /// Reads the master key(s) that seal endpoint secrets from Secrets Manager, once per cold start.
    pub async fn load(app: AppState, sdk: &aws_config::SdkConfig) -> std::result::Result<Self, SecretError> {
        let keys = MasterKeys::load(sdk, &app.config).await?;
        let secret = &app.config.webhook_master_key_secret;
        let queue = (app.config)
            .queue_url(WebhookQueue::Deliveries)
            .map_err(|unset| SecretError::new(secret, unset))?;
        let deliveries = Queue::new(sdk, queue);
        Ok(Self { app, keys, deliveries })
    }

    fn context(&self) -> webhooks::Context<'_> {
        let policy = UrlPolicy {
            allow_loopback: self.app.config.webhook_allow_loopback,
        };
        webhooks::Context {
            db: &self.app.db,
            keys: &self.keys,
            policy,
        }
    }
}

cartwheel::function_routes! {
    WebhooksState;
    (create_endpoint, list_endpoints),
    (get_endpoint, update_endpoint, delete_endpoint),
    (rotate_secret),
    (send_test),
    (list_deliveries),
    (get_delivery),
    (retry_delivery),
    (recover),
}

type Result<T> = std::result::Result<T, ApiError>;
type Manager = Caller<can::WebhooksManage>;

/// Create a webhook endpoint
///
/// The URL must be https in live mode and must not resolve to a private, loopback, link-local, CGNAT, multicast or
/// metadata address. The signing secret `whsec_…` is shown only in this response.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", security(("api_key" = ["webhooks:manage"])), request_body = EndpointIn,
    responses((status = 201, description = "The endpoint and its secret", body = DataOut<EndpointWithSecretOut>)))]
async fn create_endpoint(
    State(state): State<WebhooksState>,
    c: Manager,
    Json(input): Json<EndpointIn>,
) -> Result<SecretAnswer<EndpointWithSecretOut>> {
    let created = webhooks::create_endpoint(&state.context(), &c.tenant, input).await?;
    Ok(ShownOnce::answer(StatusCode::CREATED, created))
}

/// List webhook endpoints
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", security(("api_key" = ["webhooks:manage"])), params(PageParams),
    responses((status = 200, description = "A page of endpoints", body = ListOut<EndpointOut>)))]
async fn list_endpoints(c: Manager, Query(params): Query<PageParams>) -> Result<axum::Json<ListOut<EndpointOut>>> {
    Ok(axum::Json(webhooks::list_endpoints(&c.db, &c.tenant, &params).await?))
}

/// Get a webhook endpoint
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", security(("api_key" = ["webhooks:manage"])), params(("id" = String, Path, description = "`wh_…`")),
    responses((status = 200, description = "The endpoint (never its secret)", body = DataOut<EndpointOut>)))]
async fn get_endpoint(c: Manager, Path(id): Path<String>) -> Result<Data<EndpointOut>> {
    let endpoint = webhooks::get_endpoint(&c.db, &c.tenant, &id).await?;
    Ok(Data(EndpointOut::from(&endpoint)))
}

/// Update a webhook endpoint
///
/// Re-enabling a disabled endpoint clears its failure record.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", security(("api_key" = ["webhooks:manage"])), request_body = EndpointPatch,
    params(("id" = String, Path, description = "`wh_…`")),
    responses((status = 200, description = "The endpoint", body = DataOut<EndpointOut>)))]
async fn update_endpoint(
    State(state): State<WebhooksState>,
    c: Manager,
    Path(id): Path<String>,
    Json(patch): Json<EndpointPatch>,
) -> Result<Data<EndpointOut>> {
    Ok(Data(
        webhooks::update_endpoint(&state.context(), &c.tenant, &id, patch).await?,
    ))
}

/// Delete a webhook endpoint
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", security(("api_key" = ["webhooks:manage"])), params(("id" = String, Path, description = "`wh_…`")),
    responses((status = 204, description = "Deleted; pending deliveries to it are dropped")))]
async fn delete_endpoint(c: Manager, Path(id): Path<String>) -> Result<StatusCode> {
    webhooks::delete_endpoint(&c.db, &c.tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rotate an endpoint's signing secret
///
/// For 24 hours both the old and the new secret sign every delivery (two `v1,` signatures).
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks", security(("api_key" = ["webhooks:manage"])), params(("id" = String, Path, description = "`wh_…`")),
    responses((status = 200, description = "The endpoint and its new secret", body = DataOut<EndpointWithSecretOut>)))]
async fn rotate_secret(
    State(state): State<WebhooksState>,
    c: Manager,
    Path(id): Path<String>,
) -> Result<SecretAnswer<EndpointWithSecretOut>> {
    let rotated = webhooks::rotate_secret(&state.context(), &c.tenant, &id).await?;
    Ok(ShownOnce::answer(StatusCode::OK, rotated))
}

/// Send a test event
///
/// Delivers a `webhook.test` event to this endpoint now, signed like every delivery; follow it in the delivery log.
#[utoipa::path(post, path = "/v1/webhooks/{id}/test", tag = "webhooks", security(("api_key" = ["webhooks:manage"])), params(("id" = String, Path, description = "`wh_…`")),
    responses((status = 202, description = "Queued; the delivery, pending", body = DataOut<DeliveryOut>)))]
async fn send_test(
    State(state): State<WebhooksState>,
    c: Manager,
    Path(id): Path<String>,
) -> Result<Accepted<DeliveryOut>> {
    let delivery = webhooks::send_test(&c.db, &state.deliveries, &c.tenant, &id).await?;
    let delivery = DeliveryOut::for_key(delivery, &c.tenant.scopes);
    Ok(Accepted(delivery))
}

/// List an endpoint's deliveries
///
/// Newest first, each with every attempt (time, HTTP status or error, latency, first 2 KB of the response).
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("api_key" = ["webhooks:manage"])), params(("id" = String, Path, description = "`wh_…`"), PageParams, DeliveryListParams),
    responses((status = 200, description = "A page of deliveries", body = ListOut<DeliveryOut>)))]
async fn list_deliveries(
    c: Manager,
    Path(id): Path<String>,
    ListQuery(page, params): ListQuery<DeliveryListParams>,
) -> Result<axum::Json<ListOut<DeliveryOut>>> {
    Ok(axum::Json(
        webhooks::list_deliveries(&c.db, &c.tenant, &id, &page, &params).await?,
    ))
}

/// Retry a delivery
///
/// One more attempt now, whatever the delivery's status.
#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks", security(("api_key" = ["webhooks:manage"])),
    params(("id" = String, Path, description = "`wh_…`"), ("delivery_id" = String, Path, description = "The event id, `evt_…`")),
    responses((status = 202, description = "Queued", body = DataOut<DeliveryOut>)))]
async fn retry_delivery(
    State(state): State<WebhooksState>,
    c: Manager,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<Accepted<DeliveryOut>> {
    let delivery = webhooks::retry_delivery(&c.db, &state.deliveries, &c.tenant, &id, &delivery).await?;
    let delivery = DeliveryOut::for_key(delivery, &c.tenant.scopes);
    Ok(Accepted(delivery))
}

/// Re-send failed deliveries
///
/// Queues again every failed delivery of events created since `since` (at most 1000 per call), and delivers every
/// event since then the endpoint never got, or whose next attempt was lost (docs/webhooks.md).
#[utoipa::path(post, path = "/v1/webhooks/{id}/recover", tag = "webhooks", security(("api_key" = ["webhooks:manage"])), request_body = RecoverIn,
    params(("id" = String, Path, description = "`wh_…`")),
    responses((status = 202, description = "How many were queued", body = DataOut<RecoverOut>)))]
async fn recover(
    State(state): State<WebhooksState>,
    c: Manager,
    Path(id): Path<String>,
    Json(input): Json<RecoverIn>,
) -> Result<Accepted<RecoverOut>> {
    let stall_after = state.app.config.webhook_stall_after_secs();
    let recovered = webhooks::recover(&c.db, &state.deliveries, &c.tenant, &id, input, stall_after).await?;
    Ok(Accepted(recovered))
}

/// Get a delivery
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries/{delivery_id}", tag = "webhooks", security(("api_key" = ["webhooks:manage"])),
    params(("id" = String, Path, description = "`wh_…`"), ("delivery_id" = String, Path, description = "The event id, `evt_…`")),
    responses((status = 200, description = "The delivery with its attempts", body = DataOut<DeliveryOut>)))]
async fn get_delivery(c: Manager, Path((id, delivery)): Path<(String, String)>) -> Result<Data<DeliveryOut>> {
    Ok(Data(webhooks::get_delivery(&c.db, &c.tenant, &id, &delivery).await?))
}
