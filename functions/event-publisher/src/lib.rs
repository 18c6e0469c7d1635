//! `functions/event-publisher`: the table's stream → the EventBridge bus.
//!
//! Every state change wrote its EVENT item in its own transaction; this function only moves those items on. A
//! batch that cannot be fully published reports the first unpublished record (Lambda's partial-batch response for
//! streams), so Lambda retries from there and nothing is skipped; events after it may be published twice, which the
//! envelope's id and `resource.version` let consumers absorb.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use cartwheel::bus::{Bus, BusEvent};
use lambda_runtime::LambdaEvent;

/// An EVENT item found in a stream record, with the record's sequence number.
#[derive(Debug, PartialEq)]
pub struct Found {
    pub sequence: String,
    pub event: BusEvent,
}

/// The EVENT items newly written in `records`, in stream order. Other items, updates and removals (TTL) are not
/// events and are skipped; a malformed EVENT item is logged and skipped (retrying would never fix it).
pub fn outbox_events(records: &[EventRecord]) -> Vec<Found> {
    let mut found = Vec::new();
    for record in records.iter().filter(|r| r.event_name == "INSERT") {
        let image = &record.change.new_image;
        let text = |name: &str| match image.get(name) {
            Some(serde_dynamo::AttributeValue::S(text)) => Some(text.clone()),
            _ => None,
        };
        if text("entity").as_deref() != Some("EVENT") {
            continue;
        }
        let envelope: Option<serde_json::Value> = image
            .get("event")
            .and_then(|event| serde_dynamo::from_attribute_value(event.clone()).ok());
        let detail_type = envelope
            .as_ref()
            .and_then(|e| e.get("type")?.as_str().map(str::to_owned));
        match (
            text("source"),
            detail_type,
            envelope,
            record.change.sequence_number.clone(),
        ) {
            (Some(source), Some(detail_type), Some(envelope), Some(sequence)) => found.push(Found {
                sequence,
                event: BusEvent {
                    source,
                    detail_type,
                    detail: envelope.to_string(),
                },
            }),
            _ => tracing::error!(event_id = %record.event_id, "malformed EVENT item skipped"),
        }
    }
    found
}

pub async fn handle(bus: &Bus, event: LambdaEvent<Event>) -> Result<DynamoDbEventResponse, lambda_runtime::Error> {
    let found = outbox_events(&event.payload.records);
    let events: Vec<BusEvent> = found.iter().map(|f| f.event.clone()).collect();
    let mut response = DynamoDbEventResponse::default();
    if let Err(first_failed) = bus.publish(&events).await {
        tracing::warn!(
            published = first_failed,
            total = events.len(),
            "events left for a retry"
        );
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(found[first_failed].sequence.clone());
        response.batch_item_failures.push(failure);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, sequence: &str, image: serde_json::Value) -> EventRecord {
        serde_json::from_value(serde_json::json!({
            "eventID": format!("e{sequence}"), "awsRegion": "us-east-1",
            "eventName": name,
            "dynamodb": {"SequenceNumber": sequence, "SizeBytes": 1, "NewImage": image},
        }))
        .unwrap()
    }

    fn event_image(event_type: &str) -> serde_json::Value {
        serde_json::json!({
            "PK": {"S": "S#st_1#test#EVENT#evt_1"}, "SK": {"S": "EVENT"},
            "entity": {"S": "EVENT"}, "source": {"S": "cartwheel.catalog"},
            "event": {"M": {"id": {"S": "evt_1"}, "type": {"S": event_type}, "data": {"M": {"name": {"S": "Mug"}}}}}
        })
    }

    #[test]
    fn only_new_event_items_are_published_in_order() {
        let records = vec![
            record("INSERT", "1", event_image("product.created")),
            record(
                "INSERT",
                "2",
                serde_json::json!({"entity": {"S": "AUDIT"}, "PK": {"S": "x"}}),
            ),
            record("MODIFY", "3", event_image("product.updated")),
            record("REMOVE", "4", serde_json::json!({})),
            record("INSERT", "5", event_image("product.updated")),
            record(
                "INSERT",
                "6",
                serde_json::json!({"entity": {"S": "EVENT"}, "source": {"S": "cartwheel.x"}}),
            ),
        ];
        let found = outbox_events(&records);
        let summary: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.sequence.as_str(), f.event.detail_type.as_str()))
            .collect();
        assert_eq!(summary, [("1", "product.created"), ("5", "product.updated")]);
        let detail: serde_json::Value = serde_json::from_str(&found[0].event.detail).unwrap();
        assert_eq!(detail["data"]["name"], "Mug");
        assert_eq!(found[0].event.source, "cartwheel.catalog");
    }
}
