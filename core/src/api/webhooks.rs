//! Webhook endpoints through the [`BillingEngine`]: add, list, enable, disable, remove, and the
//! delivery pump ([`BillingEngine::deliver_webhooks`]), with their requests and answers. The
//! secret is returned once, by [`BillingEngine::add_webhook`], to whoever configures the
//! receiver; no listing or log shows it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::BillingEngine;
use crate::audit::platform::EventType;
use crate::error::{Error, Result};
use crate::store::{FeedQuery, OutboxPosition};
use crate::webhooks::{DeliverOptions, DeliverySummary, WebhookEndpoint, WebhookSecret};

/// Where a new endpoint's deliveries start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliverFrom {
    /// With the events written from now on (the default).
    #[default]
    Now,
    /// With the oldest event in the outbox: a replay of the whole history.
    Start,
}

/// An endpoint to add.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddWebhook {
    /// Its id, unique in the store.
    pub id: String,
    /// Where events are posted: `http://` or `https://`, without credentials.
    pub url: String,
    /// The signing secret, `whsec_<base64>` (24 to 64 bytes); a fresh one when absent.
    #[serde(default)]
    pub secret: Option<String>,
    /// Only these event types; every type when empty.
    #[serde(default)]
    pub types: Vec<EventType>,
    /// Only this account's events, when given.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Where deliveries start (default `now`).
    #[serde(default)]
    pub from: DeliverFrom,
}

impl std::fmt::Debug for AddWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddWebhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "[REDACTED]"))
            .field("types", &self.types)
            .field("account_id", &self.account_id)
            .field("from", &self.from)
            .finish()
    }
}

/// One endpoint.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRef {
    /// The endpoint's id.
    pub id: String,
}

/// An endpoint as listed: everything but its secret.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct WebhookInfo {
    /// Its id.
    pub id: String,
    /// Where events are posted.
    pub url: String,
    /// The event types it receives; every type when empty.
    pub types: Vec<EventType>,
    /// Only this account's events, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// Failed attempts in a row at its next event.
    pub failures: u32,
    /// No attempt before this instant (after a failure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Events delivered so far.
    pub delivered: u64,
    /// When it was disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<DateTime<Utc>>,
}

impl From<&WebhookEndpoint> for WebhookInfo {
    fn from(endpoint: &WebhookEndpoint) -> Self {
        WebhookInfo {
            id: endpoint.id.clone(),
            url: endpoint.url.clone(),
            types: endpoint.types.clone(),
            account_id: endpoint.account_id.clone(),
            enabled: endpoint.enabled,
            created_at: endpoint.created_at,
            failures: endpoint.failures,
            next_attempt_at: endpoint.next_attempt_at,
            last_error: endpoint.last_error.clone(),
            delivered: endpoint.delivered,
            disabled_at: endpoint.disabled_at,
        }
    }
}

/// An endpoint just added, with its secret: the only answer that carries it.
#[derive(Clone, Serialize, JsonSchema)]
pub struct AddedWebhook {
    /// The endpoint.
    pub webhook: WebhookInfo,
    /// The signing secret, `whsec_<base64>`: configure the receiver with it; it is not shown
    /// again.
    pub secret: String,
}

impl std::fmt::Debug for AddedWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddedWebhook")
            .field("webhook", &self.webhook)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// Every endpoint, by id.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct WebhookList {
    /// The endpoints, without their secrets.
    pub webhooks: Vec<WebhookInfo>,
}

/// One pass of the delivery pump, and its policy (each absent field takes its default).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverRequest {
    /// At most this many events per endpoint in this pass (default: until caught up).
    #[serde(default)]
    pub max_events: Option<u32>,
    /// Failures in a row after which an endpoint is disabled (default 10).
    #[serde(default)]
    pub max_failures: Option<u32>,
    /// Milliseconds one request may take (default 15,000).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Milliseconds to wait after a first failure, doubling after each further one (default
    /// 5,000).
    #[serde(default)]
    pub initial_backoff_ms: Option<u64>,
    /// The longest wait between two attempts, in milliseconds (default 3,600,000).
    #[serde(default)]
    pub max_backoff_ms: Option<u64>,
}

impl DeliverRequest {
    /// The pump's options: the defaults overridden by what is given.
    pub fn options(&self) -> Result<DeliverOptions> {
        let defaults = DeliverOptions::default();
        let millis = |field: &str, value: Option<u64>, default: Duration| match value {
            Some(0) => Err(Error::invalid(field, "must be more than 0")),
            Some(ms) => Ok(Duration::from_millis(ms)),
            None => Ok(default),
        };
        Ok(DeliverOptions {
            max_events: self.max_events,
            max_failures: self.max_failures.unwrap_or(defaults.max_failures),
            timeout: millis("timeout_ms", self.timeout_ms, defaults.timeout)?,
            initial_backoff: millis(
                "initial_backoff_ms",
                self.initial_backoff_ms,
                defaults.initial_backoff,
            )?,
            max_backoff: millis("max_backoff_ms", self.max_backoff_ms, defaults.max_backoff)?,
            ..defaults
        })
    }
}

impl BillingEngine {
    /// Adds an enabled endpoint; its deliveries start now (or with the oldest event: `from:
    /// start`). A taken id is [`Error::Conflict`]; a bad URL or secret [`Error::InvalidInput`].
    pub async fn add_webhook(&self, request: &AddWebhook) -> Result<AddedWebhook> {
        let store = self.store()?;
        let secret = match &request.secret {
            Some(text) => WebhookSecret::parse(text)?,
            None => WebhookSecret::generate()?,
        };
        let cursor = match request.from {
            DeliverFrom::Start => OutboxPosition::START,
            DeliverFrom::Now => {
                store
                    .feed(&FeedQuery {
                        after: OutboxPosition::START,
                        limit: 0,
                        actions: Vec::new(),
                        account_id: None,
                    })
                    .await?
                    .end
            }
        };
        let mut endpoint =
            WebhookEndpoint::new(&request.id, &request.url, secret, Utc::now(), cursor)?;
        endpoint.types = request.types.clone();
        endpoint.account_id = request.account_id.clone();
        store.put_webhook(&endpoint, None).await?;
        tracing::info!(endpoint = %endpoint.id, "webhook endpoint added");
        Ok(AddedWebhook {
            webhook: WebhookInfo::from(&endpoint),
            secret: endpoint.secret.expose(),
        })
    }

    /// Every endpoint, without secrets.
    pub async fn list_webhooks(&self) -> Result<WebhookList> {
        let endpoints = self.store()?.webhooks().await?;
        Ok(WebhookList {
            webhooks: endpoints.iter().map(WebhookInfo::from).collect(),
        })
    }

    /// Enables an endpoint: its failures and backoff are cleared, and the next pump delivers
    /// every event it missed, from its kept cursor.
    pub async fn enable_webhook(&self, request: &WebhookRef) -> Result<WebhookInfo> {
        self.switch_webhook(&request.id, true).await
    }

    /// Disables an endpoint: nothing is delivered to it, and its events are kept for later.
    pub async fn disable_webhook(&self, request: &WebhookRef) -> Result<WebhookInfo> {
        self.switch_webhook(&request.id, false).await
    }

    /// Removes an endpoint; [`Error::NotFound`] when there is none.
    pub async fn remove_webhook(&self, request: &WebhookRef) -> Result<WebhookInfo> {
        let store = self.store()?;
        let endpoint = store
            .webhook(&request.id)
            .await?
            .ok_or_else(|| Error::not_found("webhook", &request.id))?;
        if !store.delete_webhook(&request.id).await? {
            return Err(Error::not_found("webhook", &request.id));
        }
        Ok(WebhookInfo::from(&endpoint))
    }

    /// One pass of the delivery pump over every enabled endpoint that is due.
    pub async fn deliver_webhooks(&self, request: &DeliverRequest) -> Result<DeliverySummary> {
        let options = request.options()?;
        let sender = self.webhook_sender()?;
        crate::webhooks::deliver_webhooks(self.store()?.as_ref(), sender.as_ref(), &options).await
    }

    /// Writes the endpoint enabled or disabled over the revision read, reading again when a
    /// pump wrote it meanwhile.
    async fn switch_webhook(&self, id: &str, enabled: bool) -> Result<WebhookInfo> {
        let store = self.store()?;
        for _ in 0..16 {
            let endpoint = store
                .webhook(id)
                .await?
                .ok_or_else(|| Error::not_found("webhook", id))?;
            let next = endpoint.switched(enabled, Utc::now());
            if store.put_webhook(&next, Some(endpoint.revision)).await? {
                tracing::info!(endpoint = %id, enabled, "webhook endpoint switched");
                return Ok(WebhookInfo::from(&next));
            }
        }
        Err(Error::Contended {
            what: "webhook",
            id: id.to_owned(),
        })
    }
}
