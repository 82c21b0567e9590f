//! Billing runs as the platform runs them, through the `ai-billing` binary on real databases:
//! a run killed with SIGKILL at random moments and resumed ends with exactly the invoices of an
//! uninterrupted run, and two runs at once issue every invoice once. On SQLite and PostgreSQL.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ai-billing");
const SUBSCRIPTIONS: &str = "150";
const UNTIL: &str = "2026-04-30";

fn ai_billing(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("AI_BILLING_DB")
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = ai_billing(args);
    assert!(
        out.status.success(),
        "ai-billing {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn generate(db: &str) {
    ok(&[
        "generate",
        "--db",
        db,
        "--subscriptions",
        SUBSCRIPTIONS,
        "--start",
        "2026-01-01",
        "--months",
        "3",
        "--seed",
        "11",
    ]);
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
/// of the same data took), so kills land while a run is working however fast runs get; seeded
/// by `seed`, so a failure is reproduced.
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

/// Starts runs and kills each with SIGKILL after a delay, then lets one finish. Returns how many
/// kills landed while the run was still working.
fn crash_and_resume(db: &str, run_time: Duration) -> usize {
    let mut killed_mid_run = 0;
    for delay in delays(run_time.as_millis() as u64, 6, run_time) {
        let mut child = Command::new(BIN)
            .args(["run", "--db", db, "--until", UNTIL, "--json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            // Child::kill sends SIGKILL on Unix: no destructor, no rollback handler runs.
            child.kill().unwrap();
            killed_mid_run += 1;
        }
        child.wait().unwrap();
    }
    let last = run(db);
    assert_eq!(last["failed"], 0, "{last}");
    killed_mid_run
}

fn check_crash_resume(reference: &str, crashed: &str) {
    generate(reference);
    generate(crashed);
    let started = Instant::now();
    let uninterrupted = run(reference);
    let took = started.elapsed();
    assert_eq!(uninterrupted["failed"], 0, "{uninterrupted}");
    let expected = invoices(reference);
    assert!(expected.len() > 300, "{} invoices", expected.len());

    let kills = crash_and_resume(crashed, took);
    assert!(kills > 0, "no kill landed during a run ({took:?} per run)");
    let got = invoices(crashed);
    assert_eq!(
        got.len(),
        expected.len(),
        "invoice count after {kills} kills"
    );
    for (key, billed) in &expected {
        assert_eq!(got.get(key), Some(billed), "invoice {key:?}");
    }
    // Everything due is billed: a further run issues nothing.
    assert_eq!(run(crashed)["issued"], 0);
}

fn check_concurrent_runs(db: &str, reference: &str) {
    generate(db);
    generate(reference);
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
    // Both runs together issued every invoice exactly once (generate bills nothing itself).
    assert_eq!(got.len(), expected.len());
    assert_eq!(
        issued(&a) + issued(&b),
        expected.len() as u64,
        "the two runs issued {} and {}",
        issued(&a),
        issued(&b)
    );
    assert_eq!(got, expected);
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
    assert_eq!(before["invoices"], 0);
    let report = run(&db);
    let after: Value = serde_json::from_str(&ok(&["stats", "--db", &db, "--json"])).unwrap();
    assert_eq!(after["invoices"], report["issued"]);
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
