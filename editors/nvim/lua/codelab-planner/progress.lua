---@mod codelab-planner.progress `planning/progress` events: views, plan buffers, quickfix, notices.
---
--- Each event is folded into the plan's view and the plan's buffers re-render. A failed subtask
--- goes to the quickfix list; a subtask that waits for a person and the end of a run are
--- announced with `vim.notify`. Standard `$/progress` is left to Neovim (it reaches
--- `vim.lsp.status()` and the `LspProgress` autocommand, so fidget.nvim and statuslines show it).
--- After `planFinished` the plan is reloaded, then `User CodelabPlannerRunFinished` fires.

local actions = require("codelab-planner.actions")
local buffer = require("codelab-planner.buffer")
local config = require("codelab-planner.config")
local kinds = require("codelab-planner.protocol").event_kinds
local state = require("codelab-planner.state")
local text = require("codelab-planner.text")
local view_module = require("codelab-planner.view")

local M = {}

local function title_of(view, subtask_id)
  local subtask = view_module.subtask(view, subtask_id)
  return text.one_line(subtask and subtask.title or subtask_id)
end

--- A notice on one line of the command line (no hit-enter prompt): the plan buffer has the rest.
local function notice(message, level)
  vim.notify(text.fit("codelab-planner: " .. message, math.max(40, vim.v.echospace)), level)
end

local function announce(view, event)
  local plan_title = text.one_line(view.plan.title or view.plan.id)
  if event.kind == kinds.subtask_waiting then
    -- What to do is under the step in the plan buffer; the notice says how to finish it.
    local key = config.get().keys.complete
    local how = key and string.format("press %s when done", key) or ":CodelabPlanner complete when done"
    notice(string.format("waits for you (%s): %s", how, title_of(view, event.subtaskId)), vim.log.levels.WARN)
  elseif event.kind == kinds.plan_finished and config.get().notify_on_finish then
    local level = event.status == "completed" and vim.log.levels.INFO or vim.log.levels.WARN
    local progress = event.progress or {}
    notice(
      string.format(
        "%s (%d/%d done in %s): %s",
        event.status,
        progress.done or 0,
        progress.total or 0,
        view_module.format_duration(event.durationMs or 0),
        plan_title
      ),
      level
    )
  end
end

local function after_finish(plan_id, event)
  actions.reload(plan_id, function(err)
    buffer.set_quickfix(plan_id)
    actions.emit("CodelabPlannerRunFinished", { planId = plan_id, status = event.status, error = err })
  end)
end

--- Whether a `$/progress` token is one of the plugin's `planning/create` partial result tokens.
---@param token any
---@return boolean
function M.is_partial_result(token)
  return type(token) == "string" and state.planning[token] ~= nil
end

--- `$/progress { token, value: { subtasks } }` while a plan is made: the subtasks so far, shown in
--- a buffer that the plan's own buffer replaces when the reply comes.
---@param params table
function M.on_partial_result(params)
  local planning = state.planning[params.token]
  local value = params.value
  if not planning or type(value) ~= "table" or type(value.subtasks) ~= "table" then
    return
  end
  if not planning.bufnr or not vim.api.nvim_buf_is_valid(planning.bufnr) then
    planning.bufnr = vim.api.nvim_create_buf(false, true)
    vim.bo[planning.bufnr].buftype = "nofile"
    vim.bo[planning.bufnr].bufhidden = "wipe"
    vim.bo[planning.bufnr].filetype = "codelab-plan"
    pcall(vim.api.nvim_buf_set_name, planning.bufnr, "codelab-plan://" .. params.token)
    buffer.show(planning.bufnr)
  end
  local rendered = view_module.render(view_module.from_inputs(planning.task, value.subtasks), {
    signs = config.get().signs,
  })
  vim.bo[planning.bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(planning.bufnr, 0, -1, false, rendered.lines)
  vim.bo[planning.bufnr].modifiable = false
end

--- Handler of `planning/progress`.
---@param params table `{ planId, runId, event }`
function M.on_progress(params, _)
  if type(params) ~= "table" or type(params.event) ~= "table" or not params.planId then
    return
  end
  local plan_id, event = params.planId, params.event
  if event.kind == kinds.subtask_finished or event.kind == kinds.plan_finished then
    -- The lenses of plan files show the last run's outcome.
    require("codelab-planner.plan_files").refresh_lenses()
  end
  local view = state.views[plan_id]
  if not view then
    -- A run this editor did not open (another window, a retry after a restart): load the plan;
    -- its reply carries the state these events describe.
    actions.reload(plan_id, function()
      if event.kind == kinds.plan_finished then
        actions.emit("CodelabPlannerRunFinished", { planId = plan_id, status = event.status })
      end
    end)
    return
  end
  if view_module.apply(view, params) then
    if event.kind == kinds.subtask_output then
      -- Output does not change the plan buffer's lines, only an open output window.
      buffer.refresh_output(plan_id, event.subtaskId)
    else
      buffer.refresh(plan_id)
    end
    actions.emit("CodelabPlannerProgress", params)
  end
  if event.kind == kinds.subtask_finished and event.status == "failed" then
    buffer.set_quickfix(plan_id)
  end
  announce(view, event)
  if event.kind == kinds.plan_finished then
    after_finish(plan_id, event)
  end
end

return M
