use axum::routing::get;
use cartwheel_admin::{docs_page, openapi_json, router, AdminState};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let routes = || {
        router()
            .route("/v1/openapi.json", get(openapi_json))
            .route("/v1/docs", get(docs_page))
    };
    cartwheel::http::serve_with(routes, |app, sdk| async move { AdminState::load(app, &sdk).await }).await
}
