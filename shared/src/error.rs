//! The one error type of the API and its one mapping to the documented error body:
//! `{"error": {"code", "message", "status", "request_id", "details"?}}`.
//!
//! Internal failures are logged with their cause and the place they were raised, and answered with a bare 500:
//! nothing about the cause (and so no secret) ever reaches the client.

use std::panic::Location;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::request_id;

/// A problem with one field of the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, as a dotted path (`price.amount`, `items[2].quantity`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// `code` is `conflict` unless a more precise code helps the client (`insufficient_stock`).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        details: Vec<serde_json::Value>,
    },
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("request validation failed")]
    Validation(Vec<FieldError>),
    /// A `422` with a more precise code than `validation_failed` (`no_price_for_currency`), naming its fields.
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        details: Vec<FieldError>,
    },
    #[error("this route does not accept this method")]
    MethodNotAllowed,
    #[error("the request URI is longer than {limit} bytes")]
    UriTooLong { limit: usize },
    #[error("rate limit of {limit} requests per minute exceeded")]
    RateLimited { limit: u32, retry_after: u64 },
    #[error("internal error at {location}: {cause}")]
    Internal {
        cause: String,
        location: &'static Location<'static>,
    },
}

/// The error body, as documented and as published in the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `bad_request`, `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`, `conflict`,
    /// `precondition_failed`, `payload_too_large`, `uri_too_long`, `validation_failed`, `rate_limited`,
    /// `internal_error`, or a more precise code.
    #[schema(example = "not_found")]
    pub code: &'static str,
    pub message: String,
    #[schema(example = 404)]
    pub status: u16,
    #[schema(example = "req_01JD3M5W7Q6V8X9Y0Z1A2B3C4D")]
    pub request_id: String,
    /// Field errors for `validation_failed`; per-item detail for some conflicts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub details: Vec<serde_json::Value>,
}

impl ApiError {
    /// An unexpected failure. The cause goes to the log, never to the client.
    #[track_caller]
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal {
            cause: cause.to_string(),
            location: Location::caller(),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            code: "conflict",
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// `412` when the client's `If-Match` names another version than the current one of `what`.
    pub fn unless_version(what: &str, current: u64, if_match: Option<u64>) -> Result<(), Self> {
        match if_match {
            Some(expected) if expected != current => Err(Self::PreconditionFailed(format!(
                "the {what} is at version {current}, not {expected}; read it again"
            ))),
            _ => Ok(()),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Validation(_) | Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict { code, .. } => code,
            Self::PreconditionFailed(_) => "precondition_failed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Validation(_) => "validation_failed",
            Self::Unprocessable { code, .. } => code,
            Self::MethodNotAllowed => "method_not_allowed",
            Self::UriTooLong { .. } => "uri_too_long",
            Self::RateLimited { .. } => "rate_limited",
            Self::Internal { .. } => "internal_error",
        }
    }

    pub fn body(&self) -> ErrorBody {
        let message = match self {
            Self::Internal { .. } => "internal error; quote the request id when you report it".to_owned(),
            other => other.to_string(),
        };
        let details = match self {
            Self::Validation(fields) | Self::Unprocessable { details: fields, .. } => {
                fields.iter().filter_map(|f| serde_json::to_value(f).ok()).collect()
            }
            Self::Conflict { details, .. } => details.clone(),
            _ => Vec::new(),
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message,
                status: self.status().as_u16(),
                request_id: request_id::current(),
                details,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal { cause, location } = &self {
            tracing::error!(%cause, %location, request_id = %request_id::current(), "internal error");
        }
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        if let Self::RateLimited { retry_after, .. } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let body = ApiError::internal("connection to 10.0.0.1 refused, secret=abc").body();
        let json = serde_json::to_string(&body).unwrap();
        assert!(!json.contains("secret"), "{json}");
        assert_eq!(body.error.code, "internal_error");
        assert_eq!(body.error.status, 500);
    }

    #[test]
    fn validation_errors_list_fields() {
        let body = ApiError::Validation(vec![FieldError::new("name", "is required")]).body();
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["error"]["status"], 422);
        assert_eq!(json["error"]["details"][0]["field"], "name");
        assert_eq!(json["error"]["code"], "validation_failed");
    }

    #[test]
    fn rate_limited_says_when_to_retry() {
        let response = ApiError::RateLimited {
            limit: 10,
            retry_after: 7,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
    }
}
