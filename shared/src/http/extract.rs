//! Extractors whose rejections are our error body: JSON bodies with field-level 422s, and query strings.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// A JSON request body. Syntax errors are `400`; a well-formed body of the wrong shape is `422` naming the field.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json") || mime.to_ascii_lowercase().ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::BadRequest(
                "expected a JSON body with `Content-Type: application/json`".into(),
            ));
        }
        // The body-limit layer has already refused anything over the limit.
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| ApiError::BadRequest("could not read the request body".into()))?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses a JSON document into `T`, mapping shape errors to the field that caused them.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if field == "." { "body".to_owned() } else { field };
                ApiError::Validation(vec![FieldError::new(field, clean_message(&inner))])
            }
            _ => ApiError::BadRequest(format!("malformed JSON: {inner}")),
        }
    })
}

/// serde's messages end with the position ("at line 1 column 9"), which says nothing a field path doesn't.
fn clean_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(position) => text[..position].to_owned(),
        None => text,
    }
}

/// Query-string parameters; a malformed one is a `400` naming the problem.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(Query)
            .map_err(|error| ApiError::BadRequest(format!("invalid query string: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Thing {
        name: String,
        price: Price,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Price {
        amount: i64,
    }

    #[test]
    fn shape_errors_name_the_field() {
        match parse_json::<Thing>(br#"{"name": "mug", "price": {"amount": "cheap"}}"#) {
            Err(ApiError::Validation(errors)) => {
                assert_eq!(errors[0].field, "price.amount");
                assert!(errors[0].message.starts_with("invalid type"), "{}", errors[0].message);
            }
            other => panic!("expected a validation error, got {:?}", other.err()),
        }
        match parse_json::<Thing>(br#"{"price": {"amount": 1}}"#) {
            Err(ApiError::Validation(errors)) => {
                assert!(errors[0].message.contains("name"), "{:?}", errors)
            }
            other => panic!("expected a validation error, got {:?}", other.err()),
        }
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        assert!(matches!(
            parse_json::<Thing>(b"{\"name\": "),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(parse_json::<Thing>(b"not json"), Err(ApiError::BadRequest(_))));
    }
}
