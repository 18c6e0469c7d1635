//! Regression tests for the security review (issue 14): each test fails on the code before its fix.

use cartwheel_tests::{assert_error, spawn_app, spawn_app_with, Expect, Options, TestApp, PLATFORM_KEY};
use serde_json::{json, Value};

/// Every item of the table whose partition key starts with one of `prefixes`, as text (a test-only scan).
async fn items_under(app: &TestApp, prefixes: &[&str]) -> Vec<String> {
    let dynamodb = aws_sdk_dynamodb::Client::new(&app.sdk);
    let mut found = Vec::new();
    let mut start = None;
    loop {
        let output = dynamodb
            .scan()
            .table_name(&app.state.config.table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in output.items() {
            let pk = item.get("PK").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            if prefixes.iter().any(|p| pk.starts_with(p)) {
                found.push(format!("{item:?}"));
            }
        }
        start = output.last_evaluated_key().cloned();
        if start.is_none() {
            return found;
        }
    }
}

async fn loopback_app() -> TestApp {
    spawn_app_with(Options {
        allow_loopback: true,
        ..Default::default()
    })
    .await
}

fn idempotent_post(
    app: &TestApp,
    path: &str,
    key: &str,
    idempotency_key: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    app.post(path, key, body).header("idempotency-key", idempotency_key)
}

#[tokio::test]
async fn onboarding_is_never_replayed_to_a_caller_without_the_platform_key() {
    let app = spawn_app().await;
    let body = json!({"name": "victim-store"});
    let idempotency_key = format!("onboard-{}", cartwheel::ids::EventId::new());
    let first = idempotent_post(&app, "/v1/platform/stores", PLATFORM_KEY, &idempotency_key, &body)
        .expect(201)
        .await;
    let store_id = first["data"]["store"]["id"].as_str().unwrap().to_owned();

    let anonymous = app
        .http
        .post(format!("{}/v1/platform/stores", app.url))
        .header("idempotency-key", &idempotency_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(anonymous.headers().get("idempotent-replayed").is_none());
    assert_error(anonymous, 401, "unauthorized").await;
    let wrong = idempotent_post(&app, "/v1/platform/stores", "wrong", &idempotency_key, &body)
        .send()
        .await
        .unwrap();
    assert!(wrong.headers().get("idempotent-replayed").is_none());
    assert_error(wrong, 401, "unauthorized").await;

    // The other way round: an attacker's 401 under a key is not what the operator gets.
    let later = format!("onboard-{}", cartwheel::ids::EventId::new());
    idempotent_post(&app, "/v1/platform/stores", "cwp_guess", &later, &body)
        .expect(401)
        .await;
    let operator = idempotent_post(&app, "/v1/platform/stores", PLATFORM_KEY, &later, &body)
        .send()
        .await
        .unwrap();
    assert_eq!(operator.status(), 201);

    // The operator's own repeat learns the store was made, not its keys.
    let repeat = idempotent_post(&app, "/v1/platform/stores", PLATFORM_KEY, &idempotency_key, &body)
        .send()
        .await
        .unwrap();
    assert_eq!(repeat.headers()["idempotent-replayed"], "true");
    let repeat = assert_error(repeat, 409, "secret_already_shown").await;
    let message = repeat["error"]["message"].as_str().unwrap();
    assert!(message.contains(&store_id), "{message}");
    assert!(!repeat.to_string().contains("ck_live_"), "{repeat}");
}

#[tokio::test]
async fn a_key_never_replays_another_keys_post() {
    let app = loopback_app().await;
    let store = app.create_store().await;
    let (_, read_only) = app.create_key(&store.test_key, &["read_only"]).await;
    let body = json!({"name": "ci", "scopes": ["full"]});

    let owner = idempotent_post(&app, "/v1/api-keys", &store.test_key, "mint-1", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(owner.status(), 201);
    let thief = idempotent_post(&app, "/v1/api-keys", &read_only, "mint-1", &body)
        .send()
        .await
        .unwrap();
    assert!(thief.headers().get("idempotent-replayed").is_none());
    assert_error(thief, 403, "forbidden").await;

    // A low-privilege key claiming a key first does not hand its 403 to the owner.
    idempotent_post(&app, "/v1/api-keys", &read_only, "mint-2", &body)
        .expect(403)
        .await;
    let owner = idempotent_post(&app, "/v1/api-keys", &store.test_key, "mint-2", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(owner.status(), 201);
    assert!(owner.headers().get("idempotent-replayed").is_none());

    // Webhook endpoints and their rotated secrets, the same way.
    let (_, manager) = app.create_key(&store.test_key, &["webhooks:manage"]).await;
    let endpoint = json!({"url": "http://127.0.0.1:9/hook", "events": ["order.created"]});
    let created = idempotent_post(&app, "/v1/webhooks", &store.test_key, "hook-1", &endpoint)
        .expect(201)
        .await;
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    for key in [&read_only, &manager] {
        let again = idempotent_post(&app, "/v1/webhooks", key, "hook-1", &endpoint)
            .send()
            .await
            .unwrap();
        assert!(again.headers().get("idempotent-replayed").is_none());
        if key == &manager {
            // A new request of its own: a second endpoint, with a secret of its own.
            assert_eq!(again.status(), 201);
            let again: Value = again.json().await.unwrap();
            assert_ne!(again["data"]["secret"], created["data"]["secret"]);
        } else {
            assert_eq!(again.status(), 403);
        }
    }
    let path = format!("/v1/webhooks/{id}/rotate-secret");
    idempotent_post(&app, &path, &store.test_key, "rotate-1", &json!({}))
        .expect(200)
        .await;
    let stolen = idempotent_post(&app, &path, &read_only, "rotate-1", &json!({}))
        .send()
        .await
        .unwrap();
    assert_error(stolen, 403, "forbidden").await;
}

#[tokio::test]
async fn secrets_are_not_kept_by_the_idempotency_records() {
    let app = loopback_app().await;
    let onboarding = format!("onboard-{}", cartwheel::ids::EventId::new());
    let created = idempotent_post(
        &app,
        "/v1/platform/stores",
        PLATFORM_KEY,
        &onboarding,
        &json!({"name": "s"}),
    )
    .send()
    .await
    .unwrap();
    let created: Value = created.json().await.unwrap();
    let key = created["data"]["test_key"]["secret"].as_str().unwrap().to_owned();
    let store_id = created["data"]["store"]["id"].as_str().unwrap().to_owned();

    let minted = idempotent_post(
        &app,
        "/v1/api-keys",
        &key,
        "mint",
        &json!({"name": "a", "scopes": ["full"]}),
    )
    .send()
    .await
    .unwrap();
    let minted: Value = minted.json().await.unwrap();
    let endpoint = json!({"url": "http://127.0.0.1:9/hook", "events": ["order.created"]});
    let hook = idempotent_post(&app, "/v1/webhooks", &key, "hook", &endpoint)
        .send()
        .await
        .unwrap();
    let hook: Value = hook.json().await.unwrap();
    let rotate = format!("/v1/webhooks/{}/rotate-secret", hook["data"]["id"].as_str().unwrap());
    let rotated = idempotent_post(&app, &rotate, &key, "rotate", &json!({}))
        .send()
        .await
        .unwrap();
    let rotated: Value = rotated.json().await.unwrap();

    let secrets = [
        created["data"]["live_key"]["secret"].as_str().unwrap(),
        &key,
        minted["data"]["secret"].as_str().unwrap(),
        hook["data"]["secret"].as_str().unwrap(),
        rotated["data"]["secret"].as_str().unwrap(),
    ];
    let items = items_under(&app, &[&format!("S#{store_id}#"), "PLATFORM#"]).await;
    let idempotency_items: Vec<_> = items.iter().filter(|i| i.contains("IDEM#")).collect();
    assert!(idempotency_items.len() >= 4, "{idempotency_items:?}");
    for item in &items {
        for secret in secrets {
            assert!(!item.contains(secret), "a secret is stored in plaintext: {item}");
        }
    }
    // Each repeat says what happened instead.
    for (path, body, idem) in [
        ("/v1/api-keys", json!({"name": "a", "scopes": ["full"]}), "mint"),
        ("/v1/webhooks", endpoint.clone(), "hook"),
        (rotate.as_str(), json!({}), "rotate"),
    ] {
        let repeat = idempotent_post(&app, path, &key, idem, &body).send().await.unwrap();
        assert_eq!(repeat.headers()["idempotent-replayed"], "true");
        assert_error(repeat, 409, "secret_already_shown").await;
    }
}

#[tokio::test]
async fn revoking_needs_every_scope_of_the_target_and_the_platform_can_mint_a_way_back() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let (_, manager) = app
        .create_key(&store.test_key, &["api_keys:manage", "products:read"])
        .await;
    let (full_id, _) = app.create_key(&store.test_key, &["full"]).await;
    let response = app
        .delete(&format!("/v1/api-keys/{full_id}"), &manager)
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "forbidden").await;
    let (narrow_id, _) = app.create_key(&store.test_key, &["products:read"]).await;
    app.delete(&format!("/v1/api-keys/{narrow_id}"), &manager)
        .expect(204)
        .await;

    // The platform operator mints a full key for a store that lost its own.
    let path = format!("/v1/platform/stores/{}/api-keys", store.id);
    let body = json!({"mode": "live", "name": "recovery", "scopes": ["full"]});
    let response = app.post(&path, &store.live_key, &body).send().await.unwrap();
    assert_error(response, 401, "unauthorized").await;
    let minted = app.post(&path, PLATFORM_KEY, &body).expect(201).await;
    let secret = minted["data"]["secret"].as_str().unwrap();
    assert!(secret.starts_with("ck_live_"));
    assert_eq!(app.get("/v1/api-keys", secret).send().await.unwrap().status(), 200);
    let missing = app
        .post(
            "/v1/platform/stores/st_01JD3M5W7Q6V8X9Y0Z1A2B3C4D/api-keys",
            PLATFORM_KEY,
            &body,
        )
        .send()
        .await
        .unwrap();
    assert_error(missing, 404, "not_found").await;
}

#[tokio::test]
async fn a_store_holds_a_bounded_number_of_keys() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    // The onboarding key counts: 24 more fill the cap of 25.
    for _ in 1..cartwheel::db::MAX_ACTIVE_API_KEYS {
        app.create_key(&store.test_key, &["products:read"]).await;
    }
    let body = json!({"name": "one too many", "scopes": ["products:read"]});
    let response = app.post("/v1/api-keys", &store.test_key, &body).send().await.unwrap();
    assert_error(response, 409, "api_key_limit_reached").await;
    // The other mode has a cap of its own, and revoking frees a place.
    assert_eq!(
        app.post("/v1/api-keys", &store.live_key, &body)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let listed: Value = app
        .get("/v1/api-keys?limit=100", &store.test_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let victim = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] != store.test_key_id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(&format!("/v1/api-keys/{victim}"), &store.test_key)
        .expect(204)
        .await;
    assert_eq!(
        app.post("/v1/api-keys", &store.test_key, &body)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
}

/// A cursor holding `key`, encoded as the API encodes its own.
fn forged_cursor(key: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.to_string())
}

#[tokio::test]
async fn client_input_never_ends_in_a_server_error() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let key = &store.test_key;

    // Money that would overflow, and stock deltas that would panic.
    let huge = json!({"name": "Yacht", "price": {"amount": 1_i64 << 62, "currency": "USD"}});
    let response = app.post("/v1/products", key, &huge).send().await.unwrap();
    assert_error(response, 422, "validation_failed").await;
    let mug = json!({"name": "Mug", "price": {"amount": 500, "currency": "USD"}});
    let product: Value = app
        .post("/v1/products", key, &mug)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let product = product["data"]["id"].as_str().unwrap().to_owned();
    let adjust = format!("/v1/inventory/{product}/adjust");
    let response = app
        .post(&adjust, key, &json!({"delta": i64::MIN, "reason": "restock"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 422, "validation_failed").await;

    // Keys longer than DynamoDB takes.
    let long_number = format!("ORD-2026-{}", "9".repeat(3000));
    for path in ["", "/fulfillments", "/refunds"] {
        let response = app
            .get(&format!("/v1/orders/{long_number}{path}"), key)
            .send()
            .await
            .unwrap();
        assert_error(response, 404, "not_found").await;
    }
    let response = app
        .get(&format!("/v1/products?sku={}", "A".repeat(2100)), key)
        .send()
        .await
        .unwrap();
    assert_error(response, 422, "validation_failed").await;
    let response = app
        .get(&format!("/v1/search?q={}", "a".repeat(3000)), key)
        .send()
        .await
        .unwrap();
    assert_error(response, 422, "validation_failed").await;

    // A product too large for one record.
    let localized: serde_json::Map<String, Value> =
        ["en", "fr", "de", "es", "it", "nl", "pt", "pl", "sv", "da", "fi", "cs"]
            .iter()
            .map(|locale| ((*locale).to_owned(), json!({"description": "é".repeat(19_000)})))
            .collect();
    let body = json!({"name": "Huge", "price": {"amount": 1, "currency": "USD"}, "localized": localized});
    let response = app.post("/v1/products", key, &body).send().await.unwrap();
    assert_error(response, 422, "validation_failed").await;

    // Cursors forged inside one's own store.
    let mine = format!("S#{}#test#", store.id);
    let forgeries = [
        json!({"PK": format!("{mine}APIKEYS")}),
        json!({"PK": format!("{mine}APIKEYS"), "SK": "APIKEY#x", "extra": "1"}),
        json!({"PK": mine.clone(), "SK": "x"}),
        json!({"PK": format!("{mine}PRODUCT#x"), "SK": "x", "GSI1PK": format!("{mine}X"), "GSI1SK": "x", "GSI2PK": format!("{mine}Y")}),
    ];
    let webhooks_list = "/v1/webhooks";
    let lists = [
        "/v1/api-keys",
        "/v1/products",
        "/v1/orders",
        "/v1/customers",
        "/v1/categories",
        "/v1/brands",
        webhooks_list,
        "/v1/warehouses",
    ];
    for list in lists {
        for forged in &forgeries {
            let path = format!("{list}?cursor={}", forged_cursor(forged));
            let response = app.get(&path, key).send().await.unwrap();
            assert!(response.status().as_u16() < 500, "{path}: {}", response.status());
        }
    }
    let missing_sort_key = format!("/v1/api-keys?cursor={}", forged_cursor(&forgeries[0]));
    assert_error(
        app.get(&missing_sort_key, key).send().await.unwrap(),
        400,
        "bad_request",
    )
    .await;

    // A payment event id far longer than any provider's.
    let callback = json!({"id": "e".repeat(3000), "type": "payment_intent.payment_failed", "data": {"object": {
        "id": "pi_1", "amount": 1, "currency": "usd",
        "metadata": {"order_id": "ord_01JD3M5W7Q6V8X9Y0Z1A2B3C4D", "store_id": store.id}}}})
    .to_string();
    let signature = app
        .payments
        .as_ref()
        .unwrap()
        .sign(cartwheel::time::now().unix_timestamp(), callback.as_bytes());
    let response = app
        .http
        .post(format!("{}/v1/payments/webhook", app.url))
        .header("Payment-Signature", signature)
        .header("content-type", "application/json")
        .body(callback)
        .send()
        .await
        .unwrap();
    assert_error(response, 422, "validation_failed").await;
}

#[tokio::test]
async fn ssrf_gaps_are_closed_and_refusals_reveal_no_address() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    for url in [
        "https://[::a9fe:a9fe]/hook",
        "https://[::10.0.0.1]/hook",
        "https://[::ffff:0:a9fe:a9fe]/hook",
        "https://[2001::1]/hook",
        "https://[fec0::1]/hook",
        "https://[100::1]/hook",
        "https://198.18.0.1/hook",
        "https://localhost/hook",
        "https://no-such-host.invalid/hook",
    ] {
        let body = json!({"url": url, "events": ["order.created"]});
        let response = app.post("/v1/webhooks", &store.test_key, &body).send().await.unwrap();
        let error = assert_error(response, 422, "validation_failed").await;
        let message = error["error"]["details"][0]["message"].as_str().unwrap();
        assert_eq!(
            message, "the host is not allowed: it must resolve to public addresses only",
            "{url}"
        );
    }
}

async fn create_category(app: &TestApp, key: &str, name: &str) -> String {
    let created: Value = app
        .post("/v1/categories", key, &json!({"name": name}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["data"]["id"].as_str().unwrap().to_owned()
}

async fn move_category(app: &TestApp, key: &str, id: &str, parent: &str) -> u16 {
    let response = app
        .http
        .patch(format!("{}/v1/categories/{id}", app.url))
        .bearer_auth(key)
        .json(&json!({"parent_id": parent}))
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

async fn parent_of(app: &TestApp, key: &str, id: &str) -> Option<String> {
    let body: Value = app
        .get(&format!("/v1/categories/{id}"), key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]["parent_id"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn concurrent_moves_never_make_a_category_cycle() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let key = store.test_key.as_str();
    for _ in 0..5 {
        let (x, y) = (
            create_category(&app, key, "X").await,
            create_category(&app, key, "Y").await,
        );
        let statuses = tokio::join!(move_category(&app, key, &x, &y), move_category(&app, key, &y, &x));
        let statuses = [statuses.0, statuses.1];
        assert!(statuses.iter().filter(|s| **s == 200).count() <= 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s < 500), "{statuses:?}");
        let (px, py) = (parent_of(&app, key, &x).await, parent_of(&app, key, &y).await);
        assert!(
            !(px.as_deref() == Some(y.as_str()) && py.as_deref() == Some(x.as_str())),
            "a cycle: {x} <-> {y}"
        );
    }
}

#[tokio::test]
async fn stock_is_adjusted_only_for_variants_that_exist() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let key = &store.test_key;
    let response = app
        .post(
            "/v1/inventory/var_01JD3M5W7Q6V8X9Y0Z1A2B3C4D/adjust",
            key,
            &json!({"delta": 5, "reason": "restock"}),
        )
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "not_found").await;
    let body = json!({"name": "Tee", "price": {"amount": 1500, "currency": "USD"},
                      "options": [{"name": "Size", "values": ["S", "M"]}]});
    let product: Value = app
        .post("/v1/products", key, &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let product = product["data"]["id"].as_str().unwrap().to_owned();
    let generated: Value = app
        .post(&format!("/v1/products/{product}/variants/generate"), key, &json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let variant = generated["data"][0]["id"].as_str().unwrap().to_owned();
    let adjust = format!("/v1/inventory/{variant}/adjust");
    app.post(&adjust, key, &json!({"delta": 5, "reason": "restock"}))
        .expect(200)
        .await;
    app.delete(&format!("/v1/products/{product}/variants/{variant}"), key)
        .expect(204)
        .await;
    let response = app
        .post(&adjust, key, &json!({"delta": 5, "reason": "restock"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "not_found").await;
}

/// Creates one named resource per number of `range` at `path`, then finds the next one refused with `code`.
async fn fill_to_the_cap(app: &TestApp, key: &str, path: &str, range: std::ops::Range<u32>, code: &str) {
    for n in range {
        let response = app
            .post(path, key, &json!({"name": format!("N{n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{path} #{n}");
    }
    let response = app
        .post(path, key, &json!({"name": "one too many"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 409, code).await;
}

#[tokio::test]
async fn warehouses_customer_groups_and_deep_pages_are_bounded() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let key = &store.test_key;
    // The default warehouse counts: 49 more fill the cap of 50.
    fill_to_the_cap(
        &app,
        key,
        "/v1/warehouses",
        1..cartwheel::db::MAX_WAREHOUSES,
        "warehouse_limit_reached",
    )
    .await;
    fill_to_the_cap(
        &app,
        key,
        "/v1/customer-groups",
        0..cartwheel::db::MAX_CUSTOMER_GROUPS,
        "customer_group_limit_reached",
    )
    .await;

    let response = app.get("/v1/products?page=50&limit=100", key).send().await.unwrap();
    assert_error(response, 422, "validation_failed").await;
    app.get("/v1/products?page=10&limit=100", key).expect(200).await;
}

#[tokio::test]
async fn small_input_gaps_are_closed() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let key = &store.test_key;
    let raw = |path: &str, body: &'static str| {
        app.http
            .post(format!("{}{path}", app.url))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let trailing = raw("/v1/customer-groups", r#"{"name": "VIP"}xx"#).await.unwrap();
    assert_error(trailing, 400, "bad_request").await;
    let nul = raw("/v1/customer-groups", r#"{"name": "V\u0000IP"}"#).await.unwrap();
    let body = assert_error(nul, 422, "validation_failed").await;
    assert_eq!(body["error"]["details"][0]["field"], "name");
    let email = raw("/v1/customers", r#"{"email": "a\u0007@example.com"}"#)
        .await
        .unwrap();
    assert_error(email, 422, "validation_failed").await;
    let currency = app
        .post(
            "/v1/products",
            key,
            &json!({"name": "Gold", "price": {"amount": 1, "currency": "XXX"}}),
        )
        .send()
        .await
        .unwrap();
    assert_error(currency, 422, "validation_failed").await;

    // Only the canonical spelling of an id names it.
    let id = store.test_key_id.as_str();
    assert_eq!(
        app.get(&format!("/v1/api-keys/{id}"), key)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let lower = format!("key_{}", id["key_".len()..].to_lowercase());
    let response = app.get(&format!("/v1/api-keys/{lower}"), key).send().await.unwrap();
    assert_error(response, 404, "not_found").await;

    // Answers the router makes on its own carry the error body too.
    let response = app
        .http
        .put(format!("{}/v1/api-keys", app.url))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("allow"));
    assert_error(response, 405, "method_not_allowed").await;
    let long = format!("/v1/products?q={}", "a".repeat(9000));
    assert_error(app.get(&long, key).send().await.unwrap(), 414, "uri_too_long").await;

    // Onboarding checks the platform key before it reads the body.
    let response = app
        .http
        .post(format!("{}/v1/platform/stores", app.url))
        .header("content-type", "application/json")
        .body(r#"{"name": ""}"#)
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthorized").await;
}
