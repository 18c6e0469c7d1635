//! Configuration, read once per process from environment variables (the SAM template sets the same names).
//! AWS endpoints are not ours to configure: the SDK reads `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`.

use std::collections::BTreeMap;
use std::env;

/// Requests per minute per API key when the store's plan has no limit of its own.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 1_000;

#[derive(Clone, Debug)]
pub struct Config {
    pub stage: String,
    pub table: String,
    pub event_bus: String,
    pub webhook_events_queue_url: Option<String>,
    pub webhook_deliveries_queue_url: Option<String>,
    /// Secrets Manager id (name or ARN) of the platform admin key.
    pub platform_key_secret: String,
    pub rate_limits: RateLimits,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
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
            platform_key_secret: lookup("CARTWHEEL_PLATFORM_KEY_SECRET")
                .unwrap_or_else(|| format!("cartwheel/{stage}/platform-key")),
            rate_limits,
            stage,
        })
    }
}

/// Requests per minute per API key, by store plan: `CARTWHEEL_RATE_LIMITS="default=1000,pro=5000"`.
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
    fn bad_rate_limits_are_refused() {
        assert!(RateLimits::parse("pro").is_err());
        assert!(RateLimits::parse("pro=0").is_err());
        assert!(RateLimits::parse("pro=many").is_err());
    }
}
