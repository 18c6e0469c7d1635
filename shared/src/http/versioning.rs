//! Optimistic concurrency on the API: `ETag` carries an entity's version, `If-Match` sends it back.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::DataOut;
use crate::error::ApiError;
use crate::model::Versioned;

/// The version named by `If-Match` (`"3"`, `W/"3"` or `3`); `None` when absent or `*`.
pub struct IfMatch(pub Option<u64>);

/// A well-formed entity tag that is not one of ours (`"stale-0"`) can match no version: `412`, as RFC 9110
/// §13.1.1 says. Only a header that is not an entity tag at all is `400`.
pub fn parse_if_match(value: &str) -> Result<Option<u64>, ApiError> {
    let value = value.trim();
    if value == "*" {
        return Ok(None);
    }
    let unweak = value.strip_prefix("W/").unwrap_or(value);
    let quoted = unweak
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .filter(|tag| tag.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)));
    match (quoted, unweak.parse::<u64>()) {
        (Some(tag), _) => tag.parse().map(Some).map_err(|_| {
            ApiError::PreconditionFailed("If-Match names no version of this resource; read it again".into())
        }),
        (None, Ok(version)) => Ok(Some(version)),
        (None, Err(_)) => Err(ApiError::BadRequest(
            "If-Match must be the ETag of the resource, e.g. \"3\"".into(),
        )),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        match parts.headers.get(header::IF_MATCH) {
            None => Ok(IfMatch(None)),
            Some(value) => {
                let text = value
                    .to_str()
                    .map_err(|_| ApiError::BadRequest("If-Match is not text".into()))?;
                parse_if_match(text).map(IfMatch)
            }
        }
    }
}

/// `{"data": …}` with the entity's version as its `ETag`.
pub struct Tagged<T>(pub StatusCode, pub T, pub u64);

impl<T: Versioned> Tagged<T> {
    /// `200` with the entity.
    pub fn ok(entity: T) -> Self {
        let version = entity.version();
        Tagged(StatusCode::OK, entity, version)
    }

    /// `201` with the entity just created.
    pub fn created(entity: T) -> Self {
        let version = entity.version();
        Tagged(StatusCode::CREATED, entity, version)
    }
}

impl<T: Serialize + ToSchema> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        let Tagged(status, value, version) = self;
        (
            status,
            [(header::ETAG, format!("\"{version}\""))],
            axum::Json(DataOut::new(value)),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_usual_spellings() {
        assert_eq!(parse_if_match("\"3\"").unwrap(), Some(3));
        assert_eq!(parse_if_match("W/\"3\"").unwrap(), Some(3));
        assert_eq!(parse_if_match("3").unwrap(), Some(3));
        assert_eq!(parse_if_match("*").unwrap(), None);
        assert!(matches!(
            parse_if_match("\"stale-0\""),
            Err(ApiError::PreconditionFailed(_))
        ));
        assert!(matches!(
            parse_if_match("W/\"abc\""),
            Err(ApiError::PreconditionFailed(_))
        ));
        assert!(matches!(parse_if_match("abc"), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse_if_match("\"open"), Err(ApiError::BadRequest(_))));
    }
}
