//! `functions/admin`: store onboarding, API keys, health, and the OpenAPI document on AWS.

use axum::extract::{FromRef, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use cartwheel::apikeys::{self, ApiKeyCreatedOut, ApiKeyIn, ApiKeyOut, PlatformApiKeyIn};
use cartwheel::http::health;
use cartwheel::http::pagination::{ListOut, PageParams};
use cartwheel::http::Caller;
use cartwheel::http::{AppState, DataOut, Json, Query, SecretAnswer, ShownOnce};
use cartwheel::ids::{KeyId, StoreId};
use cartwheel::secrets::{self, SecretError};
use cartwheel::stores::{self, PlatformKey, StoreCreatedOut, StoreIn};
use cartwheel::tenant::can;
use cartwheel::ApiError;

#[derive(Clone)]
pub struct AdminState {
    pub app: AppState,
    pub platform_key: PlatformKey,
}

impl FromRef<AdminState> for AppState {
    fn from_ref(state: &AdminState) -> AppState {
        state.app.clone()
    }
}

impl AdminState {
    /// Reads the platform admin key from Secrets Manager, once per cold start.
    pub async fn load(app: AppState, sdk: &aws_config::SdkConfig) -> Result<Self, SecretError> {
        let key = secrets::read(sdk, &app.config.platform_key_secret).await?;
        Ok(Self {
            platform_key: PlatformKey::new(&key),
            app,
        })
    }
}

cartwheel::function_routes! {
    AdminState;
    (health::health),
    (create_store),
    (create_store_api_key),
    (create_api_key, list_api_keys),
    (get_api_key, revoke_api_key),
}

/// The platform operator, known by the platform admin key; checked before the body is read.
pub struct PlatformAdmin;

impl FromRequestParts<AdminState> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AdminState) -> Result<Self, ApiError> {
        let presented = cartwheel::tenant::presented_key(&parts.headers);
        match presented {
            Some(key) if state.platform_key.verify(key) => Ok(PlatformAdmin),
            _ => Err(ApiError::Unauthorized("missing or invalid platform key")),
        }
    }
}

/// Create a store
///
/// Platform operators only: authorised by the platform admin key (`Authorization: Bearer <platform key>`).
/// Returns the store with its first live and test keys (scope `*`); the keys are shown only here.
#[utoipa::path(
    post,
    path = "/v1/platform/stores",
    tag = "platform",
    security(()),
    request_body = StoreIn,
    responses(
        (status = 201, description = "The store and its first keys", body = DataOut<StoreCreatedOut>),
        (status = 401, description = "Missing or wrong platform key", body = cartwheel::error::ErrorBody),
    )
)]
async fn create_store(
    State(state): State<AdminState>,
    _: PlatformAdmin,
    Json(input): Json<StoreIn>,
) -> Result<SecretAnswer<StoreCreatedOut>, ApiError> {
    let created = stores::onboard(&state.app.db, input).await?;
    Ok(ShownOnce::answer(StatusCode::CREATED, created))
}

/// Mint an API key for a store
///
/// Platform operators only. Any scopes, in either mode: how a store that revoked or lost its full keys gets one
/// back. The secret is shown only in this response.
#[utoipa::path(
    post,
    path = "/v1/platform/stores/{id}/api-keys",
    tag = "platform",
    security(()),
    request_body = PlatformApiKeyIn,
    params(
        ("id" = String, Path, description = "Store id, `st_…`"),
    ),
    responses(
        (status = 201, description = "The key, with its secret", body = DataOut<ApiKeyCreatedOut>),
        (status = 401, description = "Missing or wrong platform key", body = cartwheel::error::ErrorBody),
        (status = 409, description = "The store holds the most keys it may", body = cartwheel::error::ErrorBody),
    )
)]
async fn create_store_api_key(
    State(state): State<AdminState>,
    _: PlatformAdmin,
    Path(id): Path<String>,
    Json(input): Json<PlatformApiKeyIn>,
) -> Result<SecretAnswer<ApiKeyCreatedOut>, ApiError> {
    let store_id: StoreId = id.parse().map_err(|_| ApiError::not_found("store"))?;
    let created = apikeys::create_for_store(&state.app.db, store_id, input).await?;
    Ok(ShownOnce::answer(StatusCode::CREATED, created))
}

/// Create an API key
///
/// The key belongs to the caller's store and mode, and can hold only scopes the caller holds.
/// Its secret is shown only in this response.
#[utoipa::path(
    post,
    path = "/v1/api-keys",
    tag = "api-keys",
    security(("api_key" = ["api_keys:manage"])),
    request_body = ApiKeyIn,
    responses(
        (status = 201, description = "The key, with its secret", body = DataOut<ApiKeyCreatedOut>),
        (status = 409, description = "The store holds the most keys it may in this mode (`api_key_limit_reached`)", body = cartwheel::error::ErrorBody),
    )
)]
async fn create_api_key(
    c: Caller<can::ApiKeysManage>,
    Json(input): Json<ApiKeyIn>,
) -> Result<SecretAnswer<ApiKeyCreatedOut>, ApiError> {
    let created = apikeys::create(&c.db, &c.tenant, input).await?;
    Ok(ShownOnce::answer(StatusCode::CREATED, created))
}

/// List API keys
///
/// The keys of the caller's store and mode, newest first, revoked ones included.
#[utoipa::path(
    get,
    path = "/v1/api-keys",
    tag = "api-keys",
    security(("api_key" = ["api_keys:manage"])),
    params(PageParams),
    responses((status = 200, description = "A page of keys", body = ListOut<ApiKeyOut>))
)]
async fn list_api_keys(
    c: Caller<can::ApiKeysManage>,
    Query(params): Query<PageParams>,
) -> Result<axum::Json<ListOut<ApiKeyOut>>, ApiError> {
    Ok(axum::Json(apikeys::list_api_keys(&c.db, &c.tenant, &params).await?))
}

fn key_id(id: &str) -> Result<KeyId, ApiError> {
    // An id that cannot exist is simply not found, as it would be in another store.
    id.parse().map_err(|_| ApiError::not_found("API key"))
}

/// Get an API key
#[utoipa::path(
    get,
    path = "/v1/api-keys/{id}",
    tag = "api-keys",
    security(("api_key" = ["api_keys:manage"])),
    params(("id" = String, Path, description = "Key id, `key_…`")),
    responses(
        (status = 200, description = "The key (never its secret)", body = DataOut<ApiKeyOut>),
    )
)]
async fn get_api_key(
    c: Caller<can::ApiKeysManage>,
    Path(id): Path<String>,
) -> Result<axum::Json<DataOut<ApiKeyOut>>, ApiError> {
    Ok(axum::Json(DataOut::new(
        apikeys::get_api_key(&c.db, &c.tenant, &id).await?,
    )))
}

/// Revoke an API key
///
/// The key stops working at once through the local gateway, and within the authorizer cache TTL on AWS.
#[utoipa::path(
    delete,
    path = "/v1/api-keys/{id}",
    tag = "api-keys",
    security(("api_key" = ["api_keys:manage"])),
    params(("id" = String, Path, description = "Key id, `key_…`")),
    responses(
        (status = 204, description = "Revoked (or already revoked)"),
        (status = 403, description = "The target key holds a scope the caller does not", body = cartwheel::error::ErrorBody),
        (status = 409, description = "A key cannot revoke itself", body = cartwheel::error::ErrorBody),
    )
)]
async fn revoke_api_key(c: Caller<can::ApiKeysManage>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    apikeys::revoke(&c.db, &c.tenant, key_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The OpenAPI document of the whole API, as generated by the gateway and committed (a test keeps it current).
/// On AWS this function serves it; the local gateway serves the live one.
pub const OPENAPI_JSON: &str = include_str!("../../../docs/openapi.json");

pub async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

/// The browsable reference (`/v1/docs`), rendered once per process from the same document.
pub async fn docs_page() -> axum::response::Html<&'static str> {
    static PAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    axum::response::Html(
        PAGE.get_or_init(|| {
            cartwheel::openapi::reference_html(&serde_json::from_str(OPENAPI_JSON).unwrap_or_default())
        }),
    )
}
