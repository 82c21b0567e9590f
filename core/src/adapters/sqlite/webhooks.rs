//! [`WebhookEndpoints`] for [`SqliteStore`]: one row per endpoint in `webhook_endpoints`,
//! replaced by compare-and-set on its revision.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::rows::micros;
use super::tx::{fetch_failed, is_unique_violation};
use super::{SqliteStore, storage};
use crate::audit::platform::EventType;
use crate::error::{Error, Result};
use crate::store::{OutboxPosition, WebhookEndpoints, check_webhook_write, webhook_exists};
use crate::webhooks::{WebhookEndpoint, WebhookSecret};

const COLUMNS: &str = "id, url, secret, event_types, account_id, enabled, created_at, revision, \
     cursor_commit, cursor_seq, failures, next_attempt_at, last_error, delivered, disabled_at";

#[async_trait]
impl WebhookEndpoints for SqliteStore {
    async fn put_webhook(
        &self,
        endpoint: &WebhookEndpoint,
        expected_revision: Option<u64>,
    ) -> Result<bool> {
        check_webhook_write(endpoint, expected_revision)?;
        let statement = match expected_revision {
            None => format!(
                "INSERT INTO webhook_endpoints ({COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
            ),
            Some(_) => "UPDATE webhook_endpoints SET url = ?2, secret = ?3, event_types = ?4, \
                 account_id = ?5, enabled = ?6, created_at = ?7, revision = ?8, \
                 cursor_commit = ?9, cursor_seq = ?10, failures = ?11, next_attempt_at = ?12, \
                 last_error = ?13, delivered = ?14, disabled_at = ?15 \
                 WHERE id = ?1 AND revision = ?16"
                .to_owned(),
        };
        let types = serde_json::to_string(&endpoint.types)
            .map_err(storage("encoding a webhook's event types"))?;
        let written = sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(endpoint.id.clone())
            .bind(endpoint.url.clone())
            .bind(endpoint.secret.expose())
            .bind(types)
            .bind(endpoint.account_id.clone())
            .bind(endpoint.enabled)
            .bind(micros(endpoint.created_at))
            .bind(int(endpoint.revision)?)
            .bind(endpoint.cursor.commit)
            .bind(endpoint.cursor.seq)
            .bind(i64::from(endpoint.failures))
            .bind(endpoint.next_attempt_at.map(micros))
            .bind(endpoint.last_error.clone())
            .bind(int(endpoint.delivered)?)
            .bind(endpoint.disabled_at.map(micros))
            .bind(expected_revision.map(int).transpose()?)
            .execute(&self.pool)
            .await;
        match written {
            Ok(done) => Ok(done.rows_affected() == 1),
            Err(error) if expected_revision.is_none() && is_unique_violation(&error) => {
                Err(webhook_exists(&endpoint.id))
            }
            Err(error) => Err(storage(format!(
                "saving webhook endpoint {:?}",
                endpoint.id
            ))(error)),
        }
    }

    async fn webhook(&self, id: &str) -> Result<Option<WebhookEndpoint>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = ?1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(fetch_failed("a webhook endpoint"))?
        .as_ref()
        .map(endpoint)
        .transpose()
    }

    async fn webhooks(&self) -> Result<Vec<WebhookEndpoint>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhook_endpoints ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(fetch_failed("webhook endpoints"))?
        .iter()
        .map(endpoint)
        .collect()
    }

    async fn delete_webhook(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = ?1")
            .bind(id.to_owned())
            .execute(&self.pool)
            .await
            .map_err(storage(format!("removing webhook endpoint {id:?}")))?;
        Ok(done.rows_affected() == 1)
    }
}

fn int(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::Overflow {
        what: "a webhook endpoint's counter".into(),
    })
}

/// A row of `webhook_endpoints`.
fn endpoint(row: &SqliteRow) -> Result<WebhookEndpoint> {
    let read = |error: sqlx::Error| storage("reading webhook_endpoints")(error);
    let instant = |micros: i64| {
        chrono::DateTime::from_timestamp_micros(micros)
            .ok_or_else(|| corrupt(format!("{micros} is not an instant")))
    };
    let types: String = row.try_get("event_types").map_err(read)?;
    let types: Vec<EventType> = serde_json::from_str(&types)
        .map_err(|error| corrupt(format!("event_types {types:?}: {error}")))?;
    let secret: String = row.try_get("secret").map_err(read)?;
    let number = |column: &str| -> Result<u64> {
        let value: i64 = row.try_get(column).map_err(read)?;
        u64::try_from(value).map_err(|_| corrupt(format!("{column} {value}")))
    };
    Ok(WebhookEndpoint {
        id: row.try_get("id").map_err(read)?,
        url: row.try_get("url").map_err(read)?,
        secret: WebhookSecret::parse(&secret)
            .map_err(|_| corrupt("a secret that is not whsec_<base64>".into()))?,
        types,
        account_id: row.try_get("account_id").map_err(read)?,
        enabled: row.try_get("enabled").map_err(read)?,
        created_at: instant(row.try_get("created_at").map_err(read)?)?,
        revision: number("revision")?,
        cursor: OutboxPosition {
            commit: row.try_get("cursor_commit").map_err(read)?,
            seq: row.try_get("cursor_seq").map_err(read)?,
        },
        failures: u32::try_from(number("failures")?)
            .map_err(|_| corrupt("failures over u32".into()))?,
        next_attempt_at: row
            .try_get::<Option<i64>, _>("next_attempt_at")
            .map_err(read)?
            .map(instant)
            .transpose()?,
        last_error: row.try_get("last_error").map_err(read)?,
        delivered: number("delivered")?,
        disabled_at: row
            .try_get::<Option<i64>, _>("disabled_at")
            .map_err(read)?
            .map(instant)
            .transpose()?,
    })
}

fn corrupt(problem: String) -> Error {
    Error::Storage {
        action: "reading webhook_endpoints".into(),
        source: problem.into(),
    }
}
