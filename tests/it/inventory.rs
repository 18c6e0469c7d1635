use cartwheel_tests::{assert_error, spawn_app, Expect, TestApp, TestStore};
use serde_json::{json, Value};

async fn setup() -> (TestApp, TestStore, String) {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let body = json!({"name": "Mug", "sku": "M-1", "price": {"amount": 900, "currency": "USD"}});
    let product: Value = app
        .post("/v1/products", &store.test_key, &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = product["data"]["id"].as_str().unwrap().to_owned();
    (app, store, id)
}

async fn adjust(app: &TestApp, key: &str, id: &str, body: Value) -> reqwest::Response {
    app.post(&format!("/v1/inventory/{id}/adjust"), key, &body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn warehouses_start_with_a_default_one() {
    let (app, store, _) = setup().await;
    let key = &store.test_key;
    let listed: Value = app
        .get("/v1/warehouses", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["is_default"], true);
    let created = app
        .post("/v1/warehouses", key, &json!({"name": "East", "code": "E1"}))
        .expect(201)
        .await;
    let id = created["data"]["id"].as_str().unwrap();
    assert!(id.starts_with("whs_") && created["data"]["is_default"] == false);
    let renamed = app
        .http
        .patch(format!("{}/v1/warehouses/{id}", app.url))
        .bearer_auth(key)
        .json(&json!({"name": "East coast"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.json::<Value>().await.unwrap()["data"]["name"], "East coast");
    let listed: Value = app
        .get("/v1/warehouses", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    assert_error(
        app.post("/v1/warehouses", key, &json!({"name": ""}))
            .send()
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let other = app.create_store().await;
    let patch = app
        .http
        .patch(format!("{}/v1/warehouses/{id}", app.url))
        .bearer_auth(&other.test_key)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_error(patch, 404, "not_found").await;
}

#[tokio::test]
async fn adjustments_are_ledgered_and_never_go_below_reserved() {
    let (app, store, id) = setup().await;
    let key = &store.test_key;
    let restocked = adjust(
        &app,
        key,
        &id,
        json!({"delta": 20, "reason": "restock", "note": "first delivery"}),
    )
    .await;
    assert_eq!(restocked.status(), 200);
    let level: Value = restocked.json().await.unwrap();
    assert_eq!(
        (level["data"]["on_hand"].as_i64(), level["data"]["available"].as_i64()),
        (Some(20), Some(20))
    );

    let refused = adjust(&app, key, &id, json!({"delta": -21, "reason": "sale"})).await;
    let body = assert_error(refused, 409, "insufficient_stock").await;
    assert_eq!(body["error"]["details"][0]["available"], 20);
    assert_eq!(body["error"]["details"][0]["requested"], 21);

    let east: Value = app
        .post("/v1/warehouses", key, &json!({"name": "East"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let east = east["data"]["id"].as_str().unwrap();
    adjust(
        &app,
        key,
        &id,
        json!({"delta": 5, "reason": "transfer", "warehouse_id": east}),
    )
    .await;
    adjust(&app, key, &id, json!({"delta": -3, "reason": "damaged_goods"})).await;

    let stock: Value = app
        .get(&format!("/v1/inventory/{id}"), key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stock["data"]["on_hand"], 22);
    assert_eq!(stock["data"]["available"], 22);
    assert_eq!(stock["data"]["warehouses"].as_array().unwrap().len(), 2);

    let history: Value = app
        .get(&format!("/v1/inventory/{id}/history"), key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reasons: Vec<&str> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["damaged_goods", "transfer", "restock"],
        "newest first; the refused one is not there"
    );
    assert_eq!(history["data"][2]["note"], "first delivery");
    assert_eq!(history["data"][0]["on_hand_after"], 17);

    let batch: Value = app
        .get(&format!("/v1/inventory?ids={id},var_01JD3M5W7Q6V8X9Y0Z1A2B3C4D"), key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(batch["data"][0]["available"], 22);
    assert_eq!(batch["data"][1]["available"], 0);
}

#[tokio::test]
async fn concurrent_sales_never_oversell() {
    let (app, store, id) = setup().await;
    let key = &store.test_key;
    adjust(&app, key, &id, json!({"delta": 5, "reason": "restock"})).await;
    let sale = json!({"delta": -1, "reason": "sale"});
    let sends: Vec<_> = (0..10).map(|_| adjust(&app, key, &id, sale.clone())).collect();
    let mut statuses = Vec::new();
    for response in futures_util::future::join_all(sends).await {
        statuses.push(response.status().as_u16());
    }
    // Every sale either happened or was refused; none went past the stock.
    let sold = statuses.iter().filter(|s| **s == 200).count() as i64;
    assert!((1..=5).contains(&sold), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    let stock: Value = app
        .get(&format!("/v1/inventory/{id}"), key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stock["data"]["on_hand"], 5 - sold);
    let history: Value = app
        .get(&format!("/v1/inventory/{id}/history?limit=100"), key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        history["data"].as_array().unwrap().len() as i64,
        1 + sold,
        "one restock and the sales made, nothing more"
    );
}

#[tokio::test]
async fn low_stock_is_announced_once_per_crossing() {
    let (app, store, id) = setup().await;
    let key = &store.test_key;
    adjust(
        &app,
        key,
        &id,
        json!({"delta": 10, "reason": "restock", "reorder_point": 3}),
    )
    .await;
    adjust(&app, key, &id, json!({"delta": -7, "reason": "sale"})).await; // 3: crossing
    adjust(&app, key, &id, json!({"delta": -1, "reason": "sale"})).await; // 2: still low
    adjust(&app, key, &id, json!({"delta": 5, "reason": "restock"})).await; // 7
    adjust(&app, key, &id, json!({"delta": -6, "reason": "sale"})).await; // 1: crossing again
    let events = cartwheel_tests::events(&app, &store.id, "test").await;
    let count = |t: &str| events.iter().filter(|e| e["type"] == t).count();
    assert_eq!(count("inventory.adjusted"), 5);
    assert_eq!(count("inventory.low_stock"), 2);
}

#[tokio::test]
async fn inventory_input_scopes_and_stores_are_checked() {
    let (app, store, id) = setup().await;
    let key = &store.test_key;
    assert_error(
        adjust(&app, key, &id, json!({"delta": 0, "reason": "restock"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        adjust(&app, key, &id, json!({"delta": 1, "reason": "magic"})).await,
        422,
        "validation_failed",
    )
    .await;
    let missing_product = adjust(
        &app,
        key,
        "prod_01JD3M5W7Q6V8X9Y0Z1A2B3C4D",
        json!({"delta": 1, "reason": "restock"}),
    )
    .await;
    assert_error(missing_product, 404, "not_found").await;
    assert_error(
        adjust(&app, key, "cat_x", json!({"delta": 1, "reason": "restock"})).await,
        404,
        "not_found",
    )
    .await;
    let bad_warehouse = adjust(
        &app,
        key,
        &id,
        json!({"delta": 1, "reason": "restock", "warehouse_id": "whs_01JD3M5W7Q6V8X9Y0Z1A2B3C4D"}),
    )
    .await;
    assert_error(bad_warehouse, 422, "validation_failed").await;
    assert_error(
        app.get("/v1/inventory?ids=", key).send().await.unwrap(),
        422,
        "validation_failed",
    )
    .await;

    let (_, reader) = app.create_key(key, &["products:read"]).await;
    assert_error(
        app.get(&format!("/v1/inventory/{id}"), &reader).send().await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_error(
        adjust(&app, &reader, &id, json!({"delta": 1, "reason": "restock"})).await,
        403,
        "forbidden",
    )
    .await;

    adjust(&app, key, &id, json!({"delta": 4, "reason": "restock"})).await;
    let other = app.create_store().await;
    // Another store's key, and the other mode's key, learn nothing: not even a zero level.
    assert_error(
        app.get(&format!("/v1/inventory/{id}"), &other.test_key)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_error(
        adjust(&app, &other.test_key, &id, json!({"delta": 1, "reason": "restock"})).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get(&format!("/v1/inventory/{id}"), &store.live_key)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
}

async fn available(app: &TestApp, key: &str, id: &str) -> i64 {
    let stock: Value = app
        .get(&format!("/v1/inventory/{id}"), key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stock["data"]["available"].as_i64().unwrap()
}

#[tokio::test]
async fn reservations_hold_stock_all_or_nothing_and_release_it() {
    let (app, store, id) = setup().await;
    let key = &store.test_key;
    adjust(&app, key, &id, json!({"delta": 10, "reason": "restock"})).await;
    let body = json!({"items": [{"id": id, "quantity": 4}], "expires_in": 600});
    let created = app.post("/v1/inventory/reserve", key, &body).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let reservation: Value = created.json().await.unwrap();
    let reservation_id = reservation["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(reservation["data"]["status"], "active");
    assert_eq!(available(&app, key, &id).await, 6);

    // Too much for one line: nothing is held, and the short line is named.
    let greedy = json!({"items": [{"id": id, "quantity": 1}, {"id": "var_01JD3M5W7Q6V8X9Y0Z1A2B3C4D", "quantity": 2}]});
    let body = assert_error(
        app.post("/v1/inventory/reserve", key, &greedy).send().await.unwrap(),
        409,
        "insufficient_stock",
    )
    .await;
    assert_eq!(body["error"]["details"].as_array().unwrap().len(), 1);
    assert_eq!(body["error"]["details"][0]["id"], "var_01JD3M5W7Q6V8X9Y0Z1A2B3C4D");
    assert_eq!(available(&app, key, &id).await, 6, "all or nothing");

    // Reserved stock cannot be sold off by an adjustment.
    assert_error(
        adjust(&app, key, &id, json!({"delta": -7, "reason": "sale"})).await,
        409,
        "insufficient_stock",
    )
    .await;

    let released = app
        .post("/v1/inventory/release", key, &json!({"reservation_id": reservation_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(released.json::<Value>().await.unwrap()["data"]["status"], "released");
    assert_eq!(available(&app, key, &id).await, 10);
    let again = app
        .post("/v1/inventory/release", key, &json!({"reservation_id": reservation_id}))
        .send()
        .await
        .unwrap();
    assert_error(again, 409, "conflict").await;
    let fetched: Value = app
        .get(&format!("/v1/inventory/reservations/{reservation_id}"), key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["data"]["status"], "released");
    let other = app.create_store().await;
    let foreign = app
        .get(&format!("/v1/inventory/reservations/{reservation_id}"), &other.test_key)
        .send()
        .await
        .unwrap();
    assert_error(foreign, 404, "not_found").await;
    let bad = json!({"items": [{"id": id, "quantity": 0}], "expires_in": 0});
    assert_error(
        app.post("/v1/inventory/reserve", key, &bad).send().await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn expired_reservations_give_their_stock_back() {
    let (app, store, id) = setup().await;
    let key = &store.test_key;
    adjust(&app, key, &id, json!({"delta": 3, "reason": "restock"})).await;
    let body = json!({"items": [{"id": id, "quantity": 3}], "expires_in": 1});
    let reservation: Value = app
        .post("/v1/inventory/reserve", key, &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reservation_id = reservation["data"]["id"].as_str().unwrap();
    assert_eq!(available(&app, key, &id).await, 0);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

    let fetched: Value = app
        .get(&format!("/v1/inventory/reservations/{reservation_id}"), key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        fetched["data"]["status"], "expired",
        "expired on read, before any sweep"
    );
    let release = app
        .post("/v1/inventory/release", key, &json!({"reservation_id": reservation_id}))
        .send()
        .await
        .unwrap();
    assert_error(release, 409, "conflict").await;

    cartwheel::inventory::sweep_expired(&app.state.db, 100).await.unwrap();
    assert_eq!(available(&app, key, &id).await, 3, "the sweep gave the stock back");
    let events = cartwheel_tests::events(&app, &store.id, "test").await;
    assert!(events.iter().any(|e| e["type"] == "reservation.expired"));
    // A second sweep finds nothing more to give back.
    cartwheel::inventory::sweep_expired(&app.state.db, 100).await.unwrap();
    assert_eq!(available(&app, key, &id).await, 3);
}

/// `on_hand` in `warehouse` (0 when the item never had a level there).
async fn on_hand_in(app: &TestApp, key: &str, id: &str, warehouse: &str) -> i64 {
    let stock = app.get(&format!("/v1/inventory/{id}"), key).expect_data(200).await;
    stock["warehouses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["warehouse_id"] == warehouse)
        .map_or(0, |l| l["on_hand"].as_i64().unwrap())
}

/// The default warehouse, and a second one made here.
async fn two_warehouses(app: &TestApp, key: &str) -> (String, String) {
    let listed = app.get("/v1/warehouses", key).expect_data(200).await;
    let default = listed[0]["id"].as_str().unwrap().to_owned();
    let east = app
        .post("/v1/warehouses", key, &json!({"name": "East"}))
        .expect_data(201)
        .await;
    (default, east["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn setting_a_counted_level_ledgers_the_difference_and_never_goes_below_reserved() {
    let (app, store, id) = setup().await;
    let key = &store.test_key;
    adjust(&app, key, &id, json!({"delta": 10, "reason": "restock"})).await;
    let set = |on_hand: i64| {
        app.post(
            &format!("/v1/inventory/{id}/set"),
            key,
            &json!({"on_hand": on_hand, "reason": "correction"}),
        )
    };
    let level = set(4).expect_data(200).await;
    assert_eq!(
        (level["on_hand"].as_i64(), level["available"].as_i64()),
        (Some(4), Some(4))
    );
    let history = app.get(&format!("/v1/inventory/{id}/history"), key).expect(200).await;
    assert_eq!(history["data"][0]["delta"], -6, "ledgered as the difference");
    assert_eq!(history["data"][0]["reason"], "correction");
    assert_eq!(history["data"][0]["on_hand_after"], 4);

    // The same level again changes nothing: no ledger line.
    set(4).expect(200).await;
    let again = app.get(&format!("/v1/inventory/{id}/history"), key).expect(200).await;
    assert_eq!(again["data"].as_array().unwrap().len(), 2);

    let hold = json!({"items": [{"id": id, "quantity": 3}]});
    app.post("/v1/inventory/reserve", key, &hold).expect(201).await;
    let refused = set(2).expect(409).await;
    assert_eq!(refused["error"]["code"], "insufficient_stock");
    assert_eq!(on_hand_in(&app, key, &id, &two_warehouses(&app, key).await.0).await, 4);
    for bad in [
        json!({"on_hand": -1, "reason": "correction"}),
        json!({"on_hand": 5}),
        json!({"on_hand": 2_000_000_000_000_i64, "reason": "correction"}),
    ] {
        app.post(&format!("/v1/inventory/{id}/set"), key, &bad)
            .expect(422)
            .await;
    }
}

#[tokio::test]
async fn a_transfer_moves_stock_atomically_and_never_below_what_is_reserved() {
    let (app, store, id) = setup().await;
    let key = &store.test_key;
    let (main, east) = two_warehouses(&app, key).await;
    adjust(&app, key, &id, json!({"delta": 10, "reason": "restock"})).await;
    let hold = json!({"items": [{"id": id, "quantity": 3}]});
    app.post("/v1/inventory/reserve", key, &hold).expect(201).await;

    // The names of the reference API (`item`, `from`, `to`) are accepted.
    let body = json!({"item": id, "from": main, "to": east, "quantity": 4, "note": "rebalance"});
    let transfer = app.post("/v1/inventory/transfers", key, &body).expect_data(201).await;
    assert_eq!(transfer["status"], "received");
    assert!(transfer["id"].as_str().unwrap().starts_with("trf_"));
    assert_eq!(on_hand_in(&app, key, &id, &main).await, 6);
    assert_eq!(on_hand_in(&app, key, &id, &east).await, 4);
    let history = app.get(&format!("/v1/inventory/{id}/history"), key).expect(200).await;
    let moved: Vec<(i64, &str)> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["transfer_id"] == transfer["id"])
        .map(|a| (a["delta"].as_i64().unwrap(), a["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(moved.len(), 2, "one ledger line per warehouse: {history}");
    assert!(moved.contains(&(-4, "transfer")) && moved.contains(&(4, "transfer")));

    // 6 on hand, 3 reserved: 4 more would eat into the reservation.
    let body = json!({"item_id": id, "from_warehouse_id": main, "to_warehouse_id": east, "quantity": 4});
    let refused = app.post("/v1/inventory/transfers", key, &body).expect(409).await;
    assert_eq!(refused["error"]["code"], "insufficient_stock");
    assert_eq!(on_hand_in(&app, key, &id, &main).await, 6, "nothing moved");
    assert_eq!(on_hand_in(&app, key, &id, &east).await, 4, "nothing moved");

    let events = cartwheel_tests::events(&app, &store.id, "test").await;
    assert_eq!(
        events.iter().filter(|e| e["type"] == "inventory.transferred").count(),
        1
    );

    for bad in [
        json!({"item_id": id, "from_warehouse_id": main, "to_warehouse_id": main, "quantity": 1}),
        json!({"item_id": id, "from_warehouse_id": main, "to_warehouse_id": east, "quantity": 0}),
        json!({"item_id": "cat_01JD3M5W7Q6V8X9Y0Z1A2B3C4D", "from_warehouse_id": main, "to_warehouse_id": east, "quantity": 1}),
        json!({"item_id": id, "from_warehouse_id": main, "to_warehouse_id": "whs_01JD3M5W7Q6V8X9Y0Z1A2B3C4D", "quantity": 1}),
    ] {
        app.post("/v1/inventory/transfers", key, &bad).expect(422).await;
    }
}

#[tokio::test]
async fn a_transfer_in_transit_is_shipped_then_received_once() {
    let (app, store, id) = setup().await;
    let key = &store.test_key;
    let (main, east) = two_warehouses(&app, key).await;
    adjust(&app, key, &id, json!({"delta": 10, "reason": "restock"})).await;
    let body =
        json!({"item_id": id, "from_warehouse_id": main, "to_warehouse_id": east, "quantity": 7, "in_transit": true});
    let transfer = app.post("/v1/inventory/transfers", key, &body).expect_data(201).await;
    assert_eq!(transfer["status"], "pending");
    let transfer_id = transfer["id"].as_str().unwrap();
    assert_eq!(on_hand_in(&app, key, &id, &main).await, 10, "pending: nothing moved");
    let path = |action: &str| format!("/v1/inventory/transfers/{transfer_id}/{action}");

    let early = app.post(&path("receive"), key, &json!({})).expect(409).await;
    assert_eq!(early["error"]["code"], "invalid_transition");
    let shipped = app.post(&path("ship"), key, &json!({})).expect_data(200).await;
    assert_eq!(shipped["status"], "in_transit");
    assert_eq!(on_hand_in(&app, key, &id, &main).await, 3, "out of the source");
    assert_eq!(on_hand_in(&app, key, &id, &east).await, 0, "not yet in the destination");
    app.post(&path("ship"), key, &json!({})).expect(409).await;

    let received = app.post(&path("receive"), key, &json!({})).expect_data(200).await;
    assert_eq!(received["status"], "received");
    assert!(received["shipped_at"].is_string() && received["received_at"].is_string());
    assert_eq!(on_hand_in(&app, key, &id, &east).await, 7);
    app.post(&path("receive"), key, &json!({})).expect(409).await;
    assert_eq!(on_hand_in(&app, key, &id, &east).await, 7, "received once");

    let listed = app.get("/v1/inventory/transfers", key).expect(200).await;
    assert_eq!(listed["data"][0]["id"], transfer_id);
    let fetched = app
        .get(&format!("/v1/inventory/transfers/{transfer_id}"), key)
        .expect_data(200)
        .await;
    assert_eq!(fetched["version"], 3);
    let events = cartwheel_tests::events(&app, &store.id, "test").await;
    for kind in [
        "inventory.transfer_created",
        "inventory.transfer_shipped",
        "inventory.transferred",
    ] {
        assert_eq!(events.iter().filter(|e| e["type"] == kind).count(), 1, "{kind}");
    }
}

/// Transfers racing for the same stock: each is all or nothing, and the source never goes below zero.
#[tokio::test]
async fn concurrent_transfers_never_move_more_than_there_is() {
    let (app, store, id) = setup().await;
    let key = store.test_key.clone();
    let (main, east) = two_warehouses(&app, &key).await;
    adjust(&app, &key, &id, json!({"delta": 10, "reason": "restock"})).await;
    let attempts = (0..20).map(|_| {
        let body = json!({"item_id": id, "from_warehouse_id": main, "to_warehouse_id": east, "quantity": 1});
        app.post("/v1/inventory/transfers", &key, &body).send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    let moved = statuses.iter().filter(|s| **s == 201).count() as i64;
    assert!(statuses.iter().all(|s| [201, 409].contains(s)), "{statuses:?}");
    // A transfer that keeps meeting others gives up with `409 conflict` rather than wait without bound.
    assert!((1..=10).contains(&moved), "{statuses:?}");
    assert_eq!(on_hand_in(&app, &key, &id, &main).await, 10 - moved);
    assert_eq!(on_hand_in(&app, &key, &id, &east).await, moved);
    let transfers = app.get("/v1/inventory/transfers?per_page=100", &key).expect(200).await;
    assert_eq!(
        transfers["data"].as_array().unwrap().len() as i64,
        moved,
        "one record per move"
    );
}

/// Products carry what they have to sell, as the reference APIs' `stock`: given at creation (ledgered in the
/// default warehouse in the same transaction), read on every product and variant, with every warehouse's level
/// and the variants on request.
#[tokio::test]
async fn products_carry_their_stock_from_creation_and_include_variants_and_inventory() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let key = store.test_key.as_str();
    let body = json!({"name": "Tee", "sku": "TEE", "price": {"amount": 900, "currency": "USD"}, "stock": 25,
                      "options": [{"name": "Size", "values": ["S", "M"]}]});
    let created = app.post("/v1/products", key, &body).expect_data(201).await;
    assert_eq!(created["stock"], 25);
    let id = created["id"].as_str().unwrap().to_owned();
    let history = app.get(&format!("/v1/inventory/{id}/history"), key).expect(200).await;
    assert_eq!(history["data"][0]["delta"], 25);
    assert_eq!(history["data"][0]["reason"], "restock");
    assert_eq!(history["data"][0]["note"], "initial stock");

    let hold = json!({"items": [{"id": id, "quantity": 5}]});
    app.post("/v1/inventory/reserve", key, &hold).expect(201).await;
    let (main, east) = two_warehouses(&app, key).await;
    let move_three = json!({"item_id": id, "from_warehouse_id": main, "to_warehouse_id": east, "quantity": 3});
    app.post("/v1/inventory/transfers", key, &move_three).expect(201).await;
    let read = app.get(&format!("/v1/products/{id}"), key).expect_data(200).await;
    assert_eq!(
        read["stock"], 17,
        "25 − 5 reserved − 3 moved out of the warehouse checkout sells from"
    );
    assert!(
        read.get("inventory").is_none() && read.get("variants").is_none(),
        "only on request"
    );

    let small = json!({"option_values": {"Size": "S"}, "sku": "TEE-S"});
    let variant = app
        .post(&format!("/v1/products/{id}/variants"), key, &small)
        .expect_data(201)
        .await;
    let variant_id = variant["id"].as_str().unwrap();
    app.post(
        &format!("/v1/inventory/{variant_id}/adjust"),
        key,
        &json!({"delta": 4, "reason": "restock"}),
    )
    .expect(200)
    .await;
    let full = app
        .get(&format!("/v1/products/{id}?include=variants,inventory"), key)
        .expect_data(200)
        .await;
    assert_eq!(full["variants"][0]["stock"], 4);
    let levels: Vec<(String, i64)> = full["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["warehouse_id"].as_str().unwrap().to_owned(),
                l["on_hand"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        levels.contains(&(main.clone(), 22)) && levels.contains(&(east.clone(), 3)),
        "{levels:?}"
    );
    let variants = app.get(&format!("/v1/products/{id}/variants"), key).expect(200).await;
    assert_eq!(variants["data"][0]["stock"], 4);
    let one = app
        .get(&format!("/v1/products/{id}/variants/{variant_id}"), key)
        .expect_data(200)
        .await;
    assert_eq!(one["stock"], 4);

    let plain = json!({"name": "Mug", "price": {"amount": 500, "currency": "USD"}});
    app.post("/v1/products", key, &plain).expect(201).await;
    let listed = app.get("/v1/products?include=variants", key).expect(200).await;
    let stocks: Vec<(i64, usize)> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["stock"].as_i64().unwrap(),
                p["variants"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    assert_eq!(
        stocks,
        [(0, 0), (17, 1)],
        "newest first, each with its stock and variants"
    );

    for bad in [json!(-1), json!(1_000_000_001_i64)] {
        let body = json!({"name": "Bad", "price": {"amount": 500, "currency": "USD"}, "stock": bad});
        app.post("/v1/products", key, &body).expect(422).await;
    }
    app.get(&format!("/v1/products/{id}?include=prices"), key)
        .expect(422)
        .await;
}
