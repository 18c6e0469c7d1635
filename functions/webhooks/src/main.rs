use cartwheel_webhooks::{router, WebhooksState};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cartwheel::http::serve_with(router, |app, sdk| async move { WebhooksState::load(app, &sdk).await }).await
}
