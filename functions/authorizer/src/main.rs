use cartwheel::http::{init_tracing, AppState};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let (state, _) = AppState::from_env().await?;
    let db = &state.db;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        cartwheel_authorizer::handle(db, event)
    }))
    .await
}
