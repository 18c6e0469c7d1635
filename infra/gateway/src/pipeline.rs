//! What Lambda's event source mappings do on AWS, done locally: poll the table's stream and hand the records, as the
//! real Lambda event, to the event publisher; honour its partial-batch response by reading the failed records again.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::event::dynamodb::{Event, EventRecord, StreamRecord};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use cartwheel::bus::Bus;
use lambda_runtime::{Context, LambdaEvent};
use tokio::task::JoinHandle;

use crate::resources::Error;

const IDLE: Duration = Duration::from_millis(100);

/// Polls the stream of `table` until the task is dropped, publishing every event on `bus`.
pub fn spawn_stream_publisher(sdk: &SdkConfig, table: &str, bus: Bus) -> JoinHandle<()> {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let streams = aws_sdk_dynamodbstreams::Client::new(sdk);
    let table = table.to_owned();
    tokio::spawn(async move {
        let mut shards = Shards::default();
        loop {
            match shards.poll_once(&dynamodb, &streams, &table, &bus).await {
                Ok(0) => tokio::time::sleep(IDLE).await,
                Ok(_) => {}
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
        for iterator in self.iterators.values_mut() {
            let Some(current) = iterator.clone() else { continue };
            let output = streams.get_records().shard_iterator(&current).limit(100).send().await?;
            let records: Vec<EventRecord> = output.records().iter().map(lambda_record).collect();
            if records.is_empty() {
                *iterator = output.next_shard_iterator().map(str::to_owned);
                continue;
            }
            handled += records.len();
            let mut payload = Event::default();
            payload.records = records;
            let event = LambdaEvent::new(payload, Context::default());
            let response = cartwheel_event_publisher::handle(bus, event)
                .await
                .map_err(|e| e.to_string())?;
            if response.batch_item_failures.is_empty() {
                *iterator = output.next_shard_iterator().map(str::to_owned);
            } else {
                // As Lambda does: read the batch again (iterators stay valid for 15 minutes).
                tokio::time::sleep(IDLE).await;
            }
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
