//! The strict schemas of what a language model writes: the [`PricingProgram`] (LLM interpreter)
//! and the [`AgentPayload`] (LLM billing agent), generated from the Rust types and rewritten into
//! strict mode's subset ([`crate::json::to_strict`]).
//!
//! The schemas describe exactly what the types serialise to and deserialise from: prices in a
//! program are decimal strings (`"0.75"`), amounts in a payload exact JSON numbers (`10.00`),
//! currencies three-letter codes, dates RFC 3339 instants with an offset. Strict mode makes every
//! property required, so an optional field is written as `null`; every type here reads `null` as
//! "absent". Whatever a model writes is still parsed strictly and validated by the caller: the
//! schema guides the model, it does not replace the checks.

use crate::agent::AgentPayload;
use crate::json::{schema_for, to_strict};
use crate::model::OutputSchema;
use crate::pricing::PricingProgram;

/// The name of [`program_schema`].
pub const PROGRAM_SCHEMA_NAME: &str = "pricing_program";
/// The name of [`payload_schema`].
pub const PAYLOAD_SCHEMA_NAME: &str = "agent_payload";

/// The strict schema of a [`PricingProgram`], as the LLM interpreter asks for it.
pub fn program_schema() -> OutputSchema {
    OutputSchema {
        name: PROGRAM_SCHEMA_NAME.to_owned(),
        schema: to_strict(schema_for::<PricingProgram>()),
    }
}

/// The strict schema of an [`AgentPayload`], as the LLM billing agent asks for it.
pub fn payload_schema() -> OutputSchema {
    OutputSchema {
        name: PAYLOAD_SCHEMA_NAME.to_owned(),
        schema: to_strict(schema_for::<AgentPayload>()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::strict_problems;

    #[test]
    fn both_schemas_are_strict() {
        for schema in [program_schema(), payload_schema()] {
            assert_eq!(
                strict_problems(&schema.schema),
                Vec::<String>::new(),
                "{}: {:#}",
                schema.name,
                schema.schema
            );
            assert!(schema.name.len() <= 64);
        }
    }
}
