//! OpenSearch faults while the audit outbox ships (issue 9): an OpenSearch that hangs (accepts and
//! never answers), one that drops the connection, and one that stores a bulk request but whose
//! answer is lost on the way back. A small TCP proxy in front of a real osmem-server plays each
//! fault; it is a fake only in that it breaks the connection, every byte that does arrive is
//! OpenSearch's own. After each fault: nothing is marked shipped that was not acknowledged, the
//! events wait in the outbox, and the next shipment, straight to OpenSearch, leaves exactly one
//! document per event (a lost acknowledgement is not a duplicate: documents are created by
//! event id).

use std::collections::HashSet;
use std::time::Duration;

use ai_billing::MemoryStore;
use ai_billing::audit::{AuditAction, AuditEvent, ShipOptions, SubjectKind, ship_outbox};
use ai_billing::opensearch::{OpenSearchConfig, OpenSearchSink};
use ai_billing::{AuditOutbox as _, BillingState as _};
use ai_billing_tests::opensearch::{OsmemServer, indexed_count, indexed_documents};
use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to each connection.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Reads the request and never answers.
    Hang,
    /// Closes the connection as soon as the request starts.
    Drop,
    /// Forwards the request to OpenSearch, reads its answer, and closes the connection instead of
    /// passing the answer on: the write happened, its acknowledgement is lost.
    LoseAnswer,
}

/// A proxy on a free loopback port playing `fault` in front of `upstream` (host:port).
async fn faulty_proxy(fault: Fault, upstream: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let upstream = upstream.clone();
            tokio::spawn(async move { play(fault, client, &upstream).await });
        }
    });
    format!("http://{address}")
}

async fn play(fault: Fault, mut client: TcpStream, upstream: &str) {
    let mut buffer = vec![0u8; 64 * 1024];
    match fault {
        Fault::Hang => {
            // Read whatever comes, answer nothing, until the client gives up.
            while let Ok(n) = client.read(&mut buffer).await {
                if n == 0 {
                    return;
                }
            }
        }
        Fault::Drop => {
            let _ = client.read(&mut buffer).await;
            drop(client);
        }
        Fault::LoseAnswer => {
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            // One request at a time: forwarded whole, its answer read whole; a bulk request's
            // answer is dropped with the connection, any other (the index template) passed on.
            while let Some(request) = read_message(&mut client).await {
                let bulk = request.starts_with(b"POST /_bulk")
                    || request.windows(6).any(|w| w == b"/_bulk");
                if server.write_all(&request).await.is_err() {
                    return;
                }
                let Some(answer) = read_message(&mut server).await else {
                    return;
                };
                if bulk || client.write_all(&answer).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// One HTTP/1.1 message (head and a `Content-Length` body) read whole, or `None` at the end of
/// the stream.
async fn read_message(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut message = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(at) = message.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        message.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&message[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    while message.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        message.extend_from_slice(&chunk[..n]);
    }
    Some(message)
}

/// How long a sink waits for an answer that is coming: a safety net only, never reached by a
/// working OpenSearch however loaded the machine is.
const GENEROUS: Duration = Duration::from_secs(60);

/// How long a sink waits before giving up on an OpenSearch that never answers: the timeout is
/// what ends each request there, and no answer ever comes, so a short one keeps the test quick
/// without depending on the machine's speed.
const NEVER_ANSWERS: Duration = Duration::from_millis(500);

impl Fault {
    /// The timeout a sink talking through this fault needs: short only where the fault is a
    /// silence (the timeout ends it); a dropped or cut connection ends the request by itself, and
    /// what it does reach (the index template, the bulk write) must not time out under load.
    fn timeout(self) -> Duration {
        match self {
            Fault::Hang => NEVER_ANSWERS,
            Fault::Drop | Fault::LoseAnswer => GENEROUS,
        }
    }
}

fn sink_at(url: &str, timeout: Duration) -> OpenSearchSink {
    let mut config = OpenSearchConfig::new(url);
    config.timeout = timeout;
    OpenSearchSink::new(config).expect("an OpenSearch sink")
}

fn quick() -> ShipOptions {
    ShipOptions {
        batch_size: 25,
        max_batches: None,
        max_retries: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
    }
}

fn events(n: usize) -> Vec<AuditEvent> {
    let at: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-01T05:00:00Z")
        .unwrap()
        .to_utc();
    (0..n)
        .map(|i| {
            AuditEvent::new(
                at,
                "acct_1",
                "system",
                AuditAction::InvoiceIssued,
                SubjectKind::Invoice,
                format!("in_{i}"),
            )
            .with_data(json!({ "total": format!("{i}.00") }))
        })
        .collect()
}

/// The document ids in the index, after a refresh; as many as the index counts.
async fn document_ids(sink: &OpenSearchSink) -> Vec<String> {
    let count = indexed_count(sink).await;
    let ids: Vec<String> = indexed_documents(sink)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(count, ids.len() as u64);
    ids
}

/// Ships through the fault, then straight to OpenSearch; checks nothing was lost or doubled.
async fn survives(fault: Fault) {
    const EVENTS: usize = 60;
    let server = OsmemServer::start();
    let upstream = format!("127.0.0.1:{}", server.port());
    let store = MemoryStore::new();
    let written = events(EVENTS);
    store.append_events(&written).await.unwrap();

    let broken = sink_at(&faulty_proxy(fault, upstream).await, fault.timeout());
    let error = ship_outbox(&store, &broken, &quick())
        .await
        .expect_err("shipping through the fault fails");
    assert!(
        error.to_string().contains("OpenSearch"),
        "{fault:?}: the error names what failed: {error}"
    );
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.audit_pending, stats.audit_rejected),
        (EVENTS as u64, 0),
        "{fault:?}: nothing is marked shipped without OpenSearch's answer"
    );

    let direct = sink_at(&server.url(), GENEROUS);
    if matches!(fault, Fault::LoseAnswer) {
        // The writes did happen: OpenSearch holds documents the outbox still has pending.
        assert!(
            !document_ids(&direct).await.is_empty(),
            "the lost answers were for stored writes"
        );
    }
    let summary = ship_outbox(&store, &direct, &quick()).await.unwrap();
    assert_eq!(
        (summary.shipped, summary.rejected, summary.pending),
        (EVENTS as u64, 0, 0),
        "{fault:?}"
    );
    let ids = document_ids(&direct).await;
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), EVENTS, "{fault:?}: one document per event");
    assert_eq!(unique.len(), EVENTS, "{fault:?}: no document twice");
    for event in &written {
        assert!(
            unique.contains(&event.id),
            "{fault:?}: {} is lost",
            event.id
        );
    }
}

#[tokio::test]
async fn an_opensearch_that_hangs_loses_nothing() {
    survives(Fault::Hang).await;
}

#[tokio::test]
async fn an_opensearch_that_drops_the_connection_loses_nothing() {
    survives(Fault::Drop).await;
}

#[tokio::test]
async fn a_lost_acknowledgement_makes_no_duplicate() {
    survives(Fault::LoseAnswer).await;
}
