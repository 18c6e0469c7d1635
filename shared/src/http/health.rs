//! `GET /v1/health`: is this function up, and can it reach DynamoDB?

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthOut {
    /// `ok` or `error`.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// `reachable` or `unreachable`.
    #[schema(example = "reachable")]
    pub database: &'static str,
    /// The version of the deployed code.
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// The API and event contract it serves.
    #[schema(example = "2026-11-01")]
    pub api_version: &'static str,
}

impl HealthOut {
    fn new(status: &'static str, database: &'static str) -> Self {
        Self {
            status,
            database,
            version: env!("CARGO_PKG_VERSION"),
            api_version: crate::events::API_VERSION,
        }
    }
}

/// Health check
///
/// Probes DynamoDB with one read; `503` when it does not answer.
#[utoipa::path(
    get,
    path = "/v1/health",
    tag = "platform",
    security(()),
    responses(
        (status = 200, description = "Up, and DynamoDB answers", body = HealthOut),
        (status = 503, description = "DynamoDB is unreachable", body = HealthOut,
            example = json!({"status": "error", "database": "unreachable", "version": "0.1.0", "api_version": "2026-11-01"})),
    )
)]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    if state.db.ping().await {
        (StatusCode::OK, axum::Json(HealthOut::new("ok", "reachable")))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(HealthOut::new("error", "unreachable")),
        )
    }
}
