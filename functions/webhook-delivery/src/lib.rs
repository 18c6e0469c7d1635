//! `functions/webhook-delivery`: one signed POST per delivery job, all jobs of a batch at once.
//!
//! 2xx is delivered. Anything else is a failed attempt: the job's message is hidden until the next step of the
//! retry schedule (SQS `ChangeMessageVisibility`, reported in the partial-batch response), and after the last step
//! the delivery is marked failed and the job goes to the dead-letter queue. `410 Gone` disables the endpoint at
//! once; an endpoint failing for longer than the configured time is disabled too.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use cartwheel::config::WebhookQueue;
use cartwheel::deliveries::{self, JobMessage, Settler};
use cartwheel::http::AppState;
use cartwheel::model::webhooks::{DeliveryRules, Posted, Verdict};
use cartwheel::queue::Queue;
use cartwheel::webhooks::{self, Attempt, Delivery, DeliveryJob, Endpoint, MasterKeys, UrlPolicy};
use cartwheel::{time, ApiError};
use futures_util::future::join_all;
use lambda_runtime::LambdaEvent;
use rand::Rng;

/// How much of a response body is kept in the attempt log.
const KEPT_BODY: usize = 2048;

pub struct Deliverer {
    /// Records each attempt and carries out its verdict.
    settler: Settler,
    /// One client for every delivery, so a busy endpoint's connection is reused (no new TCP and TLS handshake per
    /// attempt) and nothing is built per request.
    http: reqwest::Client,
    keys: MasterKeys,
    policy: UrlPolicy,
    /// Per-request timeout: an endpoint that hangs is cut here and counted as a failed attempt.
    timeout: Duration,
}

/// What became of one job.
enum Outcome {
    /// Done with: delivered, failed for good, or nothing to do.
    Done,
    /// Hidden until its next attempt.
    Later,
}

impl Deliverer {
    pub fn new(state: &AppState, sdk: &aws_config::SdkConfig, keys: MasterKeys) -> Result<Self, &'static str> {
        let config = &state.config;
        let deliveries = config.queue_url(WebhookQueue::Deliveries)?;
        let dead_letters = config.queue_url(WebhookQueue::DeadLetters)?;
        let policy = UrlPolicy {
            allow_loopback: config.webhook_allow_loopback,
        };
        let timeout = Duration::from_secs(config.webhook_timeout_secs);
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(PublicOnly(policy)))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent("Cartwheel-Webhooks/1")
            .build()
            .map_err(|_| "the webhook HTTP client could not be built")?;
        Ok(Self {
            settler: Settler {
                db: state.db.clone(),
                deliveries: Queue::new(sdk, deliveries),
                dead_letters: Queue::new(sdk, dead_letters),
                rules: DeliveryRules {
                    schedule: config.webhook_retry_schedule.clone(),
                    disable_after_secs: config.webhook_disable_after_secs,
                    cooldown_secs: i64::from(config.webhook_cooldown_secs),
                },
            },
            http,
            keys,
            policy,
            timeout,
        })
    }

    /// Attempts every job of the batch concurrently, so one slow endpoint delays no other.
    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        let outcomes = join_all(event.payload.records.iter().map(|message| self.attempt(message))).await;
        let mut response = SqsBatchResponse::default();
        for (message, outcome) in event.payload.records.iter().zip(outcomes) {
            let retry = match outcome {
                Ok(Outcome::Done) => false,
                Ok(Outcome::Later) => true,
                Err(error) => {
                    // Our own trouble (DynamoDB, SQS): SQS offers the job again after its visibility timeout.
                    tracing::error!(?error, "delivery job failed");
                    true
                }
            };
            if retry {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message.message_id.clone().unwrap_or_default();
                response.batch_item_failures.push(failure);
            }
        }
        Ok(response)
    }

    async fn attempt(&self, message: &SqsMessage) -> Result<Outcome, ApiError> {
        let body = message.body.as_deref().unwrap_or_default();
        let Ok(job) = serde_json::from_str::<DeliveryJob>(body) else {
            tracing::error!("unreadable delivery job dropped");
            return Ok(Outcome::Done);
        };
        let Some((delivery, endpoint)) = deliveries::pending(&self.settler.db, &job).await? else {
            return Ok(Outcome::Done);
        };
        let now = time::now().unix_timestamp();
        // The next attempt never comes before the endpoint's cooldown ends: it would only be another "not sent".
        let posted = match endpoint.cooldown_left(now) {
            0 => self.post(&endpoint, &delivery, job.mode).await,
            left => Posted::cooling_down(&time::now_rfc3339(), now, now + i64::from(left)),
        };
        let message = JobMessage {
            body,
            receipt: message.receipt_handle.as_deref(),
        };
        let jitter = rand::rng().random_range(-1.0..=1.0);
        let pair = (&delivery, &endpoint);
        let verdict = self.settler.settle(&job, &message, pair, posted, jitter).await?;
        Ok(match verdict {
            Some(Verdict::RetryIn(_)) => Outcome::Later,
            Some(Verdict::Delivered | Verdict::Disable(_) | Verdict::DeadLetter) | None => Outcome::Done,
        })
    }

    /// One signed POST. Returns the attempt (and whether it timed out, from the error's kind) and the receiver's
    /// `Retry-After` (seconds), if any.
    async fn post(&self, endpoint: &Endpoint, delivery: &Delivery, mode: cartwheel::Mode) -> Posted {
        let started = Instant::now();
        let at = time::rfc3339(time::now());
        let failed = |error: String, timed_out: bool| Posted {
            attempt: Attempt {
                at: at.clone(),
                status: None,
                error: Some(error),
                latency_ms: started.elapsed().as_millis() as u64,
                response_body: None,
            },
            timed_out,
            retry_after: None,
        };
        // Checked again now: the name may resolve elsewhere than when the endpoint was saved (and the client's
        // resolver checks once more whenever it opens a connection).
        if let Err(error) = webhooks::resolve_allowed(&endpoint.url, mode, self.policy).await {
            return failed(format!("address refused: {error}"), false);
        }
        let secrets = match webhooks::signing_secrets(&self.keys, endpoint, time::now().unix_timestamp()) {
            Ok(secrets) => secrets,
            Err(error) => return failed(format!("signing failed: {error}"), false),
        };
        let response = match signed_request(&self.http, endpoint, delivery, &secrets).send().await {
            Ok(response) => response,
            Err(error) if error.is_timeout() => {
                return failed(format!("timed out after {} s", self.timeout.as_secs()), true)
            }
            Err(error) if error.is_connect() => return failed("connection failed".into(), false),
            Err(error) => return failed(format!("request failed: {error}"), false),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|_| status == 429 || status == 503);
        let response_body = read_prefix(response).await;
        Posted {
            attempt: Attempt {
                at,
                status: Some(status),
                error: None,
                latency_ms: started.elapsed().as_millis() as u64,
                response_body,
            },
            timed_out: false,
            retry_after,
        }
    }
}

/// The POST, signed by every current secret.
fn signed_request(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    delivery: &Delivery,
    secrets: &[String],
) -> reqwest::RequestBuilder {
    let id = delivery.id.to_string();
    let timestamp = time::now().unix_timestamp();
    let body = delivery.payload.as_bytes();
    let signatures: Vec<String> = secrets
        .iter()
        .map(|s| webhooks::standard_signature(s, &id, timestamp, body))
        .collect();
    http.post(&endpoint.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signatures.join(" "))
        .header(
            "x-cartwheel-signature",
            secrets
                .iter()
                .map(|s| webhooks::simple_signature(s, body))
                .collect::<Vec<_>>()
                .join(" "),
        )
        .header("x-cartwheel-event", &delivery.event_type)
        .body(delivery.payload.clone())
}

/// Resolves endpoint hosts for the shared client and refuses a name with any private, loopback or reserved
/// address, as when the endpoint was saved. It runs whenever the client opens a connection, so a name that
/// resolves elsewhere between the check before an attempt and the connection (DNS rebinding) is still refused.
struct PublicOnly(UrlPolicy);

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            // The attempt's error reaches the tenant's delivery log: say that, not where the name points.
            if addresses.iter().any(|a| !webhooks::public_address(a.ip(), policy)) {
                return Err("the host is not allowed: it must resolve to public addresses only".into());
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The first [`KEPT_BODY`] bytes of the response, as text.
async fn read_prefix(mut response: reqwest::Response) -> Option<String> {
    let mut kept = Vec::new();
    while kept.len() < KEPT_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk[..chunk.len().min(KEPT_BODY - kept.len())]),
            _ => break,
        }
    }
    (!kept.is_empty()).then(|| String::from_utf8_lossy(&kept).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_client_resolver_refuses_loopback_names_unless_the_stack_allows_them() {
        use reqwest::dns::Resolve;
        let name = || "localhost".parse::<reqwest::dns::Name>().unwrap();
        let strict = PublicOnly(UrlPolicy { allow_loopback: false });
        let refused = strict.resolve(name()).await.err().unwrap().to_string();
        assert!(refused.contains("not allowed"), "{refused}");
        let local = PublicOnly(UrlPolicy { allow_loopback: true });
        let addresses: Vec<SocketAddr> = local.resolve(name()).await.unwrap().collect();
        assert!(!addresses.is_empty() && addresses.iter().all(|a| a.ip().is_loopback()));
    }
}
