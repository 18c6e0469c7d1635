//! AWS SDK configuration, built once per process.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::Builder;

/// Loads the SDK configuration from the environment (region, credentials, and the standard
/// `AWS_ENDPOINT_URL[_<SERVICE>]` overrides that point the clients at DynamoDB Local and moto).
///
/// TLS is rustls with ring: the default aws-lc provider seeds its RNG from CPU jitter on the first handshake,
/// which adds ~60 ms to every cold start (../shared/FACTS.md), and it needs a C build.
pub async fn sdk_config() -> SdkConfig {
    let http_client = Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .load()
        .await
}
