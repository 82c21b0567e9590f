//! What is said to a language model and what it answers: messages, the schema the answer must
//! follow, the answer with its tokens and latency. Plain data with no I/O, so the interpreter can
//! record model calls without depending on the [`crate::model::LanguageModel`] port.

use serde::{Deserialize, Serialize};

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Instructions.
    System,
    /// The input.
    User,
    /// An earlier answer of the model (when asking it to correct itself).
    Assistant,
}

/// One message of a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who says it.
    pub role: Role,
    /// What is said.
    pub content: String,
}

impl Message {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
        }
    }
}

/// The JSON schema an answer must follow (OpenAI's strict structured output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputSchema {
    /// The schema's name (`pricing_program`, `agent_payload`): `[a-zA-Z0-9_-]`, at most 64.
    pub name: String,
    /// The JSON schema, in the subset strict mode accepts.
    pub schema: serde_json::Value,
}

/// What is asked of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRequest {
    /// The chat so far.
    pub messages: Vec<Message>,
    /// The shape of the answer.
    pub schema: OutputSchema,
}

/// Tokens a call used, as the API reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Tokens of the request.
    pub prompt_tokens: u64,
    /// Tokens of the answer.
    pub completion_tokens: u64,
}

impl TokenUsage {
    /// Both counts.
    pub fn total(&self) -> u64 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }
}

/// The model's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "text")]
pub enum ModelAnswer {
    /// JSON text meant to follow the schema (not yet parsed or checked).
    Json(String),
    /// The model declined to answer, with its reason.
    Refusal(String),
}

/// One completed call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelResponse {
    /// The answer.
    pub answer: ModelAnswer,
    /// The model that answered, as the API names it.
    pub model: String,
    /// Tokens used, summed over the HTTP attempts that returned usage.
    pub usage: TokenUsage,
    /// HTTP attempts made (1 when the first succeeded).
    pub attempts: u32,
    /// Wall time of the whole call, retries included, in milliseconds.
    pub latency_ms: u64,
}
