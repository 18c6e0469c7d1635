use cartwheel::http::{self, AppState};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    http::init_tracing();
    let (state, _) = AppState::from_env().await?;
    let router = cartwheel_inventory::router().with_state(state.clone());
    http::run(router, state).await
}
