//! The money path over HTTP: customers, carts, checkout, orders, payments, fulfillments and refunds.

use cartwheel_tests::{assert_error, events, spawn_app, Expect, TestApp, TestStore};
use serde_json::{json, Value};

struct Shop {
    app: TestApp,
    store: TestStore,
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

fn address() -> Value {
    json!({"line1": "1 Market St", "city": "San Francisco", "region": "CA", "postal_code": "94105", "country": "US"})
}

impl Shop {
    async fn open() -> Self {
        let app = spawn_app().await;
        let store = app.create_store().await;
        Self { app, store }
    }

    fn key(&self) -> &str {
        &self.store.test_key
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.app.post(path, self.key(), &body).send().await.unwrap()
    }

    async fn patch(&self, path: &str, body: Value) -> reqwest::Response {
        self.app
            .http
            .patch(format!("{}{path}", self.app.url))
            .bearer_auth(self.key())
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        let response = self.app.get(path, self.key()).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        json_of(response).await
    }

    /// An active product at `price` cents with `stock` units in the default warehouse.
    async fn product(&self, sku: &str, price: i64, stock: i64) -> String {
        let body = json!({"name": format!("Mug {sku}"), "sku": sku, "status": "active",
                          "price": {"amount": price, "currency": "USD"}});
        let created = self.post("/v1/products", body).await;
        assert_eq!(created.status(), 201);
        let id = json_of(created).await["data"]["id"].as_str().unwrap().to_owned();
        if stock > 0 {
            let adjusted = self
                .post(
                    &format!("/v1/inventory/{id}/adjust"),
                    json!({"delta": stock, "reason": "restock"}),
                )
                .await;
            assert_eq!(adjusted.status(), 200);
        }
        id
    }

    async fn cart(&self, lines: &[(&str, u32)], customer: Option<&str>) -> String {
        let created = self
            .post("/v1/carts", json!({"currency": "USD", "customer_id": customer}))
            .await;
        assert_eq!(created.status(), 201);
        let id = json_of(created).await["data"]["id"].as_str().unwrap().to_owned();
        for (product, quantity) in lines {
            let added = self
                .post(
                    &format!("/v1/carts/{id}/items"),
                    json!({"product_id": product, "quantity": quantity}),
                )
                .await;
            assert_eq!(added.status(), 200, "{}", added.text().await.unwrap());
        }
        id
    }

    fn checkout_body(cart: &str) -> Value {
        json!({"cart_id": cart, "email": "guest@example.com", "shipping_address": address()})
    }

    /// `count` one-unit carts of `product`, checked out all at once.
    async fn simultaneous_checkouts(&self, product: &str, count: usize) -> Vec<reqwest::Response> {
        let mut carts = Vec::new();
        for _ in 0..count {
            carts.push(self.cart(&[(product, 1)], None).await);
        }
        let attempts = carts.iter().map(|cart| {
            self.app
                .post("/v1/checkout", self.key(), &Self::checkout_body(cart))
                .send()
        });
        let responses = futures_util::future::join_all(attempts).await;
        responses.into_iter().map(|r| r.unwrap()).collect()
    }

    async fn checkout(&self, cart: &str) -> Value {
        let response = self.post("/v1/checkout", Self::checkout_body(cart)).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        json_of(response).await["data"].clone()
    }

    async fn available(&self, product: &str) -> i64 {
        self.get(&format!("/v1/inventory/{product}")).await["data"]["available"]
            .as_i64()
            .unwrap()
    }

    /// Sends a signed payment-provider callback.
    async fn callback(&self, order: &Value, event_id: &str, kind: &str, timestamp_offset: i64) -> reqwest::Response {
        let total = order["total"]["amount"].as_i64().unwrap();
        self.payment(order, event_id, kind, ("pi_123", total), timestamp_offset)
            .await
    }

    /// A callback for payment intent `intent` of `amount`.
    async fn payment(
        &self,
        order: &Value,
        event_id: &str,
        kind: &str,
        intent: (&str, i64),
        timestamp_offset: i64,
    ) -> reqwest::Response {
        cartwheel_tests::payment_callback(
            &self.app,
            &self.store.id,
            order,
            (event_id, kind),
            intent,
            timestamp_offset,
        )
        .await
    }

    async fn paid_order(&self, price: i64, quantity: u32) -> (String, Value) {
        let product = self
            .product(&format!("P-{}", cartwheel::ids::EventId::new()), price, 100)
            .await;
        let cart = self.cart(&[(&product, quantity)], None).await;
        let order = self.checkout(&cart).await;
        let paid = self
            .callback(&order, &format!("evt_{}", order["id"]), "payment_intent.succeeded", 0)
            .await;
        assert_eq!(paid.status(), 200);
        (product, order)
    }
}

#[tokio::test]
async fn customers_have_unique_emails_addresses_groups_and_a_blacklist() {
    let shop = Shop::open().await;
    let group = json_of(shop.post("/v1/customer-groups", json!({"name": "VIP"})).await).await;
    let group_id = group["data"]["id"].as_str().unwrap();
    assert!(group_id.starts_with("cgrp_"));
    let created = shop
        .post(
            "/v1/customers",
            json!({"email": "Ada@Example.com", "first_name": "Ada", "group_ids": [group_id]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["etag"], "\"1\"");
    let customer = json_of(created).await["data"].clone();
    let id = customer["id"].as_str().unwrap();
    assert_eq!(customer["email"], "ada@example.com");
    assert_eq!(customer["orders_count"], 0);

    let duplicate = shop.post("/v1/customers", json!({"email": "ADA@example.com"})).await;
    assert_error(duplicate, 409, "email_taken").await;
    let invalid = shop
        .post(
            "/v1/customers",
            json!({"email": "nope", "group_ids": ["cgrp_01JD3M5W7Q6V8X9Y0Z1A2B3C4D"]}),
        )
        .await;
    let body = assert_error(invalid, 422, "validation_failed").await;
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "group_ids[0]"]);

    let stale = shop
        .app
        .http
        .patch(format!("{}/v1/customers/{id}", shop.app.url))
        .bearer_auth(shop.key())
        .header("If-Match", "\"7\"")
        .json(&json!({"last_name": "Lovelace"}))
        .send()
        .await
        .unwrap();
    assert_error(stale, 412, "precondition_failed").await;
    let patched = shop
        .patch(
            &format!("/v1/customers/{id}"),
            json!({"last_name": "Lovelace", "email": "ada@lovelace.dev"}),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let other = shop.post("/v1/customers", json!({"email": "ada@example.com"})).await;
    assert_eq!(other.status(), 201, "the old email is free again");

    let bad_address = shop
        .post(
            &format!("/v1/customers/{id}/addresses"),
            json!({"line1": "", "city": "Paris", "country": "fr"}),
        )
        .await;
    assert_error(bad_address, 422, "validation_failed").await;
    let address = shop.post(&format!("/v1/customers/{id}/addresses"), address()).await;
    assert_eq!(address.status(), 201);
    let address_id = json_of(address).await["data"]["id"].as_str().unwrap().to_owned();
    let listed = shop.get(&format!("/v1/customers/{id}/addresses")).await;
    assert_eq!(listed["data"][0]["city"], "San Francisco");
    let deleted = shop
        .app
        .delete(&format!("/v1/customers/{id}/addresses/{address_id}"), shop.key())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        shop.get(&format!("/v1/customers/{id}/addresses")).await["data"],
        json!([])
    );

    let blacklisted = shop
        .post(
            &format!("/v1/customers/{id}/blacklist"),
            json!({"reason": "chargebacks"}),
        )
        .await;
    let blacklisted = json_of(blacklisted).await;
    assert_eq!(blacklisted["data"]["blacklisted"], true);
    assert_eq!(blacklisted["data"]["blacklist_reason"], "chargebacks");

    let by_email = shop.get("/v1/customers?email=ADA@LOVELACE.DEV").await;
    assert_eq!(by_email["data"].as_array().unwrap().len(), 1);
    let by_group = shop.get(&format!("/v1/customers?group_id={group_id}")).await;
    assert_eq!(by_group["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_group["data"][0]["id"], id);
    let all = shop.get("/v1/customers?created_from=2020-01-01T00:00:00Z").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    let none = shop.get("/v1/customers?created_to=2020-01-01T00:00:00Z").await;
    assert_eq!(none["data"], json!([]));
    let bad_filter = shop
        .app
        .get("/v1/customers?created_from=yesterday", shop.key())
        .send()
        .await
        .unwrap();
    assert_error(bad_filter, 422, "validation_failed").await;

    let unblacklisted = json_of(shop.post(&format!("/v1/customers/{id}/unblacklist"), json!({})).await).await;
    assert_eq!(unblacklisted["data"]["blacklisted"], false);
    shop.app
        .delete(&format!("/v1/customers/{id}"), shop.key())
        .expect(204)
        .await;
    let missing = shop
        .app
        .get(&format!("/v1/customers/{id}"), shop.key())
        .send()
        .await
        .unwrap();
    assert_error(missing, 404, "not_found").await;
    let types: Vec<String> = events(&shop.app, &shop.store.id, "test")
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    for expected in [
        "customer_group.created",
        "customer.created",
        "customer.updated",
        "customer.deleted",
    ] {
        assert!(types.iter().any(|t| t == expected), "{expected} missing from {types:?}");
    }
}

#[tokio::test]
async fn carts_are_priced_from_the_catalog_and_take_only_active_products() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG", 1250, 0).await;
    let draft = json_of(
        shop.post(
            "/v1/products",
            json!({"name": "Draft", "price": {"amount": 100, "currency": "USD"}}),
        )
        .await,
    )
    .await["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let euro = json_of(
        shop.post(
            "/v1/products",
            json!({"name": "Euro", "status": "active", "price": {"amount": 100, "currency": "EUR"}}),
        )
        .await,
    )
    .await["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cart = shop.cart(&[], None).await;
    let items = format!("/v1/carts/{cart}/items");
    assert_error(
        shop.post(&items, json!({"product_id": draft, "quantity": 1})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        shop.post(&items, json!({"product_id": euro, "quantity": 1})).await,
        422,
        "no_price_for_currency",
    )
    .await;
    assert_error(
        shop.post(&items, json!({"product_id": mug, "quantity": 0})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        shop.post(&items, json!({"product_id": mug, "quantity": 1, "unit_price": 1}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    shop.post(&items, json!({"product_id": mug, "quantity": 2})).await;
    let added = json_of(shop.post(&items, json!({"product_id": mug, "quantity": 1})).await).await;
    assert_eq!(added["data"]["items"].as_array().unwrap().len(), 1);
    assert_eq!(added["data"]["items"][0]["quantity"], 3);
    assert_eq!(added["data"]["subtotal"], json!({"amount": 3750, "currency": "USD"}));
    let line = added["data"]["items"][0]["id"].as_str().unwrap().to_owned();

    // A price change in the catalog shows at the next read.
    let repriced = shop
        .patch(
            &format!("/v1/products/{mug}"),
            json!({"price": {"amount": 1000, "currency": "USD"}}),
        )
        .await;
    assert_eq!(repriced.status(), 200);
    let read = shop.get(&format!("/v1/carts/{cart}")).await;
    assert_eq!(read["data"]["total"]["amount"], 3000);
    let changed = json_of(shop.patch(&format!("{items}/{line}"), json!({"quantity": 1})).await).await;
    assert_eq!(changed["data"]["total"]["amount"], 1000);

    // An archived product stays in the cart, marked, and out of the totals.
    shop.post(&format!("/v1/products/{mug}/archive"), json!({})).await;
    let read = shop.get(&format!("/v1/carts/{cart}")).await;
    assert_eq!(read["data"]["items"][0]["purchasable"], false);
    assert_eq!(read["data"]["total"]["amount"], 0);
    let removed = shop
        .app
        .delete(&format!("{items}/{line}"), shop.key())
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(removed).await["data"]["items"], json!([]));
    let missing_line = shop
        .app
        .delete(&format!("{items}/{line}"), shop.key())
        .send()
        .await
        .unwrap();
    assert_error(missing_line, 404, "not_found").await;
    let missing = shop
        .app
        .get("/v1/carts/cart_01JD3M5W7Q6V8X9Y0Z1A2B3C4D", shop.key())
        .send()
        .await
        .unwrap();
    assert_error(missing, 404, "not_found").await;
    let no_customer = shop
        .post(
            "/v1/carts",
            json!({"currency": "USD", "customer_id": "cus_01JD3M5W7Q6V8X9Y0Z1A2B3C4D"}),
        )
        .await;
    assert_error(no_customer, 422, "validation_failed").await;
    assert_error(
        shop.post("/v1/carts", json!({"currency": "XXY"})).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn product_to_refund_end_to_end() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG", 900, 5).await;
    let customer = json_of(shop.post("/v1/customers", json!({"email": "buyer@example.com"})).await).await;
    let customer_id = customer["data"]["id"].as_str().unwrap().to_owned();
    let cart = shop.cart(&[(&mug, 2)], Some(&customer_id)).await;
    let response = shop
        .post(
            "/v1/checkout",
            json!({"cart_id": cart, "shipping_address": address(), "channel": "web"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let order = json_of(response).await["data"].clone();
    let id = order["id"].as_str().unwrap().to_owned();
    let number = order["number"].as_str().unwrap().to_owned();
    let year = cartwheel::time::now().year();
    assert_eq!(number, format!("ORD-{year}-000001"));
    assert_eq!(
        (order["status"].as_str(), order["payment_status"].as_str()),
        (Some("pending"), Some("pending"))
    );
    assert_eq!(order["total"], json!({"amount": 1800, "currency": "USD"}));
    assert_eq!(order["email"], "buyer@example.com");
    assert_eq!(order["lines"][0]["unit_price"]["amount"], 900);
    assert_eq!(shop.available(&mug).await, 3);
    let cart_now = shop.get(&format!("/v1/carts/{cart}")).await;
    assert_eq!(
        (
            cart_now["data"]["status"].as_str(),
            cart_now["data"]["order_id"].as_str()
        ),
        (Some("converted"), Some(id.as_str()))
    );
    let late = shop
        .post(
            &format!("/v1/carts/{cart}/items"),
            json!({"product_id": mug, "quantity": 1}),
        )
        .await;
    assert_error(late, 409, "conflict").await;
    let again = shop
        .post("/v1/checkout", json!({"cart_id": cart, "shipping_address": address()}))
        .await;
    assert_error(again, 409, "conflict").await;
    let buyer = shop.get(&format!("/v1/customers/{customer_id}")).await;
    assert_eq!(buyer["data"]["orders_count"], 1);
    assert_eq!(
        buyer["data"]["lifetime_spend"],
        json!([{"amount": 1800, "currency": "USD"}])
    );
    assert_eq!(
        shop.get(&format!("/v1/orders/{number}")).await["data"]["id"],
        id.as_str()
    );
    let ledger = shop.get(&format!("/v1/inventory/{mug}/history")).await;
    assert_eq!(ledger["data"][0]["reason"], "sale");
    assert_eq!(ledger["data"][0]["order_id"], id.as_str());

    // Payment: signed, timely, once.
    let forged = shop
        .app
        .http
        .post(format!("{}/v1/payments/webhook", shop.app.url))
        .header("Payment-Signature", "t=1,v1=00")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(forged, 401, "unauthorized").await;
    let stale = shop
        .callback(&order, "evt_pay_1", "payment_intent.succeeded", -301)
        .await;
    assert_error(stale, 401, "unauthorized").await;
    let paid = shop.callback(&order, "evt_pay_1", "payment_intent.succeeded", 0).await;
    assert_eq!(paid.status(), 200);
    assert_eq!(json_of(paid).await["data"]["payment_status"], "paid");
    let after_payment = shop.get(&format!("/v1/orders/{id}")).await["data"].clone();
    assert_eq!(
        (
            after_payment["status"].as_str(),
            after_payment["paid_total"]["amount"].as_i64()
        ),
        (Some("confirmed"), Some(1800))
    );
    let duplicate = shop.callback(&order, "evt_pay_1", "payment_intent.succeeded", 0).await;
    assert_eq!(duplicate.status(), 200);
    assert_eq!(
        shop.get(&format!("/v1/orders/{id}")).await["data"]["version"],
        after_payment["version"]
    );

    // Fulfillment: partial, never more than ordered, then the rest, then delivery.
    let line = order["lines"][0]["id"].as_str().unwrap();
    let fulfillments = format!("/v1/orders/{id}/fulfillments");
    let too_many = shop
        .post(&fulfillments, json!({"items": [{"line_id": line, "quantity": 3}]}))
        .await;
    assert_error(too_many, 422, "validation_failed").await;
    let first = shop
        .post(
            &fulfillments,
            json!({"items": [{"line_id": line, "quantity": 1}], "carrier": "UPS", "tracking_number": "1Z1"}),
        )
        .await;
    assert_eq!(first.status(), 201);
    assert_eq!(
        shop.get(&format!("/v1/orders/{id}")).await["data"]["status"],
        "partially_fulfilled"
    );
    let rest = shop
        .patch(
            &format!("/v1/orders/{id}/status"),
            json!({"status": "fulfilled", "tracking_number": "1Z2"}),
        )
        .await;
    assert_eq!(json_of(rest).await["data"]["status"], "fulfilled");
    assert_eq!(shop.get(&fulfillments).await["data"].as_array().unwrap().len(), 2);
    let cancel = shop
        .patch(&format!("/v1/orders/{id}/status"), json!({"status": "cancelled"}))
        .await;
    let body = assert_error(cancel, 409, "invalid_transition").await;
    assert_eq!(body["error"]["details"][0]["allowed"], json!(["delivered"]));
    let delivered = shop
        .patch(&format!("/v1/orders/{id}/status"), json!({"status": "delivered"}))
        .await;
    assert_eq!(delivered.status(), 200);

    // Refunds: part, then the rest with restock; never more than paid.
    let refunds = format!("/v1/orders/{id}/refunds");
    let part = shop.post(&refunds, json!({"amount": 500, "reason": "scratched"})).await;
    assert_eq!(part.status(), 201);
    let over = shop.post(&refunds, json!({"amount": 1301, "reason": "x"})).await;
    assert_error(over, 409, "refund_exceeds_payment").await;
    let rest = shop
        .post(&refunds, json!({"reason": "returned", "restock": true}))
        .await;
    assert_eq!(json_of(rest).await["data"]["amount"]["amount"], 1300);
    let refunded = shop.get(&format!("/v1/orders/{id}")).await["data"].clone();
    assert_eq!(
        (refunded["status"].as_str(), refunded["payment_status"].as_str()),
        (Some("refunded"), Some("refunded"))
    );
    assert_eq!(shop.available(&mug).await, 5);
    assert_eq!(shop.get(&refunds).await["data"].as_array().unwrap().len(), 2);
    let buyer = shop.get(&format!("/v1/customers/{customer_id}")).await;
    assert_eq!(buyer["data"]["lifetime_spend"][0]["amount"], 0);

    let filtered = shop
        .get(&format!(
            "/v1/orders?status=refunded&customer_id={customer_id}&channel=web"
        ))
        .await;
    assert_eq!(filtered["data"].as_array().unwrap().len(), 1);
    let by_email = shop
        .get("/v1/orders?email=BUYER@example.com&payment_status=refunded")
        .await;
    assert_eq!(by_email["data"].as_array().unwrap().len(), 1);
    let none = shop.get("/v1/orders?status=pending").await;
    assert_eq!(none["data"], json!([]));
    let by_product = shop.get(&format!("/v1/orders?product_id={mug}")).await;
    assert_eq!(
        by_product["data"].as_array().unwrap().len(),
        1,
        "the order with a line of the mug"
    );
    let other = shop.get("/v1/orders?product_id=prod_01JD3M5W7Q6V8X9Y0Z1A2B3C4D").await;
    assert_eq!(other["data"], json!([]));
    let before = shop.get("/v1/orders?to=2020-01-01T00:00:00Z").await;
    assert_eq!(before["data"], json!([]));

    let types: Vec<String> = events(&shop.app, &shop.store.id, "test")
        .await
        .iter()
        .filter(|e| e["resource"]["id"] == id.as_str())
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    for expected in [
        "order.created",
        "payment.received",
        "order.status_changed",
        "order.fulfillment_created",
        "order.fulfilled",
        "order.refunded",
    ] {
        assert!(types.iter().any(|t| t == expected), "{expected} missing from {types:?}");
    }
    assert_eq!(types.iter().filter(|t| *t == "order.fulfillment_created").count(), 2);
    let changes: Vec<Value> = events(&shop.app, &shop.store.id, "test")
        .await
        .into_iter()
        .filter(|e| e["type"] == "order.status_changed")
        .map(|e| e["data"]["status_change"].clone())
        .collect();
    assert!(changes.contains(&json!({"from": "pending", "to": "confirmed", "reason": "payment received"})));
    assert!(changes
        .iter()
        .any(|c| c["from"] == "fulfilled" && c["to"] == "delivered"));
}

#[tokio::test]
async fn two_hundred_simultaneous_checkouts_never_oversell_ten() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG", 500, 10).await;
    let mut placed = Vec::new();
    for response in shop.simultaneous_checkouts(&mug, 200).await {
        match response.status().as_u16() {
            201 => placed.push(json_of(response).await["data"]["number"].as_str().unwrap().to_owned()),
            409 => {
                let body = assert_error(response, 409, "insufficient_stock").await;
                assert_eq!(body["error"]["details"][0]["requested"], 1);
                assert_eq!(body["error"]["details"][0]["available"], 0);
            }
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    assert_eq!(placed.len(), 10, "exactly the stock was sold");
    placed.sort();
    placed.dedup();
    assert_eq!(placed.len(), 10, "numbers are unique");
    let stock = shop.get(&format!("/v1/inventory/{mug}")).await;
    assert_eq!(
        (stock["data"]["on_hand"].as_i64(), stock["data"]["available"].as_i64()),
        (Some(0), Some(0))
    );
    let orders = shop.get("/v1/orders?limit=100").await;
    assert_eq!(orders["data"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn a_busy_store_takes_every_simultaneous_checkout_with_numbers_in_sequence() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG", 500, 100).await;
    let mut numbers = Vec::new();
    for response in shop.simultaneous_checkouts(&mug, 20).await {
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 201, "every checkout is taken: {body}");
        let order: Value = serde_json::from_str(&body).unwrap();
        numbers.push(order["data"]["number"].as_str().unwrap().to_owned());
    }
    numbers.sort();
    let year = &numbers[0][4..8];
    let expected: Vec<String> = (1..=20).map(|n| format!("ORD-{year}-{n:06}")).collect();
    assert_eq!(numbers, expected, "one number each, no gaps");
    let stock = shop.get(&format!("/v1/inventory/{mug}")).await;
    assert_eq!(stock["data"]["available"].as_i64(), Some(80));
}

#[tokio::test]
async fn two_checkouts_with_one_idempotency_key_at_the_same_instant_place_one_order() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG", 500, 10).await;
    let cart = shop.cart(&[(&mug, 1)], None).await;
    let send = || {
        shop.app
            .post("/v1/checkout", shop.key(), &Shop::checkout_body(&cart))
            .header("idempotency-key", "checkout-twins")
            .send()
    };
    let responses = futures_util::future::join_all((0..2).map(|_| send())).await;
    let mut orders = Vec::new();
    for response in responses {
        let response = response.unwrap();
        match response.status().as_u16() {
            201 => orders.push(json_of(response).await["data"]["id"].as_str().unwrap().to_owned()),
            409 => {
                assert_error(response, 409, "conflict").await;
            }
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    orders.dedup();
    assert_eq!(orders.len(), 1, "one order, replayed or refused for the twin");
    assert_eq!(shop.get("/v1/orders").await["data"].as_array().unwrap().len(), 1);
    assert_eq!(shop.available(&mug).await, 9);
}

#[tokio::test]
async fn concurrent_refunds_never_exceed_what_was_paid() {
    let shop = Shop::open().await;
    let (_, order) = shop.paid_order(500, 2).await;
    let id = order["id"].as_str().unwrap();
    let path = format!("/v1/orders/{id}/refunds");
    let body = json!({"amount": 300, "reason": "goodwill"});
    let attempts = (0..50).map(|_| shop.app.post(&path, shop.key(), &body).send());
    let responses = futures_util::future::join_all(attempts).await;
    let mut created = 0;
    for response in responses {
        let response = response.unwrap();
        if response.status() == 201 {
            created += 1;
        } else {
            assert_error(response, 409, "refund_exceeds_payment").await;
        }
    }
    assert_eq!(created, 3);
    let order = shop.get(&format!("/v1/orders/{id}")).await;
    assert_eq!(order["data"]["refunded_total"]["amount"], 900);
    assert_eq!(order["data"]["payment_status"], "partially_refunded");
    assert_eq!(shop.get(&path).await["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn concurrent_status_changes_apply_once() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG", 500, 3).await;
    let cart = shop.cart(&[(&mug, 1)], None).await;
    let order = shop.checkout(&cart).await;
    let id = order["id"].as_str().unwrap();
    let path = format!("{}/v1/orders/{id}/status", shop.app.url);
    let attempts = (0..50).map(|_| {
        shop.app
            .http
            .patch(&path)
            .bearer_auth(shop.key())
            .json(&json!({"status": "cancelled", "reason": "customer asked"}))
            .send()
    });
    let responses = futures_util::future::join_all(attempts).await;
    let mut applied = 0;
    for response in responses {
        let response = response.unwrap();
        if response.status() == 200 {
            applied += 1;
        } else {
            assert_error(response, 409, "invalid_transition").await;
        }
    }
    assert_eq!(applied, 1);
    assert_eq!(shop.available(&mug).await, 3, "cancelled once, restocked once");
    let cancelled: Vec<Value> = events(&shop.app, &shop.store.id, "test")
        .await
        .into_iter()
        .filter(|e| e["type"] == "order.cancelled")
        .collect();
    assert_eq!(cancelled.len(), 1);
}

#[tokio::test]
async fn cancelling_restocks_only_what_was_not_shipped() {
    let shop = Shop::open().await;
    let (mug, order) = shop.paid_order(500, 3).await;
    let id = order["id"].as_str().unwrap();
    assert_eq!(shop.available(&mug).await, 97);
    let line = order["lines"][0]["id"].as_str().unwrap();
    let shipped = shop
        .post(
            &format!("/v1/orders/{id}/fulfillments"),
            json!({"items": [{"line_id": line, "quantity": 1}]}),
        )
        .await;
    assert_eq!(shipped.status(), 201);
    let cancelled = shop
        .patch(&format!("/v1/orders/{id}/status"), json!({"status": "cancelled"}))
        .await;
    assert_eq!(json_of(cancelled).await["data"]["status"], "cancelled");
    assert_eq!(shop.available(&mug).await, 99);
    let refund = shop
        .post(
            &format!("/v1/orders/{id}/refunds"),
            json!({"reason": "cancelled", "restock": true}),
        )
        .await;
    assert_eq!(refund.status(), 201);
    assert_eq!(
        shop.available(&mug).await,
        100,
        "the shipped unit came back with the refund"
    );
    let after = shop.get(&format!("/v1/orders/{id}")).await;
    assert_eq!(
        (
            after["data"]["status"].as_str(),
            after["data"]["payment_status"].as_str()
        ),
        (Some("cancelled"), Some("refunded"))
    );
    let failed = shop
        .callback(&order, "evt_fail_1", "payment_intent.payment_failed", 0)
        .await;
    assert_eq!(failed.status(), 200);
    assert!(events(&shop.app, &shop.store.id, "test")
        .await
        .iter()
        .any(|e| e["type"] == "payment.failed"));
}

#[tokio::test]
async fn a_retried_checkout_returns_the_same_order() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG", 500, 5).await;
    let cart = shop.cart(&[(&mug, 1)], None).await;
    let send = || {
        shop.app
            .post("/v1/checkout", shop.key(), &Shop::checkout_body(&cart))
            .header("Idempotency-Key", "checkout-retry-1")
            .send()
    };
    let first = json_of(send().await.unwrap()).await;
    let second = send().await.unwrap();
    assert_eq!(second.status(), 201);
    assert_eq!(json_of(second).await["data"]["id"], first["data"]["id"]);
    assert_eq!(shop.get("/v1/orders").await["data"].as_array().unwrap().len(), 1);
    assert_eq!(shop.available(&mug).await, 4);
}

#[tokio::test]
async fn checkout_refuses_what_it_cannot_sell() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG", 500, 2).await;
    let bare = shop.product("BARE", 500, 0).await;

    let short = shop.cart(&[(&mug, 3), (&bare, 1)], None).await;
    let response = shop.post("/v1/checkout", Shop::checkout_body(&short)).await;
    let body = assert_error(response, 409, "insufficient_stock").await;
    assert_eq!(
        body["error"]["details"],
        json!([{"id": mug, "requested": 3, "available": 2}, {"id": bare, "requested": 1, "available": 0}])
    );
    assert_eq!(shop.available(&mug).await, 2, "nothing was taken");

    let customer = json_of(shop.post("/v1/customers", json!({"email": "bad@example.com"})).await).await;
    let customer_id = customer["data"]["id"].as_str().unwrap();
    shop.post(
        &format!("/v1/customers/{customer_id}/blacklist"),
        json!({"reason": "fraud"}),
    )
    .await;
    let cart = shop.cart(&[(&mug, 1)], Some(customer_id)).await;
    let blocked = shop
        .post("/v1/checkout", json!({"cart_id": cart, "shipping_address": address()}))
        .await;
    assert_error(blocked, 403, "forbidden").await;
    let as_guest = shop
        .post("/v1/checkout", json!({"cart_id": shop.cart(&[(&mug, 1)], None).await, "email": "BAD@example.com", "shipping_address": address()}))
        .await;
    assert_error(as_guest, 403, "forbidden").await;

    let guest = shop.cart(&[(&mug, 1)], None).await;
    let no_email = shop
        .post("/v1/checkout", json!({"cart_id": guest, "shipping_address": address()}))
        .await;
    assert_error(no_email, 422, "validation_failed").await;
    let bad = shop
        .post("/v1/checkout", json!({"cart_id": guest, "email": "x", "shipping_address": {"line1": "", "city": "", "country": "usa"}, "promotion_codes": ["NOT VALID"]}))
        .await;
    let body = assert_error(bad, 422, "validation_failed").await;
    assert!(body["error"]["details"].as_array().unwrap().len() >= 5, "{body}");
    let empty = shop.cart(&[], None).await;
    assert_error(
        shop.post("/v1/checkout", Shop::checkout_body(&empty)).await,
        422,
        "validation_failed",
    )
    .await;
    shop.post(&format!("/v1/products/{mug}/archive"), json!({})).await;
    let inactive = shop.post("/v1/checkout", Shop::checkout_body(&guest)).await;
    let body = assert_error(inactive, 422, "validation_failed").await;
    assert_eq!(body["error"]["details"][0]["field"], "cart.items[0]");
    let unknown = shop
        .post("/v1/checkout", Shop::checkout_body("cart_01JD3M5W7Q6V8X9Y0Z1A2B3C4D"))
        .await;
    assert_error(unknown, 404, "not_found").await;

    let mut lines = Vec::new();
    for i in 0..41 {
        lines.push(shop.product(&format!("L{i}"), 100, 1).await);
    }
    let big: Vec<(&str, u32)> = lines.iter().map(|l| (l.as_str(), 1)).collect();
    let cart = shop.cart(&big, None).await;
    let response = shop.post("/v1/checkout", Shop::checkout_body(&cart)).await;
    let body = assert_error(response, 422, "validation_failed").await;
    assert!(body["error"]["details"][0]["message"]
        .as_str()
        .unwrap()
        .contains("at most 40 lines"));
    assert_eq!(
        shop.get("/v1/orders").await["data"],
        json!([]),
        "no partial orders, ever"
    );
}

/// Every commerce route in the OpenAPI document: 401 without a key, 403 without its scope (before any body is
/// read), and 404 for a resource of another store.
#[tokio::test]
async fn sales_through_checkout_announce_low_stock_once_per_crossing() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG", 500, 6).await;
    let point = shop
        .post(
            &format!("/v1/inventory/{mug}/adjust"),
            json!({"delta": 0, "reason": "correction", "reorder_point": 3}),
        )
        .await;
    assert_eq!(point.status(), 200);
    let low_events = || async {
        events(&shop.app, &shop.store.id, "test")
            .await
            .into_iter()
            .filter(|e| e["type"] == "inventory.low_stock")
            .count()
    };
    shop.checkout(&shop.cart(&[(&mug, 2)], None).await).await; // 4: above
    assert_eq!(low_events().await, 0);
    let order = shop.checkout(&shop.cart(&[(&mug, 1)], None).await).await; // 3: crossing
    assert_eq!(low_events().await, 1);
    shop.checkout(&shop.cart(&[(&mug, 1)], None).await).await; // 2: still low
    assert_eq!(low_events().await, 1);
    let id = order["id"].as_str().unwrap();
    let cancelled = shop
        .patch(&format!("/v1/orders/{id}/status"), json!({"status": "cancelled"}))
        .await;
    assert_eq!(cancelled.status(), 200); // 3: still low
    shop.post(
        &format!("/v1/inventory/{mug}/adjust"),
        json!({"delta": 5, "reason": "restock"}),
    )
    .await; // 8: re-armed
    shop.checkout(&shop.cart(&[(&mug, 5)], None).await).await; // 3: crossing again
    assert_eq!(low_events().await, 2);
}

#[tokio::test]
async fn payments_are_reconciled_with_the_order_total() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG", 5_000, 10).await;
    let cart = shop.cart(&[(&mug, 2)], None).await;
    let order = shop.checkout(&cart).await;
    let id = order["id"].as_str().unwrap();
    for (event, amount) in [("evt_zero", 0), ("evt_negative", -500)] {
        let refused = shop
            .payment(&order, event, "payment_intent.succeeded", ("pi_a", amount), 0)
            .await;
        assert_error(refused, 422, "validation_failed").await;
    }
    let one_cent = shop
        .payment(&order, "evt_one", "payment_intent.succeeded", ("pi_a", 1), 0)
        .await;
    assert_eq!(one_cent.status(), 200);
    let after = shop.get(&format!("/v1/orders/{id}")).await["data"].clone();
    assert_eq!(
        (
            after["status"].as_str(),
            after["payment_status"].as_str(),
            after["paid_total"]["amount"].as_i64()
        ),
        (Some("pending"), Some("partially_paid"), Some(1))
    );
    // The rest, and more: the order is paid; refunds stop at what was charged.
    let rest = shop
        .payment(
            &order,
            "evt_rest",
            "payment_intent.succeeded",
            ("pi_b", 1_000_000_000_000),
            0,
        )
        .await;
    assert_eq!(rest.status(), 200);
    let after = shop.get(&format!("/v1/orders/{id}")).await["data"].clone();
    assert_eq!(
        (after["status"].as_str(), after["payment_status"].as_str()),
        (Some("confirmed"), Some("paid"))
    );
    let refunds = format!("/v1/orders/{id}/refunds");
    let past_total = shop
        .post(&refunds, json!({"amount": 10_001, "reason": "too much"}))
        .await;
    assert_error(past_total, 409, "refund_exceeds_payment").await;
    let all = shop.post(&refunds, json!({"reason": "returned"})).await;
    assert_eq!(all.status(), 201);
    assert_eq!(json_of(all).await["data"]["amount"]["amount"], 10_000);
}

#[tokio::test]
async fn simultaneous_duplicate_callbacks_all_succeed_once() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG", 500, 10).await;
    let cart = shop.cart(&[(&mug, 1)], None).await;
    let order = shop.checkout(&cart).await;
    let duplicates = (0..10).map(|_| shop.callback(&order, "evt_dup_fail", "payment_intent.payment_failed", 0));
    let statuses: Vec<u16> = futures_util::future::join_all(duplicates)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let failed = events(&shop.app, &shop.store.id, "test")
        .await
        .iter()
        .filter(|e| e["type"] == "payment.failed")
        .count();
    assert_eq!(failed, 1);
}

#[tokio::test]
async fn a_checkout_key_never_reads_a_customers_email() {
    let shop = Shop::open().await;
    let mug = shop.product("MUG", 500, 10).await;
    let customer = json_of(
        shop.post("/v1/customers", json!({"email": "private@example.com"}))
            .await,
    )
    .await;
    let customer = customer["data"]["id"].as_str().unwrap().to_owned();
    let (_, till) = shop
        .app
        .create_key(shop.key(), &["carts:write", "checkout:write"])
        .await;
    let cart = shop.cart(&[(&mug, 1)], Some(&customer)).await;
    let body = json!({"cart_id": cart, "shipping_address": address()});
    let response = shop.app.post("/v1/checkout", &till, &body).send().await.unwrap();
    let refused = assert_error(response, 403, "forbidden").await;
    assert!(!refused.to_string().contains("private@example.com"));
    // With the email given, the order shows only what the caller sent.
    let body = json!({"cart_id": cart, "email": "given@example.com", "shipping_address": address()});
    let response = shop.app.post("/v1/checkout", &till, &body).send().await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(json_of(response).await["data"]["email"], "given@example.com");
}

/// `state`, the name the reference APIs and Stripe give the region, is accepted for it wherever an address is.
#[tokio::test]
async fn an_address_takes_state_as_its_region() {
    let shop = Shop::open().await;
    let key = shop.key();
    let customer = shop
        .app
        .post("/v1/customers", key, &json!({"email": "ada@example.com"}))
        .expect_data(201)
        .await;
    let path = format!("/v1/customers/{}/addresses", customer["id"].as_str().unwrap());
    let with_state = json!({"line1": "1 Market St", "city": "San Francisco", "state": "CA", "country": "US"});
    let added = shop.app.post(&path, key, &with_state).expect_data(201).await;
    assert_eq!(added["region"], "CA");
    assert!(added.get("state").is_none(), "answered under its own name");
    let both = json!({"line1": "1 Market St", "city": "San Francisco", "state": "CA", "region": "NY", "country": "US"});
    shop.app.post(&path, key, &both).expect(422).await;
}

/// A group counts its members exactly (in the customers' own transactions), is renamed with `If-Match`, and is
/// deleted only once no customer is in it.
#[tokio::test]
async fn customer_groups_are_read_renamed_and_deleted_only_when_empty() {
    let shop = Shop::open().await;
    let (app, key) = (&shop.app, shop.key());
    let group = app
        .post("/v1/customer-groups", key, &json!({"name": "Wholesale"}))
        .expect_data(201)
        .await;
    let group_id = group["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/customer-groups/{group_id}");
    let members = || async { app.get(&path, key).expect_data(200).await["member_count"].clone() };
    assert_eq!(members().await, 0);

    let ada = app
        .post(
            "/v1/customers",
            key,
            &json!({"email": "ada@example.com", "group_ids": [group_id]}),
        )
        .expect_data(201)
        .await;
    let grace = app
        .post(
            "/v1/customers",
            key,
            &json!({"email": "grace@example.com", "group_ids": [group_id, group_id]}),
        )
        .expect_data(201)
        .await;
    assert_eq!(members().await, 2, "a repeated id counts once");

    let renamed = app
        .patch(&path, key, &json!({"name": " Trade ", "description": "B2B"}))
        .header("if-match", "\"1\"")
        .expect_data(200)
        .await;
    assert_eq!(
        (renamed["name"].as_str(), renamed["version"].as_u64()),
        (Some("Trade"), Some(2))
    );
    app.patch(&path, key, &json!({"name": "Stale"}))
        .header("if-match", "\"1\"")
        .expect(412)
        .await;
    app.patch(&path, key, &json!({"name": "  "})).expect(422).await;
    assert_eq!(members().await, 2, "a rename keeps the count");

    let refused = app.delete(&path, key).expect(409).await;
    assert_eq!(refused["error"]["code"], "customer_group_in_use");
    let leave = json!({"group_ids": []});
    app.patch(&format!("/v1/customers/{}", ada["id"].as_str().unwrap()), key, &leave)
        .expect(200)
        .await;
    assert_eq!(members().await, 1);
    app.delete(&format!("/v1/customers/{}", grace["id"].as_str().unwrap()), key)
        .expect(204)
        .await;
    assert_eq!(members().await, 0, "a deleted customer leaves its groups");

    app.delete(&path, key).expect(204).await;
    app.get(&path, key).expect(404).await;
    app.delete(&path, key).expect(404).await;
    let joining = json!({"email": "late@example.com", "group_ids": [group_id]});
    app.post("/v1/customers", key, &joining).expect(422).await;
    let kinds: Vec<String> = events(app, &shop.store.id, "test")
        .await
        .iter()
        .filter_map(|e| {
            e["type"]
                .as_str()
                .filter(|t| t.starts_with("customer_group."))
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "customer_group.created",
            "customer_group.updated",
            "customer_group.deleted"
        ]
    );
}
