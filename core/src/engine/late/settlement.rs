//! What a renewal's late usage reads and settles, as data: the periods it reads again and the
//! lines, credit notes and history that come of them. Apart from the reading itself
//! (`super`), so the pure renewal step can carry them without depending on the engine.

use crate::credit_note::CreditNote;
use crate::late_usage::{BilledPeriod, LookBack, Reread, UsageHistory};
use crate::store::UsageRequest;
use crate::subscription::Subscription;

use super::super::period::SettledLine;

/// One period billed before that a renewal reads again.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LateRead {
    /// Its place in the renewal state's history.
    pub index: usize,
    /// Billed (within the look-back) or reported (just past it).
    pub look: LookBack,
    /// Its usage window, through the query of the plan that billed it.
    pub request: UsageRequest,
}

/// What late usage a renewal settles.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Late {
    /// The increases, as lines of the renewal's invoice.
    pub lines: Vec<SettledLine>,
    /// The decreases, each a credit note against the invoice of its period.
    pub credit_notes: Vec<CreditNote>,
    /// Every period read again whose usage changed and was settled (kept with the invoice).
    pub settled: Vec<Reread>,
    /// The periods past the look-back whose usage changed: reported.
    pub ignored: Vec<Reread>,
    /// The state's history with the usage now settled.
    pub history: UsageHistory,
}

impl Late {
    /// Nothing late: the state's history as it is.
    pub fn none(state: &Subscription) -> Late {
        Late {
            history: state.billed_usage.clone(),
            ..Late::default()
        }
    }

    /// The history after the renewal billed its own period (`billed`, with usage charges):
    /// every period one renewal older.
    pub fn next_history(&self, billed: Option<BilledPeriod>, lookback: u32) -> UsageHistory {
        self.history.after_renewal(billed, lookback)
    }
}
