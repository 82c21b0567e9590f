//! The OpenSearch [`AuditSink`] (feature `opensearch`): [`OpenSearchSink`] ships audit events
//! with the official `opensearch` client's bulk API.
//!
//! - **No duplicates.** Each event is a bulk `create` whose `_id` is the event id: shipping an
//!   event that is already there answers 409 (version conflict) and counts as shipped, so a retry
//!   can never make a second document.
//! - **Per-item outcomes.** A 201 or a 409 item is shipped; an item refused for good (any other
//!   4xx, such as a `mapper_parsing_exception` for a field that violates the mapping) is rejected
//!   with its error type and reason, and stays in the outbox as rejected; an item answered 429 or
//!   5xx is neither, and stays pending to be tried again. A transport failure or a refused request
//!   (4xx/5xx for the whole bulk) is an `Err`, and nothing is marked.
//! - **Explicit mappings.** On first use (once per sink, also when many ships race) the sink puts
//!   the index template named after the index (`_index_template/ai-billing-audit`, see
//!   [`index_template`]) and creates the index from it when it does not exist.
//! - **No forced refresh.** Documents become searchable at the cluster's refresh interval; a
//!   reader that needs its own writes passes `refresh` itself.
//! - **Secrets stay secret.** The password is a [`secrecy::SecretString`]: `Debug` shows
//!   `[REDACTED]`, and no log line or error carries it. A URL with credentials in it is refused.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use opensearch::http::StatusCode;
use opensearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use opensearch::indices::{IndicesCreateParts, IndicesPutIndexTemplateParts};
use opensearch::{BulkOperation, BulkParts, OpenSearch};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::audit::{AuditEvent, AuditSink, ShipReport};
use crate::error::{Error, Result};

/// The index (and template name) when none is configured.
pub const DEFAULT_INDEX: &str = "ai-billing-audit";

/// How long one request may take when no timeout is configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to reach OpenSearch. `Debug` never shows the password.
#[derive(Debug, Clone)]
pub struct OpenSearchConfig {
    /// The node's base URL (`http://127.0.0.1:9200`, `https://search.example.com`), without
    /// credentials (give them as `username` and `password`).
    pub url: String,
    /// The index events go to; its template has the same name. Default [`DEFAULT_INDEX`].
    pub index: String,
    /// Basic-auth user, if the cluster needs one.
    pub username: Option<String>,
    /// Basic-auth password (with `username`). Never logged, printed or put in an error.
    pub password: Option<SecretString>,
    /// How long one request (a bulk, the template) may take before it fails and is retried later.
    pub timeout: Duration,
}

impl OpenSearchConfig {
    /// The node at `url`, the default index and timeout, no credentials.
    pub fn new(url: impl Into<String>) -> Self {
        OpenSearchConfig {
            url: url.into(),
            index: DEFAULT_INDEX.to_owned(),
            username: None,
            password: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same configuration with basic-auth credentials.
    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Self {
        self.username = Some(username.into());
        self.password = Some(password.into());
        self
    }
}

impl fmt::Display for OpenSearchConfig {
    /// `URL index INDEX` and, with credentials, `as USER` (never the password).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} index {}", self.url, self.index)?;
        if let Some(username) = &self.username {
            write!(f, " as {username}")?;
        }
        Ok(())
    }
}

/// The sink's own errors, kept as the source of the core's [`Error::Storage`].
#[derive(Debug, thiserror::Error)]
enum OpenSearchError {
    /// The client failed: connection refused, timeout, a body that is not JSON.
    #[error(transparent)]
    Client(#[from] opensearch::Error),
    /// OpenSearch answered the whole request with an error status.
    #[error("OpenSearch answered {status}: {body}")]
    Status { status: StatusCode, body: String },
    /// The bulk answer is not the shape OpenSearch documents.
    #[error("unexpected bulk answer: {0}")]
    Answer(String),
}

fn failed(action: impl Into<String>) -> impl FnOnce(OpenSearchError) -> Error {
    let action = action.into();
    move |error| Error::Storage {
        action,
        source: Box::new(error),
    }
}

/// The [`AuditSink`] that ships to an OpenSearch index. Cheap to share as
/// `Arc<dyn AuditSink>`; `Debug` shows the URL, index and user, never the password.
pub struct OpenSearchSink {
    client: OpenSearch,
    config: OpenSearchConfig,
    /// Set once the template is in place and the index exists.
    ready: OnceCell<()>,
}

impl fmt::Debug for OpenSearchSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the client: its transport's `Debug` would print the credentials.
        f.debug_struct("OpenSearchSink")
            .field("url", &self.config.url)
            .field("index", &self.config.index)
            .field("username", &self.config.username)
            .field("timeout", &self.config.timeout)
            .finish_non_exhaustive()
    }
}

impl OpenSearchSink {
    /// A sink for `config`. Connects lazily: nothing is sent until the first [`AuditSink::ship`]
    /// (or [`OpenSearchSink::install_template`]). A URL that does not parse, that carries
    /// credentials, an empty or upper-case index, or a password without a user is
    /// [`Error::InvalidInput`].
    pub fn new(config: OpenSearchConfig) -> Result<Self> {
        let url = opensearch::http::Url::parse(&config.url).map_err(|error| {
            Error::invalid(
                "opensearch url",
                format!("{:?} is not a URL: {error}", config.url),
            )
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            // Not echoed: it holds a secret.
            return Err(Error::invalid(
                "opensearch url",
                "the URL carries credentials: give them as username and password instead",
            ));
        }
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::invalid(
                "opensearch url",
                format!("{:?} is not an http or https URL", config.url),
            ));
        }
        check_index(&config.index)?;
        if config.password.is_some() && config.username.is_none() {
            return Err(Error::invalid(
                "opensearch username",
                "a password is given without a username",
            ));
        }
        // reqwest's rustls has no crypto provider of its own here: ring, as for OpenAI. An
        // error means a provider is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut transport = TransportBuilder::new(SingleNodeConnectionPool::new(url))
            .disable_proxy()
            .timeout(config.timeout);
        if let Some(username) = &config.username {
            let password = config
                .password
                .as_ref()
                .map(|password| password.expose_secret().to_owned())
                .unwrap_or_default();
            transport = transport.auth(opensearch::auth::Credentials::Basic(
                username.clone(),
                password,
            ));
        }
        let transport = transport.build().map_err(|error| Error::Storage {
            action: format!("building the OpenSearch client for {}", config.url),
            source: Box::new(error),
        })?;
        Ok(OpenSearchSink {
            client: OpenSearch::new(transport),
            config,
            ready: OnceCell::new(),
        })
    }

    /// The configuration (its `Debug` and `Display` never show the password).
    pub fn config(&self) -> &OpenSearchConfig {
        &self.config
    }

    /// The official client, for reads (`count`, `search`) by tools and tests.
    pub fn client(&self) -> &OpenSearch {
        &self.client
    }

    /// Puts the index template and creates the index, once per sink: concurrent callers wait
    /// for the first; after a failure the next call tries again. [`AuditSink::ship`] calls it.
    pub async fn install_template(&self) -> Result<()> {
        self.ready
            .get_or_try_init(|| async {
                self.put_template().await?;
                self.create_index().await
            })
            .await
            .map(|_| ())
    }

    async fn put_template(&self) -> Result<()> {
        let index = &self.config.index;
        let action = format!("installing the OpenSearch index template {index}");
        let response = self
            .client
            .indices()
            .put_index_template(IndicesPutIndexTemplateParts::Name(index))
            .body(index_template(index))
            .send()
            .await
            .map_err(|error| failed(action.clone())(error.into()))?;
        let status = response.status_code();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(failed(action)(OpenSearchError::Status { status, body }));
        }
        tracing::info!(index = %index, "OpenSearch index template installed");
        Ok(())
    }

    /// Creates the index (from the template) unless it exists: an index made by an earlier
    /// run keeps its mappings.
    async fn create_index(&self) -> Result<()> {
        let index = &self.config.index;
        let action = format!("creating the OpenSearch index {index}");
        let response = self
            .client
            .indices()
            .create(IndicesCreateParts::Index(index))
            .send()
            .await
            .map_err(|error| failed(action.clone())(error.into()))?;
        let status = response.status_code();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        if status == StatusCode::BAD_REQUEST && body.contains("resource_already_exists_exception") {
            return Ok(());
        }
        Err(failed(action)(OpenSearchError::Status { status, body }))
    }
}

/// Index names OpenSearch accepts: not empty, lower case, none of its forbidden characters.
fn check_index(index: &str) -> Result<()> {
    let bad = index.is_empty()
        || index.starts_with(['-', '_', '+'])
        || index == "."
        || index == ".."
        || index.len() > 255
        || index.chars().any(|c| {
            c.is_uppercase()
                || c.is_whitespace()
                || matches!(
                    c,
                    '\\' | '/' | '*' | '?' | '"' | '<' | '>' | '|' | ',' | '#' | ':'
                )
        });
    if bad {
        return Err(Error::invalid(
            "opensearch index",
            format!(
                "{index:?} is not an index name OpenSearch accepts: lower case, not starting \
                 with - _ +, without spaces or \\ / * ? \" < > | , # :"
            ),
        ));
    }
    Ok(())
}

/// The amount fields of event `data` that are mapped as numbers: decimal strings in major units
/// (`"12.34"`), indexed as `scaled_float` with a scaling factor of 100 (cents), so range queries
/// and sums work; `_source` keeps the exact text. Other `data` keys are stored, not indexed.
pub const AMOUNT_FIELDS: [&str; 3] = ["subtotal", "tax", "total"];

/// The index template the sink installs for `index`: explicit mappings for every field of an
/// [`AuditEvent`].
///
/// - `id`, `account_id`, `actor`, `action`, `subject_kind`, `subject_id`, `run_id`,
///   `correlation_id`: `keyword` (exact ids and names, for filters and aggregations).
/// - `time`: `date` (RFC 3339 with microseconds; `_source` keeps them all).
/// - `data`: an `object` with `dynamic: false`: its keys differ by action, so they are kept in
///   `_source` but not indexed (no mapping explosion, no type clash between actions), except
///   `currency` (`keyword`) and the [`AMOUNT_FIELDS`] (`scaled_float`, factor 100). An amount that
///   is not a number is refused by OpenSearch (`mapper_parsing_exception`), so such an event is
///   rejected and kept, not silently indexed.
/// - The document itself is `dynamic: false` too: a field added to events later is stored and
///   shipped, and indexed once the template maps it, instead of failing every event.
pub fn index_template(index: &str) -> Value {
    let keyword = json!({ "type": "keyword" });
    let amount = json!({ "type": "scaled_float", "scaling_factor": 100 });
    let mut data = serde_json::Map::new();
    data.insert("currency".into(), keyword.clone());
    for field in AMOUNT_FIELDS {
        data.insert(field.into(), amount.clone());
    }
    let mut properties = serde_json::Map::new();
    for field in [
        "id",
        "account_id",
        "actor",
        "action",
        "subject_kind",
        "subject_id",
        "run_id",
        "correlation_id",
    ] {
        properties.insert(field.into(), keyword.clone());
    }
    properties.insert("time".into(), json!({ "type": "date" }));
    properties.insert(
        "data".into(),
        json!({ "type": "object", "dynamic": false, "properties": data }),
    );
    json!({
        "index_patterns": [index],
        "priority": 100,
        "_meta": { "description": "ai-billing audit events: one document per event, _id = event id" },
        "template": {
            "mappings": { "dynamic": false, "properties": properties }
        }
    })
}

/// What happened to one bulk item.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Shipped,
    Rejected(String),
    /// 429/5xx: try again later.
    Retry,
}

/// One item of a bulk answer: `{"create": {"status": 201, "error": {...}}}`.
fn item_outcome(item: &Value) -> Result<Outcome, String> {
    let body = item
        .get("create")
        .ok_or_else(|| format!("an item without `create`: {item}"))?;
    let status = body
        .get("status")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("an item without a status: {item}"))?;
    Ok(match status {
        200..=299 => Outcome::Shipped,
        // A create over an existing id: the document is there already (an earlier try).
        409 => Outcome::Shipped,
        429 | 500..=599 => Outcome::Retry,
        _ => Outcome::Rejected(reason(status, body.get("error"))),
    })
}

/// `type: reason (caused by type: reason)`, from an item's `error`.
fn reason(status: u64, error: Option<&Value>) -> String {
    let part = |error: &Value| {
        let ty = error.get("type").and_then(Value::as_str).unwrap_or("error");
        match error.get("reason").and_then(Value::as_str) {
            Some(reason) => format!("{ty}: {reason}"),
            None => ty.to_owned(),
        }
    };
    match error {
        Some(error) => {
            let mut text = format!("{status} {}", part(error));
            if let Some(cause) = error.get("caused_by") {
                text.push_str(&format!(" (caused by {})", part(cause)));
            }
            text
        }
        None => format!("{status} without an error"),
    }
}

#[async_trait]
impl AuditSink for OpenSearchSink {
    async fn ship(&self, events: &[AuditEvent]) -> Result<ShipReport> {
        if events.is_empty() {
            return Ok(ShipReport::default());
        }
        self.install_template().await?;
        let index = &self.config.index;
        let action = format!(
            "shipping {} audit events to OpenSearch index {index}",
            events.len()
        );
        let operations: Vec<BulkOperation<&AuditEvent>> = events
            .iter()
            .map(|event| BulkOperation::create(event.id.clone(), event).into())
            .collect();
        let response = self
            .client
            .bulk(BulkParts::Index(index))
            .body(operations)
            .send()
            .await
            .map_err(|error| failed(action.clone())(error.into()))?;
        let status = response.status_code();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(failed(action)(OpenSearchError::Status { status, body }));
        }
        let answer: Value = response
            .json()
            .await
            .map_err(|error| failed(action.clone())(error.into()))?;
        let items = answer
            .get("items")
            .and_then(Value::as_array)
            .filter(|items| items.len() == events.len())
            .ok_or_else(|| {
                failed(action.clone())(OpenSearchError::Answer(format!(
                    "expected {} items",
                    events.len()
                )))
            })?;
        let mut report = ShipReport::default();
        let mut retry = 0_usize;
        for (event, item) in events.iter().zip(items) {
            match item_outcome(item)
                .map_err(|problem| failed(action.clone())(OpenSearchError::Answer(problem)))?
            {
                Outcome::Shipped => report.shipped.push(event.id.clone()),
                Outcome::Rejected(reason) => report.rejected.push((event.id.clone(), reason)),
                Outcome::Retry => retry += 1,
            }
        }
        tracing::debug!(
            index = %index,
            shipped = report.shipped.len(),
            rejected = report.rejected.len(),
            retry,
            "bulk shipped"
        );
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_map_to_outcomes() {
        let item = |text: &str| serde_json::from_str::<Value>(text).unwrap();
        assert_eq!(
            item_outcome(&item(r#"{"create":{"_id":"a","status":201}}"#)),
            Ok(Outcome::Shipped)
        );
        assert_eq!(
            item_outcome(&item(
                r#"{"create":{"status":409,"error":{"type":"version_conflict_engine_exception"}}}"#
            )),
            Ok(Outcome::Shipped)
        );
        assert_eq!(
            item_outcome(&item(
                r#"{"create":{"status":429,"error":{"type":"es_rejected_execution_exception"}}}"#
            )),
            Ok(Outcome::Retry)
        );
        assert_eq!(
            item_outcome(&item(r#"{"create":{"status":503}}"#)),
            Ok(Outcome::Retry)
        );
        assert_eq!(
            item_outcome(&item(
                r#"{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [data.total]","caused_by":{"type":"number_format_exception","reason":"For input string: \"abc\""}}}}"#
            )),
            Ok(Outcome::Rejected(
                "400 mapper_parsing_exception: failed to parse field [data.total] (caused by \
                 number_format_exception: For input string: \"abc\")"
                    .into()
            ))
        );
        assert!(item_outcome(&item(r#"{"index":{"status":201}}"#)).is_err());
    }

    #[test]
    fn bad_configurations_are_refused_without_echoing_secrets() {
        let with_secret = OpenSearchSink::new(OpenSearchConfig::new(
            "http://admin:hunter2-secret@127.0.0.1:9200",
        ))
        .unwrap_err();
        assert!(
            !with_secret.to_string().contains("hunter2"),
            "{with_secret}"
        );
        assert!(with_secret.to_string().contains("credentials"));
        let mut config = OpenSearchConfig::new("http://127.0.0.1:9200");
        config.index = "Audit".into();
        assert!(OpenSearchSink::new(config).is_err());
        assert!(OpenSearchSink::new(OpenSearchConfig::new("not a url")).is_err());
        let mut config = OpenSearchConfig::new("http://127.0.0.1:9200");
        config.password = Some("hunter2-secret".into());
        let error = OpenSearchSink::new(config).unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn the_template_maps_every_event_field() {
        let template = index_template("ai-billing-audit");
        let properties = &template["template"]["mappings"]["properties"];
        for field in ["id", "account_id", "subject_id", "run_id", "correlation_id"] {
            assert_eq!(properties[field]["type"], "keyword", "{field}");
        }
        assert_eq!(properties["time"]["type"], "date");
        assert_eq!(properties["data"]["dynamic"], false);
        assert_eq!(
            properties["data"]["properties"]["total"]["type"],
            "scaled_float"
        );
    }
}
