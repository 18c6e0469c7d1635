//! Exact counts of a store's products, orders and customers, in total and per status: counter items written in the
//! same transactions as the items they count, so a list's `total` is exact without reading the items.
//!
//! A counter item takes about 1,000 writes a second, and two transactions touching it at once conflict; orders and
//! customers (written by checkouts, concurrently) spread over shards, picked by the counted item's id, and a read
//! sums them in one `BatchGetItem`.

use std::collections::HashMap;

use super::keys::{self, Key};
use super::{from_item, n, Scoped, WriteTx};
use crate::error::ApiError;

/// What is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    Products,
    Orders,
    Customers,
}

impl Counted {
    fn name(self) -> &'static str {
        match self {
            Counted::Products => "PRODUCTS",
            Counted::Orders => "ORDERS",
            Counted::Customers => "CUSTOMERS",
        }
    }

    /// Product writes are a merchant's edits, one at a time; checkouts write orders and customers at once.
    fn shards(self) -> u32 {
        match self {
            Counted::Products => 1,
            Counted::Orders => 8,
            Counted::Customers => 4,
        }
    }

    /// The shard an item's changes go to: its id's last character (ids end in random base32).
    fn shard_of(self, id: &str) -> u32 {
        id.bytes().last().map_or(0, u32::from) % self.shards()
    }

    fn key(self, store: crate::ids::StoreId, mode: crate::tenant::Mode, shard: u32) -> Key {
        keys::count(store, mode, self.name(), shard)
    }
}

/// A counter item: `total`, and one `status_{name}` per status.
#[derive(serde::Deserialize)]
struct Counter {
    #[serde(flatten)]
    values: HashMap<String, serde_json::Value>,
}

/// The counter attribute of a status.
fn status_field(status: &str) -> String {
    format!("status_{status}")
}

/// Adds `total` to the count of `kind` and each `(status, delta)` to its status's count, in `tx`.
pub(super) fn count<'a, R>(
    tx: WriteTx<'a, R>,
    store: crate::ids::StoreId,
    mode: crate::tenant::Mode,
    kind: Counted,
    id: &str,
    total: i64,
    statuses: &[(&str, i64)],
) -> WriteTx<'a, R> {
    let mut changes: Vec<(String, i64)> = Vec::new();
    if total != 0 {
        changes.push(("total".to_owned(), total));
    }
    changes.extend(
        statuses
            .iter()
            .filter(|(_, d)| *d != 0)
            .map(|(s, d)| (status_field(s), *d)),
    );
    if changes.is_empty() {
        return tx;
    }
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut clauses = Vec::new();
    for (i, (field, delta)) in changes.into_iter().enumerate() {
        names.insert(format!("#c{i}"), field);
        values.insert(format!(":c{i}"), n(delta));
        clauses.push(format!("#c{i} :c{i}"));
    }
    let shard = kind.shard_of(id);
    tx.update(
        kind.key(store, mode, shard),
        &format!("ADD {}", clauses.join(", ")),
        None,
        names,
        values,
    )
}

impl Scoped<'_> {
    /// How many of `kind` the store has, in all or in one status: the sum of the counter's shards.
    pub async fn count(&self, kind: Counted, status: Option<&str>) -> Result<u64, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let field = status.map_or_else(|| "total".to_owned(), status_field);
        let wanted = (0..kind.shards()).map(|shard| kind.key(store, mode, shard)).collect();
        let mut sum: i64 = 0;
        for item in self.batch_get(wanted, false).await?.into_values() {
            let counter: Counter = from_item(item)?;
            sum += counter
                .values
                .get(&field)
                .and_then(serde_json::Value::as_i64)
                .unwrap_or(0);
        }
        Ok(u64::try_from(sum).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_spread_by_the_ids_last_character() {
        let shards: std::collections::BTreeSet<u32> = (0..64)
            .map(|_| Counted::Orders.shard_of(&crate::ids::OrderId::new().to_string()))
            .collect();
        assert!(shards.len() > 4, "{shards:?}");
        assert!(shards.iter().all(|s| *s < 8));
        assert_eq!(Counted::Products.shard_of("prod_x"), 0);
    }
}
