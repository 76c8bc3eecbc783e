---@mod codelab-planner.protocol The planning protocol's names, mirrored from the server.
---
--- The Lua mirror of the protocol's closed sets: every method, event kind, status, agent, error
--- kind, phase and tool kind of `docs/protocol.schema.json` (generated from the Rust wire types).
--- Every method name the plugin sends or receives is spelled here and nowhere else;
--- `tests/nvim/protocol.lua` compares this file with the schema, name by name, and
--- `tests/e2e/protocol_drift.rs` with the server's methods. Names only: no requests, no state.

local M = {}

--- Requests (client -> server), keyed by the plugin's short name.
M.methods = {
  classify = "planning/classify",
  create = "planning/create",
  get = "planning/get",
  list = "planning/list",
  update = "planning/update",
  delete = "planning/delete",
  approve = "planning/approve",
  reject = "planning/reject",
  revise = "planning/revise",
  execute = "planning/execute",
  cancel = "planning/cancel",
  retry = "planning/retry",
  status = "planning/status",
  history = "planning/history",
  session = "planning/session",
  reset_session = "planning/resetSession",
  -- Second wave (shared contract, Additions): manual steps and plan files.
  complete = "planning/complete",
  export = "planning/export",
  -- Third wave: the steps a person or an outside agent can take now, and agent work on the record
  -- (transcripts, changes and their rollback, questions answered from any client).
  next = "planning/next",
  transcript = "planning/transcript",
  changes = "planning/changes",
  rollback = "planning/rollback",
  answer = "planning/answer",
}

--- Requests the protocol defines that the plugin does not send yet (imported task lists).
--- `:checkhealth` does not ask the server for them.
M.other_methods = {
  import = "planning/import",
}

--- Notifications (server -> client).
M.notifications = {
  progress = "planning/progress",
}

--- Standard LSP methods the plugin handles or sends.
M.lsp = {
  show_message = "window/showMessage",
  show_message_request = "window/showMessageRequest",
  progress = "$/progress",
  execute_command = "workspace/executeCommand",
}

--- The server's `workspace/executeCommand` commands the plugin uses (`ext::command`).
M.commands = {
  run_file = "codelab-planner.runFile",
}

--- `planning/progress` event kinds (`event.kind`).
M.event_kinds = {
  plan_started = "planStarted",
  subtask_started = "subtaskStarted",
  subtask_output = "subtaskOutput",
  subtask_retrying = "subtaskRetrying",
  subtask_finished = "subtaskFinished",
  subtask_waiting = "subtaskWaiting",
  agent_activity = "agentActivity",
  approval_requested = "approvalRequested",
  approval_answered = "approvalAnswered",
  plan_finished = "planFinished",
}

--- `agentActivity.phase`.
M.activity_phases = { "thinking", "toolStarted", "toolFinished", "waitingForApproval" }

--- `agentActivity.kind`: the Agent Client Protocol's tool kinds.
M.tool_kinds = { "read", "edit", "delete", "move", "search", "execute", "think", "fetch", "other" }

--- Approval answers and the Agent Client Protocol permission options they map to.
M.approval_options = {
  { title = "Allow", option = "allow_once" },
  { title = "Allow for this plan", option = "allow_always" },
  { title = "Deny", option = "reject_once" },
}

--- Subtask fields only the server writes (a Subtask's fields that a SubtaskInput does not have):
--- an edit sends every other field back as received.
M.subtask_server_fields = {
  "status",
  "attempts",
  "result",
  "error",
  "startedAt",
  "finishedAt",
  "usage",
  "changes",
  "pendingApproval",
}

M.subtask_statuses = { "pending", "running", "waiting", "done", "failed", "skipped", "cancelled" }
M.plan_statuses = { "draft", "approved", "running", "completed", "failed", "cancelled", "rejected", "interrupted" }
M.agents = { "coder", "debug", "ask", "shell", "manual" }
M.planners = { "llm", "template", "user" }
M.error_kinds = { "planNotFound", "invalidState", "validation", "llm", "storage", "sessionNotFound", "staleVersion" }
--- `planning/complete`'s `status`.
M.completion_statuses = { "done", "failed" }
--- `SubtaskInput.role`.
M.subtask_roles = { "baseline" }

--- Every method name of the protocol (requests and notifications), sorted.
---@return string[]
function M.all_methods()
  local names = {}
  for _, name in pairs(M.methods) do
    table.insert(names, name)
  end
  for _, name in pairs(M.other_methods) do
    table.insert(names, name)
  end
  for _, name in pairs(M.notifications) do
    table.insert(names, name)
  end
  table.sort(names)
  return names
end

return M
