//! Stores (tenants) and their onboarding by the platform operator.

use crate::body::request_body;
use macro_rules_attribute::apply;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::apikeys::{self, ApiKeyCreatedOut, ApiKeyOut};
use crate::db::Db;
use crate::error::{ApiError, FieldError};
use crate::events::{Event, EventType, ResourceRef};
use crate::ids::StoreId;
use crate::tenant::{Mode, Scopes};
use crate::time;

pub use crate::model::stores::StoreRecord;

const NAME_MAX: usize = 200;
const PLAN_MAX: usize = 32;

#[apply(request_body!)]
pub struct StoreIn {
    /// Not blank; trimmed.
    #[schema(example = "Acme Coffee", min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// Rate-limit plan; `default` unless given. Plans and their limits come from `CARTWHEEL_RATE_LIMITS`.
    #[schema(example = "default", max_length = 32, pattern = "^[a-z0-9_-]+$")]
    pub plan: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreOut {
    pub id: StoreId,
    pub name: String,
    pub plan: String,
    pub created_at: String,
}

/// The onboarding response: the store and its first live and test keys, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreCreatedOut {
    pub store: StoreOut,
    pub live_key: ApiKeyCreatedOut,
    pub test_key: ApiKeyCreatedOut,
}

/// What a repeat of the onboarding request is told (the keys themselves are not kept).
impl crate::model::ShowsSecretOnce for StoreCreatedOut {
    fn shown_once_notice(&self) -> String {
        format!(
            "this request already created store {}; its first keys are shown only once and were not kept: mint new \
             ones with POST /v1/platform/stores/{}/api-keys",
            self.store.id, self.store.id
        )
    }
}

impl From<&StoreRecord> for StoreOut {
    fn from(record: &StoreRecord) -> Self {
        Self {
            id: record.store_id,
            name: record.name.clone(),
            plan: record.plan.clone(),
            created_at: record.created_at.clone(),
        }
    }
}

impl StoreIn {
    pub fn parse(self, created_at: &str) -> Result<StoreRecord, ApiError> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX {
            errors.push(FieldError::new("name", format!("must be 1 to {NAME_MAX} characters")));
        }
        let plan = self.plan.as_deref().unwrap_or("default");
        let plan_ok = !plan.is_empty()
            && plan.len() <= PLAN_MAX
            && plan
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !plan_ok {
            errors.push(FieldError::new(
                "plan",
                format!("must be 1 to {PLAN_MAX} of a-z, 0-9, `_` and `-`"),
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(StoreRecord {
            store_id: StoreId::new(),
            name: name.to_owned(),
            plan: plan.to_owned(),
            created_at: created_at.to_owned(),
            version: 1,
        })
    }
}

/// Creates a store and its first `full` keys, one per mode, in one transaction with its `store.created` event.
pub async fn onboard(db: &Db, input: StoreIn) -> Result<StoreCreatedOut, ApiError> {
    let created_at = time::rfc3339(time::now());
    let store = input.parse(&created_at)?;
    let scopes = Scopes::full();
    let [(live, live_record, live_lookup), (test, test_record, test_lookup)] = [Mode::Live, Mode::Test].map(|mode| {
        apikeys::new_key(
            store.store_id,
            mode,
            &store.plan,
            format!("{mode} key"),
            &scopes,
            &created_at,
        )
    });
    let out = StoreOut::from(&store);
    let event = Event::new(
        store.store_id,
        Mode::Live,
        EventType::StoreCreated,
        ResourceRef {
            kind: "store".into(),
            id: store.store_id.to_string(),
            version: store.version,
        },
        serde_json::to_value(&out).map_err(ApiError::internal)?,
    );
    db.create_store(
        &store,
        &[(live_record.clone(), live_lookup), (test_record.clone(), test_lookup)],
        event,
    )
    .await?;
    Ok(StoreCreatedOut {
        store: out,
        live_key: ApiKeyCreatedOut {
            key: ApiKeyOut::from(&live_record),
            secret: live.secret,
        },
        test_key: ApiKeyCreatedOut {
            key: ApiKeyOut::from(&test_record),
            secret: test.secret,
        },
    })
}

/// A new random platform key, for a local stack started without `CARTWHEEL_PLATFORM_KEY`.
pub fn generate_platform_key() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    format!("cwp_{}", Alphanumeric.sample_string(&mut rand::rng(), 40))
}

/// The platform operator's key, held as its hash so the comparison is constant-time and the plaintext is not kept.
#[derive(Clone)]
pub struct PlatformKey([u8; 32]);

impl PlatformKey {
    pub fn new(secret: &str) -> Self {
        Self(Sha256::digest(secret.trim().as_bytes()).into())
    }

    pub fn verify(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.0.ct_eq(&presented).into()
    }
}

impl std::fmt::Debug for PlatformKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlatformKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_input_is_validated() {
        let ok = StoreIn {
            name: " Acme ".into(),
            plan: None,
        }
        .parse("2026-11-25T00:00:00Z")
        .unwrap();
        assert_eq!(ok.name, "Acme");
        assert_eq!(ok.plan, "default");
        let bad = StoreIn {
            name: "".into(),
            plan: Some("Gold Plan!".into()),
        }
        .parse("x");
        match bad {
            Err(ApiError::Validation(errors)) => assert_eq!(errors.len(), 2),
            other => panic!("expected validation errors, got {:?}", other.err()),
        }
    }

    #[test]
    fn platform_key_verifies_and_hides() {
        let key = PlatformKey::new("s3cret-platform-key\n");
        assert!(key.verify("s3cret-platform-key"));
        assert!(!key.verify("s3cret-platform-kez"));
        assert!(!format!("{key:?}").contains("s3cret"));
    }
}
