//! Per-key fixed-window rate limits by store plan: `X-RateLimit-Limit/Remaining/Reset` on every authenticated
//! response, `429` with `Retry-After` past the limit. The counter is a DynamoDB item per key and minute, so the
//! limit holds across every Lambda instance.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::error::ApiError;
use crate::tenant::Tenant;
use crate::time;

const WINDOW_SECS: i64 = 60;

/// The verdict for one request in a window.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds at which the window resets.
    pub reset: i64,
    pub allowed: bool,
}

pub fn window_start(now: i64) -> i64 {
    now - now.rem_euclid(WINDOW_SECS)
}

pub fn judge(limit: u32, count: u32, now: i64) -> Verdict {
    Verdict {
        limit,
        remaining: limit.saturating_sub(count),
        reset: window_start(now) + WINDOW_SECS,
        allowed: count <= limit,
    }
}

pub async fn layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(tenant) = Tenant::from_request_context(request.extensions()) else {
        // Unauthenticated routes (health, docs, platform onboarding) are not limited per key.
        return next.run(request).await;
    };
    let now = time::now().unix_timestamp();
    let limit = state.config.rate_limits.per_minute(&tenant.plan);
    let start = window_start(now);
    let verdict = match state.db.count_request(&tenant, start, start + 2 * WINDOW_SECS).await {
        Ok(count) => judge(limit, count, now),
        Err(error) => {
            // Counting failed (DynamoDB trouble): let the request through rather than refuse a paying client;
            // the request itself will meet the same trouble and say so.
            tracing::warn!(?error, "rate limit counter unavailable");
            judge(limit, 0, now)
        }
    };
    request.extensions_mut().insert(tenant);
    let mut response = if verdict.allowed {
        next.run(request).await
    } else {
        ApiError::RateLimited {
            limit,
            retry_after: (verdict.reset - now).max(1) as u64,
        }
        .into_response()
    };
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(verdict.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(verdict.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(verdict.reset));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_whole_minutes() {
        assert_eq!(window_start(120), 120);
        assert_eq!(window_start(179), 120);
        assert_eq!(window_start(180), 180);
    }

    #[test]
    fn the_limit_is_inclusive() {
        let at = 1_000_010;
        assert_eq!(
            judge(3, 3, at),
            Verdict {
                limit: 3,
                remaining: 0,
                reset: 1_000_020,
                allowed: true
            }
        );
        assert!(!judge(3, 4, at).allowed);
        assert_eq!(judge(3, 4, at).remaining, 0);
        assert_eq!(judge(1000, 1, at).remaining, 999);
    }
}
