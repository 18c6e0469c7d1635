//! What Lambda does around a cold start, locally: a Lambda Runtime API that hands one event to a freshly started
//! process and times it, and a TLS-terminating proxy (throwaway CA) so that the process reaches DynamoDB Local over
//! HTTPS, as every SDK call on AWS does.

use axum::serve::ListenerExt as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::Notify;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// One cold start, as the Runtime API saw it.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// exec → the first `/next` (the process's init).
    pub init_ms: f64,
    /// exec → the first response.
    pub cold_ms: f64,
    /// The second event, handed to the now warm process → its response.
    pub warm_ms: f64,
    /// Peak resident memory (`VmHWM`) right after the response, in MiB.
    pub rss_mib: f64,
}

#[derive(Default)]
struct Run {
    events: std::collections::VecDeque<String>,
    next_at: Option<Instant>,
    /// When each event was handed out.
    handed: Vec<Instant>,
    responses: Vec<(Instant, Result<String, String>)>,
    expected: usize,
}

#[derive(Clone, Default)]
struct Api {
    run: Arc<Mutex<Run>>,
    done: Arc<Notify>,
}

async fn next(State(api): State<Api>) -> axum::response::Response {
    let event = {
        let mut run = api.run.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if run.next_at.is_none() {
            run.next_at = Some(now);
        }
        let event = run.events.pop_front();
        if event.is_some() {
            run.handed.push(now);
        }
        event.map(|e| (e, run.handed.len()))
    };
    let Some((event, number)) = event else {
        // The process asks for one event more than it is given: it is stopped.
        std::future::pending::<()>().await;
        return StatusCode::NO_CONTENT.into_response();
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_str(&format!("bench-request-{number}")).unwrap_or(HeaderValue::from_static("bench")),
    );
    let deadline = (std::time::SystemTime::now() + Duration::from_secs(30))
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    headers.insert(
        "lambda-runtime-deadline-ms",
        HeaderValue::from_str(&deadline.to_string()).unwrap_or(HeaderValue::from_static("0")),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:bench"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        HeaderValue::from_static("Root=1-00000000-000000000000000000000000"),
    );
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    (headers, event).into_response()
}

fn finish(api: &Api, result: Result<String, String>) {
    let mut run = api.run.lock().unwrap_or_else(|e| e.into_inner());
    let failed = result.is_err();
    run.responses.push((Instant::now(), result));
    if failed || run.responses.len() >= run.expected {
        api.done.notify_one();
    }
}

async fn response(State(api): State<Api>, body: Bytes) -> StatusCode {
    finish(&api, Ok(String::from_utf8_lossy(&body).into_owned()));
    StatusCode::ACCEPTED
}

async fn error(State(api): State<Api>, body: Bytes) -> StatusCode {
    finish(&api, Err(String::from_utf8_lossy(&body).into_owned()));
    StatusCode::ACCEPTED
}

/// The local Lambda Runtime API (`/2018-06-01/runtime/…`), one cold start at a time.
pub struct RuntimeApi {
    api: Api,
    pub addr: SocketAddr,
}

impl RuntimeApi {
    pub async fn start() -> Result<Self, Error> {
        let api = Api::default();
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(error))
            .with_state(api.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let listener = listener.tap_io(|tcp| drop(tcp.set_nodelay(true)));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Self { api, addr })
    }

    /// Starts `command` (its environment already set but for the Runtime API), hands it the two events one after
    /// the other (cold, then warm), and times them; then stops it. A response that fails `check` is an error.
    pub async fn cold_start(
        &self,
        mut command: tokio::process::Command,
        events: [String; 2],
        check: impl Fn(&str) -> bool,
    ) -> Result<Sample, Error> {
        *self.api.run.lock().unwrap_or_else(|e| e.into_inner()) = Run {
            events: events.into_iter().collect(),
            expected: 2,
            ..Run::default()
        };
        command
            .env("AWS_LAMBDA_RUNTIME_API", self.addr.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command.spawn()?;
        let pid = child.id().ok_or("the process ended at once")?;
        let waited = tokio::time::timeout(Duration::from_secs(60), self.api.done.notified()).await;
        // Peak RSS after both invocations.
        let rss_mib = peak_rss_mib(pid);
        let _ = child.start_kill();
        let output = child.wait_with_output().await?;
        if waited.is_err() {
            return Err(format!(
                "no response within 60 s; stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        let run = std::mem::take(&mut *self.api.run.lock().unwrap_or_else(|e| e.into_inner()));
        for (_, result) in &run.responses {
            let body = result.as_ref().map_err(|e| format!("the function failed: {e}"))?;
            if !check(body) {
                return Err(format!("unexpected response: {body}").into());
            }
        }
        let (Some((cold_at, _)), Some((warm_at, _)), Some(warm_handed)) =
            (run.responses.first(), run.responses.get(1), run.handed.get(1))
        else {
            return Err("fewer than two responses".into());
        };
        let next_at = run.next_at.unwrap_or(*cold_at);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        Ok(Sample {
            init_ms: ms(next_at - started),
            cold_ms: ms(*cold_at - started),
            warm_ms: ms(*warm_at - *warm_handed),
            rss_mib: rss_mib.unwrap_or(f64::NAN),
        })
    }
}

/// `VmHWM` of a process, in MiB.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// A throwaway certificate authority and a certificate for 127.0.0.1 it signed, written as PEM under `dir` (an
/// ignored cache folder: never committed).
pub struct Tls {
    pub ca_pem: PathBuf,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl Tls {
    pub fn create(dir: &Path) -> Result<Self, Error> {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
        std::fs::create_dir_all(dir)?;
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Cartwheel bench throwaway CA");
        let ca = ca_params.self_signed(&ca_key)?;
        let leaf_key = KeyPair::generate()?;
        let mut leaf_params = CertificateParams::new(vec!["localhost".to_owned()])?;
        leaf_params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
        let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key)?;
        let ca_pem = dir.join("bench-ca.pem");
        std::fs::write(&ca_pem, ca.pem())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )?;
        Ok(Self {
            ca_pem,
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// An HTTPS front for the plain-HTTP service at `upstream`: returns its `https://127.0.0.1:port` URL.
    pub async fn proxy(&self, upstream: SocketAddr) -> Result<String, Error> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("https://127.0.0.1:{}", listener.local_addr()?.port());
        let acceptor = self.acceptor.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // Without TCP_NODELAY a request relayed in two writes waits for the peer's delayed ACK (40 ms
                    // on Linux): the proxy would add stalls that AWS's endpoints do not have.
                    let _ = stream.set_nodelay(true);
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = plain.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        Ok(url)
    }
}
