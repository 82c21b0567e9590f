//! The records of keyed requests on SQLite (`idempotency_keys`): written in the transaction of
//! the request's own writes, read by a retry.

use sqlx::{Row, SqliteConnection};

use super::rows::{corrupt, micros};
use super::storage;
use super::tx::is_unique_violation;
use crate::error::Result;
use crate::store::{IdempotencyRecord, request_key_taken};

/// Writes `record` (when there is one) on `conn`, inside the caller's transaction. A key taken is
/// [`crate::Error::Conflict`]; the caller's transaction is then dropped, so nothing of it is written.
pub(super) async fn insert_record(
    conn: &mut SqliteConnection,
    record: Option<&IdempotencyRecord>,
) -> Result<()> {
    let Some(record) = record else {
        return Ok(());
    };
    let answer = serde_json::to_string(&record.answer)
        .map_err(storage(format!("writing request {:?}", record.key)))?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys \
         (account_id, key, operation, request_hash, answer, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(record.account_id.clone())
    .bind(record.key.clone())
    .bind(record.operation.clone())
    .bind(record.request_hash.clone())
    .bind(answer)
    .bind(micros(record.created_at))
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(error) if is_unique_violation(&error) => Err(request_key_taken(record)),
        Err(error) => Err(storage(format!("writing request {:?}", record.key))(error)),
    }
}

/// The record of `key` in `account_id`.
pub(super) async fn select_record(
    conn: &mut SqliteConnection,
    account_id: &str,
    key: &str,
) -> Result<Option<IdempotencyRecord>> {
    let action = || format!("reading request {key:?}");
    let row = sqlx::query(
        "SELECT operation, request_hash, answer, created_at FROM idempotency_keys \
         WHERE account_id = ?1 AND key = ?2",
    )
    .bind(account_id.to_owned())
    .bind(key.to_owned())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage(action()))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let answer: String = row.try_get("answer").map_err(storage(action()))?;
    let created_at: i64 = row.try_get("created_at").map_err(storage(action()))?;
    Ok(Some(IdempotencyRecord {
        account_id: account_id.to_owned(),
        key: key.to_owned(),
        operation: row.try_get("operation").map_err(storage(action()))?,
        request_hash: row.try_get("request_hash").map_err(storage(action()))?,
        answer: serde_json::from_str(&answer).map_err(storage(action()))?,
        created_at: chrono::DateTime::from_timestamp_micros(created_at).ok_or_else(|| {
            corrupt(
                "idempotency_keys",
                "created_at",
                format!("{created_at}, not an instant"),
            )
        })?,
    }))
}
