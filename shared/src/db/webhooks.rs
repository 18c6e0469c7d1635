//! Webhook access patterns: endpoints (versioned, with events), deliveries and their attempt logs (operational
//! records: written directly, without events).

use std::collections::HashMap;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;

use super::keys;
use super::{from_item, item, n, s, tenant_prefix, Db, PageQuery, Scoped, Stale, WriteError};
use crate::error::ApiError;
use crate::events::Event;
use crate::http::pagination::{Cursor, Page, PageOf};
use crate::ids::{EventId, WebhookId};
use crate::model::webhooks::{Attempt, Delivery, DeliveryStatus, Endpoint};
use crate::tenant::Tenant;

fn sdk_error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    error: aws_sdk_dynamodb::error::SdkError<E, R>,
) -> ApiError {
    ApiError::internal(DisplayErrorContext(error))
}

impl Db {
    /// Creates (`before` = `None`), updates (conditional on the version read) or, with `after` = `None`, deletes an
    /// endpoint, with its event. `Ok(false)`: it changed meanwhile.
    pub async fn put_endpoint(
        &self,
        tenant: &Tenant,
        before: Option<&Endpoint>,
        after: Option<&Endpoint>,
        event: Event,
    ) -> Result<(), WriteError<Stale>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let tx = self.write(event, tenant.key_id.to_string());
        let version = |v: u64| HashMap::from([(":version".to_owned(), n(v))]);
        let tx = match (before, after) {
            (before, Some(after)) => tx.put_versioned(
                item(keys::webhook(store, mode, after.id), after)?,
                before.map(|b| b.version),
            ),
            (Some(before), None) => tx.delete_if(
                keys::webhook(store, mode, before.id),
                "version = :version",
                version(before.version),
            ),
            (None, None) => return Ok(()),
        };
        tx.commit(Stale).await
    }
}

impl Scoped<'_> {
    /// Appends an attempt and sets the delivery's status. A success always settles the delivery (the receiver has
    /// it); any other outcome changes the status only while the delivery is pending, so a late attempt that failed
    /// after another one succeeded (a job seen again after its visibility timeout) is logged but settles nothing.
    /// `false`: the delivery was settled already; only the attempt was appended.
    pub async fn record_attempt(
        &self,
        delivery: (WebhookId, EventId),
        attempt: Option<&Attempt>,
        status: DeliveryStatus,
        now: &str,
    ) -> Result<bool, ApiError> {
        let key = keys::delivery(self.store, self.mode, delivery.0, delivery.1);
        let append = "attempts = list_append(if_not_exists(attempts, :none), :attempt)";
        let mut values = vec![
            (
                ":status",
                serde_dynamo::to_attribute_value(status).map_err(ApiError::internal)?,
            ),
            (":now", s(now)),
        ];
        if let Some(attempt) = attempt {
            let attempt: AttributeValue = serde_dynamo::to_attribute_value(attempt).map_err(ApiError::internal)?;
            values.push((":attempt", AttributeValue::L(vec![attempt])));
            values.push((":none", AttributeValue::L(Vec::new())));
        }
        let set = match attempt {
            Some(_) => format!("SET #status = :status, updated_at = :now, {append}"),
            None => "SET #status = :status, updated_at = :now".to_owned(),
        };
        let condition = match status {
            DeliveryStatus::Succeeded => "attribute_exists(PK)",
            _ => "attribute_exists(PK) AND #status = :pending",
        };
        if self.claim(key.clone(), &set, condition, &values).await? {
            return Ok(true);
        }
        if attempt.is_some() {
            values.retain(|(name, _)| matches!(*name, ":attempt" | ":none"));
            let settled = "attribute_exists(PK) AND #status <> :pending";
            self.claim(key, &format!("SET {append}"), settled, &values).await?;
        }
        Ok(false)
    }

    /// Marks a delivery that is not pending as pending again, once: of concurrent resends (retry, recover) only one
    /// wins, so each delivery is queued once. `false`: it is pending already (or gone).
    pub async fn claim_resend(&self, delivery: (WebhookId, EventId), now: &str) -> Result<bool, ApiError> {
        let key = keys::delivery(self.store, self.mode, delivery.0, delivery.1);
        let set = "SET #status = :pending, updated_at = :now";
        self.claim(
            key,
            set,
            "attribute_exists(PK) AND #status <> :pending",
            &[(":now", s(now))],
        )
        .await
    }

    /// Claims a pending delivery that nothing has touched since `seen` (its job was lost) for another job, once: of
    /// concurrent recovers only one wins. `false`: it changed meanwhile (an attempt ran, another recover claimed it).
    pub async fn claim_stalled(&self, delivery: &Delivery, now: &str) -> Result<bool, ApiError> {
        let key = keys::delivery(self.store, self.mode, delivery.endpoint_id, delivery.id);
        let values = [(":seen", s(delivery.updated_at.clone())), (":now", s(now))];
        self.claim(
            key,
            "SET updated_at = :now",
            "#status = :pending AND updated_at = :seen",
            &values,
        )
        .await
    }

    /// A conditional update of a delivery (`#status` bound, and `:pending` when the condition uses it): `false` when
    /// its condition failed.
    async fn claim(
        &self,
        key: keys::Key,
        set: &str,
        condition: &str,
        values: &[(&str, AttributeValue)],
    ) -> Result<bool, ApiError> {
        let mut update = self
            .update_item_at(key)
            .update_expression(set)
            .condition_expression(condition)
            .expression_attribute_names("#status", "status");
        // DynamoDB refuses a bound value that the expressions do not use.
        if condition.contains(":pending") {
            let pending = serde_dynamo::to_attribute_value(DeliveryStatus::Pending).map_err(ApiError::internal)?;
            update = update.expression_attribute_values(":pending", pending);
        }
        for (name, value) in values {
            update = update.expression_attribute_values(*name, value.clone());
        }
        match update.send().await {
            Ok(_) => Ok(true),
            Err(error) => match error.into_service_error() {
                aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(_) => {
                    Ok(false)
                }
                other => Err(ApiError::internal(DisplayErrorContext(other))),
            },
        }
    }

    /// Every endpoint of a store and mode (the fanout reads them all; a store has few).
    pub async fn all_endpoints(&self) -> Result<Vec<Endpoint>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let mut endpoints = Vec::new();
        let mut page = Page::first(100);
        loop {
            let found: PageOf<Endpoint> = self.page::<Endpoint>(&page).await?;
            endpoints.extend(found.items);
            match found.next_cursor {
                Some(next) => page.cursor = Some(Cursor::decode(&tenant_prefix(store, mode), &next)?),
                None => return Ok(endpoints),
            }
        }
    }

    /// Disables an endpoint on the delivery worker's behalf, with its `webhook.endpoint_disabled` event.
    pub async fn disable_endpoint(&self, before_version: u64, after: &Endpoint, event: Event) -> Result<(), ApiError> {
        let (store, mode) = (self.store, self.mode);
        let version = HashMap::from([(":version".to_owned(), n(before_version))]);
        let result = self
            .write(event, "system:webhook-delivery")
            .put_if(
                item(keys::webhook(store, mode, after.id), after)?,
                "version = :version",
                version,
            )
            .commit(Stale)
            .await;
        // Changed meanwhile: whoever changed it decided, and the next attempt reads it again.
        match result {
            Ok(()) | Err(WriteError::Refused(Stale)) => Ok(()),
            Err(WriteError::Other(error)) => Err(error),
        }
    }

    /// Starts or clears an endpoint's failure clock (no version change: it is the delivery worker's bookkeeping).
    /// Keeps deliveries away from an endpoint until `until` (Unix seconds).
    pub async fn cool_down_endpoint(&self, id: WebhookId, until: i64) -> Result<(), ApiError> {
        let (store, mode) = (self.store, self.mode);
        let key = keys::webhook(store, mode, id);
        let updated = self
            .update_item_at(key)
            .update_expression("SET cooldown_until = :until")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":until", n(until))
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            // The endpoint was deleted meanwhile: nothing to keep.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(error) => Err(sdk_error(error)),
        }
    }

    pub async fn set_endpoint_failing(&self, id: WebhookId, since: Option<i64>) -> Result<(), ApiError> {
        let (store, mode) = (self.store, self.mode);
        let key = keys::webhook(store, mode, id);
        let update = self.update_item_at(key);
        let update = match since {
            Some(since) => update
                .update_expression("SET failing_since = if_not_exists(failing_since, :since)")
                .expression_attribute_values(":since", n(since)),
            None => update.update_expression("REMOVE failing_since"),
        };
        update
            .condition_expression("attribute_exists(PK)")
            .send()
            .await
            .map(drop)
            .or_else(|error| {
                // The endpoint was deleted meanwhile: nothing to keep.
                match error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception())
                {
                    true => Ok(()),
                    false => Err(sdk_error(error)),
                }
            })
    }

    /// The deliveries to `endpoint` of these events that exist: one `BatchGetItem` per 100.
    pub async fn deliveries_of(
        &self,
        endpoint: WebhookId,
        events: &[EventId],
    ) -> Result<HashMap<EventId, Delivery>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let wanted = events
            .iter()
            .map(|event| keys::delivery(store, mode, endpoint, *event))
            .collect();
        self.batch_get(wanted, false)
            .await?
            .into_values()
            .map(|item| from_item::<Delivery>(item).map(|d| (d.id, d)))
            .collect()
    }

    /// Records a new delivery unless one exists for this event and endpoint; returns the stored one.
    pub async fn create_delivery(&self, delivery: &Delivery) -> Result<Delivery, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let record = item(keys::delivery(store, mode, delivery.endpoint_id, delivery.id), delivery)?;
        let result = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(record))
            .condition_expression("attribute_not_exists(PK)")
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(delivery.clone()),
            Err(error) => match error.into_service_error() {
                aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(failed) => {
                    from_item(failed.item.unwrap_or_default())
                }
                other => Err(ApiError::internal(DisplayErrorContext(other))),
            },
        }
    }

    pub async fn get_delivery(&self, endpoint: WebhookId, event: EventId) -> Result<Option<Delivery>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        self.get(keys::delivery(store, mode, endpoint, event), true).await
    }

    /// A page of an endpoint's deliveries, newest first, within an event-id (time) range, optionally only those
    /// with a status or event type (a DynamoDB filter on the one partition read).
    pub async fn list_deliveries(
        &self,
        endpoint: WebhookId,
        filter: &DeliveryFilter,
        page: &Page,
    ) -> Result<PageOf<Delivery>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let mut query = PageQuery::partition(keys::deliveries_partition(store, mode, endpoint));
        query.sort_between = Some((filter.from.to_string(), filter.to.to_string()));
        if let Some(status) = filter.status {
            let status = serde_dynamo::to_attribute_value(status).map_err(ApiError::internal)?;
            query = query.filter_eq("status", status);
        }
        if let Some(event_type) = &filter.event_type {
            query = query.filter_eq("event_type", s(event_type.clone()));
        }
        self.query_page(&tenant_prefix(store, mode), query, page, true).await
    }
}

/// An outbox item as the events index returns it: the envelope, beside the keys.
#[derive(serde::Deserialize)]
struct Outboxed {
    event: Event,
}

impl Scoped<'_> {
    /// A page of the store's events (its outbox, kept `EVENT_RETENTION_SECS`), oldest first, within an event-id
    /// (time) range.
    pub async fn events_between(&self, from: EventId, to: EventId, page: &Page) -> Result<PageOf<Event>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let mut query = PageQuery::index(Some(keys::GSI1), keys::events_index(store, mode, from).pk);
        query.sort_between = Some((from.to_string(), to.to_string()));
        let found: PageOf<Outboxed> = self.query_page(&tenant_prefix(store, mode), query, page, false).await?;
        Ok(PageOf {
            items: found.items.into_iter().map(|outboxed| outboxed.event).collect(),
            next_cursor: found.next_cursor,
            limit: found.limit,
        })
    }
}

/// Which deliveries to list: an event-id range (creation time) and optional status and type.
pub struct DeliveryFilter {
    pub from: EventId,
    pub to: EventId,
    pub status: Option<DeliveryStatus>,
    pub event_type: Option<String>,
}
