//! The language server: `planning/*` requests, `$/progress` and `planning/progress` over stdio.
//! The only module that knows JSON-RPC. Handlers are thin: parse, hand to the orchestrator,
//! convert the reply.
//!
//! - `ext`: the protocol as types (method names live only there).
//! - `convert`: wire ↔ domain. `errors`: domain failure → JSON-RPC error. `config`: settings.
//! - `server`: lifecycle and shared state. `handlers`: one group of requests per file.
//! - `progress`: forwarding of run events as notifications.
//! - `bridge`: agents' edits and questions as `workspace/applyEdit` / `window/showMessageRequest`.

pub mod bridge;
pub mod config;
pub mod convert;
pub mod errors;
pub mod ext;
pub mod handlers;
pub mod planning;
pub mod progress;
pub mod server;

pub use server::{ServerOptions, SharedState, build_service};

/// Serves LSP on stdin/stdout until `exit` (or end of input); stops the orchestrator; returns
/// the process exit code (0 after `shutdown`, 1 otherwise).
pub async fn serve_stdio(options: ServerOptions) -> i32 {
    let (service, socket, shared) = build_service(options);
    tower_lsp_server::Server::new(tokio::io::stdin(), tokio::io::stdout(), socket).serve(service).await;
    shared.stop_orchestrator().await;
    shared.exit_code()
}
