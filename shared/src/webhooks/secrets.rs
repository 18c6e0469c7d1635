//! Signing secrets: made, sealed under the master keys (AES-256-GCM), opened to sign, rotated with an overlap.

use super::*;

/// A new signing secret: `whsec_` + 32 random bytes in base64, as Standard Webhooks writes them.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// The deployment's master keys, newest first: the first seals, any opens (so the key can be rotated).
#[derive(Clone)]
pub struct MasterKeys(Vec<(String, [u8; 32])>);

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKeys({} keys)", self.0.len())
    }
}

impl MasterKeys {
    /// Reads the master key(s) from Secrets Manager (`CARTWHEEL_WEBHOOK_MASTER_KEY_SECRET`), once per cold start.
    #[cfg(feature = "secretsmanager")]
    pub async fn load(
        sdk: &aws_config::SdkConfig,
        config: &crate::config::Config,
    ) -> Result<Self, crate::secrets::SecretError> {
        let secret = &config.webhook_master_key_secret;
        Self::parse(&crate::secrets::read(sdk, secret).await?)
            .ok_or_else(|| crate::secrets::SecretError::new(secret, "the secret holds no key"))
    }

    /// From the secret's text: one or more key materials separated by commas, newest first.
    pub fn parse(text: &str) -> Option<Self> {
        let keys: Vec<_> = text
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(|material| {
                let key: [u8; 32] = Sha256::digest(material.as_bytes()).into();
                (hex::encode(&Sha256::digest(key)[..4]), key)
            })
            .collect();
        (!keys.is_empty()).then_some(Self(keys))
    }

    pub fn seal(&self, secret: &str) -> Result<Sealed, ApiError> {
        let (key_id, key) = &self.0[0];
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(&nonce, secret.as_bytes())
            .map_err(|_| ApiError::internal("sealing failed"))?;
        Ok(Sealed {
            key_id: key_id.clone(),
            nonce: STANDARD.encode(nonce),
            ciphertext: STANDARD.encode(ciphertext),
        })
    }

    pub fn open(&self, sealed: &Sealed) -> Result<String, ApiError> {
        let (_, key) = self
            .0
            .iter()
            .find(|(id, _)| *id == sealed.key_id)
            .ok_or_else(|| ApiError::internal(format!("no master key {} to open a secret", sealed.key_id)))?;
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
        let nonce = STANDARD.decode(&sealed.nonce).map_err(ApiError::internal)?;
        let ciphertext = STANDARD.decode(&sealed.ciphertext).map_err(ApiError::internal)?;
        if nonce.len() != 12 {
            return Err(ApiError::internal("sealed secret has a bad nonce"));
        }
        let plain = cipher
            .decrypt(Nonce::from_slice(&nonce), ciphertext.as_ref())
            .map_err(|_| ApiError::internal("a sealed secret did not open"))?;
        String::from_utf8(plain).map_err(ApiError::internal)
    }
}

/// The secrets that sign a delivery now: the current one, and the previous one during its overlap.
pub fn signing_secrets(keys: &MasterKeys, endpoint: &Endpoint, now_unix: i64) -> Result<Vec<String>, ApiError> {
    let mut secrets = vec![keys.open(&endpoint.secret)?];
    if let Some((previous, until)) = &endpoint.previous_secret {
        if now_unix < *until {
            secrets.push(keys.open(previous)?);
        }
    }
    Ok(secrets)
}
