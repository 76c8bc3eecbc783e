//! The slow half of `create`, `revise` and `classify`, run by the caller's task and never by the
//! actor: input checks, the classifier (keywords, the classification cache, the model), workspace
//! detection and context (blocking file reads, on the blocking pool) and the planner (the model,
//! or the template). The result is a `Prepared*` value that the actor commits in one short,
//! guarded step (`plans.rs`), so a 30-second model call never holds up `planning/list`,
//! `planning/cancel` or any other request.
//!
//! Model calls per `create`: none for an atomic task the keywords are sure of (or cached), one
//! for everything else (classification and plan come back together), plus one repair at most.

use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{CreateMode, CreateRequest, OrchestratorError, TaskContext};
use crate::classify::classify_keywords;
use crate::config::LlmSettings;
use crate::llm::classify::{classify_with_model, keyword_fallback, normalise_task, should_ask_model};
use crate::llm::{ChatModel, Usage};
use crate::model::validate::{SubtaskDraft, build_subtasks, validate_goal, validate_title};
use crate::model::{
    Classification, ClassifyMethod, Confidence, PlanId, PlannerKind, RouteAgent, SessionId, Subtask, Timestamp,
};
use crate::planner::context::{PlanningContext, gather_context};
use crate::planner::llm::{LlmPlan, LlmPlanner, PlanInput, PlannerFailure};
use crate::planner::{self, detect::detect_workspace};
use crate::store::{CachedClassification, PlanRepository, WriteOp};

/// What planning needs from the actor's settings: a snapshot, replaced on every settings change.
pub struct PlanningSetup {
    pub workspace_root: PathBuf,
    pub llm: LlmSettings,
    /// `None` when no model is configured.
    pub model: Option<Arc<dyn ChatModel>>,
}

impl PlanningSetup {
    pub fn new(workspace_root: PathBuf, llm: LlmSettings) -> Self {
        let model = crate::llm::from_settings(&llm);
        Self { workspace_root, llm, model }
    }

    /// The model and its name for a role (`llm.roles.*`, else `llm.model`), when both are set.
    fn model_for(&self, role: Option<&String>) -> Option<(&dyn ChatModel, String)> {
        let name = self.llm.model_for(role)?;
        Some((self.model.as_deref()?, name))
    }
}

/// How the caller follows planning: subtasks as they stream in, and a token that aborts it.
#[derive(Clone, Default)]
pub struct PlanningHooks {
    pub on_subtasks: Option<Arc<dyn Fn(Vec<SubtaskDraft>) + Send + Sync>>,
    pub cancel: CancellationToken,
}

/// What went wrong on the way, for the session log (`classify_error`, `planning_failed`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanningTrouble {
    pub classify_error: Option<String>,
    pub planning_failed: Option<String>,
}

/// A `create` ready to commit.
pub struct PreparedCreate {
    pub session_id: Option<SessionId>,
    pub goal: String,
    pub title: Option<String>,
    pub classification: Classification,
    pub subtasks: Vec<Subtask>,
    pub planner: PlannerKind,
    pub planner_note: Option<String>,
    pub usage: Usage,
    pub trouble: PlanningTrouble,
    /// The plan file it was made from.
    pub source_file: Option<String>,
}

/// `planning/classify`: keywords, then (per `llm.classify`) the cache or the model. When the
/// model fails, the keywords answer and the reason says why the model was not used.
pub async fn classify(
    setup: &PlanningSetup,
    repository: &PlanRepository,
    goal: &str,
    cancel: &CancellationToken,
) -> Result<Classification, OrchestratorError> {
    let keywords = classify_keywords(goal);
    let Some((model, model_name)) = setup.model_for(setup.llm.roles.classify.as_ref()) else {
        return Ok(keywords);
    };
    if !should_ask_model(setup.llm.classify, &keywords) {
        return Ok(keywords);
    }
    if let Some(cached) = cached(repository, goal, &model_name).await {
        return Ok(cached);
    }
    match classify_with_model(model, &model_name, goal, cancel).await.0 {
        Ok(classification) => {
            remember(repository, goal, &model_name, &classification).await;
            Ok(classification)
        }
        Err(_) if cancel.is_cancelled() => Err(OrchestratorError::PlanningCancelled),
        Err(error) => Ok(keyword_fallback(keywords, &error.to_string())),
    }
}

async fn cached(repository: &PlanRepository, goal: &str, model_name: &str) -> Option<Classification> {
    let (key, model) = (normalise_task(goal), model_name.to_owned());
    match repository.call(move |store| store.cached_classification(&key, &model)).await {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(%error, "classification cache unreadable");
            None
        }
    }
}

async fn remember(repository: &PlanRepository, goal: &str, model_name: &str, classification: &Classification) {
    let entry = CachedClassification {
        task_key: normalise_task(goal),
        model: model_name.to_owned(),
        classification: classification.clone(),
        at: Timestamp::now(),
    };
    if let Err(error) = repository.commit(vec![WriteOp::CacheClassification(entry)]).await {
        tracing::warn!(%error, "classification not cached");
    }
}

/// Everything of `create` that may be slow; nothing is written but the classification cache.
pub async fn prepare_create(
    setup: &PlanningSetup,
    repository: &PlanRepository,
    request: CreateRequest,
    hooks: &PlanningHooks,
) -> Result<PreparedCreate, OrchestratorError> {
    let goal = validate_goal(&request.task, "task").map_err(OrchestratorError::InvalidParams)?;
    let title = match &request.title {
        Some(title) => Some(validate_title(title, "title").map_err(OrchestratorError::InvalidParams)?),
        None => None,
    };
    let session_id = request.session_id.clone().map(super::plans::checked_session_id).transpose()?;
    let mut prepared = PreparedCreate {
        session_id,
        classification: forced_classification(&goal, request.mode, request.subtasks.is_some()),
        goal,
        title,
        subtasks: Vec::new(),
        planner: PlannerKind::Template,
        planner_note: None,
        usage: Usage::default(),
        trouble: PlanningTrouble::default(),
        source_file: request.source_file.clone(),
    };
    if let Some(drafts) = &request.subtasks {
        prepared.subtasks = build_subtasks(drafts, "subtasks")?;
        prepared.planner = PlannerKind::User;
        prepared.classification = prepared.classification.for_plan_of(prepared.subtasks.len());
        return Ok(prepared);
    }
    let ask = request.mode == CreateMode::Auto && should_ask_model(setup.llm.classify, &prepared.classification);
    let plan_model = setup.model_for(setup.llm.roles.plan.as_ref());
    if let Some((_, model_name)) = plan_model.as_ref().filter(|_| ask) {
        if let Some(cached) = cached(repository, &prepared.goal, model_name).await {
            prepared.classification = cached;
        }
    }
    let known = !ask || prepared.classification.method == ClassifyMethod::Llm;
    if known && prepared.classification.is_atomic() {
        prepared.subtasks = vec![super::plans::atomic_subtask(&prepared.goal, &prepared.classification)];
        return Ok(prepared);
    }
    plan(setup, repository, &request.context, &mut prepared, plan_model, !known, hooks).await?;
    // "Atomic" means one step: a verdict the planner turned into several is complex (reviewed).
    prepared.classification = prepared.classification.for_plan_of(prepared.subtasks.len());
    Ok(prepared)
}

/// Plans `prepared.goal` (and classifies it too when `classify`): the model, else the template.
async fn plan(
    setup: &PlanningSetup,
    repository: &PlanRepository,
    context: &TaskContext,
    prepared: &mut PreparedCreate,
    plan_model: Option<(&dyn ChatModel, String)>,
    classify: bool,
    hooks: &PlanningHooks,
) -> Result<(), OrchestratorError> {
    let notes = super::plans::notes_of(context);
    let Some((model, model_name)) = plan_model else {
        return template(setup, prepared, notes, None).await;
    };
    let planning_context = planning_context(setup, &context.files).await?;
    let no_stream = |_: Vec<SubtaskDraft>| {};
    let planner = LlmPlanner {
        model,
        model_name: &model_name,
        cancel: &hooks.cancel,
        on_subtasks: hooks.on_subtasks.as_deref().unwrap_or(&no_stream),
    };
    let input = PlanInput {
        task: &prepared.goal,
        notes: notes.as_deref(),
        context: &planning_context,
        require_plan: !classify,
    };
    let (result, usage) = planner.plan(&input).await;
    prepared.usage.add(usage);
    match result {
        Ok(LlmPlan { classification, title, subtasks }) => {
            if let Some(classification) = classification.filter(|_| classify) {
                remember(repository, &prepared.goal, &model_name, &classification).await;
                prepared.classification = classification;
            }
            if prepared.classification.is_atomic() {
                prepared.subtasks = vec![super::plans::atomic_subtask(&prepared.goal, &prepared.classification)];
                return Ok(());
            }
            prepared.subtasks = build_subtasks(&subtasks, "subtasks")?;
            prepared.title = prepared.title.take().or(title);
            prepared.planner = PlannerKind::Llm;
            Ok(())
        }
        Err(failure) if failure.is_cancelled() => Err(OrchestratorError::PlanningCancelled),
        Err(failure) => {
            let why = failure.to_string();
            if classify {
                prepared.classification = keyword_fallback(prepared.classification.clone(), &why);
                prepared.trouble.classify_error = Some(why.clone());
                if prepared.classification.is_atomic() {
                    prepared.subtasks = vec![super::plans::atomic_subtask(&prepared.goal, &prepared.classification)];
                    return Ok(());
                }
            }
            template(setup, prepared, notes, Some(failure)).await
        }
    }
}

/// The template planner, noting why the model's plan was not used.
async fn template(
    setup: &PlanningSetup,
    prepared: &mut PreparedCreate,
    notes: Option<String>,
    failure: Option<PlannerFailure>,
) -> Result<(), OrchestratorError> {
    let root = setup.workspace_root.clone();
    let facts = tokio::task::spawn_blocking(move || detect_workspace(&root))
        .await
        .map_err(|error| OrchestratorError::Internal(format!("workspace detection: {error}")))?;
    let draft = planner::plan_task(&prepared.goal, notes.as_deref(), &facts);
    prepared.subtasks = build_subtasks(&draft.subtasks, "subtasks")?;
    prepared.title = prepared.title.take().or(Some(draft.title));
    prepared.planner = PlannerKind::Template;
    if let Some(failure) = failure {
        let note = planner_note(&failure);
        prepared.trouble.planning_failed = Some(note.clone());
        prepared.planner_note = Some(note);
    }
    Ok(())
}

/// The `plannerNote` for a failure: short, one line, secret-free (provider errors carry none).
pub fn planner_note(failure: &PlannerFailure) -> String {
    let text = format!("the language model's plan was not used: {failure}");
    let mut note: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if note.chars().count() > 500 {
        note = note.chars().take(499).collect::<String>() + "…";
    }
    note
}

/// Gathers the prompt's workspace context on the blocking pool.
pub async fn planning_context(setup: &PlanningSetup, files: &[String]) -> Result<PlanningContext, OrchestratorError> {
    let (root, files) = (setup.workspace_root.clone(), files.to_vec());
    tokio::task::spawn_blocking(move || gather_context(&root, &files))
        .await
        .map_err(|error| OrchestratorError::Internal(format!("workspace context: {error}")))
}

/// A `revise` ready to commit.
pub struct PreparedRevise {
    pub plan_id: PlanId,
    /// The version the revision was made from; the commit refuses a plan edited since.
    pub expected_version: u64,
    pub feedback: String,
    /// The parts of the feedback the template planner could not apply (reported, never folded in).
    pub unapplied: Vec<String>,
    pub subtasks: Vec<Subtask>,
    pub planner: PlannerKind,
    pub planner_note: Option<String>,
    pub usage: Usage,
    pub trouble: PlanningTrouble,
}

/// Everything of `revise` that may be slow: the model (with the current plan and the feedback),
/// else the template planner's rules.
pub async fn prepare_revise(
    setup: &PlanningSetup,
    repository: &PlanRepository,
    plan_id: PlanId,
    feedback: String,
    hooks: &PlanningHooks,
) -> Result<PreparedRevise, OrchestratorError> {
    let feedback = feedback.trim().to_owned();
    if feedback.is_empty() {
        return Err(super::invalid_param("feedback", "must not be empty"));
    }
    let plan =
        repository.get_plan(plan_id.clone()).await?.ok_or_else(|| OrchestratorError::PlanNotFound(plan_id.clone()))?;
    plan.ensure_editable().map_err(|error| super::errors::refused(&plan, error))?;
    let mut prepared = PreparedRevise {
        plan_id,
        expected_version: plan.version,
        feedback,
        unapplied: Vec::new(),
        subtasks: Vec::new(),
        planner: PlannerKind::Template,
        planner_note: None,
        usage: Usage::default(),
        trouble: PlanningTrouble::default(),
    };
    let mut failure = None;
    if let Some((model, model_name)) = setup.model_for(setup.llm.roles.plan.as_ref()) {
        let context = planning_context(setup, &[]).await?;
        let no_stream = |_: Vec<SubtaskDraft>| {};
        let on_subtasks = hooks.on_subtasks.as_deref().unwrap_or(&no_stream);
        let planner = LlmPlanner { model, model_name: &model_name, cancel: &hooks.cancel, on_subtasks };
        let input = PlanInput { task: &plan.goal, notes: None, context: &context, require_plan: true };
        let (result, usage) = planner.revise(&input, &plan.subtasks, &prepared.feedback).await;
        prepared.usage = usage;
        match result {
            Ok(revised) => {
                prepared.subtasks = build_subtasks(&revised.subtasks, "subtasks")?;
                prepared.planner = PlannerKind::Llm;
                return Ok(prepared);
            }
            Err(error) if error.is_cancelled() => return Err(OrchestratorError::PlanningCancelled),
            Err(error) => failure = Some(error),
        }
    }
    let root = setup.workspace_root.clone();
    let facts = tokio::task::spawn_blocking(move || detect_workspace(&root))
        .await
        .map_err(|error| OrchestratorError::Internal(format!("workspace detection: {error}")))?;
    let draft = planner::revise_plan(&plan.goal, &plan.subtasks, &prepared.feedback, &facts)
        .map_err(|error| super::invalid_param("feedback", error.to_string()))?;
    prepared.subtasks = build_subtasks(&draft.subtasks, "subtasks")?;
    prepared.unapplied = draft.unapplied;
    if let Some(failure) = failure {
        let note = planner_note(&failure);
        prepared.trouble.planning_failed = Some(note.clone());
        prepared.planner_note = Some(note);
    }
    Ok(prepared)
}

/// The keyword verdict, or the one the mode forces.
fn forced_classification(goal: &str, mode: CreateMode, explicit_subtasks: bool) -> Classification {
    let keywords = classify_keywords(goal);
    match mode {
        CreateMode::Direct if keywords.is_atomic() => keywords,
        CreateMode::Direct => Classification::atomic(
            RouteAgent::Code,
            Confidence::High,
            "mode \"direct\": treated as atomic".to_owned(),
            ClassifyMethod::Keywords,
        ),
        CreateMode::Plan => Classification::complex(
            Confidence::High,
            "mode \"plan\": treated as complex".to_owned(),
            ClassifyMethod::Keywords,
        ),
        CreateMode::Auto if explicit_subtasks => Classification::complex(
            Confidence::High,
            "explicit subtasks given: reviewed as a plan".to_owned(),
            ClassifyMethod::Keywords,
        ),
        CreateMode::Auto => keywords,
    }
}
