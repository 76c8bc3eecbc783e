//! The command line: `codelab-planner run FILE`, `new`, `list`, `show`, `approve`, `cancel`,
//! `retry`, `export`, `complete`, `next`, `changes`, `rollback`, `transcript` — the same orchestrator the language server uses, on the same workspace
//! database (`.codelab/planner.db` under the current folder, or `--db`), safe while an editor's
//! server has it open (runs are claimed in the database).
//!
//! - `run`: plan files and the event loop that shows a run (Ctrl-C cancels it cleanly).
//! - `display`: the live terminal display (`indicatif`), plain lines, or JSON lines.
//! - `commands`: the short commands.
//! - `prompt`: steps that wait for a person, asked on the terminal during a run.
//! - `record`: agent work on the record (changes as diffs, rollback, transcripts).
//! - `settings`: the settings files every command runs with (`config::load`), and `config`, which
//!   prints them with where each came from.
//!
//! Exit codes: 0 only when every subtask of the plan is done (or the command succeeded),
//! 1 when a run did not complete or an operation was refused, 2 for bad input (a plan file with
//! problems, unknown arguments), 130 after Ctrl-C. It does not speak JSON-RPC; `--json` prints
//! the same objects as `planning/progress` and the wire types, one per line.

mod commands;
mod display;
mod prompt;
mod record;
mod run;
mod settings;

use std::path::PathBuf;

use crate::orchestrator::{Orchestrator, OrchestratorConfig, OrchestratorError};

/// Everything went as asked.
pub const EXIT_OK: i32 = 0;
/// A run ended without every subtask done, or an operation was refused.
pub const EXIT_FAILED: i32 = 1;
/// Bad input: a plan file with problems, a bad id, no terminal to confirm.
pub const EXIT_USAGE: i32 = 2;
/// Stopped by Ctrl-C (or SIGTERM); the run was cancelled.
pub const EXIT_INTERRUPTED: i32 = 130;

/// The subcommands. No subcommand (or `--stdio`) serves LSP instead.
#[derive(Debug, clap::Subcommand)]
pub enum CliCommand {
    /// Run a plan file (`*.plan.toml`, a markdown task list, a Taskmaster `tasks.json`) with a live
    /// display; a task list's checkboxes tick as steps finish.
    Run {
        /// The plan file.
        file: PathBuf,
        #[command(flatten)]
        run: RunOptions,
    },
    /// Classify and plan a task, print the plan; `--run` executes it after a confirmation.
    New {
        /// The task, in words.
        task: String,
        /// Execute the plan after printing it.
        #[arg(long)]
        run: bool,
        /// Do not ask for confirmation before running.
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        options: RunOptions,
    },
    /// List plans, newest first.
    List {
        /// Only plans with this status (`running`, `failed`, ...).
        #[arg(long)]
        status: Option<String>,
        /// How many (1 to 500).
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Show a plan and its subtasks.
    Show { plan_id: String },
    /// Approve a draft plan.
    Approve { plan_id: String },
    /// Cancel a running plan (one a command line runs; a language server's runs are cancelled from the editor).
    Cancel {
        plan_id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Run again the unfinished subtasks of a failed, cancelled or interrupted plan.
    Retry {
        plan_id: String,
        /// Only these subtasks (and what depends on them).
        #[arg(long = "subtask")]
        subtasks: Vec<String>,
        #[command(flatten)]
        options: RunOptions,
    },
    /// Read a task list (spec-kit or Kiro `tasks.md`, a markdown checklist, Taskmaster
    /// `tasks.json`) or a `*.plan.toml` into a draft plan that remembers the file; its checkboxes
    /// tick as steps finish. Prints the draft.
    Import {
        /// The file.
        file: PathBuf,
    },
    /// Print a plan as plan-file text.
    Export {
        plan_id: String,
        /// `toml` (a `*.plan.toml`) or `md` (a markdown task list).
        #[arg(long, default_value = "toml", value_parser = export_format)]
        format: crate::planfile::Format,
    },
    /// List the steps that can be taken now, by a person or an outside agent: of plan ID, or of the
    /// newest plan that has some (claimed steps are shown with who holds them).
    Next { plan_id: Option<String> },
    /// Print the settings in force and where each came from (defaults, the user's
    /// `~/.config/codelab-planner/config.toml`, the workspace's `codelab-planner.toml`).
    Config,
    /// Finish a step by hand: one that waits for a person (`waiting`), or a ready step of an
    /// approved plan nothing runs (see `next`); done, or failed with `--failed`.
    Complete {
        plan_id: String,
        /// The step's id.
        subtask: String,
        /// The step failed (its dependents are skipped).
        #[arg(long)]
        failed: bool,
        /// What was done, or why it failed.
        #[arg(long, value_name = "TEXT")]
        result: Option<String>,
    },
    /// Show the files the plan's agents changed (one step's with STEP), as unified diffs.
    Changes {
        plan_id: String,
        /// Only this step.
        step: Option<String>,
    },
    /// Revert the files one step's agents changed (and every later change to them), or every
    /// file of the plan; a file changed since is left as it is and named.
    Rollback {
        plan_id: String,
        /// Only this step (and what came after it on the same files).
        step: Option<String>,
    },
    /// Show what a step's agent did: the model's messages, tool calls and results, questions.
    Transcript {
        plan_id: String,
        step: String,
        /// This attempt (default: the last).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        attempt: Option<u32>,
    },
}

/// How a run is executed and shown.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunOptions {
    /// Print each subtask's output as it comes.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// At most this many subtasks at once (1 or more).
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_parallel: Option<usize>,
    /// Stop starting subtasks after the first failure.
    #[arg(long)]
    pub fail_fast: bool,
}

impl RunOptions {
    /// The options the run use cases take.
    pub(crate) fn start(&self) -> crate::orchestrator::StartOptions {
        crate::orchestrator::StartOptions {
            max_parallel: self.max_parallel,
            failure_policy: self.fail_fast.then_some(crate::model::FailurePolicy::FailFast),
            agents_by_hand: false,
        }
    }
}

/// `toml` or `md` (`markdown`).
fn export_format(text: &str) -> Result<crate::planfile::Format, String> {
    match crate::planfile::Format::parse_name(text) {
        Some(format @ (crate::planfile::Format::Toml | crate::planfile::Format::Markdown)) => Ok(format),
        _ => Err(format!("unknown format \"{text}\" (expected \"toml\" or \"md\")")),
    }
}

/// A whole number of at least 1 (checked before anything is stored).
fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(number) if number >= 1 => Ok(number),
        _ => Err(format!("expected a whole number of at least 1, got \"{text}\"")),
    }
}

/// Options every subcommand shares.
#[derive(Debug, Clone, Default)]
pub struct CliOptions {
    /// `--db PATH`.
    pub database: Option<PathBuf>,
    /// `--json`: one JSON object a line on stdout.
    pub json: bool,
}

/// A failure of one command, with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Orchestrator(#[from] OrchestratorError),
    #[error("{path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    /// The plan file's problems, one `file:line:column: message` a line.
    #[error("{0}")]
    PlanFile(String),
    #[error("{0}")]
    Usage(String),
    /// Refused settings files or keys, one `file:line:column: key: message` a line.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Settings(Vec<crate::config::FileProblem>),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::PlanFile(_) | Self::Usage(_) | Self::Settings(_) => EXIT_USAGE,
            Self::Orchestrator(OrchestratorError::InvalidParams(_) | OrchestratorError::Validation(_)) => EXIT_USAGE,
            Self::Orchestrator(_) | Self::Io { .. } => EXIT_FAILED,
        }
    }
}

/// What every command works with.
pub(crate) struct Cli {
    pub orchestrator: Orchestrator,
    pub json: bool,
    /// `--db`.
    pub database: Option<PathBuf>,
}

/// Runs one subcommand to the end; returns the process exit code. Errors are printed to stderr.
pub async fn main(command: CliCommand, options: CliOptions) -> i32 {
    // Installed before anything runs, so Ctrl-C always reaches the run loop instead of killing
    // the process with children still running.
    let interrupts = match run::Interrupts::install() {
        Ok(interrupts) => interrupts,
        Err(failure) => {
            eprintln!("codelab-planner: cannot watch for Ctrl-C: {failure}");
            return EXIT_FAILED;
        }
    };
    if let CliCommand::Config = command {
        return settings::show(&options).await;
    }
    let cli = match start(&options).await {
        Ok(cli) => cli,
        Err(failure) => {
            eprintln!("codelab-planner: {failure}");
            return failure.exit_code();
        }
    };
    let outcome = dispatch(&cli, command, interrupts).await;
    cli.orchestrator.shutdown().await;
    // As the server does: the data lives in `planner.db`, not in its write-ahead log.
    cli.orchestrator.repository().checkpoint_on_exit().await;
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("codelab-planner: {failure}");
            failure.exit_code()
        }
    }
}

/// Writes a line to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub(crate) fn print_line(line: &str) {
    print_text(&format!("{line}\n"));
}

pub(crate) fn print_text(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

async fn start(options: &CliOptions) -> Result<Cli, CliError> {
    let workspace_root =
        std::env::current_dir().map_err(|cause| CliError::Io { path: "current folder".to_owned(), cause })?;
    let settings = settings::load(&workspace_root).await?;
    let database = settings::database(&workspace_root, options.database.as_deref(), &settings)?;
    let config = OrchestratorConfig { workspace_root, database, settings: settings.settings, editor: None };
    let (orchestrator, report) = Orchestrator::start(config).await?;
    if !report.interrupted.is_empty() {
        let ids: Vec<String> = report.interrupted.iter().map(ToString::to_string).collect();
        eprintln!("codelab-planner: {} plan(s) were interrupted: {}", ids.len(), ids.join(", "));
    }
    Ok(Cli { orchestrator, json: options.json, database: options.database.clone() })
}

async fn dispatch(cli: &Cli, command: CliCommand, interrupts: run::Interrupts) -> Result<i32, CliError> {
    match command {
        CliCommand::Run { file, run } => run::run_file(cli, &file, &run, interrupts).await,
        CliCommand::New { task, run, yes, options } => {
            commands::new_task(cli, task, commands::NewOptions { run, yes, options }, interrupts).await
        }
        CliCommand::List { status, limit } => commands::list(cli, status, limit).await,
        CliCommand::Show { plan_id } => commands::show(cli, plan_id).await,
        CliCommand::Approve { plan_id } => commands::approve(cli, plan_id).await,
        CliCommand::Cancel { plan_id, reason } => commands::cancel(cli, plan_id, reason).await,
        CliCommand::Retry { plan_id, subtasks, options } => {
            commands::retry(cli, plan_id, subtasks, &options, interrupts).await
        }
        CliCommand::Import { file } => commands::import(cli, &file).await,
        CliCommand::Export { plan_id, format } => commands::export(cli, plan_id, format).await,
        CliCommand::Next { plan_id } => commands::next(cli, plan_id).await,
        // Shown before the planner starts (see `main`); the same printout here.
        CliCommand::Config => Ok(settings::show(&CliOptions { database: cli.database.clone(), json: cli.json }).await),
        CliCommand::Complete { plan_id, subtask, failed, result } => {
            commands::complete(cli, plan_id, subtask, !failed, result).await
        }
        CliCommand::Changes { plan_id, step } => record::changes(cli, plan_id, step).await,
        CliCommand::Rollback { plan_id, step } => record::rollback(cli, plan_id, step).await,
        CliCommand::Transcript { plan_id, step, attempt } => record::transcript(cli, plan_id, step, attempt).await,
    }
}
