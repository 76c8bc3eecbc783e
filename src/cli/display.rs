//! How a run looks in the terminal. Three modes, chosen once:
//! - `Live` (stderr is a terminal): an overall bar and a spinner line per running subtask
//!   (`indicatif`), with a line printed above them as each subtask ends;
//! - `Plain` (stderr is a file or a pipe): one line per start and end;
//! - `Json` (`--json`): each event as one `planning/progress` object a line on stdout.
//!
//! It only shows what it is given; it does not run, cancel or store anything.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{RunEvent, RunEventKind};
use crate::model::{Plan, SubtaskId, SubtaskStatus};
pub use crate::planfile::duration;
use crate::wire::convert::run_event_to_wire;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayMode {
    Live,
    Plain,
    Json,
}

impl DisplayMode {
    pub fn choose(json: bool) -> Self {
        if json {
            Self::Json
        } else if std::io::stderr().is_terminal() {
            Self::Live
        } else {
            Self::Plain
        }
    }
}

pub struct Display {
    mode: DisplayMode,
    verbose: bool,
    multi: MultiProgress,
    overall: Option<ProgressBar>,
    running: HashMap<SubtaskId, ProgressBar>,
    /// The short reminder of a question waiting on the terminal (the live area is hidden
    /// meanwhile); the question itself is shown once.
    question: Option<String>,
}

impl Display {
    pub fn new(mode: DisplayMode, verbose: bool) -> Self {
        let target =
            if mode == DisplayMode::Live { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        Self {
            mode,
            verbose,
            multi: MultiProgress::with_draw_target(target),
            overall: None,
            running: HashMap::new(),
            question: None,
        }
    }

    /// A line above the live area (or on stderr).
    pub fn note(&self, text: &str) {
        if let Some(reminder) = &self.question {
            // Below the question (a long one wraps, so it is not erased), then the keys again.
            eprint!("\n{text}\n{reminder}");
            let _ = std::io::stderr().flush();
            return;
        }
        match self.mode {
            DisplayMode::Live => {
                let _ = self.multi.println(text);
            }
            DisplayMode::Plain | DisplayMode::Json => eprintln!("{text}"),
        }
    }

    pub fn show(&mut self, event: &RunEvent) {
        if self.mode == DisplayMode::Json {
            for params in run_event_to_wire(event) {
                match serde_json::to_string(&params) {
                    Ok(line) => super::print_line(&line),
                    Err(failure) => eprintln!("codelab-planner: cannot encode an event: {failure}"),
                }
            }
            return;
        }
        match &event.kind {
            RunEventKind::PlanStarted { title, total } => self.plan_started(title, *total),
            RunEventKind::SubtaskStarted { subtask_id, title, attempt } => {
                self.subtask_started(subtask_id, title, *attempt);
            }
            RunEventKind::SubtaskOutput { subtask_id, text } if self.verbose => {
                for line in text.lines() {
                    self.note(&format!("  {subtask_id} │ {line}"));
                }
            }
            RunEventKind::SubtaskOutput { .. } => {}
            RunEventKind::SubtaskRetrying { subtask_id, attempt, delay_ms, error } => {
                let error = first_line(error);
                self.note(&format!("↻ {subtask_id}  retry {attempt} in {}: {error}", duration(*delay_ms)));
            }
            RunEventKind::SubtaskFinished { subtask_id, title, status, result, error, duration_ms } => {
                if let Some(bar) = self.running.remove(subtask_id) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                let outputs = (result.as_deref(), error.as_deref());
                self.note(&finished_line(subtask_id, title, *status, outputs, *duration_ms));
            }
            RunEventKind::SubtaskWaiting { subtask_id, instructions, .. } => {
                self.note(&format!("⏸ {subtask_id}  waiting for you: {instructions}"));
            }
            RunEventKind::AgentActivity { subtask_id, activity } => match self.running.get(subtask_id) {
                Some(bar) => bar.set_message(format!("{subtask_id}  {}", activity.describe())),
                None if self.verbose => self.note(&format!("  {subtask_id} · {}", activity.describe())),
                None => {}
            },
            RunEventKind::ApprovalRequested { subtask_id, approval } => {
                let summary = approval.summary.as_deref().map(|line| format!(" ({line})")).unwrap_or_default();
                self.note(&format!("? {subtask_id}  {}{summary}", approval.question));
            }
            RunEventKind::ApprovalAnswered { subtask_id, answer, by, .. } => {
                self.note(&format!("  {subtask_id}  answered {} ({by})", answer.acp_kind()));
            }
            RunEventKind::StorageRetrying { error } => {
                self.note(&format!("! cannot record progress ({error}); retrying — free disk space if it is full"));
            }
            RunEventKind::PlanFinished { .. } => {}
        }
        if let Some(overall) = &self.overall {
            let progress = event.progress;
            overall.set_position(u64::from(progress.total - progress.pending - progress.running));
            let mut running: Vec<&str> = self.running.keys().map(SubtaskId::as_str).collect();
            running.sort_unstable();
            overall.set_message(if running.is_empty() {
                String::new()
            } else {
                format!("running: {}", running.join(", "))
            });
        }
    }

    fn plan_started(&mut self, title: &str, total: u32) {
        self.note(&format!("▶ {title} ({total} step{})", if total == 1 { "" } else { "s" }));
        if self.mode == DisplayMode::Live {
            let bar = self.multi.add(ProgressBar::new(u64::from(total)));
            let style = ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {elapsed} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(120));
            self.overall = Some(bar);
        }
    }

    fn subtask_started(&mut self, subtask_id: &SubtaskId, title: &str, attempt: u32) {
        let attempt = if attempt > 1 { format!(" (attempt {attempt})") } else { String::new() };
        if self.mode != DisplayMode::Live {
            self.note(&format!("… {subtask_id}  {title}{attempt}"));
            return;
        }
        let bar = self.multi.add(ProgressBar::new_spinner());
        let style = ProgressStyle::with_template("  {spinner} {prefix} {wide_msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_prefix(subtask_id.to_string());
        bar.set_message(format!("{title}{attempt}"));
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Some(previous) = self.running.insert(subtask_id.clone(), bar) {
            previous.finish_and_clear();
            self.multi.remove(&previous);
        }
    }

    /// Hides the live area and asks `question` on stderr (redraws would cover it); notes go
    /// below it, each followed by the short `reminder` of the keys, until [`Display::resume`].
    pub fn pause(&mut self, question: String, reminder: String) {
        if self.mode == DisplayMode::Live {
            let _ = self.multi.clear();
            self.multi.set_draw_target(ProgressDrawTarget::hidden());
        }
        eprint!("{question}");
        let _ = std::io::stderr().flush();
        self.question = Some(reminder);
    }

    /// Shows the live area again after [`Display::pause`].
    pub fn resume(&mut self) {
        if self.question.take().is_none() {
            return;
        }
        if self.mode == DisplayMode::Live {
            self.multi.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Clears the live area.
    pub fn finish(&mut self) {
        for (_, bar) in self.running.drain() {
            bar.finish_and_clear();
        }
        if let Some(overall) = self.overall.take() {
            overall.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

fn finished_line(
    id: &SubtaskId,
    title: &str,
    status: SubtaskStatus,
    (result, error): (Option<&str>, Option<&str>),
    duration_ms: u64,
) -> String {
    let took = duration(duration_ms);
    match status {
        SubtaskStatus::Done => match result.and_then(crate::model::check::baseline_verdict) {
            Some(verdict) => format!("✓ {id}  {title}  {took} · {verdict}"),
            None => format!("✓ {id}  {title}  {took}"),
        },
        SubtaskStatus::Failed => format!("✗ {id}  {title}  failed after {took}: {}", first_line(error.unwrap_or(""))),
        SubtaskStatus::Skipped => format!("⊘ {id}  {title}  skipped"),
        other => format!("⊘ {id}  {title}  {}", other.as_str()),
    }
}

/// `completed: 3/3 done in 4.2s (plan 01J…)`, with the baselines compared with the final checks
/// when the plan has any: `completed: 5/5 done in 4.2s · before: 1 failing · after: all passing (plan 01J…)`.
pub fn summary_line(plan: &Plan) -> String {
    let progress = plan.progress();
    let took = match (plan.started_at, plan.finished_at) {
        (Some(started), Some(finished)) => format!(" in {}", duration(finished.millis_since(started))),
        _ => String::new(),
    };
    let mut counts = vec![format!("{}/{} done", progress.done, progress.total)];
    for (count, name) in [(progress.failed, "failed"), (progress.skipped, "skipped"), (progress.cancelled, "cancelled")]
    {
        if count > 0 {
            counts.push(format!("{count} {name}"));
        }
    }
    let summary = plan.check_summary().map(|summary| format!(" · {summary}")).unwrap_or_default();
    format!("{}: {}{took}{summary} (plan {})", plan.status.as_str(), counts.join(", "), plan.id)
}

fn first_line(text: &str) -> &str {
    text.lines().find(|line| !line.trim().is_empty()).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_lines_show_status_title_and_time() {
        let id = SubtaskId::from_raw("fmt");
        assert_eq!(finished_line(&id, "Format", SubtaskStatus::Done, (Some("ok"), None), 1200), "✓ fmt  Format  1.2s");
        assert_eq!(
            finished_line(&id, "Format", SubtaskStatus::Failed, (None, Some("\nexit code 1: diff")), 30),
            "✗ fmt  Format  failed after 30ms: exit code 1: diff"
        );
        assert_eq!(finished_line(&id, "Format", SubtaskStatus::Skipped, (None, None), 0), "⊘ fmt  Format  skipped");
        let baseline = Some("failing before the change: 1 test\n\ntest result: FAILED. 0 passed; 1 failed;");
        assert_eq!(
            finished_line(&id, "Tests before the change", SubtaskStatus::Done, (baseline, None), 900),
            "✓ fmt  Tests before the change  900ms · failing before the change: 1 test"
        );
    }
}
