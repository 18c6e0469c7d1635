//! What Lambda's event source mappings do on AWS, done locally: poll the table's stream and the SQS queues and hand
//! the records, as the real Lambda events, to the event publisher, the fanout and the delivery functions, honouring
//! their partial-batch responses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::event::dynamodb::{Event, EventRecord, StreamRecord};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use cartwheel::bus::Bus;
use cartwheel::config::WebhookQueue;
use cartwheel::http::AppState;
use cartwheel::webhooks::MasterKeys;
use cartwheel_webhook_delivery::Deliverer;
use cartwheel_webhook_fanout::Fanout;
use lambda_runtime::{Context, LambdaEvent};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::resources::Error;

const IDLE: Duration = Duration::from_millis(100);
/// Delivery batches handled at once (Lambda's SQS event source starts with five and scales with the backlog).
const DELIVERY_INVOCATIONS: usize = 20;
/// How often the local stack runs the scheduled functions (every minute on AWS).
const SCHEDULE_EVERY: Duration = Duration::from_secs(2);

/// Where a test can make the local publisher die in its next batch of stream records, as a Lambda invocation can
/// die anywhere: what it had read but not moved past is read again by the next publisher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublisherKill {
    /// After reading the records, before `PutEvents`: nothing of the batch reached the bus.
    AfterRead,
    /// After `PutEvents` succeeded, before moving past the batch: all of it will be published again.
    AfterPublish,
}

/// The kill a test has asked for, shared with the publisher task; taken (once) when it fires.
#[derive(Clone, Default)]
struct KillSwitch(Arc<Mutex<Option<PublisherKill>>>);

impl KillSwitch {
    fn arm(&self, at: PublisherKill) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(at);
    }

    /// Whether the publisher dies at `point` now.
    fn fires(&self, point: PublisherKill) -> bool {
        let mut armed = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        armed.take_if(|at| *at == point).is_some()
    }
}

#[derive(Debug)]
struct Killed(PublisherKill);

impl std::fmt::Display for Killed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "publisher killed {:?}", self.0)
    }
}

impl std::error::Error for Killed {}

/// Polls the stream of `table` until the task is dropped, publishing every event on `bus`.
pub fn spawn_stream_publisher(sdk: &SdkConfig, table: &str, bus: Bus) -> JoinHandle<()> {
    spawn_killable_stream_publisher(sdk, table, bus, KillSwitch::default())
}

fn spawn_killable_stream_publisher(sdk: &SdkConfig, table: &str, bus: Bus, kill: KillSwitch) -> JoinHandle<()> {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let streams = aws_sdk_dynamodbstreams::Client::new(sdk);
    let table = table.to_owned();
    tokio::spawn(async move {
        let mut shards = Shards::default();
        loop {
            match shards.poll_once(&dynamodb, &streams, &table, &bus, &kill).await {
                Ok(0) => tokio::time::sleep(IDLE).await,
                Ok(_) => {}
                Err(error) if error.is::<Killed>() => {
                    tracing::warn!(%error, "stream publisher stopped");
                    return;
                }
                Err(error) => {
                    let error = aws_smithy_types::error::display::DisplayErrorContext(&*error);
                    tracing::warn!(%error, "stream poll failed");
                    tokio::time::sleep(IDLE * 10).await;
                }
            }
        }
    })
}

/// The next iterator of every shard being read.
#[derive(Default)]
struct Shards {
    iterators: HashMap<String, Option<String>>,
}

impl Shards {
    /// Reads each shard once; returns how many records were handed on.
    async fn poll_once(
        &mut self,
        dynamodb: &aws_sdk_dynamodb::Client,
        streams: &aws_sdk_dynamodbstreams::Client,
        table: &str,
        bus: &Bus,
        kill: &KillSwitch,
    ) -> Result<usize, Error> {
        let described = dynamodb.describe_table().table_name(table).send().await?;
        let arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or("the table has no stream")?
            .to_owned();
        let stream = streams.describe_stream().stream_arn(&arn).send().await?;
        for shard in stream.stream_description().map(|d| d.shards()).unwrap_or_default() {
            let Some(id) = shard.shard_id() else { continue };
            if !self.iterators.contains_key(id) {
                let iterator = streams
                    .get_shard_iterator()
                    .stream_arn(&arn)
                    .shard_id(id)
                    .shard_iterator_type(ShardIteratorType::TrimHorizon)
                    .send()
                    .await?;
                self.iterators
                    .insert(id.to_owned(), iterator.shard_iterator().map(str::to_owned));
            }
        }
        let mut handled = 0;
        let mut lost = Vec::new();
        for (shard, iterator) in self.iterators.iter_mut() {
            let Some(current) = iterator.clone() else { continue };
            let output = match streams.get_records().shard_iterator(&current).limit(100).send().await {
                Ok(output) => output,
                // DynamoDB Local sometimes trims under an iterator taken before the shard had records, and an
                // iterator expires after 15 minutes: start the shard again from its oldest record (at-least-once).
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_trimmed_data_access_exception() || e.is_expired_iterator_exception()) =>
                {
                    lost.push(shard.clone());
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            let records: Vec<EventRecord> = output.records().iter().map(lambda_record).collect();
            if records.is_empty() {
                *iterator = output.next_shard_iterator().map(str::to_owned);
                continue;
            }
            handled += records.len();
            if kill.fires(PublisherKill::AfterRead) {
                return Err(Killed(PublisherKill::AfterRead).into());
            }
            let mut payload = Event::default();
            payload.records = records;
            let event = LambdaEvent::new(payload, Context::default());
            let response = cartwheel_event_publisher::handle(bus, event)
                .await
                .map_err(|e| e.to_string())?;
            if kill.fires(PublisherKill::AfterPublish) {
                return Err(Killed(PublisherKill::AfterPublish).into());
            }
            if response.batch_item_failures.is_empty() {
                *iterator = output.next_shard_iterator().map(str::to_owned);
            } else {
                // As Lambda does: read the batch again (iterators stay valid for 15 minutes).
                tokio::time::sleep(IDLE).await;
            }
        }
        for shard in lost {
            self.iterators.remove(&shard);
        }
        Ok(handled)
    }
}

/// A stream record as Lambda delivers it.
fn lambda_record(record: &aws_sdk_dynamodbstreams::types::Record) -> EventRecord {
    let mut change = StreamRecord::default();
    if let Some(data) = record.dynamodb() {
        change.keys = data.keys().cloned().unwrap_or_default().into();
        change.new_image = data.new_image().cloned().unwrap_or_default().into();
        change.old_image = data.old_image().cloned().unwrap_or_default().into();
        change.sequence_number = data.sequence_number().map(str::to_owned);
        change.size_bytes = data.size_bytes().unwrap_or_default();
    }
    let mut lambda = EventRecord::default();
    lambda.event_id = record.event_id().unwrap_or_default().to_owned();
    lambda.event_name = record.event_name().map(|n| n.as_str().to_owned()).unwrap_or_default();
    lambda.aws_region = record.aws_region().unwrap_or_default().to_owned();
    lambda.change = change;
    lambda
}

/// Receives from `queue` until the task is dropped, handing each batch to `handler` as Lambda's SQS event source
/// does: up to `concurrency` batches at once (an invocation that hangs holds one, not the queue), messages the
/// handler did not report as failed deleted, failed ones left hidden for as long as the handler (or the queue's
/// visibility timeout) says.
pub fn spawn_queue_consumer<H, F>(sdk: &SdkConfig, queue: &str, concurrency: usize, handler: H) -> JoinHandle<()>
where
    H: Fn(LambdaEvent<SqsEvent>) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = Result<SqsBatchResponse, lambda_runtime::Error>> + Send + 'static,
{
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let queue: Arc<str> = Arc::from(queue);
    let handler = Arc::new(handler);
    let invocations = Arc::new(Semaphore::new(concurrency));
    tokio::spawn(async move {
        loop {
            let Ok(invocation) = Arc::clone(&invocations).acquire_owned().await else {
                return;
            };
            match receive(&sqs, &queue).await {
                Ok(messages) if messages.is_empty() => tokio::time::sleep(IDLE).await,
                Ok(messages) => {
                    let (sqs, queue, handler) = (sqs.clone(), Arc::clone(&queue), Arc::clone(&handler));
                    tokio::spawn(async move {
                        if let Err(error) = invoke(&sqs, &queue, &*handler, messages).await {
                            let error = aws_smithy_types::error::display::DisplayErrorContext(&*error);
                            tracing::warn!(%error, %queue, "queue batch not deleted");
                        }
                        drop(invocation);
                    });
                }
                Err(error) => {
                    let error = aws_smithy_types::error::display::DisplayErrorContext(&*error);
                    tracing::warn!(%error, %queue, "queue poll failed");
                    tokio::time::sleep(IDLE * 10).await;
                }
            }
        }
    })
}

async fn receive(sqs: &aws_sdk_sqs::Client, queue: &str) -> Result<Vec<aws_sdk_sqs::types::Message>, Error> {
    let received = sqs
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(10)
        // Short polls: long polls from the many consumers of a parallel test run slowed moto down for everyone.
        .wait_time_seconds(0)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await?;
    Ok(received.messages.unwrap_or_default())
}

async fn invoke<H, F>(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    handler: &H,
    messages: Vec<aws_sdk_sqs::types::Message>,
) -> Result<(), Error>
where
    H: Fn(LambdaEvent<SqsEvent>) -> F,
    F: std::future::Future<Output = Result<SqsBatchResponse, lambda_runtime::Error>>,
{
    let mut payload = SqsEvent::default();
    payload.records = messages.iter().map(lambda_message).collect();
    let failed: Vec<String> = match handler(LambdaEvent::new(payload, Context::default())).await {
        Ok(response) => response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect(),
        // A handler error fails the whole batch, as on AWS.
        Err(error) => {
            tracing::warn!(%error, "queue handler failed");
            messages
                .iter()
                .filter_map(|m| m.message_id().map(str::to_owned))
                .collect()
        }
    };
    // One DeleteMessageBatch for what was handled, as Lambda's event source does.
    let done: Vec<DeleteMessageBatchRequestEntry> = messages
        .iter()
        .filter(|m| m.message_id().is_some_and(|id| !failed.iter().any(|f| f == id)))
        .filter_map(|m| m.receipt_handle())
        .enumerate()
        .map(|(i, receipt)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(receipt)
                .build()
        })
        .collect::<Result<_, _>>()?;
    if !done.is_empty() {
        sqs.delete_message_batch()
            .queue_url(queue)
            .set_entries(Some(done))
            .send()
            .await?;
    }
    Ok(())
}

fn lambda_message(message: &aws_sdk_sqs::types::Message) -> SqsMessage {
    let mut lambda = SqsMessage::default();
    lambda.message_id = message.message_id().map(str::to_owned);
    lambda.receipt_handle = message.receipt_handle().map(str::to_owned);
    lambda.body = message.body().map(str::to_owned);
    lambda.attributes = message
        .attributes()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    lambda.event_source = Some("aws:sqs".into());
    lambda
}

/// The whole event pipeline of a stack: stream → bus (EventBridge rule → webhook-events) → fanout → delivery.
pub struct Pipeline {
    tasks: Vec<JoinHandle<()>>,
    kill: KillSwitch,
}

impl Pipeline {
    pub fn start(sdk: &SdkConfig, state: &AppState, keys: MasterKeys) -> Result<Self, Error> {
        let config = &state.config;
        let events_queue = config.queue_url(WebhookQueue::Events)?.to_owned();
        let deliveries_queue = config.queue_url(WebhookQueue::Deliveries)?.to_owned();
        let fanout = Arc::new(Fanout::new(state, sdk)?);
        let deliverer = Arc::new(Deliverer::new(state, sdk, keys)?);
        let db = state.db.clone();
        let kill = KillSwitch::default();
        let tasks = vec![
            // First: `publisher_stopped` looks at it.
            spawn_killable_stream_publisher(sdk, &config.table, Bus::new(sdk, &config.event_bus), kill.clone()),
            // moto fires no schedules: the gateway runs the scheduled functions itself.
            tokio::spawn(async move {
                loop {
                    if let Err(error) =
                        cartwheel::inventory::sweep_expired(&db, cartwheel::inventory::SWEEP_BATCH).await
                    {
                        tracing::warn!(?error, "reservation sweep failed");
                    }
                    tokio::time::sleep(SCHEDULE_EVERY).await;
                }
            }),
            spawn_queue_consumer(sdk, &events_queue, 1, move |event| {
                let fanout = Arc::clone(&fanout);
                async move { fanout.handle(event).await }
            }),
            // Lambda runs several batches of a queue at once and adds more while a backlog lasts (five at first,
            // then up to 300 more a minute); so does the local stack for deliveries, where a batch that waits on a
            // hanging endpoint must not hold up the others.
            spawn_queue_consumer(sdk, &deliveries_queue, DELIVERY_INVOCATIONS, move |event| {
                let deliverer = Arc::clone(&deliverer);
                async move { deliverer.handle(event).await }
            }),
        ];
        Ok(Self { tasks, kill })
    }

    /// Makes the stream publisher die at `at` in the next batch of records it reads; the rest of the pipeline runs on.
    pub fn kill_publisher(&self, at: PublisherKill) {
        self.kill.arm(at);
    }

    /// Whether the stream publisher has stopped (killed by `kill_publisher`).
    pub fn publisher_stopped(&self) -> bool {
        self.tasks.first().is_some_and(JoinHandle::is_finished)
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
