use cartwheel::http::{init_tracing, AppState};
use cartwheel_webhook_delivery::Deliverer;
use cartwheel_webhooks::WebhooksState;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let (state, sdk) = AppState::from_env().await?;
    let keys = WebhooksState::load(state.clone(), &sdk).await?.keys;
    let deliverer = &Deliverer::new(&state, &sdk, keys)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| deliverer.handle(event))).await
}
