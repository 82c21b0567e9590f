//! Fixtures for the integration tests: a fresh database of each kind, dropped after the test.
//!
//! The servers are the project's own (PostgreSQL on 127.0.0.1:5432 with trust auth, MariaDB on
//! 127.0.0.1:3306 as root without a password), or the throwaway ones `scripts/services.sh` starts
//! where none runs; `AI_BILLING_TEST_POSTGRES` and `AI_BILLING_TEST_MYSQL` point elsewhere.

pub mod billing;
pub mod catalogue;
pub mod database;
pub mod faulty;
pub mod mutate;
pub mod mysql;
pub mod openai_mock;
pub mod opensearch;
pub mod pg;
pub mod sqlite;
