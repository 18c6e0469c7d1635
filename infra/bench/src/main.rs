//! `make bench`: cold starts over TLS and plain HTTP through a local Lambda Runtime API (functions, the bare
//! probe, Node.js and Python comparators, interleaved), and binary and zip sizes; rewrites docs/performance.md.
//! `--smoke`: one round, no budgets, written under target/ — `make test` runs it so the harness cannot rot.
//!
//! Run it through infra/bench.sh, which builds the binaries and the comparators' dependencies and starts the
//! local stack: `cartwheel-bench [--smoke] --bins DIR --root DIR`.

mod cost;
mod delivery;
mod lambda;
mod load;
mod sizes;

use std::net::SocketAddr;
use std::path::PathBuf;

use cartwheel::catalog::products::ProductIn;
use cartwheel::ids::{KeyId, StoreId};
use cartwheel::tenant::{Mode, Scopes, Tenant};
use lambda::{Error, RuntimeApi, Sample, Tls};

/// Cold starts per contestant and transport (interleaved).
const RUNS: usize = 20;
const STAGE: &str = "bench";
/// Goals of issue 9: every function's cold start within 1.2× the bare probe, peak RSS ≤ 12 MB.
const COLD_START_GOAL: f64 = 1.2;
const RSS_GOAL_MIB: f64 = 12.0;

struct Args {
    smoke: bool,
    bins: PathBuf,
    root: PathBuf,
}

fn args() -> Result<Args, Error> {
    let mut smoke = false;
    let mut bins = None;
    let mut root = None;
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "--smoke" => smoke = true,
            "--bins" => bins = given.next().map(PathBuf::from),
            "--root" => root = given.next().map(PathBuf::from),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(Args {
        smoke,
        bins: bins.ok_or("--bins DIR is required")?,
        root: root.ok_or("--root DIR is required")?,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Transport {
    Tls,
    Http,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Self::Tls => "HTTPS",
            Self::Http => "HTTP",
        }
    }
}

/// A program measured: how to start it, and the event it is given.
struct Contestant {
    name: &'static str,
    program: PathBuf,
    args: Vec<String>,
    /// The event to hand over; `None`: a fresh delivery job for each cold start.
    event: Option<String>,
    /// What a right answer looks like.
    check: fn(&str) -> bool,
    /// Extra environment (the comparators' module paths, the delivery function's stage).
    env: Vec<(String, String)>,
    samples: Vec<(Transport, Sample)>,
}

/// An API Gateway HTTP API v2 event for `GET path`, with the authorizer context the real authorizer produces.
fn api_event(tenant: &Tenant, route: &str, path: &str) -> String {
    serde_json::json!({
        "version": "2.0", "routeKey": route, "rawPath": path, "rawQueryString": "",
        "headers": {"accept": "application/json", "host": "bench.execute-api.us-east-1.amazonaws.com",
                    "user-agent": "cartwheel-bench"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench",
            "authorizer": {"lambda": tenant.to_context()},
            "domainName": "bench.execute-api.us-east-1.amazonaws.com", "domainPrefix": "bench",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": "cartwheel-bench"},
            "requestId": "bench", "routeKey": route, "stage": "$default",
            "time": "25/Nov/2026:13:21:00 +0000", "timeEpoch": 1795612860000u64
        },
        "isBase64Encoded": false
    })
    .to_string()
}

/// A store with one product in the bench table; returns the tenant and the product's id and item key.
async fn seed() -> Result<(Tenant, String, (String, String)), Error> {
    let sdk = cartwheel::aws::sdk_config().await;
    let db = cartwheel::Db::new(&sdk, &format!("cartwheel-{STAGE}"));
    db.ensure_table().await?;
    let tenant = Tenant {
        store_id: StoreId::new(),
        mode: Mode::Test,
        key_id: KeyId::new(),
        scopes: Scopes::full(),
        plan: "default".into(),
    };
    let input: ProductIn = serde_json::from_value(serde_json::json!({
        "name": "Bench mug", "status": "active", "price": {"amount": 1200, "currency": "USD"},
        "description": "The product every cold start reads."
    }))?;
    let product = cartwheel::catalog::create_product(&db, &tenant, input)
        .await
        .map_err(|e| format!("seeding the product: {e}"))?;
    let key = (
        format!("S#{}#test#PRODUCT#{}", tenant.store_id, product.product.id),
        "PRODUCT".to_owned(),
    );
    Ok((tenant, product.product.id.to_string(), key))
}

/// A `200` whose body, when it says whether the item was found, says it was.
fn answered(response: &str) -> bool {
    let Ok(response) = serde_json::from_str::<serde_json::Value>(response) else {
        return false;
    };
    let body = response["body"]
        .as_str()
        .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .unwrap_or_default();
    response["statusCode"] == 200 && body.get("found").is_none_or(|found| found == true)
}

fn endpoint(var: &str) -> Result<SocketAddr, Error> {
    let url = std::env::var(var).map_err(|_| format!("{var} is not set: run through infra/bench.sh"))?;
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    Ok(authority.parse()?)
}

fn stats(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    (sorted[0], sorted[sorted.len() / 2], sorted[sorted.len() - 1])
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = args()?;
    let runs = if args.smoke { 1 } else { RUNS };
    let cache = args.root.join(".cache/bench");
    let tls = Tls::create(&cache)?;
    let dynamodb = endpoint("AWS_ENDPOINT_URL_DYNAMODB")?;
    let https_dynamodb = tls.proxy(dynamodb).await?;
    let (tenant, product_id, (pk, sk)) = seed().await?;
    let product_path = format!("/v1/products/{product_id}");
    let probe_path = format!("/probe/{}/{}", pk.replace('#', "%23"), sk);
    let runtime = RuntimeApi::start().await?;

    let node_modules = cache.join("node/node_modules");
    let comparators = args.root.join("infra/bench/comparators");
    let mut contestants = vec![
        Contestant {
            name: "catalog (GET a product)",
            program: args.bins.join("catalog"),
            args: Vec::new(),
            check: answered,
            event: Some(api_event(&tenant, "ANY /v1/products/{proxy+}", &product_path)),
            env: Vec::new(),
            samples: Vec::new(),
        },
        Contestant {
            name: "bare Rust probe (GetItem)",
            program: args.bins.join("probe"),
            args: Vec::new(),
            check: answered,
            event: Some(api_event(&tenant, "GET /probe/{pk}/{sk}", &probe_path)),
            env: Vec::new(),
            samples: Vec::new(),
        },
    ];
    if node_modules.is_dir() {
        contestants.push(Contestant {
            name: "Node.js 20 + AWS SDK v3 (GetItem)",
            program: "node".into(),
            args: vec![comparators.join("node/index.js").display().to_string()],
            check: answered,
            event: Some(api_event(&tenant, "GET /probe/{pk}/{sk}", &probe_path)),
            env: vec![("NODE_PATH".into(), node_modules.display().to_string())],
            samples: Vec::new(),
        });
    }
    let python = args.root.join(".cache/venv/bin/python");
    if python.is_file() {
        contestants.push(Contestant {
            name: "Python 3.11 + boto3 (GetItem)",
            program: python,
            args: vec![comparators.join("python/handler.py").display().to_string()],
            check: answered,
            event: Some(api_event(&tenant, "GET /probe/{pk}/{sk}", &probe_path)),
            env: Vec::new(),
            samples: Vec::new(),
        });
    }

    let deliveries = delivery::DeliveryBench::start().await?;
    let moto = endpoint("AWS_ENDPOINT_URL")?;
    let https_moto = tls.proxy(moto).await?;
    contestants.insert(
        1,
        Contestant {
            name: "webhook-delivery (one SQS job → one signed POST)",
            program: args.bins.join("webhook-delivery"),
            args: Vec::new(),
            check: delivery::delivered,
            event: None,
            env: deliveries.env(),
            samples: Vec::new(),
        },
    );

    for round in 0..runs {
        for contestant in &mut contestants {
            for transport in [Transport::Tls, Transport::Http] {
                let events = match &contestant.event {
                    Some(event) => [event.clone(), event.clone()],
                    None => [deliveries.next_event().await?, deliveries.next_event().await?],
                };
                let mut command = tokio::process::Command::new(&contestant.program);
                command.args(&contestant.args).env_clear();
                command
                    .env("PATH", std::env::var("PATH").unwrap_or_default())
                    .env("AWS_REGION", "us-east-1")
                    .env("AWS_DEFAULT_REGION", "us-east-1")
                    .env("AWS_ACCESS_KEY_ID", "test")
                    .env("AWS_SECRET_ACCESS_KEY", "test")
                    .env("AWS_EC2_METADATA_DISABLED", "true")
                    .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
                    .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
                    .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                    .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
                    .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
                    .env("CARTWHEEL_STAGE", STAGE)
                    .env("CARTWHEEL_TABLE", format!("cartwheel-{STAGE}"))
                    .env("AWS_ENDPOINT_URL", format!("http://{moto}"))
                    .env("CARTWHEEL_LOG_FORMAT", "json")
                    .env("RUST_LOG", "warn");
                for (name, value) in &contestant.env {
                    command.env(name, value);
                }
                match transport {
                    Transport::Tls => {
                        command
                            .env("AWS_ENDPOINT_URL_DYNAMODB", &https_dynamodb)
                            .env("AWS_ENDPOINT_URL", &https_moto)
                            .env("SSL_CERT_FILE", &tls.ca_pem)
                            .env("NODE_EXTRA_CA_CERTS", &tls.ca_pem)
                            .env("AWS_CA_BUNDLE", &tls.ca_pem);
                    }
                    Transport::Http => {
                        command.env("AWS_ENDPOINT_URL_DYNAMODB", format!("http://{dynamodb}"));
                    }
                }
                let sample = runtime
                    .cold_start(command, events, contestant.check)
                    .await
                    .map_err(|e| format!("{} over {} (round {round}): {e}", contestant.name, transport.name()))?;
                contestant.samples.push((transport, sample));
            }
        }
    }

    let posted = deliveries.receiver.requests().len();
    if posted != runs * 4 {
        return Err(format!("the receiver got {posted} deliveries from {} invocations", runs * 4).into());
    }
    // A smoke run builds only what it starts.
    let measured: &[&str] = if args.smoke {
        &["catalog", "webhook-delivery", "probe"]
    } else {
        sizes::FUNCTIONS
    };
    let sizes = sizes::measure(&args.bins, &cache.join("zip"), measured)?;
    let gateway = load::measure(args.smoke).await?;
    let mut report = report(&contestants, &sizes, runs, args.smoke);
    report.push_str(&gateway_report(&gateway));
    let data_model = std::fs::read_to_string(args.root.join("docs/data-model.md"))?;
    let delivery_warm: Vec<f64> = contestants
        .iter()
        .filter(|c| c.name.starts_with("webhook-delivery"))
        .flat_map(|c| c.samples.iter())
        .filter(|(t, _)| *t == Transport::Tls)
        .map(|(_, s)| s.warm_ms)
        .collect();
    let cost = cost::document(
        &data_model,
        &gateway.loads,
        &gateway.delivery_calls,
        stats(&delivery_warm).1,
        stats(&deliveries.fanout_ms()).1,
        args.smoke,
    );
    let out = if args.smoke {
        args.root.join("target/bench-smoke")
    } else {
        args.root.join("docs")
    };
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("performance.md"), report)?;
    std::fs::write(out.join("cost.md"), cost)?;
    println!("bench: wrote {}/performance.md and cost.md", out.display());
    if !args.smoke {
        let over: Vec<&str> = sizes
            .iter()
            .filter(|s| s.zip_bytes > sizes::ZIP_BUDGET_BYTES)
            .map(|s| s.name.as_str())
            .collect();
        if !over.is_empty() {
            return Err(format!("zips over the 4 MB budget: {over:?}").into());
        }
    }
    Ok(())
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    format!("{cores} cores, 1-minute load average {load} at the end of the run")
}

fn report(contestants: &[Contestant], sizes: &[sizes::Size], runs: usize, smoke: bool) -> String {
    let mut text = String::from("# Performance\n\n");
    text.push_str(&format!(
        "Generated by `make bench` ({}) on {}; {}. Absolute times move with the machine's load: compare within one \
         run, by the ratios. Every figure is min / median / max over {runs} cold starts per contestant and transport, \
         interleaved (a smoke run has one).\n\n",
        if smoke {
            "smoke run: one round, no budgets"
        } else {
            "infra/bench.sh"
        },
        cartwheel::time::rfc3339(cartwheel::time::now()),
        machine()
    ));
    text.push_str(
        "## Cold start\n\nA freshly started process gets one API Gateway HTTP API v2 event (with the authorizer \
         context the real authorizer produces) from a local Lambda Runtime API (`infra/bench/src/lambda.rs`) and \
         answers it with one read of DynamoDB Local. *init* is exec → the first `/next`; *cold start* is exec → the \
         first response; *warm* is a second event handed to the same process → its response; *RSS* is `VmHWM` after \
         both. Over HTTPS, every SDK call goes through a local \
         TLS-terminating proxy whose throwaway CA the bench generates (`SSL_CERT_FILE`, `NODE_EXTRA_CA_CERTS`, \
         `AWS_CA_BUNDLE`), as on AWS, where every call is HTTPS; the same figures over plain HTTP are beside them. \
         `catalog` answers `GET /v1/products/{id}` as deployed: conventions, the process's first rate-limit lease \
         (`UpdateItem`, run beside the read since a GET changes nothing) and the product (`GetItem`) — two calls \
         where the probe and the comparators make one. `webhook-delivery` reads \
         its master key from Secrets Manager (moto, through the same kind of proxy) at init, then handles one SQS \
         record made by the real fanout: reads the delivery and the endpoint, POSTs the signed event to a local \
         receiver and records the attempt.\n\n",
    );
    text.push_str(
        "| Contestant | Transport | init median (ms) | cold start min / median / max (ms) | cold start vs probe | \
         warm median (ms) | peak RSS median (MiB) |\n",
    );
    text.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
    let median_of = |c: &Contestant, t: Transport| {
        let cold: Vec<f64> = c
            .samples
            .iter()
            .filter(|(tr, _)| *tr == t)
            .map(|(_, s)| s.cold_ms)
            .collect();
        stats(&cold).1
    };
    let probe = contestants.iter().find(|c| c.name.starts_with("bare Rust probe"));
    let mut goals = Vec::new();
    for transport in [Transport::Tls, Transport::Http] {
        let floor = probe.map(|p| median_of(p, transport)).unwrap_or(f64::NAN);
        for contestant in contestants {
            let samples: Vec<&Sample> = contestant
                .samples
                .iter()
                .filter(|(t, _)| *t == transport)
                .map(|(_, s)| s)
                .collect();
            let init = stats(&samples.iter().map(|s| s.init_ms).collect::<Vec<_>>());
            let cold = stats(&samples.iter().map(|s| s.cold_ms).collect::<Vec<_>>());
            let rss = stats(&samples.iter().map(|s| s.rss_mib).collect::<Vec<_>>());
            let warm = stats(&samples.iter().map(|s| s.warm_ms).collect::<Vec<_>>());
            let ratio = cold.1 / floor;
            text.push_str(&format!(
                "| {} | {} | {:.1} | {:.1} / {:.1} / {:.1} | {:.2}× | {:.1} | {:.1} |\n",
                contestant.name,
                transport.name(),
                init.1,
                cold.0,
                cold.1,
                cold.2,
                ratio,
                warm.1,
                rss.1
            ));
            let function = contestant.name.split(' ').next().unwrap_or_default();
            if transport == Transport::Tls && matches!(function, "catalog" | "webhook-delivery") {
                goals.push(format!(
                    "- `{function}` over HTTPS: cold start {ratio:.2}× the probe (goal ≤ {COLD_START_GOAL}×: {}), peak RSS \
                     {:.1} MiB (goal ≤ {RSS_GOAL_MIB} MB: {}).",
                    if ratio <= COLD_START_GOAL { "met" } else { "not met" },
                    rss.1,
                    if rss.1 <= RSS_GOAL_MIB { "met" } else { "not met" },
                ));
            }
        }
    }
    text.push('\n');
    for goal in goals {
        text.push_str(&goal);
        text.push('\n');
    }
    text.push_str(
        "\n## Sizes\n\nThe stripped x86_64 release binary of every function and its zip (`bootstrap` inside, as Lambda \
         takes it; `zip -9`). Budget: every zip ≤ 4 MB (the bench fails otherwise). arm64 builds are optional \
         (`make lambda-arm64`) and not measured here.\n\n| Function | binary (MB) | zip (MB) | within 4 MB |\n| --- | --- | --- | --- |\n",
    );
    for size in sizes {
        text.push_str(&format!(
            "| {} | {:.2} | {:.2} | {} |\n",
            size.name,
            size.binary_bytes as f64 / 1e6,
            size.zip_bytes as f64 / 1e6,
            if size.zip_bytes <= sizes::ZIP_BUDGET_BYTES {
                "yes"
            } else {
                "**no**"
            }
        ));
    }
    text.push_str(
        "\nReproduce: `make bench` (builds the release binaries, installs the Node.js comparator's packages into \
         `.cache/bench/node`, starts a private local stack, runs `cartwheel-bench`). Rust's release profile is \
         `opt-level = \"s\"`, LTO, one codegen unit, `panic = \"abort\"`, stripped (chosen by measurement: \
         ../shared/FACTS.md).\n",
    );
    text
}

fn gateway_report(results: &load::GatewayResults) -> String {
    let mut text = String::from(
        "\n## Latency through the local gateway\n\nRequests over real HTTP to the local gateway (every function's \
         router, the authorizer and the conventions in one process) on 127.0.0.1, each client sequential, next to \
         the bare SDK round trip to the same DynamoDB Local in the same run. As deployed, the authorizer's answer is \
         reused per key for 300 s (template.yaml's `AuthorizerCacheTtl`, emulated by the gateway) and rate-limit \
         tokens are leased from the per-store counter in batches (`UpdateItem` once per 1, 2, 4, … up to a fiftieth \
         of the limit requests; docs/architecture.md), so a warm product read is usually the one `GetItem`. \
         Each read and the bare transaction start after 20 untimed calls (DynamoDB Local's JVM warms up on the \
         first ones). Bounded: at most 200 timed requests per client count, 120 s per load.\n\n| Load | clients | requests | p50 (ms) | p99 (ms) | per second | errors | p50 vs bare |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let bare = |name: &str, clients: usize| {
        results
            .loads
            .iter()
            .find(|l| l.name == name && l.clients == clients)
            .map(|l| l.percentile(0.5))
            .unwrap_or(f64::NAN)
    };
    let mut goal = String::new();
    for load in &results.loads {
        let reference = if load.name.starts_with("GET") || load.name.contains("GetItem") {
            bare("bare SDK GetItem", load.clients)
        } else {
            bare("bare SDK TransactWriteItems (2 puts)", load.clients)
        };
        let ratio = load.percentile(0.5) / reference;
        text.push_str(&format!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.0} | {} | {:.2}× |\n",
            load.name,
            load.clients,
            load.latencies.len() + load.errors,
            load.percentile(0.5),
            load.percentile(0.99),
            load.throughput(),
            load.errors,
            ratio
        ));
        if load.name == "GET /v1/products/{id}" && load.clients == 1 {
            goal = format!(
                "\n- GET product p50 at one client: {ratio:.2}× the bare `GetItem` (goal ≤ 1.3×: {}).\n",
                if ratio <= 1.3 { "met" } else { "not met" }
            );
        }
    }
    let errors: usize = results.loads.iter().map(|l| l.errors).sum();
    text.push_str(&goal);
    text.push_str(&format!(
        "- Errors across every load: {errors} (goal 0: {}).\n- For scale, the most popular open-source peer \
         (Medusa v2 on PostgreSQL) measured p50 110 ms for one product and 2.9 s for its checkout flow on this \
         machine (../shared/FACTS.md).\n",
        if errors == 0 { "met" } else { "not met" }
    ));

    let webhooks = &results.webhooks;
    let commit = load::Load {
        name: String::new(),
        clients: 1,
        latencies: webhooks.latencies.clone(),
        errors: 0,
        elapsed: std::time::Duration::from_secs(1),
    };
    let (p50, p99) = (commit.percentile(0.5), commit.percentile(0.99));
    let ratio = webhooks.beside_hanging_per_second / webhooks.alone_per_second;
    let backlog_ratio = webhooks.backlog_beside_hanging_per_second / webhooks.backlog_alone_per_second;
    text.push_str(&format!(
        "\n## Webhooks\n\nThe whole local pipeline (the stream poller → EventBridge on moto → SQS → fanout → SQS → \
         delivery, the same handlers as on AWS) to a local receiver. Commit = the API's response to a product \
         change; arrival = the first delivery attempt at the receiver. The local stack runs up to 20 delivery \
         batches at once, as Lambda scales its SQS pollers with a backlog. An endpoint whose attempt times out \
         cools down for 30 s: the fanout holds its new jobs in the queue until then, and jobs already queued are \
         recorded as \"not sent\" and retried after the cooldown (docs/webhooks.md).\n\n| Measure | Value | Goal |\n| --- | --- | --- |\n\
         | commit → first delivery, p50 over {} events | {:.0} ms | ≤ 1 s: {} |\n\
         | commit → first delivery, p99 | {:.0} ms | ≤ 2 s: {} |\n\
         | deliveries per second to a fast endpoint beside a second fast one (a burst of {} changes) | {:.1} | |\n\
         | the same, when the second endpoint hangs until the 2 s timeout | {:.1} ({:.0} %) | ≥ 90 %: {} |\n\
         | deliveries per second to a fast endpoint beside a fast one, draining a backlog of {} changes made while \
         the pipeline was stopped | {:.1} | |\n\
         | the same, when the second endpoint hangs until the 2 s timeout | {:.1} ({:.0} %) | ≥ 90 %: {} |\n",
        webhooks.latencies.len(),
        p50,
        if p50 <= 1000.0 { "met" } else { "not met" },
        p99,
        if p99 <= 2000.0 { "met" } else { "not met" },
        webhooks.burst,
        webhooks.alone_per_second,
        webhooks.beside_hanging_per_second,
        ratio * 100.0,
        if ratio >= 0.9 { "met" } else { "not met" },
        webhooks.burst,
        webhooks.backlog_alone_per_second,
        webhooks.backlog_beside_hanging_per_second,
        backlog_ratio * 100.0,
        if backlog_ratio >= 0.9 { "met" } else { "not met" },
    ));
    text
}
