//! Invoice corrections through the `ai-billing` binary on a SQLite file (issue 19):
//! `invoice release|void [--rebill]|credit --lines/--amount --actor --reason`, and `invoices`
//! showing a held invoice's two answers. A held invoice comes from a run in the agent mode
//! against a local OpenAI-protocol server answering 1.00 too much on every line
//! ([`MockOpenAi`], `wrong_amounts`). Refusals: invalid input exits 2 naming the field, a
//! conflict exits 1 saying CONFLICT, an unknown invoice exits 1 saying NOT_FOUND.

use std::process::{Command, Output};

use ai_billing_tests::openai_mock::{MockBehaviour, MockOpenAi};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ai-billing");

fn ai_billing(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("AI_BILLING_DB")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    ok_with(args, &[])
}

fn ok_with(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = ai_billing(args, env);
    assert!(
        out.status.success(),
        "ai-billing {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str], status: i32) -> String {
    let out = ai_billing(args, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(status), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
    stderr
}

/// An account in New York, a customer, "$10 per month for each seat" and subscription `sub_1`
/// from Jan 1 2026 on a fresh SQLite file.
fn setup(dir: &tempfile::TempDir) -> String {
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
    ]);
    ok(&[
        "plan",
        "save",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "plan_1",
        "--prompt",
        "$10 per month for each seat",
    ]);
    url
}

fn subscribe(db: &str, id: &str, env: &[(&str, &str)], mode: &[&str]) {
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
        "2026-01-01",
        "--quantity",
        "2",
        "--tax-rate",
        "0.0825",
        "--at",
        "2026-01-01T15:00:00Z",
    ];
    args.extend_from_slice(mode);
    ok_with(&args, env);
}

fn invoices(db: &str) -> Vec<Value> {
    serde_json::from_str(&ok(&[
        "invoices",
        "--db",
        db,
        "--account",
        "acct_1",
        "--json",
    ]))
    .unwrap()
}

/// `ai-billing invoice COMMAND --db DB --account acct_1 --id ID ARGS` (`--at` Jan 10 2026 when
/// `ARGS` do not say when).
fn correct(db: &str, command: &str, id: &str, args: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = [
        "invoice",
        command,
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        id,
    ]
    .map(str::to_owned)
    .to_vec();
    all.extend(args.iter().map(|a| (*a).to_owned()));
    // Made in January unless told: what the subscription owes up to then is issued first.
    if !args.contains(&"--at") {
        all.extend(["--at".to_owned(), "2026-01-10T15:00:00Z".to_owned()]);
    }
    all
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn void_rebill_and_credit_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(&dir);
    let db = db.as_str();
    // $10 x 2 seats, in advance: 20.00, tax 1.65, issued at creation.
    subscribe(db, "sub_1", &[], &[]);
    let first = "in_sub_1_20260101";
    assert_eq!(invoices(db)[0]["id"], first);

    // Void and re-bill: a new id, the same amounts.
    let voided: Value = serde_json::from_str(&ok(&refs(&correct(
        db,
        "void",
        first,
        &[
            "--rebill",
            "--reason",
            "wrong seats",
            "--actor",
            "ops",
            "--at",
            "2026-01-02T15:00:00Z",
            "--tax-rate",
            "0.0825",
            "--json",
        ],
    ))))
    .unwrap();
    assert_eq!(voided["invoice"]["status"], "void");
    assert_eq!(voided["rebilled"]["id"], "in_sub_1_20260101_r1");
    assert_eq!(voided["rebilled"]["total"], "21.65");
    let listed = invoices(db);
    let statuses: Vec<(&str, &str)> = listed
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [(first, "void"), ("in_sub_1_20260101_r1", "open")]
    );

    // A credit of line 1 for 5.00, in words; then more than is left exits 2 naming the field.
    let rebilled = "in_sub_1_20260101_r1";
    let said = ok(&refs(&correct(
        db,
        "credit",
        rebilled,
        &[
            "--lines",
            "1:5.00",
            "--reason",
            "a missed week",
            "--at",
            "2026-01-10T15:00:00Z",
        ],
    )));
    assert!(
        said.contains("Credit note cn_sub_1_1 credits 5.41 USD"),
        "{said}"
    );
    let stderr = fails(
        &refs(&correct(
            db,
            "credit",
            rebilled,
            &["--amount", "15.01", "--reason", "too much"],
        )),
        2,
    );
    assert!(stderr.contains("credit.amount"), "{stderr}");
    assert!(stderr.contains("15.00 left"), "{stderr}");
    let stderr = fails(
        &refs(&correct(
            db,
            "credit",
            rebilled,
            &["--amount", "1.001", "--reason", "x"],
        )),
        2,
    );
    assert!(stderr.contains("--amount"), "{stderr}");
    // A credited invoice is not voided; an open one is not released; an unknown one is not found.
    let stderr = fails(&refs(&correct(db, "void", rebilled, &["--reason", "x"])), 1);
    assert!(
        stderr.contains("CONFLICT") && stderr.contains("cn_sub_1_1"),
        "{stderr}"
    );
    let stderr = fails(
        &refs(&correct(db, "release", rebilled, &["--reason", "x"])),
        1,
    );
    assert!(
        stderr.contains("CONFLICT") && stderr.contains("is open"),
        "{stderr}"
    );
    let stderr = fails(
        &refs(&correct(
            db,
            "void",
            "in_sub_1_19990101",
            &["--reason", "x"],
        )),
        1,
    );
    assert!(stderr.contains("NOT_FOUND"), "{stderr}");
    // --reason is required, and --lines or --amount.
    fails(&refs(&correct(db, "void", rebilled, &[])), 2);
    fails(
        &refs(&correct(db, "credit", rebilled, &["--reason", "x"])),
        2,
    );
    assert_eq!(invoices(db).len(), 2, "the refusals wrote nothing");
}

#[test]
fn a_held_invoice_shows_both_answers_and_is_released() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockOpenAi::start_with(MockBehaviour {
        wrong_amounts: true,
        ..MockBehaviour::default()
    }));
    let base_url = mock.base_url();
    let env = [
        ("OPENAI_API_KEY", "test-key"),
        ("OPENAI_BASE_URL", base_url.as_str()),
    ];
    let dir = tempfile::tempdir().unwrap();
    let db = setup(&dir);
    let db = db.as_str();
    subscribe(db, "sub_1", &env, &["--mode", "agent"]);
    let held = &invoices(db)[0];
    assert_eq!(held["status"], "held", "{held}");
    assert_eq!(held["subtotal"], "20.00", "the program's amounts");
    assert_eq!(held["review"]["model"]["amount"].to_string(), "21.00");
    assert!(
        held["review"]["differences"][0]
            .as_str()
            .unwrap()
            .contains("21.00")
    );

    // `invoices` shows both answers and what differed under the held invoice.
    let listing = ok(&["invoices", "--db", db, "--account", "acct_1"]);
    assert!(listing.contains("Held for review"), "{listing}");
    assert!(
        listing.contains("The model's answer: 21.00 USD"),
        "{listing}"
    );
    assert!(
        listing.contains("The program's answer (the invoice's lines): 20.00 USD"),
        "{listing}"
    );
    assert!(listing.contains("What differed:"), "{listing}");
    // The listing's filters: by status, customer and issue dates.
    let held = ok(&[
        "invoices",
        "--db",
        db,
        "--account",
        "acct_1",
        "--status",
        "held",
    ]);
    assert!(
        held.contains("in_sub_1_20260101") && held.ends_with("1 invoice\n"),
        "{held}"
    );
    let none = ok(&[
        "invoices",
        "--db",
        db,
        "--account",
        "acct_1",
        "--status",
        "open",
    ]);
    assert!(none.ends_with("0 invoices\n"), "{none}");
    let dated = ok(&[
        "invoices",
        "--db",
        db,
        "--account",
        "acct_1",
        "--customer",
        "cus_1",
        "--issued-from",
        "2026-01-01",
        "--issued-to",
        "2026-01-01",
    ]);
    assert!(dated.contains("in_sub_1_20260101"), "{dated}");
    let later = ok(&[
        "invoices",
        "--db",
        db,
        "--account",
        "acct_1",
        "--issued-from",
        "2026-01-02",
    ]);
    assert!(later.ends_with("0 invoices\n"), "{later}");
    let stderr = fails(&["invoices", "--db", db, "--status", "paid"], 2);
    assert!(stderr.contains("open, held or void"), "{stderr}");

    let said = ok(&refs(&correct(
        db,
        "release",
        "in_sub_1_20260101",
        &["--reason", "checked by hand", "--actor", "carol"],
    )));
    assert!(said.contains("is released"), "{said}");
    assert_eq!(invoices(db)[0]["status"], "open");
    // Released twice: issued once.
    let stderr = fails(
        &refs(&correct(
            db,
            "release",
            "in_sub_1_20260101",
            &["--reason", "again"],
        )),
        1,
    );
    assert!(
        stderr.contains("CONFLICT") && stderr.contains("is open"),
        "{stderr}"
    );
    // The trail says who and why.
    let trail = ok(&[
        "audit",
        "show",
        "--db",
        db,
        "--account",
        "acct_1",
        "--subscription",
        "in_sub_1_20260101",
        "--json",
    ]);
    assert!(trail.contains("invoice_released"), "{trail}");
    assert!(
        trail.contains("checked by hand") && trail.contains("carol"),
        "{trail}"
    );
}
