//! Plans that come from files and go back to them: `import` (a plan file → a stored draft that
//! remembers its file), `run_file` (import, approve, execute: "run this file") and `export` (a plan
//! → file text). Every face reads and writes plan files through these, so "run a plan file" exists
//! once.
//!
//! The format is a seam: [`PlanFormat`] names it (`*.plan.toml`, a markdown task list, a
//! Taskmaster `tasks.json`), from the file's name unless the caller says. Problems in a file are
//! a `Validation` error whose paths are `file:line:column`; warnings do not stop it. Nothing is
//! stored for a file that fails its check. A task list's steps become agent steps when a model
//! is configured, steps for a person when not.

use std::path::{Path, PathBuf};

use super::{CreateMode, CreateRequest, Created, Orchestrator, OrchestratorError, RunStarted};
use crate::model::PlanId;
use crate::model::validate::{Problem, ProblemKind, SubtaskDraft, ValidationErrors};
use crate::planfile::{self, PlanFile, ReadOptions, line_and_column};

/// A plan file format: `*.plan.toml`, a markdown task list, Taskmaster's `tasks.json`.
pub use crate::planfile::Format as PlanFormat;

/// What `import` reads.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// The file: absolute, or relative to the workspace root.
    pub path: PathBuf,
    /// The file's text when the caller has it (an editor's unsaved buffer); else it is read.
    pub text: Option<String>,
    /// `None`: from the file's name (a name that says none is read as a plan file).
    pub format: Option<PlanFormat>,
    /// Only this subtask and what depends on it ("run from here").
    pub from_subtask: Option<String>,
}

impl Orchestrator {
    /// Reads a plan file and stores it as a draft that remembers its file (its lenses and hover
    /// find it again). A file with problems stores nothing and fails with every problem at its
    /// `file:line:column`.
    pub async fn import(&self, request: ImportRequest) -> Result<Created, OrchestratorError> {
        let workspace_root = self.planning_setup().workspace_root.clone();
        let path = if request.path.is_absolute() { request.path.clone() } else { workspace_root.join(&request.path) };
        let shown = request.path.display().to_string();
        let text = match request.text {
            Some(text) => text,
            None => super::source::read_plan_text(&shown, &path).await?,
        };
        let format = request.format.or_else(|| PlanFormat::of_path(&path)).unwrap_or(PlanFormat::Toml);
        let source_file = planfile::source_key(&workspace_root, &path);
        let options = self.read_options(&path);
        let (create, warnings) =
            plan_file_request(&shown, &text, format, &options, source_file, request.from_subtask.as_deref())?;
        super::source::refuse_empty(&shown, &create)?;
        let created = self.create(create).await?;
        Ok(Created { warnings, ..created })
    }

    /// How task lists are read here: with a model or not, and the file's name as a title.
    pub fn read_options(&self, path: &Path) -> ReadOptions {
        let setup = self.planning_setup();
        let with_model = setup.model.is_some() && setup.llm.model_for(setup.llm.roles.agent.as_ref()).is_some();
        ReadOptions { with_model, file_name: path.file_name().map(|name| name.to_string_lossy().into_owned()) }
    }

    /// "Run this file": imports it, approves the draft (running one's own plan file is the
    /// go-ahead) and starts it. Returns at once; the run's events come with it.
    pub async fn run_file(
        &self,
        request: ImportRequest,
        options: super::StartOptions,
    ) -> Result<RunStarted, OrchestratorError> {
        let created = self.import(request).await?;
        self.approve_and_execute(created.plan.id, options).await
    }

    /// The plan as the text of a file of `format` (which parses back to the same subtasks).
    pub async fn export(&self, plan_id: PlanId, format: PlanFormat) -> Result<String, OrchestratorError> {
        let plan = self.get(plan_id).await?;
        Ok(match format {
            PlanFormat::Toml => planfile::export_plan(&plan),
            PlanFormat::Markdown => planfile::export_markdown(&plan),
            PlanFormat::Taskmaster => {
                return Err(super::invalid_param("format", "export writes `toml` or `md`, not Taskmaster's format"));
            }
        })
    }
}

/// The `create` request for a plan file's text, or its problems at `shown:line:column`.
fn plan_file_request(
    shown: &str,
    text: &str,
    format: PlanFormat,
    options: &ReadOptions,
    source_file: String,
    from_subtask: Option<&str>,
) -> Result<(CreateRequest, Vec<Problem>), OrchestratorError> {
    let checked = planfile::check_as(text, format, options);
    let placed = |severity: planfile::Severity| -> Vec<Problem> {
        let found = checked.problems.iter().filter(|problem| problem.severity == severity);
        found
            .map(|problem| {
                let (line, column) = line_and_column(text, problem.span.start);
                Problem {
                    kind: ProblemKind::Field,
                    path: format!("{shown}:{line}:{column}"),
                    message: problem.message.clone(),
                }
            })
            .collect()
    };
    if checked.has_errors() {
        return Err(OrchestratorError::Validation(ValidationErrors(placed(planfile::Severity::Error))));
    }
    let warnings = placed(planfile::Severity::Warning);
    let subtasks = match from_subtask {
        Some(id) => Some(
            planfile::run_from(&checked.file, id)
                .ok_or_else(|| super::invalid_param("subtaskId", format!("no subtask \"{id}\" in {shown}")))?,
        ),
        None => None,
    };
    let request = create_request(&checked.file, source_file, subtasks)
        .ok_or_else(|| super::invalid_param(shown, "the plan file has no title"))?;
    Ok((request, warnings))
}

/// The `create` request for a plan file: its subtasks (or the ones given, for "run from
/// here"), its title and goal, and its path (see `planfile::source_key`). `None` without a title
/// or goal.
fn create_request(file: &PlanFile, source_file: String, subtasks: Option<Vec<SubtaskDraft>>) -> Option<CreateRequest> {
    let title = file.title_or_goal()?.to_owned();
    let task = file.goal_or_title()?.to_owned();
    Some(CreateRequest {
        task,
        title: Some(title),
        mode: CreateMode::Plan,
        subtasks: Some(subtasks.unwrap_or_else(|| file.drafts())),
        source_file: Some(source_file),
        ..CreateRequest::default()
    })
}
