//! The payment provider's signature: `Payment-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` (the scheme
//! of Stripe's `Stripe-Signature`), checked in constant time and refused outside a five-minute window. Ground
//! layer: configuration holds the secret, the payments domain checks callbacks with it.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::ApiError;

pub const SIGNATURE_HEADER: &str = "payment-signature";
/// Callbacks older or newer than this are refused as replays.
pub const TOLERANCE_SECS: i64 = 300;

/// The secret shared with the payment provider.
#[derive(Clone)]
pub struct PaymentsSecret(String);

impl std::fmt::Debug for PaymentsSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaymentsSecret(<redacted>)")
    }
}

impl PaymentsSecret {
    pub fn new(secret: &str) -> Option<Self> {
        let secret = secret.trim();
        (!secret.is_empty()).then(|| Self(secret.to_owned()))
    }

    fn mac(&self, timestamp: &str, body: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }

    /// The header a provider would send for `body` at `timestamp` (for tests and local tools).
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        format!(
            "t={timestamp},v1={}",
            hex::encode(self.mac(&timestamp.to_string(), body))
        )
    }

    /// Checks a callback's signature header against its raw body at `now` (Unix seconds). Several `v1` entries
    /// are accepted (the provider sends one per secret while it rotates them).
    pub fn verify(&self, header: Option<&str>, body: &[u8], now: i64) -> Result<(), ApiError> {
        let header = header.ok_or(ApiError::Unauthorized("missing Payment-Signature header"))?;
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", value)) => timestamp = Some(value),
                Some(("v1", value)) => signatures.extend(hex::decode(value).ok()),
                _ => {}
            }
        }
        let text = timestamp.ok_or(ApiError::Unauthorized("Payment-Signature has no timestamp"))?;
        let at: i64 = text
            .parse()
            .map_err(|_| ApiError::Unauthorized("Payment-Signature has no timestamp"))?;
        if (now - at).abs() > TOLERANCE_SECS {
            return Err(ApiError::Unauthorized(
                "Payment-Signature timestamp is outside the five-minute tolerance",
            ));
        }
        let expected = self.mac(text, body);
        if signatures.iter().any(|s| bool::from(s.as_slice().ct_eq(&expected))) {
            Ok(())
        } else {
            Err(ApiError::Unauthorized("Payment-Signature does not match"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_check_the_body_the_secret_and_the_time() {
        let secret = PaymentsSecret::new("whsec_test").unwrap();
        let body = br#"{"id":"evt_1"}"#;
        let header = secret.sign(1_000, body);
        assert!(secret.verify(Some(&header), body, 1_000).is_ok());
        assert!(secret.verify(Some(&header), body, 1_000 + TOLERANCE_SECS).is_ok());
        assert!(secret.verify(Some(&header), body, 1_000 + TOLERANCE_SECS + 1).is_err());
        assert!(secret.verify(Some(&header), br#"{"id":"evt_2"}"#, 1_000).is_err());
        assert!(PaymentsSecret::new("other")
            .unwrap()
            .verify(Some(&header), body, 1_000)
            .is_err());
        assert!(secret.verify(None, body, 1_000).is_err());
        assert!(secret.verify(Some("v1=00"), body, 1_000).is_err());
        let rotated = format!("{header},v1=deadbeef");
        assert!(secret.verify(Some(&rotated), body, 1_000).is_ok());
        assert!(PaymentsSecret::new("  ").is_none());
    }
}
