//! The [`LanguageModel`] port: a chat model that answers with JSON in a given schema. The OpenAI
//! adapter (feature `openai`) and [`ScriptedModel`] (tests, examples) implement it.
//!
//! The model proposes; deterministic code decides what is billed: every answer is parsed strictly
//! and validated by the caller, and nothing a model writes is trusted before that.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::{Error, Result};

pub mod schemas;

pub use crate::chat::{
    Message, ModelAnswer, ModelRequest, ModelResponse, OutputSchema, Role, TokenUsage,
};

pub use schemas::{PAYLOAD_SCHEMA_NAME, PROGRAM_SCHEMA_NAME, payload_schema, program_schema};

/// A chat model with structured output. Held as `Arc<dyn LanguageModel>`.
#[async_trait]
pub trait LanguageModel: Send + Sync + fmt::Debug + 'static {
    /// The model's name as recorded in the audit trail (`gpt-4o-mini`); never a secret.
    fn name(&self) -> &str;

    /// One completion of `request`. Transport retries (429, 5xx, timeouts) happen inside; an
    /// `Err` is final ([`Error::Model`]). A refusal is an `Ok` answer ([`ModelAnswer::Refusal`]).
    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse>;
}

/// A model that answers from a script: each call takes the next answer (tests and examples; no
/// network). Every request it was sent is kept, so a test can check what reached the model.
#[derive(Debug, Default)]
pub struct ScriptedModel {
    script: Mutex<VecDeque<Result<ModelAnswer, String>>>,
    requests: Mutex<Vec<ModelRequest>>,
}

impl ScriptedModel {
    /// A model that will give `answers` in order (an `Err` is a failed call with that reason).
    pub fn new(answers: impl IntoIterator<Item = Result<ModelAnswer, String>>) -> Self {
        ScriptedModel {
            script: Mutex::new(answers.into_iter().collect()),
            requests: Mutex::new(Vec::new()),
        }
    }

    /// Adds an answer at the end of the script.
    pub fn push(&self, answer: Result<ModelAnswer, String>) {
        lock(&self.script).push_back(answer);
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<ModelRequest> {
        lock(&self.requests).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl LanguageModel for ScriptedModel {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse> {
        lock(&self.requests).push(request.clone());
        let next = lock(&self.script).pop_front();
        match next {
            Some(Ok(answer)) => Ok(ModelResponse {
                answer,
                model: "scripted".to_owned(),
                usage: TokenUsage::default(),
                attempts: 1,
                latency_ms: 0,
            }),
            Some(Err(reason)) => Err(Error::model("calling the scripted model", reason)),
            None => Err(Error::model(
                "calling the scripted model",
                "the script has no more answers",
            )),
        }
    }
}
