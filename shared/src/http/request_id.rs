//! `X-Request-Id`: taken from the client when it is sane, made up otherwise, echoed on every response and
//! available to error bodies and logs for the whole request.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::ids::RequestId;

pub const HEADER: &str = "x-request-id";
const MAX_LEN: usize = 128;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The current request's id, or `-` outside a request.
pub fn current() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_else(|_| "-".to_owned())
}

fn usable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

pub async fn layer(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| usable(id))
        .map(str::to_owned)
        .unwrap_or_else(|| RequestId::new().to_string());
    let span =
        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = REQUEST_ID
        .scope(id.clone(), tracing::Instrument::instrument(next.run(request), span))
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_ids_are_kept() {
        assert!(usable("req_01JD3M5W7Q6V8X9Y0Z1A2B3C4D"));
        assert!(usable("5f0c6a7e-1b2c-4d5e-8f90-123456789abc"));
        assert!(!usable(""));
        assert!(!usable("a b"));
        assert!(!usable("<script>"));
        assert!(!usable(&"x".repeat(129)));
    }

    #[tokio::test]
    async fn current_is_scoped() {
        assert_eq!(current(), "-");
        let inside = REQUEST_ID.scope("req_1".to_owned(), async { current() }).await;
        assert_eq!(inside, "req_1");
    }
}
