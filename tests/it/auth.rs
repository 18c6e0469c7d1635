use cartwheel_tests::{assert_error, spawn_app, Expect, PLATFORM_KEY};
use serde_json::{json, Value};

#[tokio::test]
async fn a_store_is_onboarded_with_working_live_and_test_keys() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    assert!(store.id.starts_with("st_"));
    assert!(store.live_key.starts_with("ck_live_") && store.test_key.starts_with("ck_test_"));
    for key in [&store.live_key, &store.test_key] {
        assert_eq!(app.get("/v1/api-keys", key).send().await.unwrap().status(), 200);
    }
}

#[tokio::test]
async fn onboarding_needs_the_platform_key() {
    let app = spawn_app().await;
    let body = json!({"name": "Sneaky"});
    let response = app
        .http
        .post(format!("{}/v1/platform/stores", app.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthorized").await;
    let response = app
        .post("/v1/platform/stores", "cwp_wrong", &body)
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthorized").await;
    let store = app.create_store().await;
    let response = app
        .post("/v1/platform/stores", &store.live_key, &body)
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthorized").await;
}

#[tokio::test]
async fn onboarding_validates_its_input() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/v1/platform/stores",
            PLATFORM_KEY,
            &json!({"name": "", "plan": "Gold!"}),
        )
        .send()
        .await
        .unwrap();
    let body = assert_error(response, 422, "validation_failed").await;
    let fields: Vec<_> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].clone())
        .collect();
    assert_eq!(fields, [json!("name"), json!("plan")]);
}

#[tokio::test]
async fn missing_malformed_and_unknown_keys_are_401() {
    let app = spawn_app().await;
    let response = app.http.get(format!("{}/v1/api-keys", app.url)).send().await.unwrap();
    assert_error(response, 401, "unauthorized").await;
    for key in ["nonsense", "ck_live_", "ck_test_00000000000000000000000000000000"] {
        assert_error(app.get("/v1/api-keys", key).send().await.unwrap(), 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let (id, secret) = app.create_key(&store.test_key, &["read_only"]).await;
    let response = app.get("/v1/api-keys", &secret).send().await.unwrap();
    assert_error(response, 403, "forbidden").await; // authenticated, but without api_keys:manage

    app.delete(&format!("/v1/api-keys/{id}"), &store.test_key)
        .expect(204)
        .await;
    assert_error(
        app.get("/v1/api-keys", &secret).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    // Revoking again is a no-op; the record shows when it was revoked.
    assert_eq!(
        app.delete(&format!("/v1/api-keys/{id}"), &store.test_key)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let body: Value = app
        .get(&format!("/v1/api-keys/{id}"), &store.test_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["data"]["revoked_at"].is_string(), "{body}");
}

#[tokio::test]
async fn a_key_cannot_revoke_itself() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let response = app
        .delete(&format!("/v1/api-keys/{}", store.test_key_id), &store.test_key)
        .send()
        .await
        .unwrap();
    assert_error(response, 409, "conflict").await;
}

#[tokio::test]
async fn scopes_are_enforced_and_cannot_be_escalated() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let (_, manager) = app.create_key(&store.live_key, &["api_keys:manage"]).await;
    assert_eq!(app.get("/v1/api-keys", &manager).send().await.unwrap().status(), 200);
    let response = app
        .post(
            "/v1/api-keys",
            &manager,
            &json!({"name": "escalate", "scopes": ["full"]}),
        )
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "forbidden").await;
    let response = app
        .post(
            "/v1/api-keys",
            &manager,
            &json!({"name": "bad", "scopes": ["products:destroy"]}),
        )
        .send()
        .await
        .unwrap();
    let body = assert_error(response, 422, "validation_failed").await;
    assert_eq!(body["error"]["details"][0]["field"], "scopes");
}

#[tokio::test]
async fn modes_do_not_see_each_other() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let (live_only, _) = app.create_key(&store.live_key, &["read_only"]).await;
    let listed: Value = app
        .get("/v1/api-keys?limit=100", &store.test_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<_> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !ids.contains(&live_only) && !ids.contains(&store.live_key_id),
        "{ids:?}"
    );
    assert!(ids.contains(&store.test_key_id));
    assert!(listed["data"].as_array().unwrap().iter().all(|k| k["mode"] == "test"));
    let response = app
        .get(&format!("/v1/api-keys/{live_only}"), &store.test_key)
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "not_found").await;
    let response = app
        .delete(&format!("/v1/api-keys/{live_only}"), &store.test_key)
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "not_found").await;
}

#[tokio::test]
async fn stores_do_not_see_each_other() {
    let app = spawn_app().await;
    let a = app.create_store().await;
    let b = app.create_store().await;
    let (b_key, _) = app.create_key(&b.test_key, &["read_only"]).await;
    let listed: Value = app
        .get("/v1/api-keys?limit=100", &a.test_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!listed.to_string().contains(&b_key));
    assert!(!listed.to_string().contains(&b.test_key_id));
    for response in [
        app.get(&format!("/v1/api-keys/{b_key}"), &a.test_key)
            .send()
            .await
            .unwrap(),
        app.delete(&format!("/v1/api-keys/{b_key}"), &a.test_key)
            .send()
            .await
            .unwrap(),
    ] {
        assert_error(response, 404, "not_found").await;
    }
    // B's key still works: A's delete touched nothing.
    app.get(&format!("/v1/api-keys/{b_key}"), &b.test_key).expect(200).await;
}

#[tokio::test]
async fn keys_are_listed_by_cursor_and_cursors_stay_in_their_store() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    for _ in 0..3 {
        app.create_key(&store.test_key, &["read_only"]).await;
    }
    let first: Value = app
        .get("/v1/api-keys?limit=2", &store.test_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    assert_eq!(first["meta"]["pagination"]["has_more"], true);
    let cursor = first["meta"]["pagination"]["next_cursor"].as_str().unwrap().to_owned();
    let second: Value = app
        .get(&format!("/v1/api-keys?limit=2&cursor={cursor}"), &store.test_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["data"].as_array().unwrap().len(), 2); // 3 created + the store's own test key
    assert_ne!(first["data"][0]["id"], second["data"][0]["id"]);

    let other = app.create_store().await;
    let response = app
        .get(&format!("/v1/api-keys?cursor={cursor}"), &other.test_key)
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "bad_request").await;
    let response = app
        .get(&format!("/v1/api-keys?cursor={cursor}"), &store.live_key)
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "bad_request").await;
    let response = app.get("/v1/api-keys?limit=101", &store.test_key).send().await.unwrap();
    assert_error(response, 422, "validation_failed").await;
}

/// The outbox: the key, its event and its audit entry are written in one transaction.
#[tokio::test]
async fn creating_a_key_writes_its_event_and_audit_entry() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let (id, secret) = app.create_key(&store.test_key, &["read_only"]).await;
    let events = cartwheel_tests::events(&app, &store.id, "test").await;
    let event = events
        .iter()
        .find(|event| event["type"] == "api_key.created")
        .expect("an api_key.created event");
    assert_eq!(event["resource"]["id"], json!(id));
    assert_eq!(event["store_id"], json!(store.id));
    assert!(
        !event.to_string().contains(&secret[8..]),
        "the event must not carry the secret"
    );
    let dynamodb = aws_sdk_dynamodb::Client::new(&cartwheel_tests::sdk().await);
    let audit = dynamodb
        .query()
        .table_name(&app.state.config.table)
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("S#{}#test#AUDIT", store.id)),
        )
        .send()
        .await
        .unwrap();
    assert!(audit
        .items()
        .iter()
        .any(|a| a["resource_id"].as_s().unwrap() == &id && a["actor"].as_s().unwrap() == &store.test_key_id));
}

/// `X-Api-Key` (reference API 001) is accepted beside `Authorization: Bearer`, and answers the same; with the
/// authorizer's cache on, as deployed on AWS, `Authorization` is the identity source API Gateway requires.
#[tokio::test]
async fn x_api_key_is_accepted_unless_the_authorizer_caches_on_authorization() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    let with_header = |app: &cartwheel_tests::TestApp, key: &str| {
        app.http
            .get(format!("{}/v1/api-keys", app.url))
            .header("x-api-key", key)
    };
    let listed = with_header(&app, &store.test_key).expect(200).await;
    assert_eq!(listed["data"][0]["mode"], "test");
    assert_error(
        with_header(&app, "ck_test_wrong").send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    // A body-changing request: its idempotency record belongs to the key, whichever header carried it.
    let create = |header: &'static str, value: String| {
        app.http
            .post(format!("{}/v1/brands", app.url))
            .header(header, value)
            .header("idempotency-key", "brand-1")
            .json(&json!({"name": "Acme"}))
    };
    let first = create("x-api-key", store.test_key.clone()).expect(201).await;
    let replayed = create("authorization", format!("Bearer {}", store.test_key))
        .expect(201)
        .await;
    assert_eq!(
        first["data"]["id"], replayed["data"]["id"],
        "the same caller, the same record"
    );

    let cached = cartwheel_tests::spawn_app_with(cartwheel_tests::Options {
        authorizer_cache_ttl: std::time::Duration::from_secs(300),
        ..Default::default()
    })
    .await;
    let store = cached.create_store().await;
    assert_error(
        with_header(&cached, &store.test_key).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(
        cached
            .get("/v1/api-keys", &store.test_key)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
