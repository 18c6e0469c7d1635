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

/// Parses a JSON document into `T`, mapping shape errors to the field that caused them. Refused before any field is
/// read: anything after the document (`{…}xx`), and control characters (NUL and the like; tab, CR and LF pass)
/// in any string, key or value, which no name, email or text of ours may hold.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|error| ApiError::BadRequest(format!("malformed JSON: {error}")))?;
    if let Some(field) = control_character_in(&value, &mut Vec::new()) {
        return Err(ApiError::Validation(vec![FieldError::new(
            field,
            "must not contain control characters",
        )]));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let field = error.path().to_string();
        let field = if field == "." { "body".to_owned() } else { field };
        ApiError::Validation(vec![FieldError::new(field, clean_message(&error.into_inner()))])
    })
}

fn is_forbidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The dotted path of the first string (or key) holding a forbidden control character.
fn control_character_in(value: &serde_json::Value, path: &mut Vec<String>) -> Option<String> {
    let here = |path: &[String]| {
        if path.is_empty() {
            "body".to_owned()
        } else {
            path.join(".")
        }
    };
    match value {
        serde_json::Value::String(text) => text.chars().any(is_forbidden).then(|| here(path)),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let last = path.pop();
            path.push(format!("{}[{i}]", last.clone().unwrap_or_default()));
            let found = control_character_in(item, path);
            path.pop();
            path.extend(last);
            found
        }),
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            path.push(key.clone());
            let found = match key.chars().any(is_forbidden) {
                true => Some(here(path)),
                false => control_character_in(item, path),
            };
            path.pop();
            found
        }),
        _ => None,
    }
}

/// serde's messages end with the position ("at line 1 column 9"), which says nothing a field path doesn't.
fn clean_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(position) => text[..position].to_owned(),
        None => text,
    }
}

/// Query-string parameters; a parameter the route does not know (its struct denies unknown fields) is a `422`
/// naming it, as an unknown body field is; another malformed one is a `400` naming the problem.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(Query)
            .map_err(super::pagination::query_error)
    }
}

/// A list's query string: its page parameters and its filters `F`.
pub struct ListQuery<F>(pub super::pagination::PageParams, pub F);

impl<F: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ListQuery<F> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let (page, filters) = super::pagination::split_list_query(parts.uri.query().unwrap_or_default())?;
        Ok(ListQuery(page, filters))
    }
}

/// The store and the caller, known to hold the scope `S`: what a handler passes to its one domain call.
pub struct Caller<S> {
    pub db: crate::db::Db,
    pub tenant: crate::tenant::Tenant,
    scope: std::marker::PhantomData<S>,
}

impl<S: crate::tenant::can::RequiredScope, St: Send + Sync> FromRequestParts<St> for Caller<S>
where
    super::AppState: axum::extract::FromRef<St>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, ApiError> {
        let crate::tenant::Can(tenant, _) = crate::tenant::Can::<S>::from_request_parts(parts, state).await?;
        let app = <super::AppState as axum::extract::FromRef<St>>::from_ref(state);
        Ok(Caller {
            db: app.db,
            tenant,
            scope: std::marker::PhantomData,
        })
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
    fn trailing_data_and_control_characters_are_refused() {
        assert!(matches!(
            parse_json::<Thing>(br#"{"name": "mug", "price": {"amount": 1}}xx"#),
            Err(ApiError::BadRequest(_))
        ));
        match parse_json::<Thing>(br#"{"name": "m\u0000ug", "price": {"amount": 1}}"#) {
            Err(ApiError::Validation(errors)) => assert_eq!(errors[0].field, "name"),
            other => panic!("expected a validation error, got {:?}", other.err()),
        }
        let nested = serde_json::json!({"a": [{"b": "ok"}, {"b": "x\u{1}"}]});
        assert_eq!(
            control_character_in(&nested, &mut Vec::new()).as_deref(),
            Some("a[1].b")
        );
        assert!(parse_json::<Thing>("{\"name\": \"two\\nlines\", \"price\": {\"amount\": 1}}".as_bytes()).is_ok());
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
