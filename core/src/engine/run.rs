//! Billing runs: the batched driver around the renewal step ([`super::step`]), and the runs
//! that feed it.
//!
//! The driver takes a batch of subscriptions (a claimed page of a run, or one subscription),
//! plans every period each owes from its state alone, reads the customers in one call and the
//! usage of every period in one call, bills each period with the step (asking the model, in the
//! agent modes, and the tax calculator between its pure parts), and commits the batch in one
//! [`crate::store::Store::commit_claimed`] (each renewal atomic on its own, over the revision it was computed
//! from). A renewal the store did not take as it was (someone changed the subscription, the
//! period was billed) is renewed again through the same driver, as a batch of one, from its
//! state in the store then. So a page of a run, [`Engine::renew_subscription`], a renewal in the
//! agent modes and a retry after a conflict are one code path.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::audit::new_id;
use crate::error::{Error, Result};
use crate::store::{ClaimedPage, CommitOutcome, DueQuery, SubscriptionCommit, UsageRequest};
use crate::subscription::{InvoiceStatus, Subscription};
use crate::usage::PeriodUsage;

use super::agent::{self, AgentCall};
use super::cache::RunCache;
use super::events::{self, Trail};
use super::late;
use super::step::{self, Renewal, Settled, Terms};
use super::{Engine, MAX_ATTEMPTS, SYSTEM_ACTOR, wait_busy};

/// How many due subscriptions are read per page of a run.
const DUE_PAGE: u32 = 256;

/// How many due subscriptions a run in the compiled mode claims, bills and writes at once.
const BATCH_PAGE: u32 = 256;

/// The most pages of the compiled mode in flight at once (`concurrency` when it is lower).
const MAX_PAGES_IN_FLIGHT: usize = 2;

/// Where the next page of due subscriptions starts: `Some(None)` at the beginning,
/// `Some(Some(key))` after that (account, id), `None` when there is no next page.
type Cursor = Option<Option<(String, String)>>;

/// After a page of up to `limit` due subscriptions in (account, id) order: `None` when the page
/// is empty (the run is over), else the cursor of the next page, which is `None` when this page
/// came back short (nothing after it).
fn next_cursor(page: &[Subscription], limit: u32) -> Option<Cursor> {
    let last = page.last()?;
    Some((page.len() >= limit as usize).then(|| Some((last.account_id.clone(), last.id.clone()))))
}

/// Called after each subscription a run has handled.
pub type ProgressFn = Arc<dyn Fn(&RunReport) + Send + Sync>;

/// A billing run.
#[derive(Clone, Default)]
pub struct RunDue {
    /// Bill everything due at or before this instant; the clock's now when `None`. Never later
    /// than the clock's now ([`Error::InvalidInput`] on `now`): no invoice before its time.
    pub now: Option<DateTime<Utc>>,
    /// Told the totals so far after each subscription (for a progress bar).
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for RunDue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunDue")
            .field("now", &self.now)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct RunReport {
    /// The run's id in the audit trail.
    pub run_id: String,
    /// Subscriptions handled.
    pub subscriptions: u64,
    /// Invoices issued.
    pub issued: u64,
    /// Invoices held for review.
    pub held: u64,
    /// Renewals that failed (each left its subscription as it was, with a `renewal_failed` event).
    pub failed: u64,
    /// The first failures: (account id, subscription id, error).
    pub failures: Vec<(String, String, String)>,
}

/// The most failures a [`RunReport`] lists (all are counted, and all are in the audit trail).
const MAX_LISTED_FAILURES: usize = 20;

/// What one subscription's renewals did in a run.
#[derive(Debug, Default)]
struct Renewed {
    issued: u64,
    held: u64,
    failure: Option<Error>,
}

/// What one pass of the driver did for one subscription of its batch.
#[derive(Debug, Default)]
struct Driven {
    renewed: Renewed,
    /// The store did not take a renewal as it was: renew it again from its state then.
    again: bool,
    /// Another writer held the subscription (so `again` is no conflict, after a wait).
    busy: bool,
}

/// A renewal that failed: the state it failed in, why, and the model calls it made.
#[derive(Debug)]
struct Failed {
    state: Subscription,
    error: Error,
    calls: Vec<AgentCall>,
    correlation: String,
}

impl Failed {
    fn new(state: Subscription, error: Error) -> Self {
        Failed {
            state,
            error,
            calls: Vec::new(),
            correlation: new_id(),
        }
    }
}

/// One subscription of a batch: what it is billed under, the periods it owes, its failure.
#[derive(Debug, Default)]
struct Subject {
    /// What it is billed under: one terms, and one more for each plan change that takes effect
    /// in the batch.
    terms: Vec<Terms>,
    /// The periods it owes, each with the index of its terms.
    renewals: Vec<(usize, Renewal)>,
    failure: Option<Failed>,
}

impl Engine {
    /// Renews one subscription as [`Engine::run_due`] would at `now` (every period it owes, in
    /// order), but ends with the renewal's error when one fails (after recording it) instead of
    /// counting it: for callers that bill one subscription and must know why it failed. A `now`
    /// later than the clock's is refused, as by [`Engine::run_due`].
    pub async fn renew_subscription(
        &self,
        account_id: &str,
        subscription_id: &str,
        now: DateTime<Utc>,
    ) -> Result<RunReport> {
        self.not_ahead_of_clock(now)?;
        let subscription = self.subscription(account_id, subscription_id).await?;
        let run_id = new_id();
        let renewed = self
            .renew_one(subscription, now, &run_id, &RunCache::default())
            .await;
        if let Some(error) = renewed.failure {
            return Err(error);
        }
        Ok(RunReport {
            run_id,
            subscriptions: 1,
            issued: renewed.issued,
            held: renewed.held,
            ..RunReport::default()
        })
    }

    /// Renews every subscription whose next invoice is due at `request.now` (the clock's now by
    /// default), catching up every period it owes, in one store transaction per invoice.
    ///
    /// Resumable and safe to run twice or at once: a period already billed is never billed again,
    /// and one that is due is never skipped. A renewal that fails leaves its subscription as it
    /// was, writes a `renewal_failed` event, and the run goes on with the next subscription.
    /// Errors of the run itself (the store cannot list due subscriptions) end it.
    #[tracing::instrument(name = "run_due", skip_all, fields(now = ?request.now, run_id = tracing::field::Empty, mode = self.mode.as_str()))]
    pub async fn run_due(&self, request: &RunDue) -> Result<RunReport> {
        let now = match request.now {
            Some(now) => {
                self.not_ahead_of_clock(now)?;
                now
            }
            None => self.clock.now(),
        };
        let mut report = RunReport {
            run_id: new_id(),
            ..RunReport::default()
        };
        tracing::Span::current().record("run_id", report.run_id.as_str());
        let cache = RunCache::default();
        let run_id = report.run_id.clone();
        if !self.mode.uses_model() {
            self.run_pages(request, now, &Arc::new(cache), &mut report)
                .await?;
            tracing::info!(
                subscriptions = report.subscriptions,
                issued = report.issued,
                failed = report.failed,
                "run finished"
            );
            return Ok(report);
        }
        // The agent modes: one subscription at a time per slot, since each renewal waits on a
        // model. Due subscriptions as one stream, the next page read while the last renewals of the
        // previous one are still in flight, so no renewal slot idles at a page boundary.
        // The page futures own a clone of the engine (a few `Arc`s): a future borrowing `self`
        // from inside the closure is not provably `Send` to rustc.
        let engine = self.clone();
        let due = stream::try_unfold(Some(None), move |cursor| {
            let engine = engine.clone();
            async move { engine.due_page(now, cursor).await }
        })
        .map_ok(|page| stream::iter(page.into_iter().map(Ok::<_, Error>)))
        .try_flatten();
        let results = due
            .map(|subscription| {
                let (cache, run_id) = (&cache, run_id.as_str());
                async move {
                    let subscription = subscription?;
                    let key = (subscription.account_id.clone(), subscription.id.clone());
                    Ok::<_, Error>((key, self.renew_one(subscription, now, run_id, cache).await))
                }
            })
            .buffer_unordered(self.concurrency);
        let mut results = std::pin::pin!(results);
        while let Some(result) = results.next().await {
            let ((account_id, subscription_id), renewed) = result?;
            report.subscriptions += 1;
            report.issued += renewed.issued;
            report.held += renewed.held;
            if let Some(failure) = renewed.failure {
                report.failed += 1;
                if report.failures.len() < MAX_LISTED_FAILURES {
                    report
                        .failures
                        .push((account_id, subscription_id, failure.to_string()));
                }
            }
            if let Some(progress) = &request.progress {
                progress(&report);
            }
        }
        tracing::info!(
            subscriptions = report.subscriptions,
            issued = report.issued,
            failed = report.failed,
            "run finished"
        );
        Ok(report)
    }

    /// Refuses to bill up to an instant the clock has not reached: the invoices due by then would
    /// be issued before their issue instant, on whatever usage exists now, and the usage that
    /// comes later in their periods would never be billed. [`Error::InvalidInput`] on `now`,
    /// naming the instant asked and the clock's now.
    fn not_ahead_of_clock(&self, now: DateTime<Utc>) -> Result<()> {
        let clock = self.clock.now();
        if now <= clock {
            return Ok(());
        }
        let show = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        Err(Error::invalid(
            "now",
            format!(
                "cannot bill up to {}: it is later than now on the engine's clock ({}); a run \
                 bills only what is due by now, so run again once that time has come",
                show(now),
                show(clock)
            ),
        ))
    }

    /// The page of due subscriptions after `cursor` and the cursor of the next (`None` once a
    /// page comes back short). A named `async fn` rather than a closure's async block, so the
    /// run's future is `Send` (`core/tests/send.rs`) and can run on any multi-thread runtime.
    async fn due_page(
        &self,
        now: DateTime<Utc>,
        cursor: Cursor,
    ) -> Result<Option<(Vec<Subscription>, Cursor)>> {
        let Some(after) = cursor else {
            return Ok(None);
        };
        let page = self
            .store
            .due_subscriptions(&DueQuery {
                due_by: now,
                after,
                limit: DUE_PAGE,
            })
            .await?;
        Ok(next_cursor(&page, DUE_PAGE).map(|next| (page, next)))
    }

    /// As [`Engine::due_page`], claiming the page ([`Store::claim_due`]).
    async fn claim_page(
        &self,
        now: DateTime<Utc>,
        cursor: Cursor,
    ) -> Result<Option<(ClaimedPage, Cursor)>> {
        let Some(after) = cursor else {
            return Ok(None);
        };
        let page = self
            .store
            .claim_due(&DueQuery {
                due_by: now,
                after,
                limit: BATCH_PAGE,
            })
            .await?;
        Ok(next_cursor(&page.subscriptions, BATCH_PAGE).map(|next| (page, next)))
    }

    /// The compiled mode's run: pages of due subscriptions claimed from the store, each page
    /// read, billed and written in a few statements ([`Engine::renew_batch`]), several pages in
    /// flight at once. A second pass from the start picks up what the first skipped because
    /// another run held it and then let it go (a page rolled back, a process killed); the
    /// subscriptions that failed in this run are not tried again.
    async fn run_pages(
        &self,
        request: &RunDue,
        now: DateTime<Utc>,
        cache: &Arc<RunCache>,
        report: &mut RunReport,
    ) -> Result<()> {
        let run_id = report.run_id.clone();
        let mut failed: HashSet<(String, String)> = HashSet::new();
        for pass in 0..2 {
            let renewed_before = report.subscriptions;
            let engine = self.clone();
            let claims = stream::try_unfold(Some(None), move |cursor| {
                let engine = engine.clone();
                async move { engine.claim_page(now, cursor).await }
            });
            // The failures of the passes before (few): not tried again in this run.
            let failed_before = &failed.clone();
            let mut failed_now = Vec::new();
            let results = claims
                .map(|page| {
                    let run_id = run_id.as_str();
                    async move {
                        let mut page = page?;
                        page.subscriptions.retain(|subscription| {
                            !failed_before.contains(&(
                                subscription.account_id.clone(),
                                subscription.id.clone(),
                            ))
                        });
                        let engine = self.clone();
                        let (cache, run_id) = (cache.clone(), run_id.to_owned());
                        let work =
                            async move { engine.renew_batch(page, now, &run_id, &cache).await };
                        // On a multi-thread runtime each page is a task of its own, so billing
                        // (pricing, tax, the events' JSON) runs on every core; elsewhere the
                        // page runs here.
                        Ok::<_, Error>(match tokio::runtime::Handle::try_current() {
                            Ok(runtime)
                                if runtime.runtime_flavor()
                                    == tokio::runtime::RuntimeFlavor::MultiThread =>
                            {
                                match runtime.spawn(work).await {
                                    Ok(renewed) => renewed,
                                    Err(error) if error.is_panic() => {
                                        std::panic::resume_unwind(error.into_panic())
                                    }
                                    Err(error) => {
                                        return Err(Error::Storage {
                                            action: "renewing a page of subscriptions".into(),
                                            source: Box::new(error),
                                        });
                                    }
                                }
                            }
                            _ => work.await,
                        })
                    }
                })
                .buffer_unordered(self.concurrency.min(MAX_PAGES_IN_FLIGHT));
            let mut results = std::pin::pin!(results);
            while let Some(result) = results.next().await {
                for ((account_id, subscription_id), renewed) in result? {
                    report.subscriptions += 1;
                    report.issued += renewed.issued;
                    report.held += renewed.held;
                    if let Some(failure) = renewed.failure {
                        report.failed += 1;
                        if report.failures.len() < MAX_LISTED_FAILURES {
                            report.failures.push((
                                account_id.clone(),
                                subscription_id.clone(),
                                failure.to_string(),
                            ));
                        }
                        failed_now.push((account_id, subscription_id));
                    }
                    if let Some(progress) = &request.progress {
                        progress(report);
                    }
                }
            }
            failed.extend(failed_now);
            if pass == 0 && report.subscriptions == renewed_before {
                // Nothing was due: there is nothing a second pass could find.
                break;
            }
        }
        Ok(())
    }

    /// Renews one subscription: a batch of one.
    async fn renew_one(
        &self,
        subscription: Subscription,
        now: DateTime<Utc>,
        run_id: &str,
        cache: &RunCache,
    ) -> Renewed {
        self.renew_batch(
            ClaimedPage::unlocked(vec![subscription]),
            now,
            run_id,
            cache,
        )
        .await
        .pop()
        .map(|(_, renewed)| renewed)
        .unwrap_or_default()
    }

    /// The driver: renews a batch of subscriptions until each owes nothing due at `now` or a
    /// renewal fails ([`Engine::drive`]); each that the store did not take as it was is read
    /// again and renewed again, as a batch of one, at most [`MAX_ATTEMPTS`] times in all.
    async fn renew_batch(
        &self,
        page: ClaimedPage,
        now: DateTime<Utc>,
        run_id: &str,
        cache: &RunCache,
    ) -> Vec<((String, String), Renewed)> {
        let keys: Vec<(String, String)> = page
            .subscriptions
            .iter()
            .map(|s| (s.account_id.clone(), s.id.clone()))
            .collect();
        let driven = self.drive(page, now, run_id, cache).await;
        let mut out = Vec::with_capacity(keys.len());
        for (key, first) in keys.into_iter().zip(driven) {
            let mut renewed = first.renewed;
            let mut again = first.again;
            let mut conflicts = 0;
            let mut busy = first.busy;
            let (since, mut waits) = (std::time::Instant::now(), 0);
            while again {
                if std::mem::take(&mut busy) && wait_busy(since, waits).await {
                    // Another writer holds it: waited for, no conflict.
                    waits += 1;
                } else {
                    conflicts += 1;
                }
                let current = match self.store.subscription(&key.0, &key.1).await {
                    Ok(Some(current)) => current,
                    Ok(None) => break,
                    Err(error) => {
                        renewed.failure = Some(error);
                        break;
                    }
                };
                if conflicts >= MAX_ATTEMPTS {
                    let error = Error::Contended {
                        what: "subscription",
                        id: key.1.clone(),
                    };
                    self.record_failure(&Failed::new(current, error), run_id)
                        .await;
                    renewed.failure = Some(Error::Contended {
                        what: "subscription",
                        id: key.1.clone(),
                    });
                    break;
                }
                let retried = self
                    .drive(ClaimedPage::unlocked(vec![current]), now, run_id, cache)
                    .await
                    .pop()
                    .unwrap_or_default();
                renewed.issued += retried.renewed.issued;
                renewed.held += retried.renewed.held;
                renewed.failure = retried.renewed.failure;
                again = retried.again;
                busy = retried.busy;
            }
            out.push((key, renewed));
        }
        out
    }

    /// One pass of the driver over a batch ([`Engine::drive_batch`]). When the batch's reads or
    /// its write fail as a whole, a batch of several comes back all `again` (each is renewed on
    /// its own), and a batch of one fails with the error.
    async fn drive(
        &self,
        page: ClaimedPage,
        now: DateTime<Utc>,
        run_id: &str,
        cache: &RunCache,
    ) -> Vec<Driven> {
        let subscriptions = page.subscriptions.clone();
        match self
            .drive_batch(page, &subscriptions, now, run_id, cache)
            .await
        {
            Ok(driven) => driven,
            Err(_) if subscriptions.len() > 1 => subscriptions
                .iter()
                .map(|_| Driven {
                    again: true,
                    ..Driven::default()
                })
                .collect(),
            Err(error) => match subscriptions.into_iter().next() {
                Some(state) => {
                    let failed = Failed::new(state, error);
                    self.record_failure(&failed, run_id).await;
                    vec![Driven {
                        renewed: Renewed {
                            failure: Some(failed.error),
                            ..Renewed::default()
                        },
                        again: false,
                        busy: false,
                    }]
                }
                None => Vec::new(),
            },
        }
    }

    /// Plans every period each of the page's `subscriptions` owes ([`step::owed`]), reads the
    /// customers in one call and the usage of every period in one call, bills each period with
    /// the step, and writes it all in one [`crate::store::Store::commit_claimed`]. A
    /// subscription stops at its first failure (what it owed before is still written, as
    /// renewing one period at a time would); its failure is recorded unless it is renewed again.
    async fn drive_batch(
        &self,
        page: ClaimedPage,
        subscriptions: &[Subscription],
        now: DateTime<Utc>,
        run_id: &str,
        cache: &RunCache,
    ) -> Result<Vec<Driven>> {
        let count = subscriptions.len();
        let keys: Vec<(String, String)> = subscriptions
            .iter()
            .map(|s| (s.account_id.clone(), s.customer_id.clone()))
            .collect();
        let customers = self.store.customers(&keys).await?;
        if customers.len() != count {
            return Err(Error::overflow("the customers of a page"));
        }

        // Every period each subscription owes, planned from its state alone.
        let written_at = self.clock.now();
        let mut subjects = Vec::with_capacity(count);
        for (subscription, customer) in subscriptions.iter().zip(customers) {
            subjects.push(
                self.subject(subscription, customer, now, written_at, cache)
                    .await,
            );
        }
        // The first period each subscription owes reads again the periods billed before it.
        for subject in &mut subjects {
            let first = subject
                .renewals
                .iter_mut()
                .find(|(_, renewal)| renewal.kind == step::RenewalKind::Period);
            if let Some((terms_index, renewal)) = first
                && let Some(terms) = subject.terms.get(*terms_index)
            {
                renewal.late_reads = late::reads(terms, &renewal.state, terms.lookback);
            }
        }
        let requests: Vec<UsageRequest> = subjects
            .iter()
            .flat_map(|s| {
                s.renewals.iter().flat_map(|(_, r)| {
                    r.usage
                        .iter()
                        .cloned()
                        .chain(r.late_reads.iter().map(|read| read.request.clone()))
                })
            })
            .collect();
        let usages = self.store.usage_many(&requests).await?;
        if usages.len() != requests.len() {
            return Err(Error::overflow("the usage of a page"));
        }
        let mut usages = usages.into_iter();

        // Bill each period with the step.
        let mut commits: Vec<SubscriptionCommit> = Vec::new();
        let mut commit_of = Vec::new();
        for (index, subject) in subjects.iter_mut().enumerate() {
            let renewals = std::mem::take(&mut subject.renewals);
            let mut previous: Option<Subscription> = None;
            for (terms_index, mut renewal) in renewals {
                let usage = match renewal.usage {
                    Some(_) => usages.next().map(|usage| usage.map(Some)),
                    None => Some(Ok(None)),
                };
                let late_usage: Option<Result<Vec<PeriodUsage>>> = (0..renewal.late_reads.len())
                    .map(|_| usages.next())
                    .collect::<Option<Result<Vec<_>>>>();
                if subject.failure.is_some() {
                    continue;
                }
                if let Some(previous) = &previous {
                    renewal.follow(previous);
                }
                let Some(terms) = subject.terms.get(terms_index) else {
                    continue;
                };
                let correlation = new_id();
                let trail = self.trail(SYSTEM_ACTOR, Some(run_id), &correlation, written_at);
                if !renewal.issues_invoice() {
                    commit_of.push((index, None));
                    let commit = step::close_commit(&renewal, &trail);
                    previous = Some(commit.subscription.clone());
                    commits.push(commit);
                    continue;
                }
                let mut calls = Vec::new();
                let billed = match (usage, late_usage) {
                    (Some(Ok(usage)), Some(Ok(late_usage))) => {
                        match self.read(terms, &renewal, usage, &late_usage, cache).await {
                            Ok(read) => {
                                self.bill_renewal(terms, &renewal, read, &trail, &mut calls)
                                    .await
                            }
                            Err(error) => Err(error),
                        }
                    }
                    (Some(Err(error)), _) | (_, Some(Err(error))) => Err(error),
                    _ => Err(Error::overflow("the usage of a page")),
                };
                match billed {
                    Ok(settled) => {
                        commit_of.push((index, Some(settled.invoice.status)));
                        previous = Some(settled.next.clone());
                        commits.push(settled.into_commit());
                    }
                    Err(error) => {
                        subject.failure = Some(Failed {
                            state: renewal.state,
                            error,
                            calls,
                            correlation,
                        });
                    }
                }
            }
        }

        let mut driven: Vec<Driven> = (0..count).map(|_| Driven::default()).collect();
        let outcomes = self.store.commit_claimed(page, &commits).await?;
        if outcomes.len() != commits.len() {
            return Err(Error::overflow("the outcomes of a page"));
        }
        for (outcome, (index, status)) in outcomes.into_iter().zip(commit_of) {
            let renewed = &mut driven[index].renewed;
            match outcome {
                Ok(CommitOutcome::Committed) => match status {
                    Some(InvoiceStatus::Open) => renewed.issued += 1,
                    Some(InvoiceStatus::Held) => renewed.held += 1,
                    // A renewal never writes a void invoice.
                    Some(InvoiceStatus::Void) | None => {}
                },
                Ok(CommitOutcome::Busy) => {
                    driven[index].again = true;
                    driven[index].busy = true;
                }
                Ok(_) => driven[index].again = true,
                // A store error of one renewal: its own failure in a batch of one; in a larger
                // batch it is renewed again on its own.
                Err(error) if count == 1 => {
                    let subject = &mut subjects[index];
                    if subject.failure.is_none() {
                        subject.failure = Some(Failed::new(subscriptions[index].clone(), error));
                    }
                }
                Err(_) => driven[index].again = true,
            }
        }
        for (subject, driven) in subjects.into_iter().zip(driven.iter_mut()) {
            if driven.again {
                continue;
            }
            if let Some(failed) = subject.failure {
                self.record_failure(&failed, run_id).await;
                driven.renewed.failure = Some(failed.error);
            }
        }
        Ok(driven)
    }

    /// What `subscription` is billed under (its customer read with the batch's) and every period
    /// it owes at `now`; or why it cannot be planned.
    async fn subject(
        &self,
        subscription: &Subscription,
        customer: Option<crate::subscription::Customer>,
        now: DateTime<Utc>,
        written_at: DateTime<Utc>,
        cache: &RunCache,
    ) -> Subject {
        let terms = async {
            let account = self.cached_account(cache, &subscription.account_id).await?;
            let plan = self
                .cached_plan(cache, &subscription.account_id, &subscription.plan_id)
                .await?;
            let customer = customer
                .ok_or_else(|| Error::not_found("customer", subscription.customer_id.clone()))?;
            Terms::new(subscription, account, customer, plan)
                .map(|terms| terms.with_lookback(self.lookback))
        };
        let terms = match terms.await {
            Ok(terms) => terms,
            Err(error) => {
                return Subject {
                    failure: Some(Failed::new(subscription.clone(), error)),
                    ..Subject::default()
                };
            }
        };
        let mut subject = Subject::default();
        let mut state = subscription.clone();
        let mut terms = terms;
        loop {
            let (renewals, failure) = step::owed(&terms, &state, now, written_at);
            let index = subject.terms.len();
            // A plan change that takes effect ends what the old terms plan: the new plan's
            // periods are planned with its own, in the same batch.
            let switched = renewals
                .last()
                .filter(|renewal| renewal.kind == step::RenewalKind::Switch)
                .map(|renewal| renewal.next.clone());
            subject
                .renewals
                .extend(renewals.into_iter().map(|renewal| (index, renewal)));
            let account = terms.account.clone();
            let customer = terms.customer.clone();
            subject.terms.push(terms);
            if let Some((state, error)) = failure {
                subject.failure = Some(Failed::new(state, error));
                break;
            }
            let Some(next) = switched else {
                break;
            };
            let plan = self
                .cached_plan(cache, &next.account_id, &next.plan_id)
                .await;
            let new_terms = plan.and_then(|plan| Terms::new(&next, account, customer, plan));
            match new_terms.map(|terms| terms.with_lookback(self.lookback)) {
                Ok(new_terms) => {
                    terms = new_terms;
                    state = next;
                }
                Err(error) => {
                    subject.failure = Some(Failed::new(next, error));
                    break;
                }
            }
        }
        subject
    }

    /// The usage a renewal is billed from, read through the plan's query (`None` for programs
    /// without usage charges).
    pub(crate) async fn usage_of(&self, renewal: &Renewal) -> Result<Option<PeriodUsage>> {
        match &renewal.usage {
            Some(request) => Ok(Some(self.store.usage(request).await?)),
            None => Ok(None),
        }
    }

    /// What `renewal` read: its period's `usage`, and what the late usage read for it
    /// (`late_usage`, in the order of its reads) settles.
    pub(crate) async fn read(
        &self,
        terms: &Terms,
        renewal: &Renewal,
        usage: Option<PeriodUsage>,
        late_usage: &[PeriodUsage],
        cache: &RunCache,
    ) -> Result<step::Read> {
        let issue_date = terms.issue_date(&renewal.period);
        let late = self
            .settle_late(renewal, late_usage, issue_date, cache)
            .await?;
        Ok(step::Read { usage, late })
    }

    /// Bills one planned renewal from its usage with the step: priced, judged by the billing
    /// mode (the model asked in the agent modes), taxed, settled into what it writes.
    pub(crate) async fn bill_renewal(
        &self,
        terms: &Terms,
        renewal: &Renewal,
        read: step::Read,
        trail: &Trail<'_>,
        calls: &mut Vec<AgentCall>,
    ) -> Result<Settled> {
        let usage = read.usage.as_ref();
        let priced = step::price(terms, renewal, usage, &read.late.lines)?;
        let payload = match &self.model {
            // A settlement at the end bills no rule: the program's lines are all there is.
            Some(model) if self.mode.uses_model() && renewal.kind != step::RenewalKind::Close => {
                let input = renewal.agent_input(terms, usage, &read.late.lines)?;
                Some(agent::ask(model.as_ref(), &input, calls).await?)
            }
            _ => None,
        };
        let judged = step::judge(terms, priced, self.mode, payload)?;
        let taxed = self.tax.compute(&judged.tax_request(terms)).await?;
        step::settle(terms, renewal, read, judged, taxed, calls, trail)
    }

    /// Logs a failed renewal and writes its `renewal_failed` event (after the model calls of the
    /// renewal); a store that cannot even take that is logged.
    async fn record_failure(&self, failed: &Failed, run_id: &str) {
        tracing::warn!(
            account_id = %failed.state.account_id,
            subscription_id = %failed.state.id,
            period = failed.state.next_invoice_period,
            error = %failed.error,
            "renewal failed"
        );
        let trail = self.trail(
            SYSTEM_ACTOR,
            Some(run_id),
            &failed.correlation,
            self.clock.now(),
        );
        let subscription = &failed.state;
        let mut events = events::model_events(&failed.calls, subscription, &trail);
        events.push(events::renewal_failed(subscription, &failed.error, &trail));
        if let Err(store_error) = self.store.append_events(&events).await {
            tracing::error!(
                account_id = %subscription.account_id,
                subscription_id = %subscription.id,
                error = %failed.error,
                %store_error,
                "a failed renewal could not be recorded in the audit outbox"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::engine::{ChangeQuantity, CreateSubscription, SavePlan};
    use crate::plan::{Account, Plan};
    use crate::store::{InvoiceQuery, MemoryStore, Store};
    use crate::subscription::Customer;
    use chrono::NaiveDate;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// An engine on a memory store with "$12 per month for each copy", and a subscription to it
    /// starting 2026-01-15 (created before then: nothing billed yet), as created.
    async fn subscribed() -> (Engine, Subscription) {
        let clock = Arc::new(FixedClock::new(at("2026-01-10T12:00:00Z")));
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let engine = Engine::new(store).with_clock(clock);
        let account = Account::new("acct", chrono_tz::America::New_York);
        engine.save_account(&account, "test").await.unwrap();
        engine
            .save_customer(&Customer::new("acct", "cust"), "test")
            .await
            .unwrap();
        let plan: Plan = serde_json::from_value(serde_json::json!({
            "id": "plan", "type": "ai", "currency": "USD", "interval": "month",
            "ai_prompt": "$12 per month for each copy",
        }))
        .unwrap();
        engine
            .save_plan(&SavePlan {
                account_id: "acct".into(),
                plan,
                actor: "test".into(),
            })
            .await
            .unwrap();
        let created = engine
            .create_subscription(&CreateSubscription {
                account_id: "acct".into(),
                id: "sub".into(),
                customer_id: "cust".into(),
                plan_id: "plan".into(),
                quantity: 1,
                start_date: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
                actor: "test".into(),
                request_id: None,
            })
            .await
            .unwrap();
        assert!(created.invoice.is_none());
        (engine, created.subscription)
    }

    #[tokio::test]
    async fn a_batch_catches_up_every_period_owed() {
        let (engine, subscription) = subscribed().await;
        let renewed = engine
            .renew_batch(
                ClaimedPage::unlocked(vec![subscription]),
                at("2026-03-20T12:00:00Z"),
                "run",
                &RunCache::default(),
            )
            .await;
        assert_eq!(renewed.len(), 1);
        let (key, renewed) = &renewed[0];
        assert_eq!(key, &("acct".to_owned(), "sub".to_owned()));
        // Jan 15, Feb 15 and Mar 15.
        assert_eq!((renewed.issued, renewed.held), (3, 0));
        assert!(renewed.failure.is_none());
    }

    #[tokio::test]
    async fn a_renewal_over_a_changed_state_is_renewed_again_from_the_stored_one() {
        let (engine, as_created) = subscribed().await;
        // Someone changes the quantity after the run read the subscription.
        engine
            .change_quantity(&ChangeQuantity {
                account_id: "acct".into(),
                subscription_id: "sub".into(),
                quantity: 3,
                proration: Default::default(),
                effective: crate::changes::Effective::Immediately,
                actor: "test".into(),
                request_id: None,
            })
            .await
            .unwrap();
        let renewed = engine
            .renew_batch(
                ClaimedPage::unlocked(vec![as_created]),
                at("2026-01-20T12:00:00Z"),
                "run",
                &RunCache::default(),
            )
            .await;
        let (_, renewed) = &renewed[0];
        assert_eq!(renewed.issued, 1);
        assert!(renewed.failure.is_none());
        // Billed once, from the stored state: 3 copies.
        let invoices = engine
            .store()
            .invoices(&InvoiceQuery {
                account_id: Some("acct".into()),
                subscription_id: Some("sub".into()),
                limit: None,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(invoices.len(), 1);
        assert_eq!(invoices[0].quantity, 3);
        assert_eq!(invoices[0].invoice.subtotal.to_major().to_string(), "36.00");
    }
}
