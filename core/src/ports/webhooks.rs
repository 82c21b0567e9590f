//! Webhooks: the platform's events posted to configured endpoints by the Standard Webhooks
//! convention (<https://www.standardwebhooks.com>), as a consumer of the audit outbox beside the
//! OpenSearch shipper, with a cursor of its own per endpoint.
//!
//! - [`signature`]: the `whsec_` secret and the `v1` HMAC-SHA256 signature.
//! - [`endpoint`]: an endpoint with its filters and its delivery state, kept in the store
//!   ([`crate::store::WebhookEndpoints`]).
//! - [`deliver`]: the pump, [`deliver_webhooks`]: at-least-once, in order per endpoint, the event
//!   id as the idempotency key, retries with exponential backoff and jitter on a stored schedule,
//!   an endpoint disabled after too many failures in a row with its events kept.
//! - [`WebhookSender`]: the port that makes the HTTP request (reqwest in
//!   `crate::adapters::webhook_http`, feature `webhooks`).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

pub mod deliver;
pub mod endpoint;
pub mod signature;

pub use deliver::{DeliverOptions, DeliverySummary, deliver_webhooks};
pub use endpoint::WebhookEndpoint;
pub use signature::WebhookSecret;

/// One signed delivery: `POST url` with `body` (JSON) and the three Standard Webhooks headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// Where to post.
    pub url: String,
    /// `webhook-id`: the event's id, the same on every retry.
    pub id: String,
    /// `webhook-timestamp`: unix seconds of this attempt.
    pub timestamp: i64,
    /// `webhook-signature`: `v1,<base64>` (a signature, not the secret).
    pub signature: String,
    /// The event as JSON.
    pub body: String,
    /// How long the request may take.
    pub timeout: Duration,
}

/// Makes webhook requests. Held as `Arc<dyn WebhookSender>`.
#[async_trait]
pub trait WebhookSender: Send + Sync + fmt::Debug + 'static {
    /// Posts `request` and answers the response's status, or why no response came (connection
    /// refused, timed out). Only a 2xx status counts as delivered.
    async fn post(&self, request: &WebhookRequest) -> Result<u16, String>;
}
