//! The subscription changes through the `ai-billing` binary on a SQLite file (issue 18):
//! `subscription cancel|withdraw-cancel|pause|resume|plan`, `subscription quantity --prorate`
//! and `credit-notes`, each with the worked numbers of `billing-conventions.md` ("Subscription
//! changes", America/New_York, each change made at 15:00 UTC with `--at`), and their refusals:
//! invalid input exits 2 naming the field, a conflict exits 1 saying CONFLICT.

use serde_json::Value;

mod support;
use support::{ai_billing, fails, ok};

/// A database in a temporary directory (kept as long as the value lives).
struct Db {
    _dir: tempfile::TempDir,
    url: String,
}

/// An account in New York, a customer, and a plan `plan_1` of `prompt` (and more plans:
/// `(id, prompt, currency)`), on a fresh SQLite file.
fn setup(prompt: &str, more: &[(&str, &str, &str)]) -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("billing.db").display());
    let db = url.as_str();
    ok(&["init", "--db", db]);
    ok(&[
        "account",
        "save",
        "--db",
        db,
        "--id",
        "acct_1",
        "--timezone",
        "America/New_York",
        "--abstracted",
    ]);
    ok(&[
        "customer",
        "save",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "cus_1",
        "--country",
        "US",
    ]);
    let plans = std::iter::once(("plan_1", prompt, "USD")).chain(more.iter().copied());
    for (id, prompt, currency) in plans {
        ok(&[
            "plan",
            "save",
            "--db",
            db,
            "--account",
            "acct_1",
            "--id",
            id,
            "--prompt",
            prompt,
            "--currency",
            currency,
        ]);
    }
    Db { _dir: dir, url }
}

/// Subscription `id` to `plan_1` from `start`, created at 15:00 UTC on that day.
fn subscribe(db: &str, id: &str, start: &str, quantity: &str, tax: &[&str]) {
    let at = format!("{start}T15:00:00Z");
    let mut args = vec![
        "subscription",
        "create",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        id,
        "--customer",
        "cus_1",
        "--plan",
        "plan_1",
        "--start",
        start,
        "--quantity",
        quantity,
        "--at",
        &at,
    ];
    args.extend_from_slice(tax);
    ok(&args);
}

/// `ai-billing subscription COMMAND --db DB --account acct_1 --id ID --at DATE T15:00Z ARGS --json`.
fn change(db: &str, command: &str, id: &str, made: &str, args: &[&str]) -> Value {
    let at = format!("{made}T15:00:00Z");
    let mut all = vec![
        "subscription",
        command,
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        id,
        "--at",
        &at,
        "--json",
    ];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(&all)).unwrap()
}

/// The same change, expected to fail with `status`; returns its stderr.
fn change_fails(
    db: &str,
    command: &str,
    id: &str,
    made: &str,
    args: &[&str],
    status: i32,
) -> String {
    let at = format!("{made}T15:00:00Z");
    let mut all = vec![
        "subscription",
        command,
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        id,
        "--at",
        &at,
    ];
    all.extend_from_slice(args);
    fails(&all, status)
}

/// The invoices of `id`: (issue date, period start, period end, subtotal).
fn invoices(db: &str, id: &str) -> Vec<(String, String, String, String)> {
    let listed: Vec<Value> = serde_json::from_str(&ok(&[
        "invoices",
        "--db",
        db,
        "--account",
        "acct_1",
        "--subscription",
        id,
        "--json",
    ]))
    .unwrap();
    let mut rows: Vec<_> = listed
        .iter()
        .map(|invoice| {
            let text = |field: &str| invoice[field].as_str().unwrap().to_owned();
            (
                text("issue_date"),
                text("period_start"),
                text("period_end"),
                text("subtotal"),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn credit_notes(db: &str, id: &str) -> Vec<Value> {
    serde_json::from_str(&ok(&[
        "credit-notes",
        "--db",
        db,
        "--account",
        "acct_1",
        "--subscription",
        id,
        "--json",
    ]))
    .unwrap()
}

fn run(db: &str, until: &str) -> Value {
    serde_json::from_str(&ok(&["run", "--db", db, "--until", until, "--json"])).unwrap()
}

fn row(issue: &str, start: &str, end: &str, subtotal: &str) -> (String, String, String, String) {
    (issue.into(), start.into(), end.into(), subtotal.into())
}

#[test]
fn cancel_immediately_credits_the_unserved_days_with_their_tax() {
    let db = setup("$31 per month", &[]);
    let db = db.url.as_str();
    subscribe(db, "sub_1", "2026-01-15", "1", &["--tax-rate", "0.0825"]);
    let changed = change(
        db,
        "cancel",
        "sub_1",
        "2026-02-03",
        &["--effective", "immediately", "--tax-rate", "0.0825"],
    );
    // Made Feb 3: effective Feb 4; Feb 4-14 unserved; due round(31 x 20/31) = 20.00.
    let note = &changed["credit_note"];
    assert_eq!(note["id"], "cn_sub_1_1");
    assert_eq!(note["issue_date"], "2026-02-04");
    assert_eq!(note["invoice_period_start"], "2026-01-15");
    assert_eq!(note["reason"], "cancel");
    assert_eq!(note["subtotal"], "11.00");
    assert_eq!(note["tax"], "0.91");
    assert_eq!(note["total"], "11.91");
    assert_eq!(
        changed["subscription"]["changes"]["end"]["on"],
        "2026-02-04"
    );

    // Listed, as JSON and as a table.
    let listed = credit_notes(db, "sub_1");
    assert_eq!(listed.len(), 1);
    assert_eq!(&listed[0], note);
    let table = ok(&["credit-notes", "--db", db, "--account", "acct_1"]);
    assert!(table.starts_with("CREDIT NOTE"), "{table}");
    for said in [
        "cn_sub_1_1",
        "2026-02-04",
        "cancel",
        "11.00",
        "0.91",
        "11.91 USD",
        "1 credit note\n",
    ] {
        assert!(table.contains(said), "{said} in:\n{table}");
    }
    let whole = ok(&["credit-notes", "--db", db, "--account", "acct_1", "--lines"]);
    assert!(whole.contains("Total credited"), "{whole}");
    let shown = ok(&[
        "subscription",
        "show",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "sub_1",
    ]);
    assert!(shown.contains("Canceled from 2026-02-04."), "{shown}");

    // Nothing is billed after the end; the subscription is canceled and can no longer change.
    run(db, "2026-04-30");
    assert_eq!(
        invoices(db, "sub_1"),
        [row("2026-01-15", "2026-01-15", "2026-02-15", "31.00")]
    );
    let shown: Value = serde_json::from_str(&ok(&[
        "subscription",
        "show",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "sub_1",
        "--json",
    ]))
    .unwrap();
    assert_eq!(shown["status"], "canceled");
    let err = change_fails(
        db,
        "pause",
        "sub_1",
        "2026-05-01",
        &["--from", "2026-05-02"],
        2,
    );
    assert!(err.contains("subscription.status"), "{err}");
    assert!(err.contains("INVALID_INPUT"), "{err}");
}

#[test]
fn the_cancel_of_a_human_reads_as_sentences() {
    let db = setup("$31 per month", &[]);
    let db = db.url.as_str();
    subscribe(db, "sub_1", "2026-01-15", "1", &[]);
    let said = ok(&[
        "subscription",
        "cancel",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "sub_1",
        "--effective",
        "immediately",
        "--at",
        "2026-02-03T15:00:00Z",
    ]);
    assert!(
        said.starts_with("Subscription sub_1 is canceled from 2026-02-04.\n"),
        "{said}"
    );
    assert!(
        said.contains("Credit note cn_sub_1_1 (against invoice"),
        "{said}"
    );
    assert!(said.contains("Total credited"), "{said}");
}

#[test]
fn cancel_without_credit_issues_no_credit_note() {
    let db = setup("$31 per month", &[]);
    let db = db.url.as_str();
    subscribe(db, "sub_1", "2026-01-15", "1", &[]);
    let changed = change(
        db,
        "cancel",
        "sub_1",
        "2026-02-03",
        &["--effective", "immediately", "--no-credit"],
    );
    assert!(changed["credit_note"].is_null(), "{changed}");
    assert_eq!(
        changed["subscription"]["changes"]["end"]["credit_unused"],
        false
    );
    assert!(credit_notes(db, "sub_1").is_empty());
    let said = ok(&["credit-notes", "--db", db, "--account", "acct_1"]);
    assert_eq!(said, "0 credit notes\n");
}

#[test]
fn cancel_at_period_end_and_on_a_date_and_a_withdrawal() {
    let db = setup("$20 per month", &[]);
    let db = db.url.as_str();
    // At period end, made Feb 20: the Feb 15 - Mar 15 period is the last.
    subscribe(db, "sub_end", "2026-01-15", "1", &[]);
    let changed = change(db, "cancel", "sub_end", "2026-02-20", &[]);
    assert_eq!(
        changed["subscription"]["changes"]["end"]["on"],
        "2026-03-15"
    );
    assert!(changed["credit_note"].is_null());
    // On a date: Mar 1, inside the Feb 15 period, billed already: Mar 1-14 credited.
    subscribe(db, "sub_date", "2026-01-15", "1", &[]);
    let changed = change(
        db,
        "cancel",
        "sub_date",
        "2026-02-20",
        &["--effective", "2026-03-01"],
    );
    assert_eq!(changed["credit_note"]["issue_date"], "2026-03-01");
    assert_eq!(changed["credit_note"]["subtotal"], "10.00"); // round(20 x 14/28)
    // Withdrawn before it takes effect: billed on as if never canceled.
    subscribe(db, "sub_back", "2026-01-15", "1", &[]);
    change(db, "cancel", "sub_back", "2026-02-20", &[]);
    let back = change(db, "withdraw-cancel", "sub_back", "2026-02-21", &[]);
    assert!(back["subscription"]["changes"]["end"].is_null(), "{back}");
    // Nothing to withdraw now.
    let err = change_fails(db, "withdraw-cancel", "sub_back", "2026-02-22", &[], 2);
    assert!(err.contains("cancel"), "{err}");

    run(db, "2026-04-30");
    assert_eq!(
        invoices(db, "sub_end"),
        [
            row("2026-01-15", "2026-01-15", "2026-02-15", "20.00"),
            row("2026-02-15", "2026-02-15", "2026-03-15", "20.00"),
        ]
    );
    assert_eq!(invoices(db, "sub_date").len(), 2);
    assert_eq!(invoices(db, "sub_back").len(), 4);
}

#[test]
fn a_pause_of_a_billed_period_is_credited_and_an_overlap_is_a_conflict() {
    let db = setup("$31 per month", &[]);
    let db = db.url.as_str();
    subscribe(db, "sub_1", "2026-01-15", "1", &[]);
    // Made Feb 20, from Mar 1 until Mar 8: the Feb 15 period (28 days) billed 31.00 owes
    // round(31 x 21/28) = 23.25.
    let changed = change(
        db,
        "pause",
        "sub_1",
        "2026-02-20",
        &["--from", "2026-03-01", "--until", "2026-03-08"],
    );
    let note = &changed["credit_note"];
    assert_eq!(note["issue_date"], "2026-03-01");
    assert_eq!(note["invoice_period_start"], "2026-02-15");
    assert_eq!(note["reason"], "pause");
    assert_eq!(note["subtotal"], "7.75");

    let err = change_fails(
        db,
        "pause",
        "sub_1",
        "2026-02-21",
        &["--from", "2026-03-05", "--until", "2026-03-10"],
        1,
    );
    assert!(err.contains("CONFLICT"), "{err}");
    assert!(err.contains("overlaps"), "{err}");

    run(db, "2026-04-30");
    let billed: Vec<String> = invoices(db, "sub_1").into_iter().map(|i| i.3).collect();
    assert_eq!(billed, ["31.00", "31.00", "31.00", "31.00"]);
    assert_eq!(credit_notes(db, "sub_1").len(), 1);
}

#[test]
fn an_open_pause_ends_with_a_resume() {
    let db = setup("$31 per month", &[]);
    let db = db.url.as_str();
    subscribe(db, "sub_1", "2026-01-15", "1", &[]);
    // Made Jan 20, open from Mar 20; resumed on Apr 5 (made Mar 1): the Mar 15 - Apr 15 period
    // is billed 15 of 31 days.
    let paused = change(
        db,
        "pause",
        "sub_1",
        "2026-01-20",
        &["--from", "2026-03-20"],
    );
    assert!(
        paused["subscription"]["changes"]["pauses"][0]["until"].is_null(),
        "{paused}"
    );
    let shown = ok(&[
        "subscription",
        "show",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "sub_1",
    ]);
    assert!(
        shown.contains("Paused from 2026-03-20 until further notice."),
        "{shown}"
    );
    let resumed = change(db, "resume", "sub_1", "2026-03-01", &["--on", "2026-04-05"]);
    assert_eq!(
        resumed["subscription"]["changes"]["pauses"][0]["until"],
        "2026-04-05"
    );
    // A resume before the pause began, or backdated, is refused by its field.
    let err = change_fails(
        db,
        "resume",
        "sub_1",
        "2026-03-02",
        &["--on", "2026-03-01"],
        2,
    );
    assert!(err.contains("resume.on"), "{err}");

    run(db, "2026-04-30");
    let billed: Vec<String> = invoices(db, "sub_1").into_iter().map(|i| i.3).collect();
    assert_eq!(billed, ["31.00", "31.00", "15.00", "31.00"]);
}

#[test]
fn a_plan_change_immediately_credits_the_old_plan_and_bills_the_new_from_the_next_day() {
    let db = setup(
        "$31 per month",
        &[
            (
                "plan_step",
                "Bill $20 for the first month and increase by $2 per month",
                "USD",
            ),
            ("plan_eur", "€10 per month", "EUR"),
        ],
    );
    let db = db.url.as_str();
    subscribe(db, "sub_1", "2026-01-15", "1", &[]);
    // Another currency is refused, naming the field.
    let err = change_fails(
        db,
        "plan",
        "sub_1",
        "2026-02-03",
        &["--plan", "plan_eur", "--effective", "immediately"],
        2,
    );
    assert!(err.contains("plan.currency"), "{err}");
    let changed = change(
        db,
        "plan",
        "sub_1",
        "2026-02-03",
        &["--plan", "plan_step", "--effective", "immediately"],
    );
    assert_eq!(changed["credit_note"]["subtotal"], "11.00");
    assert_eq!(changed["credit_note"]["reason"], "plan_change");
    assert_eq!(
        changed["subscription"]["changes"]["switch"]["plan_id"],
        "plan_step"
    );

    run(db, "2026-03-31");
    assert_eq!(
        invoices(db, "sub_1"),
        [
            row("2026-01-15", "2026-01-15", "2026-02-15", "31.00"),
            row("2026-02-04", "2026-02-04", "2026-02-15", "7.10"),
            row("2026-02-15", "2026-02-15", "2026-03-15", "22.00"),
            row("2026-03-15", "2026-03-15", "2026-04-15", "24.00"),
        ]
    );
}

#[test]
fn a_plan_change_at_period_end_keeps_the_anchor_day() {
    let db = setup(
        "$20 per month",
        &[(
            "plan_step",
            "Bill $5 for the first month and increase by $1 per month",
            "USD",
        )],
    );
    let db = db.url.as_str();
    subscribe(db, "sub_1", "2026-01-31", "1", &[]);
    let said = ok(&[
        "subscription",
        "plan",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "sub_1",
        "--plan",
        "plan_step",
        "--at",
        "2026-02-10T15:00:00Z",
    ]);
    assert!(
        said.starts_with("Subscription sub_1 bills by plan plan_step from 2026-02-28."),
        "{said}"
    );
    assert!(said.contains("No credit note."), "{said}");
    run(db, "2026-03-31");
    let billed: Vec<String> = invoices(db, "sub_1").into_iter().map(|i| i.3).collect();
    assert_eq!(billed, ["20.00", "5.00", "6.00"]);
}

#[test]
fn a_prorated_quantity_bills_the_days_at_each_quantity() {
    let db = setup("$12 per month for each copy", &[]);
    let db = db.url.as_str();
    subscribe(db, "sub_up", "2026-04-01", "2", &[]);
    // Made Apr 10, effective Apr 11: 10 days at 2, 20 at 3; billed 24.00, due 32.00.
    let changed = change(
        db,
        "quantity",
        "sub_up",
        "2026-04-10",
        &["--quantity", "3", "--prorate"],
    );
    assert_eq!(changed["subscription"]["quantity"], 3);
    assert!(changed["credit_note"].is_null());
    // A decrease on a billed period is a credit note: 3 -> 1 from Apr 21, 10 of 30 days at 2
    // copies less (round(24 x 10/30) = 8.00).
    subscribe(db, "sub_down", "2026-04-01", "3", &[]);
    let changed = change(
        db,
        "quantity",
        "sub_down",
        "2026-04-10",
        &["--quantity", "1", "--prorate", "--effective", "2026-04-21"],
    );
    assert_eq!(changed["credit_note"]["reason"], "quantity");
    assert_eq!(changed["credit_note"]["subtotal"], "8.00");
    assert_eq!(changed["credit_note"]["issue_date"], "2026-04-21");
    // Without --prorate the quantity applies from the next invoice, as before.
    subscribe(db, "sub_plain", "2026-04-01", "1", &[]);
    let said = ok(&[
        "subscription",
        "quantity",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "sub_plain",
        "--quantity",
        "2",
        "--at",
        "2026-04-10T15:00:00Z",
    ]);
    assert!(
        said.contains("now has quantity 2; it applies from the invoice for period 2"),
        "{said}"
    );
    // --effective needs --prorate.
    let out = ai_billing(&[
        "subscription",
        "quantity",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "sub_plain",
        "--quantity",
        "2",
        "--effective",
        "immediately",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--prorate"));

    run(db, "2026-06-01");
    let billed: Vec<String> = invoices(db, "sub_up").into_iter().map(|i| i.3).collect();
    assert_eq!(billed, ["24.00", "44.00", "36.00"]);
    let plain: Vec<String> = invoices(db, "sub_plain").into_iter().map(|i| i.3).collect();
    assert_eq!(plain, ["12.00", "24.00", "24.00"]);
}

#[test]
fn bad_change_inputs_exit_2_naming_the_field() {
    let db = setup("$31 per month", &[]);
    let db = db.url.as_str();
    subscribe(db, "sub_1", "2026-01-15", "1", &[]);
    for (command, args, said) in [
        ("cancel", vec!["--effective", "tomorrow"], "--effective"),
        (
            "cancel",
            vec!["--effective", "2026-02-01"],
            "cancel.effective",
        ),
        ("pause", vec!["--from", "03/01/2026"], "--from"),
        ("pause", vec!["--from", "2026-01-20"], "pause.from"),
        (
            "pause",
            vec!["--from", "2026-03-08", "--until", "2026-03-01"],
            "pause.until",
        ),
        ("resume", vec!["--on", "2026-03-01"], "resume.on"),
        ("plan", vec!["--plan", "plan_nope"], "plan"),
    ] {
        let status = if command == "plan" { 1 } else { 2 };
        let err = change_fails(db, command, "sub_1", "2026-02-03", &args, status);
        assert!(err.contains(said), "{command} {args:?}: {err}");
    }
    let err = fails(
        &[
            "subscription",
            "cancel",
            "--db",
            db,
            "--account",
            "acct_1",
            "--id",
            "sub_1",
            "--at",
            "2026-02-03",
        ],
        2,
    );
    assert!(err.contains("--at") && err.contains("RFC 3339"), "{err}");
    // An unknown subscription is not found (exit 1), naming it.
    let err = change_fails(db, "cancel", "sub_nope", "2026-02-03", &[], 1);
    assert!(err.contains("sub_nope"), "{err}");
    // Nothing was written by any of them.
    assert!(credit_notes(db, "sub_1").is_empty());
}
