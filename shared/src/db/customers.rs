//! Customer access patterns: the customer item (addresses inside), its email guard, and customer groups.

use std::collections::{BTreeSet, HashMap};

use super::counts::{count, Counted};
use super::keys::{self, GSI1, GSI1PK, GSI1SK, PK, SK};
use super::{item, n, s, tenant_prefix, Db, GuardHeld, Item, PageQuery, Refusal, Scoped, Stale, WriteError, WriteTx};
use crate::error::ApiError;
use crate::events::Event;
use crate::http::pagination::{Page, PageOf};
use crate::ids::{CustomerGroupId, CustomerId, StoreId};
use crate::model::customers::{Customer, CustomerFilter, CustomerGroup};
use crate::tenant::{Mode, Tenant};

/// The customer's item, with its listing keys.
pub(super) fn customer_item(store: StoreId, mode: Mode, customer: &Customer) -> Result<Item, ApiError> {
    let mut record = item(keys::customer(store, mode, customer.id), customer)?;
    let index = keys::customers_index(store, mode, customer.id);
    record.insert(GSI1PK.to_owned(), s(index.pk));
    record.insert(GSI1SK.to_owned(), s(index.sk));
    Ok(record)
}

/// Counts a customer into the groups it joins and out of those it leaves (in its own transaction, so the counts are
/// exact); joining needs the group to exist, so a group deleted meanwhile fails the write.
fn count_members<'a, R>(
    mut tx: WriteTx<'a, R>,
    store: StoreId,
    mode: Mode,
    before: &[CustomerGroupId],
    after: &[CustomerGroupId],
) -> WriteTx<'a, R> {
    let (before, after): (BTreeSet<_>, BTreeSet<_>) = (before.iter().collect(), after.iter().collect());
    let changes = after
        .difference(&before)
        .map(|g| (**g, 1))
        .chain(before.difference(&after).map(|g| (**g, -1)));
    for (group, change) in changes {
        tx = tx.update(
            keys::customer_group(store, mode, group),
            "ADD member_count :change",
            Some("attribute_exists(PK)"),
            HashMap::new(),
            HashMap::from([(":change".to_owned(), n(change))]),
        );
    }
    tx
}

impl Db {
    /// Creates (`before` = `None`) or replaces a customer still at the version read, moving its email guard when
    /// the email changes. `Ok(false)`: the email is taken or the customer changed meanwhile.
    pub async fn put_customer(
        &self,
        tenant: &Tenant,
        before: Option<&Customer>,
        after: &Customer,
        event: Event,
    ) -> Result<(), WriteError<Stale>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let mut tx = self
            .write(event, tenant.key_id.to_string())
            .put_versioned(customer_item(store, mode, after)?, before.map(|b| b.version));
        if before.is_none_or(|b| b.email != after.email) {
            let guard = keys::customer_email(store, mode, &after.email);
            tx = tx.put_new(HashMap::from([
                (PK.to_owned(), s(guard.pk)),
                (SK.to_owned(), s(guard.sk)),
                ("customer_id".to_owned(), s(after.id.to_string())),
            ]));
        }
        if let Some(before) = before.filter(|b| b.email != after.email) {
            tx = tx.delete(keys::customer_email(store, mode, &before.email));
        }
        let joined = before.map_or(&[][..], |b| &b.group_ids[..]);
        if before.is_none() {
            tx = count(tx, store, mode, Counted::Customers, &after.id.to_string(), 1, &[]);
        }
        count_members(tx, store, mode, joined, &after.group_ids)
            .commit(Stale)
            .await
    }

    /// Deletes a customer still at the version read, and its email guard.
    pub async fn delete_customer(
        &self,
        tenant: &Tenant,
        customer: &Customer,
        event: Event,
    ) -> Result<(), WriteError<Stale>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let tx = self
            .write(event, tenant.key_id.to_string())
            .delete_if(
                keys::customer(store, mode, customer.id),
                "version = :version",
                HashMap::from([(":version".to_owned(), super::n(customer.version))]),
            )
            .delete(keys::customer_email(store, mode, &customer.email));
        let tx = count(tx, store, mode, Counted::Customers, &customer.id.to_string(), -1, &[]);
        count_members(tx, store, mode, &customer.group_ids, &[])
            .commit(Stale)
            .await
    }

    /// Changes a group's name and description while it is at the version read; its member count is the customers'
    /// transactions' to change.
    pub async fn update_customer_group(
        &self,
        tenant: &Tenant,
        before: &CustomerGroup,
        after: &CustomerGroup,
        event: Event,
    ) -> Result<(), WriteError<Stale>> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        let mut values = HashMap::from([
            (":name".to_owned(), s(&after.name)),
            (":version".to_owned(), n(after.version)),
            (":read".to_owned(), n(before.version)),
        ]);
        let expression = match &after.description {
            Some(description) => {
                values.insert(":description".to_owned(), s(description));
                "SET #name = :name, description = :description, version = :version"
            }
            None => "SET #name = :name, version = :version REMOVE description",
        };
        self.write(event, tenant.key_id.to_string())
            .update(
                keys::customer_group(store, mode, before.id),
                expression,
                Some("version = :read"),
                HashMap::from([("#name".to_owned(), "name".to_owned())]),
                values,
            )
            .commit(Stale)
            .await
    }

    /// Deletes a group that no customer is in, at the version read, and counts it out of the store's groups.
    /// `Ok(false)`: a customer joined it, or it changed, meanwhile.
    pub async fn delete_customer_group(
        &self,
        tenant: &Tenant,
        group: &CustomerGroup,
        event: Event,
    ) -> Result<bool, ApiError> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        self.write(event, tenant.key_id.to_string())
            .delete_if(
                keys::customer_group(store, mode, group.id),
                "version = :version AND (attribute_not_exists(member_count) OR member_count = :zero)",
                HashMap::from([(":version".to_owned(), n(group.version)), (":zero".to_owned(), n(0))]),
            )
            .because(Refusal::Guard)
            .update(
                keys::customer_group_count(store, mode),
                "ADD group_count :minus",
                None,
                HashMap::new(),
                HashMap::from([(":minus".to_owned(), n(-1))]),
            )
            .commit(Refusal::Stale)
            .await
            .guard_held()
    }

    /// Creates a group, unless the store has [`MAX_CUSTOMER_GROUPS`] already. `Ok(false)`: it has.
    pub async fn create_customer_group(
        &self,
        tenant: &Tenant,
        group: &CustomerGroup,
        event: Event,
    ) -> Result<bool, ApiError> {
        let (store, mode) = (tenant.store_id, tenant.mode);
        self.write(event, tenant.key_id.to_string())
            .update(
                keys::customer_group_count(store, mode),
                "ADD group_count :one",
                Some("attribute_not_exists(group_count) OR group_count < :cap"),
                HashMap::new(),
                HashMap::from([(":one".to_owned(), n(1)), (":cap".to_owned(), n(MAX_CUSTOMER_GROUPS))]),
            )
            .because(Refusal::Guard)
            .put_new(item(keys::customer_group(store, mode, group.id), group)?)
            .commit(Refusal::Stale)
            .await
            .guard_held()
    }
}

impl Scoped<'_> {
    pub async fn customer_id_by_email(&self, email: &str) -> Result<Option<CustomerId>, ApiError> {
        let key = keys::customer_email(self.store, self.mode, email);
        self.guarded(key, "customer_id", true).await
    }

    /// A page of customers, newest first: one `Query` on GSI1 (an email is looked up by its guard first).
    pub async fn list_customers(&self, filter: &CustomerFilter, page: &Page) -> Result<PageOf<Customer>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        if let Some(email) = &filter.email {
            let found = match self.customer_id_by_email(email).await? {
                Some(id) => self.record::<Customer>(id, false).await?,
                None => None,
            };
            let items = found
                .into_iter()
                .filter(|c| filter.group_id.is_none_or(|g| c.group_ids.contains(&g)))
                .collect();
            return Ok(PageOf {
                items,
                next_cursor: None,
                limit: page.limit,
            });
        }
        let index = keys::customers_index(store, mode, CustomerId::new());
        let mut query = PageQuery::index(Some(GSI1), index.pk);
        if let Some((from, to)) = filter.created {
            query.sort_between = Some((from.to_string(), to.to_string()));
        }
        if let Some(group) = filter.group_id {
            query = query.filter_contains("group_ids", s(group.to_string()));
        }
        self.query_page(&tenant_prefix(store, mode), query, page, true).await
    }

    pub async fn customer_groups(&self) -> Result<Vec<CustomerGroup>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        self.query_all(keys::customer_groups_partition(store, mode), "GROUP#", false)
            .await
    }

    /// Which of `ids` name a customer group of the store: one `BatchGetItem`, not a read of every group.
    pub async fn existing_customer_groups(&self, ids: &[CustomerGroupId]) -> Result<Vec<CustomerGroupId>, ApiError> {
        let (store, mode) = (self.store, self.mode);
        let wanted = ids.iter().map(|id| keys::customer_group(store, mode, *id)).collect();
        let found = self.batch_get(wanted, false).await?;
        Ok(ids
            .iter()
            .filter(|id| {
                let key = keys::customer_group(store, mode, **id);
                found.contains_key(&(key.pk, key.sk))
            })
            .copied()
            .collect())
    }
}

/// Customer groups a store may have per mode: lists of them are read whole.
pub const MAX_CUSTOMER_GROUPS: u32 = 100;
