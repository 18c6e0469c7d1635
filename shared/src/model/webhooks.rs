//! Webhook records as stored (endpoints with their sealed secrets, deliveries and their attempts) and the pure rules
//! on them: which addresses and URLs an endpoint may use, the retry schedule, the signatures. Their operations are
//! in `crate::webhooks`.

use std::net::IpAddr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use crate::error::{ApiError, FieldError};
use crate::ids::WebhookId;
use crate::tenant::Mode;

const MAX_URL: usize = 2048;
const MAX_EVENT_FILTERS: usize = 50;

/// A webhook endpoint as stored: its secrets only encrypted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    pub secret: Sealed,
    /// The secret before the last rotation, and when it stops signing (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<(Sealed, i64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// Unix seconds of the first failure since the last success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<i64>,
    /// Unix seconds until which the endpoint is not called: its last attempt timed out, and a hanging endpoint
    /// must not hold the delivery workers every other endpoint shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_until: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Endpoint {
    /// Seconds of cooldown left at `now` (Unix seconds): 0 when the endpoint may be called.
    pub fn cooldown_left(&self, now: i64) -> u32 {
        self.cooldown_until
            .map_or(0, |until| u32::try_from(until.saturating_sub(now)).unwrap_or(0))
    }

    pub fn subscribes_to(&self, event_type: &str) -> bool {
        self.enabled
            && self.events.iter().any(|filter| {
                filter == "*"
                    || filter == event_type
                    || filter
                        .strip_suffix(".*")
                        .is_some_and(|group| event_type.split('.').next() == Some(group))
            })
    }
}

/// A secret encrypted with the deployment's master key (AES-256-GCM).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// Which master key sealed it (first 8 hex digits of its hash).
    pub key_id: String,
    pub nonce: String,
    pub ciphertext: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

/// One POST to the endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Attempt {
    pub at: String,
    /// The HTTP status, when the endpoint answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why there was no answer (timeout, connection refused, refused address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub latency_ms: u64,
    /// The first 2 KB of the response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
}

/// One event for one endpoint, with every attempt to deliver it. Its id is the event's id, which is also the
/// `webhook-id` header: stable across retries, so receivers can drop duplicates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    pub id: crate::ids::EventId,
    pub endpoint_id: WebhookId,
    pub event_type: String,
    pub status: DeliveryStatus,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// The envelope that is POSTed, as JSON text.
    pub payload: String,
    pub created_at: String,
    pub updated_at: String,
}

impl Delivery {
    /// The pending delivery of `event` to one endpoint: the one place a delivery is made from an event.
    pub fn for_event(event: &crate::events::Event, endpoint_id: WebhookId) -> Result<Self, ApiError> {
        Ok(Delivery {
            id: event.id,
            endpoint_id,
            event_type: event.event_type.clone(),
            status: DeliveryStatus::Pending,
            attempts: Vec::new(),
            payload: serde_json::to_string(event).map_err(ApiError::internal)?,
            created_at: event.created_at.clone(),
            updated_at: event.created_at.clone(),
        })
    }
}

// --- event filters ----------------------------------------------------------------------------------------

/// `order.created`, `order.*` or `*`, at most 100 characters.
fn valid_filter(filter: &str) -> bool {
    if filter.len() > 100 {
        return false;
    }
    if filter == "*" {
        return true;
    }
    let (group, name) = filter.split_once('.').unwrap_or((filter, ""));
    let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    word(group) && (name == "*" || word(name))
}

pub fn check_events(events: &[String]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if events.is_empty() || events.len() > MAX_EVENT_FILTERS {
        errors.push(FieldError::new("events", "1 to 50 event types"));
    }
    for (i, filter) in events.iter().enumerate().filter(|(_, f)| !valid_filter(f)) {
        errors.push(FieldError::new(
            format!("events[{i}]"),
            format!("`{filter}` is not `group.name`, `group.*` or `*`"),
        ));
    }
    errors
}

// --- URLs ---------------------------------------------------------------------------------------------------

/// What the deployment lets endpoints point at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// `CARTWHEEL_WEBHOOK_ALLOW_LOOPBACK=1`: loopback addresses and plain `http`, for the local stack only.
    pub allow_loopback: bool,
}

/// Is this address one a webhook may be sent to?
pub fn public_address(ip: IpAddr, policy: UrlPolicy) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    if ip.is_loopback() {
        return policy.allow_loopback;
    }
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_link_local() // 169.254.0.0/16, the metadata service included
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
                || (a == 192 && b == 0)
                || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18.0.0/15
                || (a == 192 && b == 88 && v4.octets()[2] == 99) // 6to4 relays
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let [first, second, ..] = v6.segments();
            // Only global unicast (2000::/3) is routed on the internet: this refuses the unspecified, IPv4-compatible
            // (::a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), discard (100::/64), NAT64 (64:ff9b::/96), unique and
            // link local, site local (fec0::/10) and multicast ranges at once.
            let global_unicast = (first & 0xe000) == 0x2000;
            global_unicast
                && !(first == 0x2001 && second < 0x0200) // 2001::/23: Teredo, benchmarking, ORCHID and the like
                && !(first == 0x2001 && second == 0x0db8) // documentation
                && first != 0x2002 // 6to4: may embed any IPv4 address
                && first != 0x3fff // documentation 3fff::/20
        }
    }
}

/// A URL's shape: scheme by mode and policy, a host, no credentials. Returns (host, port).
pub fn check_url(url: &str, mode: Mode, policy: UrlPolicy) -> Result<(String, u16), ApiError> {
    let invalid = |message: &str| ApiError::invalid("url", message);
    if url.chars().count() > MAX_URL {
        return Err(invalid("must be at most 2048 characters"));
    }
    let parsed = url::Url::parse(url).map_err(|_| invalid("must be an absolute URL"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if mode == Mode::Test || policy.allow_loopback => {}
        "http" => return Err(invalid("live endpoints must use https")),
        _ => return Err(invalid("must be an http(s) URL")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("must not carry credentials"));
    }
    let host = parsed.host_str().ok_or_else(|| invalid("must name a host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| invalid("must name a port"))?;
    Ok((host, port))
}

// --- retries ------------------------------------------------------------------------------------------------

/// Time an attempt may have taken since its message was received (the function's own timeout is 30 s).
const VISIBILITY_MARGIN_SECS: u64 = 120;

/// Seconds before the next attempt after `attempts_made` attempts: the schedule's next step with ±20 % jitter, at
/// least what the receiver asked for with `Retry-After`, at most the SQS visibility limit. `None` when the schedule
/// is exhausted.
pub fn next_delay(schedule: &[u64], attempts_made: usize, retry_after: Option<u64>, jitter: f64) -> Option<u64> {
    let base = *schedule.get(attempts_made)?;
    let jittered = (base as f64 * (1.0 + 0.2 * jitter.clamp(-1.0, 1.0))).round() as u64;
    Some(
        jittered
            .max(retry_after.unwrap_or(0))
            // SQS counts the 12 h limit from the receive, and the attempt itself took time: keep a margin.
            .min(crate::config::MAX_RETRY_DELAY_SECS - VISIBILITY_MARGIN_SECS),
    )
}

// --- the verdict on an attempt -------------------------------------------------------------------------------

/// What an attempt is judged by (from the configuration).
#[derive(Clone, Debug)]
pub struct DeliveryRules {
    /// Seconds before each retry.
    pub schedule: Vec<u64>,
    /// An endpoint failing for longer than this is disabled.
    pub disable_after_secs: i64,
    /// How long an endpoint whose attempt timed out is left alone.
    pub cooldown_secs: i64,
}

/// One attempt as made: what it logs, whether it ran into the timeout, and the receiver's `Retry-After`.
#[derive(Debug)]
pub struct Posted {
    pub attempt: Attempt,
    pub timed_out: bool,
    pub retry_after: Option<u64>,
}

impl Posted {
    /// The attempt recorded while an endpoint cools down (until `until`, Unix seconds): not sent, counted as a
    /// failure, retried no sooner than the cooldown's end.
    pub fn cooling_down(at: &str, now: i64, until: i64) -> Self {
        Posted {
            attempt: Attempt {
                at: at.to_owned(),
                status: None,
                error: Some(format!(
                    "not sent: the endpoint's last attempt timed out; it is not called until {}",
                    crate::time::rfc3339_of_unix(until)
                )),
                latency_ms: 0,
                response_body: None,
            },
            timed_out: false,
            retry_after: Some(until.saturating_sub(now).unsigned_abs()),
        }
    }
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A 2xx: delivered, and the endpoint is healthy again.
    Delivered,
    /// Failed for good, and the endpoint is disabled for this reason.
    Disable(&'static str),
    /// Failed; the next attempt comes in this many seconds.
    RetryIn(u64),
    /// Failed and the schedule is exhausted: failed for good, the job goes to the dead-letter queue.
    DeadLetter,
}

/// Judges the attempt that makes `attempts_made` attempts of a delivery to `endpoint`, at `now` (Unix seconds).
/// A timed-out attempt retries no sooner than the endpoint's cooldown; `jitter` in [-1, 1] spreads retries.
pub fn judge(
    endpoint: &Endpoint,
    attempts_made: usize,
    posted: &Posted,
    now: i64,
    rules: &DeliveryRules,
    jitter: f64,
) -> Verdict {
    let answered = posted.attempt.status;
    if answered.is_some_and(|s| (200..300).contains(&s)) {
        return Verdict::Delivered;
    }
    if answered == Some(410) {
        return Verdict::Disable("the endpoint answered 410 Gone");
    }
    if endpoint
        .failing_since
        .is_some_and(|since| now - since > rules.disable_after_secs)
    {
        return Verdict::Disable("every delivery failed for too long");
    }
    let retry_after = if posted.timed_out {
        let cooldown = rules.cooldown_secs.unsigned_abs();
        Some(posted.retry_after.map_or(cooldown, |asked| asked.max(cooldown)))
    } else {
        posted.retry_after
    };
    match next_delay(&rules.schedule, attempts_made, retry_after, jitter) {
        Some(delay) => Verdict::RetryIn(delay),
        None => Verdict::DeadLetter,
    }
}

// --- signing ----------------------------------------------------------------------------------------------

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` with the secret's decoded key (Standard Webhooks).
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|k| STANDARD.decode(k).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec());
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap_or_else(|_| unreachable_hmac());
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Hex HMAC-SHA256 of the raw body with the whole secret text as the key (`X-Cartwheel-Signature`).
pub fn simple_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable_hmac());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// HMAC takes keys of any length; `new_from_slice` cannot fail for it.
fn unreachable_hmac() -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(b"k").unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(events: &[&str]) -> Endpoint {
        Endpoint {
            id: WebhookId::new(),
            url: "https://x".into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            description: None,
            enabled: true,
            secret: Sealed {
                key_id: String::new(),
                nonce: String::new(),
                ciphertext: String::new(),
            },
            previous_secret: None,
            disabled_reason: None,
            failing_since: None,
            cooldown_until: None,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        }
    }

    #[test]
    fn filters_match_exact_group_and_all() {
        let mut endpoint = endpoint(&["order.*", "product.created"]);
        assert!(endpoint.subscribes_to("order.created") && endpoint.subscribes_to("order.status_changed"));
        assert!(endpoint.subscribes_to("product.created") && !endpoint.subscribes_to("product.updated"));
        assert!(!endpoint.subscribes_to("orders.created"));
        endpoint.events = vec!["*".into()];
        assert!(endpoint.subscribes_to("anything.at_all"));
        endpoint.enabled = false;
        assert!(!endpoint.subscribes_to("order.created"));
        assert_eq!(endpoint.cooldown_left(1_000), 0);
        endpoint.cooldown_until = Some(1_030);
        assert_eq!(endpoint.cooldown_left(1_000), 30);
        assert_eq!(endpoint.cooldown_left(1_030), 0);
        assert_eq!(endpoint.cooldown_left(2_000), 0);
        assert!(check_events(&["order.*".into(), "*".into(), "a.b".into()]).is_empty());
        assert_eq!(
            check_events(&["Order.Created".into(), "order".into(), "*.x".into()]).len(),
            3
        );
    }

    #[test]
    fn only_public_addresses_pass() {
        let strict = UrlPolicy::default();
        let local = UrlPolicy { allow_loopback: true };
        for refused in [
            "2002:a00:1::1",
            "64:ff9b::a00:1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "::a9fe:a9fe",
            "::10.0.0.1",
            "::ffff:0:a9fe:a9fe",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "fec0::1",
            "100::1",
            "198.18.0.1",
            "198.19.255.255",
            "3fff::1",
        ] {
            let ip: IpAddr = refused.parse().unwrap();
            assert!(!public_address(ip, strict) && !public_address(ip, local), "{refused}");
        }
        for loopback in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            let ip: IpAddr = loopback.parse().unwrap();
            assert!(!public_address(ip, strict) && public_address(ip, local), "{loopback}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"] {
            assert!(public_address(public.parse().unwrap(), strict), "{public}");
        }
    }

    #[test]
    fn urls_follow_the_mode() {
        let strict = UrlPolicy::default();
        assert!(check_url("https://example.com/hook", Mode::Live, strict).is_ok());
        assert!(check_url("http://example.com/hook", Mode::Live, strict).is_err());
        assert!(check_url("http://example.com/hook", Mode::Test, strict).is_ok());
        assert!(check_url(
            "http://127.0.0.1:9/hook",
            Mode::Live,
            UrlPolicy { allow_loopback: true }
        )
        .is_ok());
        assert!(check_url("ftp://example.com", Mode::Test, strict).is_err());
        assert!(check_url("https://user:pw@example.com", Mode::Live, strict).is_err());
        // The documented `maxLength` counts characters.
        let long = |length: usize| format!("https://example.com/{}", "é".repeat(length - 20));
        assert!(check_url(&long(2048), Mode::Live, strict).is_ok());
        assert!(check_url(&long(2049), Mode::Live, strict).is_err());
        assert_eq!(
            check_url("https://[::1]:8443/x", Mode::Live, strict).unwrap(),
            ("::1".to_owned(), 8443)
        );
    }

    #[test]
    fn retries_follow_the_schedule_with_jitter_and_retry_after() {
        let schedule = [0, 5, 300];
        assert_eq!(next_delay(&schedule, 1, None, 0.0), Some(5));
        assert_eq!(next_delay(&schedule, 2, None, 1.0), Some(360));
        assert_eq!(next_delay(&schedule, 2, None, -1.0), Some(240));
        assert_eq!(next_delay(&schedule, 1, Some(120), 0.0), Some(120));
        assert_eq!(
            next_delay(&schedule, 1, Some(999_999), 0.0),
            Some(crate::config::MAX_RETRY_DELAY_SECS - 120)
        );
        assert_eq!(next_delay(&schedule, 3, None, 0.0), None);
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The Standard Webhooks specification's own example.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signature = standard_signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(simple_signature("k", b"body").len(), 64);
    }

    fn posted(status: Option<u16>, timed_out: bool, retry_after: Option<u64>) -> Posted {
        Posted {
            attempt: Attempt {
                at: String::new(),
                status,
                error: None,
                latency_ms: 0,
                response_body: None,
            },
            timed_out,
            retry_after,
        }
    }

    #[test]
    fn the_verdict_on_an_attempt_follows_the_answer_the_schedule_and_the_endpoints_health() {
        let rules = DeliveryRules {
            schedule: vec![0, 5, 300],
            disable_after_secs: 3600,
            cooldown_secs: 60,
        };
        let healthy = endpoint(&["*"]);
        let judge_now = |endpoint: &Endpoint, made, posted: &Posted| judge(endpoint, made, posted, 10_000, &rules, 0.0);
        assert_eq!(
            judge_now(&healthy, 1, &posted(Some(204), false, None)),
            Verdict::Delivered
        );
        assert_eq!(
            judge_now(&healthy, 1, &posted(Some(410), false, None)),
            Verdict::Disable("the endpoint answered 410 Gone")
        );
        assert_eq!(
            judge_now(&healthy, 1, &posted(Some(500), false, None)),
            Verdict::RetryIn(5)
        );
        assert_eq!(
            judge_now(&healthy, 2, &posted(None, false, None)),
            Verdict::RetryIn(300)
        );
        assert_eq!(
            judge_now(&healthy, 3, &posted(Some(500), false, None)),
            Verdict::DeadLetter
        );
        // Retry-After is honoured when it asks for more; a timeout waits for the cooldown at least.
        assert_eq!(
            judge_now(&healthy, 1, &posted(Some(429), false, Some(90))),
            Verdict::RetryIn(90)
        );
        assert_eq!(judge_now(&healthy, 1, &posted(None, true, None)), Verdict::RetryIn(60));
        assert_eq!(
            judge_now(&healthy, 1, &posted(None, true, Some(120))),
            Verdict::RetryIn(120)
        );
        // Failing for longer than allowed disables; a success still counts even then.
        let mut failing = endpoint(&["*"]);
        failing.failing_since = Some(10_000 - 3601);
        assert_eq!(
            judge_now(&failing, 1, &posted(Some(500), false, None)),
            Verdict::Disable("every delivery failed for too long")
        );
        assert_eq!(
            judge_now(&failing, 1, &posted(Some(200), false, None)),
            Verdict::Delivered
        );
        failing.failing_since = Some(10_000 - 3600);
        assert_eq!(
            judge_now(&failing, 1, &posted(Some(500), false, None)),
            Verdict::RetryIn(5)
        );
        // Cooling down: not sent, retried when the cooldown ends.
        let cooling = Posted::cooling_down("t", 10_000, 10_045);
        assert_eq!(cooling.attempt.status, None);
        assert_eq!(judge_now(&healthy, 1, &cooling), Verdict::RetryIn(45));
    }
}
