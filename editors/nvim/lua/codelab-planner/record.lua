---@mod codelab-planner.record Agent work on the record: questions, transcripts, changes, rollback.
---
--- The plan buffer's keys for what agents did and ask: answer the question a step's agent waits
--- on (`planning/answer`; the first answer wins, so one answered elsewhere meanwhile is only
--- reported), the question's diff or a step's changes in a split, a step's transcript in a
--- buffer, and reverting a step's files or the whole plan's (`planning/rollback`, after a yes).
--- Lines come from `codelab-planner.record_text`; every callback is `callback(err, result)`.

local actions = require("codelab-planner.actions")
local buffer = require("codelab-planner.buffer")
local lsp = require("codelab-planner.lsp")
local methods = require("codelab-planner.protocol").methods
local record_text = require("codelab-planner.record_text")
local state = require("codelab-planner.state")
local text = require("codelab-planner.text")
local view_module = require("codelab-planner.view")

local M = {}

local MODEL_AGENTS = { coder = true, debug = true, ask = true }

local function notify(message, level)
  vim.notify(text.fit("codelab-planner: " .. message, math.max(40, vim.v.echospace)), level or vim.log.levels.INFO)
end

local function finish(callback, err, result)
  if err and not callback then
    notify(err, vim.log.levels.ERROR)
  end
  if callback then
    callback(err, result)
  end
end

local function step(plan_id, subtask_id)
  local view = plan_id and state.views[plan_id]
  return view and subtask_id and view_module.subtask(view, subtask_id) or nil
end

--- The step with a question: the given one when it has one, else the plan's only such step.
local function asking_step(plan_id, subtask_id)
  local given = step(plan_id, subtask_id)
  if given and type(given.pendingApproval) == "table" then
    return given
  end
  local asking = {}
  for _, subtask in ipairs((state.views[plan_id] or { plan = {} }).plan.subtasks or {}) do
    if type(subtask.pendingApproval) == "table" then
      table.insert(asking, subtask)
    end
  end
  return #asking == 1 and asking[1] or nil
end

--- A scratch buffer named `name` with `lines`, shown in a split below (reused when open).
local function show_split(name, lines, filetype)
  local bufnr = vim.fn.bufnr(name)
  if bufnr == -1 then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, name)
    vim.bo[bufnr].buftype = "nofile"
    vim.bo[bufnr].bufhidden = "wipe"
    vim.bo[bufnr].swapfile = false
  end
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, text.buffer_lines(lines))
  vim.bo[bufnr].modifiable = false
  vim.bo[bufnr].filetype = filetype
  if vim.fn.bufwinid(bufnr) == -1 then
    vim.cmd("botright split")
    vim.api.nvim_set_current_buf(bufnr)
  else
    vim.api.nvim_set_current_win(vim.fn.bufwinid(bufnr))
  end
  return bufnr
end

--- Answers the question the step's agent waits on: `allow_once`, `allow_always` or `reject_once`.
---@param plan_id string
---@param subtask_id? string The step under the cursor (else the plan's only asking step).
---@param option string
---@param callback? codelab_planner.Callback
function M.answer(plan_id, subtask_id, option, callback)
  local subtask = asking_step(plan_id, subtask_id)
  if not subtask then
    if callback then
      return callback("no question waits for an answer here", nil)
    end
    return notify("no question waits for an answer here", vim.log.levels.WARN)
  end
  local approval = subtask.pendingApproval
  local params = { planId = plan_id, subtaskId = subtask.id, requestId = approval.requestId, option = option }
  lsp.request(methods.answer, params, function(err, result, response_error)
    local kind = type(response_error) == "table" and type(response_error.data) == "table" and response_error.data.kind
    if err and kind == "invalidState" then
      -- Answered elsewhere first (the editor's own question, another client): not an error of theirs.
      return actions.reload(plan_id, function()
        notify("already answered: " .. text.one_line(approval.question))
        finish(callback, nil, nil)
      end)
    elseif err then
      return finish(callback, err)
    end
    subtask.pendingApproval = nil
    buffer.refresh(plan_id)
    actions.reload(plan_id, function()
      finish(callback, nil, result)
    end)
  end)
end

--- A step's transcript in a Markdown buffer (split).
---@param plan_id string
---@param subtask_id? string
---@param callback? codelab_planner.Callback
function M.transcript(plan_id, subtask_id, callback)
  if not subtask_id then
    return finish(callback, "put the cursor on a step")
  end
  lsp.request(methods.transcript, { planId = plan_id, subtaskId = subtask_id }, function(err, result)
    if err then
      return finish(callback, err)
    end
    local subtask = step(plan_id, subtask_id) or { title = subtask_id }
    local lines = record_text.transcript_lines(subtask.title, subtask_id, result)
    local bufnr = show_split(buffer.name(plan_id) .. "/transcript/" .. subtask_id, lines, "markdown")
    finish(callback, nil, bufnr)
  end)
end

--- `o`: a model's step opens its transcript, any other step its output.
---@param plan_id string
---@param subtask_id? string
function M.open(plan_id, subtask_id)
  local subtask = step(plan_id, subtask_id)
  if subtask and MODEL_AGENTS[subtask.agent] and (subtask.attempts or 0) > 0 then
    return M.transcript(plan_id, subtask_id)
  end
  buffer.open_output(plan_id, subtask_id)
end

--- The question's diff (before answering it), else the step's changes, else the plan's, in a
--- split of filetype `diff`.
---@param plan_id string
---@param subtask_id? string
---@param callback? codelab_planner.Callback
function M.diff(plan_id, subtask_id, callback)
  local asking = asking_step(plan_id, subtask_id)
  if asking and (subtask_id == nil or asking.id == subtask_id) and type(asking.pendingApproval.diff) == "string" then
    local approval = asking.pendingApproval
    local lines = { "# " .. view_module.approval_line(approval) }
    vim.list_extend(lines, text.lines(approval.diff))
    local bufnr = show_split(buffer.name(plan_id) .. "/question/" .. approval.requestId, lines, "diff")
    return finish(callback, nil, bufnr)
  end
  local params = { planId = plan_id, subtaskId = subtask_id }
  lsp.request(methods.changes, params, function(err, result)
    if err then
      return finish(callback, err)
    end
    local name = buffer.name(plan_id) .. "/changes/" .. (subtask_id or "plan")
    finish(callback, nil, show_split(name, record_text.changes_lines(result.changes or {}), "diff"))
  end)
end

--- Reverts the files the step changed (and every later change to them), or the whole plan's,
--- after a yes; files changed since are left and named.
---@param plan_id string
---@param subtask_id? string nil: the whole plan.
---@param opts? { confirmed?: boolean }
---@param callback? codelab_planner.Callback
function M.rollback(plan_id, subtask_id, opts, callback)
  local subtask = step(plan_id, subtask_id)
  local what = subtask and ('the files "' .. text.one_line(subtask.title) .. '" changed')
    or "every file the plan's agents changed"
  local function revert()
    lsp.request(methods.rollback, { planId = plan_id, subtaskId = subtask_id }, function(err, result)
      if err then
        return finish(callback, err)
      end
      local conflicts = #(result.conflicts or {}) > 0
      notify(record_text.rollback_summary(result), conflicts and vim.log.levels.WARN or vim.log.levels.INFO)
      actions.reload(plan_id, function()
        finish(callback, nil, result)
      end)
    end)
  end
  if opts and opts.confirmed then
    return revert()
  end
  vim.ui.select({ "Revert", "Keep" }, { prompt = "Revert " .. what .. "? (files changed since stay as they are)" }, function(choice)
    if choice == "Revert" then
      revert()
    end
  end)
end

return M
