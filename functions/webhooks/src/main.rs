use cartwheel::http::{self, AppState};
use cartwheel_webhooks::{router, WebhooksState};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    http::init_tracing();
    let (state, sdk) = AppState::from_env().await?;
    let webhooks = WebhooksState::load(state.clone(), &sdk).await?;
    http::run(router().with_state(webhooks), state).await
}
