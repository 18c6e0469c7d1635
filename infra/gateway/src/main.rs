//! `make dev`: the whole API on `127.0.0.1:${CARTWHEEL_PORT:-3000}` over the local stack (infra/dev.sh starts it).
//! `cartwheel-gateway --print-openapi` prints the OpenAPI document (`make openapi` commits it).

use axum::serve::ListenerExt as _;
use std::time::Duration;

use cartwheel::http::{init_tracing, AppState};
use cartwheel::stores::{self, StoreIn};
use cartwheel::{Config, Db};
use cartwheel_gateway::pipeline::Pipeline;
use cartwheel_gateway::{openapi_document, resources, router, Functions, GatewayOptions};

#[tokio::main]
async fn main() -> Result<(), resources::Error> {
    if let Some(dir) = std::env::args().skip_while(|arg| arg != "--write-event-schemas").nth(1) {
        for (name, text) in cartwheel_gateway::event_schemas::files() {
            std::fs::write(std::path::Path::new(&dir).join(name), text)?;
        }
        return Ok(());
    }
    if std::env::args().any(|arg| arg == "--print-openapi") {
        println!("{}", serde_json::to_string_pretty(&openapi_document())?);
        return Ok(());
    }
    init_tracing();
    let port: u16 = std::env::var("CARTWHEEL_PORT")
        .unwrap_or_else(|_| "3000".into())
        .parse()?;
    let (platform_key, generated) = match std::env::var("CARTWHEEL_PLATFORM_KEY") {
        Ok(key) if !key.trim().is_empty() => (key, false),
        _ => (stores::generate_platform_key(), true),
    };
    let mut config = Config::from_env()?;
    let sdk = cartwheel::aws::sdk_config().await;
    let db = Db::new(&sdk, &config.table);
    resources::ensure(&mut config, &sdk, &db, &platform_key).await?;
    let state = AppState::new(db, config);
    let functions = Functions::load(&state, &sdk).await?;
    let _pipeline = Pipeline::start(&sdk, &state, functions.webhooks.keys.clone())?;
    let first = stores::onboard(
        &state.db,
        StoreIn {
            name: "Local store".into(),
            plan: None,
        },
    )
    .await?;
    let authorizer_cache_ttl = match std::env::var("CARTWHEEL_AUTHORIZER_CACHE_TTL") {
        Ok(seconds) => Duration::from_secs(
            seconds
                .trim()
                .parse()
                .map_err(|_| format!("CARTWHEEL_AUTHORIZER_CACHE_TTL is `{seconds}`: give whole seconds"))?,
        ),
        Err(_) => Duration::ZERO,
    };
    let options = GatewayOptions { authorizer_cache_ttl };
    let app = router(state, functions, options);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let url = format!("http://127.0.0.1:{port}");
    println!("\nCartwheel is up at {url}  (reference: {url}/v1/docs)");
    println!("  store     {}", first.store.id);
    println!("  live key  {}", first.live_key.secret);
    println!("  test key  {}", first.test_key.secret);
    if generated {
        println!("  platform  {platform_key}   (set CARTWHEEL_PLATFORM_KEY to choose it)");
    }
    println!(
        "  try:      curl -H 'Authorization: Bearer {}' {url}/v1/api-keys\n",
        first.test_key.secret
    );
    // As API Gateway answers: no 40 ms Nagle/delayed-ACK stall on a response written in two parts.
    let listener = listener.tap_io(|tcp| drop(tcp.set_nodelay(true)));
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

async fn shutdown() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match terminate.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {}
    }
}
