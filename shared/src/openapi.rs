//! The parts of the OpenAPI document every function shares: the API key security scheme, the error body, and
//! the standard error responses added to every operation, so that no route can forget to document them.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDoc, Ref, ResponseBuilder};
use utoipa::OpenApi;

use crate::error::{ErrorBody, ErrorDetail, FieldError};

pub const SECURITY_SCHEME: &str = "api_key";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cartwheel API",
        description = "Multi-tenant headless commerce API. Authenticate with `Authorization: Bearer ck_live_…` \
                       (or `ck_test_…` for test mode). Errors share one body: see `ErrorBody`.",
        license(name = "Apache-2.0")
    ),
    components(schemas(ErrorBody, ErrorDetail, FieldError)),
    tags(
        (name = "platform", description = "Health, documentation and store onboarding"),
        (name = "api-keys", description = "A store's API keys"),
        (name = "products", description = "The catalog's products and their status"),
        (name = "variants", description = "A product's options and variants"),
        (name = "variants", description = "A product's options and variants"),
        (name = "categories", description = "Nested product categories"),


        (name = "brands", description = "Brands"),
        (name = "search", description = "Product search, facets and suggestions"),
        (name = "inventory", description = "Warehouses, stock levels and the adjustment ledger"),
        (name = "webhooks", description = "Webhook endpoints, secrets and delivery logs"),


    )
)]
pub struct BaseDoc;

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

fn is_public(operation: &Operation) -> bool {
    // `security(())` on a path means "no authentication": one empty requirement.
    operation
        .security
        .as_ref()
        .is_some_and(|requirements| requirements.iter().all(|r| *r == SecurityRequirement::default()))
}

/// The (method, path) of every operation the document marks public (`security(())`).
pub fn public_operations(doc: &OpenApiDoc) -> Vec<(&'static str, String)> {
    let mut public = Vec::new();
    for (path, item) in &doc.paths.paths {
        let operations = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in operations {
            if operation.as_ref().is_some_and(is_public) {
                public.push((method, path.clone()));
            }
        }
    }
    public
}

/// Merges the shared components into `doc` and completes every operation with its security and error responses.
pub fn finish(mut doc: OpenApiDoc) -> OpenApiDoc {
    doc.merge(BaseDoc::openapi());
    let base = BaseDoc::openapi();
    doc.info = base.info;
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SECURITY_SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("ck_live_… or ck_test_…")
                .build(),
        ),
    );
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            let public = is_public(operation);
            if !public {
                operation.security = Some(vec![SecurityRequirement::new(SECURITY_SCHEME, Vec::<String>::new())]);
            }
            let mut standard = vec![
                ("400", "Malformed request"),
                ("429", "Rate limit exceeded; see `Retry-After`"),
                ("500", "Internal error; quote `request_id`"),
            ];
            if !public {
                standard.push(("401", "Missing, invalid or revoked API key"));
                standard.push(("403", "The API key lacks the scope this route needs"));
            }
            if operation.request_body.is_some() {
                standard.push(("413", "Body larger than 1 MB"));
                standard.push(("422", "Validation failed; `details` names each field"));
            }
            for (status, description) in standard {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error_response(description).into());
            }
        }
    }
    doc
}
