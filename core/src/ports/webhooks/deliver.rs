//! The webhook pump: [`deliver_webhooks`] posts each enabled endpoint's events after its cursor,
//! signed, one request per event, and records the outcome in the store after each attempt.
//!
//! - **At least once, in order.** An endpoint's cursor moves past an event only once the
//!   endpoint answered 2xx for it (and past events not for it). A crash between the answer and
//!   the write delivers that event again, with the same `webhook-id`: receivers deduplicate by it.
//! - **Retries on a stored schedule.** A failure (a non-2xx status, a timeout, no connection)
//!   stops the endpoint at that event and stores when to try again: exponential backoff with
//!   jitter ([`DeliverOptions::initial_backoff`] doubling up to [`DeliverOptions::max_backoff`]).
//!   The pump never sleeps: call it again (a loop, a cron, `ai-billing webhooks deliver`), and a
//!   restarted process resumes from the stored state.
//! - **Disabled after repeated failure, nothing lost.** After [`DeliverOptions::max_failures`]
//!   failures in a row the endpoint is disabled; its cursor stays, so enabling it again delivers
//!   every event it missed.
//! - **Endpoints side by side.** A slow endpoint delays only itself; each request has a timeout.
//! - **No secret logged.** Logs name the endpoint id and event id, never the secret, the URL or
//!   the body.

use std::time::Duration;

use chrono::Utc;
use futures_util::future::join_all;

use super::{WebhookEndpoint, WebhookRequest, WebhookSender};
use crate::audit::platform::{EventType, PlatformEvent};
use crate::error::{Error, Result};
use crate::store::{FeedQuery, Store};

/// How [`deliver_webhooks`] reads, posts and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverOptions {
    /// Events read from the outbox per page: at least 1.
    pub batch_size: u32,
    /// At most this many events per endpoint in one call (`None`: until caught up or failing).
    pub max_events: Option<u32>,
    /// Failures in a row after which an endpoint is disabled: at least 1.
    pub max_failures: u32,
    /// The wait after a first failure; it doubles at each further failure.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
    /// How long one request may take before it counts as failed.
    pub timeout: Duration,
}

impl Default for DeliverOptions {
    /// Pages of 100, until caught up; disabled after 10 failures in a row; retries from 5 s
    /// doubling up to 1 h; 15 s per request.
    fn default() -> Self {
        DeliverOptions {
            batch_size: 100,
            max_events: None,
            max_failures: 10,
            initial_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3600),
            timeout: Duration::from_secs(15),
        }
    }
}

/// What a [`deliver_webhooks`] call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct DeliverySummary {
    /// Enabled endpoints that were due and tried.
    pub endpoints: u32,
    /// Events delivered (answered 2xx).
    pub delivered: u64,
    /// Attempts that failed (at most one per endpoint per call: a failure stops that endpoint).
    pub failed: u64,
    /// Endpoints disabled by this call after too many failures in a row.
    pub disabled: u32,
    /// Enabled endpoints skipped because their next attempt is later.
    pub waiting: u32,
}

/// Delivers what every enabled endpoint is owed, side by side. A store error is returned once
/// every endpoint is done; what was delivered before it is recorded.
pub async fn deliver_webhooks(
    store: &dyn Store,
    sender: &dyn WebhookSender,
    options: &DeliverOptions,
) -> Result<DeliverySummary> {
    if options.batch_size == 0 {
        return Err(Error::invalid(
            "deliver options.batch_size",
            "must be at least 1",
        ));
    }
    if options.max_failures == 0 {
        return Err(Error::invalid(
            "deliver options.max_failures",
            "must be at least 1",
        ));
    }
    let endpoints = store.webhooks().await?;
    let runs = endpoints
        .into_iter()
        .filter(|endpoint| endpoint.enabled)
        .map(|endpoint| deliver_endpoint(store, sender, options, endpoint));
    let mut summary = DeliverySummary::default();
    let mut first_error = None;
    for outcome in join_all(runs).await {
        match outcome {
            Ok(Outcome::Waiting) => summary.waiting += 1,
            Ok(Outcome::Tried {
                delivered,
                failed,
                disabled,
            }) => {
                summary.endpoints += 1;
                summary.delivered += delivered;
                summary.failed += u64::from(failed);
                summary.disabled += u32::from(disabled);
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(summary),
    }
}

/// What happened to one endpoint.
enum Outcome {
    Waiting,
    Tried {
        delivered: u64,
        failed: bool,
        disabled: bool,
    },
}

/// One endpoint's events after its cursor, until caught up, a failure, or its budget.
async fn deliver_endpoint(
    store: &dyn Store,
    sender: &dyn WebhookSender,
    options: &DeliverOptions,
    mut endpoint: WebhookEndpoint,
) -> Result<Outcome> {
    if endpoint.next_attempt_at.is_some_and(|at| at > Utc::now()) {
        return Ok(Outcome::Waiting);
    }
    let actions = EventType::actions(&endpoint.types);
    let mut budget = options.max_events.unwrap_or(u32::MAX);
    let mut delivered = 0;
    while budget > 0 {
        let limit = options.batch_size.min(budget);
        let page = store
            .feed(&FeedQuery {
                after: endpoint.cursor,
                limit,
                actions: actions.clone(),
                account_id: endpoint.account_id.clone(),
            })
            .await?;
        let full = page.events.len() == limit as usize;
        for (position, event) in &page.events {
            budget -= 1;
            if let Some(event) = PlatformEvent::from_audit(event) {
                if let Err(reason) = attempt(sender, options, &endpoint, &event).await {
                    let disabled = record_failure(&mut endpoint, options, reason);
                    save(store, &mut endpoint).await?;
                    return Ok(Outcome::Tried {
                        delivered,
                        failed: true,
                        disabled,
                    });
                }
                delivered += 1;
                endpoint.delivered += 1;
            }
            endpoint.cursor = *position;
            endpoint.failures = 0;
            endpoint.next_attempt_at = None;
            endpoint.last_error = None;
            if !save(store, &mut endpoint).await? {
                // Changed meanwhile (disabled, removed, another pump): the next call re-reads.
                return Ok(Outcome::Tried {
                    delivered,
                    failed: false,
                    disabled: false,
                });
            }
        }
        if !full {
            // Caught up: past the events that were not for this endpoint too.
            if page.end > endpoint.cursor {
                endpoint.cursor = page.end;
                save(store, &mut endpoint).await?;
            }
            break;
        }
    }
    Ok(Outcome::Tried {
        delivered,
        failed: false,
        disabled: false,
    })
}

/// One signed request for `event`; `Err` with the reason unless it was answered 2xx in time.
async fn attempt(
    sender: &dyn WebhookSender,
    options: &DeliverOptions,
    endpoint: &WebhookEndpoint,
    event: &PlatformEvent,
) -> Result<(), String> {
    let body = serde_json::to_string(event).map_err(|error| error.to_string())?;
    let timestamp = Utc::now().timestamp();
    let request = WebhookRequest {
        url: endpoint.url.clone(),
        id: event.id.clone(),
        timestamp,
        signature: endpoint.secret.sign(&event.id, timestamp, &body),
        body,
        timeout: options.timeout,
    };
    let answer = tokio::time::timeout(options.timeout, sender.post(&request))
        .await
        .unwrap_or_else(|_| Err(format!("timed out after {:?}", options.timeout)));
    let reason = match answer {
        Ok(status) if (200..300).contains(&status) => {
            tracing::debug!(endpoint = %endpoint.id, event_id = %event.id, status, "webhook delivered");
            return Ok(());
        }
        Ok(status) => format!("answered HTTP {status}"),
        Err(reason) => reason,
    };
    tracing::info!(endpoint = %endpoint.id, event_id = %event.id, %reason, "webhook delivery failed");
    Err(reason)
}

/// Records a failed attempt: the next one after a backoff, or the endpoint disabled after
/// `max_failures` in a row (its cursor kept). Whether it was disabled.
fn record_failure(
    endpoint: &mut WebhookEndpoint,
    options: &DeliverOptions,
    reason: String,
) -> bool {
    let now = Utc::now();
    endpoint.failures += 1;
    endpoint.last_error = Some(reason);
    if endpoint.failures >= options.max_failures {
        endpoint.enabled = false;
        endpoint.disabled_at = Some(now);
        endpoint.next_attempt_at = None;
        tracing::warn!(endpoint = %endpoint.id, failures = endpoint.failures, "webhook endpoint disabled after failing repeatedly; its events are kept");
        return true;
    }
    let wait = crate::backoff::jittered(
        options.initial_backoff,
        options.max_backoff,
        endpoint.failures - 1,
    );
    let wait = chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
    endpoint.next_attempt_at = Some(now.checked_add_signed(wait).unwrap_or(now));
    false
}

/// Writes the endpoint's next revision over the one read; whether it was still that one.
async fn save(store: &dyn Store, endpoint: &mut WebhookEndpoint) -> Result<bool> {
    endpoint.revision += 1;
    store
        .put_webhook(endpoint, Some(endpoint.revision - 1))
        .await
}
