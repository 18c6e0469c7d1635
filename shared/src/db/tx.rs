//! The write path: one `TransactWriteItems` holding the state change, its domain EVENT item and an AUDIT item.
//! A write cannot be committed without its event: [`WriteTx::new`] takes the event, [`WriteTx::commit`] appends it.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update};
use serde::Serialize;

use super::keys::{self, Key, GSI1PK, GSI1SK, PK, SK, TTL};
use super::{item, Db, Item};
use crate::error::ApiError;
use crate::events::Event;
use crate::http::request_id;
use crate::ids::AuditId;
use crate::time;

/// How long EVENT items stay in the table after publishing (for listing and replay).
const EVENT_RETENTION_SECS: i64 = 30 * 24 * 3600;
/// How long AUDIT items are kept.
const AUDIT_RETENTION_SECS: i64 = 400 * 24 * 3600;
/// DynamoDB takes at most 100 items in one transaction; the audit item and up to two events take three.
pub const MAX_STATE_ITEMS: usize = 100 - 3;

pub struct WriteTx<'a, R> {
    db: &'a Db,
    items: Vec<TransactWriteItem>,
    /// What a failed condition of each item means, where the write gave one ([`WriteTx::because`]); in step with
    /// `items` by construction.
    reasons: Vec<Option<R>>,
    event: Event,
    /// Further events of the same change (a recall is also a product update).
    more_events: Vec<Event>,
    actor: String,
    /// The first builder error; reported at commit so that the builder chains without `?` at every step.
    invalid: Option<ApiError>,
}

/// Why a write did not commit: the one answer of every commit.
#[derive(Debug)]
pub enum WriteError<R> {
    /// A guard did not hold: the reason given with its item, or the commit's reason for staleness (an item
    /// without a reason failed, or another transaction touched the same items at the same time).
    Refused(R),
    Other(ApiError),
}

/// The reason of a write whose guards all mean one thing: what it read changed meanwhile; read again and retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stale;

/// The reason of a write with one guard that means more than staleness: a cap reached, a change already made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The guard given with `because(Refusal::Guard)` failed.
    Guard,
    Stale,
}

impl<R> From<WriteError<R>> for ApiError {
    fn from(error: WriteError<R>) -> Self {
        match error {
            WriteError::Refused(_) => ApiError::conflict("the resource was changed by another request; retry"),
            WriteError::Other(error) => error,
        }
    }
}

impl<R> From<ApiError> for WriteError<R> {
    fn from(error: ApiError) -> Self {
        WriteError::Other(error)
    }
}

/// `Ok(true)` committed, `Ok(false)` stale (read again), `Err` anything else: for callers that retry on staleness.
pub trait Committed {
    fn committed(self) -> Result<bool, ApiError>;
}

/// `Ok(true)` committed, `Ok(false)` the guard given `Refusal::Guard` failed, `Err` anything else (staleness is a
/// conflict to retry).
pub trait GuardHeld {
    fn guard_held(self) -> Result<bool, ApiError>;
}

impl GuardHeld for Result<(), WriteError<Refusal>> {
    fn guard_held(self) -> Result<bool, ApiError> {
        match self {
            Ok(()) => Ok(true),
            Err(WriteError::Refused(Refusal::Guard)) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }
}

impl Committed for Result<(), WriteError<Stale>> {
    fn committed(self) -> Result<bool, ApiError> {
        match self {
            Ok(()) => Ok(true),
            Err(WriteError::Refused(Stale)) => Ok(false),
            Err(WriteError::Other(error)) => Err(error),
        }
    }
}

#[derive(Serialize)]
struct AuditRecord<'a> {
    audit_id: AuditId,
    at: &'a str,
    /// The API key id, or `platform`.
    actor: &'a str,
    action: &'a str,
    resource_type: &'a str,
    resource_id: &'a str,
    resource_version: u64,
    event_id: String,
    request_id: String,
}

impl Db {
    /// Starts a transaction that will carry `event` and an audit entry naming `actor` (a key id, or `platform`).
    pub fn write<R>(&self, event: Event, actor: impl Into<String>) -> WriteTx<'_, R> {
        WriteTx {
            db: self,
            items: Vec::new(),
            reasons: Vec::new(),
            event,
            more_events: Vec::new(),
            actor: actor.into(),
            invalid: None,
        }
    }
}

impl<R> WriteTx<'_, R> {
    fn push<E: std::fmt::Display>(mut self, item: Result<TransactWriteItem, E>) -> Self {
        match item {
            Ok(item) => {
                self.items.push(item);
                self.reasons.push(None);
            }
            Err(error) => {
                self.invalid.get_or_insert_with(|| ApiError::internal(error));
            }
        }
        self
    }

    /// Puts an item that must not exist yet.
    pub fn put_new(self, item: Item) -> Self {
        let put = put(self.db.table(), item, Some("attribute_not_exists(PK)"));
        self.push(put)
    }

    /// Puts (replaces) an item unconditionally.
    pub fn put(self, item: Item) -> Self {
        let put = put(self.db.table(), item, None);
        self.push(put)
    }

    /// Puts (replaces) an item if `condition` holds.
    pub fn put_if(self, item: Item, condition: &str, values: HashMap<String, AttributeValue>) -> Self {
        let put = Put::builder()
            .table_name(self.db.table())
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .build()
            .map(|put| TransactWriteItem::builder().put(put).build());
        self.push(put)
    }

    /// Puts an entity: new when `read_version` is `None`, otherwise only while it is still at the version read
    /// (optimistic concurrency).
    pub fn put_versioned(self, item: Item, read_version: Option<u64>) -> Self {
        match read_version {
            None => self.put_new(item),
            Some(version) => self.put_if(
                item,
                "version = :version",
                HashMap::from([(":version".to_owned(), AttributeValue::N(version.to_string()))]),
            ),
        }
    }

    /// Deletes an item if `condition` holds.
    pub fn delete_if(self, key: Key, condition: &str, values: HashMap<String, AttributeValue>) -> Self {
        let delete = Delete::builder()
            .table_name(self.db.table())
            .set_key(Some(key_item(&key)))
            .condition_expression(condition)
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .build()
            .map(|delete| TransactWriteItem::builder().delete(delete).build());
        self.push(delete)
    }

    /// Makes the transaction depend on `condition` holding for an item, without writing it.
    pub fn check(self, key: Key, condition: &str, values: HashMap<String, AttributeValue>) -> Self {
        let check = ConditionCheck::builder()
            .table_name(self.db.table())
            .set_key(Some(key_item(&key)))
            .condition_expression(condition)
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .build()
            .map(|check| TransactWriteItem::builder().condition_check(check).build());
        self.push(check)
    }

    /// Makes the transaction depend on an item existing, without writing it.
    pub fn check_exists(self, key: Key) -> Self {
        let check = ConditionCheck::builder()
            .table_name(self.db.table())
            .set_key(Some(key_item(&key)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map(|check| TransactWriteItem::builder().condition_check(check).build());
        self.push(check)
    }

    /// What a failed condition of the item just added means: the commit answers `Refused(reason)`.
    pub fn because(mut self, reason: R) -> Self {
        if let Some(last) = self.reasons.last_mut() {
            *last = Some(reason);
        }
        self
    }

    /// Items added so far (the event and audit items come on top at commit).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Updates an item; `condition` guards the invariant the update relies on.
    pub fn update(
        self,
        key: Key,
        expression: &str,
        condition: Option<&str>,
        names: HashMap<String, String>,
        values: HashMap<String, AttributeValue>,
    ) -> Self {
        let update = Update::builder()
            .table_name(self.db.table())
            .set_key(Some(key_item(&key)))
            .update_expression(expression)
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .build()
            .map(|update| TransactWriteItem::builder().update(update).build());
        self.push(update)
    }

    pub fn delete(self, key: Key) -> Self {
        let delete = Delete::builder()
            .table_name(self.db.table())
            .set_key(Some(key_item(&key)))
            .build()
            .map(|delete| TransactWriteItem::builder().delete(delete).build());
        self.push(delete)
    }

    /// Adds another event of the same change; the audit entry names the first.
    pub fn and_event(mut self, event: Event) -> Self {
        self.more_events.push(event);
        self
    }

    fn audit_item(&self, now: i64) -> Result<Item, ApiError> {
        let event = &self.event;
        let audit_id = AuditId::new();
        let record = AuditRecord {
            audit_id,
            at: &event.created_at,
            actor: &self.actor,
            action: &event.event_type,
            resource_type: &event.resource.kind,
            resource_id: &event.resource.id,
            resource_version: event.resource.version,
            event_id: event.id.to_string(),
            request_id: request_id::current(),
        };
        let mut audit_item = item(keys::audit(event.store_id, event.mode, audit_id), &record)?;
        audit_item.insert("entity".to_owned(), AttributeValue::S("AUDIT".into()));
        audit_item.insert(
            TTL.to_owned(),
            AttributeValue::N((now + AUDIT_RETENTION_SECS).to_string()),
        );
        Ok(audit_item)
    }

    /// Commits. A failed condition answers `Refused` with its item's reason (the first failed item, in the order
    /// added), or with `stale` for an item without one and for a concurrent transaction.
    pub async fn commit(self, stale: R) -> Result<(), WriteError<R>> {
        let now = time::now().unix_timestamp();
        let mut appended = vec![self.audit_item(now).map_err(WriteError::Other)?];
        for event in std::iter::once(&self.event).chain(&self.more_events) {
            appended.push(event_item(event, now).map_err(WriteError::Other)?);
        }
        let mut tx = self;
        for item in appended {
            tx = tx.put(item);
        }
        if let Some(invalid) = tx.invalid.take() {
            return Err(WriteError::Other(invalid));
        }
        let mut reasons = std::mem::take(&mut tx.reasons);
        let result = tx
            .db
            .client
            .transact_write_items()
            .set_transact_items(Some(tx.items))
            .send()
            .await;
        let Err(error) = result else { return Ok(()) };
        Err(match error.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                let reasons_given = cancelled.cancellation_reasons();
                let failed: Vec<usize> = reasons_given
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                    .map(|(index, _)| index)
                    .collect();
                let conflict = reasons_given.iter().any(|r| r.code() == Some("TransactionConflict"));
                match failed.first() {
                    Some(&first) => WriteError::Refused(reasons.get_mut(first).and_then(Option::take).unwrap_or(stale)),
                    None if conflict => WriteError::Refused(stale),
                    None => WriteError::Other(ApiError::internal(DisplayErrorContext(&error))),
                }
            }
            Some(TransactWriteItemsError::TransactionInProgressException(_)) => WriteError::Refused(stale),
            // The entities check their sizes first; this keeps any that slips through a client error, not a 500.
            _ if is_item_too_large(&error) => WriteError::Other(ApiError::invalid(
                "body",
                "the record would be larger than the 400 KB a record can hold; shorten its texts",
            )),
            _ => WriteError::Other(ApiError::internal(DisplayErrorContext(&error))),
        })
    }
}

/// DynamoDB's refusal of an item over 400 KB.
fn is_item_too_large<E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(
    error: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> bool {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    error.code() == Some("ValidationException") && error.message().is_some_and(|m| m.contains("size"))
}

/// The outbox item of one event.
fn event_item(event: &Event, now: i64) -> Result<Item, ApiError> {
    let event_key = keys::event(event.store_id, event.mode, event.id);
    let index = keys::events_index(event.store_id, event.mode, event.id);
    let mut event_item = HashMap::from([
        (PK.to_owned(), AttributeValue::S(event_key.pk)),
        (SK.to_owned(), AttributeValue::S(event_key.sk)),
        (GSI1PK.to_owned(), AttributeValue::S(index.pk)),
        (GSI1SK.to_owned(), AttributeValue::S(index.sk)),
        ("entity".to_owned(), AttributeValue::S("EVENT".into())),
        ("source".to_owned(), AttributeValue::S(event.source())),
        (
            TTL.to_owned(),
            AttributeValue::N((now + EVENT_RETENTION_SECS).to_string()),
        ),
    ]);
    let mut envelope = serde_dynamo::to_attribute_value(event).map_err(ApiError::internal)?;
    super::drop_empty_maps_in(&mut envelope);
    event_item.insert("event".to_owned(), envelope);
    Ok(event_item)
}

fn key_item(key: &Key) -> Item {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

fn put(
    table: &str,
    item: Item,
    condition: Option<&str>,
) -> Result<TransactWriteItem, aws_sdk_dynamodb::error::BuildError> {
    Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .build()
        .map(|put| TransactWriteItem::builder().put(put).build())
}
