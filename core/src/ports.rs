//! The ports the engine is built on, with their in-memory implementations and conformance
//! suites: the store (billing state, the usage source, the audit outbox), the language model,
//! the audit sink and its outbox shipper, the platform's events and their webhooks, and the LLM
//! interpreter built on the model port. They import the domain only; the adapters implement them.
//! Re-exported at the crate root.

pub mod audit;
pub mod backoff;
pub mod llm_interpreter;
pub mod model;
pub mod store;
pub mod webhooks;
