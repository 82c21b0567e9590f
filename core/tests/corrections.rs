//! Invoice corrections end to end on the in-memory store (`billing-conventions.md`, "Invoice
//! corrections"): release of a held invoice, void with its revenue reversed to the cent, void
//! and re-bill from the current data (a new id; the same amount when nothing changed, the
//! corrected one when usage rows arrived late), manual credit notes by lines and by amount with
//! the invoice's tax and never more than is left, and the refusals, each leaving nothing
//! written. Every correction is audited with who made it and why.

use std::sync::Arc;

use ai_billing::audit::AuditAction;
use ai_billing::engine::{
    BillingMode, CreateSubscription, CreditInvoice, CreditLine, ReleaseInvoice, RunDue, SavePlan,
    VoidInvoice,
};
use ai_billing::model::{ModelAnswer, ScriptedModel};
use ai_billing::store::InvoiceQuery;
use ai_billing::tax::FlatRate;
use ai_billing::usage::Shipment;
use ai_billing::{Engine, Error, FixedClock, FixtureStore, InvoiceStatus, IssuedInvoice};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::New_York;
use rust_decimal::Decimal;

mod support;
use support::{ACCOUNT, CUSTOMER, ai_plan, ny};

const PLAN: &str = "$0.50 per delivery, plus a $10 monthly fee";
const JAN: &str = "in_sub_20260101";

struct Fixture {
    store: Arc<dyn FixtureStore>,
    clock: Arc<FixedClock>,
    engine: Engine,
}

/// Subscription `sub` on `PLAN` from Jan 1 2026 (New York), 8.25% tax, 4 deliveries in January,
/// in `mode` (a scripted model answering `answers` in the agent modes).
async fn fixture(mode: BillingMode, answers: &[String]) -> Fixture {
    let (store, clock, engine) = support::setup(true).await;
    let model = Arc::new(ScriptedModel::default());
    for answer in answers {
        model.push(Ok::<_, String>(ModelAnswer::Json(answer.clone())));
    }
    let engine = engine
        .with_tax(Arc::new(
            FlatRate::new("Tax", Decimal::new(825, 4)).unwrap(),
        ))
        .with_mode(
            mode,
            Some(model as Arc<dyn ai_billing::model::LanguageModel>),
        )
        .unwrap();
    engine
        .save_plan(&SavePlan {
            account_id: ACCOUNT.into(),
            plan: ai_plan("plan", PLAN),
            actor: "admin".into(),
        })
        .await
        .unwrap();
    engine
        .create_subscription(&CreateSubscription {
            account_id: ACCOUNT.into(),
            id: "sub".into(),
            customer_id: CUSTOMER.into(),
            plan_id: "plan".into(),
            quantity: 1,
            start_date: date(2026, 1, 1),
            actor: "admin".into(),
            request_id: None,
        })
        .await
        .unwrap();
    let f = Fixture {
        store,
        clock,
        engine,
    };
    f.ship(&[5, 6, 7, 8]).await;
    f
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The model's answer for January with one line of `amount`.
fn january_answer(amount: &str) -> String {
    let midnight = |m: u32| {
        New_York
            .with_ymd_and_hms(2026, m, 1, 0, 0, 0)
            .unwrap()
            .fixed_offset()
            .to_rfc3339()
    };
    let (start, end) = (midnight(1), midnight(2));
    format!(
        r#"{{"subscription_updates": {{"current_period_start": "{start}", "current_period_end": "{end}"}},
            "invoice": {{"amount": {amount}, "currency": "USD", "start_date": "{start}", "end_date": "{end}",
                        "line_items": [{{"description": "Deliveries and fee", "amount": {amount}}}]}}}}"#
    )
}

impl Fixture {
    /// One delivery at 06:00 New York on each January `day`.
    async fn ship(&self, days: &[u32]) {
        let rows: Vec<Shipment> = days
            .iter()
            .map(|&d| Shipment {
                id: format!("ship-jan-{d}"),
                shipped_at: ny(2026, 1, d, 6),
                quantity: 1,
            })
            .collect();
        self.store
            .insert_shipments(ACCOUNT, CUSTOMER, &rows)
            .await
            .unwrap();
    }

    /// A billing run at 01:00 New York on the first of `month`, the clock set there.
    async fn run(&self, month: u32) {
        let now = ny(2026, month, 1, 1);
        self.clock.set(now);
        self.engine
            .run_due(&RunDue {
                now: Some(now),
                progress: None,
            })
            .await
            .unwrap();
    }

    async fn invoices(&self) -> Vec<IssuedInvoice> {
        self.store
            .invoices(&InvoiceQuery {
                account_id: Some(ACCOUNT.into()),
                subscription_id: Some("sub".into()),
                limit: None,
                ..Default::default()
            })
            .await
            .unwrap()
    }

    /// What the store holds, to show that a refusal wrote nothing.
    async fn snapshot(&self) -> (Vec<IssuedInvoice>, usize, i64) {
        let events = self.store.events_for(ACCOUNT, "sub").await.unwrap().len();
        let revision = self
            .store
            .subscription(ACCOUNT, "sub")
            .await
            .unwrap()
            .unwrap()
            .revision;
        (self.invoices().await, events, revision)
    }

    fn void(&self, invoice_id: &str, rebill: bool) -> VoidInvoice {
        VoidInvoice {
            account_id: ACCOUNT.into(),
            invoice_id: invoice_id.into(),
            rebill,
            actor: "alice".into(),
            reason: "wrong usage data".into(),
            request_id: None,
        }
    }

    fn credit(&self, lines: &[(u32, Option<i64>)], amount: Option<i64>) -> CreditInvoice {
        CreditInvoice {
            account_id: ACCOUNT.into(),
            invoice_id: JAN.into(),
            lines: lines
                .iter()
                .map(|&(line, amount)| CreditLine { line, amount })
                .collect(),
            amount,
            actor: "bob".into(),
            reason: "missed deliveries".into(),
            request_id: None,
        }
    }

    /// The one event of `action` about `subject`, with its actor and its `why`.
    async fn audited(&self, subject: &str, action: AuditAction) -> (String, String) {
        let events = self.store.events_for(ACCOUNT, subject).await.unwrap();
        let found: Vec<_> = events
            .iter()
            .filter(|e| e.action == action && e.subject_id == subject)
            .collect();
        assert_eq!(found.len(), 1, "one {action} event about {subject}");
        (
            found[0].actor.clone(),
            found[0].data["why"].as_str().unwrap_or_default().to_owned(),
        )
    }
}

fn amounts(invoice: &IssuedInvoice) -> [String; 3] {
    let i = &invoice.invoice;
    [i.subtotal, i.tax, i.total].map(|m| m.to_major().to_string())
}

/// The line number (from 1) of the line whose description starts with `prefix`.
fn line_of(invoice: &IssuedInvoice, prefix: &str) -> u32 {
    let position = invoice
        .invoice
        .line_items
        .iter()
        .position(|line| line.description.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in {:?}", invoice.invoice.line_items));
    u32::try_from(position + 1).unwrap()
}

fn code(error: &Error) -> &'static str {
    error.code().as_str()
}

#[tokio::test]
async fn void_and_rebill_with_unchanged_data_gives_a_new_id_and_the_same_amount() {
    let f = fixture(BillingMode::Compiled, &[]).await;
    f.run(2).await;
    let [billed] = f.invoices().await.try_into().unwrap();
    assert_eq!(billed.id, JAN);
    // $10 fee + 4 deliveries x 0.50, 8.25% tax.
    assert_eq!(amounts(&billed), ["12.00", "0.99", "12.99"]);

    f.clock.set(ny(2026, 2, 2, 10));
    let voided = f.engine.void_invoice(&f.void(JAN, true)).await.unwrap();
    assert_eq!(voided.invoice.status, InvoiceStatus::Void);
    // The whole schedule is reversed, entry by entry: to the cent.
    assert_eq!(voided.revenue_reversed, billed.invoice.revenue_schedule);
    let reversed: i64 = voided
        .revenue_reversed
        .iter()
        .map(|e| e.amount.minor())
        .sum();
    assert_eq!(reversed, billed.invoice.revenue().unwrap().minor());
    let rebilled = voided.rebilled.unwrap();
    assert_eq!(rebilled.id, "in_sub_20260101_r1");
    assert_eq!(rebilled.status, InvoiceStatus::Open);
    assert_eq!(amounts(&rebilled), amounts(&billed));
    assert_eq!(rebilled.invoice.line_items, billed.invoice.line_items);
    assert_eq!(
        (rebilled.invoice.period_start, rebilled.invoice.period_end),
        (date(2026, 1, 1), date(2026, 2, 1))
    );
    let stored = f.invoices().await;
    assert_eq!(
        stored
            .iter()
            .map(|i| (i.id.as_str(), i.status))
            .collect::<Vec<_>>(),
        [
            (JAN, InvoiceStatus::Void),
            ("in_sub_20260101_r1", InvoiceStatus::Open)
        ]
    );
    assert_eq!(
        f.audited(JAN, AuditAction::InvoiceVoided).await,
        ("alice".to_owned(), "wrong usage data".to_owned())
    );
    assert_eq!(
        f.audited(&rebilled.id, AuditAction::InvoiceRebilled).await,
        ("alice".to_owned(), "wrong usage data".to_owned())
    );

    // Voiding the new one and billing again: the next id.
    let again = f
        .engine
        .void_invoice(&f.void(&rebilled.id, true))
        .await
        .unwrap();
    assert_eq!(again.rebilled.unwrap().id, "in_sub_20260101_r2");
    let open: Vec<_> = f
        .invoices()
        .await
        .into_iter()
        .filter(|i| i.status != InvoiceStatus::Void)
        .collect();
    assert_eq!(open.len(), 1, "one invoice of the period is not void");
    // A void invoice is not voided again.
    let error = f
        .engine
        .void_invoice(&f.void(JAN, false))
        .await
        .unwrap_err();
    assert_eq!(code(&error), "CONFLICT", "{error}");
    assert!(error.to_string().contains("void"), "{error}");
}

#[tokio::test]
async fn rebill_after_late_rows_bills_the_corrected_usage() {
    let f = fixture(BillingMode::Compiled, &[]).await;
    f.run(2).await;
    // Two January deliveries reach the table after January was billed.
    f.ship(&[20, 21]).await;
    f.clock.set(ny(2026, 2, 3, 10));
    let voided = f.engine.void_invoice(&f.void(JAN, true)).await.unwrap();
    let rebilled = voided.rebilled.unwrap();
    // $10 + 6 x 0.50 = 13.00; tax round(1.0725) = 1.07.
    assert_eq!(amounts(&rebilled), ["13.00", "1.07", "14.07"]);
    let revenue: i64 = rebilled
        .invoice
        .revenue_schedule
        .iter()
        .map(|e| e.amount.minor())
        .sum();
    assert_eq!(revenue, 1300);
    // The usage it was priced on is in its trail.
    let trail = f.store.events_for(ACCOUNT, "sub").await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == AuditAction::UsageQueried && e.actor == "alice")
    );

    // Only the period billed last is billed again: after February is billed, January is not.
    f.run(3).await;
    let before = f.snapshot().await;
    let error = f
        .engine
        .void_invoice(&f.void(&rebilled.id, true))
        .await
        .unwrap_err();
    assert_eq!(code(&error), "CONFLICT", "{error}");
    assert!(error.to_string().contains("in_sub_20260201"), "{error}");
    assert_eq!(f.snapshot().await, before, "a refused void writes nothing");
    // Voiding it without re-billing is still possible.
    let voided = f
        .engine
        .void_invoice(&f.void(&rebilled.id, false))
        .await
        .unwrap();
    assert_eq!(voided.rebilled, None);
}

#[tokio::test]
async fn a_held_invoice_shows_both_answers_and_is_released_once() {
    // The model says 15.00; the program 12.00: held.
    let f = fixture(BillingMode::Agent, &[january_answer("15.00")]).await;
    f.run(2).await;
    let [held] = f.invoices().await.try_into().unwrap();
    assert_eq!(held.status, InvoiceStatus::Held);
    assert_eq!(amounts(&held), ["12.00", "0.99", "12.99"], "the program's");
    let review = held
        .review
        .clone()
        .expect("a held invoice keeps its review");
    assert_eq!(review.model.amount.to_string(), "15.00");
    assert_eq!(review.model.line_items[0].description, "Deliveries and fee");
    assert!(
        review.differences.iter().any(|d| d.contains("15.00")),
        "{:?}",
        review.differences
    );
    // Credited before it is released: refused.
    let error = f
        .engine
        .credit_invoice(&f.credit(&[], Some(100)))
        .await
        .unwrap_err();
    assert_eq!(code(&error), "CONFLICT", "{error}");

    let release = ReleaseInvoice {
        account_id: ACCOUNT.into(),
        invoice_id: JAN.into(),
        actor: "carol".into(),
        reason: "checked by hand".into(),
        request_id: None,
    };
    let released = f.engine.release_invoice(&release).await.unwrap();
    assert_eq!(released.status, InvoiceStatus::Open);
    assert_eq!(amounts(&released), amounts(&held));
    assert_eq!(f.invoices().await, vec![released.clone()]);
    assert_eq!(
        f.audited(JAN, AuditAction::InvoiceReleased).await,
        ("carol".to_owned(), "checked by hand".to_owned())
    );
    // Released twice: issued once, the second a conflict naming its status.
    let before = f.snapshot().await;
    let error = f.engine.release_invoice(&release).await.unwrap_err();
    assert_eq!(code(&error), "CONFLICT", "{error}");
    assert!(error.to_string().contains("is open"), "{error}");
    assert_eq!(f.snapshot().await, before);
}

#[tokio::test]
async fn a_held_invoice_is_voided_with_its_revenue_reversed() {
    let f = fixture(BillingMode::Agent, &[january_answer("15.00")]).await;
    f.run(2).await;
    let [held] = f.invoices().await.try_into().unwrap();
    assert_eq!(held.status, InvoiceStatus::Held);
    let voided = f.engine.void_invoice(&f.void(JAN, false)).await.unwrap();
    assert_eq!(voided.invoice.status, InvoiceStatus::Void);
    let reversed: i64 = voided
        .revenue_reversed
        .iter()
        .map(|e| e.amount.minor())
        .sum();
    assert_eq!(reversed, 1200);
    assert_eq!(f.invoices().await[0].status, InvoiceStatus::Void);
    assert_eq!(
        f.audited(JAN, AuditAction::InvoiceVoided).await,
        ("alice".to_owned(), "wrong usage data".to_owned())
    );
    // A void invoice is neither released nor credited.
    let release = ReleaseInvoice {
        account_id: ACCOUNT.into(),
        invoice_id: JAN.into(),
        actor: "carol".into(),
        reason: "too late".into(),
        request_id: None,
    };
    let error = f.engine.release_invoice(&release).await.unwrap_err();
    assert_eq!(code(&error), "CONFLICT", "{error}");
    let error = f
        .engine
        .credit_invoice(&f.credit(&[], Some(100)))
        .await
        .unwrap_err();
    assert_eq!(code(&error), "CONFLICT", "{error}");
}

#[tokio::test]
async fn credit_notes_by_lines_and_by_amount_never_credit_more_than_is_left() {
    let f = fixture(BillingMode::Compiled, &[]).await;
    f.run(2).await;
    let [billed] = f.invoices().await.try_into().unwrap();
    let usage = line_of(&billed, "Usage");
    let fee = 3 - usage;
    f.clock.set(ny(2026, 2, 5, 10));

    // The usage line, all of it: 2.00, tax round(0.165) = 0.17.
    let first = f
        .engine
        .credit_invoice(&f.credit(&[(usage, None)], None))
        .await
        .unwrap();
    assert_eq!(first.id, "cn_sub_1");
    assert_eq!(first.reason, "manual");
    assert_eq!(first.issue_date, date(2026, 2, 5));
    assert_eq!(
        [first.subtotal, first.tax, first.total].map(|m| m.to_major().to_string()),
        ["2.00", "0.17", "2.17"]
    );
    let reversed: i64 = first
        .revenue_reversed
        .iter()
        .map(|e| e.amount.minor())
        .sum();
    assert_eq!(reversed, 200, "the credited share's revenue is reversed");
    assert_eq!(first.revenue_reversed[0].start, date(2026, 1, 1));
    assert_eq!(
        f.audited("cn_sub_1", AuditAction::CreditNoteIssued).await,
        ("bob".to_owned(), "missed deliveries".to_owned())
    );

    // An amount: 5.00, all on the fee (the usage line has nothing left); tax 0.41.
    let second = f
        .engine
        .credit_invoice(&f.credit(&[], Some(500)))
        .await
        .unwrap();
    assert_eq!(second.id, "cn_sub_2");
    assert_eq!(second.line_items.len(), 1);
    assert_eq!(
        second.line_items[0].description,
        billed.invoice.line_items[fee as usize - 1].description
    );
    assert_eq!(
        [second.subtotal, second.tax, second.total].map(|m| m.to_major().to_string()),
        ["5.00", "0.41", "5.41"]
    );

    // More than is left, each way: refused, nothing written.
    let before = f.snapshot().await;
    for (request, field) in [
        (f.credit(&[], Some(501)), "credit.amount"),
        (f.credit(&[(usage, None)], None), "credit.lines[0].line"),
        (
            f.credit(&[(fee, Some(501))], None),
            "credit.lines[0].amount",
        ),
        (f.credit(&[(fee, Some(0))], None), "credit.lines[0].amount"),
        (f.credit(&[(3, None)], None), "credit.lines[0].line"),
        (
            f.credit(&[(fee, None), (fee, None)], None),
            "credit.lines[1].line",
        ),
        (f.credit(&[(fee, None)], Some(100)), "credit"),
        (f.credit(&[], None), "credit"),
        (f.credit(&[], Some(-5)), "credit.amount"),
    ] {
        match f.engine.credit_invoice(&request).await {
            Err(Error::InvalidInput { field: got, reason }) => {
                assert_eq!(got, field, "{reason}");
            }
            other => panic!("{request:?}: {other:?}"),
        }
    }
    assert_eq!(
        f.snapshot().await,
        before,
        "a refused credit writes nothing"
    );

    // What is left of the fee, 5.00: it takes the tax that is left, so the notes sum to the
    // invoice's total exactly.
    let third = f
        .engine
        .credit_invoice(&f.credit(&[(fee, None)], None))
        .await
        .unwrap();
    assert_eq!(third.subtotal.to_major().to_string(), "5.00");
    let notes = [&first, &second, &third];
    let sum = |pick: fn(&ai_billing::credit_note::CreditNote) -> i64| -> i64 {
        notes.iter().map(|n| pick(n)).sum()
    };
    assert_eq!(sum(|n| n.subtotal.minor()), 1200);
    assert_eq!(sum(|n| n.tax.minor()), 99);
    assert_eq!(sum(|n| n.total.minor()), 1299);
    let error = f
        .engine
        .credit_invoice(&f.credit(&[], Some(1)))
        .await
        .unwrap_err();
    assert_eq!(code(&error), "INVALID_INPUT", "{error}");

    // An invoice with credit notes is not voided: that would credit them twice.
    let before = f.snapshot().await;
    let error = f.engine.void_invoice(&f.void(JAN, true)).await.unwrap_err();
    assert_eq!(code(&error), "CONFLICT", "{error}");
    assert!(
        error.to_string().contains("cn_sub_1, cn_sub_2, cn_sub_3"),
        "{error}"
    );
    assert_eq!(f.snapshot().await, before);
}

#[tokio::test]
async fn bad_requests_are_refused_with_stable_codes_and_write_nothing() {
    let f = fixture(BillingMode::Compiled, &[]).await;
    f.run(2).await;
    let before = f.snapshot().await;
    for (invoice_id, expected) in [
        ("in_sub_20260301", "NOT_FOUND"),
        ("in_nobody_20260101", "NOT_FOUND"),
        ("cn_sub_1", "NOT_FOUND"),
        ("", "INVALID_INPUT"),
    ] {
        let error = f
            .engine
            .void_invoice(&f.void(invoice_id, false))
            .await
            .unwrap_err();
        assert_eq!(code(&error), expected, "{invoice_id:?}: {error}");
    }
    let mut unexplained = f.void(JAN, false);
    unexplained.reason = "  ".into();
    match f.engine.void_invoice(&unexplained).await {
        Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "reason"),
        other => panic!("{other:?}"),
    }
    let release = ReleaseInvoice {
        account_id: ACCOUNT.into(),
        invoice_id: JAN.into(),
        actor: "carol".into(),
        reason: "not held".into(),
        request_id: None,
    };
    let error = f.engine.release_invoice(&release).await.unwrap_err();
    assert_eq!(
        code(&error),
        "CONFLICT",
        "an open invoice is not released: {error}"
    );
    let mut elsewhere = f.void(JAN, false);
    elsewhere.account_id = "acct_other".into();
    let error = f.engine.void_invoice(&elsewhere).await.unwrap_err();
    assert_eq!(code(&error), "NOT_FOUND", "{error}");
    assert_eq!(f.snapshot().await, before);
}

/// The API (what Node and C call): the requests read from JSON with their defaults, the
/// answers written as JSON, on a SQLite file with the system clock.
#[tokio::test]
async fn the_api_releases_voids_and_credits_through_json() {
    use ai_billing::api::{BillingEngine, EngineOptions, ListInvoices, from_json, to_json};
    let dir = std::env::temp_dir().join(format!(
        "ai-billing-corrections-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("api.db").display());
    let options: EngineOptions =
        from_json("options", &format!(r#"{{"databaseUrl": "{url}"}}"#)).unwrap();
    let api = BillingEngine::open(&options).await.unwrap();
    let engine = api.engine().unwrap();
    engine
        .save_account(
            &ai_billing::Account {
                abstracted: true,
                ..ai_billing::Account::new(ACCOUNT, New_York)
            },
            "admin",
        )
        .await
        .unwrap();
    engine
        .save_customer(&ai_billing::Customer::new(ACCOUNT, CUSTOMER), "admin")
        .await
        .unwrap();
    engine
        .save_plan(&SavePlan {
            account_id: ACCOUNT.into(),
            plan: ai_plan("plan", "$31 per month"),
            actor: "admin".into(),
        })
        .await
        .unwrap();
    // Billed in advance from 70 days ago: a run bills two or three periods.
    engine
        .create_subscription(&CreateSubscription {
            account_id: ACCOUNT.into(),
            id: "sub".into(),
            customer_id: CUSTOMER.into(),
            plan_id: "plan".into(),
            quantity: 1,
            start_date: (chrono::Utc::now() - chrono::Days::new(70)).date_naive(),
            actor: "admin".into(),
            request_id: None,
        })
        .await
        .unwrap();
    api.run_due(&Default::default()).await.unwrap();
    let list: ListInvoices =
        from_json("request", &format!(r#"{{"account_id": "{ACCOUNT}"}}"#)).unwrap();
    let last = api.list_invoices(&list).await.unwrap().data.pop().unwrap();

    // A credit of 1.00 by amount, the actor defaulting to `api`.
    let credit: CreditInvoice = from_json(
        "request",
        &format!(
            r#"{{"account_id": "{ACCOUNT}", "invoice_id": "{}", "amount": 100, "reason": "late"}}"#,
            last.id
        ),
    )
    .unwrap();
    assert_eq!(credit.actor, "api");
    let note = api.credit_invoice(&credit).await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&to_json(&note).unwrap()).unwrap();
    assert_eq!(json["subtotal"], "1.00");
    assert_eq!(json["reason"], "manual");
    // An unknown field, or a missing reason, is refused when the request is read.
    for bad in [
        r#"{"account_id": "a", "invoice_id": "i", "reason": "r", "rebill": true, "extra": 1}"#,
        r#"{"account_id": "a", "invoice_id": "i"}"#,
    ] {
        let error = from_json::<VoidInvoice>("request", bad).unwrap_err();
        assert_eq!(code(&error), "INVALID_INPUT", "{bad}: {error}");
    }
    // Void refused (a credit note is against it), then a release refused (it is open).
    let void: VoidInvoice = from_json(
        "request",
        &format!(
            r#"{{"account_id": "{ACCOUNT}", "invoice_id": "{}", "rebill": true, "reason": "x"}}"#,
            last.id
        ),
    )
    .unwrap();
    let error = api.void_invoice(&void).await.unwrap_err();
    assert_eq!(code(&error), "CONFLICT", "{error}");
    let release: ReleaseInvoice = from_json(
        "request",
        &format!(
            r#"{{"account_id": "{ACCOUNT}", "invoice_id": "{}", "actor": "carol", "reason": "x"}}"#,
            last.id
        ),
    )
    .unwrap();
    let error = api.release_invoice(&release).await.unwrap_err();
    assert_eq!(code(&error), "CONFLICT", "{error}");
    // The first invoice (no credit note) is voided and billed again: its JSON answer.
    // The first invoice (no credit note against it) is voided.
    let first = api.list_invoices(&list).await.unwrap().data.remove(0);
    assert_ne!(first.id, last.id);
    let void = VoidInvoice {
        invoice_id: first.id.clone(),
        rebill: false,
        ..void
    };
    let voided = api.void_invoice(&void).await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&to_json(&voided).unwrap()).unwrap();
    assert_eq!(json["invoice"]["status"], "void");
    let reversed: rust_decimal::Decimal = json["revenue_reversed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            entry["amount"]
                .as_str()
                .unwrap()
                .parse::<Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(reversed.to_string(), "31.00");
    assert!(json.get("rebilled").is_none());
    api.close().await.unwrap();
    std::fs::remove_dir_all(&dir).ok();
}
