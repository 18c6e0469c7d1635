//! The generated documents stay true: the committed OpenAPI file, the served one, and template.yaml against the
//! resources the local stack creates.

use cartwheel::db::{KEY_SCHEMA, STREAM_VIEW, TTL_ATTRIBUTE};
use cartwheel_gateway::resources::{QUEUES, STORE_EVENTS_RULE};
use cartwheel_tests::spawn_app;
use serde_json::Value;
use serde_yaml::Value as Yaml;

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)).unwrap()
}

#[tokio::test]
async fn the_served_document_lists_every_route_with_errors() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/v1/openapi.json", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
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
    assert!(page.text().await.unwrap().contains("/v1/openapi.json"));
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
    let admin_events = template["Resources"]["AdminFunction"]["Properties"]["Events"]
        .as_mapping()
        .unwrap();
    let mut in_template: Vec<(String, String)> = admin_events
        .values()
        .filter(|event| text(&event["Type"]) == "HttpApi")
        .filter(|event| event["Properties"]["Auth"]["Authorizer"].as_str() == Some("NONE"))
        .map(|event| {
            (
                text(&event["Properties"]["Method"]).to_uppercase(),
                text(&event["Properties"]["Path"]),
            )
        })
        .filter(|(_, path)| path != "/v1/openapi.json")
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
