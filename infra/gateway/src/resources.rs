//! The AWS resources of the local stack, declared as `template.yaml` declares them (a test compares the two),
//! and created on DynamoDB Local and moto at start-up.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use cartwheel::{Config, Db};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// An SQS queue and its dead-letter queue. Names are `cartwheel-{stage}-{suffix}`.
pub struct QueueDef {
    pub logical_id: &'static str,
    pub suffix: &'static str,
    pub visibility_timeout: u32,
    pub retention: u32,
    pub dlq_logical_id: &'static str,
    pub dlq_suffix: &'static str,
    pub max_receive_count: u32,
}

const DLQ_RETENTION: u32 = 1_209_600;

pub const QUEUES: &[QueueDef] = &[
    QueueDef {
        logical_id: "WebhookEventsQueue",
        suffix: "webhook-events",
        visibility_timeout: 60,
        retention: 345_600,
        dlq_logical_id: "WebhookEventsDLQ",
        dlq_suffix: "webhook-events-dlq",
        max_receive_count: 5,
    },
    QueueDef {
        logical_id: "WebhookDeliveriesQueue",
        suffix: "webhook-deliveries",
        visibility_timeout: 90,
        retention: 345_600,
        dlq_logical_id: "WebhookDeliveriesDLQ",
        dlq_suffix: "webhook-deliveries-dlq",
        max_receive_count: 10,
    },
];

/// The EventBridge rule that sends every store event to the webhook-events queue.
pub struct RuleDef {
    pub logical_id: &'static str,
    pub suffix: &'static str,
    pub source_prefix: &'static str,
    pub target_queue_logical_id: &'static str,
}

pub const STORE_EVENTS_RULE: RuleDef = RuleDef {
    logical_id: "StoreEventsRule",
    suffix: "store-events",
    source_prefix: "cartwheel.",
    target_queue_logical_id: "WebhookEventsQueue",
};

pub fn name(stage: &str, suffix: &str) -> String {
    format!("cartwheel-{stage}-{suffix}")
}

/// Queue URLs by logical id, as created.
pub type QueueUrls = HashMap<&'static str, String>;

/// Creates the table, queues, bus, rule and platform-key secret unless they exist, and fills in the queue URLs
/// that the configuration leaves unset.
pub async fn ensure(config: &mut Config, sdk: &SdkConfig, db: &Db, platform_key: &str) -> Result<QueueUrls, Error> {
    db.ensure_table().await?;
    let urls = ensure_queues(config, sdk).await?;
    if config.webhook_events_queue_url.is_none() {
        config.webhook_events_queue_url = urls.get("WebhookEventsQueue").cloned();
    }
    if config.webhook_deliveries_queue_url.is_none() {
        config.webhook_deliveries_queue_url = urls.get("WebhookDeliveriesQueue").cloned();
    }
    if config.webhook_dead_letter_queue_url.is_none() {
        config.webhook_dead_letter_queue_url = urls.get("WebhookDeliveriesDLQ").cloned();
    }
    ensure_bus_and_rule(config, sdk, &urls).await?;
    ensure_platform_key(config, sdk, platform_key).await?;
    ensure_master_key(config, sdk).await?;
    ensure_payments_secret(config, sdk).await?;
    Ok(urls)
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String, Error> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?;
    attributes
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| format!("queue {url} has no ARN").into())
}

async fn ensure_queues(config: &Config, sdk: &SdkConfig) -> Result<QueueUrls, Error> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut urls = QueueUrls::new();
    for queue in QUEUES {
        let dlq = sqs
            .create_queue()
            .queue_name(name(&config.stage, queue.dlq_suffix))
            .attributes(QueueAttributeName::MessageRetentionPeriod, DLQ_RETENTION.to_string())
            .send()
            .await?;
        let dlq_url = dlq.queue_url().ok_or("created DLQ has no URL")?.to_owned();
        let redrive = serde_json::json!({
            "deadLetterTargetArn": queue_arn(&sqs, &dlq_url).await?,
            "maxReceiveCount": queue.max_receive_count,
        });
        let created = sqs
            .create_queue()
            .queue_name(name(&config.stage, queue.suffix))
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                queue.visibility_timeout.to_string(),
            )
            .attributes(QueueAttributeName::MessageRetentionPeriod, queue.retention.to_string())
            .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
            .send()
            .await?;
        urls.insert(
            queue.logical_id,
            created.queue_url().ok_or("created queue has no URL")?.to_owned(),
        );
        urls.insert(queue.dlq_logical_id, dlq_url);
    }
    Ok(urls)
}

async fn ensure_bus_and_rule(config: &Config, sdk: &SdkConfig, urls: &QueueUrls) -> Result<(), Error> {
    let events = aws_sdk_eventbridge::Client::new(sdk);
    match events.create_event_bus().name(&config.event_bus).send().await {
        Ok(_) => {}
        // Already there: a parallel test, or a restart.
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_already_exists_exception()) => {}
        Err(error) => return Err(error.into()),
    }

    let rule = &STORE_EVENTS_RULE;
    let pattern = serde_json::json!({"source": [{"prefix": rule.source_prefix}]});
    let rule_name = name(&config.stage, rule.suffix);
    events
        .put_rule()
        .name(&rule_name)
        .event_bus_name(&config.event_bus)
        .event_pattern(pattern.to_string())
        .send()
        .await?;
    let target_url = urls
        .get(rule.target_queue_logical_id)
        .ok_or("rule target queue missing")?;
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id(rule.target_queue_logical_id)
        .arn(queue_arn(&sqs, target_url).await?)
        .build()?;
    events
        .put_targets()
        .rule(&rule_name)
        .event_bus_name(&config.event_bus)
        .targets(target)
        .send()
        .await?;
    Ok(())
}

/// A random master key for webhook secrets, made once per stack (a second process keeps the first one's).
async fn ensure_master_key(config: &Config, sdk: &SdkConfig) -> Result<(), Error> {
    ensure_random_secret(sdk, &config.webhook_master_key_secret).await
}

/// The secret shared with the payment provider, unless the environment gives it
/// (`CARTWHEEL_PAYMENTS_WEBHOOK_SECRET`); read it from moto to sign callbacks by hand (docs/local-stack.md).
async fn ensure_payments_secret(config: &Config, sdk: &SdkConfig) -> Result<(), Error> {
    if config.payments_webhook_secret.is_some() {
        return Ok(());
    }
    ensure_random_secret(sdk, &config.payments_webhook_secret_id).await
}

/// A random secret, made once per stack (a second process keeps the first one's).
async fn ensure_random_secret(sdk: &SdkConfig, name: &str) -> Result<(), Error> {
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    let material = cartwheel::webhooks::new_secret();
    match secrets.create_secret().name(name).secret_string(material).send().await {
        Ok(_) => Ok(()),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_exists_exception()) =>
        {
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

async fn ensure_platform_key(config: &Config, sdk: &SdkConfig, platform_key: &str) -> Result<(), Error> {
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    let created = secrets
        .create_secret()
        .name(&config.platform_key_secret)
        .secret_string(platform_key)
        .send()
        .await;
    if created.is_err() {
        secrets
            .put_secret_value()
            .secret_id(&config.platform_key_secret)
            .secret_string(platform_key)
            .send()
            .await?;
    }
    Ok(())
}
