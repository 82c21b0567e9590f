//! The OpenAI adapter of the [`LanguageModel`] port (feature `openai`): the chat completions API
//! with strict structured output, on OpenAI or any server that speaks its protocol (Azure OpenAI's
//! `/openai/v1` endpoint, vLLM, a local gateway).
//!
//! Each call is `POST {base_url}/chat/completions` with the request's messages, `temperature: 0`
//! and `response_format: {"type": "json_schema", "json_schema": {name, schema, "strict": true}}`.
//! The answer's `message.content` becomes [`ModelAnswer::Json`] and `message.refusal`
//! [`ModelAnswer::Refusal`]; nothing in it is trusted before the caller has parsed and validated it.
//!
//! # Retries
//! An attempt that fails with 429, 500, 502, 503 or 504, a connection error or the per-attempt
//! [`timeout`](OpenAiConfig::timeout) is retried up to [`max_retries`](OpenAiConfig::max_retries)
//! times. The wait is the server's `retry-after-ms` or `Retry-After` (seconds or an HTTP date)
//! when it sends one, else exponential backoff from
//! [`initial_backoff`](OpenAiConfig::initial_backoff) with jitter; either is capped at
//! [`max_backoff`](OpenAiConfig::max_backoff). Any other status (400, 401, 403, 404, ...) and a
//! malformed answer fail at once, as [`Error::Model`] naming the status and the API's message.
//!
//! # Secrets
//! The API key is an [`ApiKey`], printed as `***`. It is only ever placed in the `Authorization`
//! header (marked sensitive, so HTTP-level debug output hides it too); every text from the server
//! that goes into an error is redacted in case the server echoes it. No log line, tracing field or
//! error carries it.
//!
//! ```no_run
//! # async fn demo() -> ai_billing::Result<()> {
//! use ai_billing::model::{LanguageModel, Message, ModelRequest, OutputSchema, Role};
//! use ai_billing::openai::{OpenAiConfig, OpenAiModel};
//!
//! let model = OpenAiModel::new(OpenAiConfig::from_env()?)?;
//! let response = model
//!     .complete(&ModelRequest {
//!         messages: vec![Message::new(Role::User, "Bill $5 a month")],
//!         schema: OutputSchema {
//!             name: "pricing_program".to_owned(),
//!             schema: serde_json::json!({"type": "object", "properties": {}, "required": [],
//!                                        "additionalProperties": false}),
//!         },
//!     })
//!     .await?;
//! println!("{:?} in {} attempts", response.answer, response.attempts);
//! # Ok(())
//! # }
//! ```

mod error;
mod retry;
mod wire;

use std::fmt;
use std::sync::Once;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;
use tracing::{Instrument, field};

use self::error::OpenAiError;
use crate::error::{Error, Result};
use crate::model::{LanguageModel, ModelAnswer, ModelRequest, ModelResponse, TokenUsage};

/// OpenAI's own endpoint, the default [`OpenAiConfig::base_url`].
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// The default [`OpenAiConfig::model`].
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// The largest answer body read, in bytes; a chat completion is far smaller.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// An API key. It prints as `***` with both `Debug` and `Display`, is wiped from memory when
/// dropped, and the adapter only ever puts it in the `Authorization` header.
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    /// Wraps a key (leading and trailing whitespace, such as a newline from a file, is dropped).
    pub fn new(key: impl Into<String>) -> Self {
        let key: String = key.into();
        ApiKey(SecretString::from(key.trim()))
    }

    /// Whether the key is empty.
    pub fn is_empty(&self) -> bool {
        self.0.expose_secret().is_empty()
    }

    fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How to reach the chat completions API. Build it with [`OpenAiConfig::new`] or
/// [`OpenAiConfig::from_env`], then adjust fields or use the `with_` methods.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OpenAiConfig {
    /// The API key, sent as `Authorization: Bearer <key>`.
    pub api_key: ApiKey,
    /// The API root, up to and without `/chat/completions`: [`DEFAULT_BASE_URL`], or any
    /// OpenAI-compatible server (`https://NAME.openai.azure.com/openai/v1`,
    /// `http://localhost:8000/v1`). A query string is kept.
    pub base_url: String,
    /// The model asked for ([`DEFAULT_MODEL`]).
    pub model: String,
    /// The limit on one HTTP attempt, from sending the request to the last byte of the answer
    /// (60 s). A slower attempt counts as failed and is retried.
    pub timeout: Duration,
    /// The most HTTP requests this model has in flight at once (8); further calls wait their
    /// turn. Waiting between retries does not hold a slot.
    pub max_concurrency: usize,
    /// Retries after the first attempt (4, so at most 5 attempts).
    pub max_retries: u32,
    /// The wait before the first retry when the server gives no hint (500 ms); it doubles at
    /// each retry, with jitter.
    pub initial_backoff: Duration,
    /// The longest wait between attempts, for backoff and for the server's `Retry-After` alike
    /// (60 s).
    pub max_backoff: Duration,
}

impl OpenAiConfig {
    /// The defaults of every field, with `api_key`.
    pub fn new(api_key: impl Into<String>) -> Self {
        OpenAiConfig {
            api_key: ApiKey::new(api_key),
            base_url: DEFAULT_BASE_URL.to_owned(),
            model: DEFAULT_MODEL.to_owned(),
            timeout: Duration::from_secs(60),
            max_concurrency: 8,
            max_retries: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
        }
    }

    /// From the process environment: `OPENAI_API_KEY` (required), `OPENAI_BASE_URL` and
    /// `OPENAI_MODEL` (optional; unset or empty keeps the default).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `OPENAI_API_KEY` when it is missing or empty: there is no
    /// fallback to an offline model.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading each variable through `var` (for tests and for
    /// settings kept elsewhere than the environment).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `OPENAI_API_KEY` when `var` gives none or an empty one.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let key = ApiKey::new(var("OPENAI_API_KEY").unwrap_or_default());
        if key.is_empty() {
            return Err(Error::invalid(
                "OPENAI_API_KEY",
                "is not set: export OPENAI_API_KEY with an API key of your OpenAI project (or of \
                 the OpenAI-compatible server OPENAI_BASE_URL points to), for example in the \
                 service's environment or secret store",
            ));
        }
        let mut config = OpenAiConfig {
            api_key: key,
            ..OpenAiConfig::new("")
        };
        let set = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if let Some(base_url) = set("OPENAI_BASE_URL") {
            config.base_url = base_url;
        }
        if let Some(model) = set("OPENAI_MODEL") {
            config.model = model;
        }
        Ok(config)
    }

    /// With `base_url` as the API root.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// With `model` as the model asked for.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// With `timeout` per HTTP attempt.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// With at most `max_concurrency` requests in flight.
    pub fn with_max_concurrency(mut self, max_concurrency: usize) -> Self {
        self.max_concurrency = max_concurrency;
        self
    }

    /// With at most `max_retries` retries.
    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// With `initial_backoff` before the first retry and at most `max_backoff` between attempts.
    pub fn with_backoff(mut self, initial_backoff: Duration, max_backoff: Duration) -> Self {
        self.initial_backoff = initial_backoff;
        self.max_backoff = max_backoff;
        self
    }
}

impl fmt::Display for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OpenAI model {} at {}",
            self.model,
            redact_url(&self.base_url)
        )
    }
}

/// A [`LanguageModel`] on the chat completions API. Cheap to share: hold it as
/// `Arc<dyn LanguageModel>`; all clones of that `Arc` share one connection pool and one
/// concurrency limit.
pub struct OpenAiModel {
    client: reqwest::Client,
    endpoint: reqwest::Url,
    authorization: HeaderValue,
    /// Kept only to redact echoes of the key from server texts.
    api_key: ApiKey,
    model: String,
    timeout: Duration,
    max_concurrency: usize,
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    permits: Semaphore,
}

impl fmt::Debug for OpenAiModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiModel")
            .field("endpoint", &redact_url(self.endpoint.as_str()))
            .field("model", &self.model)
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .field("max_concurrency", &self.max_concurrency)
            .field("max_retries", &self.max_retries)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for OpenAiModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OpenAI model {} at {}",
            self.model,
            redact_url(self.endpoint.as_str())
        )
    }
}

impl OpenAiModel {
    /// A model for `config`. Installs rustls' ring crypto provider as the process default if no
    /// provider is installed yet.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty key or model, a base URL that is not an `http(s)` URL,
    /// a zero timeout or concurrency, or a key that cannot be sent in an HTTP header;
    /// [`Error::Model`] if the HTTP client cannot be built.
    pub fn new(config: OpenAiConfig) -> Result<Self> {
        if config.api_key.is_empty() {
            return Err(Error::invalid(
                "openai.api_key",
                "is empty: give the API key (OpenAiConfig::from_env reads OPENAI_API_KEY)",
            ));
        }
        let model = config.model.trim().to_owned();
        if model.is_empty() {
            return Err(Error::invalid(
                "openai.model",
                "is empty: name a model such as gpt-4o-mini",
            ));
        }
        if config.timeout.is_zero() {
            return Err(Error::invalid("openai.timeout", "must be more than zero"));
        }
        if config.max_concurrency == 0 {
            return Err(Error::invalid(
                "openai.max_concurrency",
                "must be at least 1",
            ));
        }
        let endpoint = chat_completions_url(&config.base_url)?;
        let mut authorization =
            HeaderValue::try_from(format!("Bearer {}", config.api_key.expose())).map_err(|_| {
                Error::invalid(
                    "openai.api_key",
                    "holds characters that cannot be sent in an HTTP header (an API key is \
                     printable ASCII without spaces)",
                )
            })?;
        authorization.set_sensitive(true);

        install_crypto_provider();
        let client = reqwest::Client::builder()
            .user_agent(concat!("ai-billing/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            // An API call never redirects; following one could send the key elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| Error::Model {
                action: "building the HTTP client for the OpenAI API".to_owned(),
                source: Box::new(error),
            })?;

        Ok(OpenAiModel {
            client,
            endpoint,
            authorization,
            api_key: config.api_key,
            model,
            timeout: config.timeout,
            max_concurrency: config.max_concurrency,
            max_retries: config.max_retries,
            initial_backoff: config.initial_backoff,
            max_backoff: config.max_backoff,
            permits: Semaphore::new(config.max_concurrency),
        })
    }

    /// The URL every call is sent to (`{base_url}/chat/completions`).
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// The whole call: attempts and waits until an answer, a final failure, or no retries left.
    async fn call(&self, request: &ModelRequest, span: &tracing::Span) -> Result<ModelResponse> {
        let started = Instant::now();
        let body = wire::ChatRequest::new(&self.model, request);
        let mut usage = TokenUsage::default();
        let mut attempt: u32 = 0;
        let outcome = loop {
            attempt += 1;
            let result = self
                .attempt(&body, attempt)
                .instrument(tracing::debug_span!("openai.attempt", attempt))
                .await;
            let failure = match result {
                Ok(completion) => {
                    usage.prompt_tokens = usage
                        .prompt_tokens
                        .saturating_add(completion.usage.prompt_tokens);
                    usage.completion_tokens = usage
                        .completion_tokens
                        .saturating_add(completion.usage.completion_tokens);
                    match completion.answer {
                        Ok(answer) => break Ok((answer, completion.model, completion.status)),
                        Err(error) => error,
                    }
                }
                Err((error, _)) if !error.is_retryable() => error,
                Err((error, hint)) => {
                    if attempt > self.max_retries {
                        break Err(OpenAiError::RetriesExhausted {
                            attempts: attempt,
                            last: Box::new(error),
                        });
                    }
                    let wait = hint
                        .unwrap_or_else(|| {
                            retry::backoff(self.initial_backoff, self.max_backoff, attempt)
                        })
                        .min(self.max_backoff);
                    tracing::warn!(
                        attempt,
                        status = error.status(),
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        error = %error,
                        "OpenAI attempt failed; retrying"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            break Err(failure);
        };

        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        span.record("attempts", attempt);
        span.record("prompt_tokens", usage.prompt_tokens);
        span.record("completion_tokens", usage.completion_tokens);
        span.record("latency_ms", latency_ms);
        match outcome {
            Ok((answer, answered_by, status)) => {
                span.record("status", status);
                span.record(
                    "outcome",
                    match answer {
                        ModelAnswer::Json(_) => "json",
                        ModelAnswer::Refusal(_) => "refusal",
                    },
                );
                tracing::info!("OpenAI call answered");
                Ok(ModelResponse {
                    answer,
                    model: answered_by.unwrap_or_else(|| self.model.clone()),
                    usage,
                    attempts: attempt,
                    latency_ms,
                })
            }
            Err(error) => {
                span.record("outcome", "error");
                if let Some(status) = error.status() {
                    span.record("status", status);
                }
                tracing::warn!(error = %error, "OpenAI call failed");
                Err(Error::Model {
                    action: format!(
                        "calling the OpenAI chat completions API (model {})",
                        self.model
                    ),
                    source: Box::new(error),
                })
            }
        }
    }

    /// One HTTP attempt, holding a concurrency slot. A failure comes with the server's
    /// retry-after hint, if it gave one.
    async fn attempt(
        &self,
        body: &wire::ChatRequest<'_>,
        attempt: u32,
    ) -> Result<wire::Completion, (OpenAiError, Option<Duration>)> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| (OpenAiError::ShutDown, None))?;
        let started = Instant::now();
        let exchange = async {
            let response = self
                .client
                .post(self.endpoint.clone())
                .header(AUTHORIZATION, self.authorization.clone())
                .json(body)
                .send()
                .await
                .map_err(|source| (OpenAiError::Transport { source }, None))?;
            let status = response.status();
            let hint = retry::server_hint(response.headers(), SystemTime::now());
            let bytes = read_body(response).await.map_err(|error| (error, hint))?;
            Ok::<_, (OpenAiError, Option<Duration>)>((status, hint, bytes))
        };
        let (status, hint, bytes) = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result?,
            Err(_) => {
                tracing::debug!(attempt, "OpenAI attempt timed out");
                return Err((
                    OpenAiError::Timeout {
                        after: self.timeout,
                    },
                    None,
                ));
            }
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::debug!(
            attempt,
            status = status.as_u16(),
            elapsed_ms,
            "OpenAI answered"
        );
        let secret = self.api_key.expose();
        if status.is_success() {
            let completion = wire::parse_completion(status.as_u16(), &bytes, secret)
                .map_err(|error| (error, None))?;
            Ok(completion)
        } else {
            let (message, code) = wire::parse_error_body(&bytes, secret);
            Err((
                OpenAiError::Status {
                    status: status.as_u16(),
                    message,
                    code,
                },
                hint,
            ))
        }
    }
}

/// The answer's body, refusing more than [`MAX_BODY_BYTES`].
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, OpenAiError> {
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BODY_BYTES as u64)
    {
        return Err(OpenAiError::BodyTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|source| OpenAiError::Transport { source })?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(OpenAiError::BodyTooLarge {
                limit: MAX_BODY_BYTES,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[async_trait]
impl LanguageModel for OpenAiModel {
    fn name(&self) -> &str {
        &self.model
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse> {
        let span = tracing::info_span!(
            "openai.complete",
            model = %self.model,
            schema = %request.schema.name,
            attempts = field::Empty,
            status = field::Empty,
            prompt_tokens = field::Empty,
            completion_tokens = field::Empty,
            latency_ms = field::Empty,
            outcome = field::Empty,
        );
        self.call(request, &span).instrument(span.clone()).await
    }
}

/// `{base_url}/chat/completions`, keeping any query string (`?api-version=...`).
fn chat_completions_url(base_url: &str) -> Result<reqwest::Url> {
    let invalid = |reason: &str| {
        Error::invalid(
            "openai.base_url",
            format!("{reason}: give the API root such as {DEFAULT_BASE_URL} (OPENAI_BASE_URL)"),
        )
    };
    let mut url = reqwest::Url::parse(base_url.trim()).map_err(|error| {
        invalid(&format!(
            "{:?} is not a URL ({error})",
            redact_url(base_url)
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(&format!(
            "{:?} is not an http or https URL",
            redact_url(base_url)
        )));
    }
    if url.cannot_be_a_base() {
        return Err(invalid("the URL cannot have a path"));
    }
    url.path_segments_mut()
        .map_err(|()| invalid("the URL cannot have a path"))?
        .pop_if_empty()
        .extend(["chat", "completions"]);
    Ok(url)
}

/// A base URL as it may appear in an error or in `Debug`: user info (`user:password@`) removed.
fn redact_url(base_url: &str) -> String {
    let Some((scheme, rest)) = base_url.split_once("://") else {
        return base_url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{}", &rest[authority_end..]),
        None => base_url.to_owned(),
    }
}

/// Installs rustls' ring provider as the process default, once. If another provider was
/// installed first (by the application), that one stays.
fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_joins_the_path_and_keeps_the_query() {
        let url = |base: &str| chat_completions_url(base).map(|u| u.to_string());
        assert_eq!(
            url("https://api.openai.com/v1").unwrap(),
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(
            url("http://localhost:8000/v1/").unwrap(),
            "http://localhost:8000/v1/chat/completions"
        );
        assert_eq!(
            url("https://x.openai.azure.com/openai/v1?api-version=preview").unwrap(),
            "https://x.openai.azure.com/openai/v1/chat/completions?api-version=preview"
        );
        assert!(url("api.openai.com/v1").is_err());
        assert!(url("ftp://example.com/v1").is_err());
    }

    #[test]
    fn from_vars_requires_the_key_and_reads_the_rest() {
        let error = OpenAiConfig::from_vars(|_| None).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidInput { field, reason }
                if field == "OPENAI_API_KEY" && reason.contains("export OPENAI_API_KEY")),
            "{error}"
        );
        let error = OpenAiConfig::from_vars(|_| Some("  ".to_owned())).unwrap_err();
        assert!(matches!(&error, Error::InvalidInput { field, .. } if field == "OPENAI_API_KEY"));

        let config = OpenAiConfig::from_vars(|name| match name {
            "OPENAI_API_KEY" => Some("sk-x\n".to_owned()),
            "OPENAI_BASE_URL" => Some("http://localhost:8000/v1".to_owned()),
            "OPENAI_MODEL" => Some(String::new()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.api_key.expose(), "sk-x");
        assert_eq!(config.base_url, "http://localhost:8000/v1");
        assert_eq!(config.model, DEFAULT_MODEL);
        assert_eq!(config.timeout, Duration::from_secs(60));
        assert_eq!(config.max_concurrency, 8);
        assert_eq!(config.max_retries, 4);
    }

    #[test]
    fn invalid_configs_are_refused() {
        let field_of = |config: OpenAiConfig| match OpenAiModel::new(config).unwrap_err() {
            Error::InvalidInput { field, .. } => field,
            other => panic!("{other}"),
        };
        assert_eq!(field_of(OpenAiConfig::new("")), "openai.api_key");
        assert_eq!(field_of(OpenAiConfig::new("sk\u{7}")), "openai.api_key");
        assert_eq!(
            field_of(OpenAiConfig::new("k").with_model(" ")),
            "openai.model"
        );
        assert_eq!(
            field_of(OpenAiConfig::new("k").with_max_concurrency(0)),
            "openai.max_concurrency"
        );
        assert_eq!(
            field_of(OpenAiConfig::new("k").with_timeout(Duration::ZERO)),
            "openai.timeout"
        );
        assert_eq!(
            field_of(OpenAiConfig::new("k").with_base_url("not a url")),
            "openai.base_url"
        );
    }

    #[test]
    fn user_info_is_removed_from_urls_in_errors() {
        assert_eq!(redact_url("https://u:p@host/v1"), "https://***@host/v1");
        assert_eq!(redact_url("https://host/v1"), "https://host/v1");
        assert_eq!(
            redact_url("https://host/v1?to=a@b"),
            "https://host/v1?to=a@b"
        );
    }
}
