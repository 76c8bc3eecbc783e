//! The `codelab-planner` binary: command-line parsing, logging, then the LSP server on stdio
//! (no subcommand, or `--stdio`), the MCP server (`mcp`), the ACP agent (`acp`), or one
//! command-line subcommand (`codelab_planner::cli`). The hidden `__sandboxed-command` runs the
//! command sandbox's launcher (`codelab_planner::agents::sandbox::launcher`) instead, before any
//! thread starts.
//!
//! Logs go to stderr or `--log-file`, never stdout (the protocol channel). The level comes from
//! `CODELAB_PLANNER_LOG`, else `RUST_LOG`, else `warn` (editors file every stderr line as an
//! error, so a healthy server is quiet). The process ends with
//! `std::process::exit`: 0 after `shutdown` + `exit`, 1 after `exit` alone or end of input.

use std::path::PathBuf;

use clap::Parser;
use codelab_planner::acp::AcpOptions;
use codelab_planner::agents::sandbox::launcher;
use codelab_planner::cli::{CliCommand, CliOptions};
use codelab_planner::config::Settings;
use codelab_planner::lsp::{ServerOptions, serve_stdio};
use codelab_planner::mcp::McpOptions;
use tracing_subscriber::EnvFilter;

/// A language server that classifies coding tasks, plans them as dependency graphs and executes them.
#[derive(Debug, Parser)]
#[command(name = "codelab-planner", version, about)]
struct Arguments {
    /// Serve the Language Server Protocol on stdin/stdout (the default).
    #[arg(long)]
    stdio: bool,
    /// Write logs to this file instead of stderr (appended; missing folders are created).
    #[arg(long, value_name = "PATH")]
    log_file: Option<PathBuf>,
    /// Use this database file, anywhere (overrides the `database` setting, which is confined to
    /// the workspace; missing folders are created).
    #[arg(long, value_name = "PATH", global = true)]
    db: Option<PathBuf>,
    /// `mcp` and `acp`: the settings, as the editors' `codelabPlanner` object — JSON text, or the
    /// path of a JSON file (e.g. `{"llm": {"baseUrl": "http://localhost:8080/v1", "model": "m"}}`).
    #[arg(long, value_name = "JSON|PATH", global = true)]
    settings: Option<String>,
    /// Subcommands: print one JSON object a line on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

/// The faces other than the language server: MCP, and the command line's subcommands.
#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Serve the Model Context Protocol on stdin/stdout, for coding agents (Claude Code, Codex,
    /// Cursor, VS Code): plans on this folder's database.
    Mcp,
    /// Serve the Agent Client Protocol on stdin/stdout, as an agent for Zed and JetBrains IDEs:
    /// prompts are planned, shown as plans and run.
    Acp,
    #[command(flatten)]
    Cli(CliCommand),
}

/// The default level is `warn` for the server (editors file stderr lines as errors) and for
/// subcommands (their own output is the display).
fn init_logging(log_file: Option<&PathBuf>) -> anyhow::Result<()> {
    let filter = std::env::var("CODELAB_PLANNER_LOG")
        .ok()
        .filter(|directives| !directives.trim().is_empty())
        .or_else(|| std::env::var("RUST_LOG").ok().filter(|directives| !directives.trim().is_empty()))
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false);
    match log_file {
        Some(path) => {
            if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder)
                    .map_err(|cause| anyhow::anyhow!("cannot create folder {}: {cause}", folder.display()))?;
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|cause| anyhow::anyhow!("cannot open log file {}: {cause}", path.display()))?;
            builder.with_writer(std::sync::Mutex::new(file)).init();
        }
        None => builder.with_writer(std::io::stderr).init(),
    }
    Ok(())
}

/// The MCP and ACP servers' settings: the settings files of the current folder
/// (`config::load`), then `--settings` on top — JSON text (starting with `{`) or a JSON file, the
/// editors' settings object; a refused value is an error naming the key, an unknown key a warning.
fn load_settings(runtime: &tokio::runtime::Runtime, given: Option<&str>) -> Result<Settings, String> {
    let folder = std::env::current_dir().map_err(|cause| format!("cannot read the current folder: {cause}"))?;
    let files = runtime.block_on(codelab_planner::config::load(&folder));
    for problem in &files.problems {
        tracing::warn!(file = %problem.file.display(), line = problem.line, "{}", problem.message);
    }
    let Some(given) = given else { return Ok(files.settings) };
    let text = if given.trim_start().starts_with('{') {
        given.to_owned()
    } else {
        std::fs::read_to_string(given).map_err(|cause| format!("--settings: cannot read {given}: {cause}"))?
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|cause| format!("--settings: not valid JSON: {cause}"))?;
    let parsed = codelab_planner::lsp::config::parse_settings(&value, &files.settings)
        .ok_or_else(|| "--settings: expected a JSON object".to_owned())?;
    if !parsed.errors.is_empty() {
        return Err(format!("--settings: {}", parsed.errors.join("; ")));
    }
    for warning in parsed.warnings {
        tracing::warn!("--settings: {warning}");
    }
    Ok(parsed.settings)
}

fn main() {
    // The command sandbox's launcher: before anything else, while the process has one thread.
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if raw.get(1).is_some_and(|word| word == launcher::SUBCOMMAND) {
        std::process::exit(launcher::run(&raw[2..]));
    }
    let arguments = Arguments::parse();
    if let Err(failure) = init_logging(arguments.log_file.as_ref()) {
        eprintln!("codelab-planner: {failure}");
        std::process::exit(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(failure) => {
            eprintln!("codelab-planner: cannot start the async runtime: {failure}");
            std::process::exit(2);
        }
    };
    if matches!(arguments.command, Some(Command::Mcp | Command::Acp)) {
        let settings = match load_settings(&runtime, arguments.settings.as_deref()) {
            Ok(settings) => settings,
            Err(failure) => {
                eprintln!("codelab-planner: {failure}");
                std::process::exit(2);
            }
        };
        let exit_code = if matches!(arguments.command, Some(Command::Mcp)) {
            let options = McpOptions { database: arguments.db, settings };
            runtime.block_on(codelab_planner::mcp::serve_stdio(options))
        } else {
            let options = AcpOptions { database: arguments.db, settings };
            runtime.block_on(codelab_planner::acp::serve_stdio(options))
        };
        std::process::exit(exit_code);
    }
    if let Some(Command::Cli(command)) = arguments.command {
        let options = CliOptions { database: arguments.db, json: arguments.json };
        let exit_code = runtime.block_on(codelab_planner::cli::main(command, options));
        std::process::exit(exit_code);
    }
    let _ = arguments.stdio;
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "codelab-planner starting on stdio");
    let options = ServerOptions { database_override: arguments.db };
    let exit_code = runtime.block_on(serve_stdio(options));
    tracing::info!(exit_code, "codelab-planner exiting");
    std::process::exit(exit_code);
}
