//! [`MockOpenAi`]: a local server speaking the OpenAI chat-completions protocol on loopback, that
//! answers the billing agent as a competent billing model would, for two rules:
//!
//! - `"$10 per month for each seat"` (any `$X per month for each seat`): one line `"Seats"` of
//!   X × quantity;
//! - `"$0.50 per delivery"` (any `$X per delivery`): one line `"Deliveries"` of X × the period's
//!   shipments (all weekdays).
//!
//! It reads the rule between the `<<<RULE` / `RULE>>>` markers of the first user message and the
//! period's facts (quantity, currency, period start and end, usage) from the JSON object after
//! `The period to bill:`, and answers the agent payload as `choices[0].message.content`, with the
//! period's start and end copied exactly. A rule it does not know is refused
//! (`message.refusal`), as a careful model would, rather than guessed.
//!
//! Faults are injected through [`MockBehaviour`] (latency, 429 with `Retry-After`, 500s,
//! malformed JSON, wrong amounts), changeable while the server runs, and what it served is
//! counted in [`MockStats`]. Built on `wiremock` with a custom [`Respond`] implementation; each
//! [`MockOpenAi`] is its own server on a random port.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ai_billing::Currency;
use ai_billing::openai::OpenAiConfig;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The model name the server answers with.
pub const MOCK_MODEL: &str = "mock-billing-model";

/// The API key [`MockOpenAi::config`] uses. The server accepts any non-empty bearer key.
pub const TEST_KEY: &str = "test-key";

/// How the server behaves; every field can be changed while it runs
/// ([`MockOpenAi::set_behaviour`]). The default answers every request at once and correctly.
///
/// Requests are numbered from 1 in the order the server receives them (retries included), and
/// the faults are checked in this order: rate limits, then the first server errors, then the
/// periodic server errors, then malformed and wrong answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MockBehaviour {
    /// How long every answer takes (a `latency` longer than the client's timeout is a hang).
    pub latency: Duration,
    /// The first this many requests are answered 429 with a `Retry-After` header.
    pub rate_limited_first: u64,
    /// The `Retry-After` of those answers, sent in whole seconds (rounded up).
    pub retry_after: Duration,
    /// The next this many requests (after the rate-limited ones) are answered 500.
    pub server_errors_first: u64,
    /// Every Nth request (N, 2N, 3N, ... counted over all requests) is answered 500:
    /// deterministic, so one in N fails whatever the timing. `Some(0)` fails none.
    pub fail_every: Option<u64>,
    /// The first ask of every conversation (a request with no assistant turn yet) is answered with
    /// JSON that does not parse; the retry, which carries the problems, is answered correctly.
    pub malformed_first: bool,
    /// Answers bill 1.00 more on every line (and in the total): valid payloads with the wrong
    /// amounts, which the engine's cross-check holds for review.
    pub wrong_amounts: bool,
}

impl MockBehaviour {
    /// Correct answers after `latency`.
    pub fn with_latency(latency: Duration) -> Self {
        MockBehaviour {
            latency,
            ..MockBehaviour::default()
        }
    }
}

/// What the server has received and served so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MockStats {
    /// HTTP requests received, whatever their answer.
    pub requests: u64,
    /// Requests answered 200 with a completion (a payload, a malformed text or a refusal).
    pub completions: u64,
    /// Requests answered 429.
    pub rate_limited: u64,
    /// Requests answered 500.
    pub server_errors: u64,
    /// Completions whose content was malformed JSON on purpose.
    pub malformed: u64,
    /// Completions that refused (a rule the server does not know).
    pub refusals: u64,
    /// Prompt tokens reported in the completions' `usage`.
    pub prompt_tokens: u64,
    /// Completion tokens reported in the completions' `usage`.
    pub completion_tokens: u64,
}

/// A running mock OpenAI server. Dropping it stops the server.
#[derive(Debug)]
pub struct MockOpenAi {
    server: MockServer,
    state: Arc<State>,
}

impl MockOpenAi {
    /// A server with the default behaviour (correct answers, no latency).
    pub async fn start() -> Self {
        Self::start_with(MockBehaviour::default()).await
    }

    /// A server behaving as `behaviour` says.
    pub async fn start_with(behaviour: MockBehaviour) -> Self {
        // A fresh server (not one from wiremock's pool), without wiremock's own request log: the
        // benchmark sends thousands of requests and the counters are all we need.
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        let state = Arc::new(State {
            behaviour: Mutex::new(behaviour),
            counters: Counters::default(),
        });
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(Responder(state.clone()))
            .mount(&server)
            .await;
        MockOpenAi { server, state }
    }

    /// The API root to give the client (`OPENAI_BASE_URL`): `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.uri())
    }

    /// The OpenAI adapter's configuration for this server, with the key [`TEST_KEY`] and the
    /// adapter's defaults otherwise.
    pub fn config(&self) -> OpenAiConfig {
        OpenAiConfig::new(TEST_KEY).with_base_url(self.base_url())
    }

    /// The current behaviour.
    pub fn behaviour(&self) -> MockBehaviour {
        lock(&self.state.behaviour).clone()
    }

    /// Changes the behaviour for the requests received from now on. The request numbering (for
    /// [`MockBehaviour::fail_every`] and the `_first` counts) is not reset.
    pub fn set_behaviour(&self, behaviour: MockBehaviour) {
        *lock(&self.state.behaviour) = behaviour;
    }

    /// What the server has received and served so far.
    pub fn stats(&self) -> MockStats {
        let c = &self.state.counters;
        let get = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
        MockStats {
            requests: get(&c.requests),
            completions: get(&c.completions),
            rate_limited: get(&c.rate_limited),
            server_errors: get(&c.server_errors),
            malformed: get(&c.malformed),
            refusals: get(&c.refusals),
            prompt_tokens: get(&c.prompt_tokens),
            completion_tokens: get(&c.completion_tokens),
        }
    }
}

impl std::ops::Sub for MockStats {
    type Output = MockStats;

    /// What was served between two snapshots (`later - earlier`).
    fn sub(self, earlier: MockStats) -> MockStats {
        MockStats {
            requests: self.requests - earlier.requests,
            completions: self.completions - earlier.completions,
            rate_limited: self.rate_limited - earlier.rate_limited,
            server_errors: self.server_errors - earlier.server_errors,
            malformed: self.malformed - earlier.malformed,
            refusals: self.refusals - earlier.refusals,
            prompt_tokens: self.prompt_tokens - earlier.prompt_tokens,
            completion_tokens: self.completion_tokens - earlier.completion_tokens,
        }
    }
}

#[derive(Debug)]
struct State {
    behaviour: Mutex<MockBehaviour>,
    counters: Counters,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    completions: AtomicU64,
    rate_limited: AtomicU64,
    server_errors: AtomicU64,
    malformed: AtomicU64,
    refusals: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The `wiremock` responder: one answer per request, from the behaviour and the request.
struct Responder(Arc<State>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let state = &self.0;
        let behaviour = lock(&state.behaviour).clone();
        let counters = &state.counters;
        let n = counters.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let answer = self.answer(n, &behaviour, request);
        answer.set_delay(behaviour.latency)
    }
}

impl Responder {
    fn answer(&self, n: u64, behaviour: &MockBehaviour, request: &Request) -> ResponseTemplate {
        let counters = &self.0.counters;
        let authorized = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|key| !key.trim().is_empty());
        if !authorized {
            return api_error(
                401,
                "invalid_request_error",
                "You didn't provide an API key.",
            );
        }
        if n <= behaviour.rate_limited_first {
            counters.rate_limited.fetch_add(1, Ordering::SeqCst);
            let seconds = behaviour.retry_after.as_millis().div_ceil(1000);
            return api_error(
                429,
                "rate_limit_exceeded",
                "Rate limit reached for requests. Please try again later.",
            )
            .insert_header("retry-after", seconds.to_string().as_str());
        }
        let failing = n <= behaviour.rate_limited_first + behaviour.server_errors_first
            || behaviour
                .fail_every
                .is_some_and(|every| n.is_multiple_of(every));
        if failing {
            counters.server_errors.fetch_add(1, Ordering::SeqCst);
            return api_error(
                500,
                "server_error",
                "The server had an error while processing your request.",
            );
        }
        let messages = match read_messages(&request.body) {
            Ok(messages) => messages,
            Err(reason) => return api_error(400, "invalid_request_error", &reason),
        };
        let first_ask = !messages.iter().any(|(role, _)| role == "assistant");
        let (content, refusal) = if behaviour.malformed_first && first_ask {
            counters.malformed.fetch_add(1, Ordering::SeqCst);
            (
                Some(r#"{"subscription_updates": {"current_period_start": "#.to_owned()),
                None,
            )
        } else {
            match bill(&messages, behaviour.wrong_amounts) {
                Ok(payload) => (Some(payload), None),
                Err(reason) => {
                    counters.refusals.fetch_add(1, Ordering::SeqCst);
                    (None, Some(reason))
                }
            }
        };
        let prompt_chars: usize = messages.iter().map(|(_, text)| text.chars().count()).sum();
        let answer_chars = content
            .as_deref()
            .or(refusal.as_deref())
            .map_or(0, |text| text.chars().count());
        let prompt_tokens = estimate_tokens(prompt_chars);
        let completion_tokens = estimate_tokens(answer_chars);
        counters.completions.fetch_add(1, Ordering::SeqCst);
        counters
            .prompt_tokens
            .fetch_add(prompt_tokens, Ordering::SeqCst);
        counters
            .completion_tokens
            .fetch_add(completion_tokens, Ordering::SeqCst);
        ResponseTemplate::new(200).set_body_json(json!({
            "id": format!("chatcmpl-mock-{n}"),
            "object": "chat.completion",
            "created": 1_767_225_600,
            "model": MOCK_MODEL,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens
            }
        }))
    }
}

/// The token count reported in `usage`: ceil(characters / 4).
///
/// These are estimates made by a local server, not counts from OpenAI's tokenizer: about four
/// characters a token is the usual rule of thumb for English and JSON, good enough to compare
/// modes and see what retries cost, not to predict a bill to the token.
pub fn estimate_tokens(chars: usize) -> u64 {
    u64::try_from(chars.div_ceil(4)).unwrap_or(u64::MAX)
}

/// An error answer in the API's shape.
fn api_error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"message": message, "type": kind, "param": null, "code": kind}
    }))
}

/// The request's messages as (role, content).
fn read_messages(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let body: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let messages = body["messages"]
        .as_array()
        .ok_or("'messages' is a required property")?;
    messages
        .iter()
        .map(|message| {
            let role = message["role"].as_str().ok_or("a message has no role")?;
            let content = message["content"]
                .as_str()
                .ok_or("a message has no text content")?;
            Ok((role.to_owned(), content.to_owned()))
        })
        .collect()
}

/// What the billing agent is told about the period.
struct Facts {
    rule: String,
    quantity: u64,
    currency: Currency,
    period_start: String,
    period_end: String,
    shipments: u64,
}

/// Reads the rule and the facts from the first user message (the retries come after it).
fn read_facts(messages: &[(String, String)]) -> Result<Facts, String> {
    let text = messages
        .iter()
        .find(|(role, text)| role == "user" && text.contains("<<<RULE"))
        .map(|(_, text)| text.as_str())
        .ok_or("I was not given a billing rule.")?;
    let rule = text
        .split_once("<<<RULE\n")
        .and_then(|(_, rest)| rest.split_once("\nRULE>>>"))
        .map(|(rule, _)| rule.trim().to_owned())
        .ok_or("I was not given a billing rule.")?;
    let facts: Value = text
        .split_once("The period to bill:\n")
        .and_then(|(_, json)| serde_json::from_str(json.trim()).ok())
        .ok_or("I was not given the period to bill.")?;
    let subscription = &facts["subscription"];
    let string = |field: &str| {
        subscription[field]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("The period has no {field}."))
    };
    let currency = Currency::parse(&string("currency")?)
        .map_err(|_| "The currency is not one I know.".to_owned())?;
    let shipments = match facts["usage"]["shipments"].as_object() {
        Some(days) => days.values().filter_map(Value::as_u64).sum(),
        None => 0,
    };
    Ok(Facts {
        rule,
        quantity: subscription["quantity"]
            .as_u64()
            .ok_or("The period has no quantity.")?,
        currency,
        period_start: string("period_start")?,
        period_end: string("period_end")?,
        shipments,
    })
}

/// The first `$X` of the rule, as an exact decimal.
fn price(rule: &str) -> Option<Decimal> {
    let (_, after) = rule.split_once('$')?;
    let digits: String = after
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    Decimal::from_str(digits.trim_end_matches('.')).ok()
}

/// The payload a competent billing model writes for the period, or why it refuses.
fn bill(messages: &[(String, String)], wrong_amounts: bool) -> Result<String, String> {
    let facts = read_facts(messages)?;
    let rule = facts.rule.to_lowercase();
    let unknown = || {
        format!(
            "The rule {:?} does not say how to bill this period.",
            facts.rule
        )
    };
    let price = price(&rule).ok_or_else(unknown)?;
    let (description, count) = if rule.contains("per month for each seat") {
        ("Seats", facts.quantity)
    } else if rule.contains("per delivery") {
        ("Deliveries", facts.shipments)
    } else {
        return Err(unknown());
    };
    let exponent = facts.currency.exponent();
    let mut amount = price
        .checked_mul(Decimal::from(count))
        .ok_or("The amount is too large.")?
        .round_dp_with_strategy(exponent, RoundingStrategy::MidpointAwayFromZero);
    if wrong_amounts {
        amount += Decimal::ONE;
    }
    amount.rescale(exponent);
    // Amounts are written as JSON numbers from the decimal's digits: no float on the way.
    let quote = |text: &str| Value::from(text).to_string();
    let (start, end) = (quote(&facts.period_start), quote(&facts.period_end));
    Ok(format!(
        r#"{{"subscription_updates":{{"current_period_start":{start},"current_period_end":{end}}},"invoice":{{"amount":{amount},"currency":{currency},"start_date":{start},"end_date":{end},"line_items":[{{"description":{description},"amount":{amount}}}]}}}}"#,
        currency = quote(facts.currency.code()),
        description = quote(description),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rule: &str, quantity: u64, shipments: u64) -> Vec<(String, String)> {
        let facts = json!({
            "subscription": {
                "quantity": quantity, "currency": "USD", "period_index": 1,
                "period_start": "2026-01-01T00:00:00-05:00",
                "period_end": "2026-02-01T00:00:00-05:00"
            },
            "usage": {"shipments": {"monday": shipments, "tuesday": 1}},
        });
        vec![
            ("system".to_owned(), "You are the billing agent.".to_owned()),
            (
                "user".to_owned(),
                format!("Rule:\n<<<RULE\n{rule}\nRULE>>>\n\nThe period to bill:\n{facts}"),
            ),
        ]
    }

    fn amount(payload: &str) -> String {
        let value: Value = serde_json::from_str(payload).unwrap();
        value["invoice"]["amount"].to_string()
    }

    #[test]
    fn bills_seats_and_deliveries_exactly() {
        let seats = bill(&user("$10 per month for each seat", 3, 0), false).unwrap();
        assert_eq!(amount(&seats), "30.00");
        assert!(seats.contains(r#""current_period_start":"2026-01-01T00:00:00-05:00""#));
        let deliveries = bill(&user("$0.50 per delivery", 1, 4), false).unwrap();
        assert_eq!(amount(&deliveries), "2.50");
        assert!(deliveries.contains("Deliveries"));
        let wrong = bill(&user("$10 per month for each seat", 1, 0), true).unwrap();
        assert_eq!(amount(&wrong), "11.00");
        assert!(bill(&user("Bill what feels right", 1, 0), false).is_err());
    }

    #[test]
    fn tokens_are_rounded_up() {
        assert_eq!(estimate_tokens(0), 0);
        assert_eq!(estimate_tokens(1), 1);
        assert_eq!(estimate_tokens(8), 2);
        assert_eq!(estimate_tokens(9), 3);
    }
}
