//! Promotions over HTTP: their routes, the cart's view of every promotion considered (applied, or why not), the
//! discount checkout charges and keeps on each order line, and limits that hold under concurrent checkouts and
//! come back when an order is cancelled.

use cartwheel_tests::{assert_error, spawn_app, Expect, TestApp, TestStore};
use serde_json::{json, Value};

struct Shop {
    app: TestApp,
    store: TestStore,
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

    async fn post(&self, path: &str, body: Value) -> Value {
        self.app.post(path, self.key(), &body).expect_data(201).await
    }

    async fn promotion(&self, body: Value) -> Value {
        self.post("/v1/promotions", body).await
    }

    /// An active EUR product with `stock` units; its id.
    async fn product(&self, amount: i64, stock: i64) -> String {
        let body = json!({"name": "Lamp", "status": "active", "price": {"amount": amount, "currency": "EUR"},
                          "stock": stock, "type": "digital"});
        self.post("/v1/products", body).await["id"].as_str().unwrap().to_owned()
    }

    async fn cart(&self, customer: Option<&str>, lines: &[(&str, u32)], codes: &[&str]) -> String {
        let body = json!({"currency": "EUR", "customer_id": customer, "shipping_address": address()});
        let cart = self.post("/v1/carts", body).await;
        let id = cart["id"].as_str().unwrap().to_owned();
        for (product, quantity) in lines {
            let line = json!({"product_id": product, "quantity": quantity});
            self.app
                .post(&format!("/v1/carts/{id}/items"), self.key(), &line)
                .expect(200)
                .await;
        }
        for code in codes {
            self.app
                .post(
                    &format!("/v1/carts/{id}/promotion-codes"),
                    self.key(),
                    &json!({"code": code}),
                )
                .expect(200)
                .await;
        }
        id
    }

    async fn view(&self, cart: &str) -> Value {
        self.app
            .get(&format!("/v1/carts/{cart}"), self.key())
            .expect_data(200)
            .await
    }

    /// Checks out every cart at once; a checkout answered with the retryable `409 conflict` (a store busy past the
    /// checkout's retry window) is sent again afterwards, as a client would. The final answers, in cart order.
    async fn checkout_all(&self, carts: &[String]) -> Vec<(u16, Value)> {
        let attempts = carts.iter().map(|cart| self.checkout(cart, None).send());
        let mut answers = Vec::new();
        for (cart, response) in carts.iter().zip(futures_util::future::join_all(attempts).await) {
            let mut response = response.unwrap();
            let answer = loop {
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap();
                if status != 409 || body["error"]["code"] != "conflict" {
                    break (status, body);
                }
                response = self.checkout(cart, None).send().await.unwrap();
            };
            answers.push(answer);
        }
        answers
    }

    fn checkout(&self, cart: &str, customer: Option<&str>) -> reqwest::RequestBuilder {
        let body = match customer {
            Some(customer) => json!({"cart_id": cart, "customer_id": customer, "shipping_address": address()}),
            None => json!({"cart_id": cart, "email": "guest@example.com", "shipping_address": address()}),
        };
        self.app.post("/v1/checkout", self.key(), &body)
    }
}

fn address() -> Value {
    json!({"line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"})
}

fn states(cart: &Value) -> Vec<(String, String)> {
    cart["promotions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap_or(p["name"].as_str().unwrap()).to_owned(),
                p["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn promotion_routes_check_their_input_codes_versions_and_scopes() {
    let shop = Shop::open().await;
    let created = shop
        .promotion(json!({"name": "Spring", "code": "spring-10", "value_type": "percentage", "value": 10}))
        .await;
    assert_eq!(
        created["code"], "SPRING-10",
        "codes are compared without regard to case"
    );
    assert_eq!(created["status"], "active");
    assert_eq!(created["target"], "order");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("promo_"));

    let taken = shop
        .app
        .post(
            "/v1/promotions",
            shop.key(),
            &json!({"name": "Again", "code": "Spring-10", "value_type": "percentage", "value": 5}),
        )
        .send()
        .await
        .unwrap();
    assert_error(taken, 409, "code_taken").await;
    let bad = json!({"name": "Bad", "value_type": "fixed", "value": 1.5, "allocation": "each",
                     "valid_from": "yesterday"});
    let refused = shop.app.post("/v1/promotions", shop.key(), &bad).send().await.unwrap();
    let body = assert_error(refused, 422, "validation_failed").await;
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["valid_from", "currency", "value", "allocation"]);

    shop.promotion(json!({"name": "Automatic", "value_type": "fixed", "value": 100, "currency": "EUR"}))
        .await;
    let by_code = shop
        .app
        .get("/v1/promotions?code=spring-10", shop.key())
        .expect(200)
        .await;
    assert_eq!(by_code["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_code["meta"]["pagination"]["total"], 1);

    let url = format!("/v1/promotions/{id}");
    let stale = shop
        .app
        .patch(&url, shop.key(), &json!({"value": 15}))
        .header("If-Match", "\"7\"")
        .send()
        .await
        .unwrap();
    assert_error(stale, 412, "precondition_failed").await;
    let changed = shop
        .app
        .patch(&url, shop.key(), &json!({"value": 15, "max_uses": 100}))
        .header("If-Match", "\"1\"")
        .expect_data(200)
        .await;
    assert_eq!(
        (changed["value"].as_f64(), changed["version"].as_u64()),
        (Some(15.0), Some(2))
    );
    let fixed = shop
        .app
        .patch(&url, shop.key(), &json!({"code": "OTHER"}))
        .send()
        .await
        .unwrap();
    assert_error(fixed, 422, "validation_failed").await;

    let (_, reader) = shop.app.create_key(shop.key(), &["promotions:read"]).await;
    shop.app.get(&url, &reader).expect(200).await;
    let forbidden = shop
        .app
        .post(&format!("{url}/deactivate"), &reader, &json!({}))
        .send()
        .await
        .unwrap();
    assert_error(forbidden, 403, "forbidden").await;
    let stopped = shop
        .app
        .post(&format!("{url}/deactivate"), shop.key(), &json!({}))
        .expect_data(200)
        .await;
    assert_eq!(stopped["status"], "inactive");
    let active = shop
        .app
        .get("/v1/promotions?status=active", shop.key())
        .expect(200)
        .await;
    assert_eq!(active["data"].as_array().unwrap().len(), 1);
}

/// A cart lists every automatic promotion and entered code with its state; the applied ones' amounts are spread
/// over the lines by largest remainder, taken off before tax, and checkout charges and keeps them.
#[tokio::test]
async fn a_cart_shows_why_each_promotion_applies_or_not_and_checkout_keeps_the_allocation() {
    let shop = Shop::open().await;
    let settings = json!({"prices_include_tax": true, "rates": [{"country": "FR", "rate": "20"}]});
    shop.app
        .put("/v1/tax-settings", shop.key(), &settings)
        .expect(200)
        .await;
    let lamp = shop.product(1000, 50).await;
    let shade = shop.product(2000, 50).await;
    // Automatic: 10.00 off orders, combinable with codes on items. A code: 10 % off items, combinable with orders.
    shop.promotion(
        json!({"name": "Welcome", "value_type": "fixed", "value": 1000, "currency": "EUR",
                          "priority": 1, "combines_with": {"items": true}}),
    )
    .await;
    shop.promotion(
        json!({"name": "Lamps", "code": "LAMP10", "target": "items", "value_type": "percentage",
                          "value": 10, "conditions": {"product_ids": [lamp]}, "priority": 2,
                          "applies_to": "after_previous", "combines_with": {"order": true}}),
    )
    .await;
    shop.promotion(
        json!({"name": "Big", "code": "BIG", "value_type": "percentage", "value": 50,
                          "conditions": {"min_subtotal": {"amount": 100000, "currency": "EUR"}}}),
    )
    .await;
    shop.promotion(
        json!({"name": "Later", "code": "LATER", "value_type": "percentage", "value": 50,
                          "valid_from": "2099-01-01T00:00:00Z"}),
    )
    .await;

    let cart = shop
        .cart(None, &[(&lamp, 3), (&shade, 1)], &["lamp10", "BIG", "later"])
        .await;
    let unknown = shop
        .app
        .post(
            &format!("/v1/carts/{cart}/promotion-codes"),
            shop.key(),
            &json!({"code": "NOPE"}),
        )
        .send()
        .await
        .unwrap();
    assert_error(unknown, 422, "validation_failed").await;
    let view = shop.view(&cart).await;
    assert_eq!(view["promotion_codes"], json!(["LAMP10", "BIG", "LATER"]));
    assert_eq!(
        states(&view),
        [
            ("BIG".to_owned(), "below_minimum".to_owned()),
            ("LATER".to_owned(), "not_started".to_owned()),
            ("Welcome".to_owned(), "applied".to_owned()),
            ("LAMP10".to_owned(), "applied".to_owned()),
        ],
        "in order of priority (0 first), then age"
    );
    // 10.00 over 30.00 + 20.00: 6.00 and 4.00. Then 10 % of the lamps' 24.00 left: 2.40.
    let items = view["items"].as_array().unwrap();
    let off = |item: &Value| -> Vec<i64> {
        item["discounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["amount"]["amount"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(off(&items[0]), [600, 240]);
    assert_eq!(off(&items[1]), [400]);
    assert_eq!(view["discount_total"]["amount"], 1240);
    assert_eq!(view["subtotal"]["amount"], 5000);
    assert_eq!(view["total"]["amount"], 3760);
    // Tax is on what is charged: the lamps' 21.60 holds 3.60 of VAT.
    assert_eq!(items[0]["gross"]["amount"], 2160);
    assert_eq!(items[0]["tax_amount"]["amount"], 360);

    // Checkout refuses a code that does not apply rather than charge the full price.
    let refused = shop.checkout(&cart, None).send().await.unwrap();
    let body = assert_error(refused, 422, "promotion_not_applicable").await;
    assert_eq!(body["error"]["details"].as_array().unwrap().len(), 2);
    for code in ["BIG", "later"] {
        shop.app
            .delete(&format!("/v1/carts/{cart}/promotion-codes/{code}"), shop.key())
            .expect(200)
            .await;
    }
    // A quote holds the checkout to what it showed: a promotion changed since fails it with `quote_changed`.
    let quote = |code: Option<&str>| {
        shop.app
            .post(
                "/v1/promotions/validate",
                shop.key(),
                &json!({"cart_id": cart, "code": code}),
            )
            .expect_data(200)
    };
    let quoted = quote(None).await;
    assert_eq!(quoted["discount_total"]["amount"], 1240);
    let hash = quoted["quote_hash"].as_str().unwrap().to_owned();
    let tried = quote(Some("big")).await;
    assert_eq!(
        tried["promotions"][0]["state"], "below_minimum",
        "a code tried, not entered"
    );
    assert_eq!(tried["quote_hash"], hash.as_str());
    let lamps = shop.app.get("/v1/promotions?code=LAMP10", shop.key()).expect(200).await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let with_hash = |hash: &str| json!({"cart_id": cart, "email": "guest@example.com", "shipping_address": address(), "quote_hash": hash});
    shop.app
        .patch(&format!("/v1/promotions/{lamps}"), shop.key(), &json!({"value": 20}))
        .expect(200)
        .await;
    let stale = shop
        .app
        .post("/v1/checkout", shop.key(), &with_hash(&hash))
        .send()
        .await
        .unwrap();
    assert_error(stale, 409, "quote_changed").await;
    shop.app
        .patch(&format!("/v1/promotions/{lamps}"), shop.key(), &json!({"value": 10}))
        .expect(200)
        .await;
    let order = shop
        .app
        .post("/v1/checkout", shop.key(), &with_hash(&hash))
        .expect_data(201)
        .await;
    assert_eq!(order["discount_total"]["amount"], 1240);
    assert_eq!(order["total"]["amount"], 3760);
    assert_eq!(order["promotions"].as_array().unwrap().len(), 2);
    assert_eq!(order["lines"][0]["gross"]["amount"], 2160);
    assert_eq!(order["lines"][0]["discounts"].as_array().unwrap().len(), 2);

    // A refund of one lamp returns a third of what the line paid.
    cartwheel_tests::pay(&shop.app, &shop.store.id, &order).await;
    let id = order["id"].as_str().unwrap();
    let line = order["lines"][0]["id"].clone();
    let refund = shop
        .post(
            &format!("/v1/orders/{id}/refunds"),
            json!({"lines": [{"line_id": line, "quantity": 1}], "reason": "broken"}),
        )
        .await;
    assert_eq!(refund["amount"]["amount"], 720);
}

/// 50 simultaneous checkouts with a code limited to 20 uses: exactly 20 orders take it; the others are refused
/// (`409 promotion_unavailable` when they raced, `422 promotion_not_applicable` when they read it used up), with no
/// order and no stock taken for them.
#[tokio::test]
async fn a_code_is_never_used_past_its_limit_under_concurrent_checkouts() {
    let shop = Shop::open().await;
    let lamp = shop.product(1000, 100).await;
    shop.promotion(
        json!({"name": "Twenty", "code": "TWENTY", "value_type": "percentage", "value": 20,
                          "max_uses": 20}),
    )
    .await;
    let mut carts = Vec::new();
    for _ in 0..50 {
        carts.push(shop.cart(None, &[(&lamp, 1)], &["TWENTY"]).await);
    }
    let mut placed = 0;
    for (status, body) in shop.checkout_all(&carts).await {
        match status {
            201 => {
                assert_eq!(body["data"]["discount_total"]["amount"], 200);
                placed += 1;
            }
            409 => assert_eq!(body["error"]["code"], "promotion_unavailable", "{body}"),
            422 => assert_eq!(body["error"]["code"], "promotion_not_applicable", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(placed, 20);
    let stock = shop
        .app
        .get(&format!("/v1/inventory/{lamp}"), shop.key())
        .expect_data(200)
        .await;
    assert_eq!(stock["available"], 80, "stock taken only for the orders placed");
    let orders = shop.app.get("/v1/orders?limit=100", shop.key()).expect(200).await;
    assert_eq!(orders["data"].as_array().unwrap().len(), 20);
}

/// A per-customer limit holds for one customer's simultaneous checkouts, and cancelling gives the use back
/// exactly once, even when two cancellations race.
#[tokio::test]
async fn a_per_customer_limit_holds_and_a_cancellation_gives_the_use_back_once() {
    let shop = Shop::open().await;
    let lamp = shop.product(1000, 100).await;
    let customer = shop.post("/v1/customers", json!({"email": "ada@example.com"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    shop.promotion(
        json!({"name": "Once", "code": "ONCE", "value_type": "fixed", "value": 300, "currency": "EUR",
                          "max_uses_per_customer": 1}),
    )
    .await;
    let mut carts = Vec::new();
    for _ in 0..10 {
        carts.push(shop.cart(Some(&customer), &[(&lamp, 1)], &["ONCE"]).await);
    }
    let attempts = carts.iter().map(|cart| shop.checkout(cart, Some(&customer)).send());
    let responses = futures_util::future::join_all(attempts).await;
    let mut orders = Vec::new();
    for response in responses {
        let response = response.unwrap();
        if response.status() == 201 {
            orders.push(response.json::<Value>().await.unwrap()["data"].clone());
        } else {
            assert!([409, 422].contains(&response.status().as_u16()));
        }
    }
    assert_eq!(orders.len(), 1, "one use per customer");

    // A guest cart cannot know the buyer: the state says so, and checkout with an email counts it by email.
    let guest = shop.cart(None, &[(&lamp, 1)], &["ONCE"]).await;
    assert_eq!(states(&shop.view(&guest).await)[0].1, "customer_identity_required");

    // Two cancellations at once: one succeeds, and the use comes back once.
    let id = orders[0]["id"].as_str().unwrap();
    let cancel = || {
        shop.app.patch(
            &format!("/v1/orders/{id}/status"),
            shop.key(),
            &json!({"status": "cancelled", "reason": "changed mind"}),
        )
    };
    let (first, second) = tokio::join!(cancel().send(), cancel().send());
    let statuses = [first.unwrap().status().as_u16(), second.unwrap().status().as_u16()];
    assert!(statuses.contains(&200), "{statuses:?}");
    let again = shop.cart(Some(&customer), &[(&lamp, 1)], &["ONCE"]).await;
    assert_eq!(states(&shop.view(&again).await)[0].1, "applied", "the use came back");
    shop.checkout(&again, Some(&customer)).expect(201).await;
    let third = shop.cart(Some(&customer), &[(&lamp, 1)], &["ONCE"]).await;
    assert_eq!(
        states(&shop.view(&third).await)[0].1,
        "usage_exhausted",
        "given back once, not twice"
    );
}

/// A spend budget shared by two promotions is never passed by simultaneous checkouts: orders that would pass it are
/// refused (`409 promotion_unavailable`) or, once it reads as used up, go without the automatic promotion; a
/// cancellation gives its part back.
#[tokio::test]
async fn a_campaign_budget_is_never_passed_and_a_cancellation_gives_it_back() {
    let shop = Shop::open().await;
    let lamp = shop.product(1000, 100).await;
    let campaign = shop
        .post(
            "/v1/campaigns",
            json!({"name": "Launch", "budget_type": "spend", "limit": 1000, "currency": "EUR"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let missing = json!({"name": "x", "value_type": "percentage", "value": 1,
                         "campaign_id": "camp_01JD3M5W7Q6V8X9Y0Z1A2B3C4D"});
    let refused = shop
        .app
        .post("/v1/promotions", shop.key(), &missing)
        .send()
        .await
        .unwrap();
    assert_error(refused, 422, "validation_failed").await;
    // Two automatic promotions of 1.50 each (they combine): 3.00 a cart, so the 10.00 budget holds three orders.
    for name in ["Half", "Other half"] {
        shop.promotion(
            json!({"name": name, "value_type": "fixed", "value": 150, "currency": "EUR",
                              "campaign_id": campaign, "combines_with": {"order": true}}),
        )
        .await;
    }
    let mut carts = Vec::new();
    for _ in 0..12 {
        carts.push(shop.cart(None, &[(&lamp, 1)], &[]).await);
    }
    assert_eq!(shop.view(&carts[0]).await["discount_total"]["amount"], 300);
    let mut discounted = Vec::new();
    for (status, body) in shop.checkout_all(&carts).await {
        match status {
            201 => {
                let off = body["data"]["discount_total"]["amount"].as_i64().unwrap();
                assert!(off == 300 || off == 0, "all or nothing of the campaign: {off}");
                if off > 0 {
                    discounted.push(body["data"]["id"].as_str().unwrap().to_owned());
                }
            }
            _ => assert_eq!(body["error"]["code"], "promotion_unavailable", "{body}"),
        }
    }
    assert_eq!(
        discounted.len(),
        3,
        "3 × 3.00 fits the 10.00 budget; a fourth would not"
    );
    let next = shop.cart(None, &[(&lamp, 1)], &[]).await;
    let view = shop.view(&next).await;
    assert_eq!(states(&view)[0].1, "budget_exhausted");
    assert_eq!(view["discount_total"]["amount"], 0);

    let cancel = json!({"status": "cancelled", "reason": "changed mind"});
    shop.app
        .patch(&format!("/v1/orders/{}/status", discounted[0]), shop.key(), &cancel)
        .expect(200)
        .await;
    let view = shop.view(&next).await;
    assert_eq!(
        view["discount_total"]["amount"], 300,
        "the cancelled order's 3.00 came back"
    );
    let in_use = shop
        .app
        .delete(&format!("/v1/campaigns/{campaign}"), shop.key())
        .send()
        .await
        .unwrap();
    assert_error(in_use, 409, "campaign_in_use").await;
}

/// The coupon API of reference 002: the same records as promotions, seen through the simpler shape.
#[tokio::test]
async fn coupons_are_promotions_in_the_shape_reference_clients_know() {
    let shop = Shop::open().await;
    let lamp = shop.product(4000, 10).await;
    let shade = shop.product(2000, 10).await;
    let body = json!({"code": "SUMMER20", "type": "percentage", "value": 20, "max_uses": 100,
                      "expires_at": "2099-09-01T00:00:00Z", "min_order_amount": 1000, "currency": "EUR",
                      "applies_to_products": [lamp]});
    let coupon = shop.post("/v1/coupons", body.clone()).await;
    assert_eq!(coupon["code"], "SUMMER20");
    assert_eq!(coupon["type"], "percentage");
    assert_eq!(coupon["min_order_amount"], 1000);
    let taken = shop.app.post("/v1/coupons", shop.key(), &body).send().await.unwrap();
    assert_error(taken, 409, "code_taken").await;
    let no_currency = json!({"code": "X", "type": "percentage", "value": 5, "min_order_amount": 100});
    let refused = shop
        .app
        .post("/v1/coupons", shop.key(), &no_currency)
        .send()
        .await
        .unwrap();
    assert_error(refused, 422, "validation_failed").await;

    let id = coupon["id"].as_str().unwrap().to_owned();
    let promotion = shop
        .app
        .get(&format!("/v1/promotions/{id}"), shop.key())
        .expect_data(200)
        .await;
    assert_eq!(promotion["target"], "items");
    assert_eq!(promotion["valid_until"], "2099-09-01T00:00:00Z");
    let listed = shop.app.get("/v1/coupons", shop.key()).expect(200).await;
    assert_eq!(listed["data"][0]["id"], id.as_str());

    // 20 % off the lamp only.
    let cart = shop.cart(None, &[(&lamp, 1), (&shade, 1)], &["summer20"]).await;
    let view = shop.view(&cart).await;
    assert_eq!(view["discount_total"]["amount"], 800);
    assert_eq!(view["items"][1]["discounts"], json!(null));

    shop.app
        .delete(&format!("/v1/coupons/{id}"), shop.key())
        .expect(204)
        .await;
    let view = shop.view(&cart).await;
    assert_eq!(states(&view), [("SUMMER20".to_owned(), "inactive".to_owned())]);
    assert_eq!(view["discount_total"]["amount"], 0);
}

/// Buy X get Y over HTTP: the cheapest units of the get set, after the dearest of the buy set, at its percentage
/// off; checkout keeps the allocation on the got line.
#[tokio::test]
async fn buy_two_get_one_free_discounts_the_cheapest_unit() {
    let shop = Shop::open().await;
    let mug = shop.product(1200, 10).await;
    let cup = shop.product(800, 10).await;
    shop.promotion(
        json!({"name": "3 for 2", "target": "items", "value_type": "percentage", "value": 100,
                          "buy_x_get_y": {"buy": {"quantity": 2}, "get": {"quantity": 1}}}),
    )
    .await;
    let cart = shop.cart(None, &[(&mug, 2), (&cup, 1)], &[]).await;
    let view = shop.view(&cart).await;
    assert_eq!(view["discount_total"]["amount"], 800, "the cup is free");
    let order = shop.checkout(&cart, None).expect_data(201).await;
    assert_eq!(order["lines"][1]["discounts"][0]["amount"]["amount"], 800);
    assert_eq!(order["total"]["amount"], 2400);
}
