//! The generated documents stay true: the committed OpenAPI file, the served one, and template.yaml against the
//! resources the local stack creates.

use cartwheel::db::{KEY_SCHEMA, STREAM_VIEW, TTL_ATTRIBUTE};
use cartwheel_gateway::resources::{QUEUES, STORE_EVENTS_RULE};
use cartwheel_tests::{spawn_app, Expect};
use serde_json::Value;
use serde_yaml::Value as Yaml;

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)).unwrap()
}

#[tokio::test]
async fn the_served_document_lists_every_route_with_errors() {
    let app = spawn_app().await;
    let doc = app.http.get(format!("{}/v1/openapi.json", app.url)).expect(200).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for (path, method) in [
        ("/v1/health", "get"),
        ("/v1/platform/stores", "post"),
        ("/v1/api-keys", "post"),
        ("/v1/api-keys", "get"),
        ("/v1/api-keys/{id}", "get"),
        ("/v1/api-keys/{id}", "delete"),
    ] {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} missing");
        for status in ["400", "429", "500"] {
            assert!(
                operation["responses"][status].is_object(),
                "{method} {path} lacks {status}"
            );
        }
    }
    assert!(doc["paths"]["/v1/api-keys"]["get"]["responses"]["401"].is_object());
    assert!(doc["paths"]["/v1/api-keys"]["post"]["responses"]["422"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());

    let page = app.http.get(format!("{}/v1/docs", app.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("/v1/openapi.json"));
    // Every operation and schema is on the page, and nothing on it comes from elsewhere (it is served as is on AWS).
    for (path, item) in doc["paths"].as_object().unwrap() {
        for operation in item.as_object().unwrap().values() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(
                page.contains(&format!("id=\"{id}\"")),
                "{path}: {id} missing from /v1/docs"
            );
        }
    }
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        assert!(
            page.contains(&format!("id=\"schema-{name}\"")),
            "schema {name} missing from /v1/docs"
        );
    }
    for external in ["<script", "src=\"http", "href=\"http", "@import"] {
        assert!(
            !page.contains(external),
            "the reference loads nothing from elsewhere: found {external}"
        );
    }
}

#[test]
fn the_committed_document_is_current() {
    let generated = serde_json::to_string_pretty(&cartwheel_gateway::openapi_document()).unwrap();
    let committed = repo_file("docs/openapi.json");
    assert!(
        committed.trim() == generated.trim(),
        "docs/openapi.json is stale: run `make openapi` and commit it"
    );
}

fn template() -> Yaml {
    serde_yaml::from_str(&repo_file("template.yaml")).unwrap()
}

fn text(value: &Yaml) -> String {
    match value {
        Yaml::String(s) => s.clone(),
        Yaml::Number(n) => n.to_string(),
        // `!Sub cartwheel-${Stage}-x`
        Yaml::Tagged(tagged) => text(&tagged.value),
        other => panic!("unexpected YAML value {other:?}"),
    }
}

#[test]
fn the_template_declares_the_table_the_stack_creates() {
    let template = template();
    let table = &template["Resources"]["Table"]["Properties"];
    let keys = |schema: &Yaml| -> (String, String) {
        let elements = schema.as_sequence().unwrap();
        let of = |kind: &str| text(&elements.iter().find(|e| text(&e["KeyType"]) == kind).unwrap()["AttributeName"]);
        (of("HASH"), of("RANGE"))
    };
    for (index, hash, range) in KEY_SCHEMA {
        let schema = match index {
            None => &table["KeySchema"],
            Some(name) => {
                let indexes = table["GlobalSecondaryIndexes"].as_sequence().unwrap();
                let index = indexes
                    .iter()
                    .find(|i| text(&i["IndexName"]) == *name)
                    .unwrap_or_else(|| panic!("{name} missing"));
                assert_eq!(text(&index["Projection"]["ProjectionType"]), "ALL");
                &index["KeySchema"]
            }
        };
        assert_eq!(keys(schema), (hash.to_string(), range.to_string()));
    }
    assert_eq!(
        table["GlobalSecondaryIndexes"].as_sequence().unwrap().len(),
        KEY_SCHEMA.len() - 1
    );
    assert_eq!(text(&table["TimeToLiveSpecification"]["AttributeName"]), TTL_ATTRIBUTE);
    assert_eq!(text(&table["StreamSpecification"]["StreamViewType"]), STREAM_VIEW);
}

#[test]
fn the_template_declares_the_queues_and_rule_the_stack_creates() {
    let template = template();
    let resources = &template["Resources"];
    for queue in QUEUES {
        let properties = &resources[queue.logical_id]["Properties"];
        assert_eq!(
            text(&properties["QueueName"]),
            format!("cartwheel-${{Stage}}-{}", queue.suffix)
        );
        assert_eq!(
            text(&properties["VisibilityTimeout"]),
            queue.visibility_timeout.to_string()
        );
        assert_eq!(text(&properties["MessageRetentionPeriod"]), queue.retention.to_string());
        assert_eq!(
            text(&properties["RedrivePolicy"]["maxReceiveCount"]),
            queue.max_receive_count.to_string()
        );
        let dlq = &resources[queue.dlq_logical_id]["Properties"];
        assert_eq!(
            text(&dlq["QueueName"]),
            format!("cartwheel-${{Stage}}-{}", queue.dlq_suffix)
        );
    }
    let rule = &resources[STORE_EVENTS_RULE.logical_id]["Properties"];
    assert_eq!(
        text(&rule["Name"]),
        format!("cartwheel-${{Stage}}-{}", STORE_EVENTS_RULE.suffix)
    );
    assert_eq!(
        text(&rule["EventPattern"]["source"][0]["prefix"]),
        STORE_EVENTS_RULE.source_prefix
    );
    let target = &rule["Targets"][0]["Arn"];
    assert!(
        format!("{target:?}").contains(STORE_EVENTS_RULE.target_queue_logical_id),
        "{target:?}"
    );
}

#[test]
fn public_routes_in_the_template_match_the_document() {
    let template = template();
    let mut in_template: Vec<(String, String)> = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|resource| text(&resource["Type"]) == "AWS::Serverless::Function")
        .filter_map(|function| function["Properties"]["Events"].as_mapping())
        .flat_map(|events| events.values())
        .filter(|event| text(&event["Type"]) == "HttpApi")
        .filter(|event| event["Properties"]["Auth"]["Authorizer"].as_str() == Some("NONE"))
        .map(|event| {
            (
                text(&event["Properties"]["Method"]).to_uppercase(),
                text(&event["Properties"]["Path"]),
            )
        })
        .filter(|(_, path)| path != "/v1/openapi.json" && path != "/v1/docs")
        .collect();
    in_template.sort();
    let mut in_document: Vec<(String, String)> =
        cartwheel::openapi::public_operations(&cartwheel_gateway::openapi_document())
            .into_iter()
            .map(|(method, path)| (method.to_owned(), path))
            .collect();
    in_document.sort();
    assert_eq!(in_template, in_document);
}

#[test]
fn the_committed_event_schemas_are_current() {
    for (name, text) in cartwheel_gateway::event_schemas::files() {
        let committed = repo_file(&format!("docs/events/schemas/{name}"));
        assert!(
            committed == text,
            "docs/events/schemas/{name} is stale: run `make openapi` and commit it"
        );
    }
}

/// Real events, as the outbox holds them (and EventBridge and webhooks carry them), against their published schema.
#[tokio::test]
async fn emitted_events_match_their_published_schemas() {
    let app = cartwheel_tests::spawn_app_with(cartwheel_tests::Options {
        allow_loopback: true,
        ..Default::default()
    })
    .await;
    let store = app.create_store().await;
    let key = &store.test_key;
    let (key_id, _) = app.create_key(key, &["read_only"]).await;
    app.delete(&format!("/v1/api-keys/{key_id}"), key).send().await.unwrap();
    let json = |response: reqwest::Response| async move { response.json::<Value>().await.unwrap()["data"].clone() };
    let category = json(
        app.post("/v1/categories", key, &serde_json::json!({"name": "Mugs"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let brand = json(
        app.post("/v1/brands", key, &serde_json::json!({"name": "Acme"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let product = serde_json::json!({
        "name": "Mug", "sku": "M-1", "price": {"amount": 900, "currency": "USD"},
        "category_ids": [category["id"]], "brand_id": brand["id"], "metadata": {"color": "blue"},
        "options": [{"name": "Size", "values": ["S", "M"]}]
    });
    let product = json(app.post("/v1/products", key, &product).send().await.unwrap()).await;
    let id = product["id"].as_str().unwrap();
    let adjust = serde_json::json!({"delta": 5, "reason": "restock", "reorder_point": 5});
    app.post(&format!("/v1/inventory/{id}/adjust"), key, &adjust)
        .send()
        .await
        .unwrap();
    let hold = serde_json::json!({"items": [{"id": id, "quantity": 1}]});
    let reservation = json(app.post("/v1/inventory/reserve", key, &hold).send().await.unwrap()).await;
    let release = serde_json::json!({"reservation_id": reservation["id"]});
    app.post("/v1/inventory/release", key, &release).send().await.unwrap();
    let variants = json(
        app.post(
            &format!("/v1/products/{id}/variants/generate"),
            key,
            &serde_json::json!({}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let variant = variants[0]["id"].as_str().unwrap();
    app.http
        .patch(format!("{}/v1/products/{id}/variants/{variant}", app.url))
        .bearer_auth(key)
        .json(&serde_json::json!({"sku": "M-1-S"}))
        .send()
        .await
        .unwrap();
    app.delete(&format!("/v1/products/{id}/variants/{variant}"), key)
        .send()
        .await
        .unwrap();
    app.post(
        &format!("/v1/products/{id}/recall"),
        key,
        &serde_json::json!({"reason": "cracked"}),
    )
    .send()
    .await
    .unwrap();
    app.delete(&format!("/v1/products/{id}"), key).send().await.unwrap();
    let category_id = category["id"].as_str().unwrap();
    app.http
        .patch(format!("{}/v1/categories/{category_id}", app.url))
        .bearer_auth(key)
        .json(&serde_json::json!({"name": "Cups"}))
        .send()
        .await
        .unwrap();
    app.delete(&format!("/v1/categories/{category_id}"), key)
        .send()
        .await
        .unwrap();
    let brand_id = brand["id"].as_str().unwrap();
    app.http
        .patch(format!("{}/v1/brands/{brand_id}", app.url))
        .bearer_auth(key)
        .json(&serde_json::json!({"name": "Acme Co"}))
        .send()
        .await
        .unwrap();
    app.delete(&format!("/v1/brands/{brand_id}"), key).send().await.unwrap();
    let hook = json(
        app.post(
            "/v1/webhooks",
            key,
            &serde_json::json!({"url": "http://127.0.0.1:9/x", "events": ["*"]}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let hook_id = hook["id"].as_str().unwrap();
    app.http
        .patch(format!("{}/v1/webhooks/{hook_id}", app.url))
        .bearer_auth(key)
        .json(&serde_json::json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    app.delete(&format!("/v1/webhooks/{hook_id}"), key)
        .send()
        .await
        .unwrap();

    let mut events = cartwheel_tests::events(&app, &store.id, "test").await;
    events.extend(cartwheel_tests::events(&app, &store.id, "live").await);
    let mut seen = std::collections::BTreeSet::new();
    for event in &events {
        let event_type = event["type"].as_str().unwrap();
        let schema: Value = serde_json::from_str(&repo_file(&format!("docs/events/schemas/{event_type}.json")))
            .unwrap_or_else(|_| panic!("no published schema for {event_type}"));
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(event)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{event_type} does not match its schema: {errors:?}\n{event}"
        );
        seen.insert(event_type.to_owned());
    }
    // The check has teeth: a product without its name, or a stray envelope field, is refused.
    let mut broken = events.iter().find(|e| e["type"] == "product.created").unwrap().clone();
    let schema: Value = serde_json::from_str(&repo_file("docs/events/schemas/product.created.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    broken["data"].as_object_mut().unwrap().remove("name");
    assert!(!validator.is_valid(&broken));
    let mut stray = events.iter().find(|e| e["type"] == "product.created").unwrap().clone();
    stray["surprise"] = Value::Bool(true);
    assert!(!validator.is_valid(&stray));
    for expected in [
        "store.created",
        "api_key.created",
        "api_key.revoked",
        "product.created",
        "product.updated",
        "product.deleted",
        "recall.created",
        "variant.created",
        "variant.updated",
        "variant.deleted",
        "category.created",
        "category.updated",
        "category.deleted",
        "brand.created",
        "brand.updated",
        "brand.deleted",
        "webhook.endpoint_created",
        "webhook.endpoint_updated",
        "webhook.endpoint_deleted",
        "warehouse.created",
        "inventory.adjusted",
        "inventory.low_stock",
        "reservation.created",
        "reservation.released",
    ] {
        assert!(
            seen.contains(expected),
            "no {expected} event was checked; seen: {seen:?}"
        );
    }
}

/// Each Lambda binary serves `router()`, its routes without the OpenAPI description (the gateway and the document
/// use `routes()`). Every documented operation must reach a handler there too: a route lost on the way would answer
/// 404 or 405 on AWS only. Without an authorizer context the handlers answer 401 (or their public answer).
#[tokio::test]
async fn every_lambda_router_serves_every_documented_operation() {
    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use tower::ServiceExt;
    use utoipa::openapi::OpenApi;

    let app = spawn_app().await;
    let functions = cartwheel_gateway::Functions::load(&app.state, &app.sdk).await.unwrap();
    let state = || app.state.clone();
    let lambdas: Vec<(&str, OpenApi, axum::Router)> = vec![
        (
            "admin",
            cartwheel_admin::routes().split_for_parts().1,
            cartwheel_admin::router().with_state(functions.admin),
        ),
        (
            "catalog",
            cartwheel_catalog::routes().split_for_parts().1,
            cartwheel_catalog::router().with_state(state()),
        ),
        (
            "inventory",
            cartwheel_inventory::routes().split_for_parts().1,
            cartwheel_inventory::router().with_state(state()),
        ),
        (
            "webhooks",
            cartwheel_webhooks::routes().split_for_parts().1,
            cartwheel_webhooks::router().with_state(functions.webhooks),
        ),
        (
            "customers",
            cartwheel_customers::routes().split_for_parts().1,
            cartwheel_customers::router().with_state(state()),
        ),
        (
            "pricing",
            cartwheel_pricing::routes().split_for_parts().1,
            cartwheel_pricing::router().with_state(state()),
        ),
        (
            "carts",
            cartwheel_carts::routes().split_for_parts().1,
            cartwheel_carts::router().with_state(state()),
        ),
        (
            "checkout",
            cartwheel_checkout::routes().split_for_parts().1,
            cartwheel_checkout::router().with_state(state()),
        ),
        (
            "orders",
            cartwheel_orders::routes().split_for_parts().1,
            cartwheel_orders::router().with_state(functions.orders),
        ),
    ];
    let mut checked = 0;
    for (function, doc, router) in lambdas {
        for (path, item) in doc.paths.paths {
            let uri: String = path
                .split('/')
                .map(|segment| if segment.starts_with('{') { "x" } else { segment })
                .collect::<Vec<_>>()
                .join("/");
            let operations = [
                (Method::GET, item.get.is_some()),
                (Method::POST, item.post.is_some()),
                (Method::PUT, item.put.is_some()),
                (Method::PATCH, item.patch.is_some()),
                (Method::DELETE, item.delete.is_some()),
            ];
            for (method, _) in operations.into_iter().filter(|(_, documented)| *documented) {
                let request = Request::builder()
                    .method(method.clone())
                    .uri(&uri)
                    .body(Body::empty())
                    .unwrap();
                let status = router.clone().oneshot(request).await.unwrap().status();
                assert!(
                    status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                    "{function}: {method} {path} answered {status} from the Lambda router"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 60, "only {checked} operations checked");
}

/// Every `201` links to the operations on what it created, and every link names an operation that exists and gives
/// it each path parameter it needs, from the response or the request: a client (or a stateful fuzzer) can follow
/// them without guessing ids.
#[test]
fn every_creation_links_to_what_can_be_done_with_it() {
    let doc = serde_json::to_value(cartwheel_gateway::openapi_document()).unwrap();
    let mut operations = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for operation in item.as_object().unwrap().values() {
            operations.insert(operation["operationId"].as_str().unwrap().to_owned(), path.clone());
        }
    }
    let mut followed = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(links) = item["post"]["responses"]["201"]["links"].as_object() else {
            continue;
        };
        for (name, link) in links {
            let target = &operations[link["operationId"]
                .as_str()
                .expect("operationId, in OpenAPI's spelling")];
            let needed: std::collections::BTreeSet<&str> = target
                .split('/')
                .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let given: std::collections::BTreeSet<&str> = link["parameters"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(given, needed, "{path} → {name} ({target})");
            for expression in link["parameters"].as_object().unwrap().values() {
                let expression = expression.as_str().unwrap();
                assert!(
                    expression == "$response.body#/data/id" || expression.starts_with("$request.path."),
                    "{expression}"
                );
            }
            followed.push(format!("{path} → {name}"));
        }
    }
    for expected in [
        "/v1/products → get_product",
        "/v1/products → get_stock",
        "/v1/products/{id}/variants → update_variant",
        "/v1/checkout → get_order",
        "/v1/checkout → create_refund",
        "/v1/inventory/reserve → get_reservation",
        "/v1/customers → add_address",
        "/v1/webhooks → rotate_secret",
        "/v1/api-keys → revoke_api_key",
    ] {
        assert!(
            followed.iter().any(|link| link == expected),
            "{expected} missing: {followed:?}"
        );
    }
}

/// Ops hear about trouble before merchants do: every function has an errors and a throttles alarm, every
/// dead-letter queue a depth alarm, and the custom metrics an alarm reads are the ones the code emits.
#[test]
fn every_function_and_dead_letter_queue_has_its_alarms_and_they_read_emitted_metrics() {
    use cartwheel::metrics::{Metric, DIMENSION, NAMESPACE};
    let template = template();
    let resources = template["Resources"].as_mapping().unwrap();
    let of_type = |kind: &str| -> Vec<(String, &Yaml)> {
        resources
            .iter()
            .filter(|(_, resource)| resource["Type"].as_str() == Some(kind))
            .map(|(name, resource)| (name.as_str().unwrap().to_owned(), resource))
            .collect()
    };
    let alarms = of_type("AWS::CloudWatch::Alarm");
    let watching = |metric: &str, dimension_value: &str| {
        alarms.iter().any(|(_, alarm)| {
            let properties = &alarm["Properties"];
            properties["MetricName"].as_str() == Some(metric)
                && serde_yaml::to_string(&properties["Dimensions"])
                    .unwrap()
                    .contains(dimension_value)
        })
    };
    for (function, _) in of_type("AWS::Serverless::Function") {
        for metric in ["Errors", "Throttles"] {
            assert!(watching(metric, &function), "no {metric} alarm on {function}");
        }
    }
    for (queue, _) in of_type("AWS::SQS::Queue")
        .into_iter()
        .filter(|(name, _)| name.ends_with("DLQ"))
    {
        assert!(
            watching("ApproximateNumberOfMessagesVisible", &queue),
            "no depth alarm on {queue}"
        );
    }
    for (name, alarm) in &alarms {
        for query in alarm["Properties"]["Metrics"].as_sequence().into_iter().flatten() {
            let metric = &query["MetricStat"]["Metric"];
            if metric["Namespace"].as_str() != Some(NAMESPACE) {
                continue;
            }
            let emitted = Metric::ALL
                .into_iter()
                .find(|m| metric["MetricName"].as_str() == Some(m.name()))
                .unwrap_or_else(|| panic!("{name} reads a metric the code does not emit: {metric:?}"));
            assert_eq!(metric["Dimensions"][0]["Name"].as_str(), Some(DIMENSION), "{name}");
            assert_eq!(
                metric["Dimensions"][0]["Value"].as_str(),
                Some(emitted.function()),
                "{name}"
            );
            assert_eq!(metric["Dimensions"].as_sequence().map(Vec::len), Some(1), "{name}");
        }
    }
    assert!(watching("IteratorAge", "EventPublisherFunction"));
}
