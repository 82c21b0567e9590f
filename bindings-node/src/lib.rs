//! Node.js bindings of ai-billing: the npm package `@pelcro/ai-billing`.
