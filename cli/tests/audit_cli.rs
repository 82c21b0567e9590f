//! The audit trail through the binary and a local OpenSearch-compatible server (osmem-server):
//! a run with OpenSearch down for part of it, then `audit ship`, leaves exactly the store's
//! events in OpenSearch, none twice and none pending; `audit show` renders a renewal.

use std::process::Command;

use ai_billing_tests::opensearch::OsmemServer;
use serde_json::Value;

mod support;
use support::{ai_billing, ok};

/// The number of documents in the audit index, and how many distinct ids they have.
fn documents(server: &OsmemServer) -> (u64, usize) {
    let client = |path: &str, body: &str| -> Value {
        let out = Command::new("curl")
            .args(["-s", "-H", "Content-Type: application/json", "-d", body])
            .arg(format!("{}{path}", server.url()))
            .output()
            .expect("curl runs");
        serde_json::from_slice(&out.stdout).expect("JSON from the server")
    };
    let _ = client("/ai-billing-audit/_refresh", "{}");
    let count = client("/ai-billing-audit/_count", "{}")["count"]
        .as_u64()
        .unwrap();
    let hits = client(
        "/ai-billing-audit/_search",
        &format!(r#"{{"size": {count}, "_source": false}}"#),
    );
    let ids: std::collections::HashSet<String> = hits["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["_id"].as_str().unwrap().to_owned())
        .collect();
    (count, ids.len())
}

fn stats(db: &str) -> Value {
    serde_json::from_str(&ok(&["stats", "--db", db, "--json"])).unwrap()
}

#[test]
fn a_run_through_an_outage_then_audit_ship_leaves_every_event_once() {
    let server = OsmemServer::start();
    let url = server.url();
    // The outage: OpenSearch unreachable from the billing side. (Stopping osmem-server itself
    // would lose what it holds: it keeps documents in memory, unlike a real cluster.)
    let down = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("audit.db").display());
    ok(&[
        "generate",
        "--db",
        &db,
        "--subscriptions",
        "60",
        "--start",
        "2026-01-01",
        "--months",
        "3",
        "--seed",
        "5",
    ]);
    // The first run ships while it bills.
    ok(&[
        "run",
        "--db",
        &db,
        "--until",
        "2026-02-15",
        "--audit",
        "opensearch",
        "--opensearch-url",
        &url,
    ]);
    let shipped = stats(&db);
    assert_eq!(shipped["audit_pending"], 0, "{shipped}");
    // OpenSearch goes down: billing goes on, the events wait in the outbox.
    let out = ai_billing(&[
        "run",
        "--db",
        &db,
        "--until",
        "2026-04-30",
        "--audit",
        "opensearch",
        "--opensearch-url",
        &down,
        "--json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["issued"].as_u64().unwrap() > 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("audit ship"));
    let waiting = stats(&db);
    assert!(waiting["audit_pending"].as_u64().unwrap() > 0, "{waiting}");
    let out = ai_billing(&["audit", "ship", "--db", &db, "--opensearch-url", &down]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "shipping to a server that is down fails"
    );
    assert_eq!(stats(&db)["audit_pending"], waiting["audit_pending"]);
    // Back up: one `audit ship` drains it all, and a second ships nothing more.
    ok(&["audit", "ship", "--db", &db, "--opensearch-url", &url]);
    ok(&["audit", "ship", "--db", &db, "--opensearch-url", &url]);
    let done = stats(&db);
    assert_eq!(done["audit_pending"], 0);
    assert_eq!(done["audit_rejected"], 0);
    let (count, distinct) = documents(&server);
    assert_eq!(count, done["audit_events"].as_u64().unwrap());
    assert_eq!(distinct as u64, count, "no document twice");
}

#[test]
fn audit_show_tells_how_a_renewal_was_billed() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo.db");
    ok(&["demo", "--db", demo.to_str().unwrap()]);
    let demo_url = format!("sqlite://{}", demo.display());
    let text = ok(&[
        "audit",
        "show",
        "--db",
        &demo_url,
        "--account",
        "acct_demo",
        "--subscription",
        "sub_demo_3",
    ]);
    for needle in [
        "subscription_created",
        "timing_decided",
        "usage_queried",
        "payload_validated",
        "tax_computed",
        "revenue_scheduled",
        "invoice_issued",
        "quantity_changed     2 -> 3",
    ] {
        assert!(text.contains(needle), "{needle} in:\n{text}");
    }
}
