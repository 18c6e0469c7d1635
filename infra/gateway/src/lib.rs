//! The local gateway: every function's router on one port, behind the authorizer, as API Gateway routes them.
//! Nothing here is written twice: the routers, the conventions and the authorizer logic are the functions' own.

pub mod event_schemas;
pub mod pipeline;
pub mod resources;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cartwheel::http::{conventions, with_request_id, AppState};
use cartwheel::tenant::Tenant;
use cartwheel::{openapi, ApiError};
use cartwheel_admin::AdminState;
use cartwheel_orders::OrdersState;
use cartwheel_webhooks::WebhooksState;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayRequestAuthorizer, ApiGatewayV2httpRequestContext};
use lambda_http::request::RequestContext;
use utoipa::openapi::OpenApi;

/// The OpenAPI document of every function's routes, completed with the shared components.
pub fn openapi_document() -> OpenApi {
    let (_, mut doc) = cartwheel_admin::routes().split_for_parts();
    doc.merge(cartwheel_catalog::routes().split_for_parts().1);
    doc.merge(cartwheel_inventory::routes().split_for_parts().1);
    doc.merge(cartwheel_webhooks::routes().split_for_parts().1);
    doc.merge(cartwheel_customers::routes().split_for_parts().1);
    doc.merge(cartwheel_pricing::routes().split_for_parts().1);
    doc.merge(cartwheel_carts::routes().split_for_parts().1);
    doc.merge(cartwheel_checkout::routes().split_for_parts().1);
    doc.merge(cartwheel_orders::routes().split_for_parts().1);
    openapi::finish(doc)
}

/// Routes that API Gateway serves without the authorizer: those the document marks public, and the
/// documentation itself.
#[derive(Clone, Debug)]
pub struct PublicRoutes(Vec<(Method, Vec<String>)>);

impl PublicRoutes {
    pub fn from_document(doc: &OpenApi) -> Self {
        let routes = openapi::public_operations(doc)
            .into_iter()
            .filter_map(|(method, path)| Some((method.parse().ok()?, path.split('/').map(str::to_owned).collect())))
            .collect();
        Self(routes)
    }

    pub fn contains(&self, method: &Method, path: &str) -> bool {
        let segments: Vec<&str> = path.split('/').collect();
        self.0.iter().any(|(m, template)| {
            m == method
                && template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| (t.starts_with('{') && t.ends_with('}')) || t == s)
        }) || (method == Method::GET && (path == "/v1/openapi.json" || path == "/v1/docs"))
    }
}

#[derive(Clone)]
struct Gate {
    state: AppState,
    public: Arc<PublicRoutes>,
    cache: AuthorizerCache,
}

/// API Gateway's authorizer cache: the authorizer's answer per presented key, reused for `ttl` (the template's
/// `AuthorizerCacheTtl`, 300 s by default). Off unless asked for, so a key revoked locally fails at once.
#[derive(Clone, Default)]
struct AuthorizerCache {
    ttl: Duration,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
}

/// When the authorizer answered, and its answer (`None`: the key was refused).
type Answer = (Instant, Option<Tenant>);

impl AuthorizerCache {
    fn get(&self, key: &str) -> Option<Option<Tenant>> {
        let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        let (at, answer) = answers.get(key)?;
        (at.elapsed() < self.ttl).then(|| answer.clone())
    }

    fn put(&self, key: &str, answer: &Option<Tenant>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers.retain(|_, (at, _)| at.elapsed() < self.ttl);
        answers.insert(key.to_owned(), (Instant::now(), answer.clone()));
    }
}

/// What API Gateway does before a function runs: the authorizer, and its context handed to the function.
async fn authorize(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    if gate.public.contains(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    // As on AWS: a cached authorizer's identity source is `Authorization`, which API Gateway requires.
    let cached = !gate.cache.ttl.is_zero();
    if cached && !request.headers().contains_key(header::AUTHORIZATION) {
        return ApiError::Unauthorized("missing API key; send `Authorization: Bearer ck_…`").into_response();
    }
    let Some(key) = cartwheel::tenant::presented_key(request.headers()) else {
        return ApiError::Unauthorized("missing API key; send `Authorization: Bearer ck_…` (or `X-Api-Key: ck_…`)")
            .into_response();
    };
    let answer = match gate.cache.get(key) {
        Some(answer) => answer,
        None => match cartwheel_authorizer::authenticate(&gate.state.db, key).await {
            Ok(answer) => {
                gate.cache.put(key, &answer);
                answer
            }
            Err(error) => return error.into_response(),
        },
    };
    let Some(tenant) = answer else {
        return ApiError::Unauthorized("invalid or revoked API key").into_response();
    };
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.fields = tenant.to_context();
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.authorizer = Some(authorizer);
    request.extensions_mut().insert(RequestContext::ApiGatewayV2(context));
    next.run(request).await
}

/// The whole API on one router: every function's routes with their conventions, the authorizer in front,
/// request ids around everything, and the live OpenAPI document and reference page.
/// The states of the functions that load something of their own at cold start (secrets).
pub struct Functions {
    pub admin: AdminState,
    pub webhooks: WebhooksState,
    pub orders: OrdersState,
}

impl Functions {
    /// Reads what each function reads at cold start, as it would on AWS.
    pub async fn load(state: &AppState, sdk: &SdkConfig) -> Result<Self, resources::Error> {
        Ok(Self {
            admin: AdminState::load(state.clone(), sdk).await?,
            webhooks: WebhooksState::load(state.clone(), sdk).await?,
            orders: OrdersState::load(state.clone(), sdk).await?,
        })
    }
}

/// How the local gateway differs from one run to another.
#[derive(Clone, Debug, Default)]
pub struct GatewayOptions {
    /// How long an authorizer answer is reused per key (`CARTWHEEL_AUTHORIZER_CACHE_TTL` seconds; 0, no cache, by
    /// default).
    pub authorizer_cache_ttl: Duration,
}

pub fn router(state: AppState, functions: Functions, options: GatewayOptions) -> Router {
    let doc = openapi_document();
    let public = Arc::new(PublicRoutes::from_document(&doc));
    let doc_json = Arc::new(serde_json::to_string_pretty(&doc).unwrap_or_default());
    let docs_page = Arc::new(cartwheel::openapi::reference_html(
        &serde_json::to_value(&doc).unwrap_or_default(),
    ));
    // Each function keeps its own conventions, as it would in its own Lambda.
    let functions = [
        Router::from(cartwheel_admin::routes().with_state(functions.admin)),
        Router::from(cartwheel_catalog::routes().with_state(state.clone())),
        Router::from(cartwheel_inventory::routes().with_state(state.clone())),
        Router::from(cartwheel_webhooks::routes().with_state(functions.webhooks)),
        Router::from(cartwheel_customers::routes().with_state(state.clone())),
        Router::from(cartwheel_pricing::routes().with_state(state.clone())),
        Router::from(cartwheel_carts::routes().with_state(state.clone())),
        Router::from(cartwheel_checkout::routes().with_state(state.clone())),
        Router::from(cartwheel_orders::routes().with_state(functions.orders)),
    ]
    .into_iter()
    .fold(Router::new(), |all, function| all.merge(conventions(function, &state)));

    let documentation = Router::new()
        .route(
            "/v1/openapi.json",
            get(move || {
                let doc_json = Arc::clone(&doc_json);
                async move {
                    (
                        StatusCode::OK,
                        [(header::CONTENT_TYPE, "application/json")],
                        doc_json.as_str().to_owned(),
                    )
                }
            }),
        )
        .route(
            "/v1/docs",
            get(move || std::future::ready(Html(Arc::clone(&docs_page).as_str().to_owned()))),
        );
    let gate = Gate {
        state,
        public,
        cache: AuthorizerCache {
            ttl: options.authorizer_cache_ttl,
            ..Default::default()
        },
    };
    with_request_id(
        functions
            .merge(documentation)
            .layer(from_fn_with_state(gate, authorize)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorizer_cache_keeps_answers_for_its_ttl_only() {
        // A refused key is an answer too: API Gateway caches it like any other.
        let off = AuthorizerCache::default();
        off.put("ck_test_a", &None);
        assert!(off.get("ck_test_a").is_none());
        let on = AuthorizerCache {
            ttl: Duration::from_secs(300),
            ..Default::default()
        };
        on.put("ck_test_a", &None);
        assert_eq!(on.get("ck_test_a"), Some(None));
        assert!(on.get("ck_test_b").is_none());
        let expired = AuthorizerCache {
            ttl: Duration::from_nanos(1),
            ..Default::default()
        };
        expired.put("ck_test_a", &None);
        std::thread::sleep(Duration::from_millis(1));
        assert!(expired.get("ck_test_a").is_none());
    }

    #[test]
    fn public_routes_come_from_the_document() {
        let public = PublicRoutes::from_document(&openapi_document());
        assert!(public.contains(&Method::GET, "/v1/health"));
        assert!(public.contains(&Method::POST, "/v1/platform/stores"));
        assert!(public.contains(&Method::POST, "/v1/payments/webhook"));
        assert!(!public.contains(&Method::POST, "/v1/checkout"));
        assert!(public.contains(&Method::GET, "/v1/docs"));
        assert!(public.contains(&Method::GET, "/v1/openapi.json"));
        assert!(!public.contains(&Method::GET, "/v1/api-keys"));
        assert!(!public.contains(&Method::POST, "/v1/health"));
        assert!(!public.contains(&Method::GET, "/v1/health/x"));
    }
}
