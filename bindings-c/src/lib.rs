//! The C ABI of ai-billing.
