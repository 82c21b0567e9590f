//! A webhook endpoint as the store keeps it: where to post, how to sign, which events, and its
//! delivery state (its own cursor in the outbox, consecutive failures, the next attempt).

use chrono::{DateTime, Utc};

use super::signature::WebhookSecret;
use crate::audit::platform::EventType;
use crate::error::{Error, Result};
use crate::store::OutboxPosition;

/// One endpoint. `Debug` never shows the secret ([`WebhookSecret`] redacts itself).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEndpoint {
    /// Its id (chosen by the caller, unique in the store).
    pub id: String,
    /// Where events are posted: an `http` or `https` URL without credentials.
    pub url: String,
    /// The signing secret.
    pub secret: WebhookSecret,
    /// The event types it receives; empty: every type.
    pub types: Vec<EventType>,
    /// Only this account's events, when given.
    pub account_id: Option<String>,
    /// Whether deliveries are made. A disabled endpoint keeps its cursor: nothing after it is
    /// skipped, and it is delivered once the endpoint is enabled again.
    pub enabled: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// Bumped at every write, for compare-and-set ([`crate::store::WebhookEndpoints::put_webhook`]).
    pub revision: u64,
    /// Every event at or before this position was delivered (or is not for this endpoint).
    pub cursor: OutboxPosition,
    /// Failed attempts in a row at the event after the cursor (0 after a success).
    pub failures: u32,
    /// No attempt before this instant (the backoff after a failure); `None`: at once.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure's reason (a status or a transport error), cleared by a success.
    pub last_error: Option<String>,
    /// Events delivered so far.
    pub delivered: u64,
    /// When it was disabled (by hand, or after too many failures in a row).
    pub disabled_at: Option<DateTime<Utc>>,
}

impl WebhookEndpoint {
    /// A new, enabled endpoint at revision 1 whose cursor is `cursor` (where its deliveries
    /// start: after it). Checks the id and the URL.
    pub fn new(
        id: impl Into<String>,
        url: impl Into<String>,
        secret: WebhookSecret,
        created_at: DateTime<Utc>,
        cursor: OutboxPosition,
    ) -> Result<Self> {
        let endpoint = WebhookEndpoint {
            id: id.into(),
            url: url.into(),
            secret,
            types: Vec::new(),
            account_id: None,
            enabled: true,
            created_at,
            revision: 1,
            cursor,
            failures: 0,
            next_attempt_at: None,
            last_error: None,
            delivered: 0,
            disabled_at: None,
        };
        endpoint.check()?;
        Ok(endpoint)
    }

    /// Checks what a caller gives: a non-empty id, an `http(s)` URL with a host and no
    /// credentials (the error never repeats a URL that carries them).
    pub fn check(&self) -> Result<()> {
        if self.id.trim().is_empty() {
            return Err(Error::invalid("webhook.id", "must not be empty"));
        }
        let rest = self
            .url
            .strip_prefix("https://")
            .or_else(|| self.url.strip_prefix("http://"))
            .ok_or_else(|| {
                Error::invalid(
                    "webhook.url",
                    format!("{:?} is not an http:// or https:// URL", self.url),
                )
            })?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(Error::invalid(
                "webhook.url",
                "the URL carries credentials; endpoints authenticate requests by their signature",
            ));
        }
        if authority.is_empty() || rest.chars().any(char::is_whitespace) {
            return Err(Error::invalid(
                "webhook.url",
                format!("{:?} has no host, or has spaces", self.url),
            ));
        }
        Ok(())
    }

    /// The next revision of this endpoint, enabled or disabled at `at` by hand. Enabling clears
    /// the failures and the backoff, so delivery starts at once from the kept cursor.
    pub fn switched(&self, enabled: bool, at: DateTime<Utc>) -> WebhookEndpoint {
        let mut next = self.clone();
        next.revision += 1;
        next.enabled = enabled;
        if enabled {
            next.failures = 0;
            next.next_attempt_at = None;
            next.disabled_at = None;
        } else if self.enabled {
            next.disabled_at = Some(at);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str) -> Result<WebhookEndpoint> {
        WebhookEndpoint::new(
            "we_1",
            url,
            WebhookSecret::generate().unwrap(),
            Utc::now(),
            OutboxPosition::START,
        )
    }

    #[test]
    fn urls_are_checked_without_echoing_credentials() {
        assert!(endpoint("http://127.0.0.1:9/hooks").is_ok());
        assert!(endpoint("https://example.com").is_ok());
        for bad in ["ftp://x", "http://", "example.com/x", "http://a b"] {
            assert!(endpoint(bad).is_err(), "{bad}");
        }
        let error = endpoint("https://user:hunter2@example.com/x").unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn enabling_clears_failures_and_keeps_the_cursor() {
        let mut disabled = endpoint("http://127.0.0.1:9/").unwrap();
        disabled.cursor = OutboxPosition { commit: 0, seq: 7 };
        disabled.failures = 5;
        disabled.enabled = false;
        disabled.next_attempt_at = Some(Utc::now());
        let enabled = disabled.switched(true, Utc::now());
        assert!(enabled.enabled);
        assert_eq!((enabled.failures, enabled.next_attempt_at), (0, None));
        assert_eq!(enabled.cursor, disabled.cursor);
        assert_eq!(enabled.revision, disabled.revision + 1);
        let off = enabled.switched(false, Utc::now());
        assert!(!off.enabled && off.disabled_at.is_some());
    }
}
