//! `spawn_app()`: a gateway of its own for each test, on a free 127.0.0.1 port, over the local stack that
//! `make test` started (infra/with-stack.sh). Each test works in stores of its own, so tests run in parallel.

pub mod calls;

use axum::serve::ListenerExt as _;
use std::sync::Arc;

use cartwheel::http::AppState;
use cartwheel::{Config, Db};
use serde_json::{json, Value};

/// The platform key of the test stack. Not a secret: it exists only in the throwaway local stack.
pub const PLATFORM_KEY: &str = "cwp_integration_tests_only_0000000000000000";

pub struct TestApp {
    pub url: String,
    pub http: reqwest::Client,
    pub state: AppState,
    pub sdk: aws_config::SdkConfig,
    /// The stack's queues by logical id (`WebhookEventsQueue`, …).
    pub queues: cartwheel_gateway::resources::QueueUrls,
    /// The webhook master keys the functions loaded.
    pub keys: Option<cartwheel::webhooks::MasterKeys>,
    /// The payment provider's secret the orders function loaded (from moto's Secrets Manager).
    pub payments: Option<cartwheel::payments::PaymentsSecret>,
    /// Every DynamoDB call the app's functions made (apps made by [`spawn_app_with`]).
    pub calls: calls::CallLog,
}

/// A store created through the platform route, with its first keys.
pub struct TestStore {
    pub id: String,
    pub live_key: String,
    pub test_key: String,
    pub live_key_id: String,
    pub test_key_id: String,
}

#[derive(Default)]
pub struct Options {
    /// `CARTWHEEL_RATE_LIMITS` for this app.
    pub rate_limits: Option<&'static str>,
    /// A table, bus, rule and queues of this test's own, for tests that follow events through the pipeline
    /// (the shared table's stream carries every test's events).
    pub own_stage: bool,
    /// `CARTWHEEL_WEBHOOK_ALLOW_LOOPBACK=1`, for tests with a local webhook receiver.
    pub allow_loopback: bool,
    /// `CARTWHEEL_WEBHOOK_RETRY_SCHEDULE`.
    pub retry_schedule: Option<&'static str>,
    /// Further configuration variables for this app.
    pub env: &'static [(&'static str, &'static str)],
    /// Reuse the authorizer's answer per key this long, as API Gateway does on AWS (none by default).
    pub authorizer_cache_ttl: std::time::Duration,
}

/// Refuses to run anywhere but against the local stack: no test may reach AWS.
fn local_only() {
    for name in ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"] {
        let value = std::env::var(name).unwrap_or_default();
        assert!(
            value.starts_with("http://127.0.0.1:"),
            "{name} is `{value}`: run the tests through `make test` (infra/with-stack.sh), never against AWS"
        );
    }
}

pub async fn sdk() -> aws_config::SdkConfig {
    local_only();
    cartwheel::aws::sdk_config().await
}

pub fn config(options: &Options) -> Config {
    let rate_limits = options.rate_limits;
    let (allow_loopback, schedule, env) = (options.allow_loopback, options.retry_schedule, options.env);
    let stage = match options.own_stage {
        true => format!("it-{}", cartwheel::ids::EventId::new().to_string()[4..].to_lowercase()),
        false => "it".to_owned(),
    };
    Config::from_lookup(|name| match name {
        "CARTWHEEL_STAGE" => Some(stage.clone()),
        "CARTWHEEL_RATE_LIMITS" => rate_limits.map(str::to_owned),
        "CARTWHEEL_WEBHOOK_ALLOW_LOOPBACK" => allow_loopback.then(|| "1".to_owned()),
        "CARTWHEEL_WEBHOOK_RETRY_SCHEDULE" => schedule.map(str::to_owned),
        other => match env.iter().find(|(name, _)| *name == other) {
            Some((_, value)) => Some((*value).to_owned()),
            None => std::env::var(other).ok(),
        },
    })
    .expect("test configuration")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    // Logs are shown for failing tests only.
    cartwheel::http::init_tracing();
    let sdk = sdk().await;
    let mut config = config(&options);
    let calls = calls::CallLog::default();
    let db = Db::from_client(calls.client(&sdk), &config.table);
    let queues = cartwheel_gateway::resources::ensure(&mut config, &sdk, &db, PLATFORM_KEY)
        .await
        .expect("local resources");
    let state = AppState::new(db, config);
    let functions = cartwheel_gateway::Functions::load(&state, &sdk)
        .await
        .expect("secrets from Secrets Manager");
    let keys = functions.webhooks.keys.clone();
    let payments = functions.orders.payments.clone();
    let mut app = serve(
        cartwheel_gateway::router(
            state.clone(),
            functions,
            cartwheel_gateway::GatewayOptions {
                authorizer_cache_ttl: options.authorizer_cache_ttl,
            },
        ),
        state,
        sdk,
    )
    .await;
    app.queues = queues;
    app.keys = Some(keys);
    app.payments = Some(payments);
    calls.take();
    app.calls = calls;
    app
}

/// Serves `router` on a free loopback port.
pub async fn serve(router: axum::Router, state: AppState, sdk: aws_config::SdkConfig) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("bound address"));
    let listener = listener.tap_io(|tcp| drop(tcp.set_nodelay(true)));
    tokio::spawn(async move { axum::serve(listener, router).await });
    TestApp {
        url,
        http: reqwest::Client::new(),
        state,
        sdk,
        queues: Default::default(),
        keys: None,
        payments: None,
        calls: calls::CallLog::default(),
    }
}

impl TestApp {
    pub fn get(&self, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.url)).bearer_auth(key)
    }

    pub fn post(&self, path: &str, key: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(key)
            .json(body)
    }

    pub fn delete(&self, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.http.delete(format!("{}{path}", self.url)).bearer_auth(key)
    }

    pub fn patch(&self, path: &str, key: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .patch(format!("{}{path}", self.url))
            .bearer_auth(key)
            .json(body)
    }

    pub fn put(&self, path: &str, key: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http.put(format!("{}{path}", self.url)).bearer_auth(key).json(body)
    }

    pub async fn create_store(&self) -> TestStore {
        let response = self
            .post("/v1/platform/stores", PLATFORM_KEY, &json!({"name": "Test store"}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "store creation failed");
        let body: Value = response.json().await.expect("JSON body");
        let data = &body["data"];
        let text = |v: &Value| v.as_str().expect("string field").to_owned();
        TestStore {
            id: text(&data["store"]["id"]),
            live_key: text(&data["live_key"]["secret"]),
            test_key: text(&data["test_key"]["secret"]),
            live_key_id: text(&data["live_key"]["id"]),
            test_key_id: text(&data["test_key"]["id"]),
        }
    }

    /// Creates a key with `scopes` using `key`; returns (id, secret).
    pub async fn create_key(&self, key: &str, scopes: &[&str]) -> (String, String) {
        let response = self
            .post("/v1/api-keys", key, &json!({"name": "test key", "scopes": scopes}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "key creation failed");
        let body: Value = response.json().await.expect("JSON body");
        (
            body["data"]["id"].as_str().expect("id").to_owned(),
            body["data"]["secret"].as_str().expect("secret").to_owned(),
        )
    }
}

/// Asserts the documented error body and returns it.
/// A request's answer checked and decoded in one call, so a test reads as the behaviour it expects.
#[allow(async_fn_in_trait)]
pub trait Expect {
    /// Sends the request, asserts the answer's status (showing the body when it differs) and returns the JSON body
    /// (`null` when there is none).
    async fn expect(self, status: u16) -> Value;

    /// [`Expect::expect`], then the body's `data`.
    async fn expect_data(self, status: u16) -> Value
    where
        Self: Sized,
    {
        let mut body = self.expect(status).await;
        body["data"].take()
    }
}

impl Expect for reqwest::RequestBuilder {
    async fn expect(self, status: u16) -> Value {
        let response = self.send().await.expect("the request reaches the app");
        let answered = response.status().as_u16();
        let text = response.text().await.expect("a readable body");
        assert_eq!(answered, status, "{text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("a JSON body")
        }
    }
}

pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = response.json().await.expect("an error body in JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["status"], status, "{body}");
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(
        body["error"]["request_id"].as_str(),
        request_id.as_deref(),
        "request id in body and header differ"
    );
    body
}

/// A payment callback for `order` of store `store_id`, signed as the payment provider signs it: payment intent
/// `intent` of `amount` in the order's currency, event `kind` (`payment_intent.succeeded`, …), sent with a timestamp
/// `timestamp_offset` seconds from now.
pub async fn payment_callback(
    app: &TestApp,
    store_id: &str,
    order: &Value,
    (event_id, kind): (&str, &str),
    (intent, amount): (&str, i64),
    timestamp_offset: i64,
) -> reqwest::Response {
    let currency = order["currency"].as_str().unwrap_or("USD").to_lowercase();
    let body = json!({
        "id": event_id, "type": kind, "livemode": false,
        "data": {"object": {"id": intent, "amount": amount,
            "amount_received": amount, "currency": currency,
            "metadata": {"order_id": order["id"], "store_id": store_id},
            "last_payment_error": {"message": "card declined"}}}
    })
    .to_string();
    let now = cartwheel::time::now().unix_timestamp() + timestamp_offset;
    let signature = app
        .payments
        .as_ref()
        .expect("the test stack signs payments")
        .sign(now, body.as_bytes());
    app.http
        .post(format!("{}/v1/payments/webhook", app.url))
        .header("Payment-Signature", signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the payment callback is answered")
}

/// Pays `order` in full (one succeeded payment intent).
pub async fn pay(app: &TestApp, store_id: &str, order: &Value) {
    let total = order["total"]["amount"].as_i64().unwrap_or_default();
    let event = format!("evt_{}", order["id"].as_str().unwrap_or_default());
    let paid = payment_callback(
        app,
        store_id,
        order,
        (&event, "payment_intent.succeeded"),
        ("pi_1", total),
        0,
    )
    .await;
    assert_eq!(paid.status(), 200, "the payment is recorded");
}

/// The envelopes of a store's events in one mode, oldest first (read from the outbox index).
pub async fn events(app: &TestApp, store_id: &str, mode: &str) -> Vec<Value> {
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk().await);
    let pages = dynamodb
        .query()
        .table_name(&app.state.config.table)
        .index_name("GSI1")
        .key_condition_expression("GSI1PK = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("S#{store_id}#{mode}#EVENTS")),
        )
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("events query");
    pages
        .iter()
        .filter_map(|item| serde_dynamo::from_attribute_value(item.get("event")?.clone()).ok())
        .collect()
}

/// One request a [`Receiver`] got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: axum::http::HeaderMap,
    pub body: String,
    pub at: std::time::Instant,
}

/// A real local HTTP endpoint for webhooks: answers 500 to its first `fail_first` requests (all, with
/// `usize::MAX`), then `status`.
pub struct Receiver {
    pub url: String,
    pub received: Arc<std::sync::Mutex<Vec<Received>>>,
    /// Requests answered 500 so far allowed: lower it to make the receiver recover.
    fail_first: Arc<std::sync::atomic::AtomicUsize>,
    /// Answers 503 to everything while set (an outage).
    down: Arc<std::sync::atomic::AtomicBool>,
    /// How long each answer takes, in milliseconds.
    delay_ms: Arc<std::sync::atomic::AtomicU64>,
}

pub async fn receiver(fail_first: usize, status: u16) -> Receiver {
    receiver_with(fail_first, status, std::time::Duration::ZERO).await
}

/// A receiver that takes `delay` to answer each request (a hanging endpoint).
pub async fn receiver_with(fail_first: usize, status: u16, delay: std::time::Duration) -> Receiver {
    let received: Arc<std::sync::Mutex<Vec<Received>>> = Arc::default();
    let log = Arc::clone(&received);
    let failing = Arc::new(std::sync::atomic::AtomicUsize::new(fail_first));
    let fail_first = Arc::clone(&failing);
    let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let delay_ms = Arc::new(std::sync::atomic::AtomicU64::new(delay.as_millis() as u64));
    let (is_down, takes) = (Arc::clone(&down), Arc::clone(&delay_ms));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let log = Arc::clone(&log);
            let fail_first = Arc::clone(&fail_first);
            let is_down = is_down.load(std::sync::atomic::Ordering::SeqCst);
            let delay = std::time::Duration::from_millis(takes.load(std::sync::atomic::Ordering::SeqCst));
            async move {
                let fail_first = fail_first.load(std::sync::atomic::Ordering::SeqCst);
                let count = {
                    let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                    log.push(Received {
                        headers,
                        body,
                        at: std::time::Instant::now(),
                    });
                    log.len()
                };
                let status = match (is_down, count <= fail_first) {
                    (true, _) => 503,
                    (false, true) => 500,
                    (false, false) => status,
                };
                tokio::time::sleep(delay).await;
                (
                    axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::OK),
                    "receiver says hi",
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let url = format!("http://{}/hook", listener.local_addr().expect("bound address"));
    let listener = listener.tap_io(|tcp| drop(tcp.set_nodelay(true)));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver {
        url,
        received,
        fail_first: failing,
        down,
        delay_ms,
    }
}

impl Receiver {
    /// From now on, answer with the configured status.
    pub fn recover(&self) {
        self.fail_first.store(0, std::sync::atomic::Ordering::SeqCst);
    }

    /// Starts (`true`) or ends an outage: every request meanwhile is answered 503.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }

    /// From now on, each answer takes `delay`.
    pub fn set_delay(&self, delay: std::time::Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until `done` accepts what has been received.
    pub async fn wait_for(&self, seconds: u64, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let requests = self.requests();
            if done(&requests) {
                return requests;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the receiver got {} requests, not what was expected",
                requests.len()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
