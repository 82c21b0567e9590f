//! [`AuditOutbox`] for [`SqliteStore`]: events written in one statement with the change they
//! describe, and their shipping state.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::json_rows::JsonRows;
use super::rows::{self, EVENT_COLUMNS, micros};
use super::{SqliteStore, storage};
use crate::audit::AuditEvent;
use crate::error::Result;
use crate::store::{
    AuditOutbox, FeedPage, FeedQuery, OutboxPosition, check_event_batch, event_exists,
};

use super::tx::{CHUNK, Tx, commit, fetch_failed, is_unique_violation};

/// Runs an outbox update whose statement `head` ends with `id IN (`, over `ids` in chunks of
/// [`CHUNK`] bound ids, inside `tx`.
pub(super) async fn update_events(
    tx: &mut Tx,
    action: &str,
    ids: &[String],
    head: impl Fn() -> QueryBuilder<Sqlite>,
) -> Result<()> {
    for chunk in ids.chunks(CHUNK) {
        let mut update = head();
        let mut list = update.separated(", ");
        for id in chunk {
            list.push_bind(id.clone());
        }
        update.push(")");
        update
            .build()
            .execute(&mut **tx)
            .await
            .map_err(storage(action))?;
    }
    Ok(())
}

/// Writes `events` to the outbox in one statement (the events bound as one JSON array). An id
/// given twice is [`Error::InvalidInput`], one already in the outbox [`Error::Conflict`], naming it.
pub(super) async fn insert_events(
    conn: &mut SqliteConnection,
    events: &[AuditEvent],
) -> Result<()> {
    insert_event_rows(conn, event_rows(events)?).await
}

/// `events` checked ([`check_event_batch`]) and as the rows of [`INSERT_EVENTS`].
pub(super) fn event_rows<'a>(
    events: impl IntoIterator<Item = &'a AuditEvent> + Clone,
) -> Result<JsonRows> {
    check_event_batch(events.clone())?;
    let mut json = JsonRows::new();
    for event in events {
        let data = serde_json::to_string(&event.data).map_err(storage(format!(
            "encoding the data of event {:?}",
            event.id
        )))?;
        json.row()
            .text(&event.id)
            .int(micros(event.time))
            .text(&event.account_id)
            .text(&event.actor)
            .text(event.action.as_str())
            .text(&rows::name_of(&event.subject_kind)?)
            .text(&event.subject_id)
            .opt_text(event.run_id.as_deref())
            .opt_text(event.correlation_id.as_deref())
            .text(&data);
    }
    Ok(json)
}

/// Writes checked [`event_rows`]; an id already in the outbox is [`Error::Conflict`] naming it.
pub(super) async fn insert_event_rows(conn: &mut SqliteConnection, json: JsonRows) -> Result<()> {
    if json.len() == 0 {
        return Ok(());
    }
    let json = json.finish();
    if let Err(error) = sqlx::query(INSERT_EVENTS)
        .bind(&json)
        .execute(&mut *conn)
        .await
    {
        if !is_unique_violation(&error) {
            return Err(storage("writing audit events")(error));
        }
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM audit_outbox WHERE id IN (SELECT value ->> 0 FROM json_each(?1)) \
             ORDER BY seq LIMIT 1",
        )
        .bind(&json)
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage("finding an existing event id"))?;
        return Err(match id {
            Some(id) => event_exists(&id),
            None => storage("writing audit events")(error),
        });
    }
    Ok(())
}

/// The events of a [`JsonRows`] array, in array order (the order of their `seq`).
pub(super) const INSERT_EVENTS: &str = "INSERT INTO audit_outbox (id, time, account_id, actor, action, \
     subject_kind, subject_id, run_id, correlation_id, data) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
         value ->> 6, value ->> 7, value ->> 8, value ->> 9 \
     FROM jsonb_each(?1) ORDER BY key";

#[async_trait]
impl AuditOutbox for SqliteStore {
    async fn append_events(&self, events: &[AuditEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let action = "writing audit events";
        let mut tx = self.write(action).await?;
        insert_events(&mut tx, events).await?;
        commit(tx, action).await
    }

    async fn pending_events(&self, limit: u32) -> Result<Vec<AuditEvent>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM audit_outbox \
             WHERE shipped_at IS NULL AND rejected_at IS NULL ORDER BY seq LIMIT ?1"
        )))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(fetch_failed("pending events"))?
        .iter()
        .map(rows::event)
        .collect()
    }

    async fn mark_shipped(&self, ids: &[String], at: DateTime<Utc>) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let action = "marking events shipped";
        let mut tx = self.write(action).await?;
        update_events(&mut tx, action, ids, || {
            let mut update = QueryBuilder::<Sqlite>::new("UPDATE audit_outbox SET shipped_at = ");
            update.push_bind(micros(at)).push(
                ", rejected_at = NULL, reject_reason = NULL \
                     WHERE shipped_at IS NULL AND id IN (",
            );
            update
        })
        .await?;
        commit(tx, action).await
    }

    async fn mark_rejected(&self, rejected: &[(String, String)], at: DateTime<Utc>) -> Result<()> {
        if rejected.is_empty() {
            return Ok(());
        }
        let action = "marking events rejected";
        let mut tx = self.write(action).await?;
        // One statement per event: the reasons differ, and rejections are few. The first reason
        // of an id given twice stays, as the second finds the event rejected already.
        for (id, reason) in rejected {
            sqlx::query(
                "UPDATE audit_outbox SET rejected_at = ?1, reject_reason = ?2 \
                 WHERE id = ?3 AND shipped_at IS NULL AND rejected_at IS NULL",
            )
            .bind(micros(at))
            .bind(reason.clone())
            .bind(id.clone())
            .execute(&mut *tx)
            .await
            .map_err(storage(action))?;
        }
        commit(tx, action).await
    }

    async fn rejected_events(&self, limit: u32) -> Result<Vec<(AuditEvent, String)>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS}, reject_reason FROM audit_outbox \
             WHERE rejected_at IS NOT NULL ORDER BY seq LIMIT ?1"
        )))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(fetch_failed("rejected events"))?
        .iter()
        .map(rows::rejected_event)
        .collect()
    }

    async fn retry_rejected(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let action = "putting rejected events back to pending";
        let mut tx = self.write(action).await?;
        update_events(&mut tx, action, ids, || {
            QueryBuilder::<Sqlite>::new(
                "UPDATE audit_outbox SET rejected_at = NULL, reject_reason = NULL \
                 WHERE rejected_at IS NOT NULL AND id IN (",
            )
        })
        .await?;
        commit(tx, action).await
    }

    async fn events_for(&self, account_id: &str, subject_id: &str) -> Result<Vec<AuditEvent>> {
        // About the subject, or in an operation (correlation id) that has an event about it.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM audit_outbox WHERE account_id = ?1 AND (\
                 subject_id = ?2 \
                 OR correlation_id IN (SELECT correlation_id FROM audit_outbox \
                     WHERE account_id = ?1 AND subject_id = ?2 AND correlation_id IS NOT NULL)\
             ) ORDER BY seq"
        )))
        .bind(account_id.to_owned())
        .bind(subject_id.to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(fetch_failed("events"))?
        .iter()
        .map(rows::event)
        .collect()
    }

    async fn feed(&self, query: &FeedQuery) -> Result<FeedPage> {
        // One writer at a time (BEGIN IMMEDIATE): `seq` grows in commit order, so a position is
        // (0, seq). The last seq is read first and bounds the page, so an event written between
        // the two statements is left for the next page rather than passed over by `end`.
        let horizon: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM audit_outbox")
            .fetch_one(&self.pool)
            .await
            .map_err(fetch_failed("the end of the outbox"))?;
        let at = |seq| OutboxPosition { commit: 0, seq };
        if query.after.commit != 0 || query.limit == 0 || query.actions.is_empty() {
            let end = if query.limit == 0 || query.actions.is_empty() {
                query.after.max(at(horizon))
            } else {
                query.after
            };
            return Ok(FeedPage {
                events: Vec::new(),
                end,
            });
        }
        let actions: Vec<&str> = query.actions.iter().map(|action| action.as_str()).collect();
        let actions = serde_json::to_string(&actions).map_err(storage("encoding actions"))?;
        let account = if query.account_id.is_some() {
            "AND account_id = ?5"
        } else {
            ""
        };
        let mut select = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT seq, {EVENT_COLUMNS} FROM audit_outbox \
             WHERE seq > ?1 AND seq <= ?2 AND action IN (SELECT value FROM json_each(?3)) {account} \
             ORDER BY seq LIMIT ?4"
        )))
        .bind(query.after.seq)
        .bind(horizon)
        .bind(actions)
        .bind(i64::from(query.limit));
        if let Some(account_id) = &query.account_id {
            select = select.bind(account_id.clone());
        }
        let rows = select
            .fetch_all(&self.pool)
            .await
            .map_err(fetch_failed("the event feed"))?;
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            let seq: i64 =
                sqlx::Row::try_get(row, "seq").map_err(fetch_failed("audit_outbox.seq"))?;
            events.push((at(seq), rows::event(row)?));
        }
        let end = match events.last() {
            Some((last, _)) if events.len() == query.limit as usize => *last,
            _ => query.after.max(at(horizon)),
        };
        Ok(FeedPage { events, end })
    }
}
