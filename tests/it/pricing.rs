//! Price records over HTTP: their routes, how a cart line's price is resolved from them (currency, group, tier,
//! variant), `explain=prices`, checkout charging them, and a price edited during checkouts.

use cartwheel_tests::{assert_error, events, spawn_app, Expect, TestApp, TestStore};
use serde_json::{json, Value};

struct Shop {
    app: TestApp,
    store: TestStore,
}

fn address() -> Value {
    json!({"line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"})
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
        self.app.post(path, self.key(), &body).expect(201).await["data"].clone()
    }

    async fn get(&self, path: &str) -> Value {
        self.app.get(path, self.key()).expect(200).await
    }

    /// A price record; its id.
    async fn price(&self, body: Value) -> String {
        self.post("/v1/prices", body).await["id"].as_str().unwrap().to_owned()
    }

    async fn cart(&self, currency: &str, customer: Option<&str>, lines: &[(&str, Option<&str>, u32)]) -> String {
        let cart = self
            .post("/v1/carts", json!({"currency": currency, "customer_id": customer}))
            .await;
        let id = cart["id"].as_str().unwrap().to_owned();
        for (product, variant, quantity) in lines {
            let line = json!({"product_id": product, "variant_id": variant, "quantity": quantity});
            self.app
                .post(&format!("/v1/carts/{id}/items"), self.key(), &line)
                .expect(200)
                .await;
        }
        id
    }

    /// (unit amount, price source, price id) of each line of a cart.
    async fn line_prices(&self, cart: &str) -> Vec<(i64, String, Option<String>)> {
        let cart = self.get(&format!("/v1/carts/{cart}")).await;
        cart["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                (
                    item["unit_price"]["amount"].as_i64().unwrap(),
                    item["price_source"].as_str().unwrap().to_owned(),
                    item["price_id"].as_str().map(str::to_owned),
                )
            })
            .collect()
    }
}

/// A tee in three colours (catalog price USD 12.00), 50 units of each variant in stock; (product, variants by colour).
async fn tee(shop: &Shop) -> (String, Vec<String>) {
    let product = shop
        .post(
            "/v1/products",
            json!({"name": "Tee", "status": "active", "price": {"amount": 1200, "currency": "USD"},
                   "options": [{"name": "Color", "values": ["Red", "Green", "Blue"]}]}),
        )
        .await;
    let id = product["id"].as_str().unwrap().to_owned();
    let variants = shop
        .post(&format!("/v1/products/{id}/variants/generate"), json!({}))
        .await;
    let mut by_colour = Vec::new();
    for colour in ["Red", "Green", "Blue"] {
        let variant = variants
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["option_values"]["Color"] == colour)
            .unwrap();
        let variant_id = variant["id"].as_str().unwrap().to_owned();
        shop.app
            .post(
                &format!("/v1/inventory/{variant_id}/adjust"),
                shop.key(),
                &json!({"delta": 50, "reason": "restock"}),
            )
            .expect(200)
            .await;
        by_colour.push(variant_id);
    }
    (id, by_colour)
}

#[tokio::test]
async fn lines_pay_the_most_specific_lowest_eligible_price_and_checkout_charges_it() {
    let shop = Shop::open().await;
    let (tee, colours) = tee(&shop).await;
    let (red, green, blue) = (colours[0].as_str(), colours[1].as_str(), colours[2].as_str());
    let wholesale = shop.post("/v1/customer-groups", json!({"name": "Wholesale"})).await["id"].clone();
    let staff = shop.post("/v1/customer-groups", json!({"name": "Staff"})).await["id"].clone();
    let buyer = shop
        .post(
            "/v1/customers",
            json!({"email": "buyer@example.com", "group_ids": [wholesale.clone(), staff.clone()]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let everyone = shop
        .price(json!({"product_id": tee, "currency": "EUR", "amount": 1100}))
        .await;
    let members = shop
        .price(json!({"product_id": tee, "currency": "EUR", "amount": 900, "customer_group_id": wholesale}))
        .await;
    let members_10 = shop
        .price(
            json!({"product_id": tee, "currency": "EUR", "amount": 800, "customer_group_id": wholesale,
                      "min_quantity": 10, "tier_basis": "product"}),
        )
        .await;
    let staff_price = shop
        .price(json!({"product_id": tee, "currency": "EUR", "amount": 1050, "customer_group_id": staff}))
        .await;
    let blue_price = shop
        .price(json!({"product_id": tee, "variant_id": blue, "currency": "EUR", "amount": 1000}))
        .await;

    // A guest pays everyone's EUR price; in USD the catalog's.
    let guest = shop.cart("EUR", None, &[(&tee, Some(red), 1)]).await;
    assert_eq!(
        shop.line_prices(&guest).await,
        [(1100, "price_record".into(), Some(everyone.clone()))]
    );
    let dollars = shop.cart("USD", None, &[(&tee, Some(red), 1)]).await;
    assert_eq!(shop.line_prices(&dollars).await, [(1200, "catalog".into(), None)]);

    // A customer in two groups pays the lower group price; 4 red and 6 green reach the product tier of 10.
    let one = shop.cart("EUR", Some(&buyer), &[(&tee, Some(red), 1)]).await;
    assert_eq!(
        shop.line_prices(&one).await,
        [(900, "price_record".into(), Some(members.clone()))]
    );
    let mixed = shop
        .cart("EUR", Some(&buyer), &[(&tee, Some(red), 4), (&tee, Some(green), 6)])
        .await;
    let tier = (800, "price_record".to_owned(), Some(members_10.clone()));
    assert_eq!(shop.line_prices(&mixed).await, [tier.clone(), tier]);
    // A variant's own price beats the group's.
    let blue_cart = shop.cart("EUR", Some(&buyer), &[(&tee, Some(blue), 1)]).await;
    assert_eq!(
        shop.line_prices(&blue_cart).await,
        [(1000, "price_record".into(), Some(blue_price.clone()))]
    );

    // Why each candidate lost.
    let explained = shop.get(&format!("/v1/carts/{mixed}?explain=prices")).await;
    let candidates = explained["data"]["items"][0]["price_candidates"]
        .as_array()
        .unwrap()
        .clone();
    let outcome = |id: &str| {
        candidates
            .iter()
            .find(|c| c["price_id"] == id)
            .map(|c| c["outcome"].as_str().unwrap().to_owned())
    };
    assert_eq!(outcome(&members_10).as_deref(), Some("applied"));
    assert_eq!(outcome(&members).as_deref(), Some("lower_tier"));
    assert_eq!(outcome(&everyone).as_deref(), Some("less_specific"));
    assert_eq!(outcome(&staff_price).as_deref(), Some("higher_price"));
    assert_eq!(outcome(&blue_price), None, "another variant's record is no candidate");
    assert!(shop.get(&format!("/v1/carts/{mixed}")).await["data"]["items"][0]["price_candidates"].is_null());
    assert_error(
        shop.app
            .get(&format!("/v1/carts/{mixed}?explain=everything"), shop.key())
            .send()
            .await
            .unwrap(),
        400,
        "bad_request",
    )
    .await;

    // Checkout charges the resolved prices and keeps the record on each order line.
    let order = shop
        .app
        .post(
            "/v1/checkout",
            shop.key(),
            &json!({"cart_id": mixed, "customer_id": buyer, "shipping_address": address()}),
        )
        .expect(201)
        .await["data"]
        .clone();
    assert_eq!(order["currency"], "EUR");
    assert_eq!(order["total"]["amount"], 8000);
    for line in order["lines"].as_array().unwrap() {
        assert_eq!(line["unit_price"]["amount"], 800);
        assert_eq!(line["price_id"], members_10.as_str());
    }

    // No price in JPY for anyone: refused when added, and at checkout when it went away after.
    let yen = shop.post("/v1/carts", json!({"currency": "JPY"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = shop
        .app
        .post(
            &format!("/v1/carts/{yen}/items"),
            shop.key(),
            &json!({"product_id": tee, "variant_id": red, "quantity": 1}),
        )
        .send()
        .await
        .unwrap();
    assert_error(refused, 422, "no_price_for_currency").await;
    let only_record = shop.cart("EUR", None, &[(&tee, Some(red), 1)]).await;
    shop.app
        .delete(&format!("/v1/prices/{everyone}"), shop.key())
        .expect(204)
        .await;
    let line = &shop.get(&format!("/v1/carts/{only_record}")).await["data"]["items"][0];
    assert_eq!(line["purchasable"], false);
    let refused = shop
        .app
        .post(
            "/v1/checkout",
            shop.key(),
            &json!({"cart_id": only_record, "email": "g@example.com", "shipping_address": address()}),
        )
        .send()
        .await
        .unwrap();
    let body = assert_error(refused, 422, "no_price_for_currency").await;
    assert_eq!(body["error"]["details"][0]["field"], "cart.items[0]");
}

#[tokio::test]
async fn price_routes_check_their_input_versions_scopes_and_store() {
    let shop = Shop::open().await;
    let (tee, colours) = tee(&shop).await;
    let other = shop
        .post(
            "/v1/products",
            json!({"name": "Cap", "price": {"amount": 500, "currency": "USD"}}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let create = |body: Value| shop.app.post("/v1/prices", shop.key(), &body).send();

    // What the record names must exist and belong together; amounts, tiers and windows are checked.
    for (body, field) in [
        (
            json!({"product_id": "prod_01JD3M5W7Q6V8X9Y0Z1A2B3C4D", "currency": "EUR", "amount": 1}),
            "product_id",
        ),
        (
            json!({"product_id": other, "variant_id": colours[0], "currency": "EUR", "amount": 1}),
            "variant_id",
        ),
        (
            json!({"product_id": tee, "currency": "EUR", "amount": 1, "customer_group_id": "cgrp_01JD3M5W7Q6V8X9Y0Z1A2B3C4D"}),
            "customer_group_id",
        ),
        (json!({"product_id": tee, "currency": "EUR", "amount": -5}), "amount"),
        (
            json!({"product_id": tee, "currency": "EUR", "amount": 5, "min_quantity": 0}),
            "min_quantity",
        ),
        (
            json!({"product_id": tee, "currency": "EUR", "amount": 5, "valid_from": "2027-01-01T00:00:00Z", "valid_until": "2026-01-01T00:00:00Z"}),
            "valid_until",
        ),
    ] {
        let body_text = body.to_string();
        let refused = assert_error(create(body).await.unwrap(), 422, "validation_failed").await;
        assert_eq!(refused["error"]["details"][0]["field"], field, "{body_text}");
    }
    assert_error(
        create(json!({"product_id": tee, "currency": "EUR", "amount": 5, "store_id": "st_x"}))
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;

    // Versions: If-Match guards changes; a change emits its event with what changed.
    let created = shop
        .post(
            "/v1/prices",
            json!({"product_id": tee, "currency": "EUR", "amount": 1000}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (created["min_quantity"].as_u64(), created["version"].as_u64()),
        (Some(1), Some(1))
    );
    let stale = shop
        .app
        .patch(&format!("/v1/prices/{id}"), shop.key(), &json!({"amount": 990}))
        .header("If-Match", "\"7\"")
        .send()
        .await
        .unwrap();
    assert_error(stale, 412, "precondition_failed").await;
    let changed = shop
        .app
        .patch(
            &format!("/v1/prices/{id}"),
            shop.key(),
            &json!({"amount": 990, "priority": 3}),
        )
        .header("If-Match", "\"1\"")
        .expect(200)
        .await;
    assert_eq!(
        (changed["data"]["amount"].as_i64(), changed["data"]["version"].as_u64()),
        (Some(990), Some(2))
    );
    assert_error(
        shop.app
            .patch(&format!("/v1/prices/{id}"), shop.key(), &json!({"currency": "USD"}))
            .send()
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let listed = shop.get(&format!("/v1/prices?product_id={tee}&currency=EUR")).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert!(shop.get("/v1/prices?currency=USD").await["data"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_error(
        shop.app.get("/v1/prices?colour=red", shop.key()).send().await.unwrap(),
        422,
        "validation_failed",
    )
    .await;

    // Scopes and stores.
    let (_, reader) = shop.app.create_key(shop.key(), &["pricing:read"]).await;
    let (_, carts_only) = shop.app.create_key(shop.key(), &["carts:read"]).await;
    shop.app.get(&format!("/v1/prices/{id}"), &reader).expect(200).await;
    assert_error(
        shop.app
            .patch(&format!("/v1/prices/{id}"), &reader, &json!({"amount": 1}))
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_error(
        shop.app.get("/v1/prices", &carts_only).send().await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_error(
        shop.app
            .get(&format!("/v1/prices/{id}"), &shop.store.live_key)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    let elsewhere = shop.app.create_store().await;
    assert_error(
        shop.app
            .delete(&format!("/v1/prices/{id}"), &elsewhere.test_key)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;

    shop.app
        .delete(&format!("/v1/prices/{id}"), shop.key())
        .expect(204)
        .await;
    assert_error(
        shop.app
            .get(&format!("/v1/prices/{id}"), shop.key())
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    let types: Vec<String> = events(&shop.app, &shop.store.id, "test")
        .await
        .iter()
        .filter(|e| e["resource"]["id"] == id.as_str())
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types, ["price.created", "price.updated", "price.deleted"]);

    // A deleted product takes its prices with it.
    let capped = shop
        .price(json!({"product_id": other, "currency": "EUR", "amount": 400}))
        .await;
    shop.app
        .delete(&format!("/v1/products/{other}"), shop.key())
        .expect(204)
        .await;
    assert_error(
        shop.app
            .get(&format!("/v1/prices/{capped}"), shop.key())
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
}

/// Checkouts of 20 one-unit carts of `item` while `edit_path` is PATCHed with `body(amount)` in a loop between
/// 800 and 801: each either charges a price that was current while it ran, or fails with `price_changed`, taking no
/// stock and leaving its cart open; at least one overlaps an edit.
async fn checkouts_racing_price_edits(
    shop: &Shop,
    (product, variant): (&str, Option<&str>),
    edit_path: &str,
    body: impl Fn(i64) -> Value,
) {
    let mut carts = Vec::new();
    for _ in 0..20 {
        carts.push(shop.cart("EUR", None, &[(product, variant, 1)]).await);
    }
    let stock_item = variant.unwrap_or(product);
    let before = shop.get(&format!("/v1/inventory/{stock_item}")).await["data"]["available"]
        .as_i64()
        .unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    let editing = async {
        let mut amount = 800;
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            amount = if amount == 800 { 801 } else { 800 };
            shop.app.patch(edit_path, shop.key(), &body(amount)).expect(200).await;
        }
    };
    let checking_out = async {
        let mut outcomes = Vec::new();
        for cart in &carts {
            let body = json!({"cart_id": cart, "email": "g@example.com", "shipping_address": address()});
            let response = shop.app.post("/v1/checkout", shop.key(), &body).send().await.unwrap();
            let status = response.status().as_u16();
            outcomes.push((status, response.json::<Value>().await.unwrap()));
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        outcomes
    };
    let ((), outcomes) = tokio::join!(editing, checking_out);

    let mut sold = 0;
    let mut refused = 0;
    for ((status, body), cart) in outcomes.iter().zip(&carts) {
        match status {
            201 => {
                sold += 1;
                let unit = body["data"]["lines"][0]["unit_price"]["amount"].as_i64().unwrap();
                assert!(unit == 800 || unit == 801, "{body}");
                assert_eq!(body["data"]["total"]["amount"], unit);
            }
            409 => {
                assert_eq!(body["error"]["code"], "price_changed", "{body}");
                refused += 1;
                let still = shop.get(&format!("/v1/carts/{cart}")).await;
                assert_eq!(still["data"]["status"], "active");
            }
            other => panic!("checkout answered {other}: {body}"),
        }
    }
    assert!(refused > 0, "no checkout overlapped a price change in 20 tries");
    let available = shop.get(&format!("/v1/inventory/{stock_item}")).await["data"]["available"]
        .as_i64()
        .unwrap();
    assert_eq!(available, before - sold, "only the orders placed took stock");
}

#[tokio::test]
async fn a_price_changed_during_checkout_fails_it_with_nothing_taken() {
    let shop = Shop::open().await;
    let (tee, colours) = tee(&shop).await;
    let price = shop
        .price(json!({"product_id": tee, "currency": "EUR", "amount": 800}))
        .await;
    let edit = format!("/v1/prices/{price}");
    checkouts_racing_price_edits(
        &shop,
        (&tee, Some(&colours[0])),
        &edit,
        |amount| json!({"amount": amount}),
    )
    .await;
}

#[tokio::test]
async fn a_catalog_price_changed_during_checkout_fails_it_too() {
    let shop = Shop::open().await;
    let lamp = stocked(&shop, "Lamp", "EUR", 800, None).await;
    let edit = format!("/v1/products/{lamp}");
    let body = |amount| json!({"price": {"amount": amount, "currency": "EUR"}});
    checkouts_racing_price_edits(&shop, (&lamp, None), &edit, body).await;
}

/// A product at `amount` minor units of `currency`, active, with stock; its id.
async fn stocked(shop: &Shop, name: &str, currency: &str, amount: i64, tax_class: Option<&str>) -> String {
    let body = json!({"name": name, "status": "active", "price": {"amount": amount, "currency": currency},
                      "tax_class": tax_class, "stock": 100});
    shop.post("/v1/products", body).await["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_vat_inclusive_store_derives_the_net_per_line_and_checkout_keeps_the_tax() {
    let shop = Shop::open().await;
    let settings = json!({"prices_include_tax": true, "rates": [
        {"country": "FR", "rate": "20", "name": "TVA"},
        {"country": "FR", "tax_class": "reduced", "rate": "5.5"}
    ]});
    let saved = shop
        .app
        .put("/v1/tax-settings", shop.key(), &settings)
        .expect(200)
        .await;
    assert_eq!(saved["data"]["version"], 1);
    let wine = stocked(&shop, "Wine", "EUR", 1200, None).await;
    let book = stocked(&shop, "Book", "EUR", 1055, Some("reduced")).await;

    // Without an address there is no tax yet; with one, each line's net is derived from its gross.
    let cart = shop.cart("EUR", None, &[(&wine, None, 1), (&book, None, 2)]).await;
    let untaxed = shop.get(&format!("/v1/carts/{cart}")).await["data"].clone();
    assert_eq!(
        (
            untaxed["tax_calculated"].as_bool(),
            untaxed["tax_total"]["amount"].as_i64()
        ),
        (Some(false), Some(0))
    );
    assert_eq!(untaxed["total"]["amount"], 3310);
    let addressed = shop
        .app
        .patch(
            &format!("/v1/carts/{cart}"),
            shop.key(),
            &json!({"shipping_address": address()}),
        )
        .expect(200)
        .await["data"]
        .clone();
    let line = |i: usize, field: &str| addressed["items"][i][field].clone();
    assert_eq!(line(0, "tax_rate"), "20");
    assert_eq!(
        (
            line(0, "net")["amount"].as_i64(),
            line(0, "tax_amount")["amount"].as_i64()
        ),
        (Some(1000), Some(200))
    );
    assert_eq!(line(1, "tax_rate"), "5.5");
    assert_eq!(
        (
            line(1, "net")["amount"].as_i64(),
            line(1, "tax_amount")["amount"].as_i64()
        ),
        (Some(2000), Some(110))
    );
    assert_eq!(addressed["prices_include_tax"], true);
    assert_eq!(
        (
            addressed["subtotal"]["amount"].as_i64(),
            addressed["tax_total"]["amount"].as_i64(),
            addressed["total"]["amount"].as_i64()
        ),
        (Some(3310), Some(310), Some(3310))
    );

    // Checkout keeps each line's tax as charged.
    let order = shop
        .app
        .post(
            "/v1/checkout",
            shop.key(),
            &json!({"cart_id": cart, "email": "g@example.com", "shipping_address": address()}),
        )
        .expect(201)
        .await["data"]
        .clone();
    assert_eq!(
        (order["tax_total"]["amount"].as_i64(), order["total"]["amount"].as_i64()),
        (Some(310), Some(3310))
    );
    assert_eq!(order["lines"][1]["tax_rate"], "5.5");
    assert_eq!(order["lines"][1]["tax_amount"]["amount"], 110);
    assert_eq!(order["lines"][1]["net"]["amount"], 2000);

    // A tax-exempt customer pays the net.
    let exempt = shop
        .post("/v1/customers", json!({"email": "ngo@example.com", "tax_exempt": true}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let exempt_cart = shop.cart("EUR", Some(&exempt), &[(&wine, None, 1)]).await;
    let priced = shop
        .app
        .patch(
            &format!("/v1/carts/{exempt_cart}"),
            shop.key(),
            &json!({"shipping_address": address()}),
        )
        .expect(200)
        .await["data"]
        .clone();
    assert_eq!(
        (
            priced["tax_total"]["amount"].as_i64(),
            priced["total"]["amount"].as_i64()
        ),
        (Some(0), Some(1000))
    );
}

#[tokio::test]
async fn a_sales_tax_store_adds_the_region_rate_and_checks_its_settings() {
    let shop = Shop::open().await;
    let settings = json!({"prices_include_tax": false, "rates": [
        {"country": "US", "rate": "5"},
        {"country": "US", "region": "NY", "rate": "8.875"}
    ]});
    shop.app
        .put("/v1/tax-settings", shop.key(), &settings)
        .expect(200)
        .await;
    let mug = stocked(&shop, "Mug", "USD", 108, None).await;
    let taxed_in = |region: &'static str| {
        let shop = &shop;
        let mug = mug.clone();
        async move {
            let cart = shop.cart("USD", None, &[(&mug, None, 3)]).await;
            let address = json!({"line1": "1 Main St", "city": "Somewhere", "region": region, "country": "US"});
            shop.app
                .patch(
                    &format!("/v1/carts/{cart}"),
                    shop.key(),
                    &json!({"shipping_address": address}),
                )
                .expect(200)
                .await["data"]
                .clone()
        }
    };
    // 3 × 1.08 = 3.24: at 8.875 % 0.28755 → 0.29 (one rounding for the line); at 5 % 0.162 → 0.16.
    let ny = taxed_in("ny").await;
    assert_eq!(
        (ny["items"][0]["tax_rate"].as_str(), ny["tax_total"]["amount"].as_i64()),
        (Some("8.875"), Some(29))
    );
    assert_eq!(
        (ny["subtotal"]["amount"].as_i64(), ny["total"]["amount"].as_i64()),
        (Some(324), Some(353))
    );
    let ca = taxed_in("CA").await;
    assert_eq!(
        (ca["tax_total"]["amount"].as_i64(), ca["total"]["amount"].as_i64()),
        (Some(16), Some(340))
    );

    // Settings are checked whole, versioned, and need their scope.
    let current = shop.get("/v1/tax-settings").await;
    assert_eq!(current["data"]["rates"].as_array().unwrap().len(), 2);
    let bad = json!({"prices_include_tax": false, "rates": [{"country": "USA", "rate": "5"}, {"country": "US", "rate": "101"}]});
    let refused = assert_error(
        shop.app.put("/v1/tax-settings", shop.key(), &bad).send().await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = refused["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["rates[0].country", "rates[1].rate"]);
    let stale = shop
        .app
        .put("/v1/tax-settings", shop.key(), &settings)
        .header("If-Match", "\"9\"")
        .send()
        .await
        .unwrap();
    assert_error(stale, 412, "precondition_failed").await;
    let (_, reader) = shop.app.create_key(shop.key(), &["pricing:read"]).await;
    assert_error(
        shop.app
            .put("/v1/tax-settings", &reader, &settings)
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        shop.app.get("/v1/tax-settings", &shop.store.live_key).expect(200).await["data"]["version"],
        0
    );
}

#[tokio::test]
async fn shipping_by_weight_is_required_taxed_and_kept_on_the_order() {
    let shop = Shop::open().await;
    let settings =
        json!({"prices_include_tax": false, "tax_shipping": true, "rates": [{"country": "FR", "rate": "20"}]});
    shop.app
        .put("/v1/tax-settings", shop.key(), &settings)
        .expect(200)
        .await;
    let zone = shop
        .post(
            "/v1/shipping-zones",
            json!({"name": "France", "countries": ["FR"], "options": [
                {"name": "Colissimo", "currency": "EUR", "rate": {"type": "weight", "bands": [
                    {"from": 0, "amount": 500}, {"from": 2000, "amount": 900}]}},
                {"name": "Free over 100", "currency": "EUR", "rate": {"type": "subtotal", "bands": [{"from": 10000, "amount": 0}]}}
            ]}),
        )
        .await;
    let zone_id = zone["id"].as_str().unwrap().to_owned();
    let colissimo = zone["options"][0]["id"].as_str().unwrap().to_owned();
    let body = json!({"name": "Teapot", "status": "active", "price": {"amount": 1000, "currency": "EUR"},
                      "weight_grams": 700, "stock": 100});
    let teapot = shop.post("/v1/products", body).await["id"].as_str().unwrap().to_owned();
    let ebook = json!({"name": "E-book", "type": "digital", "status": "active", "price": {"amount": 500, "currency": "EUR"}, "stock": 100});
    let ebook = shop.post("/v1/products", ebook).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // 3 teapots weigh 2,100 g: the second weight band; 30.00 does not reach the free band.
    let cart = shop.cart("EUR", None, &[(&teapot, None, 3)]).await;
    let options_url = format!("/v1/carts/{cart}/shipping-options");
    let no_address = shop.app.get(&options_url, shop.key()).send().await.unwrap();
    assert_error(no_address, 422, "validation_failed").await;
    shop.app
        .patch(
            &format!("/v1/carts/{cart}"),
            shop.key(),
            &json!({"shipping_address": address()}),
        )
        .expect(200)
        .await;
    let options = shop.get(&options_url).await["data"].clone();
    let quoted: Vec<(&str, i64)> = options
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap(), o["amount"]["amount"].as_i64().unwrap()))
        .collect();
    assert_eq!(quoted, [("Colissimo", 900)]);

    // Checkout needs an option for physical products; one that does not apply is refused.
    let checkout = |cart: &str, option: Option<&str>| json!({"cart_id": cart, "email": "g@example.com", "shipping_address": address(), "shipping_option_id": option});
    let missing = shop
        .app
        .post("/v1/checkout", shop.key(), &checkout(&cart, None))
        .send()
        .await
        .unwrap();
    assert_error(missing, 422, "shipping_option_required").await;
    let free = zone["options"][1]["id"].as_str().unwrap();
    let unavailable = shop
        .app
        .post("/v1/checkout", shop.key(), &checkout(&cart, Some(free)))
        .send()
        .await
        .unwrap();
    assert_error(unavailable, 422, "shipping_option_unavailable").await;

    // Chosen on the cart: shipping 9.00 + 20 % = 10.80; lines 30.00 + 6.00.
    let chosen = shop
        .app
        .patch(
            &format!("/v1/carts/{cart}"),
            shop.key(),
            &json!({"shipping_option_id": colissimo}),
        )
        .expect(200)
        .await["data"]
        .clone();
    assert_eq!(chosen["shipping_required"], true);
    assert_eq!(chosen["shipping"]["gross"]["amount"], 1080);
    assert_eq!(
        (
            chosen["shipping_total"]["amount"].as_i64(),
            chosen["tax_total"]["amount"].as_i64(),
            chosen["total"]["amount"].as_i64()
        ),
        (Some(900), Some(780), Some(4680))
    );
    let order = shop
        .app
        .post("/v1/checkout", shop.key(), &checkout(&cart, None))
        .expect(201)
        .await["data"]
        .clone();
    assert_eq!(order["shipping"]["option_id"], colissimo.as_str());
    assert_eq!(order["shipping"]["tax_amount"]["amount"], 180);
    assert_eq!(
        (
            order["shipping_total"]["amount"].as_i64(),
            order["total"]["amount"].as_i64()
        ),
        (Some(900), Some(4680))
    );

    // A digital-only cart needs no shipping.
    let digital = shop.cart("EUR", None, &[(&ebook, None, 1)]).await;
    let order = shop
        .app
        .post("/v1/checkout", shop.key(), &checkout(&digital, None))
        .expect(201)
        .await["data"]
        .clone();
    assert_eq!(order["total"]["amount"], 600);
    assert!(order["shipping"].is_null());

    // Zones are versioned, checked and scoped.
    let zone_url = format!("/v1/shipping-zones/{zone_id}");
    let stale = shop
        .app
        .patch(&zone_url, shop.key(), &json!({"name": "FR"}))
        .header("If-Match", "\"5\"")
        .send()
        .await
        .unwrap();
    assert_error(stale, 412, "precondition_failed").await;
    let renamed = shop
        .app
        .patch(&zone_url, shop.key(), &json!({"name": "Metropole"}))
        .expect(200)
        .await;
    assert_eq!(
        (renamed["data"]["name"].as_str(), renamed["data"]["version"].as_u64()),
        (Some("Metropole"), Some(2))
    );
    let bad = json!({"name": "x", "countries": ["FRA"], "options": []});
    assert_error(
        shop.app
            .post("/v1/shipping-zones", shop.key(), &bad)
            .send()
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let (_, reader) = shop.app.create_key(shop.key(), &["pricing:read"]).await;
    assert_error(
        shop.app.delete(&zone_url, &reader).send().await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    let elsewhere = shop.app.create_store().await;
    assert_error(
        shop.app.get(&zone_url, &elsewhere.test_key).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_eq!(shop.get("/v1/shipping-zones").await["meta"]["pagination"]["total"], 1);
    shop.app.delete(&zone_url, shop.key()).expect(204).await;
    assert_error(
        shop.app.get(&zone_url, shop.key()).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn price_modifiers_adjust_resolved_prices_in_order() {
    let shop = Shop::open().await;
    let sale = shop.post("/v1/categories", json!({"name": "Sale"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let vip = shop.post("/v1/customer-groups", json!({"name": "VIP"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let buyer = shop
        .post("/v1/customers", json!({"email": "vip@example.com", "group_ids": [vip]}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"name": "Lamp", "status": "active", "price": {"amount": 1000, "currency": "EUR"},
                      "category_ids": [sale], "stock": 10});
    let lamp = shop.post("/v1/products", body).await["id"].as_str().unwrap().to_owned();
    let handling = shop
        .post(
            "/v1/price-modifiers",
            json!({"name": "Handling", "kind": "fixed", "value": 50, "currency": "EUR"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sale_off = shop
        .post(
            "/v1/price-modifiers",
            json!({"name": "Sale", "kind": "percentage", "value": -1000, "category_id": sale, "priority": 1}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let vip_off = shop
        .post(
            "/v1/price-modifiers",
            json!({"name": "VIP", "kind": "percentage", "value": -500, "customer_group_id": vip, "priority": 2}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A guest: 10.00 + 0.50, then -10 % = 9.45; the VIP: then -5 % = 8.9775 → 8.98.
    let line = |cart: Value| cart["data"]["items"][0].clone();
    let guest = shop.cart("EUR", None, &[(&lamp, None, 1)]).await;
    let priced = line(shop.get(&format!("/v1/carts/{guest}")).await);
    assert_eq!(priced["unit_price"]["amount"], 945);
    assert_eq!(priced["price_modifier_ids"], json!([handling, sale_off]));
    let member = shop.cart("EUR", Some(&buyer), &[(&lamp, None, 2)]).await;
    let priced = line(shop.get(&format!("/v1/carts/{member}")).await);
    assert_eq!(
        (
            priced["unit_price"]["amount"].as_i64(),
            priced["total"]["amount"].as_i64()
        ),
        (Some(898), Some(1796))
    );
    let order = shop
        .app
        .post(
            "/v1/checkout",
            shop.key(),
            &json!({"cart_id": member, "customer_id": buyer, "shipping_address": address()}),
        )
        .expect(201)
        .await["data"]
        .clone();
    assert_eq!(order["total"]["amount"], 1796);
    assert_eq!(
        order["lines"][0]["price_modifier_ids"],
        json!([handling, sale_off, vip_off]),
        "the order line keeps the modifiers it was charged with"
    );

    // Checked, versioned, listed with a total, scoped to the store.
    let bad = json!({"name": "x", "kind": "percentage", "value": 10, "currency": "EUR"});
    assert_error(
        shop.app
            .post("/v1/price-modifiers", shop.key(), &bad)
            .send()
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let url = format!("/v1/price-modifiers/{vip_off}");
    let stale = shop
        .app
        .patch(&url, shop.key(), &json!({"value": -700}))
        .header("If-Match", "\"3\"")
        .send()
        .await
        .unwrap();
    assert_error(stale, 412, "precondition_failed").await;
    let deeper = shop
        .app
        .patch(&url, shop.key(), &json!({"value": -700}))
        .header("If-Match", "\"1\"")
        .expect(200)
        .await;
    assert_eq!(deeper["data"]["version"], 2);
    assert_eq!(shop.get("/v1/price-modifiers").await["meta"]["pagination"]["total"], 3);
    let elsewhere = shop.app.create_store().await;
    assert_error(
        shop.app.get(&url, &elsewhere.test_key).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    shop.app.delete(&url, shop.key()).expect(204).await;
    let priced = line(shop.get(&format!("/v1/carts/{member}")).await);
    assert_eq!(priced["unit_price"]["amount"], 945);
}

/// A refund by line returns the units' share of what the line was charged (its stored gross and tax, never
/// recomputed from today's prices or rates), the shipping once, and restocks only the refunded units; parts of a
/// line add up to exactly its gross.
#[tokio::test]
async fn an_order_is_refunded_by_line_at_what_each_line_was_charged() {
    let shop = Shop::open().await;
    let settings =
        json!({"prices_include_tax": true, "tax_shipping": true, "rates": [{"country": "FR", "rate": "20"}]});
    shop.app
        .put("/v1/tax-settings", shop.key(), &settings)
        .expect(200)
        .await;
    let zone = json!({"name": "France", "countries": ["FR"], "options": [
        {"name": "Colissimo", "currency": "EUR", "rate": {"type": "flat", "amount": 600}}]});
    let option = shop.post("/v1/shipping-zones", zone).await["options"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let wine = stocked(&shop, "Wine", "EUR", 1000, None).await;
    let cart = shop.cart("EUR", None, &[(&wine, None, 3)]).await;
    let body =
        json!({"cart_id": cart, "email": "g@example.com", "shipping_address": address(), "shipping_option_id": option});
    let order = shop.post("/v1/checkout", body).await;
    assert_eq!(order["total"]["amount"], 3600);
    let line = order["lines"][0].clone();
    assert_eq!(
        (line["gross"]["amount"].as_i64(), line["tax_amount"]["amount"].as_i64()),
        (Some(3000), Some(500))
    );
    let id = order["id"].as_str().unwrap();
    cartwheel_tests::pay(&shop.app, &shop.store.id, &order).await;

    // The rate changes after the sale: refunds still return what was charged.
    let settings = json!({"prices_include_tax": true, "rates": [{"country": "FR", "rate": "5"}]});
    shop.app
        .put("/v1/tax-settings", shop.key(), &settings)
        .expect(200)
        .await;
    let refunds = format!("/v1/orders/{id}/refunds");
    let units = |quantity: u32, shipping: bool, restock: bool| {
        json!({"lines": [{"line_id": line["id"], "quantity": quantity}], "shipping": shipping,
               "reason": "returned", "restock": restock})
    };
    let first = shop.post(&refunds, units(1, true, true)).await;
    assert_eq!(first["amount"]["amount"], 1000 + 600);
    assert_eq!(first["shipping"]["amount"], 600);
    assert_eq!(
        (
            first["lines"][0]["amount"]["amount"].as_i64(),
            first["lines"][0]["tax_amount"]["amount"].as_i64()
        ),
        (Some(1000), Some(166))
    );
    let stock = shop.get(&format!("/v1/inventory/{wine}")).await["data"]["available"].as_i64();
    assert_eq!(stock, Some(98), "only the refunded unit is back");

    // Refused: the shipping twice, more units than are left, a line of another order, an amount beside lines.
    for (body, field) in [
        (json!({"shipping": true, "reason": "again"}), "shipping"),
        (units(3, false, false), "lines[0].quantity"),
        (
            json!({"lines": [{"line_id": "oli_01JD3M5W7Q6V8X9Y0Z1A2B3C4D", "quantity": 1}], "reason": "x"}),
            "lines[0].line_id",
        ),
        (json!({"amount": 100, "lines": [], "reason": "x"}), "amount"),
    ] {
        let refused = shop.app.post(&refunds, shop.key(), &body).send().await.unwrap();
        let error = assert_error(refused, 422, "validation_failed").await;
        assert_eq!(error["error"]["details"][0]["field"], field, "{body}");
    }

    let rest = shop.post(&refunds, units(2, false, false)).await;
    assert_eq!(
        (
            rest["lines"][0]["amount"]["amount"].as_i64(),
            rest["lines"][0]["tax_amount"]["amount"].as_i64()
        ),
        (Some(2000), Some(334)),
        "the parts add up to the line's gross and tax"
    );
    let refunded = shop.get(&format!("/v1/orders/{id}")).await["data"].clone();
    assert_eq!(refunded["refunded_total"]["amount"], 3600);
    assert_eq!(refunded["payment_status"], "refunded");
    assert_eq!(refunded["lines"][0]["refunded_quantity"], 3);
    assert_eq!(refunded["shipping_refunded"], true);
}
