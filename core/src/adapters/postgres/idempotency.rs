//! The records of keyed requests on PostgreSQL (`idempotency_keys`): written in the transaction
//! of the request's own writes, read by a retry.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Row};

use super::error::storage;
use crate::error::Result;
use crate::store::{IdempotencyRecord, request_key_taken};

/// Writes `record` (when there is one) on `conn`, inside the caller's transaction. A key taken
/// (by a transaction that committed; one still running is waited for) is
/// [`crate::Error::Conflict`], and the caller rolls back. `ON CONFLICT DO NOTHING` keeps the
/// transaction usable for that roll-back to a savepoint.
pub(crate) async fn insert_record(
    conn: &mut PgConnection,
    record: Option<&IdempotencyRecord>,
) -> Result<()> {
    let Some(record) = record else {
        return Ok(());
    };
    let written = sqlx::query(
        "INSERT INTO idempotency_keys \
         (account_id, key, operation, request_hash, answer, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(&record.account_id)
    .bind(&record.key)
    .bind(&record.operation)
    .bind(&record.request_hash)
    .bind(sqlx::types::Json(&record.answer))
    .bind(record.created_at)
    .execute(&mut *conn)
    .await
    .map_err(storage(format!("writing request {:?}", record.key)))?;
    if written.rows_affected() == 1 {
        Ok(())
    } else {
        Err(request_key_taken(record))
    }
}

/// The record of `key` in `account_id`.
pub(crate) async fn select_record(
    pool: &PgPool,
    account_id: &str,
    key: &str,
) -> Result<Option<IdempotencyRecord>> {
    let action = || format!("reading request {key:?}");
    let row = sqlx::query(
        "SELECT operation, request_hash, answer, created_at FROM idempotency_keys \
         WHERE account_id = $1 AND key = $2",
    )
    .bind(account_id)
    .bind(key)
    .fetch_optional(pool)
    .await
    .map_err(storage(action()))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let answer: sqlx::types::Json<serde_json::Value> =
        row.try_get("answer").map_err(storage(action()))?;
    let created_at: DateTime<Utc> = row.try_get("created_at").map_err(storage(action()))?;
    Ok(Some(IdempotencyRecord {
        account_id: account_id.to_owned(),
        key: key.to_owned(),
        operation: row.try_get("operation").map_err(storage(action()))?,
        request_hash: row.try_get("request_hash").map_err(storage(action()))?,
        answer: answer.0,
        created_at,
    }))
}
