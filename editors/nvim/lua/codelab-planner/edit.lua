---@mod codelab-planner.edit Draft edits as `planning/update` params. Pure: no requests, no buffers.
---
--- A draft's subtasks go back to the server as they came: every field received is sent again
--- (`cwd`, `timeoutSecs`, `role` and any field this plugin does not know), except the fields
--- only the server writes (`protocol.subtask_server_fields`: status, attempts, results, times).
--- So an edit changes exactly what the person changed, whatever the server adds later.

local protocol = require("codelab-planner.protocol")

local M = {}

--- A received Subtask as a `SubtaskInput`: a deep copy without the server-written fields.
---@param subtask table
---@return table
function M.as_input(subtask)
  local input = vim.deepcopy(subtask)
  for _, field in ipairs(protocol.subtask_server_fields) do
    input[field] = nil
  end
  return input
end

--- `planning/update` params that rename one subtask of `plan`, or the plan when `subtask_id` is nil.
---@param plan table A Plan as `planning/get` answered it.
---@param subtask_id? string
---@param title string
---@return table? params
---@return string? error
function M.retitle(plan, subtask_id, title)
  title = vim.trim((title or ""):gsub("[\r\n]+", " "))
  if title == "" then
    return nil, "a title cannot be empty"
  end
  if plan.status ~= "draft" then
    return nil, string.format("only a draft can be edited; this plan is %s", tostring(plan.status))
  end
  if subtask_id == nil then
    return { planId = plan.id, version = plan.version, title = title }, nil
  end
  local inputs, found = {}, false
  for _, subtask in ipairs(plan.subtasks or {}) do
    local input = M.as_input(subtask)
    if subtask.id == subtask_id then
      input.title = title
      found = true
    end
    table.insert(inputs, input)
  end
  if not found then
    return nil, string.format('the plan has no subtask "%s"', subtask_id)
  end
  return { planId = plan.id, version = plan.version, subtasks = inputs }, nil
end

return M
