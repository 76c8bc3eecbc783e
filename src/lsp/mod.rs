//! The language server: `planning/*` requests, `$/progress` and `planning/progress` over stdio.
//! The only module that knows JSON-RPC. Handlers are thin: parse, hand to the orchestrator,
//! convert the reply.

pub mod ext;
