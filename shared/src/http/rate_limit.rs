//! Fixed-window rate limits per store and mode, by store plan: `X-RateLimit-Limit/Remaining/Reset` on every
//! authenticated response, `429` with `Retry-After` past the limit. Every key of a store and mode spends the same
//! budget, so minting keys buys a store nothing, and one store's traffic never spends another's. The count is a
//! DynamoDB item per store, mode and minute, so the limit holds across every Lambda instance.
//!
//! A process does not count each request there: it leases tokens from the window's counter (`ADD count :n`) and
//! spends them locally, 1, 2, 4, … at a time up to a fiftieth of the limit. A busy key then costs one write per
//! twenty requests at the default limit instead of one per request, and most requests wait on no write at all.
//! Tokens are granted only below the limit, so together the instances never let more than the limit through; the
//! price is that tokens leased but unspent when the window ends are lost, so with many instances a key can be
//! refused up to `limit / 50` requests per instance early. Small limits (under 100) lease one token at a time:
//! exact, as before. A request whose method is safe (`GET`, `HEAD`) runs beside its lease instead of after it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::error::ApiError;
use crate::ids::StoreId;
use crate::tenant::{Mode, Tenant};
use crate::time;

const WINDOW_SECS: i64 = 60;
/// The largest lease is this fraction of the limit: what one instance can strand at a window's end.
const LEASE_DIVISOR: u32 = 50;

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

fn largest_lease(limit: u32) -> u32 {
    (limit / LEASE_DIVISOR).max(1)
}

/// The tokens this process holds for one key's current window.
#[derive(Debug, Clone, Copy)]
struct Lease {
    window: i64,
    /// Tokens granted and not spent yet.
    left: u32,
    /// The window's count after this process's last lease (its own unspent tokens included).
    count: u32,
    /// The size of the next lease.
    next: u32,
    /// Tokens asked by this process's leases still in flight: while one is, a concurrent request asks for a single
    /// token, so a burst on the local gateway cannot lease the whole limit at once.
    asking: u32,
}

impl Lease {
    fn new(window: i64, count: u32) -> Self {
        Self {
            window,
            left: 0,
            count,
            next: 1,
            asking: 0,
        }
    }
}

/// What a budget belongs to: a store in one mode.
pub type Budget = (StoreId, Mode);

/// The leases of one process, per budget. Shared by every request the process serves.
#[derive(Debug, Default, Clone)]
pub struct Leases(Arc<Mutex<HashMap<Budget, Lease>>>);

impl Leases {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<Budget, Lease>) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Spends a token held for this window, if there is one.
    pub fn spend(&self, key: Budget, limit: u32, now: i64) -> Option<Verdict> {
        let window = window_start(now);
        self.with(|leases| {
            let lease = leases.get_mut(&key).filter(|l| l.window == window && l.left > 0)?;
            lease.left -= 1;
            Some(verdict(limit, lease.count, lease.left, window, true))
        })
    }

    /// How many tokens to ask the counter for: twice the last lease in this window, up to the largest, or one
    /// while another lease of this process is in flight. The caller ends it with `grant` or `abandon`.
    pub fn next_lease(&self, key: Budget, limit: u32, now: i64) -> u32 {
        let window = window_start(now);
        self.with(|leases| {
            let lease = leases.entry(key).or_insert(Lease::new(window, 0));
            if lease.window != window {
                *lease = Lease::new(window, 0);
            }
            let asked = if lease.asking > 0 {
                1
            } else {
                lease.next.min(largest_lease(limit))
            };
            lease.asking += asked;
            asked
        })
    }

    /// Forgets a lease that got no answer from the counter.
    pub fn abandon(&self, key: Budget, asked: u32, now: i64) {
        let window = window_start(now);
        self.with(|leases| {
            if let Some(lease) = leases.get_mut(&key).filter(|l| l.window == window) {
                lease.asking = lease.asking.saturating_sub(asked);
            }
        });
    }

    /// Takes the counter's answer to a lease of `asked` tokens (`count` = the window's count after it) and spends
    /// one of the tokens granted: those of `count - asked + 1 ..= count` that are within the limit.
    pub fn grant(&self, key: Budget, limit: u32, now: i64, asked: u32, count: u32) -> Verdict {
        let window = window_start(now);
        let granted = limit.saturating_sub(count.saturating_sub(asked)).min(asked);
        self.with(|leases| {
            leases.retain(|_, lease| lease.window >= window);
            let lease = leases.entry(key).or_insert(Lease::new(window, count));
            if lease.window != window {
                *lease = Lease::new(window, count);
            }
            lease.asking = lease.asking.saturating_sub(asked);
            lease.count = lease.count.max(count);
            lease.next = asked.saturating_mul(2).min(largest_lease(limit));
            // Concurrent requests of one process (the local gateway) lease at once: a refused lease is still served
            // by tokens the others brought in.
            lease.left += granted;
            if lease.left == 0 {
                return verdict(limit, lease.count, 0, window, false);
            }
            lease.left -= 1;
            verdict(limit, lease.count, lease.left, window, true)
        })
    }
}

/// `remaining`: what the counter has not handed out, plus this process's own unspent tokens.
fn verdict(limit: u32, count: u32, left: u32, window: i64, allowed: bool) -> Verdict {
    Verdict {
        limit,
        remaining: limit.saturating_sub(count).saturating_add(left).min(limit),
        reset: window + WINDOW_SECS,
        allowed,
    }
}

/// Leases tokens for the request's key from the window's counter.
async fn lease(state: &AppState, tenant: &Tenant, limit: u32, now: i64) -> Verdict {
    let leases = &state.rate_leases;
    let budget = (tenant.store_id, tenant.mode);
    let asked = leases.next_lease(budget, limit, now);
    let start = window_start(now);
    match state
        .db
        .count_requests(tenant, start, asked, start + 2 * WINDOW_SECS)
        .await
    {
        Ok(count) => leases.grant(budget, limit, now, asked, count),
        Err(error) => {
            // Counting failed (DynamoDB trouble): let the request through rather than refuse a paying client;
            // the request itself will meet the same trouble and say so.
            leases.abandon(budget, asked, now);
            tracing::warn!(?error, "rate limit counter unavailable");
            verdict(limit, 0, 0, start, true)
        }
    }
}

pub async fn layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(tenant) = Tenant::from_request_context(request.extensions()) else {
        // Unauthenticated routes (health, docs, platform onboarding) are limited by the stage's throttles only.
        return next.run(request).await;
    };
    let now = time::now().unix_timestamp();
    let limit = state.config.rate_limits.per_minute(&tenant.plan);
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    let spent = state.rate_leases.spend((tenant.store_id, tenant.mode), limit, now);
    let lessee = tenant.clone();
    request.extensions_mut().insert(tenant);
    let (verdict, response) = match spent {
        Some(verdict) => {
            let response = next.run(request).await;
            (verdict, Some(response))
        }
        // A read changes nothing, so it need not wait for its lease; its answer is dropped if the lease is refused.
        None if safe => {
            let (verdict, response) = tokio::join!(lease(&state, &lessee, limit, now), next.run(request));
            (verdict, Some(response))
        }
        None => {
            let verdict = lease(&state, &lessee, limit, now).await;
            let response = if verdict.allowed {
                Some(next.run(request).await)
            } else {
                None
            };
            (verdict, response)
        }
    };
    let mut response = match response {
        Some(response) if verdict.allowed => response,
        _ => ApiError::RateLimited {
            limit,
            retry_after: (verdict.reset - now).max(1) as u64,
        }
        .into_response(),
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

    const AT: i64 = 1_000_010;

    fn key() -> Budget {
        (StoreId::new(), Mode::Test)
    }

    #[test]
    fn windows_are_whole_minutes() {
        assert_eq!(window_start(120), 120);
        assert_eq!(window_start(179), 120);
        assert_eq!(window_start(180), 180);
    }

    #[test]
    fn small_limits_lease_one_token_at_a_time_and_the_limit_is_inclusive() {
        let (leases, key) = (Leases::default(), key());
        for count in 1..=3 {
            assert_eq!(leases.spend(key, 3, AT), None);
            assert_eq!(leases.next_lease(key, 3, AT), 1);
            let verdict = leases.grant(key, 3, AT, 1, count);
            assert!(verdict.allowed);
            assert_eq!(verdict.remaining, 3 - count);
            assert_eq!(verdict.reset, 1_000_020);
        }
        let refused = leases.grant(key, 3, AT, 1, 4);
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
    }

    #[test]
    fn leases_double_up_to_a_fiftieth_of_the_limit() {
        let (leases, key) = (Leases::default(), key());
        let mut asked_in_turn = Vec::new();
        let mut count = 0;
        let mut writes = 0;
        for _ in 0..200 {
            if leases.spend(key, 1000, AT).is_some() {
                continue;
            }
            let asked = leases.next_lease(key, 1000, AT);
            asked_in_turn.push(asked);
            count += asked;
            writes += 1;
            assert!(leases.grant(key, 1000, AT, asked, count).allowed);
        }
        assert_eq!(&asked_in_turn[..6], [1, 2, 4, 8, 16, 20]);
        assert!(writes <= 15, "{writes} writes for 200 requests");
        // The 201st request spends a leased token; what remains counts what was spent, not what was leased.
        assert_eq!(leases.spend(key, 1000, AT).map(|v| v.remaining), Some(1000 - 201));
    }

    #[test]
    fn instances_together_never_pass_the_limit() {
        // Three processes interleave their leases on one counter with a limit of 250 (leases up to 5).
        let instances = [Leases::default(), Leases::default(), Leases::default()];
        let key = key();
        let (mut counter, mut allowed) = (0, 0);
        for round in 0..1000 {
            let leases = &instances[round % 3];
            if leases.spend(key, 250, AT).is_some() {
                allowed += 1;
                continue;
            }
            let asked = leases.next_lease(key, 250, AT);
            counter += asked;
            if leases.grant(key, 250, AT, asked, counter).allowed {
                allowed += 1;
            }
        }
        assert!(allowed <= 250, "{allowed} allowed");
        // What the instances strand is at most a lease each.
        assert!(allowed >= 250 - 3 * 5, "{allowed} allowed");
    }

    #[test]
    fn a_partial_grant_spends_only_what_is_under_the_limit() {
        let (leases, key) = (Leases::default(), key());
        // Asked for 4 with 98 already handed out of 100: two tokens granted.
        assert!(leases.grant(key, 100, AT, 4, 102).allowed);
        assert!(leases.spend(key, 100, AT).is_some());
        assert_eq!(leases.spend(key, 100, AT), None);
    }

    #[test]
    fn while_a_lease_is_in_flight_concurrent_requests_ask_for_one_token() {
        let (leases, key) = (Leases::default(), key());
        assert!(leases.grant(key, 1000, AT, leases.next_lease(key, 1000, AT), 1).allowed);
        let first = leases.next_lease(key, 1000, AT);
        assert_eq!(first, 2);
        let others: Vec<u32> = (0..49).map(|_| leases.next_lease(key, 1000, AT)).collect();
        assert!(others.iter().all(|&asked| asked == 1), "{others:?}");
        assert!(leases.grant(key, 1000, AT, first, 3).allowed);
        for (i, asked) in others.into_iter().enumerate() {
            assert!(leases.grant(key, 1000, AT, asked, 4 + i as u32).allowed);
        }
        // Nothing in flight any more: the next lease doubles again; an abandoned one frees its place too.
        let next = leases.next_lease(key, 1000, AT);
        assert!(next > 1);
        leases.abandon(key, next, AT);
        assert_eq!(leases.next_lease(key, 1000, AT), next);
    }

    #[test]
    fn a_refused_lease_spends_what_concurrent_leases_brought_in() {
        let (leases, key) = (Leases::default(), key());
        // Two requests of one process lease 20 each at once, with 985 handed out of 1000: the first gets 15.
        assert!(leases.grant(key, 1000, AT, 20, 1005).allowed);
        let second = leases.grant(key, 1000, AT, 20, 1025);
        assert!(second.allowed, "14 tokens are still held here");
        assert_eq!(second.remaining, 13);
        for _ in 0..13 {
            assert!(leases.spend(key, 1000, AT).is_some());
        }
        assert_eq!(leases.spend(key, 1000, AT), None);
        assert!(!leases.grant(key, 1000, AT, 20, 1045).allowed);
    }

    #[test]
    fn a_new_window_starts_from_one_token_again() {
        let (leases, key) = (Leases::default(), key());
        assert!(leases.grant(key, 1000, AT, 16, 16).allowed);
        assert!(leases.spend(key, 1000, AT).is_some());
        let next_minute = AT + 60;
        assert_eq!(leases.spend(key, 1000, next_minute), None);
        assert_eq!(leases.next_lease(key, 1000, next_minute), 1);
        let verdict = leases.grant(key, 1000, next_minute, 1, 1);
        assert_eq!((verdict.allowed, verdict.remaining), (true, 999));
    }
}
