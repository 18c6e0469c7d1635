//! Tenant, mode and scope isolation of every operation of the OpenAPI document, walked from the document itself:
//! a new route is checked the day it is documented (and this test refuses a route it has no ids or body for).

use std::collections::{BTreeMap, BTreeSet};

use cartwheel_tests::{spawn_app_with, Expect, Options, TestApp, TestStore};
use serde_json::{json, Value};

/// One resource of every kind in a store's test mode: the ids every path parameter of the document needs.
pub(crate) struct Seeded {
    product: String,
    variant: String,
    category: String,
    brand: String,
    customer: String,
    address: String,
    cart: String,
    item: String,
    order: String,
    line: String,
    stocked: String,
    reservation: String,
    warehouse: String,
    default_warehouse: String,
    group: String,
    transfer: String,
    price: String,
    zone: String,
    modifier: String,
    promotion: String,
    campaign: String,
    webhook: String,
    key: String,
}

fn address() -> Value {
    json!({"line1": "1 Market St", "city": "San Francisco", "region": "CA", "postal_code": "94105", "country": "US"})
}

async fn seed(app: &TestApp, store: &TestStore) -> Seeded {
    let key = store.test_key.as_str();
    let post = |path: &str, body: Value| app.post(path, key, &body);
    let id = |data: &Value| data["id"].as_str().expect("an id").to_owned();
    let warehouse = id(&post("/v1/warehouses", json!({"name": "Back room"}))
        .expect_data(201)
        .await);
    let category = id(&post("/v1/categories", json!({"name": "Mugs"})).expect_data(201).await);
    let brand = id(&post("/v1/brands", json!({"name": "Acme"})).expect_data(201).await);
    let mug = json!({"name": "Mug", "sku": "MUG", "status": "active", "price": {"amount": 1200, "currency": "USD"}});
    let stocked = id(&post("/v1/products", mug).expect_data(201).await);
    let restock = json!({"delta": 10, "reason": "restock"});
    post(&format!("/v1/inventory/{stocked}/adjust"), restock)
        .expect(200)
        .await;
    let tee = json!({"name": "Tee", "sku": "TEE", "price": {"amount": 2000, "currency": "USD"},
                     "category_ids": [category], "brand_id": brand});
    let product = id(&post("/v1/products", tee).expect_data(201).await);
    let size = json!({"name": "Size", "values": ["S", "M"]});
    post(&format!("/v1/products/{product}/options"), size).expect(201).await;
    let small = json!({"option_values": {"Size": "S"}, "sku": "TEE-S"});
    let variant = id(&post(&format!("/v1/products/{product}/variants"), small)
        .expect_data(201)
        .await);
    let customer = id(&post("/v1/customers", json!({"email": "ada@example.com"}))
        .expect_data(201)
        .await);
    let added = post(&format!("/v1/customers/{customer}/addresses"), address());
    let address_id = id(&added.expect_data(201).await);
    let cart_with = |product: String| async move {
        let cart = id(&post("/v1/carts", json!({"currency": "USD"})).expect_data(201).await);
        let line = json!({"product_id": product, "quantity": 1});
        let filled = post(&format!("/v1/carts/{cart}/items"), line).expect_data(200).await;
        (cart, id(&filled["items"][0]))
    };
    let (cart, item) = cart_with(stocked.clone()).await;
    let (sold, _) = cart_with(stocked.clone()).await;
    let checkout = json!({"cart_id": sold, "email": "ada@example.com", "shipping_address": address()});
    let order = post("/v1/checkout", checkout).expect_data(201).await;
    let hold = json!({"items": [{"id": stocked, "quantity": 1}]});
    let reservation = id(&post("/v1/inventory/reserve", hold).expect_data(201).await);
    let warehouses = app.get("/v1/warehouses", key).expect_data(200).await;
    let default_warehouse = warehouses
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["is_default"] == true)
        .map(id)
        .unwrap();
    let move_one = json!({"item_id": stocked, "from_warehouse_id": default_warehouse, "to_warehouse_id": warehouse,
                          "quantity": 1, "in_transit": true});
    let transfer = id(&post("/v1/inventory/transfers", move_one).expect_data(201).await);
    let group = id(&post("/v1/customer-groups", json!({"name": "Wholesale"}))
        .expect_data(201)
        .await);
    let eur = json!({"product_id": stocked, "currency": "EUR", "amount": 1100, "customer_group_id": group});
    let price = id(&post("/v1/prices", eur).expect_data(201).await);
    let france = json!({"name": "France", "countries": ["FR"], "options": [
        {"name": "Colissimo", "currency": "EUR", "rate": {"type": "flat", "amount": 500}}]});
    let zone = id(&post("/v1/shipping-zones", france).expect_data(201).await);
    let members = json!({"name": "Members", "kind": "percentage", "value": -500, "customer_group_id": group});
    let modifier = id(&post("/v1/price-modifiers", members).expect_data(201).await);
    let budget = json!({"name": "Spring sale", "budget_type": "spend", "limit": 100000, "currency": "USD"});
    let campaign = id(&post("/v1/campaigns", budget).expect_data(201).await);
    let spring = json!({"name": "Spring", "code": "SPRING", "value_type": "percentage", "value": 10,
                        "campaign_id": campaign,
                        "conditions": {"product_ids": [stocked], "customer_group_ids": [group]}});
    let promotion = id(&post("/v1/promotions", spring).expect_data(201).await);
    let endpoint = json!({"url": "http://127.0.0.1:9/hooks", "events": ["order.created"]});
    let webhook = id(&post("/v1/webhooks", endpoint).expect_data(201).await);
    Seeded {
        product,
        variant,
        category,
        brand,
        customer,
        address: address_id,
        cart,
        item,
        line: id(&order["lines"][0]),
        order: id(&order),
        stocked,
        reservation,
        warehouse,
        default_warehouse,
        group,
        transfer,
        price,
        zone,
        modifier,
        promotion,
        campaign,
        webhook,
        key: store.test_key_id.clone(),
    }
}

/// An app (webhook endpoints on 127.0.0.1 allowed: this machine resolves no public name) and a store seeded with
/// one resource of every kind.
pub(crate) async fn seeded_app() -> (TestApp, TestStore, Seeded) {
    let app = spawn_app_with(Options {
        allow_loopback: true,
        // These tests send a few thousand requests to one store within a minute; the rate limit has tests of
        // its own.
        rate_limits: Some("default=100000"),
        ..Default::default()
    })
    .await;
    let home = app.create_store().await;
    let seeded = seed(&app, &home).await;
    (app, home, seeded)
}

/// `template` with the seeded store's ids: each parameter is named by the segment before it.
pub(crate) fn concrete(template: &str, s: &Seeded) -> String {
    let segments: Vec<&str> = template.split('/').collect();
    let mut path = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        if !segment.starts_with('{') {
            path.push(segment.to_string());
            continue;
        }
        let id = match (segments[i - 1], *segment) {
            (_, "{action}") => "publish",
            ("products", _) => &s.product,
            ("variants", _) => &s.variant,
            ("categories", _) => &s.category,
            ("brands", _) => &s.brand,
            ("customers", _) => &s.customer,
            ("addresses", _) => &s.address,
            ("carts", _) => &s.cart,
            ("items", _) => &s.item,
            ("orders", _) => &s.order,
            ("inventory", _) => &s.stocked,
            ("reservations", _) => &s.reservation,
            ("transfers", _) => &s.transfer,
            ("prices", _) => &s.price,
            ("shipping-zones", _) => &s.zone,
            ("price-modifiers", _) => &s.modifier,
            ("promotions", _) => &s.promotion,
            ("promotion-codes", _) => "SPRING",
            ("campaigns", _) => &s.campaign,
            ("coupons", _) => &s.promotion,
            ("customer-groups", _) => &s.group,
            ("options", _) => "Size",
            ("warehouses", _) => &s.warehouse,
            ("webhooks", _) => &s.webhook,
            // The endpoint is looked up first: an unknown event id never gets that far.
            ("deliveries", _) => "evt_01JD3M5W7Q6V8X9Y0Z1A2B3C4D",
            ("api-keys", _) => &s.key,
            (before, parameter) => panic!("no seeded id for {parameter} after /{before}/ in {template}: seed one"),
        };
        path.push(id.to_owned());
    }
    path.join("/")
}

/// A valid body for every operation that takes one, naming the seeded store's resources wherever the body can: a
/// foreign id in a body must be as unknown as one in a path.
pub(crate) fn body(method: &str, template: &str, s: &Seeded) -> Value {
    match (method, template) {
        // A key grants only what it holds.
        ("POST", "/v1/api-keys") => json!({"name": "ci", "scopes": ["api_keys:manage"]}),
        ("POST", "/v1/brands") | ("POST", "/v1/categories") | ("POST", "/v1/customer-groups") => {
            json!({"name": "New"})
        }
        ("POST", "/v1/warehouses") => json!({"name": "Annex"}),
        ("PATCH", "/v1/brands/{id}")
        | ("PATCH", "/v1/categories/{id}")
        | ("PATCH", "/v1/warehouses/{id}")
        | ("PATCH", "/v1/customer-groups/{id}") => {
            json!({"name": "Renamed"})
        }
        ("POST", "/v1/carts") => json!({"currency": "USD", "customer_id": s.customer}),
        ("POST", "/v1/carts/{id}/items") => json!({"product_id": s.stocked, "quantity": 1}),
        ("PATCH", "/v1/carts/{id}/items/{item_id}") => json!({"quantity": 2}),
        ("POST", "/v1/checkout") => {
            json!({"cart_id": s.cart, "customer_id": s.customer, "shipping_address": address()})
        }
        ("POST", "/v1/customers") => json!({"email": "new@example.com"}),
        ("PATCH", "/v1/customers/{id}") => json!({"first_name": "Ada"}),
        ("POST", "/v1/customers/{id}/addresses") => address(),
        ("POST", "/v1/customers/{id}/blacklist") => json!({"reason": "chargebacks"}),
        ("POST", "/v1/inventory/reserve") => json!({"items": [{"id": s.stocked, "quantity": 1}]}),
        ("POST", "/v1/inventory/release") => json!({"reservation_id": s.reservation}),
        ("POST", "/v1/inventory/{id}/set") => {
            json!({"on_hand": 5, "reason": "correction", "warehouse_id": s.warehouse})
        }
        ("POST", "/v1/inventory/transfers") => json!({"item_id": s.stocked, "from_warehouse_id": s.default_warehouse,
                                                      "to_warehouse_id": s.warehouse, "quantity": 1}),
        ("POST", "/v1/inventory/{id}/adjust") => {
            json!({"delta": 1, "reason": "restock", "warehouse_id": s.warehouse})
        }
        ("POST", "/v1/orders/{id}/fulfillments") => json!({"items": [{"line_id": s.line, "quantity": 1}]}),
        ("POST", "/v1/orders/{id}/refunds") => json!({"amount": 1, "reason": "damaged"}),
        ("PATCH", "/v1/orders/{id}/status") => json!({"status": "cancelled", "reason": "fraud"}),
        ("POST", "/v1/products") => json!({"name": "Cup", "price": {"amount": 900, "currency": "USD"},
                                           "category_ids": [s.category], "brand_id": s.brand}),
        ("PATCH", "/v1/products/{id}") => json!({"name": "Renamed", "category_ids": [s.category]}),
        ("POST", "/v1/products/{id}/{action}") => json!({}),
        ("POST", "/v1/products/{id}/options") => json!({"name": "Colour", "values": ["Red"]}),
        ("POST", "/v1/products/{id}/options/{option}/values") => json!({"values": ["L"]}),
        ("POST", "/v1/products/{id}/variants") => json!({"option_values": {"Size": "M"}}),
        ("PATCH", "/v1/products/{id}/variants/{variant_id}") => json!({"sku": "TEE-S2"}),
        ("POST", "/v1/prices") => json!({"product_id": s.product, "variant_id": s.variant, "currency": "EUR",
                                         "amount": 900, "customer_group_id": s.group}),
        ("PATCH", "/v1/prices/{id}") => json!({"amount": 950, "customer_group_id": s.group}),
        ("PUT", "/v1/tax-settings") => json!({"prices_include_tax": true, "rates": [{"country": "FR", "rate": "20"}]}),
        ("PATCH", "/v1/carts/{id}") => json!({"shipping_address": address()}),
        ("POST", "/v1/carts/{id}/promotion-codes") => json!({"code": "spring"}),
        ("POST", "/v1/shipping-zones") => json!({"name": "Belgium", "countries": ["BE"], "options": []}),
        ("PATCH", "/v1/shipping-zones/{id}") => json!({"name": "Renamed"}),
        ("POST", "/v1/price-modifiers") => json!({"name": "Sale", "kind": "percentage", "value": -1000,
                                                  "product_id": s.product, "category_id": s.category,
                                                  "customer_group_id": s.group}),
        ("PATCH", "/v1/price-modifiers/{id}") => json!({"value": -700, "product_id": s.product}),
        ("POST", "/v1/promotions") => json!({"name": "Summer", "value_type": "percentage", "value": 5,
                                             "campaign_id": s.campaign,
                                             "conditions": {"product_ids": [s.product], "category_ids": [s.category],
                                                            "customer_group_ids": [s.group]}}),
        ("PATCH", "/v1/promotions/{id}") => json!({"value": 15, "campaign_id": s.campaign,
                                                   "conditions": {"product_ids": [s.product]}}),
        ("POST", "/v1/promotions/validate") => json!({"cart_id": s.cart, "code": "spring"}),
        ("POST", "/v1/coupons") => json!({"code": "TENOFF", "type": "fixed", "value": 1000, "currency": "USD",
                                           "min_order_amount": 5000, "applies_to_products": [s.product]}),
        ("POST", "/v1/campaigns") => json!({"name": "Autumn", "budget_type": "usage", "limit": 100}),
        ("PATCH", "/v1/campaigns/{id}") => json!({"limit": 200}),
        ("POST", "/v1/webhooks") => json!({"url": "http://127.0.0.1:9/other", "events": ["order.created"]}),
        ("PATCH", "/v1/webhooks/{id}") => json!({"description": "renamed"}),
        ("POST", "/v1/webhooks/{id}/recover") => json!({"since": "2026-01-01T00:00:00Z"}),
        _ => panic!("{method} {template} takes a body this test does not know: add one"),
    }
}

/// Every operation of the document that needs an API key, with the scope it documents.
pub(crate) fn keyed_operations() -> Vec<(String, String, bool, String)> {
    let document = serde_json::to_value(cartwheel_gateway::openapi_document()).unwrap();
    let mut operations = Vec::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(scope) = operation["security"][0]["api_key"].as_array() else {
                continue; // public, or the platform's own key
            };
            assert_eq!(
                scope.len(),
                1,
                "{method} {template} must document the one scope its key needs"
            );
            let takes_body = operation.get("requestBody").is_some();
            let scope = scope[0].as_str().unwrap().to_owned();
            operations.push((method.to_uppercase(), template.clone(), takes_body, scope));
        }
    }
    operations
}

/// What the seeded store's resources look like, to prove that nothing of it changed.
async fn snapshot(app: &TestApp, key: &str, s: &Seeded) -> Vec<Value> {
    let paths = [
        format!("/v1/products/{}", s.product),
        format!("/v1/products/{}/variants/{}", s.product, s.variant),
        format!("/v1/products/{}", s.stocked),
        format!("/v1/categories/{}", s.category),
        format!("/v1/brands/{}", s.brand),
        format!("/v1/customers/{}", s.customer),
        format!("/v1/carts/{}", s.cart),
        format!("/v1/orders/{}", s.order),
        format!("/v1/inventory/{}", s.stocked),
        format!("/v1/inventory/reservations/{}", s.reservation),
        format!("/v1/webhooks/{}", s.webhook),
        format!("/v1/prices/{}", s.price),
        format!("/v1/shipping-zones/{}", s.zone),
        format!("/v1/price-modifiers/{}", s.modifier),
        format!("/v1/promotions/{}", s.promotion),
        format!("/v1/campaigns/{}", s.campaign),
        format!("/v1/api-keys/{}", s.key),
        "/v1/warehouses".to_owned(),
    ];
    let mut seen = Vec::new();
    for path in paths {
        seen.push(app.get(&path, key).expect(200).await);
    }
    seen
}

#[tokio::test]
async fn every_operation_checks_scope_before_the_body_and_never_crosses_stores_or_modes() {
    let (app, home, seeded) = seeded_app().await;
    let before = snapshot(&app, &home.test_key, &seeded).await;
    let operations = keyed_operations();
    let scopes: BTreeSet<&str> = operations.iter().map(|(_, _, _, scope)| scope.as_str()).collect();
    // Keys of two other stores: one lacking each scope (and holding every other), one holding only it.
    let (lacking, holding) = (app.create_store().await, app.create_store().await);
    let mut without = BTreeMap::new();
    let mut only = BTreeMap::new();
    for scope in &scopes {
        let others: Vec<&str> = scopes.iter().copied().filter(|s| s != scope).collect();
        without.insert(*scope, app.create_key(&lacking.test_key, &others).await.1);
        only.insert(*scope, app.create_key(&holding.test_key, &[scope]).await.1);
    }

    let mut checked = 0;
    for (method, template, takes_body, scope) in &operations {
        let url = format!("{}{}", app.url, concrete(template, &seeded));
        let names_a_resource = template.contains('{');
        let request = |key: &str| app.http.request(method.parse().unwrap(), &url).bearer_auth(key);
        let with_body = |key: &str| match takes_body {
            true => request(key).json(&body(method, template, &seeded)),
            false => request(key),
        };
        let operation = format!("{method} {template}");

        let anonymous = app.http.request(method.parse().unwrap(), &url).send().await.unwrap();
        assert_eq!(anonymous.status(), 401, "{operation} without a key");

        // Without its scope: 403 before the body is read (a malformed body would be a 400 if it were).
        let unscoped = match takes_body {
            true => request(&without[scope.as_str()])
                .header("content-type", "application/json")
                .body("{not json"),
            false => request(&without[scope.as_str()]),
        };
        let refused = unscoped.send().await.unwrap();
        assert_eq!(refused.status(), 403, "{operation} without {scope}");
        let refused: Value = refused.json().await.unwrap();
        assert_eq!(refused["error"]["code"], "forbidden", "{operation}");

        // With exactly its scope, another store's key finds none of this store's resources, in a path or a body.
        let foreign = with_body(&only[scope.as_str()]).send().await.unwrap();
        let (status, text) = (foreign.status().as_u16(), foreign.text().await.unwrap());
        if names_a_resource {
            assert_eq!(status, 404, "{operation} from another store: {text}");
        } else {
            assert!(
                status != 403 && status < 500,
                "{operation} with {scope} alone: {status} {text}"
            );
        }

        // The same store's live-mode key does not see its test mode either.
        if names_a_resource {
            let live = with_body(&home.live_key).send().await.unwrap();
            let (status, text) = (live.status().as_u16(), live.text().await.unwrap());
            assert_eq!(status, 404, "{operation} from the live mode: {text}");
        }
        checked += 1;
    }
    assert!(checked >= 75, "only {checked} operations need a key");
    assert_eq!(
        snapshot(&app, &home.test_key, &seeded).await,
        before,
        "another store or mode changed this one"
    );
}

/// What only the server sets: the tenant, the version, timestamps, computed totals and counters, and the statuses
/// that actions set.
const SERVER_SET: [&str; 20] = [
    "id",
    "store_id",
    "mode",
    "version",
    "created_at",
    "updated_at",
    "status",
    "number",
    "subtotal",
    "total",
    "tax_total",
    "discount_total",
    "shipping_total",
    "paid_total",
    "refunded_total",
    "on_hand",
    "reserved",
    "available",
    "attempts",
    "revoked_at",
];

/// The properties a request body schema of the document declares (through `$ref`s and `allOf`/`oneOf`).
fn declared(schema: &Value, schemas: &Value) -> BTreeSet<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return declared(&schemas[name], schemas);
    }
    let mut names: BTreeSet<String> = schema["properties"]
        .as_object()
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default();
    for combined in ["allOf", "oneOf", "anyOf"] {
        for part in schema[combined].as_array().into_iter().flatten() {
            names.extend(declared(part, schemas));
        }
    }
    names
}

#[tokio::test]
async fn no_request_body_sets_what_only_the_server_sets() {
    let document = serde_json::to_value(cartwheel_gateway::openapi_document()).unwrap();
    let schemas = &document["components"]["schemas"];
    let (app, home, seeded) = seeded_app().await;
    let before = snapshot(&app, &home.test_key, &seeded).await;

    let mut refused = 0;
    for (method, template, takes_body, _) in keyed_operations() {
        if !takes_body {
            continue;
        }
        let operation = &document["paths"][&template][method.to_lowercase()];
        let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
        let accepts = declared(schema, schemas);
        // The two statuses a body may carry (a product created as a draft or active, and the order status change),
        // and the counted level the one action made for it sets (ledgered as the difference).
        let allowed = [
            ("POST", "/v1/products", "status"),
            ("PATCH", "/v1/orders/{id}/status", "status"),
            ("POST", "/v1/inventory/{id}/set", "on_hand"),
        ];
        for field in SERVER_SET.iter().filter(|field| accepts.contains(**field)) {
            assert!(
                allowed.contains(&(method.as_str(), template.as_str(), field)),
                "{method} {template} documents `{field}` as writable"
            );
        }
        let url = format!("{}{}", app.url, concrete(&template, &seeded));
        for field in SERVER_SET.iter().filter(|field| !accepts.contains(**field)) {
            let mut body = body(&method, &template, &seeded);
            body[field] = json!("cw_1");
            let response = app
                .http
                .request(method.parse().unwrap(), &url)
                .bearer_auth(&home.test_key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let (status, text) = (response.status().as_u16(), response.text().await.unwrap());
            assert_eq!(status, 422, "{method} {template} with `{field}`: {text}");
            assert!(
                text.contains(field),
                "{method} {template}: the error names `{field}`: {text}"
            );
            refused += 1;
        }
    }
    assert!(refused >= 500, "only {refused} attempts");
    assert_eq!(
        snapshot(&app, &home.test_key, &seeded).await,
        before,
        "a refused body changed the store"
    );
}
