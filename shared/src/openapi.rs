//! The parts of the OpenAPI document every function shares: the API key security scheme, the error body, and
//! the standard error responses added to every operation, so that no route can forget to document them.

use std::collections::BTreeMap;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};

use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDoc, Ref, ResponseBuilder};
use utoipa::openapi::{RefOr, Required};
use utoipa::OpenApi;

use crate::error::{ErrorBody, ErrorDetail, FieldError};
use crate::http::pagination::MAX_LIMIT;

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
        (name = "platform", description = "Health, documentation, store onboarding and platform-minted keys"),
        (name = "api-keys", description = "A store's API keys"),
        (name = "products", description = "The catalog's products and their status"),
        (name = "variants", description = "A product's options and variants"),
        (name = "categories", description = "Nested product categories"),
        (name = "brands", description = "Brands"),
        (name = "search", description = "Product search, facets and suggestions"),
        (name = "inventory", description = "Warehouses, stock levels, the adjustment ledger and reservations"),
        (name = "customers", description = "Customers, their addresses and groups"),
        (name = "carts", description = "Carts priced from the catalog"),
        (name = "checkout", description = "A cart becomes an order in one transaction"),
        (name = "orders", description = "Orders, their status, fulfillments and refunds"),
        (name = "payments", description = "The payment provider's signed callbacks"),
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
                .description(Some(
                    "An API key of one store and mode. Each operation lists the scope its key needs (a key with `*` \
                     holds them all); without it the answer is `403`, before the body is read. The local stack also \
                     takes the key in `X-Api-Key`; on AWS, send it as `Authorization: Bearer …` (the authorizer's \
                     cache is keyed on that header).",
                ))
                .build(),
        ),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        let names_a_resource = path.contains('{');
        let operations = [
            (false, &mut item.get),
            (true, &mut item.post),
            (false, &mut item.put),
            (false, &mut item.patch),
            (false, &mut item.delete),
        ];
        for (is_post, operation) in operations {
            let Some(operation) = operation else { continue };
            let public = is_public(operation);
            // Each route names the scope its key needs (`security(("api_key" = ["products:write"]))`); a test holds
            // every route to it.
            if !public && operation.security.is_none() {
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
            if names_a_resource {
                standard.push((
                    "404",
                    "No such resource in this store and mode (another store's or mode's id is not found either)",
                ));
            }
            if operation.request_body.is_some() {
                standard.push(("413", "Body larger than 1 MB"));
                standard.push(("422", "Validation failed; `details` names each field"));
            }
            let queried = operation
                .parameters
                .iter()
                .flatten()
                .any(|p| p.parameter_in == ParameterIn::Query);
            if queried {
                standard.push((
                    "422",
                    "A query parameter is out of range or malformed; `details` names it",
                ));
                bound_page_size(operation);
            }
            if is_post {
                standard.push((
                    "409",
                    "Conflict: the resource's state forbids this, or the `Idempotency-Key` was used for another \
                     request (or its first request is still running); `error.code` says which",
                ));
            }
            for (status, description) in standard {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error_response(description).into());
            }
            document_headers(operation, public, is_post);
        }
    }
    add_links(&mut doc);
    if let Some(components) = doc.components.as_mut() {
        merge_closed_all_of(components);
    }
    forbid_control_characters(&mut doc);
    doc
}

/// Every string of a request body, value or key, is refused with a control character in it (`parse_json`): each
/// string schema a request body reaches (inline or through `$ref`) says so. One with no pattern gets
/// [`NO_CONTROL`](crate::body::NO_CONTROL), the marker `\S` becomes [`NOT_BLANK`](crate::body::NOT_BLANK); other
/// patterns name the characters they allow, which excludes control characters already. Shared components (an
/// address, a price) say it in responses too, where it holds as well: what they hold came through a body.
fn forbid_control_characters(doc: &mut OpenApiDoc) {
    let mut pending: Vec<String> = Vec::new();
    for item in doc.paths.paths.values_mut() {
        for operation in [
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
            &mut item.get,
        ] {
            let Some(body) = operation.as_mut().and_then(|o| o.request_body.as_mut()) else {
                continue;
            };
            for content in body.content.values_mut() {
                if let Some(schema) = content.schema.as_mut() {
                    no_control_in(schema, &mut pending);
                }
            }
        }
    }
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let mut done = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !done.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = components.schemas.get_mut(&name) {
            no_control_in(schema, &mut pending);
        }
    }
}

fn no_control_in(node: &mut RefOr<Schema>, refs: &mut Vec<String>) {
    let schema = match node {
        RefOr::Ref(reference) => {
            refs.extend(reference.ref_location.rsplit('/').next().map(str::to_owned));
            return;
        }
        RefOr::T(schema) => schema,
    };
    match schema {
        Schema::Object(object) => {
            let is_string = match &object.schema_type {
                utoipa::openapi::schema::SchemaType::Type(kind) => *kind == Type::String,
                utoipa::openapi::schema::SchemaType::Array(kinds) => kinds.contains(&Type::String),
                utoipa::openapi::schema::SchemaType::AnyValue => false,
            };
            if is_string {
                string_without_control(object);
            }
            for property in object.properties.values_mut() {
                no_control_in(property, refs);
            }
            if let Some(AdditionalProperties::RefOr(values)) = object.additional_properties.as_deref_mut() {
                no_control_in(values, refs);
                let keys = object
                    .property_names
                    .get_or_insert_with(|| Box::new(ObjectBuilder::new().schema_type(Type::String).into()));
                if let Schema::Object(keys) = keys.as_mut() {
                    string_without_control(keys);
                }
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                no_control_in(items, refs);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(|item| no_control_in(item, refs)),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(|item| no_control_in(item, refs)),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(|item| no_control_in(item, refs)),
        _ => {}
    }
}

fn string_without_control(object: &mut Object) {
    if object.enum_values.is_some() || object.format.is_some() {
        return;
    }
    match object.pattern.as_deref() {
        None => object.pattern = Some(crate::body::NO_CONTROL.to_owned()),
        Some(crate::body::NOT_BLANK_MARKER) => object.pattern = Some(crate::body::NOT_BLANK.to_owned()),
        Some(_) => {}
    }
}

/// `limit` on every list: what `http::pagination` enforces (1 to `MAX_LIMIT`).
fn bound_page_size(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.name == "limit" && parameter.parameter_in == ParameterIn::Query {
            parameter.schema = Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(MAX_LIMIT))
                    .into(),
            );
        }
    }
}

/// A record that flattens a closed body (`Address` = `id` + `PostalAddress`, which refuses unknown fields) comes out
/// of utoipa as `allOf` of a closed schema and the extra fields, which no value can match. Each such `allOf`, named
/// or inline (`DataOut<Vec<Address>>` repeats it), becomes one closed object with the properties of all its parts.
fn merge_closed_all_of(components: &mut utoipa::openapi::Components) {
    let named = components.schemas.clone();
    for schema in components.schemas.values_mut() {
        if let RefOr::T(schema) = schema {
            merge_within(schema, &named);
        }
    }
}

fn merge_within(schema: &mut Schema, named: &BTreeMap<String, RefOr<Schema>>) {
    let inner = |node: &mut RefOr<Schema>| match node {
        RefOr::T(schema) => merge_within(schema, named),
        RefOr::Ref(_) => {}
    };
    match schema {
        Schema::Object(object) => {
            object.properties.values_mut().for_each(inner);
            if let Some(AdditionalProperties::RefOr(node)) = object.additional_properties.as_deref_mut() {
                inner(node);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(node) = &mut array.items {
                inner(node);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(inner),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(inner),
        Schema::AllOf(all_of) => {
            if let Some(merged) = merged_if_closed(&all_of.items, named) {
                *schema = Schema::Object(merged);
            }
        }
        _ => {}
    }
}

fn merged_if_closed(parts: &[RefOr<Schema>], named: &BTreeMap<String, RefOr<Schema>>) -> Option<Object> {
    let objects: Vec<&Object> = parts
        .iter()
        .map(|part| match part {
            RefOr::Ref(reference) => match named.get(reference.ref_location.rsplit('/').next()?)? {
                RefOr::T(Schema::Object(object)) => Some(object),
                _ => None,
            },
            RefOr::T(Schema::Object(object)) => Some(object),
            RefOr::T(_) => None,
        })
        .collect::<Option<_>>()?;
    let closed = |object: &&Object| {
        matches!(
            object.additional_properties.as_deref(),
            Some(AdditionalProperties::FreeForm(false))
        )
    };
    if !objects.iter().any(closed) {
        return None;
    }
    let mut merged = ObjectBuilder::new().additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for object in objects {
        for (name, property) in &object.properties {
            merged = merged.property(name.clone(), property.clone());
        }
        for name in &object.required {
            merged = merged.required(name.clone());
        }
    }
    Some(merged.build())
}

/// Where a creating `POST` puts what it creates, when that is not the path it was posted to.
const CREATED_ELSEWHERE: [(&str, &[&str]); 3] = [
    ("/v1/checkout", &["/v1/orders"]),
    ("/v1/inventory/reserve", &["/v1/inventory/reservations"]),
    // A product is also an inventory item, under the same id.
    ("/v1/products", &["/v1/products", "/v1/inventory"]),
];

/// OpenAPI links from every `201` to the operations on what it created (`$response.body#/data/id`), so that a client
/// generator or a stateful fuzzer can follow create → read/update/delete/actions instead of guessing ids. The
/// parameters the created path already had are passed on from the request.
fn add_links(doc: &mut OpenApiDoc) {
    let mut targets: Vec<(String, String)> = Vec::new(); // (path, operation id)
    for (path, item) in &doc.paths.paths {
        for operation in [&item.get, &item.post, &item.put, &item.patch, &item.delete] {
            if let Some(id) = operation.as_ref().and_then(|o| o.operation_id.clone()) {
                targets.push((path.clone(), id));
            }
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let Some(create) = item.post.as_mut() else { continue };
        let Some(RefOr::T(created)) = create.responses.responses.get_mut("201") else {
            continue;
        };
        let collections = CREATED_ELSEWHERE
            .iter()
            .find(|(posted, _)| posted == path)
            .map_or_else(|| vec![path.as_str()], |(_, collections)| collections.to_vec());
        for collection in collections {
            let prefix = format!("{collection}/{{");
            for (target, operation_id) in targets.iter().filter(|(target, _)| target.starts_with(&prefix)) {
                let rest = &target[collection.len() + 1..];
                let (created_parameter, deeper) = rest.split_once('/').unwrap_or((rest, ""));
                if deeper.contains('{') {
                    continue; // needs an id this response does not give
                }
                // utoipa 5 writes `Link.operation_id` as `operation_id`, which OpenAPI does not know: the field
                // goes in under its OpenAPI name through the flattened extensions map instead.
                let mut link = LinkBuilder::new()
                    .extensions(Some(Extensions::from_iter([("operationId", operation_id.clone())])))
                    .parameter(created_parameter.trim_matches(['{', '}']), "$response.body#/data/id");
                for inherited in collection.split('/').filter(|segment| segment.starts_with('{')) {
                    let name = inherited.trim_matches(['{', '}']);
                    link = link.parameter(name, format!("$request.path.{name}"));
                }
                created.links.insert(operation_id.clone(), link.build().into());
            }
        }
    }
}

fn header(kind: Type, description: &str) -> Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(kind))
        .description(Some(description))
        .build()
}

fn has_parameter(operation: &Operation, name: &str) -> bool {
    operation
        .parameters
        .as_ref()
        .is_some_and(|parameters| parameters.iter().any(|p| p.name.eq_ignore_ascii_case(name)))
}

/// The headers the conventions add (request id, rate limits, idempotency, ETag), on every operation they apply to,
/// and the `Idempotency-Key` parameter on every POST (the idempotency layer honours it on all of them).
fn document_headers(operation: &mut Operation, public: bool, is_post: bool) {
    let tagged = has_parameter(operation, "If-Match");
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        let headers = &mut response.headers;
        headers.insert(
            "X-Request-Id".into(),
            header(
                Type::String,
                "The request's id (yours if sane, else `req_…`): quote it when reporting",
            ),
        );
        if !public {
            headers.insert(
                "X-RateLimit-Limit".into(),
                header(Type::Integer, "Requests per minute of the store's plan"),
            );
            headers.insert(
                "X-RateLimit-Remaining".into(),
                header(Type::Integer, "Requests left in this window"),
            );
            headers.insert(
                "X-RateLimit-Reset".into(),
                header(Type::Integer, "Unix time the window ends"),
            );
        }
        if status == "429" {
            headers.insert(
                "Retry-After".into(),
                header(Type::Integer, "Seconds until the window ends"),
            );
        }
        let success = status.starts_with('2');
        if success && is_post {
            headers.insert(
                "Idempotent-Replayed".into(),
                header(
                    Type::String,
                    "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`",
                ),
            );
        }
        if success && tagged {
            headers.insert(
                "ETag".into(),
                header(Type::String, "The entity's version, to send back in `If-Match`"),
            );
        }
    }
    if is_post && !has_parameter(operation, "Idempotency-Key") {
        let parameter = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .schema(Some(
                // `http::idempotency`: 1 to 255 visible ASCII characters.
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255))
                    .pattern(Some("^[!-~]+$")),
            ))
            .description(Some(
                "Replays the first answer to a repeat of this request by the same caller for 24 h (docs/architecture.md)",
            ))
            .build();
        operation.parameters.get_or_insert_with(Vec::new).push(parameter);
    }
}

/// The browsable reference at `/v1/docs`: the document rendered as one self-contained HTML page — every operation
/// by tag (scope, parameters, body, responses) and every schema's properties — with no script and nothing loaded
/// from anywhere else, so it is served the same from the local gateway and from the `admin` function on AWS.
pub fn reference_html(document: &serde_json::Value) -> String {
    use serde_json::Value;
    use std::fmt::Write;

    fn esc(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }
    fn kind(schema: &Value) -> String {
        if let Some(reference) = schema["$ref"].as_str() {
            let name = esc(reference.rsplit('/').next().unwrap_or_default());
            return format!("<a href=\"#schema-{name}\">{name}</a>");
        }
        for combined in ["allOf", "oneOf", "anyOf"] {
            if let Some(parts) = schema[combined].as_array() {
                let joiner = if combined == "allOf" { " &amp; " } else { " | " };
                return parts.iter().map(kind).collect::<Vec<_>>().join(joiner);
            }
        }
        if let Some(values) = schema["enum"].as_array() {
            return values
                .iter()
                .map(|v| esc(&v.to_string()))
                .collect::<Vec<_>>()
                .join(" | ");
        }
        let types: Vec<String> = match &schema["type"] {
            Value::String(name) => vec![name.clone()],
            Value::Array(names) => names.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect(),
            _ => vec![],
        };
        let mut text = types
            .iter()
            .map(|t| match t.as_str() {
                "array" => format!("array of {}", kind(&schema["items"])),
                other => esc(other),
            })
            .collect::<Vec<_>>()
            .join(" | ");
        let bounds: Vec<String> = [
            "format",
            "minLength",
            "maxLength",
            "minimum",
            "maximum",
            "maxItems",
            "pattern",
        ]
        .iter()
        .filter_map(|name| schema.get(*name).map(|v| format!("{name} {}", esc(&v.to_string()))))
        .collect();
        if !bounds.is_empty() {
            let _ = write!(text, " <small>({})</small>", bounds.join(", "));
        }
        if text.is_empty() {
            "any".into()
        } else {
            text
        }
    }
    fn prose(text: &str) -> String {
        format!("<p class=\"prose\">{}</p>", esc(text))
    }

    let info = &document["info"];
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} reference</title>\
         <style>body{{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:1rem 2rem}}\
         code,.method{{font-family:ui-monospace,monospace}}.method{{font-weight:700;text-transform:uppercase;\
         margin-right:.5rem}}section{{border-top:1px solid #ddd;padding:.5rem 0}}table{{border-collapse:collapse;\
         width:100%}}td,th{{border-bottom:1px solid #eee;padding:.2rem .5rem;text-align:left;vertical-align:top}}\
         .prose{{white-space:pre-line}}small{{color:#666}}</style></head><body>\n<h1>{title} {version}</h1>\n{description}\
         <p>The machine-readable document: <a href=\"/v1/openapi.json\"><code>/v1/openapi.json</code></a>.</p>\n",
        title = esc(info["title"].as_str().unwrap_or("API")),
        version = esc(info["version"].as_str().unwrap_or_default()),
        description = prose(info["description"].as_str().unwrap_or_default()),
    );
    let mut by_tag: BTreeMap<String, Vec<(&str, &str, &Value)>> = BTreeMap::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let tag = operation["tags"][0].as_str().unwrap_or("other").to_owned();
            by_tag.entry(tag).or_default().push((path, method, operation));
        }
    }
    page.push_str("<nav><h2>Operations</h2><ul>");
    for tag in by_tag.keys() {
        let _ = write!(page, "<li><a href=\"#tag-{0}\">{0}</a></li>", esc(tag));
    }
    page.push_str("<li><a href=\"#schemas\">schemas</a></li></ul></nav>\n");
    for (tag, operations) in &by_tag {
        let _ = writeln!(page, "<h2 id=\"tag-{0}\">{0}</h2>", esc(tag));
        for (path, method, operation) in operations {
            let id = operation["operationId"].as_str().unwrap_or_default();
            let _ = write!(
                page,
                "<section id=\"{id}\"><h3><span class=\"method\">{method}</span><code>{path}</code></h3>{summary}",
                id = esc(id),
                method = esc(method),
                path = esc(path),
                summary = prose(operation["summary"].as_str().unwrap_or_default()),
            );
            if let Some(description) = operation["description"].as_str() {
                page.push_str(&prose(description));
            }
            let scopes: Vec<String> = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["api_key"].as_array())
                .flatten()
                .filter_map(|s| s.as_str().map(esc))
                .collect();
            let _ = write!(
                page,
                "<p>Key scope: {}</p>",
                if scopes.is_empty() {
                    "none (public)".into()
                } else {
                    format!("<code>{}</code>", scopes.join(", "))
                }
            );
            if let Some(parameters) = operation["parameters"].as_array().filter(|p| !p.is_empty()) {
                page.push_str("<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th></tr>");
                for parameter in parameters {
                    let required = if parameter["required"] == true {
                        " <small>required</small>"
                    } else {
                        ""
                    };
                    let _ = write!(
                        page,
                        "<tr><td><code>{}</code>{required}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        esc(parameter["name"].as_str().unwrap_or_default()),
                        esc(parameter["in"].as_str().unwrap_or_default()),
                        kind(&parameter["schema"]),
                        esc(parameter["description"].as_str().unwrap_or_default()),
                    );
                }
                page.push_str("</table>");
            }
            let body = &operation["requestBody"]["content"]["application/json"]["schema"];
            if !body.is_null() {
                let _ = write!(page, "<p>Body: {}</p>", kind(body));
            }
            page.push_str("<table><tr><th>Status</th><th>Description</th><th>Body</th></tr>");
            for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                let _ = write!(
                    page,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(status),
                    esc(response["description"].as_str().unwrap_or_default()),
                    match &response["content"]["application/json"]["schema"] {
                        Value::Null => String::new(),
                        schema => kind(schema),
                    },
                );
            }
            page.push_str("</table></section>\n");
        }
    }
    page.push_str("<h2 id=\"schemas\">Schemas</h2>\n");
    for (name, schema) in document["components"]["schemas"].as_object().into_iter().flatten() {
        let _ = write!(page, "<section id=\"schema-{0}\"><h3>{0}</h3>", esc(name));
        if let Some(description) = schema["description"].as_str() {
            page.push_str(&prose(description));
        }
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        match schema["properties"].as_object() {
            Some(properties) => {
                page.push_str("<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>");
                for (field, property) in properties {
                    let mark = if required.contains(&field.as_str()) {
                        " <small>required</small>"
                    } else {
                        ""
                    };
                    let _ = write!(
                        page,
                        "<tr><td><code>{}</code>{mark}</td><td>{}</td><td>{}</td></tr>",
                        esc(field),
                        kind(property),
                        esc(property["description"].as_str().unwrap_or_default()),
                    );
                }
                page.push_str("</table>");
            }
            None => {
                let _ = write!(page, "<p>{}</p>", kind(schema));
            }
        }
        page.push_str("</section>\n");
    }
    page.push_str("</body></html>\n");
    page
}
