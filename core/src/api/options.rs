//! The option bags: how to open a [`BillingEngine`](super::BillingEngine) and how to read a
//! prompt (interpreter, OpenAI, OpenSearch, tax), and the model and audit sink they set up.

use std::sync::Arc;

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::AuditSink;
use crate::calendar::IntervalUnit;
use crate::engine::BillingMode;
use crate::error::{Error, Result};
use crate::llm_interpreter::InterpreterMode;
use crate::model::LanguageModel;
use crate::money::Currency;
use crate::tax::{FlatRate, NoTax, RateTable, TaxCalculator};

use super::messages::redact_url;

/// How to open a [`BillingEngine`]: Node's `BillingEngine.open(options)` and C's
/// `ai_billing_engine_open(options_json, ...)`. Keys are camelCase, as JavaScript option bags are.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EngineOptions {
    /// The database: `sqlite://PATH` (created if missing), `sqlite::memory:`, or
    /// `postgres://USER@HOST:PORT/DB`. Its schema is brought up to date when the engine opens.
    pub database_url: String,
    /// Who reads AI plans' prompts: `offline` (default: no network, no key), `openai`, or `auto`
    /// (offline first, the model for what it refuses).
    #[serde(default)]
    #[schemars(with = "InterpreterName")]
    pub interpreter: InterpreterMode,
    /// Who writes each invoice's payload: `compiled` (default: the pricing program), `agent` or
    /// `agent_checked` (a model, cross-checked by the program; disagreements are held).
    #[serde(default)]
    pub mode: BillingMode,
    /// The OpenAI (or compatible) API, for the `openai`/`auto` interpreter and the agent modes.
    /// Unset fields come from `OPENAI_API_KEY`, `OPENAI_BASE_URL` and `OPENAI_MODEL`.
    #[serde(default)]
    pub openai: Option<OpenAiOptions>,
    /// Ship the audit trail to OpenSearch after each billing run.
    #[serde(default)]
    pub opensearch: Option<OpenSearchOptions>,
    /// How invoices are taxed; no tax when absent.
    #[serde(default)]
    pub tax: Option<TaxOptions>,
    /// Renewals billed side by side in a run (default 4).
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// How many billed periods each renewal reads again for usage recorded late (default 2; 0
    /// turns late usage off; at most 12). Later usage is reported as `late_usage_ignored`.
    #[serde(default)]
    pub late_usage_lookback: Option<u32>,
}

impl std::fmt::Debug for EngineOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineOptions")
            .field("database_url", &redact_url(&self.database_url))
            .field("interpreter", &self.interpreter)
            .field("mode", &self.mode)
            .field("openai", &self.openai)
            .field("opensearch", &self.opensearch)
            .field("tax", &self.tax)
            .field("concurrency", &self.concurrency)
            .field("late_usage_lookback", &self.late_usage_lookback)
            .finish()
    }
}

/// Who reads AI plans' prompts (the schema of [`InterpreterMode`] as JSON spells it).
#[derive(JsonSchema)]
#[schemars(rename = "InterpreterMode")]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum InterpreterName {
    /// The offline rules interpreter.
    Offline,
    /// The language model.
    Openai,
    /// Offline first, the model for what it refuses.
    Auto,
}

impl<'de> Deserialize<'de> for InterpreterMode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for InterpreterMode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The OpenAI API settings. `Debug` never shows the key.
#[derive(Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenAiOptions {
    /// The API key; `OPENAI_API_KEY` when absent. Never logged, printed or put in an error.
    #[serde(default)]
    pub api_key: Option<String>,
    /// The API's base URL (`https://api.openai.com/v1`); `OPENAI_BASE_URL` when absent.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The model; `OPENAI_MODEL` when absent.
    #[serde(default)]
    pub model: Option<String>,
    /// How long one attempt may take, in milliseconds.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Retries of a call that failed in a way worth retrying (429, 5xx, timeouts).
    #[serde(default)]
    pub max_retries: Option<u32>,
    /// Calls in flight at once.
    #[serde(default)]
    pub max_concurrency: Option<u32>,
}

impl std::fmt::Debug for OpenAiOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiOptions")
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("max_concurrency", &self.max_concurrency)
            .finish()
    }
}

/// Where the audit trail is shipped. `Debug` never shows the password.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenSearchOptions {
    /// The node's base URL (`http://127.0.0.1:9200`), without credentials.
    pub url: String,
    /// The index (default `ai-billing-audit`).
    #[serde(default)]
    pub index: Option<String>,
    /// Basic-auth user.
    #[serde(default)]
    pub username: Option<String>,
    /// Basic-auth password (with `username`).
    #[serde(default)]
    pub password: Option<String>,
}

impl std::fmt::Debug for OpenSearchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSearchOptions")
            .field("url", &self.url)
            .field("index", &self.index)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// How invoices are taxed: one flat `rate`, or a jurisdiction rate table (`rules`, as in
/// `examples/tax-rates.json`), stacked per customer address.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaxOptions {
    /// One rate on every invoice, as a decimal string fraction (`"0.0825"` for 8.25%).
    #[serde(default)]
    #[schemars(with = "Option<crate::json::DecimalString>")]
    pub rate: Option<Decimal>,
    /// The rules of a rate table by jurisdiction (country, region, postal prefix).
    #[serde(default)]
    pub rules: Option<Vec<serde_json::Value>>,
}

impl TaxOptions {
    /// The calculator the options describe.
    pub fn calculator(&self) -> Result<Arc<dyn TaxCalculator>> {
        match (&self.rate, &self.rules) {
            (Some(_), Some(_)) => Err(Error::invalid("tax", "give either rate or rules, not both")),
            (Some(rate), None) => Ok(Arc::new(FlatRate::new("Tax", *rate)?)),
            (None, Some(rules)) => Ok(Arc::new(RateTable::from_json(
                &serde_json::json!({ "rules": rules }).to_string(),
            )?)),
            (None, None) => Ok(Arc::new(NoTax)),
        }
    }
}

/// How [`interpret_prompt`] reads a prompt: the plan it belongs to and who reads it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InterpretOptions {
    /// The plan's currency (default USD): amounts written without one are in it.
    #[serde(default = "usd")]
    pub currency: Currency,
    /// The plan's interval unit (default month).
    #[serde(default = "month")]
    pub interval: IntervalUnit,
    /// Units per period (default 1).
    #[serde(default = "one")]
    pub interval_count: u32,
    /// Who reads the prompt (default `offline`).
    #[serde(default)]
    #[schemars(with = "InterpreterName")]
    pub interpreter: InterpreterMode,
    /// The OpenAI API, for the `openai` and `auto` interpreters.
    #[serde(default)]
    pub openai: Option<OpenAiOptions>,
}

impl Default for InterpretOptions {
    fn default() -> Self {
        InterpretOptions {
            currency: usd(),
            interval: month(),
            interval_count: 1,
            interpreter: InterpreterMode::Offline,
            openai: None,
        }
    }
}

fn usd() -> Currency {
    Currency::parse("USD").expect("USD is an ISO 4217 currency")
}

fn month() -> IntervalUnit {
    IntervalUnit::Month
}

fn one() -> u32 {
    1
}

#[cfg(feature = "opensearch")]
pub(super) fn audit_sink(options: &OpenSearchOptions) -> Result<Arc<dyn AuditSink>> {
    use crate::opensearch::{OpenSearchConfig, OpenSearchSink};
    let mut config = OpenSearchConfig::new(options.url.clone());
    if let Some(index) = &options.index {
        config.index = index.clone();
    }
    match (&options.username, &options.password) {
        (Some(user), Some(password)) => {
            config = config.with_credentials(user.clone(), password.clone());
        }
        (None, None) => {}
        _ => {
            return Err(Error::invalid(
                "opensearch",
                "give both username and password, or neither",
            ));
        }
    }
    Ok(Arc::new(OpenSearchSink::new(config)?))
}

#[cfg(not(feature = "opensearch"))]
pub(super) fn audit_sink(_: &OpenSearchOptions) -> Result<Arc<dyn AuditSink>> {
    Err(Error::invalid(
        "opensearch",
        "this build of ai-billing has no OpenSearch support (the opensearch feature)",
    ))
}

/// The OpenAI model, when `needed`: the options over the environment (`OPENAI_API_KEY`,
/// `OPENAI_BASE_URL`, `OPENAI_MODEL`). `concurrency` widens the client's limit to a run's, so
/// the model is never a narrower pipe than the run. Without a key it is
/// [`Error::InvalidInput`] naming `OPENAI_API_KEY`.
#[cfg(feature = "openai")]
pub fn language_model(
    needed: bool,
    options: Option<&OpenAiOptions>,
    concurrency: Option<usize>,
) -> Result<Option<Arc<dyn LanguageModel>>> {
    use crate::openai::{OpenAiConfig, OpenAiModel};
    if !needed {
        return Ok(None);
    }
    let given = options.cloned().unwrap_or_default();
    let mut config = OpenAiConfig::from_vars(|name| {
        let option = match name {
            "OPENAI_API_KEY" => given.api_key.clone(),
            "OPENAI_BASE_URL" => given.base_url.clone(),
            "OPENAI_MODEL" => given.model.clone(),
            _ => None,
        };
        option.or_else(|| std::env::var(name).ok())
    })?;
    if let Some(ms) = given.timeout_ms {
        config = config.with_timeout(std::time::Duration::from_millis(ms));
    }
    if let Some(retries) = given.max_retries {
        config = config.with_max_retries(retries);
    }
    if let Some(n) = given.max_concurrency {
        config = config.with_max_concurrency(n.max(1) as usize);
    } else if let Some(n) = concurrency.filter(|n| *n > config.max_concurrency) {
        config = config.with_max_concurrency(n);
    }
    Ok(Some(Arc::new(OpenAiModel::new(config)?)))
}

/// Without the `openai` feature there is no model: asking for one is [`Error::InvalidInput`].
#[cfg(not(feature = "openai"))]
pub fn language_model(
    needed: bool,
    _: Option<&OpenAiOptions>,
    _: Option<usize>,
) -> Result<Option<Arc<dyn LanguageModel>>> {
    if needed {
        return Err(Error::invalid(
            "openai",
            "this build of ai-billing has no OpenAI support (the openai feature)",
        ));
    }
    Ok(None)
}
