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
            example = json!({"status": "error", "database": "unreachable"})),
    )
)]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    if state.db.ping().await {
        (
            StatusCode::OK,
            axum::Json(HealthOut {
                status: "ok",
                database: "reachable",
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(HealthOut {
                status: "error",
                database: "unreachable",
            }),
        )
    }
}
