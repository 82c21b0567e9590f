//! Every line explains itself (issue 21): over a generated data set with change traffic
//! (`generate` cancels, pauses, resumes and changes plans and quantities, with prorated
//! settlements and credit notes), billed by runs for five months, then corrected by hand (credits
//! of whole lines, of amounts asked for a line, of an amount spread over an invoice, and a void
//! with its period billed again), each line of every invoice and credit note carries a basis
//! whose arithmetic gives the line's amount exactly, and a sentence made from it.

use std::collections::BTreeMap;

use ai_billing::BillingState as _;
use ai_billing::basis::LineBasis;
use ai_billing::invoice::LineItem;
use ai_billing::money::Currency;
use ai_billing::sqlite::SqliteStore;
use ai_billing::store::{CreditNoteQuery, InvoiceQuery};
use serde_json::Value;

mod support;
use support::{ai_billing, ok};

const ACCOUNTS: [&str; 3] = ["acct_gazette", "acct_pacific", "acct_lemonde"];

/// The lines of every kind of basis seen, and how many.
#[derive(Debug, Default)]
struct Seen(BTreeMap<&'static str, usize>);

impl Seen {
    /// Checks that `line` (of `document`) has a basis giving its amount, and a sentence.
    fn check(&mut self, document: &str, currency: Currency, line: &LineItem) {
        let basis = line
            .basis
            .as_ref()
            .unwrap_or_else(|| panic!("{document}: {:?} has no basis", line.description));
        let recomputed = basis
            .recompute(currency)
            .unwrap_or_else(|e| panic!("{document}: {:?}: {e}\n{basis:#?}", line.description));
        assert_eq!(
            recomputed, line.amount,
            "{document}: {:?}: the basis gives {} for a line of {}\n{basis:#?}",
            line.description, recomputed, line.amount
        );
        let sentence = line.explanation.as_deref().unwrap_or_default();
        assert!(
            !sentence.is_empty(),
            "{document}: {:?} has no explanation",
            line.description
        );
        assert_eq!(sentence, basis.explain(currency));
        let kind = match basis {
            LineBasis::Recurring(_) => "recurring",
            LineBasis::Usage(_) => "usage",
            LineBasis::Change(_) => "change",
            LineBasis::LateUsage(_) => "late_usage",
            LineBasis::Credit(_) => "credit",
            LineBasis::NoCharge(_) => "no_charge",
        };
        *self.0.entry(kind).or_default() += 1;
    }
}

fn invoices_json(db: &str, account: &str) -> Vec<Value> {
    serde_json::from_str(&ok(&[
        "invoices",
        "--db",
        db,
        "--account",
        account,
        "--json",
    ]))
    .unwrap()
}

/// `ai-billing invoice COMMAND` on `id` of `account`, made on June 2.
fn correct(db: &str, account: &str, command: &str, id: &str, args: &[&str]) -> bool {
    let mut all = vec![
        "invoice",
        command,
        "--db",
        db,
        "--account",
        account,
        "--id",
        id,
        "--reason",
        "issue 21 test",
        "--at",
        "2026-06-02T15:00:00Z",
    ];
    all.extend_from_slice(args);
    ai_billing(&all).status.success()
}

#[test]
fn every_line_of_a_generated_data_set_recomputes_from_its_basis() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("explained.db").display());
    let db = db.as_str();
    ok(&[
        "generate",
        "--db",
        db,
        "--subscriptions",
        "400",
        "--start",
        "2026-01-01",
        "--months",
        "5",
        "--seed",
        "21",
        "--json",
    ]);
    ok(&["run", "--db", db, "--until", "2026-06-01", "--json"]);

    // Corrections by hand on the open invoices of one account with something to credit: a whole
    // line, an amount asked for a line, an amount spread over the invoice, and a void re-billed.
    let open: Vec<Value> = invoices_json(db, "acct_gazette")
        .into_iter()
        .filter(|i| i["status"] == "open" && i["subtotal"].as_str() != Some("0.00"))
        .collect();
    assert!(open.len() > 40, "{} open invoices", open.len());
    let id = |i: usize| open[i]["id"].as_str().unwrap().to_owned();
    let mut made = 0;
    for i in 0..10 {
        made += usize::from(correct(
            db,
            "acct_gazette",
            "credit",
            &id(i),
            &["--lines", "1"],
        ));
    }
    for i in 10..20 {
        made += usize::from(correct(
            db,
            "acct_gazette",
            "credit",
            &id(i),
            &["--lines", "1:0.01"],
        ));
    }
    for i in 20..30 {
        made += usize::from(correct(
            db,
            "acct_gazette",
            "credit",
            &id(i),
            &["--amount", "0.07"],
        ));
    }
    for i in 30..40 {
        made += usize::from(correct(db, "acct_gazette", "void", &id(i), &["--rebill"]));
    }
    assert!(made >= 25, "only {made} of 40 corrections were made");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let seen = runtime.block_on(async {
        let store = SqliteStore::open(db).await.unwrap();
        let mut seen = Seen::default();
        for account in ACCOUNTS {
            let invoices = store
                .invoices(&InvoiceQuery {
                    account_id: Some(account.to_owned()),
                    ..Default::default()
                })
                .await
                .unwrap();
            for invoice in &invoices {
                for line in &invoice.invoice.line_items {
                    seen.check(&invoice.id, invoice.invoice.currency, line);
                }
            }
            let notes = store
                .credit_notes(&CreditNoteQuery {
                    account_id: account.to_owned(),
                    ..Default::default()
                })
                .await
                .unwrap();
            for note in &notes {
                for line in &note.line_items {
                    seen.check(&note.id, note.currency, line);
                }
            }
        }
        seen
    });
    eprintln!(
        "{made} corrections made; lines checked by basis: {:?}",
        seen.0
    );
    // Every kind of line a data set with change traffic and corrections holds was checked.
    for kind in ["recurring", "usage", "change", "credit"] {
        assert!(
            seen.0.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} line was checked: {:?}",
            seen.0
        );
    }
    assert!(seen.0.values().sum::<usize>() > 1500, "{:?}", seen.0);
}
