//! Latency and load through the local gateway (bounded in count and time, 127.0.0.1 only), next to the bare SDK
//! round trip against the same DynamoDB Local, and the webhook pipeline: commit → first delivery, deliveries per
//! second, and whether an endpoint that hangs slows another one down.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use cartwheel_gateway::pipeline::Pipeline;
use cartwheel_tests::calls::Call;
use cartwheel_tests::{receiver, receiver_with, spawn_app_with, Options, Received, TestApp, TestStore};
use serde_json::{json, Value};

use crate::lambda::Error;

/// One load: latencies of every request (or flow), errors, and wall time.
pub struct Load {
    pub name: String,
    pub clients: usize,
    pub latencies: Vec<Duration>,
    pub errors: usize,
    pub elapsed: Duration,
}

impl Load {
    pub fn percentile(&self, p: f64) -> f64 {
        let mut sorted: Vec<f64> = self.latencies.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return f64::NAN;
        }
        let index = ((sorted.len() - 1) as f64 * p).round() as usize;
        sorted[index]
    }

    pub fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Times `call` (`None` when it failed).
async fn timed(call: impl Future<Output = bool>) -> Option<Duration> {
    let at = Instant::now();
    call.await.then(|| at.elapsed())
}

/// Runs `per_client` sequential calls of `call(client, i)` on each of `clients` tasks; each returns the latency to
/// record, `None` for an error. Bounded: at most 120 s.
async fn run<F, Fut>(name: &str, clients: usize, per_client: usize, warm_up: usize, call: F) -> Result<Load, Error>
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Option<Duration>> + Send,
{
    // Untimed first calls, so that a read measured first does not pay DynamoDB Local's (JVM) warm-up for the
    // read measured after it.
    for i in per_client..per_client + warm_up {
        let _ = call(0, i).await;
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let call = call.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            let mut errors = 0;
            for i in 0..per_client {
                match call(client, i).await {
                    Some(latency) => latencies.push(latency),
                    None => errors += 1,
                }
            }
            (latencies, errors)
        });
    }
    let mut load = Load {
        name: name.to_owned(),
        clients,
        latencies: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    let collected = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(done) = tasks.join_next().await {
            let (latencies, errors) = done?;
            load.latencies.extend(latencies);
            load.errors += errors;
        }
        Ok::<_, Error>(())
    })
    .await;
    collected.map_err(|_| format!("{name}: over the 120 s bound"))??;
    load.elapsed = started.elapsed();
    Ok(load)
}

async fn ok(response: Result<reqwest::Response, reqwest::Error>, status: u16) -> bool {
    matches!(response, Ok(r) if r.status().as_u16() == status)
}

async fn body(response: reqwest::Response) -> Result<Value, Error> {
    let status = response.status();
    let value: Value = response.json().await?;
    if !status.is_success() {
        return Err(format!("{status}: {value}").into());
    }
    Ok(value)
}

/// The `data.id` of what a request created.
async fn created_id(response: reqwest::Response) -> Result<String, Error> {
    let created = body(response).await?;
    Ok(created["data"]["id"].as_str().unwrap_or_default().to_owned())
}

/// The measured side of the bench that needs the gateway.
pub struct GatewayResults {
    pub loads: Vec<Load>,
    pub webhooks: Webhooks,
    /// DynamoDB calls of one order's webhook path (stream → fanout → delivery), measured.
    pub delivery_calls: Vec<Call>,
}

pub struct Webhooks {
    /// Changes per throughput burst.
    pub burst: usize,
    /// Commit (the API's response) → the first delivery attempt's arrival at the receiver.
    pub latencies: Vec<Duration>,
    /// Deliveries per second to a fast endpoint whose neighbour is fast too, while the changes are made
    /// (first → last arrival).
    pub alone_per_second: f64,
    /// The same, when the neighbour hangs until the timeout.
    pub beside_hanging_per_second: f64,
    /// Deliveries per second to a fast endpoint whose neighbour is fast too, draining a backlog of changes made
    /// while the pipeline was stopped (pipeline start → last arrival).
    pub backlog_alone_per_second: f64,
    /// The same, when the neighbour hangs until the timeout.
    pub backlog_beside_hanging_per_second: f64,
}

async fn product(app: &TestApp, key: &str, sku: &str) -> Result<String, Error> {
    let created = app
        .post(
            "/v1/products",
            key,
            &json!({"name": format!("Bench {sku}"), "sku": sku, "status": "active",
                    "price": {"amount": 1200, "currency": "USD"}}),
        )
        .send()
        .await?;
    created_id(created).await
}

/// A stack of its own with a store and its `BENCH-MUG` product holding `stock` units.
async fn stocked_app(options: Options, stock: i64) -> Result<(TestApp, TestStore, String), Error> {
    let app = spawn_app_with(options).await;
    let store = app.create_store().await;
    let mug = product(&app, &store.test_key, "BENCH-MUG").await?;
    let adjusted = app
        .post(
            &format!("/v1/inventory/{mug}/adjust"),
            &store.test_key,
            &json!({"delta": stock, "reason": "restock"}),
        )
        .send()
        .await?;
    body(adjusted).await?;
    Ok((app, store, mug))
}

/// Everything measured through the gateway (a smoke run makes one request per client and load).
pub async fn measure(smoke: bool) -> Result<GatewayResults, Error> {
    let options = || Options {
        own_stage: true,
        allow_loopback: true,
        retry_schedule: Some("0s,5s"),
        rate_limits: Some("default=1000000"),
        env: &[("CARTWHEEL_WEBHOOK_TIMEOUT_SECS", "2")],
        // As deployed: template.yaml's AuthorizerCacheTtl default.
        authorizer_cache_ttl: Duration::from_secs(300),
    };
    let (app, store, mug) = stocked_app(options(), 1_000_000).await?;
    let key = store.test_key.clone();
    for i in 0..19 {
        product(&app, &key, &format!("BENCH-{i}")).await?;
    }
    let loads = latency(&app, &store, &mug, smoke).await?;
    // The pipeline gets a stack of its own (table, stream, queues), so no backlog of the loads above reaches it.
    let (hooks_app, hooks_store, hooks_mug) = stocked_app(options(), 1000).await?;
    let hooks_key = hooks_store.test_key.clone();
    let (webhooks, delivery_calls) = webhooks(&hooks_app, &hooks_key, &hooks_mug, smoke).await?;
    Ok(GatewayResults {
        loads,
        webhooks,
        delivery_calls,
    })
}

async fn latency(app: &TestApp, store: &TestStore, mug: &str, smoke: bool) -> Result<Vec<Load>, Error> {
    let key = store.test_key.clone();
    let dynamodb = app.calls.client(&app.sdk);
    let table = app.state.config.table.clone();
    let product_key = (format!("S#{}#test#PRODUCT#{mug}", store.id), "PRODUCT".to_owned());
    let mut loads = Vec::new();
    let warm_up = if smoke { 0 } else { 20 };
    for clients in [1usize, 16] {
        let per_client = if smoke {
            1
        } else if clients == 1 {
            200
        } else {
            40
        };
        let (client, table_name, (pk, sk)) = (dynamodb.clone(), table.clone(), product_key.clone());
        loads.push(
            run("bare SDK GetItem", clients, per_client, warm_up, move |_, _| {
                let (client, table, pk, sk) = (client.clone(), table_name.clone(), pk.clone(), sk.clone());
                timed(async move {
                    client
                        .get_item()
                        .table_name(table)
                        .key("PK", AttributeValue::S(pk))
                        .key("SK", AttributeValue::S(sk))
                        .send()
                        .await
                        .is_ok()
                })
            })
            .await?,
        );
        let (client, table_name) = (dynamodb.clone(), table.clone());
        loads.push(
            run(
                "bare SDK TransactWriteItems (2 puts)",
                clients,
                per_client,
                warm_up,
                move |c, i| {
                    let (client, table) = (client.clone(), table_name.clone());
                    timed(async move {
                        let put = |n: usize| {
                            let item = HashMap::from([
                                (
                                    "PK".to_owned(),
                                    AttributeValue::S(format!("BENCH#{clients}#{c}#{i}#{n}")),
                                ),
                                ("SK".to_owned(), AttributeValue::S("BENCH".into())),
                            ]);
                            Put::builder()
                                .table_name(&table)
                                .set_item(Some(item))
                                .build()
                                .map(|p| TransactWriteItem::builder().put(p).build())
                        };
                        let (Ok(a), Ok(b)) = (put(0), put(1)) else { return false };
                        client
                            .transact_write_items()
                            .transact_items(a)
                            .transact_items(b)
                            .send()
                            .await
                            .is_ok()
                    })
                },
            )
            .await?,
        );
        let (http, url, k) = (app.http.clone(), format!("{}/v1/products/{mug}", app.url), key.clone());
        loads.push(
            run("GET /v1/products/{id}", clients, per_client, warm_up, move |_, _| {
                let request = http.get(&url).bearer_auth(&k).send();
                timed(async move { ok(request.await, 200).await })
            })
            .await?,
        );
        let (http, url, k) = (
            app.http.clone(),
            format!("{}/v1/products?limit=20", app.url),
            key.clone(),
        );
        loads.push(
            run("GET /v1/products (20)", clients, per_client, warm_up, move |_, _| {
                let request = http.get(&url).bearer_auth(&k).send();
                timed(async move { ok(request.await, 200).await })
            })
            .await?,
        );
        let mut carts = Vec::new();
        for _ in 0..clients {
            let cart = app.post("/v1/carts", &key, &json!({"currency": "USD"})).send().await?;
            carts.push(body(cart).await?["data"]["id"].as_str().unwrap_or_default().to_owned());
        }
        let (http, base, k, product) = (app.http.clone(), app.url.clone(), key.clone(), mug.to_owned());
        loads.push(
            run("POST /v1/carts/{id}/items", clients, per_client, 0, move |c, _| {
                let request = http
                    .post(format!("{base}/v1/carts/{}/items", carts[c]))
                    .bearer_auth(&k)
                    .json(&json!({"product_id": product, "quantity": 1}))
                    .send();
                timed(async move { ok(request.await, 200).await })
            })
            .await?,
        );
        let (http, base, k, product) = (app.http.clone(), app.url.clone(), key.clone(), mug.to_owned());
        let flows = if smoke {
            1
        } else if clients == 1 {
            60
        } else {
            10
        };
        let checkouts: Arc<Mutex<Vec<Duration>>> = Arc::default();
        let steps = Arc::clone(&checkouts);
        let flow = run(
            "checkout flow (cart → item → checkout)",
            clients,
            flows,
            0,
            move |_, _| {
                let (http, base, k, product, steps) = (
                    http.clone(),
                    base.clone(),
                    k.clone(),
                    product.clone(),
                    Arc::clone(&steps),
                );
                async move {
                    let at = Instant::now();
                    let checkout = checkout_flow(&http, &base, &k, &product).await.ok()?;
                    steps.lock().unwrap_or_else(|e| e.into_inner()).push(checkout);
                    Some(at.elapsed())
                }
            },
        )
        .await?;
        let checkout = Load {
            name: "POST /v1/checkout (in the flow)".into(),
            clients,
            latencies: std::mem::take(&mut *checkouts.lock().unwrap_or_else(|e| e.into_inner())),
            errors: flow.errors,
            elapsed: flow.elapsed,
        };
        loads.push(flow);
        loads.push(checkout);
    }
    app.calls.take();
    Ok(loads)
}

/// Creates a cart, adds an item and checks out; returns how long the checkout itself took.
async fn checkout_flow(http: &reqwest::Client, base: &str, key: &str, product: &str) -> Result<Duration, Error> {
    let cart = http
        .post(format!("{base}/v1/carts"))
        .bearer_auth(key)
        .json(&json!({"currency": "USD"}))
        .send()
        .await?;
    let cart = body(cart).await?["data"]["id"].as_str().unwrap_or_default().to_owned();
    let added = http
        .post(format!("{base}/v1/carts/{cart}/items"))
        .bearer_auth(key)
        .json(&json!({"product_id": product, "quantity": 1}))
        .send()
        .await?;
    body(added).await?;
    let at = Instant::now();
    let placed = http
        .post(format!("{base}/v1/checkout"))
        .bearer_auth(key)
        .json(&json!({"cart_id": cart, "email": "bench@example.com",
                      "shipping_address": {"line1": "1 Main St", "city": "Springfield", "country": "US"}}))
        .send()
        .await?;
    let took = at.elapsed();
    body(placed).await?;
    Ok(took)
}

/// The `resource.version` of a delivered `product.updated`, and when it arrived.
fn delivered(requests: &[Received]) -> HashMap<u64, Instant> {
    let mut first = HashMap::new();
    for request in requests {
        let Ok(event) = serde_json::from_str::<Value>(&request.body) else {
            continue;
        };
        if event["type"] != "product.updated" {
            continue;
        }
        if let Some(version) = event["resource"]["version"].as_u64() {
            first.entry(version).or_insert(request.at);
        }
    }
    first
}

async fn subscribe(app: &TestApp, key: &str, url: &str, events: Value) -> Result<String, Error> {
    let created = app
        .post("/v1/webhooks", key, &json!({"url": url, "events": events}))
        .send()
        .await?;
    created_id(created).await
}

async fn unsubscribe(app: &TestApp, key: &str, endpoint: &str) -> Result<(), Error> {
    let deleted = app.delete(&format!("/v1/webhooks/{endpoint}"), key).send().await?;
    if !deleted.status().is_success() {
        return Err(format!("deleting endpoint {endpoint}: {}", deleted.status()).into());
    }
    Ok(())
}

/// Changes the product `count` times, `pause` apart; returns when each change was committed (by version).
async fn changes(
    app: &TestApp,
    key: &str,
    product: &str,
    count: usize,
    pause: Duration,
) -> Result<HashMap<u64, Instant>, Error> {
    let mut committed = HashMap::new();
    for i in 0..count {
        let response = app
            .http
            .patch(format!("{}/v1/products/{product}", app.url))
            .bearer_auth(key)
            .json(&json!({"description": format!("change {i}")}))
            .send()
            .await?;
        let at = Instant::now();
        let version = body(response).await?["data"]["version"].as_u64().unwrap_or_default();
        committed.insert(version, at);
        tokio::time::sleep(pause).await;
    }
    Ok(committed)
}

/// When each committed version reached `receiver` (waiting up to 90 s for all of them).
async fn arrivals(receiver: &cartwheel_tests::Receiver, committed: &HashMap<u64, Instant>) -> HashMap<u64, Instant> {
    let arrived = receiver
        .wait_for(90, |requests| {
            let got = delivered(requests);
            committed.keys().all(|v| got.contains_key(v))
        })
        .await;
    delivered(&arrived)
}

/// Deliveries per second to `receiver` of the changes just made: from the first arrival, or from `since`, to the last.
async fn rate(receiver: &cartwheel_tests::Receiver, committed: &HashMap<u64, Instant>, since: Option<Instant>) -> f64 {
    let got = arrivals(receiver, committed).await;
    let times: Vec<Instant> = committed.keys().filter_map(|v| got.get(v).copied()).collect();
    let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) else {
        return f64::NAN;
    };
    match since {
        Some(since) => times.len() as f64 / (*last - since).as_secs_f64().max(0.001),
        None => (times.len().saturating_sub(1)) as f64 / (*last - *first).as_secs_f64().max(0.001),
    }
}

async fn webhooks(app: &TestApp, key: &str, mug: &str, smoke: bool) -> Result<(Webhooks, Vec<Call>), Error> {
    let keys = app.keys.clone().ok_or("no master keys")?;
    let start_pipeline = || Pipeline::start(&app.sdk, &app.state, keys.clone());
    let mut pipeline = Some(start_pipeline()?);
    let (events, burst) = if smoke { (2, 3) } else { (200, 200) };

    // One order's webhook path, first, while nothing else moves: its DynamoDB calls from the stream to the
    // delivery (the checkout's own calls are taken out).
    let order_hook = receiver(0, 200).await;
    let order_endpoint = subscribe(app, key, &order_hook.url, json!(["order.created"])).await?;
    let http = reqwest::Client::new();
    // The setup's own events (store, key, product, stock, endpoint) drain first.
    tokio::time::sleep(Duration::from_secs(3)).await;
    app.calls.take();
    checkout_flow(&http, &app.url, key, mug).await?;
    app.calls.take();
    order_hook.wait_for(30, |requests| !requests.is_empty()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pipeline_calls = app.calls.take();
    unsubscribe(app, key, &order_endpoint).await?;

    // Commit → first delivery, paced so that it measures the path, not a queue.
    let fast = receiver(0, 200).await;
    let product = product(app, key, "BENCH-HOOKS").await?;
    let fast_endpoint = subscribe(app, key, &fast.url, json!(["product.updated"])).await?;
    let committed = changes(app, key, &product, events, Duration::from_millis(20)).await?;
    let got = arrivals(&fast, &committed).await;
    let latencies: Vec<Duration> = committed
        .iter()
        .filter_map(|(v, at)| got.get(v).map(|arrival| arrival.saturating_duration_since(*at)))
        .collect();
    if latencies.len() < committed.len() {
        return Err(format!("only {} of {} webhooks arrived", latencies.len(), committed.len()).into());
    }
    unsubscribe(app, key, &fast_endpoint).await?;

    // Throughput to a fast receiver beside a second endpoint: a fast one, then one that hangs until the timeout
    // (the same number of jobs; only the neighbour differs). First while the changes are made, then draining a
    // backlog of changes made while the pipeline was stopped.
    let mut rates = Vec::new();
    for backlog in [false, true] {
        for (sku, neighbour_delay) in [("RATE", Duration::ZERO), ("HANG", Duration::from_secs(30))] {
            let measured = receiver(0, 200).await;
            let neighbour = receiver_with(0, 200, neighbour_delay).await;
            let product = self::product(app, key, &format!("BENCH-{sku}-{backlog}")).await?;
            let endpoints = [
                subscribe(app, key, &measured.url, json!(["product.updated"])).await?,
                subscribe(app, key, &neighbour.url, json!(["product.updated"])).await?,
            ];
            if backlog {
                // What is in flight drains first; then nothing moves until the pipeline starts again.
                tokio::time::sleep(Duration::from_secs(3)).await;
                pipeline = None;
            }
            let committed = changes(app, key, &product, burst, Duration::ZERO).await?;
            let started = Instant::now();
            if pipeline.is_none() {
                pipeline = Some(start_pipeline()?);
            }
            rates.push(rate(&measured, &committed, backlog.then_some(started)).await);
            for endpoint in &endpoints {
                unsubscribe(app, key, endpoint).await?;
            }
        }
    }
    drop(pipeline);
    app.calls.take();

    Ok((
        Webhooks {
            burst,
            latencies,
            alone_per_second: rates[0],
            beside_hanging_per_second: rates[1],
            backlog_alone_per_second: rates[2],
            backlog_beside_hanging_per_second: rates[3],
        },
        pipeline_calls,
    ))
}
