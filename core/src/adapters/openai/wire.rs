//! The JSON of the chat completions API: the request body sent, and the parts of the answer and of
//! error bodies that are read. Unknown fields are ignored, so OpenAI-compatible servers that add
//! their own (vLLM, gateways) parse too.

use serde::{Deserialize, Serialize};

use super::error::{OpenAiError, redact};
use crate::model::{Message, ModelAnswer, ModelRequest, TokenUsage};

/// `POST /chat/completions` with strict structured output.
#[derive(Debug, Serialize)]
pub(crate) struct ChatRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: &'a [Message],
    pub(crate) response_format: ResponseFormat<'a>,
    /// Always 0: the same prompt should give the same program. An integer, never a float.
    pub(crate) temperature: u8,
}

/// `{"type": "json_schema", "json_schema": {...}}`.
#[derive(Debug, Serialize)]
pub(crate) struct ResponseFormat<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) json_schema: JsonSchema<'a>,
}

/// The schema an answer must follow, enforced by the API (`strict: true`).
#[derive(Debug, Serialize)]
pub(crate) struct JsonSchema<'a> {
    pub(crate) name: &'a str,
    pub(crate) schema: &'a serde_json::Value,
    pub(crate) strict: bool,
}

impl<'a> ChatRequest<'a> {
    /// The body for `request` on `model`.
    pub(crate) fn new(model: &'a str, request: &'a ModelRequest) -> Self {
        ChatRequest {
            model,
            messages: &request.messages,
            response_format: ResponseFormat {
                kind: "json_schema",
                json_schema: JsonSchema {
                    name: &request.schema.name,
                    schema: &request.schema.schema,
                    strict: true,
                },
            },
            temperature: 0,
        }
    }
}

#[derive(Debug, Deserialize)]
struct ChatCompletion {
    #[serde(default)]
    model: Option<String>,
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: ChoiceMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChoiceMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

/// A successful answer, parsed.
#[derive(Debug)]
pub(crate) struct Completion {
    /// The HTTP status (2xx).
    pub(crate) status: u16,
    /// The model that answered, as the API names it (`None` when the server left it out).
    pub(crate) model: Option<String>,
    /// Tokens the attempt used (zero when the server reports none).
    pub(crate) usage: TokenUsage,
    /// The answer, or why there is none. Usage is known either way.
    pub(crate) answer: Result<ModelAnswer, OpenAiError>,
}

/// How much of a malformed body goes into the error.
const EXCERPT_CHARS: usize = 200;

/// Parses a 2xx body. `Err` when it is not a chat completion at all; a completion without a usable
/// answer (cut off, empty) is an `Ok` with an `Err` answer, so its tokens still count.
pub(crate) fn parse_completion(
    status: u16,
    body: &[u8],
    secret: &str,
) -> Result<Completion, OpenAiError> {
    let malformed = |reason: String| OpenAiError::Malformed {
        status,
        reason: redact(&reason, secret),
        excerpt: excerpt(body, secret),
    };
    let completion: ChatCompletion =
        serde_json::from_slice(body).map_err(|error| malformed(error.to_string()))?;
    let usage = completion
        .usage
        .map(|usage| TokenUsage {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
        })
        .unwrap_or_default();
    let Some(choice) = completion.choices.into_iter().next() else {
        return Err(malformed("`choices` is empty".to_owned()));
    };
    let answer = match (choice.message.refusal, choice.message.content) {
        (Some(refusal), _) if !refusal.is_empty() => Ok(ModelAnswer::Refusal(refusal)),
        _ if choice.finish_reason.as_deref() == Some("length") => Err(OpenAiError::Truncated {
            completion_tokens: usage.completion_tokens,
        }),
        (_, Some(content)) if !content.trim().is_empty() => Ok(ModelAnswer::Json(content)),
        _ if choice.finish_reason.as_deref() == Some("content_filter") => Ok(ModelAnswer::Refusal(
            "the answer was withheld by the API's content filter".to_owned(),
        )),
        _ => Err(OpenAiError::Empty {
            finish_reason: choice.finish_reason,
        }),
    };
    Ok(Completion {
        status,
        model: completion.model,
        usage,
        answer,
    })
}

/// The message and code of an error body. OpenAI sends
/// `{"error": {"message", "type", "param", "code"}}`; compatible servers also send
/// `{"error": "text"}`, `{"message": ..., "code": ...}` or `{"detail": ...}`. Anything else gives
/// the start of the body as the message. Both are redacted.
pub(crate) fn parse_error_body(body: &[u8], secret: &str) -> (Option<String>, Option<String>) {
    let text_of = |value: &serde_json::Value| -> Option<String> {
        match value {
            serde_json::Value::String(text) if !text.is_empty() => Some(text.clone()),
            serde_json::Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    };
    let (message, code) = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => {
            let object = match value.get("error") {
                Some(inner @ serde_json::Value::Object(_)) => inner,
                _ => &value,
            };
            let message = value
                .get("error")
                .and_then(text_of)
                .or_else(|| object.get("message").and_then(text_of))
                .or_else(|| object.get("detail").and_then(text_of));
            let code = object
                .get("code")
                .and_then(text_of)
                .or_else(|| object.get("type").and_then(text_of));
            (message, code)
        }
        Err(_) => {
            let start = excerpt(body, "");
            ((!start.trim().is_empty()).then_some(start), None)
        }
    };
    (
        message.map(|text| redact(&text, secret)),
        code.map(|text| redact(&text, secret)),
    )
}

/// The first characters of `body`, lossily decoded and redacted.
fn excerpt(body: &[u8], secret: &str) -> String {
    let text = String::from_utf8_lossy(body);
    let mut start: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        start.push('…');
    }
    redact(&start, secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_error_body() {
        let body = br#"{"error": {"message": "Incorrect API key provided: sk-abc", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}"#;
        assert_eq!(
            parse_error_body(body, "sk-abc"),
            (
                Some("Incorrect API key provided: ***".to_owned()),
                Some("invalid_api_key".to_owned())
            )
        );
    }

    #[test]
    fn compatible_error_bodies() {
        assert_eq!(
            parse_error_body(br#"{"object": "error", "message": "bad schema", "type": "BadRequestError", "code": 400}"#, "k"),
            (Some("bad schema".to_owned()), Some("400".to_owned()))
        );
        assert_eq!(
            parse_error_body(br#"{"error": "upstream down"}"#, "k"),
            (Some("upstream down".to_owned()), None)
        );
        assert_eq!(
            parse_error_body(br#"{"detail": "Not Found"}"#, "k"),
            (Some("Not Found".to_owned()), None)
        );
        assert_eq!(
            parse_error_body(b"<html>502 Bad Gateway</html>", "k"),
            (Some("<html>502 Bad Gateway</html>".to_owned()), None)
        );
        assert_eq!(parse_error_body(b"", "k"), (None, None));
    }

    #[test]
    fn truncated_answer_keeps_its_usage() {
        let body = br#"{"model": "m", "choices": [{"message": {"content": "{\"a\":"}, "finish_reason": "length"}], "usage": {"prompt_tokens": 5, "completion_tokens": 7}}"#;
        let completion = parse_completion(200, body, "k").unwrap();
        assert_eq!(completion.usage.total(), 12);
        assert!(matches!(
            completion.answer,
            Err(OpenAiError::Truncated {
                completion_tokens: 7
            })
        ));
    }

    #[test]
    fn content_filter_is_a_refusal() {
        let body =
            br#"{"choices": [{"message": {"content": null}, "finish_reason": "content_filter"}]}"#;
        let completion = parse_completion(200, body, "k").unwrap();
        assert!(matches!(completion.answer, Ok(ModelAnswer::Refusal(_))));
        assert_eq!(completion.usage, TokenUsage::default());
    }

    #[test]
    fn empty_choices_and_empty_message() {
        assert!(matches!(
            parse_completion(200, br#"{"choices": []}"#, "k"),
            Err(OpenAiError::Malformed { .. })
        ));
        let completion = parse_completion(
            200,
            br#"{"choices": [{"message": {"content": ""}, "finish_reason": "stop"}]}"#,
            "k",
        )
        .unwrap();
        assert!(matches!(completion.answer, Err(OpenAiError::Empty { .. })));
    }
}
