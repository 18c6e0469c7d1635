//! The DynamoDB calls and capacity of each API operation, measured by an interceptor on the real SDK client, must
//! match the table in docs/data-model.md: a change that adds a call fails here. `CARTWHEEL_UPDATE_DOCS=1` (or
//! `make calls`) rewrites the table from a run instead.

use cartwheel_tests::calls::{is_read, summary, Call};
use cartwheel_tests::{spawn_app, TestApp};
use serde_json::{json, Value};

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/data-model.md");
const BEGIN: &str = "<!-- measured-calls:begin -->";
const END: &str = "<!-- measured-calls:end -->";

struct Row {
    operation: String,
    calls: String,
    read: f64,
    write: f64,
}

struct Meter<'a> {
    app: &'a TestApp,
    key: String,
    rows: Vec<Row>,
}

impl Meter<'_> {
    /// Sends one request and records the calls it made, without those any authenticated request may make: the
    /// authorizer's key lookup first (cached by API Gateway on AWS) and a rate-limit lease (one per 1, 2, 4, … up to
    /// a fiftieth of the limit requests).
    async fn measure(&mut self, operation: &str, request: reqwest::RequestBuilder, status: u16) -> Value {
        self.app.calls.take();
        let response = request.send().await.unwrap();
        let got = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(got, status, "{operation}: {body}");
        let mut calls: Vec<Call> = self.app.calls.take();
        let authenticated = !operation.contains("payments/webhook");
        if authenticated {
            assert_eq!(
                calls.first().map(|c| c.operation.as_str()),
                Some("GetItem"),
                "{operation}: the authorizer first"
            );
            calls.remove(0);
        }
        calls.retain(|call| !call.rate_limit);
        let units = |reads: bool| -> f64 {
            calls
                .iter()
                .filter(|c| is_read(&c.operation) == reads)
                .fold(0.0, |sum, c| sum + c.capacity)
        };
        self.rows.push(Row {
            operation: operation.to_owned(),
            calls: summary(&calls),
            read: units(true),
            write: units(false),
        });
        body
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.app.get(path, &self.key)
    }

    fn post(&self, path: &str, body: Value) -> reqwest::RequestBuilder {
        self.app.post(path, &self.key, &body)
    }

    fn patch(&self, path: &str, body: Value) -> reqwest::RequestBuilder {
        self.app
            .http
            .patch(format!("{}{path}", self.app.url))
            .bearer_auth(&self.key)
            .json(&body)
    }
}

fn table(rows: &[Row]) -> String {
    let mut text = format!(
        "{BEGIN}\n| Operation | DynamoDB calls, in order | Read units | Write units |\n| --- | --- | --- | --- |\n"
    );
    for row in rows {
        text.push_str(&format!(
            "| `{}` | {} | {:.1} | {:.1} |\n",
            row.operation, row.calls, row.read, row.write
        ));
    }
    text.push_str(END);
    text
}

/// (operation, calls, read units, write units) of each row of the committed table.
fn committed() -> Vec<(String, String, f64, f64)> {
    let doc = std::fs::read_to_string(DOC).unwrap();
    let start = doc.find(BEGIN).expect("the measured-calls table in docs/data-model.md");
    let end = doc.find(END).unwrap();
    doc[start..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            (
                cells[0].trim_matches('`').to_owned(),
                cells[1].to_owned(),
                cells[2].parse().unwrap(),
                cells[3].parse().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn dynamodb_calls_per_operation_match_the_data_model() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let mut meter = Meter {
        app: &app,
        key: store.test_key.clone(),
        rows: Vec::new(),
    };
    let product_body = json!({"name": "Mug", "sku": "MUG-1", "status": "active",
                              "price": {"amount": 900, "currency": "USD"}, "description": "A mug"});
    let product = meter
        .measure("POST /v1/products", meter.post("/v1/products", product_body), 201)
        .await;
    let id = product["data"]["id"].as_str().unwrap().to_owned();
    meter
        .measure("GET /v1/products/{id}", meter.get(&format!("/v1/products/{id}")), 200)
        .await;
    let patch = meter.patch(&format!("/v1/products/{id}"), json!({"description": "A big mug"}));
    meter.measure("PATCH /v1/products/{id}", patch, 200).await;
    meter.measure("GET /v1/products", meter.get("/v1/products"), 200).await;
    meter
        .measure("GET /v1/search?q=", meter.get("/v1/search?q=mug"), 200)
        .await;
    // A full page of stocked products: their stock is still one batch read for the page, not a read per product.
    for i in 0..20 {
        let stocked = json!({"name": format!("Cup {i}"), "price": {"amount": 500, "currency": "USD"}, "stock": 5});
        meter
            .app
            .post("/v1/products", &meter.key, &stocked)
            .send()
            .await
            .unwrap();
    }
    let page = meter
        .measure(
            "GET /v1/products?limit=20 (20 stocked)",
            meter.get("/v1/products?limit=20"),
            200,
        )
        .await;
    let stocks: Vec<&Value> = page["data"].as_array().unwrap().iter().map(|p| &p["stock"]).collect();
    assert!(stocks.iter().all(|s| **s == 5), "each product's stock: {stocks:?}");
    // The first adjustment also makes the store's default warehouse; measure the steady state.
    let warm = meter.post(
        &format!("/v1/inventory/{id}/adjust"),
        json!({"delta": 50, "reason": "restock"}),
    );
    assert_eq!(warm.send().await.unwrap().status(), 200);
    let adjust = meter.post(
        &format!("/v1/inventory/{id}/adjust"),
        json!({"delta": 50, "reason": "restock"}),
    );
    meter.measure("POST /v1/inventory/{id}/adjust", adjust, 200).await;
    meter
        .measure("GET /v1/inventory/{id}", meter.get(&format!("/v1/inventory/{id}")), 200)
        .await;

    let customer = meter
        .measure(
            "POST /v1/customers",
            meter.post("/v1/customers", json!({"email": "ada@example.com"})),
            201,
        )
        .await;
    let customer = customer["data"]["id"].as_str().unwrap().to_owned();
    meter
        .measure(
            "GET /v1/customers/{id}",
            meter.get(&format!("/v1/customers/{customer}")),
            200,
        )
        .await;
    meter
        .measure("GET /v1/customers", meter.get("/v1/customers"), 200)
        .await;

    let cart_body = json!({"currency": "USD", "customer_id": customer});
    let cart = meter
        .measure("POST /v1/carts", meter.post("/v1/carts", cart_body), 201)
        .await;
    let cart = cart["data"]["id"].as_str().unwrap().to_owned();
    let add = meter.post(
        &format!("/v1/carts/{cart}/items"),
        json!({"product_id": id, "quantity": 2}),
    );
    meter.measure("POST /v1/carts/{id}/items", add, 200).await;
    meter
        .measure("GET /v1/carts/{id}", meter.get(&format!("/v1/carts/{cart}")), 200)
        .await;
    let price = json!({"product_id": id, "currency": "EUR", "amount": 900});
    meter
        .measure("POST /v1/prices", meter.post("/v1/prices", price), 201)
        .await;
    // Pricing a cart of 40 lines whose products each have price records is still one batch read: the products and
    // their price books (and the customer) in one `BatchGetItem` of 81 keys.
    let big = meter.post("/v1/carts", json!({"currency": "USD", "customer_id": customer}));
    let big = big.send().await.unwrap().json::<Value>().await.unwrap()["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in 0..40 {
        let product =
            json!({"name": format!("Line {n}"), "status": "active", "price": {"amount": 100, "currency": "USD"}});
        let created = meter
            .post("/v1/products", product)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let product = created["data"]["id"].as_str().unwrap().to_owned();
        let priced = json!({"product_id": product, "currency": "USD", "amount": 90, "min_quantity": 2});
        assert_eq!(meter.post("/v1/prices", priced).send().await.unwrap().status(), 201);
        let line = json!({"product_id": product, "quantity": 2});
        assert_eq!(
            meter
                .post(&format!("/v1/carts/{big}/items"), line)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let priced = meter
        .measure(
            "GET /v1/carts/{id} (40 lines, each with price records)",
            meter.get(&format!("/v1/carts/{big}")),
            200,
        )
        .await;
    assert!(priced["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["unit_price"]["amount"] == 90));
    let address = json!({"line1": "1 Main St", "city": "Springfield", "country": "US"});
    let checkout = meter.post("/v1/checkout", json!({"cart_id": cart, "shipping_address": address}));
    let order = meter.measure("POST /v1/checkout", checkout, 201).await["data"].clone();
    let order_id = order["id"].as_str().unwrap().to_owned();
    meter
        .measure("GET /v1/orders/{id}", meter.get(&format!("/v1/orders/{order_id}")), 200)
        .await;
    meter.measure("GET /v1/orders", meter.get("/v1/orders"), 200).await;

    let callback = json!({"id": "evt_calls_1", "type": "payment_intent.succeeded", "data": {"object": {
        "id": "pi_1", "amount": 1800, "currency": "usd",
        "metadata": {"order_id": order_id, "store_id": store.id}}}})
    .to_string();
    let now = cartwheel::time::now().unix_timestamp();
    let signature = app.payments.as_ref().unwrap().sign(now, callback.as_bytes());
    let paid = app
        .http
        .post(format!("{}/v1/payments/webhook", app.url))
        .header("Payment-Signature", signature)
        .body(callback);
    meter.measure("POST /v1/payments/webhook", paid, 200).await;
    let line = order["lines"][0]["id"].as_str().unwrap();
    let ship = meter.post(
        &format!("/v1/orders/{order_id}/fulfillments"),
        json!({"items": [{"line_id": line, "quantity": 2}], "tracking_number": "1Z"}),
    );
    meter.measure("POST /v1/orders/{id}/fulfillments", ship, 201).await;
    let deliver = meter.patch(&format!("/v1/orders/{order_id}/status"), json!({"status": "delivered"}));
    meter.measure("PATCH /v1/orders/{id}/status", deliver, 200).await;
    let refund = meter.post(
        &format!("/v1/orders/{order_id}/refunds"),
        json!({"amount": 500, "reason": "scratch"}),
    );
    meter.measure("POST /v1/orders/{id}/refunds", refund, 201).await;
    meter.measure("GET /v1/api-keys", meter.get("/v1/api-keys"), 200).await;

    let rows = meter.rows;
    if std::env::var("CARTWHEEL_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        let doc = std::fs::read_to_string(DOC).unwrap();
        let start = doc
            .find(BEGIN)
            .expect("the measured-calls markers in docs/data-model.md");
        let end = doc.find(END).unwrap() + END.len();
        std::fs::write(DOC, format!("{}{}{}", &doc[..start], table(&rows), &doc[end..])).unwrap();
        return;
    }
    let committed = committed();
    assert_eq!(
        committed.len(),
        rows.len(),
        "docs/data-model.md is stale; run `make calls`:\n{}",
        table(&rows)
    );
    for (row, (operation, calls, read, write)) in rows.iter().zip(&committed) {
        assert_eq!(&row.operation, operation);
        assert_eq!(
            &row.calls, calls,
            "{operation}: the calls changed; run `make calls` if that is intended"
        );
        // Item sizes move by a few bytes with timestamps; capacity is checked loosely, calls exactly.
        for (measured, documented) in [(row.read, read), (row.write, write)] {
            assert!(
                (measured - documented).abs() <= documented * 0.25 + 0.5,
                "{operation}: {measured} units, documented {documented}"
            );
        }
    }
    let checkout = rows.iter().find(|r| r.operation == "POST /v1/checkout").unwrap();
    assert_eq!(
        checkout.calls,
        "GetItem, BatchGetItem, UpdateItem, TransactWriteItems, GetItem"
    );
}
