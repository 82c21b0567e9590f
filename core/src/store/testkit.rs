//! PLACEHOLDER: the conformance suite, being written.
