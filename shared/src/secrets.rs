//! Secrets read from Secrets Manager once per cold start (the platform key, the webhook master key, the payment
//! provider's secret).

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

#[derive(Debug, thiserror::Error)]
#[error("could not read the secret `{secret}`: {cause}")]
pub struct SecretError {
    secret: String,
    cause: String,
}

impl SecretError {
    pub fn new(secret: &str, cause: impl Into<String>) -> Self {
        Self {
            secret: secret.to_owned(),
            cause: cause.into(),
        }
    }
}

/// The text of the secret `id` (a name or an ARN); an empty secret is an error.
pub async fn read(sdk: &SdkConfig, id: &str) -> Result<String, SecretError> {
    let value = aws_sdk_secretsmanager::Client::new(sdk)
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| SecretError::new(id, DisplayErrorContext(e).to_string()))?;
    value
        .secret_string()
        .filter(|text| !text.trim().is_empty())
        .map(str::to_owned)
        .ok_or_else(|| SecretError::new(id, "the secret is empty"))
}
