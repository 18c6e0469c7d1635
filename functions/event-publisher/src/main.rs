use cartwheel::bus::Bus;
use cartwheel::http::{init_tracing, AppState};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let (state, sdk) = AppState::from_env().await?;
    let bus = &Bus::new(&sdk, &state.config.event_bus);
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        cartwheel_event_publisher::handle(bus, event)
    }))
    .await
}
