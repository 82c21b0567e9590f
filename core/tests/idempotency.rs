//! Safe retries (issue 20) on the in-memory store: every create and change made again with the
//! same key and body answers what it first answered and writes nothing new (no second invoice,
//! credit note or audit event); the same key with another body is CONFLICT naming the key. A
//! plan, an account or a customer saved again with the same body answers the same.

use std::sync::Arc;

use ai_billing::changes::Effective;
use ai_billing::engine::{
    BillingMode, CancelSubscription, ChangePlan, ChangeQuantity, CreateSubscription, CreditInvoice,
    PauseSubscription, Proration, ReleaseInvoice, ResumeSubscription, RunDue, SavePlan,
    VoidInvoice, WithdrawCancel,
};
use ai_billing::model::{ModelAnswer, ScriptedModel};
use ai_billing::store::{InvoiceQuery, StoreStats};
use ai_billing::{
    Account, Customer, Engine, Error, ErrorCode, FixedClock, FixtureStore, InvoiceStatus,
};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::New_York;

mod support;
use support::{ACCOUNT, CUSTOMER, ai_plan, ny};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// What the store holds, and every event of the account's subscription.
async fn written(store: &Arc<dyn FixtureStore>) -> (StoreStats, usize, usize) {
    let stats = store.stats().await.unwrap();
    let events = store.events_for(ACCOUNT, "sub").await.unwrap().len();
    let notes = store
        .credit_notes(&ai_billing::store::CreditNoteQuery {
            account_id: ACCOUNT.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .len();
    (stats, events, notes)
}

/// A CONFLICT that names `key` and says the earlier request differed.
fn assert_differed(error: Error, key: &str) {
    assert_eq!(error.code(), ErrorCode::Conflict, "{error}");
    let message = error.to_string();
    assert!(message.contains(key), "{message} names {key}");
    assert!(message.contains("differed"), "{message}");
}

/// A monthly $10 plan billed in advance, and the engine on the clock of `support::setup`
/// (Jan 1 2026, 08:00 New York).
async fn flat() -> (Arc<dyn FixtureStore>, Arc<FixedClock>, Engine) {
    let (store, clock, engine) = support::setup(true).await;
    for (id, prompt) in [("plan", "$10 per month"), ("plan_2", "$20 per month")] {
        engine
            .save_plan(&SavePlan {
                account_id: ACCOUNT.into(),
                plan: ai_plan(id, prompt),
                actor: "admin".into(),
            })
            .await
            .unwrap();
    }
    (store, clock, engine)
}

fn create(request_id: Option<&str>) -> CreateSubscription {
    CreateSubscription {
        account_id: ACCOUNT.into(),
        id: "sub".into(),
        customer_id: CUSTOMER.into(),
        plan_id: "plan".into(),
        quantity: 1,
        start_date: date(2026, 1, 1),
        actor: "admin".into(),
        request_id: request_id.map(Into::into),
    }
}

#[tokio::test]
async fn a_creation_made_again_answers_the_same_and_writes_nothing() {
    let (store, _, engine) = flat().await;
    let first = engine.create_subscription(&create(None)).await.unwrap();
    assert!(first.invoice.is_some(), "billed in advance at creation");
    let before = written(&store).await;
    // The retry after a timeout: the same answer, nothing new.
    let again = engine.create_subscription(&create(None)).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(written(&store).await, before);
    // A default spelled out is the same request.
    let spelled = CreateSubscription {
        quantity: 1,
        ..create(None)
    };
    assert_eq!(engine.create_subscription(&spelled).await.unwrap(), first);
    // Another body under the same id: a conflict, not a bad request.
    let other = CreateSubscription {
        quantity: 2,
        ..create(None)
    };
    let error = engine.create_subscription(&other).await.unwrap_err();
    assert_differed(error, "sub");
    let by_someone_else = CreateSubscription {
        actor: "mallory".into(),
        ..create(None)
    };
    let error = engine
        .create_subscription(&by_someone_else)
        .await
        .unwrap_err();
    assert_differed(error, "sub");
    assert_eq!(written(&store).await, before);
}

#[tokio::test]
async fn a_creation_keyed_by_request_id_answers_the_same() {
    let (store, _, engine) = flat().await;
    let first = engine
        .create_subscription(&create(Some("req-1")))
        .await
        .unwrap();
    let before = written(&store).await;
    let again = engine
        .create_subscription(&create(Some("req-1")))
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(written(&store).await, before);
    // The key reused for another subscription: a conflict naming the key.
    let other = CreateSubscription {
        id: "sub_2".into(),
        ..create(Some("req-1"))
    };
    let error = engine.create_subscription(&other).await.unwrap_err();
    assert_differed(error, "req-1");
    assert!(
        store
            .subscription(ACCOUNT, "sub_2")
            .await
            .unwrap()
            .is_none()
    );
    // A bad key is refused as a bad input naming it.
    let error = engine
        .create_subscription(&create(Some(" ")))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidInput);
    assert!(error.to_string().contains("request_id"), "{error}");
}

/// Makes `call` with key `key`, then again: the same answer and nothing written by the retry;
/// then `other` (another body under the same key): a conflict, nothing written.
macro_rules! replayed {
    ($store:expr, $engine:ident . $op:ident ( $request:expr ), $other:expr, $key:expr) => {{
        let first = $engine.$op(&$request).await.unwrap();
        let before = written(&$store).await;
        let again = $engine.$op(&$request).await.unwrap();
        assert_eq!(again, first, "{} answered the same", stringify!($op));
        assert_eq!(
            written(&$store).await,
            before,
            "{} wrote nothing again",
            stringify!($op)
        );
        let error = $engine.$op(&$other).await.unwrap_err();
        assert_differed(error, $key);
        assert_eq!(written(&$store).await, before);
        first
    }};
}

#[tokio::test]
async fn every_change_made_again_answers_the_same() {
    let (store, _, engine) = flat().await;
    engine.create_subscription(&create(None)).await.unwrap();

    let quantity = ChangeQuantity {
        account_id: ACCOUNT.into(),
        subscription_id: "sub".into(),
        quantity: 3,
        proration: Proration::Prorate,
        effective: Effective::Immediately,
        actor: "admin".into(),
        request_id: Some("q-1".into()),
    };
    let changed = replayed!(
        store,
        engine.change_quantity(quantity.clone()),
        ChangeQuantity {
            quantity: 4,
            ..quantity.clone()
        },
        "q-1"
    );
    assert_eq!(changed.quantity.get(), 3);

    let pause = PauseSubscription {
        account_id: ACCOUNT.into(),
        subscription_id: "sub".into(),
        from: date(2026, 1, 10),
        until: Some(date(2026, 1, 20)),
        actor: "admin".into(),
        request_id: Some("p-1".into()),
    };
    replayed!(
        store,
        engine.pause_subscription(pause.clone()),
        PauseSubscription {
            until: None,
            ..pause.clone()
        },
        "p-1"
    );

    let resume = ResumeSubscription {
        account_id: ACCOUNT.into(),
        subscription_id: "sub".into(),
        on: date(2026, 1, 15),
        actor: "admin".into(),
        request_id: Some("r-1".into()),
    };
    replayed!(
        store,
        engine.resume_subscription(resume.clone()),
        ResumeSubscription {
            on: date(2026, 1, 16),
            ..resume.clone()
        },
        "r-1"
    );

    let cancel = CancelSubscription {
        account_id: ACCOUNT.into(),
        subscription_id: "sub".into(),
        effective: Effective::Immediately,
        credit_unused: true,
        actor: "admin".into(),
        request_id: Some("c-1".into()),
    };
    let canceled = replayed!(
        store,
        engine.cancel_subscription(cancel.clone()),
        CancelSubscription {
            credit_unused: false,
            ..cancel.clone()
        },
        "c-1"
    );
    assert!(canceled.credit_note.is_some(), "the unserved days credited");

    let withdraw = WithdrawCancel {
        account_id: ACCOUNT.into(),
        subscription_id: "sub".into(),
        actor: "admin".into(),
        request_id: Some("w-1".into()),
    };
    replayed!(
        store,
        engine.withdraw_cancel(withdraw.clone()),
        WithdrawCancel {
            actor: "someone else".into(),
            ..withdraw.clone()
        },
        "w-1"
    );

    let switch = ChangePlan {
        account_id: ACCOUNT.into(),
        subscription_id: "sub".into(),
        plan_id: "plan_2".into(),
        effective: Effective::PeriodEnd,
        actor: "admin".into(),
        request_id: Some("s-1".into()),
    };
    replayed!(
        store,
        engine.change_plan(switch.clone()),
        ChangePlan {
            effective: Effective::Immediately,
            ..switch.clone()
        },
        "s-1"
    );

    // A key names one request in the account, whatever the operation.
    let error = engine
        .cancel_subscription(&CancelSubscription {
            request_id: Some("q-1".into()),
            ..cancel.clone()
        })
        .await
        .unwrap_err();
    assert_differed(error, "q-1");
}

#[tokio::test]
async fn a_change_without_a_key_is_made_as_before() {
    let (store, _, engine) = flat().await;
    engine.create_subscription(&create(None)).await.unwrap();
    let pause = PauseSubscription {
        account_id: ACCOUNT.into(),
        subscription_id: "sub".into(),
        from: date(2026, 1, 10),
        until: Some(date(2026, 1, 20)),
        actor: "admin".into(),
        request_id: None,
    };
    engine.pause_subscription(&pause).await.unwrap();
    let before = written(&store).await;
    // Made again, it is a second pause over the first: refused as before, not answered as a
    // retry.
    let error = engine.pause_subscription(&pause).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Conflict, "{error}");
    assert!(!error.to_string().contains("differed"), "{error}");
    assert_eq!(written(&store).await, before);
}

/// A plan billed in arrears from Jan 1 with four January deliveries, in `mode` (the scripted
/// model answering `answer` for January), billed by the run of Feb 1.
async fn billed(mode: BillingMode, answer: Option<&str>) -> (Arc<dyn FixtureStore>, Engine) {
    let (store, clock, engine) = support::setup(true).await;
    let model = Arc::new(ScriptedModel::default());
    if let Some(amount) = answer {
        model.push(Ok::<_, String>(ModelAnswer::Json(january_answer(amount))));
    }
    let engine = engine
        .with_mode(
            mode,
            Some(model as Arc<dyn ai_billing::model::LanguageModel>),
        )
        .unwrap();
    engine
        .save_plan(&SavePlan {
            account_id: ACCOUNT.into(),
            plan: ai_plan("plan", "$0.50 per delivery, plus a $10 monthly fee"),
            actor: "admin".into(),
        })
        .await
        .unwrap();
    engine.create_subscription(&create(None)).await.unwrap();
    let rows: Vec<_> = [5, 6, 7, 8]
        .iter()
        .map(|&d| ai_billing::usage::Shipment {
            id: format!("ship-{d}"),
            shipped_at: ny(2026, 1, d, 6),
            quantity: 1,
        })
        .collect();
    store
        .insert_shipments(ACCOUNT, CUSTOMER, &rows)
        .await
        .unwrap();
    let now = ny(2026, 2, 1, 1);
    clock.set(now);
    engine
        .run_due(&RunDue {
            now: Some(now),
            progress: None,
        })
        .await
        .unwrap();
    (store, engine)
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

const JAN: &str = "in_sub_20260101";

#[tokio::test]
async fn every_correction_made_again_answers_the_same() {
    let (store, engine) = billed(BillingMode::Compiled, None).await;
    let void = VoidInvoice {
        account_id: ACCOUNT.into(),
        invoice_id: JAN.into(),
        rebill: true,
        actor: "alice".into(),
        reason: "wrong usage data".into(),
        request_id: Some("v-1".into()),
    };
    let voided = replayed!(
        store,
        engine.void_invoice(void.clone()),
        VoidInvoice {
            rebill: false,
            ..void.clone()
        },
        "v-1"
    );
    let rebilled = voided.rebilled.expect("billed again");
    assert_eq!(voided.invoice.status, InvoiceStatus::Void);

    let credit = CreditInvoice {
        account_id: ACCOUNT.into(),
        invoice_id: rebilled.id.clone(),
        lines: Vec::new(),
        amount: Some(100),
        actor: "bob".into(),
        reason: "missed deliveries".into(),
        request_id: Some("k-1".into()),
    };
    let note = replayed!(
        store,
        engine.credit_invoice(credit.clone()),
        CreditInvoice {
            amount: Some(150),
            ..credit.clone()
        },
        "k-1"
    );
    assert_eq!(note.invoice_id, rebilled.id);
}

#[tokio::test]
async fn a_release_made_again_answers_the_same() {
    // The model says 15.00, the program 12.00: held.
    let (store, engine) = billed(BillingMode::Agent, Some("15.00")).await;
    let invoices = store
        .invoices(&InvoiceQuery {
            account_id: Some(ACCOUNT.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(invoices[0].status, InvoiceStatus::Held);
    let release = ReleaseInvoice {
        account_id: ACCOUNT.into(),
        invoice_id: JAN.into(),
        actor: "alice".into(),
        reason: "checked".into(),
        request_id: Some("rel-1".into()),
    };
    let released = replayed!(
        store,
        engine.release_invoice(release.clone()),
        ReleaseInvoice {
            reason: "checked twice".into(),
            ..release.clone()
        },
        "rel-1"
    );
    assert_eq!(released.status, InvoiceStatus::Open);
    // Voided later, a retry of the release still answers what the release answered.
    engine
        .void_invoice(&VoidInvoice {
            account_id: ACCOUNT.into(),
            invoice_id: JAN.into(),
            rebill: false,
            actor: "alice".into(),
            reason: "wrong".into(),
            request_id: None,
        })
        .await
        .unwrap();
    assert_eq!(engine.release_invoice(&release).await.unwrap(), released);
}

#[tokio::test]
async fn a_plan_account_or_customer_saved_again_answers_the_same() {
    let (store, _, engine) = flat().await;
    let save = SavePlan {
        account_id: ACCOUNT.into(),
        plan: ai_plan("plan", "$10 per month"),
        actor: "admin".into(),
    };
    let first = engine.save_plan(&save).await.unwrap();
    let again = engine.save_plan(&save).await.unwrap();
    assert_eq!(again, first, "the same version, not a new one");
    assert_eq!(again.version, 1);

    let account = Account {
        abstracted: true,
        ..Account::new(ACCOUNT, New_York)
    };
    engine.save_account(&account, "admin").await.unwrap();
    engine.save_account(&account, "admin").await.unwrap();
    assert_eq!(store.account(ACCOUNT).await.unwrap(), Some(account));
    let customer = Customer::new(ACCOUNT, CUSTOMER);
    engine.save_customer(&customer, "admin").await.unwrap();
    engine.save_customer(&customer, "admin").await.unwrap();
    assert_eq!(
        store.customer(ACCOUNT, CUSTOMER).await.unwrap(),
        Some(customer)
    );
}
