//! What `webhook-delivery` gets on AWS: one SQS record holding a delivery job, made by the real fanout for a
//! subscribed endpoint (a local receiver), on a stack of its own.

use aws_sdk_sqs::types::MessageSystemAttributeName;
use cartwheel::config::WebhookQueue;
use cartwheel::events::{Event, EventType, ResourceRef};
use cartwheel::ids::StoreId;
use cartwheel::tenant::Mode;
use cartwheel_tests::{receiver, spawn_app_with, Options, Receiver, TestApp};
use cartwheel_webhook_fanout::Fanout;
use serde_json::json;

use crate::lambda::Error;

pub struct DeliveryBench {
    pub app: TestApp,
    store: StoreId,
    pub receiver: Receiver,
    fanout: Fanout,
    sqs: aws_sdk_sqs::Client,
    queue: String,
    /// How long each `fan_out` took (ms): the fanout's work per event, warm, in this process.
    fanouts: std::sync::Mutex<Vec<f64>>,
}

impl DeliveryBench {
    pub async fn start() -> Result<Self, Error> {
        let app = spawn_app_with(Options {
            own_stage: true,
            allow_loopback: true,
            ..Default::default()
        })
        .await;
        let store = app.create_store().await;
        let receiver = receiver(0, 200).await;
        let created = app
            .post(
                "/v1/webhooks",
                &store.test_key,
                &json!({"url": receiver.url, "events": ["product.updated"]}),
            )
            .send()
            .await?;
        if created.status() != 201 {
            return Err(format!("endpoint: {}", created.text().await?).into());
        }
        let queue = app.state.config.queue_url(WebhookQueue::Deliveries)?.to_owned();
        Ok(Self {
            fanout: Fanout::new(&app.state, &app.sdk)?,
            sqs: aws_sdk_sqs::Client::new(&app.sdk),
            store: store.id.parse()?,
            receiver,
            queue,
            app,
            fanouts: std::sync::Mutex::default(),
        })
    }

    /// The function's environment: its stage (table, queues, master key) and loopback receivers allowed.
    pub fn env(&self) -> Vec<(String, String)> {
        let config = &self.app.state.config;
        let mut env = vec![
            ("CARTWHEEL_STAGE".to_owned(), config.stage.clone()),
            ("CARTWHEEL_TABLE".to_owned(), config.table.clone()),
            ("CARTWHEEL_WEBHOOK_ALLOW_LOOPBACK".to_owned(), "1".to_owned()),
            ("CARTWHEEL_WEBHOOK_DELIVERIES_QUEUE_URL".to_owned(), self.queue.clone()),
        ];
        if let Some(dlq) = &config.webhook_dead_letter_queue_url {
            env.push(("CARTWHEEL_WEBHOOK_DLQ_URL".to_owned(), dlq.clone()));
        }
        env
    }

    /// Every `fan_out` timed so far, in milliseconds.
    pub fn fanout_ms(&self) -> Vec<f64> {
        self.fanouts.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A fresh event fanned out to the receiver's endpoint, and its job as the SQS event Lambda would hand over.
    pub async fn next_event(&self) -> Result<String, Error> {
        let resource = ResourceRef {
            kind: "product".into(),
            id: "prod_bench".into(),
            version: 1,
        };
        let event = Event::new(
            self.store,
            Mode::Test,
            EventType::ProductUpdated,
            resource,
            json!({"name": "Bench mug"}),
        );
        let started = std::time::Instant::now();
        self.fanout.fan_out(event).await.map_err(|e| format!("fanout: {e}"))?;
        let took = started.elapsed().as_secs_f64() * 1000.0;
        self.fanouts.lock().unwrap_or_else(|e| e.into_inner()).push(took);
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.queue)
            .max_number_of_messages(1)
            .wait_time_seconds(5)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await?;
        let message = received.messages().first().ok_or("no delivery job in the queue")?;
        let attributes: serde_json::Map<String, serde_json::Value> = message
            .attributes()
            .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), json!(v))).collect())
            .unwrap_or_default();
        Ok(json!({"Records": [{
            "messageId": message.message_id(), "receiptHandle": message.receipt_handle(),
            "body": message.body(), "attributes": attributes, "messageAttributes": {},
            "md5OfBody": message.md5_of_body(), "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:cartwheel-bench-webhook-deliveries",
            "awsRegion": "us-east-1"
        }]})
        .to_string())
    }
}

/// The partial-batch response of a delivered job: nothing to retry.
pub fn delivered(response: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(response)
        .is_ok_and(|r| r["batchItemFailures"].as_array().is_some_and(|f| f.is_empty()))
}
