use cartwheel::http::{init_tracing, AppState};
use cartwheel_webhook_fanout::Fanout;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let (state, sdk) = AppState::from_env().await?;
    let fanout = &Fanout::new(&state, &sdk)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| fanout.handle(event))).await
}
