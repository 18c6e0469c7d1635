use cartwheel_tests::{assert_error, spawn_app, spawn_app_with, Expect, Options};
use serde_json::{json, Value};

#[tokio::test]
async fn endpoints_are_managed_and_their_secrets_shown_once() {
    let app = spawn_app_with(Options {
        allow_loopback: true,
        ..Default::default()
    })
    .await;
    let store = app.create_store().await;
    let key = &store.test_key;
    let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["product.*"], "description": "ERP"});
    let created: Value = app
        .post("/v1/webhooks", key, &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["data"]["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wh_"));

    let fetched: Value = app
        .get(&format!("/v1/webhooks/{id}"), key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(fetched["data"].get("secret").is_none());
    assert!(!fetched.to_string().contains(&secret[6..]));
    let listed: Value = app.get("/v1/webhooks", key).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["data"][0]["id"], json!(id));
    assert!(!listed.to_string().contains(&secret[6..]));
    // The table holds the secret only sealed.
    let dynamodb = aws_sdk_dynamodb::Client::new(&app.sdk);
    let items = dynamodb
        .scan()
        .table_name(&app.state.config.table)
        .send()
        .await
        .unwrap();
    assert!(
        !format!("{:?}", items.items()).contains(&secret[6..]),
        "a secret was stored in plaintext"
    );

    let patch = json!({"events": ["*"], "enabled": false});
    let response = app
        .http
        .patch(format!("{}/v1/webhooks/{id}", app.url))
        .bearer_auth(key)
        .json(&patch)
        .send()
        .await
        .unwrap();
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["data"]["events"], json!(["*"]));
    assert_eq!(updated["data"]["enabled"], false);

    let rotated: Value = app
        .post(&format!("/v1/webhooks/{id}/rotate-secret"), key, &json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_secret = rotated["data"]["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    let deliveries: Value = app
        .get(&format!("/v1/webhooks/{id}/deliveries"), key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(deliveries["data"].as_array().unwrap().is_empty());
    assert_eq!(
        app.delete(&format!("/v1/webhooks/{id}"), key)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_error(
        app.get(&format!("/v1/webhooks/{id}"), key).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn private_loopback_and_metadata_urls_are_refused() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    for url in [
        "http://127.0.0.1/hook",
        "https://127.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "https://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://192.168.1.10/hook",
        "https://[::1]/hook",
        "https://localhost/hook",
        "ftp://example.com/hook",
        "not a url",
    ] {
        let body = json!({"url": url, "events": ["*"]});
        let response = app.post("/v1/webhooks", &store.live_key, &body).send().await.unwrap();
        let error = assert_error(response, 422, "validation_failed").await;
        assert_eq!(error["error"]["details"][0]["field"], "url", "{url}");
    }
    let bad_events = json!({"url": "https://127.0.0.1/x", "events": ["Orders!"]});
    let response = app
        .post("/v1/webhooks", &store.live_key, &bad_events)
        .send()
        .await
        .unwrap();
    assert_error(response, 422, "validation_failed").await;
}

#[tokio::test]
async fn the_loopback_flag_admits_loopback_and_http_but_nothing_private() {
    let app = spawn_app_with(Options {
        allow_loopback: true,
        ..Default::default()
    })
    .await;
    let store = app.create_store().await;
    app.post(
        "/v1/webhooks",
        &store.live_key,
        &json!({"url": "http://127.0.0.1:9/x", "events": ["*"]}),
    )
    .expect(201)
    .await;
    for url in ["http://10.0.0.1/x", "http://169.254.169.254/x", "http://172.16.0.1/x"] {
        let response = app
            .post("/v1/webhooks", &store.live_key, &json!({"url": url, "events": ["*"]}))
            .send()
            .await
            .unwrap();
        assert_error(response, 422, "validation_failed").await;
    }
}

#[tokio::test]
async fn webhook_routes_need_the_webhooks_scope_and_stay_in_their_store() {
    let app = spawn_app_with(Options {
        allow_loopback: true,
        ..Default::default()
    })
    .await;
    let store = app.create_store().await;
    let body = json!({"url": "http://127.0.0.1:9/x", "events": ["*"]});
    let created: Value = app
        .post("/v1/webhooks", &store.test_key, &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["data"]["id"].as_str().unwrap();
    let (_, writer) = app.create_key(&store.test_key, &["write"]).await;
    assert_error(app.get("/v1/webhooks", &writer).send().await.unwrap(), 403, "forbidden").await;
    assert_error(
        app.post("/v1/webhooks", &writer, &body).send().await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    let other = app.create_store().await;
    for key in [&other.test_key, &store.live_key] {
        assert_error(
            app.get(&format!("/v1/webhooks/{id}"), key).send().await.unwrap(),
            404,
            "not_found",
        )
        .await;
        assert_error(
            app.delete(&format!("/v1/webhooks/{id}"), key).send().await.unwrap(),
            404,
            "not_found",
        )
        .await;
    }
}
