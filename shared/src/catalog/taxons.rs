//! Categories and brands: one set of operations over [`Taxon`]. A category also keeps its tree: its parent must
//! exist, a move makes no cycle, and the lineage it was checked against is guarded in the write.

use std::future::Future;

use super::{stale, taxonomy};
use crate::db::{Committed, Db, Listed, Record, Stale, WriteError};
use crate::error::ApiError;
use crate::events::Event;
use crate::http::pagination::{ListOut, PageParams};
use crate::ids::CategoryId;
use crate::tenant::Tenant;
use crate::time;
use taxonomy::{Brand, Category, Taxon};

/// How a taxon is written: a category guards its lineage and its parents' counts, a brand is one item.
pub trait Stored: Taxon + Listed {
    /// Creates (`before` = `None`) or replaces it, with its event; a failed guard is the `WriteError`.
    fn save(
        &self,
        db: &Db,
        tenant: &Tenant,
        before: Option<&Self>,
        event: Event,
    ) -> impl Future<Output = Result<(), WriteError<Stale>>> + Send;
    /// Deletes it while nothing uses it (checked in the same write).
    fn remove(
        &self,
        db: &Db,
        tenant: &Tenant,
        event: Event,
    ) -> impl Future<Output = Result<(), WriteError<Stale>>> + Send;
    /// What a refused creation means.
    fn creation_refused() -> ApiError;
    /// What a refused deletion means: it came into use between the read and the write.
    const TAKEN_MEANWHILE: &'static str;
}

pub async fn create<T: Stored>(db: &Db, tenant: &Tenant, input: T::In) -> Result<T, ApiError> {
    let taxon = T::from_input(input, &time::now_rfc3339())?;
    let created = Event::about(tenant, T::CREATED, &taxon)?;
    if !taxon.save(db, tenant, None, created).await.committed()? {
        return Err(T::creation_refused());
    }
    Ok(taxon)
}

/// A page, oldest first.
pub async fn list<T: Stored>(db: &Db, tenant: &Tenant, params: &PageParams) -> Result<ListOut<T>, ApiError> {
    let page = params.parse(&tenant.key_prefix())?;
    Ok(db.scoped(tenant).page::<T>(&page).await?.into_list(|t| t))
}

pub async fn get<T: Stored>(db: &Db, tenant: &Tenant, id: &str) -> Result<T, ApiError> {
    db.scoped(tenant).found(id).await
}

pub async fn update<T: Stored>(
    db: &Db,
    tenant: &Tenant,
    id: &str,
    patch: T::Patch,
    if_match: Option<u64>,
) -> Result<T, ApiError> {
    let before: T = db.scoped(tenant).found(id).await?;
    ApiError::unless_version(T::NOUN, before.version(), if_match)?;
    let after = T::patched(&before, patch, &time::now_rfc3339())?;
    if after == before {
        return Ok(before);
    }
    let updated = Event::about(tenant, T::UPDATED, &after)?;
    if !after.save(db, tenant, Some(&before), updated).await.committed()? {
        return Err(stale(if_match, <T as Record>::NOUN));
    }
    Ok(after)
}

pub async fn delete<T: Stored>(db: &Db, tenant: &Tenant, id: &str) -> Result<(), ApiError> {
    let taxon: T = db.scoped(tenant).found(id).await?;
    if let Some(reason) = taxon.in_use() {
        return Err(ApiError::conflict(reason));
    }
    let deleted = Event::about(tenant, T::DELETED, &taxon)?;
    if !taxon.remove(db, tenant, deleted).await.committed()? {
        return Err(ApiError::conflict(T::TAKEN_MEANWHILE));
    }
    Ok(())
}

impl Stored for Category {
    const TAKEN_MEANWHILE: &'static str = "the category gained products or subcategories meanwhile; move them first";

    async fn save(
        &self,
        db: &Db,
        tenant: &Tenant,
        before: Option<&Self>,
        event: Event,
    ) -> Result<(), WriteError<Stale>> {
        let checked = match before {
            Some(before) if before.parent_id == self.parent_id => Vec::new(),
            _ => lineage_of_parent(db, tenant, self).await.map_err(WriteError::Other)?,
        };
        // A new category cannot be anyone's ancestor: its lineage needs no guard. A moved one guards the lineage
        // its move was checked against.
        let lineage = if before.is_some() { checked } else { Vec::new() };
        db.put_category(tenant, before, self, event, &lineage).await
    }

    async fn remove(&self, db: &Db, tenant: &Tenant, event: Event) -> Result<(), WriteError<Stale>> {
        db.delete_category(tenant, self, event).await
    }

    fn creation_refused() -> ApiError {
        ApiError::invalid("parent_id", "the parent category was deleted meanwhile")
    }
}

impl Stored for Brand {
    const TAKEN_MEANWHILE: &'static str = "products started using this brand meanwhile; change them first";

    async fn save(
        &self,
        db: &Db,
        tenant: &Tenant,
        before: Option<&Self>,
        event: Event,
    ) -> Result<(), WriteError<Stale>> {
        db.put_brand(tenant, before, self, event).await
    }

    async fn remove(&self, db: &Db, tenant: &Tenant, event: Event) -> Result<(), WriteError<Stale>> {
        db.delete_brand(tenant, self, event).await
    }

    fn creation_refused() -> ApiError {
        ApiError::conflict("the brand could not be created; retry")
    }
}

/// `parent` and its ancestors, nearest first, each with the parent it had when read; at most
/// [`taxonomy::MAX_DEPTH`] + 1 entries.
async fn lineage(
    db: &Db,
    tenant: &Tenant,
    parent: &Category,
) -> Result<Vec<(CategoryId, Option<CategoryId>)>, ApiError> {
    let mut chain = vec![(parent.id, parent.parent_id)];
    let mut next = parent.parent_id;
    while let Some(id) = next {
        if chain.len() > taxonomy::MAX_DEPTH || chain.iter().any(|(seen, _)| *seen == id) {
            break;
        }
        next = db
            .scoped(tenant)
            .record::<Category>(id, false)
            .await?
            .and_then(|c| c.parent_id);
        chain.push((id, next));
    }
    Ok(chain)
}

/// Checks a (new) parent: it exists, and the move makes no cycle and no nesting deeper than allowed. Returns the
/// lineage read, for the write to guard.
async fn lineage_of_parent(
    db: &Db,
    tenant: &Tenant,
    category: &Category,
) -> Result<Vec<(CategoryId, Option<CategoryId>)>, ApiError> {
    let Some(parent_id) = category.parent_id else {
        return Ok(Vec::new());
    };
    let parent = db
        .scoped(tenant)
        .record::<Category>(parent_id, false)
        .await?
        .ok_or_else(|| ApiError::invalid("parent_id", format!("category {parent_id} does not exist")))?;
    let lineage = lineage(db, tenant, &parent).await?;
    let ancestors: Vec<CategoryId> = lineage.iter().skip(1).map(|(id, _)| *id).collect();
    taxonomy::check_move(category.id, parent_id, &ancestors)?;
    Ok(lineage)
}
