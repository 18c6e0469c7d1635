use std::path::PathBuf;
use std::process::Command;

use cartwheel::http::AppState;
use cartwheel::stores::PlatformKey;
use cartwheel::webhooks::MasterKeys;
use cartwheel::Db;
use cartwheel_admin::AdminState;
use cartwheel_tests::{assert_error, config, serve, spawn_app, Options};
use cartwheel_webhooks::WebhooksState;
use serde_json::{json, Value};

#[tokio::test]
async fn health_reports_a_reachable_database() {
    let app = spawn_app().await;
    let response = app.http.get(format!("{}/v1/health", app.url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("x-request-id").is_some());
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"status": "ok", "database": "reachable", "version": env!("CARGO_PKG_VERSION"),
               "api_version": "2026-11-01"})
    );
}

#[tokio::test]
async fn unknown_routes_get_the_error_body() {
    let app = spawn_app().await;
    let store = app.create_store().await;
    assert_error(
        app.get("/v1/nothing-here", &store.test_key).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
}

struct Stack(PathBuf);

impl Stack {
    fn script() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra/stack.sh")
    }

    fn start(dir: PathBuf) -> Self {
        let status = Command::new("bash")
            .arg(Self::script())
            .arg("start")
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "could not start a second local stack");
        Self(dir)
    }

    fn port(&self) -> String {
        let env = std::fs::read_to_string(self.0.join("env")).unwrap();
        let line = env.lines().find(|l| l.contains("CARTWHEEL_DYNAMODB_PORT=")).unwrap();
        line.rsplit('=').next().unwrap().trim().to_owned()
    }

    fn stop(&self) {
        let status = Command::new("bash")
            .arg(Self::script())
            .arg("stop")
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success(), "could not stop the second local stack");
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A DynamoDB Local of its own, stopped half-way: health must turn to 503.
#[tokio::test]
async fn health_is_503_when_dynamodb_is_stopped() {
    let dir = std::env::temp_dir().join(format!("cartwheel-health-{}", std::process::id()));
    let stack = Stack::start(dir);
    let sdk = cartwheel_tests::sdk().await;
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .endpoint_url(format!("http://127.0.0.1:{}", stack.port()))
        .build();
    let config = config(&Options::default());
    let db = Db::from_client(aws_sdk_dynamodb::Client::from_conf(dynamodb), &config.table);
    db.ensure_table().await.unwrap();
    let state = AppState::new(db, config);
    let functions = cartwheel_gateway::Functions {
        admin: AdminState {
            app: state.clone(),
            platform_key: PlatformKey::new("unused"),
        },
        webhooks: WebhooksState {
            app: state.clone(),
            keys: MasterKeys::parse("unused").unwrap(),
            deliveries: cartwheel::queue::Queue::new(&sdk, "http://127.0.0.1:1/unused"),
        },
        orders: cartwheel_orders::OrdersState {
            app: state.clone(),
            payments: cartwheel::payments::PaymentsSecret::new("unused").unwrap(),
        },
    };
    let app = serve(
        cartwheel_gateway::router(state.clone(), functions, Default::default()),
        state,
        sdk,
    )
    .await;
    let health = || app.http.get(format!("{}/v1/health", app.url)).send();

    assert_eq!(health().await.unwrap().status(), 200);
    stack.stop();
    let response = health().await.unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (&body["status"], &body["database"]),
        (&json!("error"), &json!("unreachable"))
    );
}
