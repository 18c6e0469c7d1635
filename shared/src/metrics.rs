//! Business metrics in CloudWatch embedded metric format: one JSON line on stdout per count, which CloudWatch Logs
//! turns into a metric without an API call (no `PutMetricData` latency or cost on the request path). The names,
//! the namespace and the one dimension are what template.yaml's alarms read (docs/operations.md); a test holds
//! them together.

use serde_json::json;

pub const NAMESPACE: &str = "Cartwheel";
pub const DIMENSION: &str = "Function";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// An order placed by checkout.
    OrdersPlaced,
    /// A webhook attempt answered 2xx.
    DeliveriesSent,
    /// A webhook attempt made that failed (jobs skipped without a request do not count).
    DeliveriesFailed,
    /// A failed attempt after which another is scheduled (a subset of `DeliveriesFailed`).
    DeliveryRetries,
}

impl Metric {
    pub const ALL: [Metric; 4] = [
        Self::OrdersPlaced,
        Self::DeliveriesSent,
        Self::DeliveriesFailed,
        Self::DeliveryRetries,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::OrdersPlaced => "OrdersPlaced",
            Self::DeliveriesSent => "DeliveriesSent",
            Self::DeliveriesFailed => "DeliveriesFailed",
            Self::DeliveryRetries => "DeliveryRetries",
        }
    }

    /// The function that counts it: the value of the `Function` dimension.
    pub fn function(self) -> &'static str {
        match self {
            Self::OrdersPlaced => "checkout",
            Self::DeliveriesSent | Self::DeliveriesFailed | Self::DeliveryRetries => "webhook-delivery",
        }
    }
}

/// The embedded-metric-format line that counts `count` of `metric` at `timestamp_ms`.
pub fn emf_line(metric: Metric, count: u64, timestamp_ms: i128) -> String {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[DIMENSION]],
                "Metrics": [{"Name": metric.name(), "Unit": "Count"}],
            }],
        },
        DIMENSION: metric.function(),
        metric.name(): count,
    })
    .to_string()
}

/// Counts `count` of `metric`: a line on stdout inside Lambda (whose log group CloudWatch reads), nothing locally,
/// where no one collects it and the gateway's output is for people.
pub fn count(metric: Metric, count: u64) {
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        let now = crate::time::now().unix_timestamp_nanos() / 1_000_000;
        println!("{}", emf_line(metric, count, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_is_one_line_cloudwatch_reads_as_a_metric() {
        let line = emf_line(Metric::DeliveriesFailed, 2, 1_764_000_000_000);
        assert!(!line.contains('\n'));
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        let directive = &parsed["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Cartwheel");
        assert_eq!(directive["Dimensions"], json!([["Function"]]));
        assert_eq!(directive["Metrics"][0]["Name"], "DeliveriesFailed");
        assert_eq!(parsed["_aws"]["Timestamp"], 1_764_000_000_000_i64);
        // Every dimension and metric the directive names is a member of the root, with its value.
        assert_eq!(parsed["Function"], "webhook-delivery");
        assert_eq!(parsed["DeliveriesFailed"], 2);
    }
}
