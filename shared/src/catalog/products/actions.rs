//! Status actions (publish, archive, discontinue, recall) and the moves they allow.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Publish,
    Archive,
    Discontinue,
    Recall,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Publish, Action::Archive, Action::Discontinue, Action::Recall];

    pub fn name(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Archive => "archive",
            Self::Discontinue => "discontinue",
            Self::Recall => "recall",
        }
    }

    pub fn target(self) -> ProductStatus {
        match self {
            Self::Publish => ProductStatus::Active,
            Self::Archive => ProductStatus::Archived,
            Self::Discontinue => ProductStatus::Discontinued,
            Self::Recall => ProductStatus::Recalled,
        }
    }

    fn allowed_from(self, status: ProductStatus) -> bool {
        use ProductStatus::*;
        match self {
            Self::Publish => matches!(status, Draft | Archived),
            Self::Archive => matches!(status, Draft | Active | Discontinued),
            Self::Discontinue => matches!(status, Active | Archived),
            Self::Recall => !matches!(status, Recalled),
        }
    }
}

const MAX_REASON: usize = 1000;

/// The product after `action`, or `409` naming the actions its status allows.
pub fn transition(before: &Product, action: Action, reason: Option<String>, now: &str) -> Result<Product, ApiError> {
    let reason = reason.map(|r| r.trim().to_owned());
    if reason.as_deref().is_some_and(|r| r.chars().count() > MAX_REASON) {
        return Err(ApiError::invalid(
            "reason",
            format!("must be at most {MAX_REASON} characters"),
        ));
    }
    if !action.allowed_from(before.status) {
        let allowed: Vec<_> = Action::ALL
            .iter()
            .filter(|a| a.allowed_from(before.status))
            .map(|a| a.name())
            .collect();
        let allowed = if allowed.is_empty() {
            "none".to_owned()
        } else {
            allowed.join(", ")
        };
        return Err(ApiError::conflict(format!(
            "cannot {} a product that is {}; allowed actions: {allowed}",
            action.name(),
            before.status.as_str()
        )));
    }
    let mut after = before.clone();
    after.status = action.target();
    if action == Action::Recall {
        let reason = reason.filter(|r| !r.is_empty());
        after.recall_reason =
            Some(reason.ok_or_else(|| ApiError::invalid("reason", "a recall needs a reason of 1 to 1000 characters"))?);
    }
    after.updated_at = now.to_owned();
    after.version = before.version + 1;
    Ok(after)
}
