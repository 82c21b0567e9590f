//! The one error type of the core. Every variant names what went wrong in words an admin or a
//! billing engineer can act on; the stable [`ErrorCode`] lets bindings and the CLI branch on it.

use std::fmt;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The plan prompt could not be turned into a pricing program; nothing is billed.
    #[error("the plan prompt was not understood: {reason}")]
    PromptNotUnderstood {
        /// What to rephrase, naming the words or the clause that could not be placed.
        reason: String,
    },
    /// AI plans exist only for abstracted accounts.
    #[error(
        "AI plans are available only for abstracted accounts; account {account_id} is not abstracted"
    )]
    PlanNotAvailable {
        /// The account that asked for an AI plan.
        account_id: String,
    },
    /// Two amounts in different currencies met.
    #[error("currency mismatch: expected {expected}, found {found}")]
    CurrencyMismatch {
        /// The currency the operation is in.
        expected: String,
        /// The currency that was offered.
        found: String,
    },
    /// A currency code that is not an ISO 4217 currency with a minor unit.
    #[error(
        "unknown currency {code:?}: use an ISO 4217 code such as USD, EUR, GBP, CAD, AUD or JPY"
    )]
    UnknownCurrency {
        /// The code as given.
        code: String,
    },
    /// A time zone name that is not in the IANA database.
    #[error("unknown time zone {name:?}: use an IANA name such as America/New_York")]
    UnknownTimeZone {
        /// The name as given.
        name: String,
    },
    /// An input field has a value the operation cannot accept.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The field, as a path (`subscription.quantity`, `plan.interval`).
        field: String,
        /// Why the value was refused.
        reason: String,
    },
    /// An amount or count left the range that can be represented exactly.
    #[error("arithmetic overflow while computing {what}")]
    Overflow {
        /// What was being computed.
        what: String,
    },
    /// The period's usage holds units the pricing program has no price for.
    #[error("usage not priced: {reason}")]
    UsageNotPriced {
        /// Which usage (for example Saturday deliveries) the plan prompt gives no price for.
        reason: String,
    },
    /// An agent payload failed validation against the period, currency or arithmetic.
    #[error("invalid agent payload: {}", .problems.join("; "))]
    InvalidPayload {
        /// Every problem found, each naming its field.
        problems: Vec<String>,
    },
    /// The usage query template named by a plan is not one of the predefined ones.
    #[error("unknown usage query {name:?}: the predefined queries are {known}")]
    UnknownUsageQuery {
        /// The name as given.
        name: String,
        /// The names that exist.
        known: String,
    },
    /// Something a call names does not exist.
    #[error("{what} {id:?} was not found")]
    NotFound {
        /// What kind of thing (`account`, `plan`, `subscription`, `customer`).
        what: &'static str,
        /// Its id as given.
        id: String,
    },
    /// What a write would create already exists (an id, an invoice for the period, an event),
    /// or what it would change is no longer at the revision the change was computed from: nothing
    /// was written. A retry of a write that was already done ends here, so a caller can tell it
    /// from a bad request; read the current state before writing again.
    #[error("conflict on {what}: {reason}")]
    Conflict {
        /// What conflicts, as a field path (`subscription.id`, `invoice`, `events.id`).
        what: String,
        /// What is already there, naming it.
        reason: String,
    },
    /// The same thing was changed by someone else while this change was computed, again and
    /// again; nothing was written. Retrying later is safe.
    #[error("{what} {id:?} kept changing while it was being updated; nothing was written")]
    Contended {
        /// What kind of thing.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// A language model call failed for good (after its retries): nothing was billed from it.
    #[error("the language model failed while {action}")]
    Model {
        /// What was being asked (`interpreting plan p`, `renewing subscription s`).
        action: String,
        /// Why: the transport's or the API's error (never a key or an auth header).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The engine was closed; nothing more can be done with it.
    #[error("the {what} is closed")]
    Closed {
        /// What was closed (`engine`).
        what: &'static str,
    },
    /// A storage backend failed.
    #[error("storage failed while {action}")]
    Storage {
        /// What the store was doing.
        action: String,
        /// The backend's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// The result type of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A stable code for each kind of error, for callers that branch (CLI exit codes, JS `err.code`,
/// the C result enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// [`Error::PromptNotUnderstood`] and [`Error::UsageNotPriced`]: the prompt does not say how to bill.
    PromptNotUnderstood,
    /// [`Error::PlanNotAvailable`].
    PlanNotAvailable,
    /// A bad input value: currency, zone, field, usage query.
    InvalidInput,
    /// [`Error::InvalidPayload`].
    InvalidPayload,
    /// [`Error::CurrencyMismatch`] and [`Error::Overflow`]: an internal consistency failure.
    Internal,
    /// [`Error::NotFound`].
    NotFound,
    /// [`Error::Conflict`]: it already exists, or it changed; read it before writing again.
    Conflict,
    /// [`Error::Contended`]: try again.
    Contended,
    /// [`Error::Model`]: the model could not be reached or kept failing.
    Model,
    /// [`Error::Storage`].
    Storage,
    /// [`Error::Closed`]: the engine was closed.
    Closed,
}

impl ErrorCode {
    /// Every code, in the order declared: for what lists them all (the OpenAPI document's
    /// `ErrorCode`). A new code goes here too.
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::PromptNotUnderstood,
        ErrorCode::PlanNotAvailable,
        ErrorCode::InvalidInput,
        ErrorCode::InvalidPayload,
        ErrorCode::Internal,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::Contended,
        ErrorCode::Model,
        ErrorCode::Storage,
        ErrorCode::Closed,
    ];

    /// The code as the bindings spell it (`PROMPT_NOT_UNDERSTOOD`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::PromptNotUnderstood => "PROMPT_NOT_UNDERSTOOD",
            ErrorCode::PlanNotAvailable => "PLAN_NOT_AVAILABLE",
            ErrorCode::InvalidInput => "INVALID_INPUT",
            ErrorCode::InvalidPayload => "INVALID_PAYLOAD",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Contended => "CONTENDED",
            ErrorCode::Model => "MODEL",
            ErrorCode::Storage => "STORAGE",
            ErrorCode::Closed => "CLOSED",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::PromptNotUnderstood { .. } | Error::UsageNotPriced { .. } => {
                ErrorCode::PromptNotUnderstood
            }
            Error::PlanNotAvailable { .. } => ErrorCode::PlanNotAvailable,
            Error::UnknownCurrency { .. }
            | Error::UnknownTimeZone { .. }
            | Error::InvalidInput { .. }
            | Error::UnknownUsageQuery { .. } => ErrorCode::InvalidInput,
            Error::InvalidPayload { .. } => ErrorCode::InvalidPayload,
            Error::CurrencyMismatch { .. } | Error::Overflow { .. } => ErrorCode::Internal,
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::Conflict { .. } => ErrorCode::Conflict,
            Error::Contended { .. } => ErrorCode::Contended,
            Error::Model { .. } => ErrorCode::Model,
            Error::Storage { .. } => ErrorCode::Storage,
            Error::Closed { .. } => ErrorCode::Closed,
        }
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::PromptNotUnderstood`].
    pub fn not_understood(reason: impl Into<String>) -> Self {
        Error::PromptNotUnderstood {
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Conflict`].
    pub fn conflict(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Conflict {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            what,
            id: id.into(),
        }
    }

    /// Shorthand for [`Error::Model`] with a message as the source.
    pub fn model(action: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Model {
            action: action.into(),
            source: reason.into().into(),
        }
    }

    /// Shorthand for [`Error::Overflow`].
    pub fn overflow(what: impl Into<String>) -> Self {
        Error::Overflow { what: what.into() }
    }
}
