//! The adapters behind features, one module per backend: SQLite and PostgreSQL (sqlx) implement
//! the store's ports, OpenAI (reqwest) the language model, OpenSearch the audit sink, `webhook_http` the webhook sender. They import
//! the ports and the domain, never the engine's internals or the API. Re-exported at the crate
//! root (`ai_billing::sqlite`, ...).

#[cfg(feature = "openai")]
pub mod openai;
#[cfg(feature = "opensearch")]
pub mod opensearch;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(feature = "webhooks")]
pub mod webhook_http;
