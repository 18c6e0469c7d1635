use cartwheel::http::{init_tracing, AppState};
use cartwheel::webhooks::MasterKeys;
use cartwheel_webhook_delivery::Deliverer;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let (state, sdk) = AppState::from_env().await?;
    let keys = MasterKeys::load(&sdk, &state.config).await?;
    let deliverer = &Deliverer::new(&state, &sdk, keys)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| deliverer.handle(event))).await
}
