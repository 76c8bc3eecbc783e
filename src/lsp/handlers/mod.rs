//! The `planning/*` request handlers, one small group per file, and their registration.
//!
//! Handlers are thin: parse the params (`-32602` naming the field), convert to a domain request,
//! await the orchestrator's short reply, convert back. They never wait for a run.
//! Named `handle_<noun>_<verb>`.

pub mod commands;
pub mod lenses;
pub mod navigation;
pub mod plan_files;
pub mod plans;
pub mod record;
pub mod review;
pub mod runs;

use tower_lsp_server::LspServiceBuilder;
use tower_lsp_server::ls_types::request::Request;

use super::ext;
use super::server::PlannerServer;

/// Registers every planning request on the service builder.
pub fn register(builder: LspServiceBuilder<PlannerServer>) -> LspServiceBuilder<PlannerServer> {
    builder
        .custom_method(<ext::ClassifyTask as Request>::METHOD, plans::handle_task_classify)
        .custom_method(<ext::CreatePlan as Request>::METHOD, plans::handle_plan_create)
        .custom_method(<ext::GetPlan as Request>::METHOD, plans::handle_plan_get)
        .custom_method(<ext::ListPlans as Request>::METHOD, plans::handle_plan_list)
        .custom_method(<ext::UpdatePlan as Request>::METHOD, plans::handle_plan_update)
        .custom_method(<ext::DeletePlan as Request>::METHOD, plans::handle_plan_delete)
        .custom_method(<ext::PlanHistory as Request>::METHOD, plans::handle_plan_history)
        .custom_method(<ext::GetSession as Request>::METHOD, plans::handle_session_get)
        .custom_method(<ext::ResetSession as Request>::METHOD, plans::handle_session_reset)
        .custom_method(<ext::ApprovePlan as Request>::METHOD, review::handle_plan_approve)
        .custom_method(<ext::RejectPlan as Request>::METHOD, review::handle_plan_reject)
        .custom_method(<ext::RevisePlan as Request>::METHOD, review::handle_plan_revise)
        .custom_method(<ext::ExecutePlan as Request>::METHOD, runs::handle_plan_execute)
        .custom_method(<ext::CancelPlan as Request>::METHOD, runs::handle_plan_cancel)
        .custom_method(<ext::RetryPlan as Request>::METHOD, runs::handle_plan_retry)
        .custom_method(<ext::GetPlanStatus as Request>::METHOD, runs::handle_plan_status)
        .custom_method(<ext::CompleteSubtask as Request>::METHOD, runs::handle_subtask_complete)
        .custom_method(<ext::NextSubtasks as Request>::METHOD, runs::handle_subtasks_next)
        .custom_method(<ext::ExportPlan as Request>::METHOD, commands::handle_plan_export)
        .custom_method(<ext::ImportPlan as Request>::METHOD, commands::handle_plan_import)
        .custom_method(<ext::PlanTranscript as Request>::METHOD, record::handle_plan_transcript)
        .custom_method(<ext::PlanChanges as Request>::METHOD, record::handle_plan_changes)
        .custom_method(<ext::PlanRollback as Request>::METHOD, record::handle_plan_rollback)
        .custom_method(<ext::AnswerApproval as Request>::METHOD, record::handle_approval_answer)
}
