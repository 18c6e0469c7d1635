//! The event pipeline on the local stack: table stream → event-publisher → EventBridge rule → SQS.

use std::time::{Duration, Instant};

use cartwheel::bus::Bus;
use cartwheel_gateway::pipeline;
use cartwheel_tests::{spawn_app_with, Expect, Options};
use serde_json::{json, Value};

/// Waits for a message on `queue` that `wanted` accepts, and returns its body.
async fn receive(sqs: &aws_sdk_sqs::Client, queue: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let output = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for message in output.messages() {
            let body: Value = serde_json::from_str(message.body().unwrap_or("{}")).unwrap();
            if wanted(&body) {
                return body;
            }
        }
    }
    panic!("no matching message on {queue} within 20 s");
}

#[tokio::test]
async fn a_committed_change_reaches_the_webhook_events_queue_through_eventbridge() {
    let app = spawn_app_with(Options {
        own_stage: true,
        ..Default::default()
    })
    .await;
    let config = &app.state.config;
    let _publisher = pipeline::spawn_stream_publisher(&app.sdk, &config.table, Bus::new(&app.sdk, &config.event_bus));
    let store = app.create_store().await;
    let body = json!({"name": "Mug", "sku": "M-1", "price": {"amount": 100, "currency": "USD"}});
    let product: Value = app
        .post("/v1/products", &store.test_key, &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = product["data"]["id"].as_str().unwrap().to_owned();

    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let queue = &app.queues["WebhookEventsQueue"];
    let message = receive(&sqs, queue, |m| m["detail"]["resource"]["id"] == json!(id)).await;
    assert_eq!(message["source"], "cartwheel.catalog");
    assert_eq!(message["detail-type"], "product.created");
    let detail = &message["detail"];
    assert_eq!(detail["type"], "product.created");
    assert_eq!(detail["store_id"], json!(store.id));
    assert_eq!(detail["mode"], "test");
    assert_eq!(detail["api_version"], "2026-11-01");
    assert_eq!(detail["resource"]["version"], 1);
    assert_eq!(detail["data"]["sku"], "M-1");
    assert!(detail["id"].as_str().unwrap().starts_with("evt_"));
}

use cartwheel::webhooks::{simple_signature, standard_signature};
use cartwheel_gateway::pipeline::{Pipeline, PublisherKill};
use cartwheel_tests::{receiver, TestApp, TestStore};

async fn pipeline_app(schedule: &'static str) -> (TestApp, TestStore, Pipeline) {
    let options = Options {
        own_stage: true,
        allow_loopback: true,
        retry_schedule: Some(schedule),
        ..Default::default()
    };
    let app = spawn_app_with(options).await;
    let pipeline = Pipeline::start(&app.sdk, &app.state, app.keys.clone().unwrap()).unwrap();
    let store = app.create_store().await;
    (app, store, pipeline)
}

/// Registers `url` for product events; returns (endpoint id, secret).
async fn subscribe(app: &TestApp, key: &str, url: &str) -> (String, String) {
    let body = json!({"url": url, "events": ["product.*"]});
    let created: Value = app
        .post("/v1/webhooks", key, &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        created["data"]["id"].as_str().unwrap().to_owned(),
        created["data"]["secret"].as_str().unwrap().to_owned(),
    )
}

async fn create_product(app: &TestApp, key: &str) -> String {
    let body = json!({"name": "Mug", "sku": "M-1", "price": {"amount": 100, "currency": "USD"}});
    let product: Value = app
        .post("/v1/products", key, &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    product["data"]["id"].as_str().unwrap().to_owned()
}

async fn deliveries(app: &TestApp, key: &str, endpoint: &str) -> Value {
    app.get(&format!("/v1/webhooks/{endpoint}/deliveries"), key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_product_change_is_delivered_signed_to_the_store_endpoint() {
    let (app, store, _pipeline) = pipeline_app("0s,1s,1s").await;
    let hook = receiver(0, 200).await;
    let (endpoint, secret) = subscribe(&app, &store.test_key, &hook.url).await;
    let product = create_product(&app, &store.test_key).await;

    let requests = hook.wait_for(20, |r| !r.is_empty()).await;
    let request = &requests[0];
    let header = |name: &str| request.headers[name].to_str().unwrap().to_owned();
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["type"], "product.created");
    assert_eq!(body["resource"]["id"], json!(product));
    assert_eq!(header("webhook-id"), body["id"].as_str().unwrap());
    assert_eq!(header("x-cartwheel-event"), "product.created");
    assert_eq!(header("user-agent"), "Cartwheel-Webhooks/1");
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
    let expected = standard_signature(&secret, &header("webhook-id"), timestamp, request.body.as_bytes());
    assert!(
        header("webhook-signature").split(' ').any(|s| s == expected),
        "standard signature does not verify"
    );
    assert_eq!(
        header("x-cartwheel-signature"),
        simple_signature(&secret, request.body.as_bytes())
    );
    verify_with_the_documented_samples(&secret, request);

    let log = deliveries(&app, &store.test_key, &endpoint).await;
    let delivery = &log["data"][0];
    assert_eq!(delivery["status"], "succeeded");
    assert_eq!(delivery["id"], body["id"]);
    assert_eq!(delivery["attempts"][0]["status"], 200);
    assert_eq!(delivery["attempts"][0]["response_body"], "receiver says hi");
}

#[tokio::test]
async fn a_failing_receiver_gets_retries_at_growing_intervals_until_it_recovers() {
    let (app, store, _pipeline) = pipeline_app("0s,1s,4s,4s").await;
    let hook = receiver(2, 200).await;
    let (endpoint, _) = subscribe(&app, &store.test_key, &hook.url).await;
    create_product(&app, &store.test_key).await;

    let requests = hook.wait_for(30, |r| r.len() >= 3).await;
    let ids: Vec<_> = requests.iter().map(|r| r.headers["webhook-id"].clone()).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "the webhook-id stays the same across retries"
    );
    let first_gap = requests[1].at - requests[0].at;
    let second_gap = requests[2].at - requests[1].at;
    assert!(
        second_gap > first_gap,
        "retries should back off: {first_gap:?} then {second_gap:?}"
    );
    let log = deliveries(&app, &store.test_key, &endpoint).await;
    let delivery = &log["data"][0];
    assert_eq!(delivery["status"], "succeeded");
    let statuses: Vec<_> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].clone())
        .collect();
    assert_eq!(statuses, [json!(500), json!(500), json!(200)]);
}

#[tokio::test]
async fn a_receiver_that_never_recovers_ends_failed_in_the_dead_letter_queue() {
    let (app, store, _pipeline) = pipeline_app("0s,1s,1s").await;
    let hook = receiver(usize::MAX, 200).await;
    let (endpoint, _) = subscribe(&app, &store.test_key, &hook.url).await;
    create_product(&app, &store.test_key).await;

    hook.wait_for(30, |r| r.len() >= 3).await;
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let dead = receive(&sqs, &app.queues["WebhookDeliveriesDLQ"], |job| {
        job["endpoint_id"] == json!(endpoint)
    })
    .await;
    assert_eq!(dead["store_id"], json!(store.id));
    let log = deliveries(&app, &store.test_key, &endpoint).await;
    assert_eq!(log["data"][0]["status"], "failed");
    assert_eq!(log["data"][0]["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(hook.requests().len(), 3, "no attempt after the last one");

    // The receiver is fixed: a manual retry delivers it.
    hook.recover();
    let delivery = log["data"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/v1/webhooks/{endpoint}/deliveries/{delivery}/retry"),
        &store.test_key,
        &json!({}),
    )
    .expect(202)
    .await;
    wait_for_log(&app, &store.test_key, &endpoint, "?status=succeeded", |log| {
        log["data"].as_array().unwrap().len() == 1
    })
    .await;
    assert_eq!(hook.requests().len(), 4);
}

#[tokio::test]
async fn gone_disables_the_endpoint_at_once() {
    let (app, store, _pipeline) = pipeline_app("0s,1s,1s").await;
    let hook = receiver(0, 410).await;
    let (endpoint, _) = subscribe(&app, &store.test_key, &hook.url).await;
    create_product(&app, &store.test_key).await;

    hook.wait_for(20, |r| !r.is_empty()).await;
    let disabled = wait_until_disabled(&app, &store.test_key, &endpoint).await;
    assert_eq!(disabled["disabled_reason"], "the endpoint answered 410 Gone");
    let events = cartwheel_tests::events(&app, &store.id, "test").await;
    assert!(events.iter().any(|e| e["type"] == "webhook.endpoint_disabled"));
    assert_eq!(hook.requests().len(), 1, "no retry after 410");
}

/// Polls the delivery log until `done` accepts it.
async fn wait_for_log(app: &TestApp, key: &str, endpoint: &str, query: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log: Value = app
            .get(&format!("/v1/webhooks/{endpoint}/deliveries{query}"), key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done(&log) {
            return log;
        }
        assert!(Instant::now() < deadline, "the delivery log never got there: {log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn failed_deliveries_are_retried_by_hand_and_recovered_in_bulk() {
    let (app, store, _pipeline) = pipeline_app("0s").await;
    let key = &store.test_key;
    let hook = receiver(2, 200).await;
    let (endpoint, _) = subscribe(&app, key, &hook.url).await;
    let since = cartwheel::time::rfc3339(cartwheel::time::now() - Duration::from_secs(1));
    create_product(&app, key).await;
    let body = json!({"name": "Bowl", "sku": "B-1", "price": {"amount": 100, "currency": "USD"}});
    app.post("/v1/products", key, &body).send().await.unwrap();

    let failed = wait_for_log(&app, key, &endpoint, "?status=failed", |log| {
        log["data"].as_array().unwrap().len() == 2
    })
    .await;
    let first = failed["data"][1]["id"].as_str().unwrap().to_owned();
    let succeeded = wait_for_log(&app, key, &endpoint, "?status=succeeded", |_| true).await;
    assert!(succeeded["data"].as_array().unwrap().is_empty());
    let by_type = wait_for_log(&app, key, &endpoint, "?event_type=product.created", |_| true).await;
    assert_eq!(by_type["data"].as_array().unwrap().len(), 2);

    app.post(
        &format!("/v1/webhooks/{endpoint}/deliveries/{first}/retry"),
        key,
        &json!({}),
    )
    .expect(202)
    .await;
    wait_for_log(&app, key, &endpoint, "?status=succeeded", |log| {
        log["data"].as_array().unwrap().len() == 1
    })
    .await;

    let recovered: Value = app
        .post(
            &format!("/v1/webhooks/{endpoint}/recover"),
            key,
            &json!({"since": since}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(recovered["data"]["queued"], 1);
    wait_for_log(&app, key, &endpoint, "?status=succeeded", |log| {
        log["data"].as_array().unwrap().len() == 2
    })
    .await;
    assert_eq!(hook.requests().len(), 4);
    app.post(
        &format!("/v1/webhooks/{endpoint}/deliveries/evt_01JD3M5W7Q6V8X9Y0Z1A2B3C4D/retry"),
        key,
        &json!({}),
    )
    .expect(404)
    .await;
    app.post(
        &format!("/v1/webhooks/{endpoint}/recover"),
        key,
        &json!({"since": "yesterday"}),
    )
    .expect(422)
    .await;
}

#[tokio::test]
async fn concurrent_recovers_queue_each_failed_delivery_once() {
    let (app, store, _pipeline) = pipeline_app("0s").await;
    let key = &store.test_key;
    let hook = receiver(4, 200).await;
    let (endpoint, _) = subscribe(&app, key, &hook.url).await;
    let since = cartwheel::time::rfc3339(cartwheel::time::now() - Duration::from_secs(1));
    for n in 0..4 {
        let body = json!({"name": "Bowl", "sku": format!("B-{n}"), "price": {"amount": 100, "currency": "USD"}});
        app.post("/v1/products", key, &body).send().await.unwrap();
    }
    wait_for_log(&app, key, &endpoint, "?status=failed", |log| {
        log["data"].as_array().unwrap().len() == 4
    })
    .await;
    let path = format!("/v1/webhooks/{endpoint}/recover");
    let body = json!({"since": since});
    let recovers = (0..5).map(|_| app.post(&path, key, &body).send());
    let mut queued = 0;
    for response in futures_util::future::join_all(recovers).await {
        let response: Value = response.unwrap().json().await.unwrap();
        queued += response["data"]["queued"].as_u64().unwrap();
    }
    assert_eq!(queued, 4, "each failed delivery is queued by one recover only");
    wait_for_log(&app, key, &endpoint, "?status=succeeded", |log| {
        log["data"].as_array().unwrap().len() == 4
    })
    .await;
    // Give a duplicate job time to arrive, then count: four failures, four recovered attempts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(hook.requests().len(), 8);
}

#[tokio::test]
async fn delivery_payloads_are_shown_only_to_keys_that_may_read_the_resource() {
    let (app, store, _pipeline) = pipeline_app("0s").await;
    let key = &store.test_key;
    let hook = receiver(0, 200).await;
    let (endpoint, _) = subscribe(&app, key, &hook.url).await;
    create_product(&app, key).await;
    let full = wait_for_log(&app, key, &endpoint, "?status=succeeded", |log| {
        log["data"].as_array().unwrap().len() == 1
    })
    .await;
    assert!(full["data"][0]["payload"]
        .as_str()
        .is_some_and(|p| p.contains("product.created")));
    let (_, manager) = app.create_key(key, &["webhooks:manage"]).await;
    let (_, reader) = app.create_key(key, &["webhooks:manage", "products:read"]).await;
    let hidden = deliveries(&app, &manager, &endpoint).await;
    assert_eq!(hidden["data"][0]["event_type"], "product.created");
    assert!(hidden["data"][0]["payload"].is_null(), "{hidden}");
    let delivery = full["data"][0]["id"].as_str().unwrap();
    let one: Value = app
        .get(&format!("/v1/webhooks/{endpoint}/deliveries/{delivery}"), &manager)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(one["data"]["payload"].is_null(), "{one}");
    let shown = deliveries(&app, &reader, &endpoint).await;
    assert_eq!(shown["data"][0]["payload"], full["data"][0]["payload"]);
}

#[tokio::test]
async fn a_test_event_is_delivered_now() {
    let (app, store, _pipeline) = pipeline_app("0s,1s").await;
    let hook = receiver(0, 200).await;
    let (endpoint, secret) = subscribe(&app, &store.test_key, &hook.url).await;
    app.post(&format!("/v1/webhooks/{endpoint}/test"), &store.test_key, &json!({}))
        .expect(202)
        .await;
    let requests = hook.wait_for(20, |r| !r.is_empty()).await;
    let body: Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(body["type"], "webhook.test");
    assert_eq!(
        requests[0].headers["x-cartwheel-signature"].to_str().unwrap(),
        simple_signature(&secret, requests[0].body.as_bytes())
    );
}

pub(crate) async fn pipeline_app_with(
    schedule: &'static str,
    env: &'static [(&'static str, &'static str)],
) -> (TestApp, TestStore, Pipeline) {
    let options = Options {
        own_stage: true,
        allow_loopback: true,
        retry_schedule: Some(schedule),
        env,
        ..Default::default()
    };
    let app = spawn_app_with(options).await;
    let pipeline = Pipeline::start(&app.sdk, &app.state, app.keys.clone().unwrap()).unwrap();
    let store = app.create_store().await;
    (app, store, pipeline)
}

/// A hanging endpoint is cut at the timeout, and the other endpoint of the same batch is not held up by it. Then
/// it cools down: its new jobs wait in the queue until the cooldown ends (nothing is attempted meanwhile).
#[tokio::test]
async fn a_hanging_endpoint_is_cut_at_the_timeout_and_delays_no_other() {
    let (app, store, _pipeline) = pipeline_app_with(
        "0s,30s",
        &[
            ("CARTWHEEL_WEBHOOK_TIMEOUT_SECS", "3"),
            ("CARTWHEEL_WEBHOOK_COOLDOWN_SECS", "6"),
        ],
    )
    .await;
    let key = &store.test_key;
    let slow = cartwheel_tests::receiver_with(0, 200, Duration::from_secs(30)).await;
    let fast = receiver(0, 200).await;
    let (slow_endpoint, _) = subscribe(&app, key, &slow.url).await;
    subscribe(&app, key, &fast.url).await;
    let product = create_product(&app, key).await;

    fast.wait_for(20, |r| !r.is_empty()).await;
    let slow_log = deliveries(&app, key, &slow_endpoint).await;
    assert!(
        slow_log["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["attempts"].as_array().is_none_or(|a| a.is_empty())),
        "the fast endpoint was served while the slow one still hung"
    );
    let log = wait_for_log(&app, key, &slow_endpoint, "", |log| {
        log["data"][0]["attempts"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_eq!(log["data"][0]["attempts"][0]["error"], "timed out after 3 s");
    assert_eq!(log["data"][0]["status"], "pending", "a timeout is retried");

    // While it cools down, the hanging endpoint's next job waits in the queue: the fast endpoint gets the change,
    // the slow one has a pending delivery with no attempt.
    app.http
        .patch(format!("{}/v1/products/{product}", app.url))
        .bearer_auth(key)
        .json(&json!({"description": "changed"}))
        .expect(200)
        .await;
    fast.wait_for(20, |r| r.len() >= 2).await;
    let log = wait_for_log(&app, key, &slow_endpoint, "", |log| {
        log["data"].as_array().is_some_and(|d| d.len() == 2)
    })
    .await;
    let held: Vec<&Value> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["attempts"].as_array().is_none_or(|a| a.is_empty()))
        .collect();
    assert_eq!(held.len(), 1, "the new delivery waits: {log}");
    assert_eq!(held[0]["status"], "pending");
    assert_eq!(
        slow.requests().len(),
        1,
        "one request hung; nothing else was sent while cooling down"
    );

    // When the cooldown ends, the held job is attempted for real (and hangs again).
    slow.wait_for(20, |r| r.len() >= 2).await;
    assert_eq!(slow.requests().len(), 2);
}

/// An endpoint whose deliveries keep failing past the configured time is disabled, with its event.
#[tokio::test]
async fn an_endpoint_failing_too_long_is_disabled() {
    let (app, store, _pipeline) =
        pipeline_app_with("0s,2s,2s", &[("CARTWHEEL_WEBHOOK_DISABLE_AFTER_HOURS", "0")]).await;
    let key = &store.test_key;
    let hook = receiver(usize::MAX, 200).await;
    let (endpoint, _) = subscribe(&app, key, &hook.url).await;
    create_product(&app, key).await;
    let disabled = wait_until_disabled(&app, key, &endpoint).await;
    assert_eq!(disabled["disabled_reason"], "every delivery failed for too long");
    assert_eq!(
        hook.requests().len(),
        2,
        "disabled at the second failure, once its clock had run"
    );
    // Re-enabling clears the clock.
    let enabled = app
        .http
        .patch(format!("{}/v1/webhooks/{endpoint}", app.url))
        .bearer_auth(key)
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    let enabled: Value = enabled.json().await.unwrap();
    assert_eq!(enabled["data"]["enabled"], true);
    assert!(enabled["data"].get("disabled_reason").is_none());
}

/// The outbox: while EventBridge refuses events (here: the bus is gone), nothing is lost. The publisher keeps
/// reporting the same stream records as failed; a publisher started after the bus is back (as Lambda resumes a shard
/// from its last checkpoint) publishes them, and the event arrives once.
#[tokio::test]
async fn an_event_survives_a_publisher_outage() {
    let (app, store, pipeline) = pipeline_app("0s,1s").await;
    let events = aws_sdk_eventbridge::Client::new(&app.sdk);
    let config = &app.state.config;
    let rule = format!("cartwheel-{}-store-events", config.stage);
    events
        .remove_targets()
        .rule(&rule)
        .event_bus_name(&config.event_bus)
        .ids("WebhookEventsQueue")
        .send()
        .await
        .unwrap();
    events
        .delete_rule()
        .name(&rule)
        .event_bus_name(&config.event_bus)
        .send()
        .await
        .unwrap();
    events.delete_event_bus().name(&config.event_bus).send().await.unwrap();

    let hook = receiver(0, 200).await;
    subscribe(&app, &store.test_key, &hook.url).await;
    let product = create_product(&app, &store.test_key).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        hook.requests().is_empty(),
        "nothing can be delivered while the bus is gone"
    );

    // Restored while no publisher runs: an event put on the bus before its rule and target are back would be
    // dropped by EventBridge, here as on AWS.
    drop(pipeline);
    let mut config = (**config).clone();
    cartwheel_gateway::resources::ensure(&mut config, &app.sdk, &app.state.db, cartwheel_tests::PLATFORM_KEY)
        .await
        .unwrap();
    let _restarted = Pipeline::start(&app.sdk, &app.state, app.keys.clone().unwrap()).unwrap();
    let requests = hook.wait_for(20, |r| r.iter().any(|r| r.body.contains(&product))).await;
    let created = requests.iter().filter(|r| r.body.contains("product.created")).count();
    assert_eq!(created, 1, "the event arrives once");
}

/// Sets how long a received delivery job stays hidden: the time after which a job whose worker was killed comes back.
async fn hide_jobs_for(app: &TestApp, seconds: u32) {
    aws_sdk_sqs::Client::new(&app.sdk)
        .set_queue_attributes()
        .queue_url(&app.queues["WebhookDeliveriesQueue"])
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            seconds.to_string(),
        )
        .send()
        .await
        .unwrap();
}

/// A delivery worker that dies mid-batch loses nothing: the job reappears after its visibility timeout.
#[tokio::test]
async fn a_job_survives_a_worker_killed_mid_delivery() {
    let options = Options {
        own_stage: true,
        allow_loopback: true,
        retry_schedule: Some("0s,1s"),
        ..Default::default()
    };
    let app = spawn_app_with(options).await;
    hide_jobs_for(&app, 4).await;
    let store = app.create_store().await;
    // The receiver answers after 2 s, so the worker is surely killed while its POST is in flight, even on a
    // loaded 2-core CI machine (with 1 s, a run under full load once saw the first attempt finish first); the
    // job stays hidden 4 s, longer than one attempt, so the redelivery is not itself redelivered.
    let hook = cartwheel_tests::receiver_with(0, 200, Duration::from_secs(2)).await;
    let (endpoint, _) = subscribe(&app, &store.test_key, &hook.url).await;

    let first = Pipeline::start(&app.sdk, &app.state, app.keys.clone().unwrap()).unwrap();
    create_product(&app, &store.test_key).await;
    hook.wait_for(20, |r| !r.is_empty()).await;
    drop(first); // killed while the POST is in flight: the job is neither deleted nor rescheduled

    let _second = Pipeline::start(&app.sdk, &app.state, app.keys.clone().unwrap()).unwrap();
    let log = wait_for_log(&app, &store.test_key, &endpoint, "", |log| {
        log["data"][0]["status"] == "succeeded"
    })
    .await;
    assert_eq!(
        log["data"][0]["attempts"].as_array().unwrap().len(),
        1,
        "the killed attempt left no record"
    );
    let requests = hook.requests();
    assert_eq!(
        requests.len(),
        2,
        "the receiver saw the killed attempt and the redelivery"
    );
    assert_eq!(requests[0].headers["webhook-id"], requests[1].headers["webhook-id"]);
}

/// A job seen again after its visibility timeout while its first attempt is still in flight is attempted twice;
/// when the second attempt succeeds first, the first one's late failure is logged but does not make the delivery
/// pending (or failed) again: it stays succeeded, and nothing is sent a third time.
#[tokio::test]
async fn a_late_failed_attempt_does_not_unsettle_a_delivered_job() {
    let (app, store, _pipeline) = pipeline_app("0s,1s").await;
    // The job comes back after 1 s, while the first POST (answered 500 after 3 s) is still in flight.
    hide_jobs_for(&app, 1).await;
    let hook = cartwheel_tests::receiver_with(1, 200, Duration::from_secs(3)).await;
    let (endpoint, _) = subscribe(&app, &store.test_key, &hook.url).await;
    create_product(&app, &store.test_key).await;
    hook.wait_for(20, |r| !r.is_empty()).await;
    hook.set_delay(Duration::ZERO);
    let log = wait_for_log(&app, &store.test_key, &endpoint, "", |log| {
        log["data"][0]["attempts"].as_array().is_some_and(|a| a.len() == 2)
    })
    .await;
    let attempts = log["data"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["status"], 200, "the redelivered job succeeded first");
    assert_eq!(attempts[1]["status"], 500, "the first attempt's late failure is logged");
    assert_eq!(log["data"][0]["status"], "succeeded");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let log = deliveries(&app, &store.test_key, &endpoint).await;
    assert_eq!(log["data"][0]["status"], "succeeded", "still settled");
    assert_eq!(hook.requests().len(), 2, "no third attempt");
}

/// Runs the receivers' verification code published in docs/webhooks/ (Python and Node.js) on a real delivery.
fn verify_with_the_documented_samples(secret: &str, request: &cartwheel_tests::Received) {
    let dir = std::env::temp_dir().join(format!("cartwheel-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let headers: serde_json::Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), json!(value.to_str().unwrap())))
        .collect();
    let headers_file = dir.join("headers.json");
    std::fs::write(&headers_file, Value::Object(headers).to_string()).unwrap();
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/webhooks");
    for (program, script) in [("python3", "verify.py"), ("node", "verify.js")] {
        for (body, valid) in [
            (request.body.clone(), true),
            (request.body.replace("Mug", "Jug"), false),
        ] {
            let body_file = dir.join("body.json");
            std::fs::write(&body_file, &body).unwrap();
            let output = std::process::Command::new(program)
                .arg(docs.join(script))
                .arg(secret)
                .arg(&headers_file)
                .arg(&body_file)
                .output()
                .unwrap_or_else(|e| panic!("could not run {program}: {e}"));
            assert_eq!(
                output.status.success(),
                valid,
                "{script} on a {} body: {}",
                if valid { "genuine" } else { "tampered" },
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Waits until the endpoint is disabled and returns it.
async fn wait_until_disabled(app: &TestApp, key: &str, endpoint: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let current: Value = app
            .get(&format!("/v1/webhooks/{endpoint}"), key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if current["data"]["enabled"] == false {
            return current["data"].clone();
        }
        assert!(Instant::now() < deadline, "the endpoint was not disabled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Makes `count` product events (one create each, with a unique SKU).
async fn product_changes(app: &TestApp, key: &str, count: usize, round: &str) {
    for i in 0..count {
        let body = json!({"name": "Mug", "sku": format!("H-{round}-{i}"), "price": {"amount": 100, "currency": "USD"}});
        app.post("/v1/products", key, &body).expect(201).await;
    }
}

/// The event ids the receiver got, each once per distinct `webhook-id` (what a receiver that dedupes keeps).
pub(crate) fn delivered(requests: &[cartwheel_tests::Received]) -> std::collections::BTreeMap<String, String> {
    requests
        .iter()
        .map(|r| {
            let event: Value = serde_json::from_str(&r.body).unwrap();
            let id = r.headers["webhook-id"].to_str().unwrap().to_owned();
            (id, event["id"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// The history check: every event of these groups (`product.`, …) committed in the store's test mode, read from
/// the table.
pub(crate) async fn committed(app: &TestApp, store: &TestStore, groups: &[&str]) -> std::collections::BTreeSet<String> {
    cartwheel_tests::events(app, &store.id, "test")
        .await
        .into_iter()
        .filter(|e| {
            e["type"]
                .as_str()
                .is_some_and(|t| groups.iter().any(|g| t.starts_with(g)))
        })
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Arms the publisher's kill at `at`, makes three product changes, and waits until the publisher died.
async fn publisher_killed(app: &TestApp, key: &str, pipeline: &Pipeline, at: PublisherKill, round: &str) {
    pipeline.kill_publisher(at);
    product_changes(app, key, 3, round).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !pipeline.publisher_stopped() {
        assert!(Instant::now() < deadline, "the publisher was not killed {at:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Nothing accepted is lost on the event path: through a publisher killed between reading the stream and
/// `PutEvents` and one killed after `PutEvents` before moving past its batch, a worker killed mid-delivery, a receiver down for a while, and one answering `200` only
/// after the timeout, every committed event reaches the receiver at least once and exactly once after dedupe by
/// `webhook-id`. Then a receiver down for the whole retry schedule: those deliveries end failed, in the delivery log
/// and the dead-letter queue alike, and `recover since T` re-sends exactly them.
#[tokio::test]
async fn every_committed_event_reaches_the_receiver_through_faults() {
    // Six attempts over 15 s: longer than the outages below together, so only the last phase exhausts it.
    let (app, store, pipeline) = pipeline_app_with(
        "0s,1s,2s,3s,4s,5s",
        &[
            ("CARTWHEEL_WEBHOOK_TIMEOUT_SECS", "2"),
            ("CARTWHEEL_WEBHOOK_COOLDOWN_SECS", "1"),
        ],
    )
    .await;
    // A job whose worker was killed comes back after the queue's visibility timeout: short here, as the
    // compressed retry schedule (longer than one attempt, so no live attempt is redelivered).
    hide_jobs_for(&app, 5).await;
    let key = &store.test_key;
    let hook = receiver(0, 200).await;
    let (endpoint, _) = subscribe(&app, key, &hook.url).await;
    let mut pipeline = Some(pipeline);
    let restart = |pipeline: &mut Option<Pipeline>| {
        drop(pipeline.take());
        *pipeline = Some(Pipeline::start(&app.sdk, &app.state, app.keys.clone().unwrap()).unwrap());
    };

    product_changes(&app, key, 3, "calm").await;
    publisher_killed(
        &app,
        key,
        pipeline.as_ref().unwrap(),
        PublisherKill::AfterRead,
        "killed-after-read",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !hook.requests().iter().any(|r| r.body.contains("H-killed-after-read")),
        "killed before PutEvents: nothing of its batch reached the bus"
    );
    restart(&mut pipeline);
    publisher_killed(
        &app,
        key,
        pipeline.as_ref().unwrap(),
        PublisherKill::AfterPublish,
        "killed-after-publish",
    )
    .await;
    restart(&mut pipeline);
    hook.set_down(true);
    product_changes(&app, key, 3, "receiver-down").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    hook.set_down(false);
    hook.set_delay(Duration::from_secs(3));
    product_changes(&app, key, 2, "answered-late").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    hook.set_delay(Duration::ZERO);
    product_changes(&app, key, 3, "killed-mid-delivery").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    restart(&mut pipeline);

    let history = committed(&app, &store, &["product."]).await;
    assert_eq!(history.len(), 17);
    let covered = |requests: &[cartwheel_tests::Received]| {
        let got: std::collections::BTreeSet<String> = delivered(requests).into_values().collect();
        history.is_subset(&got)
    };
    let requests = hook.wait_for(90, covered).await;
    let once = delivered(&requests);
    let events: std::collections::BTreeSet<&String> = once.values().collect();
    assert_eq!(once.len(), events.len(), "one webhook-id per event");
    assert_eq!(events.len(), history.len(), "nothing delivered that was not committed");
    assert!(
        requests.len() > history.len(),
        "the faults caused retries ({} requests)",
        requests.len()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = app
            .get(&format!("/v1/webhooks/{endpoint}/deliveries?limit=100"), key)
            .expect(200)
            .await;
        let unsettled: Vec<String> = log["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["status"] != "succeeded")
            .map(|d| format!("{} {} {}", d["id"], d["status"], d["attempts"]))
            .collect();
        if unsettled.is_empty() && log["data"].as_array().unwrap().len() == history.len() {
            break;
        }
        assert!(Instant::now() < deadline, "deliveries not settled: {unsettled:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Down for the whole schedule: failed for good, in the log and in the dead-letter queue, until recovered.
    let since = cartwheel::time::rfc3339(cartwheel::time::now() - Duration::from_secs(1));
    hook.set_down(true);
    product_changes(&app, key, 2, "down-for-good").await;
    let failed = wait_for_log(&app, key, &endpoint, "?status=failed", |log| {
        log["data"].as_array().unwrap().len() == 2
    })
    .await;
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let mut dead = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while dead.len() < 2 && Instant::now() < deadline {
        let output = sqs
            .receive_message()
            .queue_url(&app.queues["WebhookDeliveriesDLQ"])
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for message in output.messages() {
            let job: Value = serde_json::from_str(message.body().unwrap_or("{}")).unwrap();
            if job["endpoint_id"] == json!(endpoint) {
                dead.insert(job["event_id"].as_str().unwrap().to_owned());
            }
        }
    }
    let logged: std::collections::BTreeSet<String> = failed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(dead, logged, "the dead-letter queue and the delivery log agree");
    hook.set_down(false);
    let recovered = app
        .post(
            &format!("/v1/webhooks/{endpoint}/recover"),
            key,
            &json!({"since": since}),
        )
        .expect_data(202)
        .await;
    assert_eq!(recovered["queued"], 2, "exactly the failed ones");
    let history = committed(&app, &store, &["product."]).await;
    assert_eq!(history.len(), 19);
    let requests = hook
        .wait_for(60, |requests| {
            let got: std::collections::BTreeSet<String> = delivered(requests).into_values().collect();
            history.is_subset(&got)
        })
        .await;
    let events: std::collections::BTreeSet<String> = delivered(&requests).into_values().collect();
    assert_eq!(
        events, history,
        "the history check: every committed event delivered, nothing else"
    );
}

/// Events lost after their commit (here EventBridge drops them: the rule to the queue is gone, as when the bus's
/// state is lost) are not lost for good: the outbox keeps them, and `recover since T` delivers every one the endpoint
/// never got, without sending again what it did get.
#[tokio::test]
async fn recover_delivers_events_the_event_path_lost_after_their_commit() {
    let (app, store, _pipeline) = pipeline_app("0s").await;
    let key = &store.test_key;
    let hook = receiver(0, 200).await;
    let (endpoint, _) = subscribe(&app, key, &hook.url).await;
    product_changes(&app, key, 1, "before").await;
    hook.wait_for(20, |r| r.len() == 1).await;

    let events = aws_sdk_eventbridge::Client::new(&app.sdk);
    let config = &app.state.config;
    let rule = format!("cartwheel-{}-store-events", config.stage);
    let bus = &config.event_bus;
    events
        .remove_targets()
        .rule(&rule)
        .event_bus_name(bus)
        .ids("WebhookEventsQueue")
        .send()
        .await
        .unwrap();
    events
        .delete_rule()
        .name(&rule)
        .event_bus_name(bus)
        .send()
        .await
        .unwrap();
    let since = cartwheel::time::rfc3339(cartwheel::time::now() - Duration::from_secs(1));
    product_changes(&app, key, 3, "dropped").await;
    // The publisher puts them on the bus, which matches no rule: EventBridge drops them.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut restored_config = (**config).clone();
    cartwheel_gateway::resources::ensure(
        &mut restored_config,
        &app.sdk,
        &app.state.db,
        cartwheel_tests::PLATFORM_KEY,
    )
    .await
    .unwrap();
    product_changes(&app, key, 1, "after").await;
    hook.wait_for(20, |r| r.len() == 2).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(hook.requests().len(), 2, "the dropped events were never delivered");

    let recovered = app
        .post(
            &format!("/v1/webhooks/{endpoint}/recover"),
            key,
            &json!({"since": since}),
        )
        .expect_data(202)
        .await;
    assert_eq!(recovered["queued"], 0, "nothing had failed");
    assert_eq!(recovered["restored"], 3, "exactly the dropped events");
    let history = committed(&app, &store, &["product."]).await;
    assert_eq!(history.len(), 5);
    hook.wait_for(20, |r| r.len() >= 5).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let requests = hook.requests();
    let delivered_events: std::collections::BTreeSet<String> = delivered(&requests).into_values().collect();
    assert_eq!(delivered_events, history);
    assert_eq!(requests.len(), 5, "what had been delivered was not sent again");
}
