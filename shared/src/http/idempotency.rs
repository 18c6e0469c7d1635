//! `Idempotency-Key` on POST: the first response to a key is stored for 24 h and replayed to every repeat with the
//! same request; a repeat with another request gets `409`. A claim made before the handler runs keeps two
//! concurrent repeats from both executing.
//!
//! Records belong to their caller: the API key that the authorizer resolved, or on the platform routes the key the
//! caller presented (by its hash). Another caller using the same `Idempotency-Key` makes a new request of its own,
//! so a replay only ever hands a caller what its own credentials already got. Outcomes of failed authentication or
//! authorisation (401, 403) are never stored, nor are secrets: a response marked [`ShownOnce`] is stored as the
//! fact that it succeeded, and its repeat answers `409 secret_already_shown` (docs/architecture.md).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::{AppState, BODY_LIMIT};
use crate::db::{key_idempotency_scope, platform_idempotency_scope, IdempotencyClaim, IdempotencyRecord};
use crate::error::ApiError;
use crate::tenant::Tenant;
use crate::time;

pub const HEADER: &str = "idempotency-key";
const MAX_KEY_LEN: usize = 255;
const RETENTION_SECS: i64 = 24 * 3600;
/// A claim older than this belongs to a request that died; a repeat may take it over.
const LOCK_SECS: i64 = 60;
/// Responses larger than this are not stored (an item holds at most 400 KB).
const MAX_STORED_BODY: usize = 300 * 1024;

const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";
/// The request succeeded, but its response carried a secret that is shown only once; `body` says what to do.
const SECRET_SHOWN: &str = "secret_shown";

/// Marks a response that carries a secret (an API key, a signing secret): its body is never stored, and a repeat of
/// the request answers `409 secret_already_shown` with this message (what was created, how to get a new secret).
#[derive(Clone, Debug)]
pub struct ShownOnce(pub String);

/// An answer whose body shows a secret once: `status`, `{"data": value}`, and the [`ShownOnce`] mark.
pub type SecretAnswer<T> = (StatusCode, axum::Extension<ShownOnce>, axum::Json<super::DataOut<T>>);

impl ShownOnce {
    /// Answers `value` with `status`; a repeat of the request is told its notice instead of seeing the secret again.
    pub fn answer<T: utoipa::ToSchema + crate::model::ShowsSecretOnce>(
        status: StatusCode,
        value: T,
    ) -> SecretAnswer<T> {
        (
            status,
            axum::Extension(Self(value.shown_once_notice())),
            axum::Json(super::DataOut::new(value)),
        )
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic())
}

/// What makes two requests "the same": method, path and query, and the exact body.
pub fn fingerprint(method: &Method, path_and_query: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str());
    hasher.update([0]);
    hasher.update(path_and_query);
    hasher.update([0]);
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// The answer to a repeat of a key that is already held.
pub fn replay(record: IdempotencyRecord, fingerprint: &str) -> Response {
    if record.fingerprint != fingerprint {
        return ApiError::conflict("this Idempotency-Key was already used for a different request").into_response();
    }
    if record.state == SECRET_SHOWN {
        let mut response = ApiError::Conflict {
            code: "secret_already_shown",
            message: record.body.unwrap_or_default(),
            details: Vec::new(),
        }
        .into_response();
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        return response;
    }
    let (Some(status), COMPLETED) = (record.status, record.state.as_str()) else {
        return ApiError::conflict("a request with this Idempotency-Key is still in progress; retry later")
            .into_response();
    };
    let mut response = Response::new(Body::from(record.body.unwrap_or_default()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Some(content_type) = record.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::CONTENT_TYPE, content_type);
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let Some(key) = key.to_str().ok().filter(|k| valid_key(k)).map(str::to_owned) else {
        return ApiError::BadRequest(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
        ))
        .into_response();
    };
    let scope = match Tenant::from_request_context(request.extensions()) {
        Some(tenant) => key_idempotency_scope(tenant.store_id, tenant.mode, tenant.key_id),
        None => match presented_key_hash(request.headers()) {
            Some(hash) => platform_idempotency_scope(&hash),
            // Nobody to hold the record for: the handler answers 401.
            None => return next.run(request).await,
        },
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::PayloadTooLarge { limit: BODY_LIMIT }.into_response();
    };
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let fingerprint = fingerprint(&parts.method, path, &bytes);
    let now = time::now().unix_timestamp();
    let claim = IdempotencyRecord {
        fingerprint: fingerprint.clone(),
        state: IN_PROGRESS.to_owned(),
        locked_until: now + LOCK_SECS,
        expires_at: now + RETENTION_SECS,
        status: None,
        body: None,
        content_type: None,
    };
    match state.db.claim_idempotency_key(&scope, &key, &claim, now).await {
        Ok(IdempotencyClaim::Claimed) => {}
        Ok(IdempotencyClaim::Existing(record)) => return replay(record, &fingerprint),
        Err(error) => return error.into_response(),
    }

    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let status = response.status();
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let storable = !status.is_server_error()
        && !matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        )
        && body.len() <= MAX_STORED_BODY
        && std::str::from_utf8(&body).is_ok();
    let outcome = if let Some(ShownOnce(message)) = parts.extensions.get::<ShownOnce>().filter(|_| storable) {
        let record = IdempotencyRecord {
            state: SECRET_SHOWN.to_owned(),
            status: Some(StatusCode::CONFLICT.as_u16()),
            body: Some(message.clone()),
            content_type: None,
            ..claim
        };
        state.db.save_idempotent_response(&scope, &key, &record).await
    } else if storable {
        let record = IdempotencyRecord {
            state: COMPLETED.to_owned(),
            status: Some(status.as_u16()),
            body: Some(String::from_utf8_lossy(&body).into_owned()),
            content_type: parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            ..claim
        };
        state.db.save_idempotent_response(&scope, &key, &record).await
    } else {
        // A failure a retry may fix: let the next attempt with this key run for real.
        state.db.release_idempotency_key(&scope, &key).await
    };
    if let Err(error) = outcome {
        tracing::error!(?error, "could not record the idempotent response");
    }
    Response::from_parts(parts, Body::from(body))
}

/// The SHA-256 of the bearer token a platform-route caller presented, if any.
fn presented_key_hash(headers: &axum::http::HeaderMap) -> Option<String> {
    let token = crate::tenant::presented_key(headers).filter(|token| !token.is_empty())?;
    Some(hex::encode(Sha256::digest(token.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fingerprint: &str, state: &str, status: Option<u16>) -> IdempotencyRecord {
        IdempotencyRecord {
            fingerprint: fingerprint.into(),
            state: state.into(),
            locked_until: 0,
            expires_at: 0,
            status,
            body: Some(r#"{"data":1}"#.into()),
            content_type: Some("application/json".into()),
        }
    }

    #[test]
    fn fingerprints_cover_path_and_body() {
        let a = fingerprint(&Method::POST, "/v1/api-keys", b"{}");
        assert_eq!(a, fingerprint(&Method::POST, "/v1/api-keys", b"{}"));
        assert_ne!(a, fingerprint(&Method::POST, "/v1/api-keys", b"{ }"));
        assert_ne!(a, fingerprint(&Method::POST, "/v1/products", b"{}"));
    }

    #[test]
    fn replays_only_the_same_finished_request() {
        let same = replay(record("f", COMPLETED, Some(201)), "f");
        assert_eq!(same.status(), StatusCode::CREATED);
        assert_eq!(same.headers()["idempotent-replayed"], "true");
        assert_eq!(
            replay(record("f", COMPLETED, Some(201)), "g").status(),
            StatusCode::CONFLICT
        );
        assert_eq!(
            replay(record("f", IN_PROGRESS, None), "f").status(),
            StatusCode::CONFLICT
        );
        let shown = replay(record("f", SECRET_SHOWN, Some(409)), "f");
        assert_eq!(shown.status(), StatusCode::CONFLICT);
        assert_eq!(shown.headers()["idempotent-replayed"], "true");
    }

    #[test]
    fn platform_callers_are_told_apart_by_the_key_they_present() {
        let with = |value: &str| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            presented_key_hash(&headers)
        };
        assert_eq!(with("Bearer a"), with("Bearer a"));
        assert_ne!(with("Bearer a"), with("Bearer b"));
        assert_eq!(with("Bearer "), None);
        assert_eq!(with("Basic a"), None);
        assert!(!with("Bearer cwp_secret").unwrap().contains("cwp_secret"));
    }

    #[test]
    fn keys_are_checked() {
        assert!(valid_key("order-2026-11-25-0001"));
        assert!(!valid_key(""));
        assert!(!valid_key("has space"));
        assert!(!valid_key(&"k".repeat(256)));
    }
}
