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
use cartwheel::http::AppState;
use cartwheel::queue::{Outgoing, Queue};
use cartwheel::webhooks::{self, Attempt, Delivery, DeliveryJob, DeliveryStatus, Endpoint, MasterKeys, UrlPolicy};
use cartwheel::{time, ApiError, Db};
use futures_util::future::join_all;
use lambda_runtime::LambdaEvent;
use rand::Rng;

/// How much of a response body is kept in the attempt log.
const KEPT_BODY: usize = 2048;

pub struct Deliverer {
    db: Db,
    /// One client for every delivery, so a busy endpoint's connection is reused (no new TCP and TLS handshake per
    /// attempt) and nothing is built per request.
    http: reqwest::Client,
    deliveries: Queue,
    dead_letters: Queue,
    keys: MasterKeys,
    policy: UrlPolicy,
    schedule: Vec<u64>,
    disable_after_secs: i64,
    /// Per-request timeout: an endpoint that hangs is cut here and counted as a failed attempt.
    timeout: Duration,
    /// How long an endpoint whose attempt timed out is left alone: the fanout holds its new jobs back until then,
    /// and jobs already queued fail at once as "not sent" attempts, retried on the schedule.
    cooldown_secs: i64,
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
        let deliveries = config
            .webhook_deliveries_queue_url
            .as_deref()
            .ok_or("CARTWHEEL_WEBHOOK_DELIVERIES_QUEUE_URL is not set")?;
        let dead_letters = config
            .webhook_dead_letter_queue_url
            .as_deref()
            .ok_or("CARTWHEEL_WEBHOOK_DLQ_URL is not set")?;
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
            db: state.db.clone(),
            http,
            deliveries: Queue::new(sdk, deliveries),
            dead_letters: Queue::new(sdk, dead_letters),
            keys,
            policy,
            schedule: config.webhook_retry_schedule.clone(),
            disable_after_secs: config.webhook_disable_after_secs,
            timeout,
            cooldown_secs: i64::from(config.webhook_cooldown_secs),
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
        let key = (job.store_id, job.mode, job.endpoint_id, job.event_id);
        // Both reads at once: a job is nearly always pending, so the endpoint is nearly always needed.
        let (delivery, endpoint) = tokio::try_join!(
            self.db
                .get_delivery(job.store_id, job.mode, job.endpoint_id, job.event_id),
            self.db.get_endpoint(job.store_id, job.mode, job.endpoint_id),
        )?;
        let Some(delivery) = delivery.filter(|d| d.status == DeliveryStatus::Pending) else {
            return Ok(Outcome::Done);
        };
        let now_text = time::rfc3339(time::now());
        let endpoint = match endpoint {
            Some(endpoint) if endpoint.enabled => endpoint,
            _ => {
                self.db
                    .record_attempt(key, None, DeliveryStatus::Failed, &now_text)
                    .await?;
                return Ok(Outcome::Done);
            }
        };
        let now = time::now().unix_timestamp();
        // The next attempt never comes before the endpoint's cooldown ends: it would only be another "not sent".
        let (attempt, retry_after) = match endpoint.cooldown_left(now) {
            0 => {
                let (attempt, retry_after) = self.post(&endpoint, &delivery, job.mode).await;
                if attempt.timed_out {
                    self.db
                        .cool_down_endpoint(job.store_id, job.mode, endpoint.id, now + self.cooldown_secs)
                        .await?;
                    let cooldown = self.cooldown_secs.unsigned_abs();
                    (
                        attempt.attempt,
                        Some(retry_after.map_or(cooldown, |asked| asked.max(cooldown))),
                    )
                } else {
                    (attempt.attempt, retry_after)
                }
            }
            left => (cooling_down(&now_text, now + i64::from(left)), Some(u64::from(left))),
        };
        let answered = attempt.status;
        if answered.is_some_and(|s| (200..300).contains(&s)) {
            self.db
                .record_attempt(key, Some(&attempt), DeliveryStatus::Succeeded, &now_text)
                .await?;
            if endpoint.failing_since.is_some() {
                self.db
                    .set_endpoint_failing(job.store_id, job.mode, endpoint.id, None)
                    .await?;
            }
            return Ok(Outcome::Done);
        }
        let gone = answered == Some(410);
        let failing_too_long = endpoint
            .failing_since
            .is_some_and(|since| now - since > self.disable_after_secs);
        if gone || failing_too_long {
            self.db
                .record_attempt(key, Some(&attempt), DeliveryStatus::Failed, &now_text)
                .await?;
            let reason = if gone {
                "the endpoint answered 410 Gone"
            } else {
                "every delivery failed for too long"
            };
            let (after, event) = webhooks::disabled(&endpoint, job.store_id, job.mode, reason)?;
            self.db
                .disable_endpoint(job.store_id, job.mode, endpoint.version, &after, event)
                .await?;
            return Ok(Outcome::Done);
        }
        if endpoint.failing_since.is_none() {
            self.db
                .set_endpoint_failing(job.store_id, job.mode, endpoint.id, Some(now))
                .await?;
        }
        let jitter = rand::rng().random_range(-1.0..=1.0);
        match webhooks::next_delay(&self.schedule, delivery.attempts.len() + 1, retry_after, jitter) {
            Some(delay) => {
                self.db
                    .record_attempt(key, Some(&attempt), DeliveryStatus::Pending, &now_text)
                    .await?;
                if let Some(receipt) = &message.receipt_handle {
                    self.deliveries.delay(receipt, delay).await?;
                }
                Ok(Outcome::Later)
            }
            None => {
                self.db
                    .record_attempt(key, Some(&attempt), DeliveryStatus::Failed, &now_text)
                    .await?;
                self.dead_letters.send_all(&[Outgoing::now(body.to_owned())]).await?;
                Ok(Outcome::Done)
            }
        }
    }

    /// One signed POST. Returns the attempt (and whether it timed out, from the error's kind) and the receiver's
    /// `Retry-After` (seconds), if any.
    async fn post(&self, endpoint: &Endpoint, delivery: &Delivery, mode: cartwheel::Mode) -> (Posted, Option<u64>) {
        let started = Instant::now();
        let at = time::rfc3339(time::now());
        let failed = |error: String| Posted {
            attempt: Attempt {
                at: at.clone(),
                status: None,
                error: Some(error),
                latency_ms: 0,
                response_body: None,
            },
            timed_out: false,
        };
        // Checked again now: the name may resolve elsewhere than when the endpoint was saved (and the client's
        // resolver checks once more whenever it opens a connection).
        if let Err(error) = webhooks::resolve_allowed(&endpoint.url, mode, self.policy).await {
            return (failed(format!("address refused: {error}")), None);
        }
        let secrets = match webhooks::signing_secrets(&self.keys, endpoint, time::now().unix_timestamp()) {
            Ok(secrets) => secrets,
            Err(error) => return (failed(format!("signing failed: {error}")), None),
        };
        let request = signed_request(&self.http, endpoint, delivery, &secrets);
        let mut posted = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .filter(|_| status == 429 || status == 503);
                let body = read_prefix(response).await;
                let attempt = Attempt {
                    at: at.clone(),
                    status: Some(status),
                    error: None,
                    latency_ms: 0,
                    response_body: body,
                };
                let attempt = with_latency(attempt, started);
                return (
                    Posted {
                        attempt,
                        timed_out: false,
                    },
                    retry_after,
                );
            }
            Err(error) if error.is_timeout() => Posted {
                timed_out: true,
                ..failed(format!("timed out after {} s", self.timeout.as_secs()))
            },
            Err(error) if error.is_connect() => failed("connection failed".into()),
            Err(error) => failed(format!("request failed: {error}")),
        };
        posted.attempt.latency_ms = started.elapsed().as_millis() as u64;
        (posted, None)
    }
}

/// An attempt and whether it ran into the timeout.
struct Posted {
    attempt: Attempt,
    timed_out: bool,
}

/// The attempt recorded while an endpoint cools down: not sent, counted as a failure, retried on the schedule.
fn cooling_down(at: &str, until: i64) -> Attempt {
    Attempt {
        at: at.to_owned(),
        status: None,
        error: Some(format!(
            "not sent: the endpoint's last attempt timed out; it is not called until {}",
            time::rfc3339_of_unix(until)
        )),
        latency_ms: 0,
        response_body: None,
    }
}

fn with_latency(mut attempt: Attempt, started: Instant) -> Attempt {
    attempt.latency_ms = started.elapsed().as_millis() as u64;
    attempt
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
