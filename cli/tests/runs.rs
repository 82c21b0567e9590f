//! Billing runs as the platform runs them, through the `ai-billing` binary on real databases:
//! a run killed with SIGKILL mid-way (held there by the CLI's test hook, so the kill lands
//! however fast or slow the machine is) and at random moments, then resumed, ends with exactly
//! the invoices, credit notes and subscription states of an uninterrupted run, and two runs at
//! once issue every invoice once. On SQLite and PostgreSQL. The data has change traffic
//! (`generate` cancels, pauses, resumes and changes plans and quantities over its history), so the
//! runs bill canceled, paused and switched subscriptions too.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;
use support::{BIN, ai_billing, ok};

const SUBSCRIPTIONS: &str = "150";
/// More subscriptions than one page of a run's renewals (256), so a run paused after its first
/// page has provably work left.
const SUBSCRIPTIONS_OVER_A_PAGE: &str = "400";
/// The CLI's test hook: the run pauses for good once its first invoices are committed, and
/// writes this file to say so (see `cli/src/run.rs`).
const PAUSE_FILE_VAR: &str = "AI_BILLING_TEST_PAUSE_FILE";
const UNTIL: &str = "2026-04-30";

fn generate(db: &str) {
    let _summary = generate_subscriptions(db, SUBSCRIPTIONS);
}

/// Generates the data set; returns its summary (`--json`).
fn generate_subscriptions(db: &str, subscriptions: &str) -> Value {
    let summary = ok(&[
        "generate",
        "--db",
        db,
        "--subscriptions",
        subscriptions,
        "--start",
        "2026-01-01",
        "--months",
        "3",
        "--seed",
        "11",
        "--json",
    ]);
    serde_json::from_str(&summary).unwrap()
}

/// The accounts `generate` makes.
const ACCOUNTS: [&str; 3] = ["acct_gazette", "acct_pacific", "acct_lemonde"];

/// Every credit note of a database, by id, whole but for when it was written.
fn credit_notes(db: &str) -> BTreeMap<String, Value> {
    let mut by_id = BTreeMap::new();
    for account in ACCOUNTS {
        let listed: Vec<Value> = serde_json::from_str(&ok(&[
            "credit-notes",
            "--db",
            db,
            "--account",
            account,
            "--json",
        ]))
        .unwrap();
        for mut note in listed {
            note.as_object_mut().unwrap().remove("created_at");
            let id = format!("{account}/{}", note["id"].as_str().unwrap());
            assert!(
                by_id.insert(id.clone(), note).is_none(),
                "{id} listed twice"
            );
        }
    }
    by_id
}

/// Every invoice of a database, keyed by (subscription, period start), with what it bills.
fn invoices(db: &str) -> BTreeMap<(String, String), Value> {
    let listed: Vec<Value> =
        serde_json::from_str(&ok(&["invoices", "--db", db, "--json"])).unwrap();
    let mut by_key = BTreeMap::new();
    for invoice in listed {
        let key = (
            format!(
                "{}/{}",
                invoice["account_id"].as_str().unwrap(),
                invoice["subscription_id"].as_str().unwrap()
            ),
            invoice["period_start"].as_str().unwrap().to_owned(),
        );
        let billed = serde_json::json!({
            "id": invoice["id"],
            "billing_reason": invoice["billing_reason"],
            "quantity": invoice["quantity"],
            "line_items": invoice["line_items"],
            "subtotal": invoice["subtotal"],
            "tax_lines": invoice["tax_lines"],
            "tax": invoice["tax"],
            "total": invoice["total"],
            "revenue_schedule": invoice["revenue_schedule"],
        });
        assert!(
            by_key.insert(key.clone(), billed).is_none(),
            "invoice {key:?} listed twice"
        );
    }
    by_key
}

fn run(db: &str) -> Value {
    serde_json::from_str(&ok(&["run", "--db", db, "--until", UNTIL, "--json"])).unwrap()
}

/// Kill delays: each a pseudo-random 25% to 90% of `run_time` (how long an uninterrupted run
/// of the same data took), seeded by `seed`, so a failure is reproduced. These kills may land
/// anywhere, inside a commit too, or after the run ended: they add cases, the test does not count
/// on them (the paused kill is the one that surely lands mid-way).
fn delays(seed: u64, count: usize, run_time: Duration) -> Vec<Duration> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let percent = 25 + (state >> 33) % 66;
            run_time * percent as u32 / 100
        })
        .collect()
}

fn invoice_count(db: &str) -> u64 {
    let stats: Value = serde_json::from_str(&ok(&["stats", "--db", db, "--json"])).unwrap();
    stats["invoices"].as_u64().unwrap()
}

/// Starts a run held by the test hook, one page of renewals at a time (`--concurrency 1`), waits
/// until it has committed its first page and stopped there, checks it is mid-way (invoices
/// written, fewer than the run owes, the process still running) and kills it with SIGKILL.
/// Returns the invoices it had committed.
fn kill_mid_run(db: &str, expected: usize) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let paused = dir.path().join("paused");
    let mut child = Command::new(BIN)
        .args(["run", "--db", db, "--until", UNTIL, "--concurrency", "1"])
        .env(PAUSE_FILE_VAR, &paused)
        .env_remove("AI_BILLING_DB")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Waits for the run's own signal, not for a guessed delay: only the run ending first (a
    // failure) ends the wait otherwise.
    while !paused.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            panic!(
                "the run ended ({status}) before its first page was committed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let issued: u64 = std::fs::read_to_string(&paused).unwrap().parse().unwrap();
    let committed = invoice_count(db);
    assert!(
        issued > 0 && committed >= issued,
        "the paused run issued {issued}, the database holds {committed}"
    );
    assert!(
        committed < expected as u64,
        "the paused run left work to do: {committed} of {expected} invoices"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "the paused run is still running"
    );
    // Child::kill sends SIGKILL on Unix: no destructor, no rollback handler runs.
    child.kill().unwrap();
    child.wait().unwrap();
    committed
}

/// Kills a run mid-way (surely), then more runs at random moments, then lets one finish.
fn crash_and_resume(db: &str, run_time: Duration, expected: usize) -> u64 {
    let committed = kill_mid_run(db, expected);
    for delay in delays(run_time.as_millis() as u64, 4, run_time) {
        let mut child = Command::new(BIN)
            .args(["run", "--db", db, "--until", UNTIL, "--json"])
            .env_remove("AI_BILLING_DB")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        // Child::kill sends SIGKILL on Unix (an error only if the run has already ended).
        let _ = child.kill();
        child.wait().unwrap();
    }
    let last = run(db);
    assert_eq!(last["failed"], 0, "{last}");
    committed
}

fn check_crash_resume(reference: &str, crashed: &str) {
    let summary = generate_subscriptions(reference, SUBSCRIPTIONS_OVER_A_PAGE);
    generate_subscriptions(crashed, SUBSCRIPTIONS_OVER_A_PAGE);
    // The data has change traffic of every kind, and its credit notes.
    let changes = &summary["changes"];
    for kind in [
        "canceled_period_end",
        "canceled_immediately",
        "canceled_on_date",
        "holds",
        "holds_open",
        "plan_changes_period_end",
        "plan_changes_immediately",
        "quantity_changes_prorated",
        "credit_notes",
    ] {
        assert!(changes[kind].as_u64().unwrap() > 0, "no {kind}: {summary}");
    }
    let started = Instant::now();
    let uninterrupted = run(reference);
    let took = started.elapsed();
    assert_eq!(uninterrupted["failed"], 0, "{uninterrupted}");
    let expected = invoices(reference);
    assert!(expected.len() > 800, "{} invoices", expected.len());

    let committed_before_kill = crash_and_resume(crashed, took, expected.len());
    let got = invoices(crashed);
    assert_eq!(
        got.len(),
        expected.len(),
        "invoice count after a kill with {committed_before_kill} invoices committed"
    );
    for (key, billed) in &expected {
        assert_eq!(got.get(key), Some(billed), "invoice {key:?}");
    }
    let expected_notes = credit_notes(reference);
    assert!(!expected_notes.is_empty());
    assert_eq!(credit_notes(crashed), expected_notes);
    // Everything due is billed: a further run issues nothing.
    assert_eq!(run(crashed)["issued"], 0);
}

/// `scripts/compare-runs.sh --dbs`: every billing table of two SQLite files equal (invoices and
/// their rows, credit notes and theirs, subscriptions with their changes), when `sqlite3` is
/// installed (the script dumps through it); said and skipped otherwise.
fn compare_sqlite_files(reference: &Path, crashed: &Path) {
    if Command::new("sqlite3").arg("--version").output().is_err() {
        eprintln!("sqlite3 is not installed: the table-by-table comparison is skipped");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/compare-runs.sh");
    let out = Command::new("bash")
        .args([script, "--dbs"])
        .arg(reference)
        .arg(crashed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "compare-runs.sh --dbs: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    for table in [
        "invoices",
        "credit_notes",
        "credit_note_line_items",
        "subscriptions",
    ] {
        assert!(
            said.contains(&format!("{table}: ")),
            "{table} compared: {said}"
        );
    }
}

fn check_concurrent_runs(db: &str, reference: &str) {
    generate(db);
    generate(reference);
    // The changed subscriptions were billed up to each change by `generate`.
    let before = invoice_count(db);
    run(reference);
    let spawn = || {
        Command::new(BIN)
            .args(["run", "--db", db, "--until", UNTIL, "--json"])
            .output()
    };
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(spawn);
        let b = scope.spawn(spawn);
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    for out in [&a, &b] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let issued = |out: &std::process::Output| -> u64 {
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["issued"].as_u64().unwrap()
    };
    let expected = invoices(reference);
    let got = invoices(db);
    // Both runs together issued every invoice exactly once.
    assert_eq!(got.len(), expected.len());
    assert_eq!(
        issued(&a) + issued(&b),
        expected.len() as u64 - before,
        "the two runs issued {} and {}",
        issued(&a),
        issued(&b)
    );
    assert_eq!(got, expected);
    assert_eq!(credit_notes(db), credit_notes(reference));
}

/// Two fresh PostgreSQL databases, dropped when the test ends (even when it fails).
fn postgres_databases() -> (
    ai_billing_tests::pg::TestDatabase,
    ai_billing_tests::pg::TestDatabase,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        (
            ai_billing_tests::pg::TestDatabase::create().await,
            ai_billing_tests::pg::TestDatabase::create().await,
        )
    })
}

#[test]
fn postgres_run_killed_and_resumed_bills_exactly_once() {
    let (reference, crashed) = postgres_databases();
    check_crash_resume(reference.url(), crashed.url());
}

#[test]
fn postgres_two_runs_at_once_bill_exactly_once() {
    let (shared, reference) = postgres_databases();
    check_concurrent_runs(shared.url(), reference.url());
}

fn sqlite_url(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

#[test]
fn sqlite_run_killed_and_resumed_bills_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    check_crash_resume(
        &sqlite_url(dir.path(), "reference.db"),
        &sqlite_url(dir.path(), "crashed.db"),
    );
    compare_sqlite_files(
        &dir.path().join("reference.db"),
        &dir.path().join("crashed.db"),
    );
}

#[test]
fn sqlite_two_runs_at_once_bill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    check_concurrent_runs(
        &sqlite_url(dir.path(), "shared.db"),
        &sqlite_url(dir.path(), "reference.db"),
    );
}

#[test]
fn stats_count_what_a_run_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "stats.db");
    generate(&db);
    let before: Value = serde_json::from_str(&ok(&["stats", "--db", &db, "--json"])).unwrap();
    assert_eq!(before["subscriptions"], 150);
    // What the changed subscriptions owed when `generate` made their changes.
    let billed = before["invoices"].as_u64().unwrap();
    let report = run(&db);
    let after: Value = serde_json::from_str(&ok(&["stats", "--db", &db, "--json"])).unwrap();
    assert_eq!(
        after["invoices"].as_u64().unwrap(),
        billed + report["issued"].as_u64().unwrap()
    );
    assert!(after["audit_events"].as_u64().unwrap() > before["audit_events"].as_u64().unwrap());
    assert_eq!(after["audit_pending"], after["audit_events"]);
}

#[test]
fn a_run_taxes_each_customer_by_the_rate_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "taxed.db");
    generate(&db);
    let rates = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/tax-rates.json");
    let out = ok(&[
        "run",
        "--db",
        &db,
        "--until",
        UNTIL,
        "--tax-rates",
        rates,
        "--json",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["failed"], 0);
    let listed: Vec<Value> =
        serde_json::from_str(&ok(&["invoices", "--db", &db, "--json"])).unwrap();
    let names: std::collections::BTreeSet<&str> = listed
        .iter()
        .flat_map(|i| i["tax_lines"].as_array().unwrap())
        .map(|line| line["name"].as_str().unwrap())
        .collect();
    for name in [
        "CA state sales tax",
        "San Francisco district tax",
        "QST",
        "TVA",
    ] {
        assert!(names.contains(name), "{name} in {names:?}");
    }
    // Every taxed invoice: total = subtotal + tax, or subtotal when the site includes tax.
    for invoice in &listed {
        let cents = |field: &str| -> i64 {
            let text = invoice[field].as_str().unwrap().replace('.', "");
            text.parse().unwrap()
        };
        let inclusive = invoice["tax_inclusive"].as_bool().unwrap_or(false);
        let expected = if inclusive {
            cents("subtotal")
        } else {
            cents("subtotal") + cents("tax")
        };
        assert_eq!(cents("total"), expected, "{invoice}");
    }
    // A bad table is refused by name before anything is billed.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"rules": [{"name": "X", "country": "US", "rate": "7.5"}]}"#,
    )
    .unwrap();
    let out = ai_billing(&[
        "run",
        "--db",
        &db,
        "--until",
        UNTIL,
        "--tax-rates",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rate"));
}

/// A run up to a date that has not come yet is refused (exit 2, naming the date and now), and
/// writes nothing: its invoices would be issued before their time, on the usage known today.
#[test]
fn a_run_until_a_date_after_now_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "ahead.db");
    generate(&db);
    let before = invoices(&db);
    let out = ai_billing(&["run", "--db", &db, "--until", "2099-12-31", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("--until 2099-12-31T23:59:59.999999"),
        "{stderr}"
    );
    assert!(stderr.contains("2099-12-31T23:59:59.999999Z"), "{stderr}");
    // ... and now on the clock, the CLI's being the system's.
    let (_, clock) = stderr.split_once("clock (").expect("names now");
    let clock = chrono::DateTime::parse_from_rfc3339(clock.split(')').next().unwrap()).unwrap();
    assert!(
        (chrono::Utc::now() - clock.to_utc()).num_minutes().abs() < 10,
        "{stderr}"
    );
    assert_eq!(invoices(&db), before, "nothing was billed");
    // The same run up to a date that has come bills as usual.
    assert_eq!(run(&db)["failed"], 0);
    assert!(invoices(&db).len() > before.len());
}

/// `generate` writes all or nothing: a run that fails half-way leaves no new file behind, and one
/// into a database an earlier generate filled is refused before it writes anything.
#[test]
fn generate_writes_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Some subscriptions would start in the year 3000: refused after the accounts, plans and
    // first subscriptions were written.
    let path = dir.path().join("failed.db");
    let db = format!("sqlite://{}", path.display());
    let out = ai_billing(&[
        "generate",
        "--db",
        &db,
        "--subscriptions",
        "50",
        "--start",
        "2999-12-20",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("subscription.start_date"));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing left behind: {left:?}");

    let db = sqlite_url(dir.path(), "filled.db");
    generate(&db);
    let stats = || ok(&["stats", "--db", &db, "--json"]);
    let before = stats();
    let out = ai_billing(&[
        "generate",
        "--db",
        &db,
        "--subscriptions",
        "5",
        "--start",
        "2026-01-01",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("acct_gazette"), "{stderr}");
    assert_eq!(stats(), before, "nothing was written");
    assert!(path_exists(&db));
}

fn path_exists(url: &str) -> bool {
    Path::new(url.trim_start_matches("sqlite://")).exists()
}
