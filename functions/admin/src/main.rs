use axum::routing::get;
use cartwheel::http::{self, AppState};
use cartwheel_admin::{openapi_json, router, AdminState};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    http::init_tracing();
    let (state, sdk) = AppState::from_env().await?;
    let admin = AdminState::load(state.clone(), &sdk).await?;
    let router = router().with_state(admin).route("/v1/openapi.json", get(openapi_json));
    http::run(router, state).await
}
