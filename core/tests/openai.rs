//! The OpenAI adapter against a local OpenAI-protocol server (wiremock): the exact request sent,
//! answers, refusals, malformed bodies, retries and their waits, timeouts, the concurrency limit,
//! and a key that never shows up in any output.
#![cfg(feature = "openai")]

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ai_billing::Error;
use ai_billing::model::{
    LanguageModel, Message, ModelAnswer, ModelRequest, OutputSchema, Role, TokenUsage,
};
use ai_billing::openai::{OpenAiConfig, OpenAiModel};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The key every test uses; no output may ever contain it.
const KEY: &str = "sk-test-7f3a9c1e-DO-NOT-PRINT";

fn config(server: &MockServer) -> OpenAiConfig {
    OpenAiConfig::new(KEY)
        .with_base_url(format!("{}/v1", server.uri()))
        .with_backoff(Duration::from_millis(10), Duration::from_secs(5))
        .with_timeout(Duration::from_secs(10))
}

fn model(config: OpenAiConfig) -> OpenAiModel {
    OpenAiModel::new(config).expect("a valid config")
}

fn request() -> ModelRequest {
    ModelRequest {
        messages: vec![
            Message::new(Role::System, "Turn the plan prompt into a pricing program."),
            Message::new(Role::User, "Bill $5 for the first month"),
        ],
        schema: OutputSchema {
            name: "pricing_program".to_owned(),
            schema: json!({
                "type": "object",
                "properties": {"amount_minor": {"type": "integer"}},
                "required": ["amount_minor"],
                "additionalProperties": false
            }),
        },
    }
}

fn completion(content: &str, prompt_tokens: u64, completion_tokens: u64) -> serde_json::Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens
        }
    })
}

fn ok(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(completion(content, 30, 12))
}

fn api_error(status: u16, message: &str, code: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}
    }))
}

/// Answers in order; the last answer repeats.
struct Sequence(Mutex<VecDeque<ResponseTemplate>>);

impl Sequence {
    fn new(answers: impl IntoIterator<Item = ResponseTemplate>) -> Self {
        Sequence(Mutex::new(answers.into_iter().collect()))
    }
}

impl Respond for Sequence {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let mut answers = self.0.lock().unwrap();
        if answers.len() > 1 {
            answers.pop_front().unwrap()
        } else {
            answers.front().cloned().expect("at least one answer")
        }
    }
}

async fn serve(server: &MockServer, responder: impl Respond + 'static) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(responder)
        .mount(server)
        .await;
}

async fn requests_received(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

/// The error with its whole cause chain, as a log line or the CLI would show it.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        write!(text, ": {cause}").unwrap();
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn sends_the_exact_request_and_reads_a_good_answer() {
    let server = MockServer::start().await;
    let expected = json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Turn the plan prompt into a pricing program."},
            {"role": "user", "content": "Bill $5 for the first month"}
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "pricing_program",
                "schema": {
                    "type": "object",
                    "properties": {"amount_minor": {"type": "integer"}},
                    "required": ["amount_minor"],
                    "additionalProperties": false
                },
                "strict": true
            }
        },
        "temperature": 0
    });
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("content-type", "application/json"))
        .and(body_json(&expected))
        .respond_with(ok(r#"{"amount_minor": 500}"#))
        .expect(1)
        .mount(&server)
        .await;

    let model = model(config(&server));
    assert_eq!(model.name(), "gpt-4o-mini");
    assert_eq!(
        model.endpoint(),
        format!("{}/v1/chat/completions", server.uri())
    );
    let response = model.complete(&request()).await.expect("an answer");
    assert_eq!(
        response.answer,
        ModelAnswer::Json(r#"{"amount_minor": 500}"#.to_owned())
    );
    assert_eq!(response.model, "gpt-4o-mini-2024-07-18");
    assert_eq!(
        response.usage,
        TokenUsage {
            prompt_tokens: 30,
            completion_tokens: 12
        }
    );
    assert_eq!(response.attempts, 1);

    // The temperature is the integer 0, never a float.
    let sent = &server.received_requests().await.unwrap()[0];
    let text = String::from_utf8(sent.body.clone()).unwrap();
    assert!(text.contains(r#""temperature":0}"#) || text.contains(r#""temperature":0,"#));
    assert!(!text.contains("0.0"));
}

#[tokio::test]
async fn a_refusal_is_an_answer() {
    let server = MockServer::start().await;
    serve(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "model": "gpt-4o-mini",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": null,
                            "refusal": "I can't help with that request."},
                "finish_reason": "stop"
            }],
            "usage": {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28}
        })),
    )
    .await;
    let response = model(config(&server)).complete(&request()).await.unwrap();
    assert_eq!(
        response.answer,
        ModelAnswer::Refusal("I can't help with that request.".to_owned())
    );
    assert_eq!(response.usage.total(), 28);
    assert_eq!(response.attempts, 1);
}

#[tokio::test]
async fn malformed_answers_fail_without_retrying() {
    for body in [
        ResponseTemplate::new(200).set_body_string("<html>upstream proxy says hi</html>"),
        ResponseTemplate::new(200).set_body_json(json!({"object": "chat.completion"})),
        ResponseTemplate::new(200).set_body_json(json!({"choices": []})),
    ] {
        let server = MockServer::start().await;
        serve(&server, body).await;
        let error = model(config(&server))
            .complete(&request())
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Model { .. }), "{error:?}");
        let text = chain(&error);
        assert!(text.contains("not a chat completion"), "{text}");
        assert!(text.contains("HTTP 200"), "{text}");
        assert_eq!(requests_received(&server).await, 1);
    }
}

#[tokio::test]
async fn an_answer_cut_off_at_the_token_limit_is_an_error() {
    let server = MockServer::start().await;
    let mut body = completion(r#"{"amount_mi"#, 30, 4096);
    body["choices"][0]["finish_reason"] = json!("length");
    serve(&server, ResponseTemplate::new(200).set_body_json(body)).await;
    let error = model(config(&server))
        .complete(&request())
        .await
        .unwrap_err();
    let text = chain(&error);
    assert!(text.contains("cut off at the token limit"), "{text}");
    assert!(text.contains("4096"), "{text}");
    assert_eq!(requests_received(&server).await, 1);
}

#[tokio::test]
async fn a_429_waits_for_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    serve(
        &server,
        Sequence::new([
            api_error(429, "Rate limit reached", "rate_limit_exceeded")
                .insert_header("retry-after", "1"),
            ok(r#"{"amount_minor": 500}"#),
        ]),
    )
    .await;
    let started = Instant::now();
    let response = model(config(&server)).complete(&request()).await.unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert_eq!(response.attempts, 2);
    assert!(response.latency_ms >= 950, "{}", response.latency_ms);
    assert_eq!(response.usage.total(), 42);
    assert_eq!(requests_received(&server).await, 2);
}

#[tokio::test]
async fn retry_after_ms_is_honoured() {
    let server = MockServer::start().await;
    serve(
        &server,
        Sequence::new([
            ResponseTemplate::new(503).insert_header("retry-after-ms", "400"),
            ok("{}"),
        ]),
    )
    .await;
    let started = Instant::now();
    let response = model(config(&server)).complete(&request()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(390));
    assert_eq!(response.attempts, 2);
}

#[tokio::test]
async fn two_500s_then_success() {
    let server = MockServer::start().await;
    serve(
        &server,
        Sequence::new([
            api_error(500, "The server had an error", "server_error"),
            ResponseTemplate::new(502).set_body_string("Bad Gateway"),
            ok(r#"{"amount_minor": 500}"#),
        ]),
    )
    .await;
    let response = model(config(&server)).complete(&request()).await.unwrap();
    assert_eq!(response.attempts, 3);
    assert_eq!(
        response.answer,
        ModelAnswer::Json(r#"{"amount_minor": 500}"#.to_owned())
    );
    assert_eq!(requests_received(&server).await, 3);
}

#[tokio::test]
async fn persistent_500s_exhaust_the_retries() {
    let server = MockServer::start().await;
    serve(
        &server,
        api_error(500, "The server had an error", "server_error"),
    )
    .await;
    let error = model(config(&server).with_max_retries(2))
        .complete(&request())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Model { .. }));
    assert_eq!(error.code(), ai_billing::ErrorCode::Model);
    let text = chain(&error);
    assert!(text.contains("gave up after 3 attempts"), "{text}");
    assert!(text.contains("HTTP 500"), "{text}");
    assert!(text.contains("The server had an error"), "{text}");
    assert_eq!(requests_received(&server).await, 3);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for (status, message, code) in [
        (401, "Incorrect API key provided", "invalid_api_key"),
        (
            400,
            "Invalid schema for response_format",
            "invalid_json_schema",
        ),
        (403, "Project does not have access", "model_not_found"),
        (404, "The model does not exist", "model_not_found"),
    ] {
        let server = MockServer::start().await;
        serve(&server, api_error(status, message, code)).await;
        let error = model(config(&server))
            .complete(&request())
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Model { .. }), "{error:?}");
        let text = chain(&error);
        assert!(text.contains(&format!("HTTP {status}")), "{text}");
        assert!(text.contains(message), "{text}");
        assert!(text.contains(code), "{text}");
        assert_eq!(requests_received(&server).await, 1, "{status}");
    }
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let server = MockServer::start().await;
    serve(&server, ok("{}").set_delay(Duration::from_secs(3))).await;
    let started = Instant::now();
    let error = model(
        config(&server)
            .with_timeout(Duration::from_millis(250))
            .with_max_retries(1),
    )
    .complete(&request())
    .await
    .unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(error, Error::Model { .. }));
    let text = chain(&error);
    assert!(text.contains("gave up after 2 attempts"), "{text}");
    assert!(text.contains("timeout of 250 ms"), "{text}");
    assert!(elapsed >= Duration::from_millis(500), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(requests_received(&server).await, 2);
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_fails() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = OpenAiConfig::new(KEY)
        .with_base_url(format!("http://127.0.0.1:{port}/v1"))
        .with_backoff(Duration::from_millis(5), Duration::from_millis(20))
        .with_max_retries(2);
    let error = model(config).complete(&request()).await.unwrap_err();
    let text = chain(&error);
    assert!(text.contains("gave up after 3 attempts"), "{text}");
    assert!(text.contains("could not connect"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_holds() {
    let server = MockServer::start().await;
    serve(&server, ok("{}").set_delay(Duration::from_millis(300))).await;
    let model = Arc::new(model(config(&server).with_max_concurrency(2)));
    let started = Instant::now();
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let model = Arc::clone(&model);
            tokio::spawn(async move { model.complete(&request()).await })
        })
        .collect();
    for call in calls {
        let response = call.await.unwrap().unwrap();
        assert_eq!(response.attempts, 1);
    }
    let elapsed = started.elapsed();
    // 6 calls, 2 at a time, 300 ms each: three rounds.
    assert!(elapsed >= Duration::from_millis(880), "{elapsed:?}");
    assert_eq!(requests_received(&server).await, 6);
}

#[test]
fn from_vars_refuses_a_missing_key() {
    let error = OpenAiConfig::from_vars(|_| None).unwrap_err();
    assert_eq!(error.code(), ai_billing::ErrorCode::InvalidInput);
    assert!(error.to_string().contains("OPENAI_API_KEY"), "{error}");
}

/// Records every span field and event of the thread it is set on, as text.
struct Capture {
    text: Arc<Mutex<String>>,
    next_id: AtomicU64,
}

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        write!(self.0, " {}={value:?}", field.name()).unwrap();
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _metadata: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut text = self.text.lock().unwrap();
        write!(text, "\nspan {}", span.metadata().name()).unwrap();
        span.record(&mut Fields(&mut text));
        tracing::span::Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut text = self.text.lock().unwrap();
        text.push_str("\nrecord");
        values.record(&mut Fields(&mut text));
    }

    fn record_follows_from(&self, _span: &tracing::span::Id, _follows: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut text = self.text.lock().unwrap();
        text.push_str("\nevent");
        event.record(&mut Fields(&mut text));
    }

    fn enter(&self, _span: &tracing::span::Id) {}

    fn exit(&self, _span: &tracing::span::Id) {}
}

#[tokio::test]
async fn the_key_is_never_printed() {
    let log = Arc::new(Mutex::new(String::new()));
    let _subscriber = tracing::dispatcher::set_default(&tracing::Dispatch::new(Capture {
        text: Arc::clone(&log),
        next_id: AtomicU64::new(1),
    }));
    let mut outputs: Vec<String> = Vec::new();

    // The config and the client.
    let server = MockServer::start().await;
    let config = config(&server).with_max_retries(1);
    outputs.push(format!("{config:?} {config:#?} {config}"));
    outputs.push(format!("{:?} {}", config.api_key, config.api_key));
    let client = model(config.clone());
    outputs.push(format!("{client:?} {client:#?} {client}"));
    assert!(format!("{client:?}").contains("***"));

    let mut record_error = |error: &Error| {
        outputs.push(format!("{error}"));
        outputs.push(format!("{error:?}"));
        outputs.push(format!("{error:#?}"));
        outputs.push(chain(error));
    };

    // Errors of configuration.
    record_error(&OpenAiConfig::from_vars(|_| None).unwrap_err());
    record_error(&OpenAiModel::new(config.clone().with_base_url("not a url")).unwrap_err());
    record_error(&OpenAiModel::new(config.clone().with_model("")).unwrap_err());
    record_error(&OpenAiModel::new(config.clone().with_max_concurrency(0)).unwrap_err());
    record_error(&OpenAiModel::new(OpenAiConfig::new(format!("{KEY}\u{7}"))).unwrap_err());

    // Every failure of a call, each from a server that echoes the key back where it can.
    let echo = format!("Incorrect API key provided: {KEY}");
    let failures = [
        api_error(401, &echo, "invalid_api_key"),
        api_error(400, &echo, KEY),
        ResponseTemplate::new(403).set_body_string(echo.clone()),
        api_error(500, &echo, "server_error"),
        api_error(429, &echo, "rate_limit_exceeded").insert_header("retry-after", "0"),
        ResponseTemplate::new(200).set_body_string(format!("not json {KEY}")),
        ResponseTemplate::new(200).set_body_json(json!({"choices": KEY})),
        ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"message": {"content": KEY}, "finish_reason": "length"}]
        })),
        ok("{}").set_delay(Duration::from_secs(2)),
    ];
    for failure in failures {
        let server = MockServer::start().await;
        serve(&server, failure).await;
        let model = model(
            OpenAiConfig::new(KEY)
                .with_base_url(format!("{}/v1", server.uri()))
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
                .with_timeout(Duration::from_millis(200))
                .with_max_retries(1),
        );
        let error = model.complete(&request()).await.unwrap_err();
        record_error(&error);
    }
    // A refused connection.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let refused = model(
        OpenAiConfig::new(KEY)
            .with_base_url(format!("http://127.0.0.1:{port}/v1"))
            .with_max_retries(0),
    );
    record_error(&refused.complete(&request()).await.unwrap_err());

    assert_eq!(outputs.len(), 3 + 4 * 15);
    for output in &outputs {
        assert!(!output.contains(KEY), "the key leaked: {output}");
        assert!(
            !output.contains("DO-NOT-PRINT"),
            "part of the key leaked: {output}"
        );
    }
    // The echoed key was replaced, not the message dropped.
    assert!(
        outputs
            .iter()
            .any(|o| o.contains("Incorrect API key provided: ***")),
        "{outputs:#?}"
    );

    let log = log.lock().unwrap();
    assert!(log.contains("span openai.complete"), "{log}");
    assert!(log.contains("attempts=2"), "{log}");
    assert!(log.contains("model=gpt-4o-mini"), "{log}");
    assert!(log.contains("status=401"), "{log}");
    assert!(!log.contains(KEY), "the key reached the log: {log}");
    assert!(
        !log.contains("DO-NOT-PRINT"),
        "part of the key reached the log"
    );
}
