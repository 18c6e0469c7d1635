use cartwheel_tests::{assert_error, spawn_app, Expect, TestApp, TestStore};
use serde_json::{json, Value};

fn mug(name: &str, sku: &str, amount: i64) -> Value {
    json!({"name": name, "sku": sku, "price": {"amount": amount, "currency": "USD"}})
}

async fn create(app: &TestApp, key: &str, body: &Value) -> Value {
    let response = app.post("/v1/products", key, body).send().await.unwrap();
    assert_eq!(response.status(), 201, "{body}");
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let product: Value = response.json().await.unwrap();
    assert_eq!(etag, format!("\"{}\"", product["data"]["version"]));
    product["data"].clone()
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn setup() -> (TestApp, TestStore) {
    let app = spawn_app().await;
    let store = app.create_store().await;
    (app, store)
}

#[tokio::test]
async fn products_are_created_read_by_id_and_slug_updated_and_deleted() {
    let (app, store) = setup().await;
    let key = &store.test_key;
    let product = create(&app, key, &mug("Crème Mug", "MUG-1", 1200)).await;
    assert_eq!(product["slug"], "creme-mug");
    assert_eq!(product["status"], "draft");
    assert_eq!(product["type"], "physical");
    let id = product["id"].as_str().unwrap();

    for path in [format!("/v1/products/{id}"), "/v1/products/creme-mug".to_owned()] {
        let response = app.get(&path, key).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["etag"], "\"1\"");
        assert_eq!(json_of(response).await["data"]["id"], id);
    }

    let patch =
        json!({"name": "Big Crème Mug", "description": "Holds a lot", "price": {"amount": 1500, "currency": "USD"}});
    let response = app
        .http
        .patch(format!("{}/v1/products/{id}", app.url))
        .bearer_auth(key)
        .header("if-match", "\"1\"")
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let updated = json_of(response).await["data"].clone();
    assert_eq!(updated["name"], "Big Crème Mug");
    assert_eq!(updated["slug"], "creme-mug", "the slug stays");
    assert_eq!(updated["price"]["amount"], 1500);

    // A stale If-Match is refused, and nothing changes.
    let response = app
        .http
        .patch(format!("{}/v1/products/{id}", app.url))
        .bearer_auth(key)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Lost"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 412, "precondition_failed").await;
    let response = app
        .http
        .delete(format!("{}/v1/products/{id}", app.url))
        .bearer_auth(key)
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_error(response, 412, "precondition_failed").await;

    assert_eq!(
        app.delete(&format!("/v1/products/{id}"), key)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_error(
        app.get(&format!("/v1/products/{id}"), key).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get("/v1/products/creme-mug", key).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    // Its SKU and slug are free again.
    let again = create(&app, key, &mug("Crème Mug", "MUG-1", 1200)).await;
    assert_eq!(again["slug"], "creme-mug");
}

#[tokio::test]
async fn duplicate_skus_and_slugs_are_409_and_generated_slugs_step_aside() {
    let (app, store) = setup().await;
    let key = &store.test_key;
    let first = create(&app, key, &mug("Blue Mug", "MUG-BL", 900)).await;
    let response = app
        .post("/v1/products", key, &mug("Other", "MUG-BL", 900))
        .send()
        .await
        .unwrap();
    let body = assert_error(response, 409, "conflict").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("MUG-BL"));
    let mut explicit = mug("Other", "MUG-OT", 900);
    explicit["slug"] = json!("blue-mug");
    assert_error(
        app.post("/v1/products", key, &explicit).send().await.unwrap(),
        409,
        "conflict",
    )
    .await;
    // Same name, no slug given: the generated slug gets a suffix instead of failing.
    let twin = create(&app, key, &mug("Blue Mug", "MUG-BL-2", 900)).await;
    assert!(twin["slug"].as_str().unwrap().starts_with("blue-mug-"), "{twin}");
    // Changing a SKU to a taken one is refused too.
    let twin_id = twin["id"].as_str().unwrap();
    let response = app
        .http
        .patch(format!("{}/v1/products/{twin_id}", app.url))
        .bearer_auth(key)
        .json(&json!({"sku": "MUG-BL"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 409, "conflict").await;
    // The same SKU is fine in another store and in the other mode.
    create(&app, &store.live_key, &mug("Blue Mug", "MUG-BL", 900)).await;
    let other = app.create_store().await;
    create(&app, &other.test_key, &mug("Blue Mug", "MUG-BL", 900)).await;
    assert_eq!(first["sku"], "MUG-BL");
}

#[tokio::test]
async fn concurrent_creates_with_one_sku_make_one_product() {
    let (app, store) = setup().await;
    let bodies: Vec<Value> = (0..8).map(|i| mug(&format!("Racer {i}"), "RACE-1", 100)).collect();
    let responses = futures_join_all(
        bodies
            .iter()
            .map(|b| app.post("/v1/products", &store.test_key, b).send()),
    )
    .await;
    let statuses: Vec<u16> = responses.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    let list = json_of(
        app.get("/v1/products?sku=RACE-1", &store.test_key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&list).len(), 1);
}

async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.collect();
    let mut out = Vec::new();
    // Polled together so the requests overlap.
    let mut pinned: Vec<_> = handles.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, future) in pinned.iter_mut().enumerate() {
            if results[i].is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => results[i] = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.extend(results.into_iter().flatten());
    out
}

#[tokio::test]
async fn validation_errors_name_each_field() {
    let (app, store) = setup().await;
    let bad = json!({
        "name": "", "slug": "Bad Slug", "sku": "has space", "type": "digital", "weight_grams": 5,
        "price": {"amount": -1, "currency": "USD"}, "images": [{"url": "ftp://x"}], "status": "recalled"
    });
    let body = assert_error(
        app.post("/v1/products", &store.test_key, &bad).send().await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    for expected in [
        "status",
        "name",
        "slug",
        "sku",
        "price.amount",
        "images[0].url",
        "weight_grams",
    ] {
        assert!(fields.contains(&expected), "{expected} missing from {fields:?}");
    }
    let wrong_currency = json!({"name": "x", "price": {"amount": 1, "currency": "XYZ"}});
    let body = assert_error(
        app.post("/v1/products", &store.test_key, &wrong_currency)
            .send()
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["error"]["details"][0]["field"], "price.currency");
    let missing_category = json!({"name": "x", "price": {"amount": 1, "currency": "USD"}, "category_ids": ["cat_01JD3M5W7Q6V8X9Y0Z1A2B3C4D"]});
    let body = assert_error(
        app.post("/v1/products", &store.test_key, &missing_category)
            .send()
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["error"]["details"][0]["field"], "category_ids[0]");
}

#[tokio::test]
async fn status_actions_follow_the_machine_and_recalls_emit_their_event() {
    let (app, store) = setup().await;
    let key = &store.test_key;
    let id = create(&app, key, &mug("Mug", "M-1", 100)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let act = |action: &str, body: Option<Value>| {
        let request = app
            .http
            .post(format!("{}/v1/products/{id}/{action}", app.url))
            .bearer_auth(key);
        match body {
            Some(body) => request.json(&body),
            None => request,
        }
        .send()
    };
    let published = json_of(act("publish", None).await.unwrap()).await;
    assert_eq!(published["data"]["status"], "active");
    let body = assert_error(act("publish", None).await.unwrap(), 409, "conflict").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("allowed actions: archive, discontinue, recall"),
        "{body}"
    );
    assert_error(act("recall", None).await.unwrap(), 422, "validation_failed").await;
    let recalled = json_of(
        act("recall", Some(json!({"reason": "lead in the glaze"})))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(recalled["data"]["status"], "recalled");
    assert_eq!(recalled["data"]["recall_reason"], "lead in the glaze");
    assert_error(act("archive", None).await.unwrap(), 409, "conflict").await;
    assert_error(act("explode", None).await.unwrap(), 404, "not_found").await;

    let events = cartwheel_tests::events(&app, &store.id, "test").await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for expected in ["product.created", "product.updated", "recall.created"] {
        assert!(types.contains(&expected), "{expected} missing from {types:?}");
    }
    let recall = events.iter().find(|e| e["type"] == "recall.created").unwrap();
    assert_eq!(recall["data"]["reason"], "lead in the glaze");
    let update = events.iter().rev().find(|e| e["type"] == "product.updated").unwrap();
    assert_eq!(update["changed_fields"], json!(["status", "recall_reason"]));
}

#[tokio::test]
async fn lists_filter_sort_and_page_through_their_indexes() {
    let (app, store) = setup().await;
    let key = &store.test_key;
    let brand = json_of(
        app.post("/v1/brands", key, &json!({"name": "Acme"}))
            .send()
            .await
            .unwrap(),
    )
    .await["data"]["id"]
        .clone();
    let category = json_of(
        app.post("/v1/categories", key, &json!({"name": "Mugs"}))
            .send()
            .await
            .unwrap(),
    )
    .await["data"]["id"]
        .clone();
    let mut made = Vec::new();
    for (name, price, status) in [
        ("Cedar", 300, "active"),
        ("Alder", 100, "draft"),
        ("Birch", 200, "active"),
        ("Dogwood", 400, "active"),
    ] {
        let mut body = mug(name, &format!("SKU-{name}"), price);
        body["status"] = json!(status);
        if name != "Dogwood" {
            body["brand_id"] = brand.clone();
            body["category_ids"] = json!([category.clone()]);
        }
        made.push(create(&app, key, &body).await["id"].as_str().unwrap().to_owned());
    }
    let list = |query: &str| app.get(&format!("/v1/products?{query}"), key).send();
    let names = |list: &Value| -> Vec<String> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };

    let newest_first = json_of(list("").await.unwrap()).await;
    assert_eq!(ids(&newest_first), made.iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(
        names(&json_of(list("sort=name:asc").await.unwrap()).await),
        ["Alder", "Birch", "Cedar", "Dogwood"]
    );
    assert_eq!(
        names(&json_of(list("sort=price:desc").await.unwrap()).await),
        ["Dogwood", "Cedar", "Birch", "Alder"]
    );
    assert_eq!(
        names(&json_of(list("status=active&sort=price:asc").await.unwrap()).await),
        ["Birch", "Cedar", "Dogwood"]
    );
    let in_category = json_of(
        list(&format!(
            "category_id={}&status=active&sort=name:asc",
            category.as_str().unwrap()
        ))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(names(&in_category), ["Birch", "Cedar"]);
    assert_eq!(
        names(
            &json_of(
                list(&format!("brand_id={}&sort=name:desc", brand.as_str().unwrap()))
                    .await
                    .unwrap()
            )
            .await
        ),
        ["Cedar", "Birch", "Alder"]
    );
    assert_eq!(names(&json_of(list("sku=SKU-Birch").await.unwrap()).await), ["Birch"]);
    assert_eq!(names(&json_of(list("q=ced").await.unwrap()).await), ["Cedar"]);
    assert_eq!(
        names(&json_of(list("is_visible=true&type=physical&sort=name:asc").await.unwrap()).await).len(),
        4
    );
    assert!(names(&json_of(list("created_to=2000-01-01T00:00:00Z").await.unwrap()).await).is_empty());
    assert_eq!(
        names(&json_of(list("created_from=2000-01-01T00:00:00Z").await.unwrap()).await).len(),
        4
    );

    let first = json_of(list("sort=name:asc&limit=3").await.unwrap()).await;
    assert_eq!(names(&first), ["Alder", "Birch", "Cedar"]);
    assert_eq!(first["meta"]["pagination"]["has_more"], true);
    let cursor = first["meta"]["pagination"]["next_cursor"].as_str().unwrap();
    let second = json_of(list(&format!("sort=name:asc&limit=3&cursor={cursor}")).await.unwrap()).await;
    assert_eq!(names(&second), ["Dogwood"]);
    let page_two = json_of(list("sort=name:asc&limit=3&page=2").await.unwrap()).await;
    assert_eq!(names(&page_two), ["Dogwood"]);

    for bad in [
        "sort=weight",
        "status=lost",
        "limit=0",
        "created_from=yesterday",
        "q=x&sort=name",
    ] {
        let response = list(bad).await.unwrap();
        assert!(
            [400, 422].contains(&response.status().as_u16()),
            "{bad}: {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn categories_nest_without_cycles_and_stay_while_used() {
    let (app, store) = setup().await;
    let key = &store.test_key;
    let app = &app;
    let make = |body: Value| async move {
        json_of(app.post("/v1/categories", key, &body).send().await.unwrap()).await["data"].clone()
    };
    let top = make(json!({"name": "Kitchen"})).await;
    let top_id = top["id"].as_str().unwrap().to_owned();
    let mid = make(json!({"name": "Drinkware", "parent_id": top_id})).await;
    let mid_id = mid["id"].as_str().unwrap().to_owned();
    let leaf = make(json!({"name": "Mugs", "parent_id": mid_id})).await;
    let leaf_id = leaf["id"].as_str().unwrap().to_owned();

    let cycle = app
        .http
        .patch(format!("{}/v1/categories/{top_id}", app.url))
        .bearer_auth(key)
        .json(&json!({"parent_id": leaf_id}))
        .send()
        .await
        .unwrap();
    let body = assert_error(cycle, 422, "validation_failed").await;
    assert_eq!(body["error"]["details"][0]["field"], "parent_id");
    let missing_parent = app
        .post(
            "/v1/categories",
            key,
            &json!({"name": "x", "parent_id": "cat_01JD3M5W7Q6V8X9Y0Z1A2B3C4D"}),
        )
        .send()
        .await
        .unwrap();
    assert_error(missing_parent, 422, "validation_failed").await;

    let top_now = json_of(app.get(&format!("/v1/categories/{top_id}"), key).send().await.unwrap()).await;
    assert_eq!(top_now["data"]["child_count"], 1);
    assert_error(
        app.delete(&format!("/v1/categories/{top_id}"), key)
            .send()
            .await
            .unwrap(),
        409,
        "conflict",
    )
    .await;

    let product = create(app, key, &mug("Mug", "M-1", 100)).await;
    let product_id = product["id"].as_str().unwrap();
    let attached = app
        .post(
            &format!("/v1/products/{product_id}/categories/{leaf_id}"),
            key,
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(attached).await["data"]["category_ids"], json!([leaf_id]));
    let leaf_now = json_of(app.get(&format!("/v1/categories/{leaf_id}"), key).send().await.unwrap()).await;
    assert_eq!(leaf_now["data"]["product_count"], 1);
    assert_error(
        app.delete(&format!("/v1/categories/{leaf_id}"), key)
            .send()
            .await
            .unwrap(),
        409,
        "conflict",
    )
    .await;
    let detached = app
        .delete(&format!("/v1/products/{product_id}/categories/{leaf_id}"), key)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(detached).await["data"]["category_ids"], json!([]));
    assert_eq!(
        app.delete(&format!("/v1/categories/{leaf_id}"), key)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        app.delete(&format!("/v1/categories/{mid_id}"), key)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        app.delete(&format!("/v1/categories/{top_id}"), key)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );

    let listed = json_of(app.get("/v1/categories", key).send().await.unwrap()).await;
    assert!(listed["data"].as_array().unwrap().is_empty());
    let renamed = app
        .http
        .patch(format!("{}/v1/categories/{top_id}", app.url))
        .bearer_auth(key)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_error(renamed, 404, "not_found").await;
}

#[tokio::test]
async fn brands_are_managed_and_kept_while_used() {
    let (app, store) = setup().await;
    let key = &store.test_key;
    let brand = json_of(
        app.post(
            "/v1/brands",
            key,
            &json!({"name": "Acme", "logo_url": "https://cdn.example.com/acme.png"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let id = brand["data"]["id"].as_str().unwrap().to_owned();
    let response = app
        .http
        .patch(format!("{}/v1/brands/{id}", app.url))
        .bearer_auth(key)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Acme Co"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(response).await["data"]["name"], "Acme Co");
    let stale = app
        .http
        .patch(format!("{}/v1/brands/{id}", app.url))
        .bearer_auth(key)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_error(stale, 412, "precondition_failed").await;
    let bad = app
        .post("/v1/brands", key, &json!({"name": "x", "logo_url": "http://insecure"}))
        .send()
        .await
        .unwrap();
    assert_error(bad, 422, "validation_failed").await;

    let mut body = mug("Mug", "M-1", 100);
    body["brand_id"] = json!(id);
    let product = create(&app, key, &body).await;
    assert_error(
        app.delete(&format!("/v1/brands/{id}"), key).send().await.unwrap(),
        409,
        "conflict",
    )
    .await;
    let product_id = product["id"].as_str().unwrap();
    app.http
        .patch(format!("{}/v1/products/{product_id}", app.url))
        .bearer_auth(key)
        .json(&json!({"brand_id": null}))
        .expect(200)
        .await;
    assert_eq!(
        app.delete(&format!("/v1/brands/{id}"), key)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_error(
        app.get(&format!("/v1/brands/{id}"), key).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    assert!(json_of(app.get("/v1/brands", key).send().await.unwrap()).await["data"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn search_matches_prefixes_without_accents_and_counts_facets() {
    let (app, store) = setup().await;
    let key = &store.test_key;
    let category = json_of(
        app.post("/v1/categories", key, &json!({"name": "Cups"}))
            .send()
            .await
            .unwrap(),
    )
    .await["data"]["id"]
        .clone();
    let mut body = mug("Crème Brûlée Cup", "CB-100", 500);
    body["category_ids"] = json!([category.clone()]);
    create(&app, key, &body).await;
    create(&app, key, &mug("Creamer Jug", "CJ-200", 700)).await;
    create(&app, key, &mug("Teapot", "TP-300", 900)).await;

    let search = |query: &str| app.get(&format!("/v1/search?{query}"), key).send();
    let names = |found: &Value| -> Vec<String> {
        let mut names: Vec<String> = found["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        names(&json_of(search("q=CRE").await.unwrap()).await),
        ["Creamer Jug", "Crème Brûlée Cup"]
    );
    assert_eq!(
        names(&json_of(search("q=brulee").await.unwrap()).await),
        ["Crème Brûlée Cup"]
    );
    assert_eq!(
        names(&json_of(search("q=cre%20cup").await.unwrap()).await),
        ["Crème Brûlée Cup"]
    );
    assert_eq!(names(&json_of(search("q=tp-300").await.unwrap()).await), ["Teapot"]);
    assert!(names(&json_of(search("q=zebra").await.unwrap()).await).is_empty());

    let faceted = json_of(search("q=cr&facets=category_id,status").await.unwrap()).await;
    let facets = &faceted["meta"]["facets"];
    assert_eq!(facets["category_id"][category.as_str().unwrap()], 1);
    assert_eq!(facets["status"]["draft"], 2);
    assert_eq!(facets["complete"], true);
    assert_error(search("q=cr&facets=colour").await.unwrap(), 422, "validation_failed").await;

    let suggestions = json_of(app.get("/v1/search/suggest?prefix=Te", key).send().await.unwrap()).await;
    assert_eq!(suggestions["data"][0]["text"], "Teapot");
    assert_error(
        app.get("/v1/search/suggest?prefix=%20", key).send().await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn search_finds_description_and_localized_words_with_totals_and_suggests_by_type() {
    let (app, store) = setup().await;
    let key = &store.test_key;
    let mut body = mug("Morning Mug", "MM-1", 500);
    body["description"] = json!("<p>Hand-thrown <b>stoneware</b> &amp; a speckled glaze.</p>");
    body["localized"] = json!({"fr": {"title": "Tasse du matin", "description": "Grès émaillé"}});
    let mug_id = create(&app, key, &body).await["id"].as_str().unwrap().to_owned();
    for i in 0..5 {
        let mut other = mug(&format!("Plate {i}"), &format!("PL-{i}"), 300);
        other["description"] = json!("Speckled stoneware plate");
        create(&app, key, &other).await;
    }
    let search = |query: String| {
        let app = &app;
        async move { json_of(app.get(&format!("/v1/search?{query}"), key).send().await.unwrap()).await }
    };
    let ids = |found: &Value| -> Vec<String> {
        found["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    };

    // Description words (not the markup), localized titles and descriptions, without accents.
    for q in ["hand", "glaze", "tasse", "matin", "gres%20emaille", "morning%20speck"] {
        assert_eq!(ids(&search(format!("q={q}")).await), [mug_id.as_str()], "q={q}");
    }
    for q in ["strong", "amp", "nbsp"] {
        assert!(ids(&search(format!("q={q}")).await).is_empty(), "q={q}");
    }

    // Totals: exact on the last page read from its start, counted otherwise; pages by number.
    let all = search("q=speckled&per_page=4".to_owned()).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 4);
    assert_eq!(all["meta"]["pagination"]["total"], 6);
    let second = search("q=speckled&per_page=4&page=2".to_owned()).await;
    assert_eq!(second["data"].as_array().unwrap().len(), 2);
    assert_eq!(second["meta"]["pagination"]["total"], 6);
    let mut seen = ids(&all);
    seen.extend(ids(&second));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 6);
    assert_eq!(search("q=zebra".to_owned()).await["meta"]["pagination"]["total"], 0);

    // A new description replaces the old words in the index.
    let patched = app
        .patch(
            &format!("/v1/products/{mug_id}"),
            key,
            &json!({"description": "Porcelain"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert!(ids(&search("q=glaze".to_owned()).await).is_empty());
    assert_eq!(ids(&search("q=porcel".to_owned()).await), [mug_id.as_str()]);
    assert_eq!(search("q=speckled".to_owned()).await["meta"]["pagination"]["total"], 5);

    // Suggestions: products by name, categories and brands, filtered by `type`.
    let category = json_of(
        app.post("/v1/categories", key, &json!({"name": "Morning Ware"}))
            .send()
            .await
            .unwrap(),
    )
    .await["data"]["id"]
        .clone();
    let brand = json_of(
        app.post("/v1/brands", key, &json!({"name": "Morrow"}))
            .send()
            .await
            .unwrap(),
    )
    .await["data"]["id"]
        .clone();
    let suggest = |query: &str| {
        let (app, query) = (&app, query.to_owned());
        async move {
            let found = json_of(
                app.get(&format!("/v1/search/suggest?{query}"), key)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            found["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        s["type"].as_str().unwrap().to_owned(),
                        s["id"].clone(),
                        s["text"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let everything = suggest("prefix=mor").await;
    assert_eq!(everything.len(), 3, "{everything:?}");
    assert!(everything.contains(&("product".to_owned(), json!(mug_id), "Morning Mug".to_owned())));
    assert!(everything.contains(&("category".to_owned(), category.clone(), "Morning Ware".to_owned())));
    assert!(everything.contains(&("brand".to_owned(), brand.clone(), "Morrow".to_owned())));
    assert_eq!(
        suggest("prefix=mor&type=brand").await,
        [("brand".to_owned(), brand.clone(), "Morrow".to_owned())]
    );
    // Description words are for search, not suggestions.
    assert!(suggest("prefix=porcel").await.is_empty());
    // A renamed category is suggested by its new name only; a deleted brand not at all.
    let renamed = app
        .patch(
            &format!("/v1/categories/{}", category.as_str().unwrap()),
            key,
            &json!({"name": "Evening Ware"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    assert!(suggest("prefix=mor&type=category").await.is_empty());
    assert_eq!(suggest("prefix=even").await.len(), 1);
    let deleted = app
        .delete(&format!("/v1/brands/{}", brand.as_str().unwrap()), key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(suggest("prefix=morr").await.is_empty());
    assert_error(
        app.get("/v1/search/suggest?prefix=mo&type=order", key)
            .send()
            .await
            .unwrap(),
        400,
        "bad_request",
    )
    .await;
}

#[tokio::test]
async fn catalog_routes_need_keys_and_scopes_and_stay_in_their_store() {
    let (app, store) = setup().await;
    let product = create(&app, &store.test_key, &mug("Mug", "M-1", 100)).await;
    let id = product["id"].as_str().unwrap();
    let (_, reader) = app.create_key(&store.test_key, &["products:read"]).await;
    let (_, orders_only) = app.create_key(&store.test_key, &["orders:read"]).await;

    let no_key = app.http.get(format!("{}/v1/products", app.url)).send().await.unwrap();
    assert_error(no_key, 401, "unauthorized").await;
    assert_eq!(
        app.get(&format!("/v1/products/{id}"), &reader)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_error(
        app.post("/v1/products", &reader, &mug("x", "X-1", 1))
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.get("/v1/products", &orders_only).send().await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.get("/v1/brands", &orders_only).send().await.unwrap(),
        403,
        "forbidden",
    )
    .await;

    // The live key of the same store and another store's key see nothing of it.
    let other = app.create_store().await;
    for key in [&store.live_key, &other.test_key] {
        assert_error(
            app.get(&format!("/v1/products/{id}"), key).send().await.unwrap(),
            404,
            "not_found",
        )
        .await;
        assert_error(app.get("/v1/products/mug", key).send().await.unwrap(), 404, "not_found").await;
        assert_error(
            app.delete(&format!("/v1/products/{id}"), key).send().await.unwrap(),
            404,
            "not_found",
        )
        .await;
        let patch = app
            .http
            .patch(format!("{}/v1/products/{id}", app.url))
            .bearer_auth(key)
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap();
        assert_error(patch, 404, "not_found").await;
        assert!(ids(&json_of(app.get("/v1/products", key).send().await.unwrap()).await).is_empty());
        assert!(ids(&json_of(app.get("/v1/search?q=mug", key).send().await.unwrap()).await).is_empty());
    }
    assert_eq!(
        app.get(&format!("/v1/products/{id}"), &store.test_key)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn options_and_variants_with_unique_skus_and_combinations() {
    let (app, store) = setup().await;
    let key = &store.test_key;
    let mut body = mug("Tee", "TEE", 2000);
    body["options"] = json!([{"name": "Size", "values": ["S", "M"]}]);
    let product = create(&app, key, &body).await;
    let id = product["id"].as_str().unwrap().to_owned();
    let url = |path: &str| format!("/v1/products/{id}{path}");

    let with_color = app
        .post(
            &url("/options"),
            key,
            &json!({"name": "Color", "values": ["Red", "Blue"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(with_color.status(), 201);
    assert_eq!(json_of(with_color).await["data"]["options"][1]["name"], "Color");
    let duplicate_option = app
        .post(&url("/options"), key, &json!({"name": "Color", "values": ["Green"]}))
        .send()
        .await
        .unwrap();
    assert_error(duplicate_option, 409, "conflict").await;

    let first = json!({"sku": "TEE-M-BLUE", "price": {"amount": 2500, "currency": "USD"}, "option_values": {"Size": "M", "Color": "Blue"}});
    let created = app.post(&url("/variants"), key, &first).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let variant = json_of(created).await["data"].clone();
    let variant_id = variant["id"].as_str().unwrap().to_owned();
    assert!(variant_id.starts_with("var_"));

    let same_values = json!({"option_values": {"Size": "M", "Color": "Blue"}});
    assert_error(
        app.post(&url("/variants"), key, &same_values).send().await.unwrap(),
        409,
        "conflict",
    )
    .await;
    let product_sku = json!({"sku": "TEE", "option_values": {"Size": "S", "Color": "Red"}});
    assert_error(
        app.post(&url("/variants"), key, &product_sku).send().await.unwrap(),
        409,
        "conflict",
    )
    .await;
    assert_error(
        app.post("/v1/products", key, &mug("Other", "TEE-M-BLUE", 1))
            .send()
            .await
            .unwrap(),
        409,
        "conflict",
    )
    .await;
    let bad = json!({"price": {"amount": 1, "currency": "EUR"}, "option_values": {"Size": "XL"}});
    let body = assert_error(
        app.post(&url("/variants"), key, &bad).send().await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["option_values.Size", "option_values.Color", "price.currency"]);
    let late_option = app
        .post(&url("/options"), key, &json!({"name": "Fit", "values": ["Slim"]}))
        .send()
        .await
        .unwrap();
    assert_error(late_option, 409, "conflict").await;

    let generated = app
        .post(&url("/variants/generate"), key, &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(generated.status(), 201);
    assert_eq!(json_of(generated).await["data"].as_array().unwrap().len(), 3);
    let again = json_of(
        app.post(&url("/variants/generate"), key, &json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(again["data"].as_array().unwrap().is_empty());
    let listed = json_of(app.get(&url("/variants"), key).send().await.unwrap()).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 4);

    let variant_url = format!("{}/v1/products/{id}/variants/{variant_id}", app.url);
    let patched = app
        .http
        .patch(&variant_url)
        .bearer_auth(key)
        .header("if-match", "\"1\"")
        .json(&json!({"sku": "TEE-MB", "price": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(patched.headers()["etag"], "\"2\"");
    let patched = json_of(patched).await;
    assert_eq!(patched["data"]["sku"], "TEE-MB");
    assert!(patched["data"].get("price").is_none());
    let stale = app
        .http
        .patch(&variant_url)
        .bearer_auth(key)
        .header("if-match", "\"1\"")
        .json(&json!({"sku": "X"}))
        .send()
        .await
        .unwrap();
    assert_error(stale, 412, "precondition_failed").await;
    // The old SKU is free again, the new one is taken.
    create(&app, key, &mug("Reuse", "TEE-M-BLUE", 1)).await;
    assert_error(
        app.post("/v1/products", key, &mug("Clash", "TEE-MB", 1))
            .send()
            .await
            .unwrap(),
        409,
        "conflict",
    )
    .await;

    let other = app.create_store().await;
    assert_error(
        app.get(&url("/variants"), &other.test_key).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.delete(&url(&format!("/variants/{variant_id}")), &other.test_key)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;

    assert_eq!(
        app.delete(&url(&format!("/variants/{variant_id}")), key)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_error(
        app.get(&url(&format!("/variants/{variant_id}")), key)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    // Deleting the product takes its variants along, and frees their SKUs and combinations.
    assert_eq!(
        app.delete(&format!("/v1/products/{id}"), key)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    create(&app, key, &mug("Free again", "TEE-MB", 1)).await;
    let types: Vec<String> = cartwheel_tests::events(&app, &store.id, "test")
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    for expected in [
        "variant.created",
        "variant.updated",
        "variant.deleted",
        "product.deleted",
    ] {
        assert!(types.iter().any(|t| t == expected), "{expected} missing");
    }
}

/// Every catalog route in the OpenAPI document: 401 without a key, 403 without its scope (before any body is
/// read), and 404 for a resource of another store.
#[tokio::test]
async fn every_catalog_route_needs_a_key_and_its_scope_and_stays_in_its_store() {
    let (app, store) = setup().await;
    let key = &store.test_key;
    let category = json_of(
        app.post("/v1/categories", key, &json!({"name": "Mugs"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let brand = json_of(
        app.post("/v1/brands", key, &json!({"name": "Acme"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let mut body = mug("Mug", "M-1", 100);
    body["options"] = json!([{"name": "Size", "values": ["S"]}]);
    let product = create(&app, key, &body).await;
    let product_id = product["id"].as_str().unwrap();
    let variants = app
        .post(&format!("/v1/products/{product_id}/variants/generate"), key, &json!({}))
        .send()
        .await
        .unwrap();
    let variant = json_of(variants).await["data"][0]["id"].as_str().unwrap().to_owned();
    let (category, brand) = (
        category["data"]["id"].as_str().unwrap(),
        brand["data"]["id"].as_str().unwrap(),
    );
    let (_, orders_only) = app.create_key(key, &["orders:read"]).await;
    let other = app.create_store().await;

    let doc = cartwheel_gateway::openapi_document();
    let mut checked = Vec::new();
    for (path, item) in &doc.paths.paths {
        if !["/v1/products", "/v1/categories", "/v1/brands", "/v1/search"]
            .iter()
            .any(|p| path.starts_with(p))
        {
            continue;
        }
        let id = if path.starts_with("/v1/categories") {
            category
        } else if path.starts_with("/v1/brands") {
            brand
        } else {
            product_id
        };
        let concrete = path
            .replace("{id}", id)
            .replace("{variant_id}", &variant)
            .replace("{category_id}", category)
            .replace("{action}", "publish");
        let query = if path.starts_with("/v1/search") {
            "?q=mug&prefix=mu"
        } else {
            ""
        };
        let url = format!("{}{concrete}{query}", app.url);
        let operations = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, _) in operations.into_iter().filter(|(_, operation)| operation.is_some()) {
            let request = |key: Option<&str>| {
                let request = app.http.request(method.parse().unwrap(), &url).json(&json!({}));
                match key {
                    Some(key) => request.bearer_auth(key),
                    None => request,
                }
                .send()
            };
            assert_error(request(None).await.unwrap(), 401, "unauthorized").await;
            let forbidden = request(Some(&orders_only)).await.unwrap();
            assert_eq!(forbidden.status(), 403, "{method} {path} without its scope");
            if path.contains('{') && (method == "GET" || method == "DELETE") {
                let response = request(Some(&other.test_key)).await.unwrap();
                assert_eq!(response.status(), 404, "{method} {path} from another store");
            }
            checked.push(format!("{method} {path}"));
        }
    }
    assert!(checked.len() >= 24, "{checked:?}");
    // Nothing of the store was touched by the refused requests.
    assert_eq!(
        app.get(&format!("/v1/products/{product_id}"), key)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.get(&format!("/v1/products/{product_id}/variants/{variant}"), key)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// An option grows by values (as 001's `POST /options/{id}/values`) while the product has variants: they keep
/// theirs, and `generate` makes the combinations the new values allow.
#[tokio::test]
async fn an_option_takes_more_values_and_its_variants_keep_theirs() {
    let app = cartwheel_tests::spawn_app().await;
    let store = app.create_store().await;
    let key = store.test_key.as_str();
    let body = json!({"name": "Tee", "price": {"amount": 900, "currency": "USD"},
                      "options": [{"name": "Size", "values": ["S", "M"]}]});
    let product = app.post("/v1/products", key, &body).expect_data(201).await;
    let id = product["id"].as_str().unwrap();
    app.post(&format!("/v1/products/{id}/variants/generate"), key, &json!({}))
        .expect(201)
        .await;
    let values = |option: &str| format!("/v1/products/{id}/options/{option}/values");

    let grown = app
        .post(&values("Size"), key, &json!({"values": ["L", " XL "]}))
        .expect_data(201)
        .await;
    assert_eq!(grown["options"][0]["values"], json!(["S", "M", "L", "XL"]));
    assert_eq!(grown["version"], product["version"].as_u64().unwrap() + 1);
    let variants = app.get(&format!("/v1/products/{id}/variants"), key).expect(200).await;
    assert_eq!(variants["data"].as_array().unwrap().len(), 2, "the variants are kept");
    let made = app
        .post(&format!("/v1/products/{id}/variants/generate"), key, &json!({}))
        .expect_data(201)
        .await;
    assert_eq!(made.as_array().unwrap().len(), 2, "L and XL");

    let again = app
        .post(&values("Size"), key, &json!({"values": ["XXL", "M"]}))
        .expect(422)
        .await;
    assert_eq!(again["error"]["details"][0]["field"], "values[1]");
    app.post(&values("Size"), key, &json!({"values": [" "]}))
        .expect(422)
        .await;
    app.post(&values("Size"), key, &json!({"values": []})).expect(422).await;
    app.post(&values("Colour"), key, &json!({"values": ["Red"]}))
        .expect(404)
        .await;
    let events = cartwheel_tests::events(&app, &store.id, "test").await;
    assert!(events
        .iter()
        .any(|e| e["type"] == "product.updated" && e["changed_fields"] == json!(["options"])));
}
