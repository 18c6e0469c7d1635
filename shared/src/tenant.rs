//! Who is calling: the store, mode, key and scopes that the authorizer resolved from the API key.
//!
//! Handlers learn the store only from here, never from the request. On AWS the API Gateway authorizer puts the
//! context into the Lambda event; the local gateway puts the very same context into the request, so this
//! extractor cannot tell the two apart.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::ids::{KeyId, StoreId};

/// Live data and test data of a store never mix: every key and item carries its mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Live,
    Test,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Test => "test",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "live" => Ok(Self::Live),
            "test" => Ok(Self::Test),
            _ => Err(()),
        }
    }
}

macro_rules! scopes {
    ($($variant:ident => $name:literal, $level:ident;)*) => {
        /// A permission an API key can hold.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Scope { $($variant,)* }

        impl Scope {
            pub const ALL: &'static [Scope] = &[$(Scope::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Scope::$variant => $name,)* }
            }

            fn level(self) -> Level {
                match self { $(Scope::$variant => Level::$level,)* }
            }
        }

        impl FromStr for Scope {
            type Err = ();
            fn from_str(text: &str) -> Result<Self, ()> {
                match text { $($name => Ok(Scope::$variant),)* _ => Err(()) }
            }
        }
    };
}

/// Which preset a scope belongs to: `read_only` holds the reads, `write` the reads and writes,
/// `full` (`*`) everything, including the admin scopes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    All,
    Read,
    Write,
    Admin,
}

scopes! {
    Everything => "*", All;
    ProductsRead => "products:read", Read;
    ProductsWrite => "products:write", Write;
    InventoryRead => "inventory:read", Read;
    InventoryWrite => "inventory:write", Write;
    CustomersRead => "customers:read", Read;
    CustomersWrite => "customers:write", Write;
    CartsRead => "carts:read", Read;
    CartsWrite => "carts:write", Write;
    CheckoutWrite => "checkout:write", Write;
    OrdersRead => "orders:read", Read;
    OrdersWrite => "orders:write", Write;
    PricingRead => "pricing:read", Read;
    PricingWrite => "pricing:write", Write;
    PromotionsRead => "promotions:read", Read;
    PromotionsWrite => "promotions:write", Write;
    MarketplaceRead => "marketplace:read", Read;
    MarketplaceAdmin => "marketplace:admin", Admin;
    WebhooksManage => "webhooks:manage", Admin;
    ApiKeysManage => "api_keys:manage", Admin;
    AuditRead => "audit:read", Admin;
    JobsAdmin => "jobs:admin", Admin;
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The scopes of a key. `*` grants every scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes(BTreeSet<Scope>);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope or preset `{0}`")]
pub struct UnknownScope(pub String);

impl Scopes {
    pub fn full() -> Self {
        Self(BTreeSet::from([Scope::Everything]))
    }

    /// Expands scope names and the presets `read_only`, `write` and `full`.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, UnknownScope> {
        let mut scopes = BTreeSet::new();
        for name in names {
            match name {
                "full" => {
                    scopes.insert(Scope::Everything);
                }
                "read_only" => scopes.extend(Scope::ALL.iter().filter(|s| s.level() == Level::Read)),
                "write" => scopes.extend(
                    Scope::ALL
                        .iter()
                        .filter(|s| matches!(s.level(), Level::Read | Level::Write)),
                ),
                name => {
                    scopes.insert(name.parse().map_err(|()| UnknownScope(name.to_owned()))?);
                }
            }
        }
        if scopes.contains(&Scope::Everything) {
            return Ok(Self::full());
        }
        Ok(Self(scopes))
    }

    pub fn allows(&self, scope: Scope) -> bool {
        self.0.contains(&Scope::Everything) || self.0.contains(&scope)
    }

    /// True when every scope of `other` is allowed by `self`: a key can only hand out what it holds.
    pub fn covers(&self, other: &Scopes) -> bool {
        other.0.iter().all(|scope| self.allows(*scope))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.as_str()).collect()
    }

    /// The space-separated form used in the authorizer context and in storage.
    pub fn to_joined(&self) -> String {
        self.names().join(" ")
    }

    pub fn from_joined(text: &str) -> Result<Self, UnknownScope> {
        Self::parse(text.split_whitespace())
    }
}

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    pub store_id: StoreId,
    pub mode: Mode,
    pub key_id: KeyId,
    pub scopes: Scopes,
    pub plan: String,
}

/// The credential in `Authorization: Bearer …` (scheme in any case, surrounding spaces trimmed), else in
/// `X-Api-Key` (the header reference API 001 uses): an API key for the authorizer, the platform key on the platform
/// routes. On AWS, API Gateway's cached authorizer takes its identity from `Authorization` alone and refuses a
/// request without it before this runs (docs/architecture.md, "X-Api-Key").
pub fn presented_key(headers: &http::HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(http::header::AUTHORIZATION) {
        let (scheme, key) = value.to_str().ok()?.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| key.trim());
    }
    let key = headers.get("x-api-key")?.to_str().ok()?.trim();
    (!key.is_empty()).then_some(key)
}

/// The prefix of every key of a store's data in one mode, `S#{store}#{mode}#`: the table's tenant boundary, and what
/// a list cursor is bound to. Defined here, once, so that the store and the HTTP layer agree on it.
pub fn key_prefix(store: StoreId, mode: Mode) -> String {
    format!("S#{store}#{mode}#")
}

impl Tenant {
    /// [`key_prefix`] of this caller's store and mode.
    pub fn key_prefix(&self) -> String {
        key_prefix(self.store_id, self.mode)
    }

    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("this API key lacks the `{scope}` scope")))
        }
    }

    /// The authorizer context, as API Gateway passes it to the functions (`requestContext.authorizer.lambda`).
    pub fn to_context(&self) -> HashMap<String, Value> {
        HashMap::from([
            ("store_id".to_owned(), Value::String(self.store_id.to_string())),
            ("mode".to_owned(), Value::String(self.mode.to_string())),
            ("key_id".to_owned(), Value::String(self.key_id.to_string())),
            ("scopes".to_owned(), Value::String(self.scopes.to_joined())),
            ("plan".to_owned(), Value::String(self.plan.clone())),
        ])
    }

    pub fn from_context(context: &HashMap<String, Value>) -> Option<Self> {
        let text = |name: &str| context.get(name).and_then(Value::as_str);
        Some(Self {
            store_id: text("store_id")?.parse().ok()?,
            mode: text("mode")?.parse().ok()?,
            key_id: text("key_id")?.parse().ok()?,
            scopes: Scopes::from_joined(text("scopes")?).ok()?,
            plan: text("plan").unwrap_or("default").to_owned(),
        })
    }

    /// Reads the tenant from the API Gateway request context among `extensions`, if the request was authorized.
    pub fn from_request_context(extensions: &http::Extensions) -> Option<Self> {
        match extensions.get::<RequestContext>()? {
            RequestContext::ApiGatewayV2(context) => Self::from_context(&context.authorizer.as_ref()?.fields),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        if let Some(tenant) = parts.extensions.get::<Tenant>() {
            return Ok(tenant.clone());
        }
        let tenant = Self::from_request_context(&parts.extensions)
            .ok_or(ApiError::Unauthorized("missing or invalid API key"))?;
        parts.extensions.insert(tenant.clone());
        Ok(tenant)
    }
}

/// The scopes a route can require, as types: `Can<ProductsWrite>` in a handler's arguments checks the scope before
/// the body is read, so a key without it gets `403` whatever it sent.
pub mod can {
    use super::Scope;

    pub trait RequiredScope {
        const SCOPE: Scope;
    }

    macro_rules! required {
        ($($name:ident),*) => {
            $(
                pub struct $name;
                impl RequiredScope for $name {
                    const SCOPE: Scope = Scope::$name;
                }
            )*
        };
    }

    required!(
        ProductsRead,
        ProductsWrite,
        InventoryRead,
        InventoryWrite,
        CustomersRead,
        CustomersWrite,
        CartsRead,
        CartsWrite,
        CheckoutWrite,
        OrdersRead,
        OrdersWrite,
        PricingRead,
        PricingWrite,
        PromotionsRead,
        PromotionsWrite,
        ApiKeysManage,
        WebhooksManage
    );
}

/// The caller, known to hold the scope `S`.
pub struct Can<S>(pub Tenant, pub PhantomData<S>);

impl<S: can::RequiredScope, St: Send + Sync> FromRequestParts<St> for Can<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, ApiError> {
        let tenant = Tenant::from_request_parts(parts, state).await?;
        tenant.require(S::SCOPE)?;
        Ok(Can(tenant, PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_expand() {
        let read = Scopes::parse(["read_only"]).unwrap();
        assert!(read.allows(Scope::ProductsRead) && read.allows(Scope::OrdersRead));
        assert!(!read.allows(Scope::ProductsWrite) && !read.allows(Scope::WebhooksManage));
        let write = Scopes::parse(["write"]).unwrap();
        assert!(write.allows(Scope::OrdersWrite) && write.allows(Scope::ProductsRead));
        assert!(!write.allows(Scope::ApiKeysManage) && !write.allows(Scope::JobsAdmin));
        let full = Scopes::parse(["full"]).unwrap();
        assert!(Scope::ALL.iter().all(|s| full.allows(*s)));
        assert_eq!(Scopes::parse(["products:read", "*"]).unwrap(), Scopes::full());
        assert_eq!(
            Scopes::parse(["products:admin"]),
            Err(UnknownScope("products:admin".into()))
        );
    }

    #[test]
    fn a_key_covers_only_what_it_holds() {
        let write = Scopes::parse(["write"]).unwrap();
        assert!(write.covers(&Scopes::parse(["products:read", "orders:write"]).unwrap()));
        assert!(!write.covers(&Scopes::full()));
        assert!(Scopes::full().covers(&write));
    }

    #[test]
    fn reads_bearer_or_x_api_key_keys() {
        use http::{header, HeaderMap};
        let mut headers = HeaderMap::new();
        assert_eq!(presented_key(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer ck_test_abc".parse().unwrap());
        assert_eq!(presented_key(&headers), Some("ck_test_abc"));
        headers.insert(header::AUTHORIZATION, "bearer  ck_test_abc ".parse().unwrap());
        assert_eq!(presented_key(&headers), Some("ck_test_abc"));
        headers.insert("x-api-key", " ck_test_xyz ".parse().unwrap());
        assert_eq!(presented_key(&headers), Some("ck_test_abc"), "Authorization first");
        headers.insert(header::AUTHORIZATION, "Basic dXNlcjpwYXNz".parse().unwrap());
        assert_eq!(
            presented_key(&headers),
            None,
            "a wrong Authorization is not passed over"
        );
        headers.remove(header::AUTHORIZATION);
        assert_eq!(presented_key(&headers), Some("ck_test_xyz"));
        headers.insert(header::AUTHORIZATION, "Basic dXNlcjpwYXNz".parse().unwrap());
        assert_eq!(presented_key(&headers), None);
    }

    #[test]
    fn context_round_trips() {
        let tenant = Tenant {
            store_id: StoreId::new(),
            mode: Mode::Test,
            key_id: KeyId::new(),
            scopes: Scopes::parse(["products:read", "orders:write"]).unwrap(),
            plan: "pro".into(),
        };
        assert_eq!(Tenant::from_context(&tenant.to_context()), Some(tenant.clone()));
        let mut forged = tenant.to_context();
        forged.insert("store_id".into(), Value::String("../other".into()));
        assert_eq!(Tenant::from_context(&forged), None);
    }
}
