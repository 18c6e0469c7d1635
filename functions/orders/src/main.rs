use cartwheel_orders::{router, OrdersState};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cartwheel::http::serve_with(router, |app, sdk| async move { OrdersState::load(app, &sdk).await }).await
}
