//! The HTTP conventions every function shares, and the one way a function is served.

pub mod extract;
pub mod health;
mod idempotency;
pub mod pagination;
mod rate_limit;
pub mod request_id;
pub mod versioning;

use std::sync::Arc;

use aws_config::SdkConfig;
use axum::extract::Request;
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use tracing_subscriber::EnvFilter;
use utoipa::ToSchema;

use crate::config::{Config, ConfigError};
use crate::db::Db;
use crate::error::ApiError;

pub use extract::{parse_json, Caller, Json, ListQuery, Query};
pub use idempotency::{SecretAnswer, ShownOnce};

/// Request bodies above this are refused with `413`.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler may need: storage and configuration, built once per process.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    /// The rate-limit tokens this process holds (`rate_limit`).
    rate_leases: rate_limit::Leases,
}

impl AppState {
    pub fn new(db: Db, config: Config) -> Self {
        Self {
            db,
            config: Arc::new(config),
            rate_leases: rate_limit::Leases::default(),
        }
    }

    /// Reads the configuration and builds the AWS clients, once, before the first request.
    pub async fn from_env() -> Result<(Self, SdkConfig), ConfigError> {
        let config = Config::from_env()?;
        let sdk = crate::aws::sdk_config().await;
        let db = Db::new(&sdk, &config.table);
        Ok((Self::new(db, config), sdk))
    }
}

/// `{"data": …}`
#[derive(Debug, Serialize, ToSchema)]
pub struct DataOut<T: ToSchema> {
    pub data: T,
}

impl<T: ToSchema> DataOut<T> {
    pub fn new(data: T) -> Self {
        Self { data }
    }
}

/// `200` with `{"data": …}`.
pub struct Data<T>(pub T);

impl<T: Serialize + ToSchema> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        axum::Json(DataOut::new(self.0)).into_response()
    }
}

/// `202` with `{"data": …}`: what was queued.
pub struct Accepted<T>(pub T);

impl<T: Serialize + ToSchema> IntoResponse for Accepted<T> {
    fn into_response(self) -> Response {
        (axum::http::StatusCode::ACCEPTED, axum::Json(DataOut::new(self.0))).into_response()
    }
}

/// `201` with `{"data": …}`: what was created.
pub struct Created<T>(pub T);

impl<T: Serialize + ToSchema> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (axum::http::StatusCode::CREATED, axum::Json(DataOut::new(self.0))).into_response()
    }
}

/// Logs as JSON on Lambda (`CARTWHEEL_LOG_FORMAT=json`), as text locally; level from `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("CARTWHEEL_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let result = if json {
        builder.json().without_time().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests) keeps the first subscriber.
    drop(result);
}

/// The per-function conventions: rate limits, the body limit and idempotent POSTs, in that order.
/// Request ids wrap everything, authentication included; see [`with_request_id`].
pub fn conventions(router: Router, state: &AppState) -> Router {
    router
        .layer(from_fn_with_state(state.clone(), idempotency::layer))
        .layer(from_fn(body_limit))
        .layer(from_fn_with_state(state.clone(), rate_limit::layer))
}

/// The longest request URI: API Gateway's HTTP APIs take a request line of at most 10,240 bytes; the local
/// server's own limit (hyper: 64 KB, answered with an empty `414`) is never reached through the API.
pub const URI_LIMIT: usize = 8 * 1024;

/// The outermost layers: request ids, our error body on the answers the router makes without a handler (unknown
/// route `404`, wrong method `405`), and the URI limit.
pub fn with_request_id(router: Router) -> Router {
    router
        .fallback(unknown_route)
        .layer(from_fn(routing_errors))
        .layer(from_fn(request_id::layer))
}

async fn routing_errors(request: Request, next: Next) -> Response {
    if request.uri().to_string().len() > URI_LIMIT {
        return ApiError::UriTooLong { limit: URI_LIMIT }.into_response();
    }
    let response = next.run(request).await;
    let bare = response.headers().get(axum::http::header::CONTENT_TYPE).is_none();
    if response.status() == axum::http::StatusCode::METHOD_NOT_ALLOWED && bare {
        let allow = response.headers().get(axum::http::header::ALLOW).cloned();
        let mut answer = ApiError::MethodNotAllowed.into_response();
        if let Some(allow) = allow {
            answer.headers_mut().insert(axum::http::header::ALLOW, allow);
        }
        return answer;
    }
    response
}

async fn unknown_route() -> ApiError {
    ApiError::NotFound("no such route".into())
}

/// Buffers the body, refusing anything over [`BODY_LIMIT`] with our `413` before a handler sees it.
async fn body_limit(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT) {
        return ApiError::PayloadTooLarge { limit: BODY_LIMIT }.into_response();
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(_) => ApiError::PayloadTooLarge { limit: BODY_LIMIT }.into_response(),
    }
}

/// Serves `router` as this Lambda function, with every convention applied.
pub async fn run(router: Router, state: AppState) -> Result<(), lambda_http::Error> {
    lambda_http::run(with_request_id(conventions(router, &state))).await
}

/// A function's whole `main`: tracing, the configuration and clients (once, before the first request), then its
/// routes with every convention, for a function whose handlers need only the shared state.
pub async fn serve(routes: impl FnOnce() -> Router<AppState>) -> Result<(), lambda_http::Error> {
    serve_with(routes, |app, _| async move { Ok::<_, lambda_http::Error>(app) }).await
}

/// [`serve`] for a function with its own state, which `load` builds from the shared one before the first request
/// (a secret read once per cold start).
pub async fn serve_with<S, Loaded, E>(
    routes: impl FnOnce() -> Router<S>,
    load: impl FnOnce(AppState, SdkConfig) -> Loaded,
) -> Result<(), lambda_http::Error>
where
    S: Clone + Send + Sync + 'static,
    Loaded: std::future::Future<Output = Result<S, E>>,
    E: Into<lambda_http::Error>,
{
    init_tracing();
    let (app, sdk) = AppState::from_env().await?;
    let state = load(app.clone(), sdk).await.map_err(Into::into)?;
    run(routes().with_state(state), app).await
}

/// Declares a function's routes once and gives two builders: `routes()`, with their OpenAPI description (the local
/// gateway, the document and its tests), and `router()`, the same routes without it, which the Lambda binary serves:
/// collecting the description costs ~2.6 ms of every cold start in a release build (catalog; docs/performance.md)
/// and nothing on Lambda reads it. Each group shares one path, as in `utoipa_axum::routes!`.
///
/// The calling crate depends on `axum`, `utoipa` and `utoipa-axum`, as every HTTP function does.
#[macro_export]
macro_rules! function_routes {
    ($state:ty; $( ( $( $($handler:ident)::+ ),+ ) ),+ $(,)?) => {
        /// Every route of this function, with its OpenAPI description.
        pub fn routes() -> ::utoipa_axum::router::OpenApiRouter<$state> {
            ::utoipa_axum::router::OpenApiRouter::new()
                $( .routes(::utoipa_axum::routes!($( $($handler)::+ ),+)) )+
        }

        /// Every route of this function, without the OpenAPI description: what its Lambda binary serves.
        pub fn router() -> ::axum::Router<$state> {
            use ::utoipa_axum::PathItemExt as _;
            let mut router = ::axum::Router::new();
            $( $(
                let path = ::utoipa_axum::routes!(@path [path()] of $($handler)::+);
                let methods = ::utoipa_axum::routes!(@path [methods()] of $($handler)::+);
                let handler = methods.iter().fold(::axum::routing::MethodRouter::new(), |handler, method| {
                    handler.on(method.to_method_filter(), $($handler)::+)
                });
                router = router.route(&path, handler);
            )+ )+
            router
        }
    };
}
