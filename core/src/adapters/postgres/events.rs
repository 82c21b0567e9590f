//! Writing events to the audit outbox inside the transaction of the change they describe.

use std::collections::HashSet;

use serde::Serialize;
use sqlx::PgConnection;

use super::error::storage;
use crate::audit::AuditEvent;
use crate::error::{Error, Result};
use crate::store::{check_event_batch, event_exists};

/// All of a batch's events in one statement, in the batch's order (`seq` follows `ord`). An id
/// already in the outbox is skipped by `ON CONFLICT` and found missing from `RETURNING`, so the
/// caller's transaction is still usable to roll back cleanly.
const INSERT_EVENTS: &str = "INSERT INTO audit_outbox \
     (id, time, account_id, actor, action, subject_kind, subject_id, run_id, correlation_id, data) \
     SELECT e.id, e.time, e.account_id, e.actor, e.action, e.subject_kind, e.subject_id, e.run_id, \
            e.correlation_id, e.data::json \
     FROM UNNEST($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], \
                 $7::text[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY \
          AS e (id, time, account_id, actor, action, subject_kind, subject_id, run_id, \
                correlation_id, data, ord) \
     ORDER BY e.ord \
     ON CONFLICT (id) DO NOTHING \
     RETURNING id";

/// The name serde gives a unit enum variant (`customer`), as stored in text columns.
pub(crate) fn serde_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        // Unit variants always serialise as strings; anything else is a programming error that
        // still must not panic in a store: keep the JSON text.
        Ok(other) => other.to_string(),
        Err(error) => error.to_string(),
    }
}

/// Inserts `events` on `conn` (inside the caller's transaction). An id already in the outbox is
/// [`Error::Conflict`] naming it; the caller then drops its transaction, writing nothing.
pub(crate) async fn insert_events(conn: &mut PgConnection, events: &[AuditEvent]) -> Result<()> {
    check_event_batch(events)?;
    if events.is_empty() {
        return Ok(());
    }
    let mut data = Vec::with_capacity(events.len());
    for event in events {
        data.push(serde_json::to_string(&event.data).map_err(|error| {
            Error::invalid(
                "events.data",
                format!("event {:?} has data that is not JSON: {error}", event.id),
            )
        })?);
    }
    let inserted: Vec<String> = sqlx::query_scalar(INSERT_EVENTS)
        .bind(events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.time).collect::<Vec<_>>())
        .bind(
            events
                .iter()
                .map(|e| e.account_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(events.iter().map(|e| e.actor.as_str()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>())
        .bind(
            events
                .iter()
                .map(|e| serde_name(&e.subject_kind))
                .collect::<Vec<_>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.subject_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.run_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.correlation_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(data)
        .fetch_all(&mut *conn)
        .await
        .map_err(storage("writing audit events"))?;
    if inserted.len() != events.len() {
        let written: HashSet<&str> = inserted.iter().map(String::as_str).collect();
        let existing = events
            .iter()
            .find(|event| !written.contains(event.id.as_str()))
            .map_or("", |event| event.id.as_str());
        return Err(event_exists(existing));
    }
    Ok(())
}
