use cartwheel::http::{self, AppState};
use cartwheel_orders::{routes, OrdersState};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    http::init_tracing();
    let (state, sdk) = AppState::from_env().await?;
    let orders = OrdersState::load(state.clone(), &sdk).await?;
    http::run(routes().with_state(orders).into(), state).await
}
