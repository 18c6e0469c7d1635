//! `make soak`: minutes of mixed load (catalog, customers, checkouts, cancellations) with faults injected at random
//! (the pipeline killed and restarted, the receiver down, the receiver answering after the timeout), ending with
//! the history check: every committed event delivered, once per `webhook-id`. Not part of `make test`; the same
//! check runs there, bounded, in `events::every_committed_event_reaches_the_receiver_through_faults`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use cartwheel_gateway::pipeline::Pipeline;
use cartwheel_tests::{receiver, spawn_app_with, Expect, Options};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::events::{committed, delivered};

const GROUPS: [&str; 4] = ["product.", "order.", "customer.", "inventory."];

/// Restarts the stack's moto on its port: every queue with its messages, the bus and its rule are gone, as when the
/// service loses its state; then the app's resources are made again. The first moto is the stack's (its PID in
/// `CARTWHEEL_MOTO_PID`, this run's own stack); later ones are this test's children, ended when dropped.
async fn restart_moto(
    app: &cartwheel_tests::TestApp,
    previous: Option<tokio::process::Child>,
) -> tokio::process::Child {
    let port = std::env::var("CARTWHEEL_MOTO_PORT").expect("the stack's moto port (run through infra/with-stack.sh)");
    match previous {
        Some(mut child) => child.kill().await.expect("our moto ends"),
        None => {
            let pid = std::env::var("CARTWHEEL_MOTO_PID").expect("the stack's moto PID");
            let killed = std::process::Command::new("kill")
                .arg(&pid)
                .status()
                .expect("kill runs");
            assert!(killed.success(), "moto (pid {pid}) could not be stopped");
        }
    }
    let address = format!("127.0.0.1:{port}");
    while tokio::net::TcpStream::connect(&address).await.is_ok() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let moto = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/venv/bin/moto_server");
    let child = tokio::process::Command::new(moto)
        .args(["-H", "127.0.0.1", "-p", &port])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("moto starts");
    while tokio::net::TcpStream::connect(&address).await.is_err() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut config = (*app.state.config).clone();
    cartwheel_gateway::resources::ensure(&mut config, &app.sdk, &app.state.db, cartwheel_tests::PLATFORM_KEY)
        .await
        .expect("the resources made again");
    child
}

fn address() -> Value {
    json!({"line1": "1 Market St", "city": "San Francisco", "postal_code": "94105", "country": "US"})
}

#[tokio::test]
#[ignore = "minutes long: run by `make soak`"]
async fn soak_mixed_load_with_random_faults_loses_nothing() {
    let seconds: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let seed: u64 = std::env::var("SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let app = spawn_app_with(Options {
        own_stage: true,
        allow_loopback: true,
        rate_limits: Some("default=1000000"),
        // About a minute of retries: longer than any outage injected below, so nothing ends in the dead letters.
        retry_schedule: Some("0s,1s,2s,4s,8s,16s,30s"),
        env: &[
            ("CARTWHEEL_WEBHOOK_TIMEOUT_SECS", "2"),
            ("CARTWHEEL_WEBHOOK_COOLDOWN_SECS", "1"),
        ],
        ..Default::default()
    })
    .await;
    let store = app.create_store().await;
    let key = store.test_key.as_str();
    let hook = receiver(0, 200).await;
    let subscription = json!({"url": hook.url, "events": GROUPS.map(|g| format!("{g}*"))});
    let endpoint = app.post("/v1/webhooks", key, &subscription).expect_data(201).await;
    let endpoint = endpoint["id"].as_str().unwrap().to_owned();
    let started = cartwheel::time::rfc3339(cartwheel::time::now() - Duration::from_secs(1));
    let mut moto: Option<tokio::process::Child> = None;
    let mut pipeline = Some(Pipeline::start(&app.sdk, &app.state, app.keys.clone().unwrap()).unwrap());

    let mut rng = StdRng::seed_from_u64(seed);
    let mut operations: BTreeMap<&str, u64> = BTreeMap::new();
    let mut faults: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut products, mut orders) = (Vec::<String>::new(), Vec::<String>::new());
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut next_fault = Instant::now() + Duration::from_secs(rng.random_range(3..10));
    let mut fault_ends: Option<Instant> = None;
    let mut n = 0u64;
    while Instant::now() < end {
        n += 1;
        let id = |data: &Value| data["id"].as_str().unwrap().to_owned();
        let operation = match rng.random_range(0..10) {
            0..=1 => {
                let body = json!({"name": format!("Soak {n}"), "sku": format!("SOAK-{n}"), "status": "active",
                                  "price": {"amount": rng.random_range(100..10_000), "currency": "USD"}});
                let product = id(&app.post("/v1/products", key, &body).expect_data(201).await);
                let stock = json!({"delta": rng.random_range(1..20), "reason": "restock"});
                app.post(&format!("/v1/inventory/{product}/adjust"), key, &stock)
                    .expect(200)
                    .await;
                products.push(product);
                "create product + stock"
            }
            2 if !products.is_empty() => {
                let product = &products[rng.random_range(0..products.len())];
                let change = json!({"description": format!("change {n}")});
                app.patch(&format!("/v1/products/{product}"), key, &change)
                    .expect(200)
                    .await;
                "update product"
            }
            3 => {
                let body = json!({"email": format!("soak{n}@example.com")});
                app.post("/v1/customers", key, &body).expect(201).await;
                "create customer"
            }
            4..=7 if !products.is_empty() => {
                let product = &products[rng.random_range(0..products.len())];
                let cart = id(&app
                    .post("/v1/carts", key, &json!({"currency": "USD"}))
                    .expect_data(201)
                    .await);
                let line = json!({"product_id": product, "quantity": 1});
                app.post(&format!("/v1/carts/{cart}/items"), key, &line)
                    .expect(200)
                    .await;
                let checkout = json!({"cart_id": cart, "email": "buyer@example.com", "shipping_address": address()});
                let placed = app.post("/v1/checkout", key, &checkout).send().await.unwrap();
                match placed.status().as_u16() {
                    201 => {
                        let order: Value = placed.json().await.unwrap();
                        orders.push(id(&order["data"]));
                        "checkout"
                    }
                    409 => "checkout refused: sold out",
                    other => panic!("checkout answered {other}: {}", placed.text().await.unwrap()),
                }
            }
            8 if !orders.is_empty() => {
                let order = orders.swap_remove(rng.random_range(0..orders.len()));
                let cancel = json!({"status": "cancelled", "reason": "soak"});
                app.patch(&format!("/v1/orders/{order}/status"), key, &cancel)
                    .expect(200)
                    .await;
                "cancel order"
            }
            _ => continue,
        };
        *operations.entry(operation).or_default() += 1;

        if fault_ends.is_some_and(|at| Instant::now() >= at) {
            hook.set_down(false);
            hook.set_delay(Duration::ZERO);
            fault_ends = None;
        }
        if Instant::now() >= next_fault && fault_ends.is_none() {
            let fault = match rng.random_range(0..4) {
                0 => {
                    drop(pipeline.take());
                    pipeline = Some(Pipeline::start(&app.sdk, &app.state, app.keys.clone().unwrap()).unwrap());
                    "pipeline killed and restarted"
                }
                3 => {
                    moto = Some(restart_moto(&app, moto.take()).await);
                    "moto restarted (queues, messages, bus and rule lost)"
                }
                1 => {
                    hook.set_down(true);
                    fault_ends = Some(Instant::now() + Duration::from_millis(rng.random_range(1_000..5_000)));
                    "receiver down"
                }
                _ => {
                    hook.set_delay(Duration::from_secs(3));
                    fault_ends = Some(Instant::now() + Duration::from_millis(rng.random_range(1_000..4_000)));
                    "receiver answering after the timeout"
                }
            };
            *faults.entry(fault).or_default() += 1;
            next_fault = Instant::now() + Duration::from_secs(rng.random_range(3..10));
        }
    }
    hook.set_down(false);
    hook.set_delay(Duration::ZERO);
    // What a moto restart lost after the commit is still in the outbox: recover delivers it, once a delivery whose
    // retry job was lost has been left untouched long enough to tell it from one still waiting for its retry.
    let stall_after = app.state.config.webhook_stall_after_secs().unsigned_abs();
    tokio::time::sleep(Duration::from_secs(stall_after + 1)).await;
    let (mut since, mut queued, mut restored) = (started, 0, 0);
    loop {
        let path = format!("/v1/webhooks/{endpoint}/recover");
        let recovered = app.post(&path, key, &json!({"since": since})).expect_data(202).await;
        queued += recovered["queued"].as_u64().unwrap();
        restored += recovered["restored"].as_u64().unwrap();
        match recovered["next_since"].as_str() {
            Some(next) => since = next.to_owned(),
            None => break,
        }
    }

    let history = committed(&app, &store, &GROUPS).await;
    // Recover spreads what it queues at 10 a second per endpoint: wait for the last of it, and 3 minutes more.
    let drained = Instant::now() + Duration::from_secs(180 + (queued + restored) / 10);
    let requests = loop {
        let requests = hook.requests();
        let got: BTreeSet<String> = delivered(&requests).into_values().collect();
        if history.is_subset(&got) || Instant::now() > drained {
            break requests;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let once = delivered(&requests);
    let events: BTreeSet<String> = once.values().cloned().collect();
    let lost: Vec<&String> = history.difference(&events).collect();
    let unknown: Vec<&String> = events.difference(&history).collect();
    println!("soak: {seconds} s, seed {seed}");
    println!("  operations: {} {operations:?}", operations.values().sum::<u64>());
    println!("  faults: {} {faults:?}", faults.values().sum::<u64>());
    println!("  events committed: {}", history.len());
    println!(
        "  deliveries: {} requests, {} distinct webhook-ids",
        requests.len(),
        once.len()
    );
    println!("  recover: {queued} failed deliveries queued again, {restored} lost ones restored");
    println!(
        "  lost: {}, delivered but never committed: {}",
        lost.len(),
        unknown.len()
    );
    assert!(lost.is_empty(), "lost events: {lost:?}");
    assert!(unknown.is_empty(), "deliveries of events never committed: {unknown:?}");
    assert_eq!(once.len(), events.len(), "one webhook-id per event");
}
