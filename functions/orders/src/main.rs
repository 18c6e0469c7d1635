use cartwheel::http::{self, AppState};
use cartwheel_orders::{router, OrdersState};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    http::init_tracing();
    let (state, sdk) = AppState::from_env().await?;
    let orders = OrdersState::load(state.clone(), &sdk).await?;
    http::run(router().with_state(orders), state).await
}
