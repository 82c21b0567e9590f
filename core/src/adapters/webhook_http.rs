//! The HTTP [`WebhookSender`] (feature `webhooks`): [`HttpWebhookSender`] posts signed events
//! with reqwest over rustls (the ring provider, as the OpenAI and OpenSearch adapters).
//!
//! Each request carries the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`) and `content-type: application/json`, and has its own timeout.
//! Redirects are not followed (a redirect is a failure the endpoint's owner must fix: following
//! one would post the event somewhere nobody configured). The response body is not read past
//! its status, and nothing of the request (URL, body, signature) is logged here.

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::webhooks::{WebhookRequest, WebhookSender};

/// Posts webhooks over HTTP(S). Cheap to share as `Arc<dyn WebhookSender>`.
#[derive(Debug, Clone)]
pub struct HttpWebhookSender {
    client: reqwest::Client,
}

impl HttpWebhookSender {
    /// A sender with its own connection pool.
    pub fn new() -> Result<Self> {
        // An error means a provider is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(concat!("ai-billing-webhooks/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| Error::Storage {
                action: "building the HTTP client for webhooks".into(),
                source: Box::new(error),
            })?;
        Ok(HttpWebhookSender { client })
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn post(&self, request: &WebhookRequest) -> std::result::Result<u16, String> {
        let response = self
            .client
            .post(&request.url)
            .timeout(request.timeout)
            .header("content-type", "application/json")
            .header("webhook-id", &request.id)
            .header("webhook-timestamp", request.timestamp.to_string())
            .header("webhook-signature", &request.signature)
            .body(request.body.clone())
            .send()
            .await
            .map_err(|error| {
                // reqwest's message names the URL; say what happened without it (an endpoint's
                // URL may carry a token in its query).
                let error = error.without_url();
                if error.is_timeout() {
                    return format!("timed out after {:?}", request.timeout);
                }
                let mut reason = error.to_string();
                let mut cause = std::error::Error::source(&error);
                while let Some(inner) = cause {
                    reason.push_str(&format!(": {inner}"));
                    cause = inner.source();
                }
                reason
            })?;
        Ok(response.status().as_u16())
    }
}
