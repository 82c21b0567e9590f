//! How the CLI fails: one error, printed once on stderr with its cause chain, and an exit status
//! that callers branch on.
//!
//! | status | meaning                                                                  |
//! |--------|--------------------------------------------------------------------------|
//! | 0      | success                                                                  |
//! | 1      | anything else (storage, an internal consistency failure, an I/O error)  |
//! | 2      | malformed input: an unreadable file, bad JSON, a field the library refuses |
//! | 3      | the plan prompt could not be interpreted: nothing is billed              |

use std::error::Error as StdError;
use std::fmt;
use std::io::Write;
use std::process::ExitCode;

use ai_billing::{Error, ErrorCode};

/// The exit status of a malformed input.
pub const EXIT_INVALID_INPUT: u8 = 2;
/// The exit status of a refused plan prompt.
pub const EXIT_NOT_UNDERSTOOD: u8 = 3;
/// The exit status of every other failure.
pub const EXIT_OTHER: u8 = 1;

/// A failed command: what was being done (optional), the error, and the exit status.
#[derive(Debug)]
pub struct Failure {
    status: u8,
    context: Option<String>,
    error: Box<dyn StdError + Send + Sync + 'static>,
    hint: Option<String>,
}

/// The result of a command.
pub type CliResult<T = ()> = Result<T, Failure>;

impl Failure {
    /// A malformed input, with what was being done (`reading scenario file x.json`).
    pub fn invalid_input(
        context: impl Into<String>,
        error: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Failure {
            status: EXIT_INVALID_INPUT,
            context: Some(context.into()),
            error: error.into(),
            hint: None,
        }
    }

    /// Any other failure, with what was being done.
    pub fn other(
        context: impl Into<String>,
        error: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Failure {
            status: EXIT_OTHER,
            context: Some(context.into()),
            error: error.into(),
            hint: None,
        }
    }

    /// Adds what was being done when `self` happened (kept only if there is none yet: the
    /// innermost context is the most precise).
    pub fn context(mut self, context: impl Into<String>) -> Self {
        if self.context.is_none() {
            self.context = Some(context.into());
        }
        self
    }

    /// Adds a suggestion, printed last as `hint: ...`.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The process exit status.
    pub fn status(&self) -> u8 {
        self.status
    }

    /// Writes `error: ...`, one `caused by: ...` line per source, once each, and the hint if any.
    pub fn report(&self, out: &mut dyn Write) {
        let mut lines = Vec::new();
        if let Some(context) = &self.context {
            lines.push(context.clone());
        }
        let mut next: Option<&(dyn StdError + 'static)> = Some(self.error.as_ref());
        while let Some(error) = next {
            let text = error.to_string();
            // Some errors repeat their source's text in their own message; print it once.
            if lines.last().is_none_or(|last| !last.contains(&text)) {
                lines.push(text);
            }
            next = error.source();
        }
        let mut first = true;
        for line in lines {
            let prefix = if first { "error" } else { "caused by" };
            first = false;
            // stderr is gone if this fails; there is nowhere else to say so.
            let _ = writeln!(out, "{prefix}: {line}");
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "hint: {hint}");
        }
    }

    /// Reports on stderr and gives the exit code.
    pub fn exit(self) -> ExitCode {
        self.report(&mut std::io::stderr().lock());
        ExitCode::from(self.status())
    }
}

/// The exit status of a library error, from its stable code.
pub fn status_of(error: &Error) -> u8 {
    match error.code() {
        ErrorCode::PromptNotUnderstood => EXIT_NOT_UNDERSTOOD,
        ErrorCode::InvalidInput | ErrorCode::PlanNotAvailable => EXIT_INVALID_INPUT,
        _ => EXIT_OTHER,
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            status: status_of(&error),
            context: None,
            error: Box::new(error),
            hint: None,
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Failure {
            status: EXIT_OTHER,
            context: None,
            error: Box::new(error),
            hint: None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.report(&mut out);
        f.write_str(String::from_utf8_lossy(&out).trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(failure: &Failure) -> String {
        let mut out = Vec::new();
        failure.report(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn codes_map_to_exit_statuses() {
        assert_eq!(Failure::from(Error::not_understood("vague")).status(), 3);
        assert_eq!(
            Failure::from(Error::invalid("plan.currency", "unknown")).status(),
            2
        );
        assert_eq!(
            Failure::from(Error::PlanNotAvailable {
                account_id: "a".into()
            })
            .status(),
            2
        );
        assert_eq!(Failure::from(Error::overflow("sum")).status(), 1);
        // Already there (or changed): not a malformed input, so the general failure status.
        assert_eq!(
            Failure::from(Error::conflict("subscription.id", "exists")).status(),
            1
        );
    }

    #[test]
    fn the_cause_chain_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let failure = Failure::invalid_input("cannot read scenario file x.json", io);
        assert_eq!(
            rendered(&failure),
            "error: cannot read scenario file x.json\ncaused by: No such file or directory\n"
        );

        let storage = Error::Storage {
            action: "opening the database".into(),
            source: Box::new(std::fmt::Error),
        };
        assert_eq!(
            rendered(&Failure::from(storage)),
            "error: storage failed while opening the database\ncaused by: an error occurred when formatting an argument\n"
        );
    }
}
