//! Counts the DynamoDB calls a client makes and the capacity each consumed: an interceptor on the real SDK client
//! (not a mock), which asks every item operation for `ReturnConsumedCapacity = TOTAL` and reads it back.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::operation::{
    batch_get_item::{BatchGetItemInput, BatchGetItemOutput},
    delete_item::{DeleteItemInput, DeleteItemOutput},
    get_item::{GetItemInput, GetItemOutput},
    put_item::{PutItemInput, PutItemOutput},
    query::{QueryInput, QueryOutput},
    transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput},
    update_item::{UpdateItemInput, UpdateItemOutput},
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// One DynamoDB call: the API operation, the capacity units it consumed, and whether it succeeded (a cancelled
/// transaction reports no capacity).
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub operation: String,
    pub capacity: f64,
    pub ok: bool,
    /// A rate-limit lease (`UpdateItem` on a key's rate window), which any authenticated request may make.
    pub rate_limit: bool,
}

/// Marks a call, between serialization and its answer, as a rate-limit lease.
#[derive(Debug, Clone)]
struct RateLimitLease;

impl Storable for RateLimitLease {
    type Storer = StoreReplace<Self>;
}

/// The calls of every client built with it, in order.
#[derive(Clone, Debug, Default)]
pub struct CallLog(Arc<Mutex<Vec<Call>>>);

impl CallLog {
    /// The calls so far, clearing the log.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A DynamoDB client for `sdk` whose calls this log records.
    pub fn client(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::config::Builder::from(sdk)
            .interceptor(self.clone())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }
}

fn total(capacity: Option<&ConsumedCapacity>) -> f64 {
    capacity.and_then(|c| c.capacity_units()).unwrap_or_default()
}

fn sum(capacity: Option<&Vec<ConsumedCapacity>>) -> f64 {
    capacity
        .map(|all| all.iter().map(|c| total(Some(c))).sum())
        .unwrap_or_default()
}

macro_rules! ask_capacity {
    ($input:expr, $($type:ty),*) => {
        $(if let Some(input) = $input.downcast_mut::<$type>() {
            input.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
        })*
    };
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input_mut();
        let rate_window = input
            .downcast_ref::<UpdateItemInput>()
            .and_then(|update| update.key.as_ref()?.get("PK")?.as_s().ok().cloned())
            .is_some_and(|pk| pk.contains("#RATE#"));
        if rate_window {
            cfg.interceptor_state().store_put(RateLimitLease);
        }
        ask_capacity!(
            input,
            GetItemInput,
            PutItemInput,
            UpdateItemInput,
            DeleteItemInput,
            QueryInput,
            BatchGetItemInput,
            TransactWriteItemsInput
        );
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map(|m| m.name().to_owned()).unwrap_or_default();
        let (capacity, ok) = match context.output_or_error() {
            Ok(output) => {
                let capacity = if let Some(o) = output.downcast_ref::<GetItemOutput>() {
                    total(o.consumed_capacity.as_ref())
                } else if let Some(o) = output.downcast_ref::<PutItemOutput>() {
                    total(o.consumed_capacity.as_ref())
                } else if let Some(o) = output.downcast_ref::<UpdateItemOutput>() {
                    total(o.consumed_capacity.as_ref())
                } else if let Some(o) = output.downcast_ref::<DeleteItemOutput>() {
                    total(o.consumed_capacity.as_ref())
                } else if let Some(o) = output.downcast_ref::<QueryOutput>() {
                    total(o.consumed_capacity.as_ref())
                } else if let Some(o) = output.downcast_ref::<BatchGetItemOutput>() {
                    sum(o.consumed_capacity.as_ref())
                } else if let Some(o) = output.downcast_ref::<TransactWriteItemsOutput>() {
                    sum(o.consumed_capacity.as_ref())
                } else {
                    0.0
                };
                (capacity, true)
            }
            Err(_) => (0.0, false),
        };
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(Call {
            operation,
            capacity,
            ok,
            rate_limit: cfg.load::<RateLimitLease>().is_some(),
        });
        Ok(())
    }
}

/// Whether DynamoDB bills `operation` in read request units (every other call is a write).
pub fn is_read(operation: &str) -> bool {
    matches!(
        operation,
        "GetItem" | "Query" | "BatchGetItem" | "Scan" | "TransactGetItems"
    )
}

/// `GetItem, 2 × UpdateItem, TransactWriteItems`: the calls in order, repeats of one operation in a row counted.
pub fn summary(calls: &[Call]) -> String {
    let mut parts: Vec<(String, usize)> = Vec::new();
    for call in calls {
        let name = if call.ok {
            call.operation.clone()
        } else {
            format!("{} (refused)", call.operation)
        };
        match parts.last_mut() {
            Some((last, count)) if *last == name => *count += 1,
            _ => parts.push((name, 1)),
        }
    }
    parts
        .into_iter()
        .map(|(name, count)| if count == 1 { name } else { format!("{count} × {name}") })
        .collect::<Vec<_>>()
        .join(", ")
}
