//! `functions/authorizer`: turns an API key into the caller's store, mode, key and scopes.
//!
//! On AWS this is an HTTP API Lambda authorizer with simple responses, cached per `Authorization` header. It
//! answers `isAuthorized: true` for every request that carries the header, and puts the verdict in the context:
//! the tenant for a valid key, nothing for an invalid one. The function then answers an invalid key with our own
//! `401` body; a `false` here would make API Gateway answer `403 {"message":"Forbidden"}` instead
//! (docs/architecture.md). The local gateway calls [`authenticate`] directly.

use std::collections::HashMap;

use aws_lambda_events::apigw::{ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request};
use cartwheel::apikeys;
use cartwheel::tenant::presented_key;
use cartwheel::{ApiError, Db, Tenant};
use lambda_runtime::LambdaEvent;
use serde_json::Value;

/// The tenant behind a presented key, or `None` for a malformed, unknown or revoked key.
pub async fn authenticate(db: &Db, presented: &str) -> Result<Option<Tenant>, ApiError> {
    let Some(mode) = apikeys::presented_mode(presented) else {
        return Ok(None);
    };
    let hash = apikeys::hash(presented);
    let Some(found) = db.find_api_key(&hash).await? else {
        return Ok(None);
    };
    if !apikeys::hashes_match(&found.hash, &hash) || found.mode != mode {
        return Ok(None);
    }
    Ok(found.tenant())
}

/// The Lambda authorizer's handler.
pub async fn handle(
    db: &Db,
    event: LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request>,
) -> Result<ApiGatewayV2CustomAuthorizerSimpleResponse<HashMap<String, Value>>, lambda_runtime::Error> {
    let tenant = match presented_key(&event.payload.headers) {
        Some(key) => authenticate(db, key).await.map_err(|error| {
            // Logged with its cause; API Gateway answers 500 and the client may retry.
            tracing::error!(%error, "authorizer could not check the key");
            lambda_runtime::Error::from("authorizer unavailable")
        })?,
        None => None,
    };
    let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    response.is_authorized = true;
    response.context = tenant.map(|t| t.to_context()).unwrap_or_default();
    Ok(response)
}
