//! The bare probe of `make bench`: the least a Rust function answering one API Gateway request with one `GetItem`
//! can do, built like the project's functions (release profile, rustls with ring). Every function is measured
//! against it.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};

#[derive(Clone)]
struct Probe {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

async fn get_item(State(probe): State<Probe>, Path((pk, sk)): Path<(String, String)>) -> Json<serde_json::Value> {
    let found = probe
        .client
        .get_item()
        .table_name(&probe.table)
        .key("PK", AttributeValue::S(pk))
        .key("SK", AttributeValue::S(sk))
        .send()
        .await;
    Json(serde_json::json!({"found": found.ok().and_then(|o| o.item).is_some()}))
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .load()
        .await;
    let probe = Probe {
        client: aws_sdk_dynamodb::Client::new(&sdk),
        table: std::env::var("CARTWHEEL_TABLE").unwrap_or_else(|_| "cartwheel-dev".into()),
    };
    let router = Router::new().route("/probe/{pk}/{sk}", get(get_item)).with_state(probe);
    lambda_http::run(router).await
}
