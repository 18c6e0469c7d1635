//! Configuration, read once per process from environment variables (the SAM template sets the same names).
//! AWS endpoints are not ours to configure: the SDK reads `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`.

use std::collections::BTreeMap;
use std::env;

use crate::payment_signature::PaymentsSecret;

/// Requests per minute per store and mode (all its keys together) when the store's plan has no limit of its own.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 1_000;

#[derive(Clone, Debug)]
pub struct Config {
    pub stage: String,
    pub table: String,
    pub event_bus: String,
    pub webhook_events_queue_url: Option<String>,
    pub webhook_deliveries_queue_url: Option<String>,
    /// Where a delivery job goes after its last failed attempt.
    pub webhook_dead_letter_queue_url: Option<String>,
    /// An endpoint whose deliveries all fail for this long is disabled.
    pub webhook_disable_after_secs: i64,
    /// Per-request timeout of a delivery (`CARTWHEEL_WEBHOOK_TIMEOUT_SECS`, default 15).
    pub webhook_timeout_secs: u64,
    /// How long an endpoint whose attempt timed out is not called (`CARTWHEEL_WEBHOOK_COOLDOWN_SECS`, default 30).
    pub webhook_cooldown_secs: u32,
    /// Secrets Manager id (name or ARN) of the platform admin key.
    pub platform_key_secret: String,
    pub rate_limits: RateLimits,
    /// Secrets Manager id of the master key(s) that seal webhook signing secrets.
    pub webhook_master_key_secret: String,
    /// `CARTWHEEL_WEBHOOK_ALLOW_LOOPBACK=1` (local stack only): endpoints may be loopback and plain http.
    pub webhook_allow_loopback: bool,
    /// Delays before each delivery attempt; the first is normally 0.
    pub webhook_retry_schedule: Vec<u64>,
    /// Secrets Manager id of the secret shared with the payment provider.
    pub payments_webhook_secret_id: String,
    /// `CARTWHEEL_PAYMENTS_WEBHOOK_SECRET` (local stack only): the secret itself, instead of Secrets Manager.
    pub payments_webhook_secret: Option<PaymentsSecret>,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

/// A whole number of seconds from `name`, within `range`; `default` when unset.
fn seconds_in(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    range: std::ops::RangeInclusive<u32>,
    default: u32,
) -> Result<u32, ConfigError> {
    match lookup(name) {
        Some(seconds) => seconds
            .parse()
            .ok()
            .filter(|s| range.contains(s))
            .ok_or_else(|| ConfigError(format!("{name} is not {} to {}", range.start(), range.end()))),
        None => Ok(default),
    }
}

/// The queues of the webhook pipeline.
#[derive(Clone, Copy, Debug)]
pub enum WebhookQueue {
    Events,
    Deliveries,
    DeadLetters,
}

impl Config {
    /// How long a pending delivery can go untouched while its next attempt is still to come (the longest retry
    /// step, one attempt, a minute of slack): past that, its job was lost and `recover` queues another.
    pub fn webhook_stall_after_secs(&self) -> i64 {
        let longest = self.webhook_retry_schedule.iter().max().copied().unwrap_or(0);
        i64::try_from(longest + self.webhook_timeout_secs + 60).unwrap_or(i64::MAX)
    }

    /// A queue a webhook worker cannot run without: its URL, or which variable must name it.
    pub fn queue_url(&self, queue: WebhookQueue) -> Result<&str, &'static str> {
        let (url, unset) = match queue {
            WebhookQueue::Events => (
                &self.webhook_events_queue_url,
                "CARTWHEEL_WEBHOOK_EVENTS_QUEUE_URL is not set",
            ),
            WebhookQueue::Deliveries => (
                &self.webhook_deliveries_queue_url,
                "CARTWHEEL_WEBHOOK_DELIVERIES_QUEUE_URL is not set",
            ),
            WebhookQueue::DeadLetters => (
                &self.webhook_dead_letter_queue_url,
                "CARTWHEEL_WEBHOOK_DLQ_URL is not set",
            ),
        };
        url.as_deref().ok_or(unset)
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests can build one without touching the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let stage = lookup("CARTWHEEL_STAGE").unwrap_or_else(|| "dev".to_owned());
        let rate_limits = match lookup("CARTWHEEL_RATE_LIMITS") {
            Some(spec) => RateLimits::parse(&spec)?,
            None => RateLimits::default(),
        };
        Ok(Self {
            table: lookup("CARTWHEEL_TABLE").unwrap_or_else(|| format!("cartwheel-{stage}")),
            event_bus: lookup("CARTWHEEL_EVENT_BUS").unwrap_or_else(|| format!("cartwheel-{stage}")),
            webhook_events_queue_url: lookup("CARTWHEEL_WEBHOOK_EVENTS_QUEUE_URL"),
            webhook_deliveries_queue_url: lookup("CARTWHEEL_WEBHOOK_DELIVERIES_QUEUE_URL"),
            webhook_dead_letter_queue_url: lookup("CARTWHEEL_WEBHOOK_DLQ_URL"),
            webhook_timeout_secs: seconds_in(&lookup, "CARTWHEEL_WEBHOOK_TIMEOUT_SECS", 1..=60, 15)?.into(),
            webhook_cooldown_secs: seconds_in(&lookup, "CARTWHEEL_WEBHOOK_COOLDOWN_SECS", 1..=900, 30)?,
            webhook_disable_after_secs: match lookup("CARTWHEEL_WEBHOOK_DISABLE_AFTER_HOURS") {
                Some(hours) => hours
                    .parse::<i64>()
                    .map(|h| h * 3600)
                    .map_err(|_| ConfigError("CARTWHEEL_WEBHOOK_DISABLE_AFTER_HOURS is not a number".into()))?,
                None => 5 * 24 * 3600,
            },
            platform_key_secret: lookup("CARTWHEEL_PLATFORM_KEY_SECRET")
                .unwrap_or_else(|| format!("cartwheel/{stage}/platform-key")),
            webhook_master_key_secret: lookup("CARTWHEEL_WEBHOOK_MASTER_KEY_SECRET")
                .unwrap_or_else(|| format!("cartwheel/{stage}/webhook-master-key")),
            webhook_allow_loopback: lookup("CARTWHEEL_WEBHOOK_ALLOW_LOOPBACK").is_some_and(|v| v == "1"),
            webhook_retry_schedule: parse_schedule(
                &lookup("CARTWHEEL_WEBHOOK_RETRY_SCHEDULE").unwrap_or_else(|| DEFAULT_RETRY_SCHEDULE.to_owned()),
            )?,
            payments_webhook_secret_id: lookup("CARTWHEEL_PAYMENTS_WEBHOOK_SECRET_ID")
                .unwrap_or_else(|| format!("cartwheel/{stage}/payments-webhook")),
            payments_webhook_secret: lookup("CARTWHEEL_PAYMENTS_WEBHOOK_SECRET").and_then(|s| PaymentsSecret::new(&s)),
            rate_limits,
            stage,
        })
    }
}

/// Attempts at about 0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h: a little over a day in all.
pub const DEFAULT_RETRY_SCHEDULE: &str = "0s,5s,5m,30m,2h,5h,10h,10h";
/// One SQS visibility extension can be at most just under 12 h (counted from the current receive).
pub const MAX_RETRY_DELAY_SECS: u64 = 12 * 3600 - 1;

/// `0s,5s,5m,2h` → seconds.
pub fn parse_schedule(spec: &str) -> Result<Vec<u64>, ConfigError> {
    let delays = spec
        .split(',')
        .map(str::trim)
        .map(|step| {
            let split = step.find(|c: char| !c.is_ascii_digit()).unwrap_or(step.len());
            let (number, unit) = step.split_at(split);
            let number: u64 = number
                .parse()
                .map_err(|_| ConfigError(format!("retry step `{step}` has no number")))?;
            let seconds = match unit {
                "s" | "" => number,
                "m" => number * 60,
                "h" => number * 3600,
                _ => return Err(ConfigError(format!("retry step `{step}`: use s, m or h"))),
            };
            if seconds > MAX_RETRY_DELAY_SECS {
                return Err(ConfigError(format!(
                    "retry step `{step}` exceeds SQS's 12 h visibility limit"
                )));
            }
            Ok(seconds)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if delays.is_empty() {
        return Err(ConfigError("the retry schedule is empty".into()));
    }
    Ok(delays)
}

/// Requests per minute per store and mode (all its keys together), by store plan: `CARTWHEEL_RATE_LIMITS="default=1000,pro=5000"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    default: u32,
    by_plan: BTreeMap<String, u32>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            default: DEFAULT_RATE_LIMIT_PER_MINUTE,
            by_plan: BTreeMap::new(),
        }
    }
}

impl RateLimits {
    pub fn parse(spec: &str) -> Result<Self, ConfigError> {
        let mut limits = Self::default();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (plan, limit) = entry
                .split_once('=')
                .ok_or_else(|| ConfigError(format!("CARTWHEEL_RATE_LIMITS entry `{entry}` is not plan=limit")))?;
            let limit: u32 = limit.trim().parse().ok().filter(|l| *l > 0).ok_or_else(|| {
                ConfigError(format!(
                    "CARTWHEEL_RATE_LIMITS limit for `{plan}` is not a positive integer"
                ))
            })?;
            match plan.trim() {
                "default" => limits.default = limit,
                plan => {
                    limits.by_plan.insert(plan.to_owned(), limit);
                }
            }
        }
        Ok(limits)
    }

    pub fn per_minute(&self, plan: &str) -> u32 {
        self.by_plan.get(plan).copied().unwrap_or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_default_from_the_stage() {
        let config = Config::from_lookup(|name| (name == "CARTWHEEL_STAGE").then(|| "prod".to_owned())).unwrap();
        assert_eq!(config.table, "cartwheel-prod");
        assert_eq!(config.event_bus, "cartwheel-prod");
        assert_eq!(config.platform_key_secret, "cartwheel/prod/platform-key");
        assert_eq!(config.rate_limits.per_minute("anything"), DEFAULT_RATE_LIMIT_PER_MINUTE);
    }

    #[test]
    fn rate_limits_by_plan() {
        let limits = RateLimits::parse("default=50, pro=5000").unwrap();
        assert_eq!(limits.per_minute("pro"), 5000);
        assert_eq!(limits.per_minute("free"), 50);
    }

    #[test]
    fn retry_schedules_parse_within_the_sqs_limit() {
        assert_eq!(
            parse_schedule(DEFAULT_RETRY_SCHEDULE).unwrap(),
            [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
        );
        assert_eq!(parse_schedule("0s, 1s,2").unwrap(), [0, 1, 2]);
        assert!(parse_schedule("12h").is_err());
        assert!(parse_schedule("5d").is_err());
        assert!(parse_schedule("soon").is_err());
    }

    #[test]
    fn a_delivery_stalls_only_after_its_longest_wait() {
        let config = Config::from_lookup(|name| match name {
            "CARTWHEEL_WEBHOOK_RETRY_SCHEDULE" => Some("0s,30s,2s".to_owned()),
            "CARTWHEEL_WEBHOOK_TIMEOUT_SECS" => Some("5".to_owned()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.webhook_stall_after_secs(), 30 + 5 + 60);
        let default = Config::from_lookup(|_| None).unwrap();
        assert_eq!(default.webhook_stall_after_secs(), 36_000 + 15 + 60);
    }

    #[test]
    fn bad_rate_limits_are_refused() {
        assert!(RateLimits::parse("pro").is_err());
        assert!(RateLimits::parse("pro=0").is_err());
        assert!(RateLimits::parse("pro=many").is_err());
    }
}
