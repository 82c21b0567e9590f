//! The Standard Webhooks signature (<https://www.standardwebhooks.com>): a per-endpoint secret
//! `whsec_<base64>`, and `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
//! keyed with the secret's decoded bytes. HMAC and SHA-256 come from the RustCrypto crates.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Random bytes in a generated secret (the convention asks for 24 to 64).
const SECRET_BYTES: usize = 32;

/// An endpoint's signing secret. Never shown: `Debug` prints `WebhookSecret([REDACTED])` and
/// there is no `Display`; [`WebhookSecret::expose`] gives the `whsec_` text, once, to whoever
/// configures the receiver.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([REDACTED])")
    }
}

impl WebhookSecret {
    /// A fresh secret of 32 random bytes from the operating system.
    pub fn generate() -> Result<Self> {
        let mut key = vec![0_u8; SECRET_BYTES];
        getrandom::fill(&mut key).map_err(|error| Error::Storage {
            action: "drawing a webhook secret from the system's random source".into(),
            source: Box::new(error),
        })?;
        Ok(WebhookSecret(key))
    }

    /// Reads `whsec_<base64>` (the prefix may be left out). Its key must decode to 24 to 64
    /// bytes. The error never repeats the text.
    pub fn parse(text: &str) -> Result<Self> {
        let encoded = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let key = STANDARD.decode(encoded).map_err(|_| {
            Error::invalid(
                "webhook secret",
                "is not whsec_ followed by standard base64",
            )
        })?;
        if !(24..=64).contains(&key.len()) {
            return Err(Error::invalid(
                "webhook secret",
                format!("decodes to {} bytes; it must be 24 to 64", key.len()),
            ));
        }
        Ok(WebhookSecret(key))
    }

    /// The secret as `whsec_<base64>`: for the receiver's configuration only, never a log.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// The `webhook-signature` header value for message `id` sent at `timestamp` (unix seconds)
    /// with `body`: `v1,<base64 signature>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        format!("v1,{}", STANDARD.encode(self.mac(id, timestamp, body)))
    }

    /// Whether `header` (space-separated `v1,<base64>` signatures) holds a valid signature of
    /// the message, compared in constant time. For receivers written in Rust, and tests.
    pub fn verify(&self, id: &str, timestamp: i64, body: &str, header: &str) -> bool {
        header.split(' ').any(|signature| {
            let Some(encoded) = signature.strip_prefix("v1,") else {
                return false;
            };
            let Ok(expected) = STANDARD.decode(encoded) else {
                return false;
            };
            let mut mac = self.hmac();
            mac.update(content(id, timestamp, body).as_bytes());
            mac.verify_slice(&expected).is_ok()
        })
    }

    fn hmac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC accepts any key length")
    }

    fn mac(&self, id: &str, timestamp: i64, body: &str) -> Vec<u8> {
        let mut mac = self.hmac();
        mac.update(content(id, timestamp, body).as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// What is signed: `{id}.{timestamp}.{body}`.
fn content(id: &str, timestamp: i64, body: &str) -> String {
    format!("{id}.{timestamp}.{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_convention_s_published_example() {
        // The example of the Standard Webhooks specification (and its libraries' tests).
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        let signature = secret.sign(id, 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(secret.verify(id, 1614265330, body, &format!("v1,bm90IGl0 {signature}")));
        assert!(!secret.verify(id, 1614265331, body, &signature));
        assert!(!secret.verify(id, 1614265330, body, "v1,not base64!"));
    }

    #[test]
    fn secrets_are_generated_parsed_and_never_shown() {
        let secret = WebhookSecret::generate().unwrap();
        let text = secret.expose();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text).unwrap(), secret);
        assert_ne!(WebhookSecret::generate().unwrap(), secret);
        assert_eq!(format!("{secret:?}"), "WebhookSecret([REDACTED])");
        let error = WebhookSecret::parse("whsec_c2hvcnQ=").unwrap_err();
        assert!(error.to_string().contains("5 bytes"), "{error}");
        let error = WebhookSecret::parse("whsec_%%%%").unwrap_err();
        assert!(!error.to_string().contains("%%%%"), "{error}");
    }
}
