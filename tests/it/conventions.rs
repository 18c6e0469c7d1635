use cartwheel_tests::{assert_error, spawn_app, spawn_app_with, Expect, Options};
use serde_json::{json, Value};

#[tokio::test]
async fn every_response_has_a_request_id_and_a_sane_one_is_kept() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let response = app
        .get("/v1/api-keys", &store.test_key)
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-abc-123");
    let response = app
        .get("/v1/api-keys", &store.test_key)
        .header("x-request-id", "bad id!")
        .send()
        .await
        .unwrap();
    assert!(response.headers()["x-request-id"].to_str().unwrap().starts_with("req_"));
    let response = app.get("/v1/api-keys", "ck_test_nope").send().await.unwrap();
    assert!(response.headers()["x-request-id"].to_str().unwrap().starts_with("req_"));
}

#[tokio::test]
async fn rate_limits_are_announced_and_enforced_per_store_and_mode() {
    let app = spawn_app_with(Options {
        rate_limits: Some("default=5"),
        ..Default::default()
    })
    .await;
    let store = app.create_store().await;
    for expected_remaining in (0..5).rev() {
        let response = app.get("/v1/api-keys", &store.test_key).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-ratelimit-limit"], "5");
        // Fixed windows: a request can land in a new minute and find the window fresh again.
        let remaining: u32 = response.headers()["x-ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(remaining >= expected_remaining, "remaining {remaining}");
        assert!(response.headers().contains_key("x-ratelimit-reset"));
    }
    let mut limited = None;
    for _ in 0..6 {
        let response = app.get("/v1/api-keys", &store.test_key).send().await.unwrap();
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
    }
    let response = limited.expect("a 429 after the limit");
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
    assert_error(response, 429, "rate_limited").await;
    // Every key of the store and mode shares the budget; the other mode and other stores have their own.
    let (_, second_key) = mint_key_directly(&app, &store).await;
    let shared = app.get("/v1/api-keys", &second_key).send().await.unwrap();
    assert_error(shared, 429, "rate_limited").await;
    assert_eq!(
        app.get("/v1/api-keys", &store.live_key).send().await.unwrap().status(),
        200
    );
    let other = app.create_store().await;
    assert_eq!(
        app.get("/v1/api-keys", &other.test_key).send().await.unwrap().status(),
        200
    );
}

/// A second test-mode key, minted on the platform route (the store's own keys are out of requests).
async fn mint_key_directly(app: &cartwheel_tests::TestApp, store: &cartwheel_tests::TestStore) -> (String, String) {
    let body = json!({"mode": "test", "name": "second", "scopes": ["full"]});
    let body = app
        .post(
            &format!("/v1/platform/stores/{}/api-keys", store.id),
            cartwheel_tests::PLATFORM_KEY,
            &body,
        )
        .expect(201)
        .await;
    (
        body["data"]["id"].as_str().unwrap().to_owned(),
        body["data"]["secret"].as_str().unwrap().to_owned(),
    )
}

/// A busy key leases its rate-limit tokens from the shared counter in growing batches (1, 2, 4, … up to a fiftieth
/// of the limit): far fewer counter writes than requests, and the remaining count still falls request by request.
#[tokio::test]
async fn a_busy_key_leases_rate_limit_tokens_in_batches() {
    let app = spawn_app_with(Options {
        rate_limits: Some("default=1000"),
        ..Default::default()
    })
    .await;
    let store = app.create_store().await;
    app.calls.take();
    let mut last_remaining = u32::MAX;
    for _ in 0..100 {
        let response = app.get("/v1/api-keys", &store.test_key).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let remaining: u32 = response.headers()["x-ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        // A new minute starts the count again.
        assert!(
            remaining < last_remaining || remaining >= 990,
            "{remaining} after {last_remaining}"
        );
        last_remaining = remaining;
    }
    let leases = app.calls.take().iter().filter(|call| call.rate_limit).count();
    // 1 + 2 + 4 + 8 + 16 + 20 × 4 covers 111 requests: 9 leases, a few more if a minute ends mid-run.
    assert!((5..=15).contains(&leases), "{leases} leases for 100 requests");
}

#[tokio::test]
async fn a_repeated_post_replays_the_first_response() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let body = json!({"name": "Mug", "sku": "REPLAY-1", "price": {"amount": 1200, "currency": "EUR"}});
    let first = app
        .post("/v1/products", &store.test_key, &body)
        .header("idempotency-key", "create-mug")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = app
        .post("/v1/products", &store.test_key, &body)
        .header("idempotency-key", "create-mug")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again, "the replay is the first response");

    let listed: Value = app
        .get("/v1/products?sku=REPLAY-1", &store.test_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        1,
        "the repeat created nothing"
    );

    let other = json!({"name": "Other", "sku": "REPLAY-2", "price": {"amount": 1200, "currency": "EUR"}});
    let response = app
        .post("/v1/products", &store.test_key, &other)
        .header("idempotency-key", "create-mug")
        .send()
        .await
        .unwrap();
    assert_error(response, 409, "conflict").await;
}

#[tokio::test]
async fn concurrent_repeats_create_one_resource() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let body = json!({"name": "racer", "scopes": ["read_only"]});
    let send = || {
        app.post("/v1/api-keys", &store.test_key, &body)
            .header("idempotency-key", "race-1")
            .send()
    };
    let responses = futures_join(send(), send()).await;
    let statuses: Vec<u16> = responses
        .iter()
        .map(|r| r.as_ref().unwrap().status().as_u16())
        .collect();
    assert!(statuses.contains(&201), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    let listed: Value = app
        .get("/v1/api-keys?limit=100", &store.test_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let named = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["name"] == "racer")
        .count();
    assert_eq!(named, 1);
}

async fn futures_join<F: std::future::Future>(a: F, b: F) -> [F::Output; 2] {
    let (a, b) = tokio::join!(a, b);
    [a, b]
}

#[tokio::test]
async fn idempotency_keys_are_per_store() {
    let app = spawn_app().await;
    let a = app.create_store().await;
    let b = app.create_store().await;
    let body = json!({"name": "same", "scopes": ["read_only"]});
    for store in [&a, &b] {
        let response = app
            .post("/v1/api-keys", &store.test_key, &body)
            .header("idempotency-key", "shared-key")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        assert!(response.headers().get("idempotent-replayed").is_none());
    }
}

#[tokio::test]
async fn bodies_over_one_megabyte_are_413() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let huge = json!({"name": "x".repeat(1024 * 1024), "scopes": ["read_only"]});
    let response = app.post("/v1/api-keys", &store.test_key, &huge).send().await.unwrap();
    assert_error(response, 413, "payload_too_large").await;
    // Also when the client streams without declaring a length.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(vec![b' '; 700 * 1024]), Ok(vec![b' '; 700 * 1024])];
    let stream = reqwest::Body::wrap_stream(futures_stream(chunks));
    let response = app
        .http
        .post(format!("{}/v1/api-keys", app.url))
        .bearer_auth(&store.test_key)
        .header("content-type", "application/json")
        .body(stream)
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large").await;
}

fn futures_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + Sync + 'static {
    tokio_stream::iter(chunks)
}

#[tokio::test]
async fn malformed_and_invalid_bodies_are_400_and_422() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let url = format!("{}/v1/api-keys", app.url);
    let malformed = app
        .http
        .post(&url)
        .bearer_auth(&store.test_key)
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_error(malformed, 400, "bad_request").await;
    let not_json = app
        .http
        .post(&url)
        .bearer_auth(&store.test_key)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_error(not_json, 400, "bad_request").await;
    let wrong_type = app
        .post("/v1/api-keys", &store.test_key, &json!({"name": 5, "scopes": []}))
        .send()
        .await
        .unwrap();
    let body = assert_error(wrong_type, 422, "validation_failed").await;
    assert_eq!(body["error"]["details"][0]["field"], "name");
    let unknown_field = app
        .post(
            "/v1/api-keys",
            &store.test_key,
            &json!({"name": "x", "scopes": ["read_only"], "admin": true}),
        )
        .send()
        .await
        .unwrap();
    assert_error(unknown_field, 422, "validation_failed").await;
}

/// Every list route of the document (a `200` of `ListOut…` or `SearchOut`), walked from the document itself:
/// a query parameter it does not know is a `422` naming it, and `per_page` (alias of `limit`) and `page` are
/// honoured — on a seeded store where most lists hold two or more items.
#[tokio::test]
async fn every_list_refuses_unknown_query_parameters_and_honours_per_page_and_page() {
    let (app, store, seeded) = crate::tenancy::seeded_app().await;
    let key = store.test_key.as_str();
    // A second of the things the seed makes one of.
    app.post("/v1/customer-groups", key, &json!({"name": "Wholesale"}))
        .expect(201)
        .await;
    app.post("/v1/customer-groups", key, &json!({"name": "Retail"}))
        .expect(201)
        .await;
    app.post("/v1/brands", key, &json!({"name": "Second"}))
        .expect(201)
        .await;
    app.post("/v1/categories", key, &json!({"name": "Second"}))
        .expect(201)
        .await;
    app.post("/v1/customers", key, &json!({"email": "grace@example.com"}))
        .expect(201)
        .await;
    let endpoint = json!({"url": "http://127.0.0.1:9/second", "events": ["order.created"]});
    app.post("/v1/webhooks", key, &endpoint).expect(201).await;
    let second_key = json!({"name": "second", "scopes": ["products:read"]});
    app.post("/v1/api-keys", key, &second_key).expect(201).await;
    let document = serde_json::to_value(cartwheel_gateway::openapi_document()).unwrap();
    let (mut lists, mut with_several) = (Vec::new(), Vec::new());
    for (template, item) in document["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let schema = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_default();
        if !(schema.starts_with("#/components/schemas/ListOut") || schema.ends_with("/SearchOut")) {
            continue;
        }
        let declared: Vec<&str> = get["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for name in ["limit", "per_page", "page", "cursor"] {
            assert!(declared.contains(&name), "GET {template} does not document `{name}`");
        }
        let path = crate::tenancy::concrete(template, &seeded);
        let required = if template == "/v1/search" { "q=mug&" } else { "" };
        let url = |query: &str| format!("{path}?{required}{query}");

        let refused = app.get(&url("colour=red"), key).expect(422).await;
        assert_eq!(refused["error"]["code"], "validation_failed", "GET {template}");
        assert_eq!(refused["error"]["details"][0]["field"], "colour", "GET {template}");

        let all = app.get(&url("per_page=100"), key).expect(200).await;
        let all = all["data"].as_array().unwrap().clone();
        let first = app.get(&url("per_page=1"), key).expect(200).await;
        assert_eq!(first["meta"]["pagination"]["limit"], 1, "GET {template}");
        assert_eq!(
            first["data"].as_array().unwrap().len(),
            all.len().min(1),
            "GET {template}"
        );
        if all.len() >= 2 {
            with_several.push(template.clone());
            assert_eq!(first["meta"]["pagination"]["has_more"], true, "GET {template}");
            let second = app.get(&url("per_page=1&page=2"), key).expect(200).await;
            assert_eq!(second["data"][0]["id"], all[1]["id"], "GET {template}: page 2 of 1");
        }
        let conflicting = app.get(&url("limit=5&per_page=6"), key).expect(422).await;
        assert_eq!(
            conflicting["error"]["details"][0]["field"], "per_page",
            "GET {template}"
        );
        lists.push(template.clone());
    }
    assert!(lists.len() >= 16, "list routes found: {lists:?}");
    assert!(
        with_several.len() >= 8,
        "only {with_several:?} of {lists:?} held two items"
    );
}

/// Lists whose counter is kept in the same transactions as their items carry an exact `total`: products and orders,
/// in all or by status, and customers; a list narrowed by anything else carries none.
#[tokio::test]
async fn products_orders_and_customers_lists_carry_exact_totals() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let key = store.test_key.as_str();
    let app = &app;
    let total =
        |path: &'static str| async move { app.get(path, key).expect(200).await["meta"]["pagination"]["total"].clone() };
    let mut products = Vec::new();
    for (i, status) in ["active", "active", "draft"].iter().enumerate() {
        let body = json!({"name": format!("Mug {i}"), "status": status, "stock": 5,
                          "price": {"amount": 900, "currency": "USD"}});
        products.push(
            app.post("/v1/products", key, &body).expect_data(201).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(total("/v1/products?per_page=1").await, 3);
    assert_eq!(total("/v1/products?status=active").await, 2);
    app.post(&format!("/v1/products/{}/archive", products[0]), key, &json!({}))
        .expect(200)
        .await;
    assert_eq!(total("/v1/products?status=active").await, 1);
    assert_eq!(total("/v1/products?status=archived").await, 1);
    app.delete(&format!("/v1/products/{}", products[2]), key)
        .expect(204)
        .await;
    assert_eq!(total("/v1/products").await, 2);
    assert_eq!(total("/v1/products?status=draft").await, 0);
    assert_eq!(
        total("/v1/products?q=mug").await,
        Value::Null,
        "narrowed by more than the status"
    );

    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        app.post("/v1/customers", key, &json!({"email": email}))
            .expect(201)
            .await;
    }
    let last = app.get("/v1/customers?per_page=1", key).expect(200).await;
    assert_eq!(last["meta"]["pagination"]["total"], 3);
    app.delete(
        &format!("/v1/customers/{}", last["data"][0]["id"].as_str().unwrap()),
        key,
    )
    .expect(204)
    .await;
    assert_eq!(total("/v1/customers").await, 2);
    assert_eq!(total("/v1/customers?email=a@example.com").await, Value::Null);

    let address = json!({"line1": "1 Market St", "city": "San Francisco", "country": "US"});
    let mut orders = Vec::new();
    for _ in 0..3 {
        let cart = app
            .post("/v1/carts", key, &json!({"currency": "USD"}))
            .expect_data(201)
            .await;
        let cart = cart["id"].as_str().unwrap().to_owned();
        let line = json!({"product_id": products[1], "quantity": 1});
        app.post(&format!("/v1/carts/{cart}/items"), key, &line)
            .expect(200)
            .await;
        let checkout = json!({"cart_id": cart, "email": "a@example.com", "shipping_address": address});
        orders.push(
            app.post("/v1/checkout", key, &checkout).expect_data(201).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(total("/v1/orders").await, 3);
    assert_eq!(total("/v1/orders?status=pending").await, 3);
    let cancel = json!({"status": "cancelled", "reason": "changed mind"});
    app.patch(&format!("/v1/orders/{}/status", orders[0]), key, &cancel)
        .expect(200)
        .await;
    assert_eq!(total("/v1/orders?status=pending").await, 2);
    assert_eq!(total("/v1/orders?status=cancelled").await, 1);
    assert_eq!(total("/v1/orders?email=a@example.com").await, Value::Null);
}
