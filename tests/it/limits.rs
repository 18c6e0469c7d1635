//! Limits a client can reach, read from the OpenAPI document: every string, array and map a request body may hold
//! has a documented bound, and one past any documented bound is a `422` — never a 500, never a silent cut.

use serde_json::{json, Map, Value};

use crate::tenancy::{body, concrete, keyed_operations, seeded_app};

#[derive(Clone, Debug)]
enum Step {
    Field(String),
    Item,
    Entry,
}

#[derive(Debug)]
enum Bound {
    Length(u64),
    Items(u64),
    Maximum(i64),
    Entries(u64),
}

/// Each bound of `schema` (through `$ref`s and combinators), with the path to it; the unbounded places go in
/// `unbounded`.
fn bounds(
    schema: &Value,
    schemas: &Value,
    at: Vec<Step>,
    found: &mut Vec<(Vec<Step>, Bound)>,
    unbounded: &mut Vec<String>,
) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return bounds(&schemas[name], schemas, at, found, unbounded);
    }
    for combined in ["allOf", "oneOf", "anyOf"] {
        for part in schema[combined].as_array().into_iter().flatten() {
            bounds(part, schemas, at.clone(), found, unbounded);
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(kind) => vec![kind.as_str()],
        Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let number = |name: &str| schema[name].as_u64();
    // A pattern that names the characters of a short code (an id, a currency) fixes its length; the patterns every
    // request string gets (no control characters, not blank) do not, nor does a pattern beside a `maxLength`.
    let generic = [cartwheel::body::NO_CONTROL, cartwheel::body::NOT_BLANK];
    let fixed = ["enum", "format", "const"].iter().any(|k| schema.get(*k).is_some())
        || schema["pattern"]
            .as_str()
            .is_some_and(|p| !generic.contains(&p) && schema.get("maxLength").is_none());
    if types.contains(&"string") && !fixed {
        match number("maxLength") {
            Some(max) => found.push((at.clone(), Bound::Length(max))),
            None => unbounded.push(format!("{at:?} string")),
        }
    }
    // Quantities and top-level amounts are summed: each has a documented maximum. (A `Money` amount is also a total
    // in responses, which can pass a price's maximum; prices are checked by `validate_price`.)
    let summed = match at.as_slice() {
        [Step::Field(name)] if name == "amount" => true,
        [.., Step::Field(name)] => name.contains("quantity") || name == "delta",
        _ => false,
    };
    if types.contains(&"integer") && summed {
        match schema["maximum"].as_i64() {
            Some(max) => found.push((at.clone(), Bound::Maximum(max))),
            None => unbounded.push(format!("{at:?} amount or quantity")),
        }
    }
    if types.contains(&"array") {
        match number("maxItems") {
            Some(max) => found.push((at.clone(), Bound::Items(max))),
            None => unbounded.push(format!("{at:?} array")),
        }
        let mut inner = at.clone();
        inner.push(Step::Item);
        bounds(&schema["items"], schemas, inner, found, unbounded);
    }
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            let mut inner = at.clone();
            inner.push(Step::Field(name.clone()));
            bounds(property, schemas, inner, found, unbounded);
        }
    }
    if schema["additionalProperties"].is_object() {
        match number("maxProperties") {
            Some(max) => found.push((at.clone(), Bound::Entries(max))),
            None => unbounded.push(format!("{at:?} map")),
        }
        let mut inner = at.clone();
        inner.push(Step::Entry);
        bounds(&schema["additionalProperties"], schemas, inner, found, unbounded);
    }
}

/// Puts `value` at `path` in `body`, making the objects and arrays on the way.
fn put(body: &mut Value, path: &[Step], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *body = value;
        return;
    };
    let slot = match first {
        Step::Field(name) => {
            if !body.is_object() {
                *body = Value::Object(Map::new());
            }
            body.as_object_mut().unwrap().entry(name.clone()).or_insert(Value::Null)
        }
        Step::Entry => {
            if !body.is_object() {
                *body = Value::Object(Map::new());
            }
            body.as_object_mut().unwrap().entry("en").or_insert(Value::Null)
        }
        Step::Item => {
            if body.as_array().is_none_or(|items| items.is_empty()) {
                *body = json!([null]);
            }
            &mut body.as_array_mut().unwrap()[0]
        }
    };
    put(slot, rest, value);
}

/// One past `bound`, built from what `path` holds in a valid body where it can.
fn one_past(bound: &Bound, current: Option<&Value>) -> Value {
    match bound {
        Bound::Length(max) => Value::String("x".repeat(*max as usize + 1)),
        Bound::Maximum(max) => json!(max + 1),
        Bound::Items(max) => {
            let sample = current.and_then(|items| items.get(0)).cloned();
            Value::Array(
                (0..=*max)
                    .map(|i| sample.clone().unwrap_or_else(|| json!(format!("v{i}"))))
                    .collect(),
            )
        }
        Bound::Entries(max) => {
            let sample = current.and_then(|map| map.as_object()?.values().next().cloned());
            let entries = (0..=*max).map(|i| (format!("k{i}"), sample.clone().unwrap_or_else(|| json!("v"))));
            Value::Object(entries.collect())
        }
    }
}

fn get<'a>(body: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(body, |value, step| match step {
        Step::Field(name) => value.get(name),
        Step::Entry => value.as_object()?.values().next(),
        Step::Item => value.get(0),
    })
}

#[tokio::test]
async fn every_documented_limit_is_enforced_with_422() {
    let document = serde_json::to_value(cartwheel_gateway::openapi_document()).unwrap();
    let schemas = &document["components"]["schemas"];
    let (app, home, seeded) = seeded_app().await;

    let mut unbounded = Vec::new();
    let mut tried = 0;
    let mut failures = Vec::new();
    for (method, template, takes_body, _) in keyed_operations() {
        if !takes_body {
            continue;
        }
        let schema = &document["paths"][&template][method.to_lowercase()]["requestBody"]["content"]["application/json"]
            ["schema"];
        let mut found = Vec::new();
        let mut loose = Vec::new();
        bounds(schema, schemas, Vec::new(), &mut found, &mut loose);
        unbounded.extend(loose.into_iter().map(|place| format!("{method} {template}: {place}")));
        let url = format!("{}{}", app.url, concrete(&template, &seeded));
        for (path, bound) in found {
            let mut request = body(&method, &template, &seeded);
            let value = one_past(&bound, get(&request, &path));
            put(&mut request, &path, value);
            let response = app
                .http
                .request(method.parse().unwrap(), &url)
                .bearer_auth(&home.test_key)
                .json(&request)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            if status != 422 {
                failures.push(format!(
                    "{method} {template} {path:?} {bound:?}: {status} {}",
                    response.text().await.unwrap()
                ));
            }
            tried += 1;
        }
    }
    assert!(unbounded.is_empty(), "document a bound for:\n{}", unbounded.join("\n"));
    assert!(
        failures.is_empty(),
        "one past the bound was not a 422:\n{}",
        failures.join("\n")
    );
    assert!(tried >= 100, "only {tried} bounds");
}

/// The patterns of the request strings reachable from `schema`, each once.
fn request_patterns(schema: &Value, schemas: &Value, seen: &mut Vec<String>, found: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap().to_owned();
        if !seen.contains(&name) {
            seen.push(name.clone());
            request_patterns(&schemas[&name], schemas, seen, found);
        }
        return;
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        if !found.iter().any(|p| p == pattern) {
            found.push(pattern.to_owned());
        }
    }
    for combined in ["allOf", "oneOf", "anyOf"] {
        for part in schema[combined].as_array().into_iter().flatten() {
            request_patterns(part, schemas, seen, found);
        }
    }
    for nested in ["items", "additionalProperties", "propertyNames"] {
        if schema[nested].is_object() {
            request_patterns(&schema[nested], schemas, seen, found);
        }
    }
    for property in schema["properties"].as_object().into_iter().flatten().map(|(_, p)| p) {
        request_patterns(property, schemas, seen, found);
    }
}

/// A body string with a control character in it is refused (`parse_json`), whatever the field: no documented
/// pattern of a request string may let one through, or the document would promise what the API refuses.
#[test]
fn no_request_pattern_admits_a_control_character() {
    let document = serde_json::to_value(cartwheel_gateway::openapi_document()).unwrap();
    let schemas = &document["components"]["schemas"];
    let (mut seen, mut patterns) = (Vec::new(), Vec::new());
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            request_patterns(schema, schemas, &mut seen, &mut patterns);
        }
    }
    assert!(patterns.len() >= 10, "only {patterns:?}");
    let samples = [
        "a",
        "Mug",
        "blue-mug",
        "MUG-1",
        "ada@example.com",
        "https://example.com/x",
        "order.created",
        "USD",
        "US",
        "en",
        "default",
        "prod_01JD3M5W7Q6V8X9Y0Z1A2B3C4D",
    ];
    for pattern in &patterns {
        let validator = jsonschema::validator_for(&json!({"type": "string", "pattern": pattern})).unwrap();
        for sample in samples {
            for control in ['\u{0}', '\u{1}', '\u{b}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}'] {
                let middle = sample.len() / 2;
                for text in [
                    format!("{control}{sample}"),
                    format!("{sample}{control}"),
                    format!("{}{control}{}", &sample[..middle], &sample[middle..]),
                ] {
                    assert!(
                        !validator.is_valid(&json!(text)),
                        "`{pattern}` admits {text:?}, which every body refuses"
                    );
                }
            }
        }
    }
}
