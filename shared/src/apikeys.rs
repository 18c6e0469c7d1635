//! API keys: `ck_live_…` / `ck_test_…`, random, shown once, stored only as a SHA-256 hash.

use crate::body::request_body;
use macro_rules_attribute::apply;
use rand::distr::{Alphanumeric, SampleString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::{ApiError, FieldError};
use crate::events::{Event, EventType, ResourceRef};
use crate::http::pagination::{ListOut, PageParams};
use crate::ids::{KeyId, StoreId};
use crate::tenant::{Mode, Scopes, Tenant};
use crate::time;

pub use crate::model::apikeys::{ApiKeyLookup, ApiKeyRecord};

/// Random characters after the `ck_{mode}_` prefix: 32 alphanumerics ≈ 190 bits.
const SECRET_LEN: usize = 32;
const NAME_MAX: usize = 100;
/// Entries of a key's `scopes` list (repeats included): more than there are scopes.
const MAX_SCOPES_GIVEN: usize = 50;

/// A freshly generated key. The plaintext lives only in this value and in the one response that shows it.
pub struct GeneratedKey {
    pub secret: String,
    pub hash: String,
}

pub fn generate(mode: Mode) -> GeneratedKey {
    let secret = format!("ck_{mode}_{}", Alphanumeric.sample_string(&mut rand::rng(), SECRET_LEN));
    let hash = hash(&secret);
    GeneratedKey { secret, hash }
}

/// Hex SHA-256 of the whole key text: the only form in which a key is stored.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A presented key's mode, if it is shaped like one of ours. Cheap checks first, so junk never reaches DynamoDB.
pub fn presented_mode(secret: &str) -> Option<Mode> {
    let (mode, random) = if let Some(rest) = secret.strip_prefix("ck_live_") {
        (Mode::Live, rest)
    } else {
        (Mode::Test, secret.strip_prefix("ck_test_")?)
    };
    (random.len() == SECRET_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(mode)
}

/// Constant-time comparison of two hex hashes.
pub fn hashes_match(stored: &str, presented: &str) -> bool {
    stored.as_bytes().ct_eq(presented.as_bytes()).into()
}

/// Shown instead of the key after creation: enough to recognise it, useless to an attacker.
pub fn hint(secret: &str) -> String {
    let tail = &secret[secret.len().saturating_sub(4)..];
    let prefix = &secret[..secret.len().min(8)];
    format!("{prefix}…{tail}")
}

#[apply(request_body!)]
pub struct ApiKeyIn {
    /// What the key is for, e.g. "storefront" or "ERP sync". Not blank; trimmed.
    #[schema(example = "storefront", min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    /// Scope names, or the presets `read_only`, `write`, `full`. A key can only grant scopes it holds itself.
    #[schema(example = json!(["products:read", "orders:write"]), schema_with = scope_names)]
    pub scopes: Vec<String>,
}

/// `scopes`: 1 to 50 of the scope names and presets [`Scopes::parse`] knows.
fn scope_names() -> utoipa::openapi::Array {
    let names = crate::tenant::Scope::ALL
        .iter()
        .map(|scope| scope.as_str())
        .chain(["read_only", "write", "full"]);
    utoipa::openapi::ArrayBuilder::new()
        .items(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .enum_values(Some(names)),
        )
        .min_items(Some(1))
        .max_items(Some(MAX_SCOPES_GIVEN))
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyOut {
    pub id: KeyId,
    pub name: String,
    pub mode: Mode,
    pub scopes: Vec<String>,
    /// The key's first and last characters.
    #[schema(example = "ck_test_…3fQa")]
    pub hint: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// A key as returned by the one response that shows its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyCreatedOut {
    #[serde(flatten)]
    pub key: ApiKeyOut,
    /// The API key. It is shown only in this response and cannot be recovered.
    #[schema(example = "ck_test_4eC39HqLyjWDarjtT1zdp7dcXYZ3fQa0")]
    pub secret: String,
}

/// What a repeat of the request that showed this key is told (the key itself is not kept).
impl crate::model::ShowsSecretOnce for ApiKeyCreatedOut {
    fn shown_once_notice(&self) -> String {
        format!(
            "this request already created API key {}; its secret is shown only once and was not kept: revoke the \
             key and create another",
            self.key.id
        )
    }
}

impl From<&ApiKeyRecord> for ApiKeyOut {
    fn from(record: &ApiKeyRecord) -> Self {
        Self {
            id: record.key_id,
            name: record.name.clone(),
            mode: record.mode,
            scopes: Scopes::from_joined(&record.scopes)
                .map(|s| s.names())
                .unwrap_or_default()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            hint: record.hint.clone(),
            created_at: record.created_at.clone(),
            revoked_at: record.revoked_at.clone(),
        }
    }
}

/// A validated request for a new key.
pub struct NewApiKey {
    pub name: String,
    pub scopes: Scopes,
}

impl ApiKeyIn {
    /// Checks the fields, and that the caller holds every scope it hands out.
    pub fn parse(self, granted_by: &Scopes) -> Result<NewApiKey, ApiError> {
        let mut errors = Vec::new();
        let name = validate_name(&self.name).map_err(|e| errors.push(e)).ok();
        let scopes = match Scopes::parse(self.scopes.iter().map(String::as_str)) {
            _ if self.scopes.len() > MAX_SCOPES_GIVEN => {
                errors.push(FieldError::new("scopes", format!("at most {MAX_SCOPES_GIVEN} entries")));
                None
            }
            Ok(scopes) if scopes.is_empty() => {
                errors.push(FieldError::new("scopes", "must name at least one scope or preset"));
                None
            }
            Ok(scopes) => Some(scopes),
            Err(unknown) => {
                errors.push(FieldError::new("scopes", unknown.to_string()));
                None
            }
        };
        match (name, scopes) {
            (Some(name), Some(scopes)) if errors.is_empty() => {
                if !granted_by.covers(&scopes) {
                    return Err(ApiError::Forbidden("a key cannot grant scopes it does not hold".into()));
                }
                Ok(NewApiKey { name, scopes })
            }
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

pub fn validate_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX {
        return Err(FieldError::new("name", format!("must be 1 to {NAME_MAX} characters")));
    }
    Ok(name.to_owned())
}

/// Creates a key for the caller's store and mode, with its `api_key.created` event.
pub async fn create(db: &Db, tenant: &Tenant, input: ApiKeyIn) -> Result<ApiKeyCreatedOut, ApiError> {
    let new = input.parse(&tenant.scopes)?;
    create_in_store(
        db,
        tenant.store_id,
        tenant.mode,
        &tenant.plan,
        tenant.key_id.to_string(),
        new,
    )
    .await
}

/// A key minted by the platform operator for a store (`POST /v1/platform/stores/{id}/api-keys`): the way back to a
/// full key when a store has revoked or lost all of its own.
#[apply(request_body!)]
pub struct PlatformApiKeyIn {
    pub mode: Mode,
    /// Not blank; trimmed.
    #[schema(example = "recovery", min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    /// Scope names or presets; any scope may be granted.
    #[schema(example = json!(["full"]), schema_with = scope_names)]
    pub scopes: Vec<String>,
}

pub async fn create_for_store(
    db: &Db,
    store_id: StoreId,
    input: PlatformApiKeyIn,
) -> Result<ApiKeyCreatedOut, ApiError> {
    let new = ApiKeyIn {
        name: input.name,
        scopes: input.scopes,
    }
    .parse(&Scopes::full())?;
    let store = db
        .get_store(store_id)
        .await?
        .ok_or_else(|| ApiError::not_found("store"))?;
    create_in_store(db, store.store_id, input.mode, &store.plan, "platform".to_owned(), new).await
}

async fn create_in_store(
    db: &Db,
    store_id: StoreId,
    mode: Mode,
    plan: &str,
    actor: String,
    NewApiKey { name, scopes }: NewApiKey,
) -> Result<ApiKeyCreatedOut, ApiError> {
    let created_at = time::rfc3339(time::now());
    let (key, record, lookup) = new_key(store_id, mode, plan, name, &scopes, &created_at);
    let out = ApiKeyOut::from(&record);
    let event = key_event(store_id, mode, EventType::ApiKeyCreated, &out, record.version)?;
    db.create_api_key(store_id, actor, &record, &lookup, event).await?;
    Ok(ApiKeyCreatedOut {
        key: out,
        secret: key.secret,
    })
}

/// Revokes a key of the caller's store and mode. The authorizer stops accepting it at once (locally) or within its
/// cache TTL (on AWS). Revoking a revoked key is a no-op; a key cannot revoke itself, nor a key holding a scope it
/// does not hold itself (as it could not have created it).
pub async fn revoke(db: &Db, tenant: &Tenant, key_id: KeyId) -> Result<(), ApiError> {
    if key_id == tenant.key_id {
        return Err(ApiError::conflict("an API key cannot revoke itself; use another key"));
    }
    let record = db
        .scoped(tenant)
        .record::<ApiKeyRecord>(key_id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("API key"))?;
    let target_scopes = Scopes::from_joined(&record.scopes).map_err(ApiError::internal)?;
    if !tenant.scopes.covers(&target_scopes) {
        return Err(ApiError::Forbidden(
            "a key cannot revoke a key that holds scopes it does not hold".into(),
        ));
    }
    if record.revoked_at.is_some() {
        return Ok(());
    }
    let revoked_at = time::rfc3339(time::now());
    let mut out = ApiKeyOut::from(&record);
    out.revoked_at = Some(revoked_at.clone());
    let event = key_event(
        tenant.store_id,
        tenant.mode,
        EventType::ApiKeyRevoked,
        &out,
        record.version + 1,
    )?;
    db.revoke_api_key(tenant, &record, &revoked_at, event).await?;
    Ok(())
}

fn key_event(
    store_id: StoreId,
    mode: Mode,
    event_type: EventType,
    key: &ApiKeyOut,
    version: u64,
) -> Result<Event, ApiError> {
    Ok(Event::new(
        store_id,
        mode,
        event_type,
        ResourceRef {
            kind: "api_key".into(),
            id: key.id.to_string(),
            version,
        },
        serde_json::to_value(key).map_err(ApiError::internal)?,
    ))
}

/// The record and lookup items of a new key.
pub fn new_key(
    store_id: StoreId,
    mode: Mode,
    plan: &str,
    name: String,
    scopes: &Scopes,
    created_at: &str,
) -> (GeneratedKey, ApiKeyRecord, ApiKeyLookup) {
    let key = generate(mode);
    let key_id = KeyId::new();
    let record = ApiKeyRecord {
        key_id,
        name,
        mode,
        scopes: scopes.to_joined(),
        hint: hint(&key.secret),
        hash: key.hash.clone(),
        created_at: created_at.to_owned(),
        revoked_at: None,
        version: 1,
    };
    let lookup = ApiKeyLookup {
        key_id,
        store_id,
        mode,
        scopes: scopes.to_joined(),
        plan: plan.to_owned(),
        hash: key.hash.clone(),
    };
    (key, record, lookup)
}

/// A page of the store's keys in this mode (never their secrets).
pub async fn list_api_keys(db: &Db, tenant: &Tenant, params: &PageParams) -> Result<ListOut<ApiKeyOut>, ApiError> {
    let page = params.parse(&tenant.key_prefix())?;
    let keys = db.scoped(tenant).page::<ApiKeyRecord>(&page).await?;
    Ok(keys.into_list(|record| ApiKeyOut::from(&record)))
}

/// One key of the store in this mode (never its secret).
pub async fn get_api_key(db: &Db, tenant: &Tenant, id: &str) -> Result<ApiKeyOut, ApiError> {
    // An id that cannot exist is simply not found, as it would be in another store.
    let record: ApiKeyRecord = db.scoped(tenant).found(id).await?;
    Ok(ApiKeyOut::from(&record))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let key = generate(Mode::Live);
        assert!(key.secret.starts_with("ck_live_"));
        assert_eq!(presented_mode(&key.secret), Some(Mode::Live));
        assert_eq!(key.hash, hash(&key.secret));
        assert_eq!(key.hash.len(), 64);
        assert!(!key.hash.contains(&key.secret[8..]));
        assert_ne!(generate(Mode::Live).secret, key.secret);
        assert_eq!(presented_mode(&generate(Mode::Test).secret), Some(Mode::Test));
    }

    #[test]
    fn junk_is_not_a_key() {
        for junk in [
            "",
            "ck_live_",
            "ck_prod_abcdefghijklmnopqrstuvwxyz012345",
            "ck_live_short",
            "sk_live_abcdefghijklmnopqrstuvwxyz012345",
            "ck_test_abcdefghijklmnopqrstuvwxyz01234!",
        ] {
            assert_eq!(presented_mode(junk), None, "{junk}");
        }
    }

    #[test]
    fn hint_hides_the_secret() {
        let key = generate(Mode::Test);
        let hint = hint(&key.secret);
        assert!(hint.starts_with("ck_test_…"));
        assert_eq!(hint.chars().count(), 8 + 1 + 4);
    }

    #[test]
    fn hashes_compare() {
        let a = hash("ck_test_a");
        assert!(hashes_match(&a, &hash("ck_test_a")));
        assert!(!hashes_match(&a, &hash("ck_test_b")));
    }

    #[test]
    fn input_is_validated() {
        let full = Scopes::full();
        let input = ApiKeyIn {
            name: " ".into(),
            scopes: vec!["nope".into()],
        };
        match input.parse(&full) {
            Err(ApiError::Validation(errors)) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["name", "scopes"]);
            }
            other => panic!("expected validation errors, got {:?}", other.err()),
        }
        let read_only = Scopes::parse(["read_only"]).unwrap();
        let escalation = ApiKeyIn {
            name: "x".into(),
            scopes: vec!["write".into()],
        };
        assert!(matches!(escalation.parse(&read_only), Err(ApiError::Forbidden(_))));
        let ok = ApiKeyIn {
            name: "storefront".into(),
            scopes: vec!["products:read".into()],
        };
        assert!(ok.parse(&read_only).is_ok());
    }
}
