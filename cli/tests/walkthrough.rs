//! A newcomer's first hour, through the `ai-billing` binary: the README's walkthrough on SQLite
//! and PostgreSQL (`init` creating a missing PostgreSQL database, usage loaded from files,
//! invoices that bill it), `usage load` refusing a bad row by its line and field with nothing
//! written, and the messages met on the way (ranges, date formats, plurals, no debug output, no
//! driver line numbers).

use std::path::Path;

use ai_billing_tests::database::Dialect;
use ai_billing_tests::pg::{Postgres, TestDatabase};
use serde_json::Value;

mod support;
use support::{fails, ok};

const PROMPT: &str = "$0.75 per delivery Monday to Saturday and $2.50 per Sunday delivery; returned deliveries are not billed";

/// The repository's example usage files.
fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/usage")
        .join(name)
        .display()
        .to_string()
}

/// The README's walkthrough on `db`: an account, a customer, a usage plan, a subscription, the
/// example shipments and returns, a run; the invoices bill the deliveries less the returns.
fn walkthrough(db: &str) {
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
    ok(&[
        "plan",
        "save",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "plan_news",
        "--prompt",
        PROMPT,
    ]);
    ok(&[
        "subscription",
        "create",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "sub_1",
        "--customer",
        "cus_1",
        "--plan",
        "plan_news",
        "--start",
        "2026-01-15",
    ]);
    let shipments = example("shipments.csv");
    let loaded = ok(&[
        "usage",
        "load",
        "--db",
        db,
        "--account",
        "acct_1",
        &shipments,
    ]);
    assert!(
        loaded.starts_with("Loaded 80 shipments into account acct_1"),
        "{loaded}"
    );
    let returns = example("returns.jsonl");
    let loaded = ok(&[
        "usage",
        "load",
        "--db",
        db,
        "--account",
        "acct_1",
        "--returns",
        &returns,
    ]);
    assert!(loaded.starts_with("Loaded 3 returns"), "{loaded}");
    // Loading again is idempotent by row id: nothing new, every row skipped.
    let again = ok(&[
        "usage",
        "load",
        "--db",
        db,
        "--account",
        "acct_1",
        &shipments,
    ]);
    assert!(
        again.starts_with("Loaded 0 shipments") && again.contains("(80 already there, skipped)"),
        "{again}"
    );

    let renewed = ok(&["run", "--db", db, "--until", "2026-04-30"]);
    assert!(
        renewed.starts_with("Renewed 1 subscription up to")
            && renewed.contains("3 invoices issued"),
        "{renewed}"
    );
    let invoices: Vec<Value> = serde_json::from_str(&ok(&[
        "invoices",
        "--db",
        db,
        "--account",
        "acct_1",
        "--json",
    ]))
    .unwrap();
    let billed: Vec<(&str, &str)> = invoices
        .iter()
        .map(|invoice| {
            (
                invoice["line_items"][0]["description"].as_str().unwrap(),
                invoice["subtotal"].as_str().unwrap(),
            )
        })
        .collect();
    // Period 1, Jan 15 - Feb 15: 31 days, no delivery on Jan 23, Feb 1 and Feb 10 (every 9th
    // day), so 28 deliveries, 3 of them on Sundays (Jan 18, Jan 25, Feb 8); the returns of the
    // Jan 18 and Feb 8 deliveries (returned Jan 20 and Feb 9) come off: 26 counted, 25 Monday to
    // Saturday at 0.75 and 1 Sunday at 2.50 = 21.25. Periods 2 and 3 the same way.
    assert_eq!(
        billed,
        [
            ("Usage (Shipment) charge (26 shipments)", "21.25"),
            ("Usage (Shipment) charge (25 shipments)", "25.75"),
            ("Usage (Shipment) charge (26 shipments)", "24.75"),
        ],
        "{invoices:?}"
    );
    let text = ok(&["invoices", "--db", db, "--account", "acct_1", "--lines"]);
    assert!(text.contains("Usage (Shipment) charge"), "{text}");
    assert!(text.ends_with("3 invoices\n"), "{text}");
}

#[test]
fn sqlite_walkthrough_bills_loaded_usage() {
    let dir = tempfile::tempdir().unwrap();
    walkthrough(&format!(
        "sqlite://{}",
        dir.path().join("billing.db").display()
    ));
}

#[test]
fn postgres_walkthrough_creates_the_database_and_bills_loaded_usage() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A unique name, dropped now so `init` finds it missing; the guard drops what init made.
    let guard = runtime.block_on(TestDatabase::create());
    runtime
        .block_on(Postgres::run_admin(
            &ai_billing_tests::pg::admin_url(),
            Postgres::drop_statement(guard.name()),
        ))
        .unwrap();
    let url = guard.url().to_owned();

    // Any other command on the missing database says so, in PostgreSQL's words, once, and how
    // to create it.
    let missing = fails(&["stats", "--db", &url], 1);
    assert!(
        missing.contains("does not exist (SQLSTATE 3D000)"),
        "{missing}"
    );
    assert!(!missing.contains("at line"), "{missing}");
    assert!(!missing.contains("PostgreSQL failed"), "{missing}");
    assert!(missing.contains("hint: `ai-billing init --db"), "{missing}");

    let init = ok(&["init", "--db", &url]);
    assert!(
        init.starts_with(&format!(
            "Created the PostgreSQL database {}.",
            guard.name()
        )),
        "{init}"
    );
    walkthrough(&url);
}

#[test]
fn a_bad_row_names_its_line_and_field_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("billing.db").display());
    ok(&[
        "account",
        "save",
        "--db",
        &db,
        "--id",
        "acct_1",
        "--timezone",
        "UTC",
        "--abstracted",
    ]);
    ok(&[
        "customer",
        "save",
        "--db",
        &db,
        "--account",
        "acct_1",
        "--id",
        "cus_1",
    ]);
    let stats =
        || -> Value { serde_json::from_str(&ok(&["stats", "--db", &db, "--json"])).unwrap() };
    let before = stats();
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            "bad.csv",
            "id,customer_id,shipped_at,quantity\ns1,cus_1,2026-01-15T11:30:00Z,1\ns2,cus_1,01/16/2026,1\n",
            &["bad.csv line 3", "shipped_at", "RFC 3339"],
        ),
        (
            "zero.csv",
            "id,customer_id,shipped_at,quantity\ns1,cus_1,2026-01-15T11:30:00Z,0\n",
            &["zero.csv line 2", "quantity: 0"],
        ),
        (
            "short.csv",
            "id,customer_id,shipped_at,quantity\ns1,cus_1,2026-01-15T11:30:00Z\n",
            &["short.csv line 2", "3 cells, the header has 4"],
        ),
        (
            "twice.jsonl",
            "{\"id\":\"s1\",\"customer_id\":\"cus_1\",\"shipped_at\":\"2026-01-15T11:30:00Z\",\"quantity\":1}\n\n{\"id\":\"s1\",\"customer_id\":\"cus_1\",\"shipped_at\":\"2026-01-16T11:30:00Z\",\"quantity\":1}\n",
            &[
                "twice.jsonl line 3",
                "id: shipment \"s1\" is also on line 1",
            ],
        ),
        (
            "stranger.jsonl",
            "{\"id\":\"s1\",\"customer_id\":\"cus_1\",\"shipped_at\":\"2026-01-15T11:30:00Z\",\"quantity\":1}\n{\"id\":\"s2\",\"customer_id\":\"cus_9\",\"shipped_at\":\"2026-01-15T11:30:00Z\",\"quantity\":1}\n",
            &[
                "stranger.jsonl line 2",
                "customer_id",
                "\"cus_9\" does not exist",
            ],
        ),
        (
            "broken.jsonl",
            "{\"id\":\"s1\",\"customer_id\":\"cus_1\",\"shipped_at\":\"2026-01-15T11:30:00Z\",\"quantity\":1}\n{\"id\":\"s2\",\n",
            &["broken.jsonl line 2", "is not valid JSON"],
        ),
    ];
    for (name, text, said) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let stderr = fails(
            &[
                "usage",
                "load",
                "--db",
                &db,
                "--account",
                "acct_1",
                path.to_str().unwrap(),
            ],
            2,
        );
        for words in said {
            assert!(stderr.contains(words), "{name}: {words:?} in {stderr}");
        }
        assert_eq!(stats(), before, "{name}: nothing is written");
    }
}

#[test]
fn numbers_and_dates_name_their_rule() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("billing.db").display());
    for quantity in [
        ["--quantity", "-2"],
        ["--quantity=-2", ""],
        ["--quantity", "0"],
    ] {
        let mut args = vec![
            "subscription",
            "quantity",
            "--db",
            &db,
            "--account",
            "a",
            "--id",
            "s",
        ];
        args.extend(quantity.iter().filter(|arg| !arg.is_empty()));
        let stderr = fails(&args, 2);
        assert!(stderr.contains("from 1 to 100000"), "{args:?}: {stderr}");
        assert!(!stderr.contains("unexpected argument"), "{stderr}");
        assert!(!stderr.contains("4294967295"), "{stderr}");
    }
    let stderr = fails(
        &[
            "subscription",
            "create",
            "--db",
            &db,
            "--account",
            "a",
            "--id",
            "s",
            "--customer",
            "c",
            "--plan",
            "p",
            "--start",
            "01/15/2026",
        ],
        2,
    );
    assert!(stderr.contains("YYYY-MM-DD"), "{stderr}");
}

#[test]
fn plan_show_prints_the_program_and_its_reading_without_debug_output() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("billing.db").display());
    ok(&[
        "account",
        "save",
        "--db",
        &db,
        "--id",
        "acct_1",
        "--timezone",
        "UTC",
        "--abstracted",
    ]);
    ok(&[
        "plan",
        "save",
        "--db",
        &db,
        "--account",
        "acct_1",
        "--id",
        "plan_news",
        "--prompt",
        PROMPT,
    ]);
    let shown = ok(&[
        "plan",
        "show",
        "--db",
        &db,
        "--account",
        "acct_1",
        "--id",
        "plan_news",
    ]);
    assert!(
        shown.starts_with("Plan plan_news version 1 of account acct_1 (ai plan, USD):"),
        "{shown}"
    );
    assert!(!shown.contains("(Ai"), "{shown}");
    assert!(
        shown.contains("program (what every renewal evaluates):"),
        "{shown}"
    );
    assert!(shown.contains("\"usage\""), "the program itself: {shown}");
    assert!(shown.contains("reading:"), "{shown}");
    assert!(shown.contains("2.50 USD per shipment on sunday"), "{shown}");
}

#[test]
fn one_of_a_thing_is_singular() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.json");
    let scenario = serde_json::json!({
        "account": { "id": "acct_1", "abstracted": true, "timezone": "America/New_York" },
        "plan": { "type": "ai", "currency": "USD", "interval": "month", "interval_count": 1,
                  "ai_prompt": "$0.50 per shipment", "usage_query": "shipments_by_weekday" },
        "subscription": { "start": "2026-01-15", "quantity": 1 },
        "periods": 1,
        "shipments": [ { "id": "s1", "shipped_at": "2026-01-20T16:00:00Z", "quantity": 1 } ],
        "returns": []
    });
    std::fs::write(&path, scenario.to_string()).unwrap();
    let shown = ok(&["preview", path.to_str().unwrap()]);
    assert!(
        shown.contains("; 1 shipment, 0 returns; 1 period\n"),
        "{shown}"
    );
    assert!(
        shown.contains("Usage (Shipment) charge (1 shipment)"),
        "{shown}"
    );
    assert!(shown.contains("\n1 invoice, 0.50 USD in total."), "{shown}");
}
