#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cartwheel::http::serve(cartwheel_pricing::router).await
}
