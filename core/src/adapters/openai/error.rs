//! The adapter's private error type. It becomes the `source` of [`crate::Error::Model`], so a
//! caller sees the cause chain; every text in it has been through [`redact`] first, so no form of
//! the API key can reach a log or an error message even if a server echoes it.

use std::fmt;
use std::time::Duration;

/// Why one call to the chat completions API failed.
#[derive(Debug)]
pub(crate) enum OpenAiError {
    /// The API answered with an HTTP error status.
    Status {
        /// The status code.
        status: u16,
        /// The API's own error message (`error.message`), redacted, when the body had one.
        message: Option<String>,
        /// The API's error code or type (`invalid_api_key`, `rate_limit_exceeded`), when given.
        code: Option<String>,
    },
    /// No answer arrived within the per-attempt timeout.
    Timeout {
        /// The timeout that elapsed.
        after: Duration,
    },
    /// The request could not be sent or its answer could not be read (connection refused or
    /// reset, TLS, DNS).
    Transport {
        /// reqwest's error (it names the URL, which never carries the key).
        source: reqwest::Error,
    },
    /// The answer was too large to be a chat completion.
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A success status with a body that is not a chat completion.
    Malformed {
        /// The status code.
        status: u16,
        /// What was wrong (the parser's error).
        reason: String,
        /// The start of the body, redacted, to help tell a proxy's error page from an API change.
        excerpt: String,
    },
    /// The answer was cut off at the token limit, so its JSON is incomplete.
    Truncated {
        /// Completion tokens spent on the cut-off answer.
        completion_tokens: u64,
    },
    /// The first choice had neither content nor a refusal.
    Empty {
        /// The choice's `finish_reason`, when given.
        finish_reason: Option<String>,
    },
    /// The model's concurrency limit was closed (it is never closed while the model lives).
    ShutDown,
    /// Retryable failures went on until the retry budget was spent.
    RetriesExhausted {
        /// HTTP attempts made.
        attempts: u32,
        /// The last failure.
        last: Box<OpenAiError>,
    },
}

impl OpenAiError {
    /// Whether another attempt may succeed: 429, 500, 502, 503, 504, timeouts and transport
    /// failures (a builder or redirect error never will).
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            OpenAiError::Status { status, .. } => is_retryable_status(*status),
            OpenAiError::Timeout { .. } => true,
            OpenAiError::Transport { source } => {
                source.is_connect()
                    || source.is_timeout()
                    || source.is_request()
                    || source.is_body()
            }
            OpenAiError::BodyTooLarge { .. }
            | OpenAiError::Malformed { .. }
            | OpenAiError::Truncated { .. }
            | OpenAiError::Empty { .. }
            | OpenAiError::ShutDown
            | OpenAiError::RetriesExhausted { .. } => false,
        }
    }

    /// The HTTP status of the failure, for the tracing span.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            OpenAiError::Status { status, .. } | OpenAiError::Malformed { status, .. } => {
                Some(*status)
            }
            OpenAiError::RetriesExhausted { last, .. } => last.status(),
            _ => None,
        }
    }
}

/// The statuses worth another attempt: rate limiting and the server-side errors a retry can cure.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

impl fmt::Display for OpenAiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenAiError::Status {
                status,
                message,
                code,
            } => {
                let reason = reqwest::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                write!(f, "the API answered HTTP {status} {reason}")?;
                if let Some(code) = code {
                    write!(f, " ({code})")?;
                }
                match message {
                    Some(message) => write!(f, ": {message}"),
                    None => Ok(()),
                }
            }
            OpenAiError::Timeout { after } => {
                write!(
                    f,
                    "no answer within the timeout of {} ms",
                    after.as_millis()
                )
            }
            OpenAiError::Transport { source } if source.is_connect() => {
                f.write_str("could not connect to the API")
            }
            OpenAiError::Transport { source } if source.is_timeout() => {
                f.write_str("the connection timed out")
            }
            OpenAiError::Transport { .. } => {
                f.write_str("the request or its answer failed in transit")
            }
            OpenAiError::BodyTooLarge { limit } => {
                write!(f, "the answer is larger than {limit} bytes")
            }
            OpenAiError::Malformed {
                status,
                reason,
                excerpt,
            } => write!(
                f,
                "the API answered HTTP {status} with a body that is not a chat completion \
                 ({reason}); it starts with {excerpt:?}"
            ),
            OpenAiError::Truncated { completion_tokens } => write!(
                f,
                "the answer was cut off at the token limit after {completion_tokens} completion \
                 tokens (finish_reason \"length\"), so its JSON is incomplete"
            ),
            OpenAiError::Empty { finish_reason } => write!(
                f,
                "the answer has neither content nor a refusal (finish_reason {})",
                finish_reason.as_deref().unwrap_or("missing")
            ),
            OpenAiError::ShutDown => f.write_str("the model was shut down"),
            OpenAiError::RetriesExhausted { attempts, last } => {
                write!(
                    f,
                    "gave up after {attempts} attempts; the last one failed: {last}"
                )
            }
        }
    }
}

impl std::error::Error for OpenAiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OpenAiError::Transport { source } => Some(source),
            _ => None,
        }
    }
}

/// `text` with every occurrence of `secret` replaced by `***`.
pub(crate) fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_replaces_every_occurrence() {
        assert_eq!(redact("a sk-1 b sk-1", "sk-1"), "a *** b ***");
        assert_eq!(redact("nothing", ""), "nothing");
    }

    #[test]
    fn retryable_statuses() {
        for status in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(status), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 422, 501] {
            assert!(!is_retryable_status(status), "{status}");
        }
    }

    #[test]
    fn status_display_names_code_and_message() {
        let error = OpenAiError::Status {
            status: 401,
            message: Some("Incorrect API key provided".to_owned()),
            code: Some("invalid_api_key".to_owned()),
        };
        assert_eq!(
            error.to_string(),
            "the API answered HTTP 401 Unauthorized (invalid_api_key): Incorrect API key provided"
        );
    }
}
