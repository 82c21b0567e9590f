//! The [`Clock`] port: where the engine reads "now", so tests and replays can fix it.

use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, SubsecRound, Utc};

/// The source of the current instant. Held as `Arc<dyn Clock>`.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current instant, in whole microseconds (what every store keeps exactly).
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that says what it is told: tests and `ai-billing run --until`.
#[derive(Debug)]
pub struct FixedClock {
    now: Mutex<DateTime<Utc>>,
}

impl FixedClock {
    /// A clock stopped at `now` (truncated to whole microseconds).
    pub fn new(now: DateTime<Utc>) -> Self {
        FixedClock {
            now: Mutex::new(now.trunc_subsecs(6)),
        }
    }

    /// Moves the clock to `now`.
    pub fn set(&self, now: DateTime<Utc>) {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = now.trunc_subsecs(6);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
