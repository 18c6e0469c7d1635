use cartwheel::http::{init_tracing, AppState};
use cartwheel::inventory::{sweep_expired, SWEEP_BATCH};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let (state, _) = AppState::from_env().await?;
    let db = &state.db;
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async move {
        let ended = sweep_expired(db, SWEEP_BATCH).await.map_err(|e| e.to_string())?;
        Ok::<_, lambda_runtime::Error>(serde_json::json!({ "expired": ended }))
    }))
    .await
}
