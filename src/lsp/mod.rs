//! The language server: `planning/*` requests, `$/progress` and `planning/progress` over stdio.
//! The only module that knows JSON-RPC. Handlers are thin: parse, hand to the orchestrator,
//! convert the reply.
//!
//! - `ext`: the protocol as types (method names live only there).
//! - `errors`: domain failure → JSON-RPC error. `config`: settings. (Wire types and their
//!   conversions are `crate::wire`'s, shared with the other faces.)
//! - `server`: lifecycle and shared state. `handlers`: one group of requests per file.
//! - `progress`: forwarding of run events as notifications.
//! - `bridge`: agents' edits and questions as `workspace/applyEdit` / `window/showMessageRequest`.

pub mod bridge;
pub mod config;
pub mod documents;
pub mod errors;
pub mod ext;
pub mod handlers;
pub mod planning;
pub mod progress;
pub mod server;
pub mod transport;

pub use server::{ServerOptions, SharedState, build_service};

/// Serves LSP on stdin/stdout until `exit`, end of input or an unrecoverable framing error,
/// through the validating transport (`transport`). After `shutdown` + `exit` the runs of this
/// process are cancelled; on any other end they are left `interrupted` (resumable). Returns the
/// process exit code (0 after `shutdown`, 1 otherwise).
pub async fn serve_stdio(options: ServerOptions) -> i32 {
    const PIPE_BYTES: usize = 256 * 1024;
    const QUEUED_FRAMES: usize = 64;
    let (service, socket, shared) = build_service(options);
    let (to_server, server_input) = tokio::io::duplex(PIPE_BYTES);
    let (server_output, from_server) = tokio::io::duplex(PIPE_BYTES);
    let (queue, queued) = tokio::sync::mpsc::channel(QUEUED_FRAMES);
    let input = tokio::spawn(transport::pump_input(tokio::io::stdin(), to_server, queue.clone()));
    let reader = tokio::spawn(transport::pump_server_output(from_server, queue));
    let writer = tokio::spawn(transport::write_output(tokio::io::stdout(), queued));
    tower_lsp_server::Server::new(server_input, server_output, socket)
        .concurrency_level(server::REQUEST_CONCURRENCY)
        .serve(service)
        .await;
    let _ = reader.await;
    let _ = writer.await;
    let mut exit_code = shared.exit_code();
    if input.is_finished() {
        if let Ok(transport::InputEnd::Framing(error)) = input.await {
            tracing::error!("unrecoverable framing error, the server stops: {error}");
            exit_code = 1;
        }
    } else {
        // Blocked reading stdin after `exit`: nothing more will be read.
        input.abort();
    }
    shared.stop_orchestrator().await;
    exit_code
}
