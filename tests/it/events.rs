//! The event pipeline on the local stack: table stream → event-publisher → EventBridge rule → SQS.

use std::time::{Duration, Instant};

use cartwheel::bus::Bus;
use cartwheel_gateway::pipeline;
use cartwheel_tests::{spawn_app_with, Options};
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
