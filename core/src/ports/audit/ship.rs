//! Shipping the outbox: [`ship_outbox`] moves pending events from a [`Store`] to an
//! [`AuditSink`] in batches, marks what the sink stored as shipped and what it refused as
//! rejected, and backs off (exponentially, with jitter) while the sink is failing.
//!
//! Nothing is lost: an event leaves the pending list only once the sink has it (shipped) or has
//! refused it for good (rejected, kept in the outbox with its reason). When the sink stays down,
//! [`ship_outbox`] returns its error after [`ShipOptions::max_retries`] retries and every event
//! not yet shipped is still pending for the next run. Shipping never touches billing: the engine
//! writes events to the outbox in its own transactions, whether a shipper runs or not.

use std::time::Duration;

use chrono::Utc;
use tracing::Instrument;

use super::{AuditEvent, AuditSink, ShipReport};
use crate::backoff::jittered;
use crate::error::{Error, Result};
use crate::store::Store;

/// How [`ship_outbox`] batches and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipOptions {
    /// Events per batch (one sink call): at least 1.
    pub batch_size: u32,
    /// Stop after this many batches, even with events left (`None`: until none is pending).
    pub max_batches: Option<u32>,
    /// Retries of one batch while the sink fails (or stores none of it) before giving up.
    pub max_retries: u32,
    /// The wait before the first retry; it doubles at each retry.
    pub initial_backoff: Duration,
    /// The longest wait between two tries.
    pub max_backoff: Duration,
}

impl Default for ShipOptions {
    /// Batches of 500, until nothing is pending, 5 retries from 200 ms up to 10 s apart.
    fn default() -> Self {
        ShipOptions {
            batch_size: 500,
            max_batches: None,
            max_retries: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// What a [`ship_outbox`] run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShipSummary {
    /// Events marked shipped by this run.
    pub shipped: u64,
    /// Events marked rejected by this run (kept in the outbox with the sink's reason).
    pub rejected: u64,
    /// Events still pending in the store when the run ended ([`crate::store::StoreStats`]'s
    /// `audit_pending`): 0 after a full drain, unless events were written meanwhile.
    pub pending: u64,
    /// Batches shipped (sink calls that succeeded).
    pub batches: u32,
}

/// Why shipping stopped: the sink answered, but kept leaving a batch unshipped.
#[derive(Debug, thiserror::Error)]
#[error(
    "the audit sink left all {pending} events of a batch pending (neither stored nor rejected) \
     {attempts} times in a row"
)]
struct NoProgress {
    pending: usize,
    attempts: u32,
}

/// Ships pending events from `store` to `sink` until none is pending or
/// `options.max_batches` batches are done.
///
/// Each batch: `pending_events(batch_size)`, `sink.ship`, then `mark_shipped` for what the sink
/// stored and `mark_rejected` for what it refused. When the sink fails (an `Err`: down, slow,
/// overloaded) or stores nothing of a batch while leaving it pending (every item throttled), the
/// batch is tried again after a backoff that doubles from `initial_backoff` up to `max_backoff`,
/// with jitter (a wait between half and all of it), at most `max_retries` times; then the last
/// error is returned and the events stay pending. A store error is returned at once. Events the
/// sink stored before a failure are already marked, so a later run never ships them again (and
/// if marking failed, shipping them again makes no second copy: the sink keys them by id).
pub async fn ship_outbox(
    store: &dyn Store,
    sink: &dyn AuditSink,
    options: &ShipOptions,
) -> Result<ShipSummary> {
    if options.batch_size == 0 {
        return Err(Error::invalid(
            "ship options.batch_size",
            "must be at least 1 event per batch",
        ));
    }
    let span = tracing::info_span!(
        "ship_outbox",
        batch_size = options.batch_size,
        max_batches = ?options.max_batches,
    );
    async move {
        let mut summary = ShipSummary::default();
        while options
            .max_batches
            .is_none_or(|max| summary.batches < max)
        {
            let events = store.pending_events(options.batch_size).await?;
            if events.is_empty() {
                break;
            }
            let report = ship_batch(sink, &events, options)
                .instrument(tracing::debug_span!(
                    "ship_batch",
                    batch = summary.batches,
                    events = events.len()
                ))
                .await?;
            let at = Utc::now();
            store.mark_shipped(&report.shipped, at).await?;
            store.mark_rejected(&report.rejected, at).await?;
            for (id, reason) in &report.rejected {
                tracing::warn!(event_id = %id, %reason, "the audit sink rejected an event; it stays in the outbox as rejected");
            }
            summary.shipped += report.shipped.len() as u64;
            summary.rejected += report.rejected.len() as u64;
            summary.batches += 1;
        }
        summary.pending = store.stats().await?.audit_pending;
        tracing::info!(
            shipped = summary.shipped,
            rejected = summary.rejected,
            pending = summary.pending,
            batches = summary.batches,
            "outbox shipped"
        );
        Ok(summary)
    }
    .instrument(span)
    .await
}

/// One batch through the sink, retried with backoff while the sink fails or makes no progress.
async fn ship_batch(
    sink: &dyn AuditSink,
    events: &[AuditEvent],
    options: &ShipOptions,
) -> Result<ShipReport> {
    let mut retry = 0;
    loop {
        let failure = match sink.ship(events).await {
            Ok(report) if !report.shipped.is_empty() || !report.rejected.is_empty() => {
                return Ok(report);
            }
            Ok(_) => Error::Storage {
                action: "shipping audit events".into(),
                source: Box::new(NoProgress {
                    pending: events.len(),
                    attempts: retry + 1,
                }),
            },
            Err(error) => error,
        };
        if retry >= options.max_retries {
            tracing::warn!(
                retries = retry,
                error = %failure,
                "the audit sink is still failing; the events stay pending"
            );
            return Err(failure);
        }
        let wait = backoff(options, retry);
        tracing::info!(
            retry = retry + 1,
            wait_ms = wait.as_millis() as u64,
            error = %failure,
            "the audit sink failed; retrying after a backoff"
        );
        tokio::time::sleep(wait).await;
        retry += 1;
    }
}

/// The wait before retry `retry + 1` ([`jittered`] within the options' bounds).
fn backoff(options: &ShipOptions, retry: u32) -> Duration {
    jittered(options.initial_backoff, options.max_backoff, retry)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    use async_trait::async_trait;
    use chrono::TimeZone;

    use super::*;
    use crate::audit::{AuditAction, MemoryAuditSink, SubjectKind};
    use crate::store::{AuditOutbox as _, BillingState as _, MemoryStore};

    /// Fails its first `failures` calls, then stores every event but `reject` (refused with a
    /// reason) and `throttled` (left pending, as an item answered 429).
    #[derive(Debug)]
    struct FlakySink {
        failures: AtomicU32,
        calls: AtomicU32,
        reject: Option<String>,
        throttled: Mutex<HashSet<String>>,
        inner: MemoryAuditSink,
    }

    impl FlakySink {
        fn new(failures: u32, reject: Option<String>) -> Self {
            FlakySink {
                failures: AtomicU32::new(failures),
                calls: AtomicU32::new(0),
                reject,
                throttled: Mutex::new(HashSet::new()),
                inner: MemoryAuditSink::default(),
            }
        }
    }

    #[async_trait]
    impl AuditSink for FlakySink {
        async fn ship(&self, events: &[AuditEvent]) -> Result<ShipReport> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self
                .failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                })
                .is_ok()
            {
                return Err(Error::Storage {
                    action: "shipping to the flaky sink".into(),
                    source: "connection refused".into(),
                });
            }
            let throttled = self.throttled.lock().unwrap().clone();
            let mut report = ShipReport::default();
            let mut stored = Vec::new();
            for event in events {
                if Some(&event.id) == self.reject.as_ref() {
                    report
                        .rejected
                        .push((event.id.clone(), "mapper_parsing_exception: bad".into()));
                } else if !throttled.contains(&event.id) {
                    stored.push(event.clone());
                }
            }
            report.shipped = self.inner.ship(&stored).await?.shipped;
            Ok(report)
        }
    }

    fn fast(max_retries: u32) -> ShipOptions {
        ShipOptions {
            batch_size: 4,
            max_batches: None,
            max_retries,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
        }
    }

    async fn store_with(n: usize) -> (MemoryStore, Vec<AuditEvent>) {
        let store = MemoryStore::new();
        let time = Utc.with_ymd_and_hms(2026, 1, 15, 5, 0, 0).unwrap();
        let events: Vec<AuditEvent> = (0..n)
            .map(|i| {
                AuditEvent::new(
                    time,
                    "acct_1",
                    "system",
                    AuditAction::InvoiceIssued,
                    SubjectKind::Invoice,
                    format!("in_{i}"),
                )
            })
            .collect();
        store.append_events(&events).await.unwrap();
        (store, events)
    }

    #[tokio::test]
    async fn drains_through_failures_and_keeps_the_rejected_event() {
        let (store, events) = store_with(10).await;
        let sink = FlakySink::new(2, Some(events[5].id.clone()));
        let summary = ship_outbox(&store, &sink, &fast(3)).await.unwrap();
        assert_eq!(
            summary,
            ShipSummary {
                shipped: 9,
                rejected: 1,
                pending: 0,
                batches: 3,
            }
        );
        // Two failures, then three batches (4 + 4 + 2).
        assert_eq!(sink.calls.load(Ordering::SeqCst), 5);
        assert_eq!(sink.inner.events().len(), 9);
        let rejected = store.rejected_events(10).await.unwrap();
        assert_eq!(
            rejected,
            vec![(
                events[5].clone(),
                "mapper_parsing_exception: bad".to_owned()
            )]
        );
        let stats = store.stats().await.unwrap();
        assert_eq!((stats.audit_pending, stats.audit_rejected), (0, 1));

        // Nothing left: a second run ships nothing and calls the sink no more.
        let again = ship_outbox(&store, &sink, &fast(3)).await.unwrap();
        assert_eq!(again, ShipSummary::default());
        assert_eq!(sink.calls.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn gives_up_after_its_retries_and_loses_nothing() {
        let (store, _) = store_with(6).await;
        let sink = FlakySink::new(10, None);
        let error = ship_outbox(&store, &sink, &fast(2)).await.unwrap_err();
        assert!(error.to_string().contains("flaky sink"), "{error}");
        assert_eq!(
            sink.calls.load(Ordering::SeqCst),
            3,
            "one try and 2 retries"
        );
        assert_eq!(store.stats().await.unwrap().audit_pending, 6);
        assert!(sink.inner.events().is_empty());

        // Up again: all of it goes.
        sink.failures.store(0, Ordering::SeqCst);
        let summary = ship_outbox(&store, &sink, &fast(2)).await.unwrap();
        assert_eq!((summary.shipped, summary.pending), (6, 0));
    }

    #[tokio::test]
    async fn a_batch_left_all_pending_is_retried_then_reported() {
        let (store, events) = store_with(3).await;
        let sink = FlakySink::new(0, None);
        sink.throttled
            .lock()
            .unwrap()
            .extend(events.iter().map(|event| event.id.clone()));
        let error = ship_outbox(&store, &sink, &fast(1)).await.unwrap_err();
        let chain = format!("{error}: {}", std::error::Error::source(&error).unwrap());
        assert!(chain.contains("left all 3 events"), "{chain}");
        assert_eq!(store.stats().await.unwrap().audit_pending, 3);
    }

    #[tokio::test]
    async fn max_batches_stops_early() {
        let (store, _) = store_with(10).await;
        let sink = FlakySink::new(0, None);
        let options = ShipOptions {
            max_batches: Some(2),
            ..fast(0)
        };
        let summary = ship_outbox(&store, &sink, &options).await.unwrap();
        assert_eq!(
            (summary.shipped, summary.pending, summary.batches),
            (8, 2, 2)
        );
    }

    #[tokio::test]
    async fn a_zero_batch_size_is_refused() {
        let (store, _) = store_with(1).await;
        let options = ShipOptions {
            batch_size: 0,
            ..ShipOptions::default()
        };
        let error = ship_outbox(&store, &MemoryAuditSink::default(), &options)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("batch_size"), "{error}");
    }

    #[test]
    fn backoff_doubles_within_its_bounds() {
        let options = ShipOptions {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            ..ShipOptions::default()
        };
        for (retry, full) in [
            (0, 100),
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1000),
            (40, 1000),
        ] {
            for _ in 0..20 {
                let wait = backoff(&options, retry);
                let full = Duration::from_millis(full);
                assert!(wait >= full / 2 && wait <= full, "{retry}: {wait:?}");
            }
        }
    }
}
