---@mod codelab-planner.actions What commands and buffer keys do: one function per operation.
---
--- Each action resolves the plan (an explicit id or id prefix, else the current plan buffer's
--- plan, else the plan used last), sends one request, updates the shared view and the plan
--- buffers, and reports failures with `vim.notify`. Every action takes an optional
--- `callback(err, result)` so that Lua code (and the tests) can wait for it.

local buffer = require("codelab-planner.buffer")
local config = require("codelab-planner.config")
local lsp = require("codelab-planner.lsp")
local methods = require("codelab-planner.protocol").methods
local state = require("codelab-planner.state")
local text = require("codelab-planner.text")

local M = {}

---@alias codelab_planner.Callback fun(err: string?, result: any)

local function notify(message, level)
  vim.notify("codelab-planner: " .. message, level or vim.log.levels.INFO)
end

--- A notice kept to one line of the command line (no hit-enter prompt in the middle of a flow).
local function notify_line(message, level)
  vim.notify(text.fit("codelab-planner: " .. message, math.max(40, vim.v.echospace)), level or vim.log.levels.INFO)
end

--- Fires `User <pattern>` with `data`, for statuslines, user autocommands and tests.
---@param pattern string
---@param data table
function M.emit(pattern, data)
  vim.api.nvim_exec_autocmds("User", { pattern = pattern, data = data, modeline = false })
end

--- Calls `callback`, or reports the error when there is no callback to take it.
local function finish(callback, err, result)
  if err and not callback then
    notify(err, vim.log.levels.ERROR)
  end
  if callback then
    callback(err, result)
  end
end

--- The plan an action is about, or nil and why not.
---@param given? string An id or a unique id prefix.
---@return string? plan_id
---@return string? error
function M.resolve(given)
  if given and given ~= "" then
    if state.known_plans[given] then
      return given, nil
    end
    local matches = {}
    for id in pairs(state.known_plans) do
      if vim.startswith(id, given) then
        table.insert(matches, id)
      end
    end
    if #matches == 1 then
      return matches[1], nil
    elseif #matches > 1 then
      return nil, string.format('"%s" matches %d plans: give more of the id', given, #matches)
    end
    return given, nil
  end
  local from_buffer = buffer.plan_id(0)
  if from_buffer then
    return from_buffer, nil
  end
  if state.last_plan_id then
    return state.last_plan_id, nil
  end
  return nil, "no plan: give a plan id, or open one with :CodelabPlanner list"
end

--- Takes a fresh Plan into the view and the buffers.
---@param plan table
function M.take_plan(plan)
  state.update_view(plan)
  state.last_plan_id = plan.id
  buffer.refresh(plan.id)
  M.emit("CodelabPlannerUpdated", { planId = plan.id })
end

--- Sends `method` for a plan; a Plan result is taken into the view. `on_error(plan_id, error)`
--- may take a refusal as handled (it returns true): then nobody is told of an error.
local function plan_request(method, given, extra, callback, on_result, on_error)
  local plan_id, err = M.resolve(given)
  if not plan_id then
    return finish(callback, err)
  end
  local params = vim.tbl_extend("force", { planId = plan_id }, extra or {})
  lsp.request(method, params, function(request_err, result, response_error)
    if request_err and on_error and on_error(plan_id, response_error) then
      return finish(callback, nil, nil)
    end
    if not request_err and on_result then
      on_result(plan_id, result)
    end
    finish(callback, request_err, result)
  end)
end

local function take_plan_result(_, plan)
  M.take_plan(plan)
end

local planning_requests = 0

--- Opens the new plan where the streamed subtasks were shown (if they were), then drops them.
local function replace_planning_buffer(token, plan_id)
  local planning = state.planning[token]
  state.planning[token] = nil
  local streamed = planning and planning.bufnr
  if streamed and vim.api.nvim_buf_is_valid(streamed) then
    local window = vim.fn.bufwinid(streamed)
    if window ~= -1 and plan_id then
      vim.api.nvim_set_current_win(window)
    end
    if plan_id then
      buffer.open(plan_id)
    end
    -- Hidden, the planning buffer may already be gone (bufhidden=wipe).
    if vim.api.nvim_buf_is_valid(streamed) then
      vim.api.nvim_buf_delete(streamed, { force = true })
    end
  elseif plan_id then
    buffer.open(plan_id)
  end
end

--- Creates a plan (`planning/create` params) and opens it. While a model plans, the subtasks
--- it has produced so far are shown (partial results) and planning reports `$/progress`.
---@param params table `{ task, mode?, subtasks?, title?, context? }`
---@param callback? codelab_planner.Callback
function M.create(params, callback)
  planning_requests = planning_requests + 1
  local token = string.format("codelab-planner-plan-%d-%d", vim.uv.os_getpid(), planning_requests)
  state.planning[token] = { task = params.task or "" }
  local with_tokens = vim.tbl_extend("keep", params, {
    workDoneToken = token .. "-progress",
    partialResultToken = token,
  })
  lsp.request(methods.create, with_tokens, function(err, result)
    if not err then
      M.take_plan(result.plan)
    end
    replace_planning_buffer(token, not err and result.plan.id or nil)
    finish(callback, err, result)
  end)
end

--- Loads a plan and shows it.
---@param given? string
---@param opts? { focus?: boolean }
---@param callback? codelab_planner.Callback
function M.show(given, opts, callback)
  plan_request(methods.get, given, nil, callback, function(_, plan)
    M.take_plan(plan)
    buffer.open(plan.id, opts)
  end)
end

--- Reloads a plan's view without opening a buffer.
---@param plan_id string
---@param callback? codelab_planner.Callback
function M.reload(plan_id, callback)
  plan_request(methods.get, plan_id, nil, callback, take_plan_result)
end

---@param given? string
---@param callback? codelab_planner.Callback
function M.approve(given, callback)
  plan_request(methods.approve, given, nil, callback, take_plan_result)
end

---@param given? string
---@param feedback? string
---@param callback? codelab_planner.Callback
function M.reject(given, feedback, callback)
  local extra = (feedback and feedback ~= "") and { feedback = feedback } or nil
  plan_request(methods.reject, given, extra, callback, take_plan_result)
end

--- Shows "revising: <feedback>…" in the plan's buffers until the reply (a model may take a while).
local function set_pending(plan_id, pending)
  local view = plan_id and state.views[plan_id]
  if view then
    view.pending = pending
    buffer.refresh(plan_id)
  end
end

local function send_revise(given, feedback, callback)
  local plan_id = M.resolve(given)
  set_pending(plan_id, "revising: " .. text.one_line(feedback) .. " …")
  plan_request(methods.revise, given, { feedback = feedback }, function(err, result)
    set_pending(plan_id, nil)
    finish(callback, err, result)
  end, take_plan_result)
end

--- Revises a draft with feedback (asked for when not given); the plan buffer shows that it is
--- being revised until the new version arrives.
---@param given? string
---@param feedback? string
---@param callback? codelab_planner.Callback
function M.revise(given, feedback, callback)
  if feedback and feedback ~= "" then
    return send_revise(given, feedback, callback)
  end
  vim.ui.input({ prompt = "Revise the plan: " }, function(input)
    if input and input ~= "" then
      send_revise(given, input, callback)
    end
  end)
end

--- Renames a step of a draft (`subtask_id`), or the plan itself (no `subtask_id`); asks for the
--- title when none is given. The plan is fetched first and every field of every step is sent
--- back as received (`codelab-planner.edit`), so nothing the plugin does not show is lost.
---@param given? string
---@param subtask_id? string
---@param title? string
---@param callback? codelab_planner.Callback
function M.edit(given, subtask_id, title, callback)
  plan_request(methods.get, given, nil, function(err, plan)
    if err then
      return finish(callback, err)
    end
    local function send(new_title)
      local params, problem = require("codelab-planner.edit").retitle(plan, subtask_id, new_title)
      if not params then
        return finish(callback, problem)
      end
      lsp.request(methods.update, params, function(update_err, updated)
        if not update_err then
          M.take_plan(updated)
        end
        finish(callback, update_err, updated)
      end)
    end
    if title then
      return send(title)
    end
    local current = plan.title
    for _, subtask in ipairs(plan.subtasks or {}) do
      if subtask.id == subtask_id then
        current = subtask.title
      end
    end
    vim.ui.input(
      { prompt = subtask_id and ("Title of " .. subtask_id .. ": ") or "Plan title: ", default = current },
      function(input)
        if input and vim.trim(input) ~= "" and input ~= current then
          send(input)
        end
      end
    )
  end)
end

--- A run of `plan_id` started: its plan buffer opens (or its view reloads).
---@param plan_id string
function M.run_started(plan_id, _)
  state.last_plan_id = plan_id
  if config.get().open_on_execute and buffer.plan_id(0) ~= plan_id then
    M.show(plan_id)
  else
    M.reload(plan_id)
  end
end

---@param given? string
---@param callback? codelab_planner.Callback
function M.execute(given, callback)
  plan_request(methods.execute, given, nil, callback, M.run_started, function(plan_id, response_error)
    -- A draft the server will not run unapproved: say what to do instead of reporting an error.
    local view = state.views[plan_id]
    local kind = type(response_error) == "table" and type(response_error.data) == "table" and response_error.data.kind
    if kind ~= "invalidState" or not view or view.plan.status ~= "draft" or callback then
      return false
    end
    local key = config.get().keys.approve
    notify_line(
      string.format(
        "a draft runs once approved (%s): %s",
        key and ("press " .. key .. " in its buffer") or ":CodelabPlanner approve",
        text.one_line(view.plan.title)
      ),
      vim.log.levels.WARN
    )
    return true
  end)
end

--- Retries the unfinished subtasks (or the named ones).
---@param given? string
---@param subtask_ids? string[]
---@param callback? codelab_planner.Callback
function M.retry(given, subtask_ids, callback)
  local extra = (subtask_ids and #subtask_ids > 0) and { subtaskIds = subtask_ids } or nil
  plan_request(methods.retry, given, extra, callback, M.run_started)
end

---@param given? string
---@param callback? codelab_planner.Callback
function M.cancel(given, callback)
  plan_request(methods.cancel, given, { reason = "cancelled from Neovim" }, callback, function(plan_id, result)
    if not result.cancelled then
      notify("nothing to cancel: the plan is " .. tostring(result.status), vim.log.levels.WARN)
    end
  end)
end

--- Deletes a plan (asks first unless `force`).
---@param given? string
---@param force boolean
---@param callback? codelab_planner.Callback
function M.delete(given, force, callback)
  local function delete()
    plan_request(methods.delete, given, nil, callback, function(plan_id, result)
      if result.deleted then
        state.views[plan_id] = nil
        state.known_plans[plan_id] = nil
        if state.last_plan_id == plan_id then
          state.last_plan_id = nil
        end
        for _, bufnr in ipairs(buffer.buffers(plan_id)) do
          vim.api.nvim_buf_delete(bufnr, { force = true })
        end
      end
    end)
  end
  if force then
    return delete()
  end
  vim.ui.select({ "Delete", "Keep" }, { prompt = "Delete the plan?" }, function(choice)
    if choice == "Delete" then
      delete()
    end
  end)
end

--- The waiting subtask to complete: the given one, else the only waiting one, else ask.
local function choose_waiting(plan_id, subtask_id, on_chosen)
  local view = state.views[plan_id]
  local waiting = {}
  for _, subtask in ipairs(view and view.plan.subtasks or {}) do
    if subtask.status == "waiting" then
      table.insert(waiting, subtask)
    end
  end
  if subtask_id then
    return on_chosen(subtask_id)
  elseif #waiting == 1 then
    return on_chosen(waiting[1].id)
  elseif #waiting == 0 then
    return on_chosen(nil, "nothing waits for you in this plan", vim.log.levels.WARN)
  end
  vim.ui.select(waiting, {
    prompt = "Which step is finished?",
    format_item = function(subtask)
      return subtask.id .. "  " .. text.one_line(subtask.title)
    end,
  }, function(choice)
    if choice then
      on_chosen(choice.id)
    end
  end)
end

local function subtask_status(plan_id, subtask_id)
  local view = state.views[plan_id]
  local subtask = view and require("codelab-planner.view").subtask(view, subtask_id)
  return subtask and subtask.status or nil, subtask and text.one_line(subtask.title) or subtask_id
end

--- Ends a waiting subtask (`planning/complete`) as `done` or `failed`. A step that stopped waiting
--- meanwhile (completed elsewhere, its run cancelled) is left alone and the person is told so —
--- a stale question never ends in an error.
---@param given? string
---@param subtask_id? string
---@param status "done"|"failed"
---@param result? string
---@param callback? codelab_planner.Callback
function M.complete(given, subtask_id, status, result, callback)
  local plan_id, err = M.resolve(given)
  if not plan_id then
    return finish(callback, err)
  end
  local function no_longer_waiting(chosen)
    local current, title = subtask_status(plan_id, chosen)
    notify_line(string.format("no longer waits (it is %s), nothing to do: %s", current or "gone", title))
    finish(callback, nil, nil)
  end
  choose_waiting(plan_id, subtask_id, function(chosen, choose_err, level)
    if not chosen and level and not callback then
      -- Not an error: a key pressed on a plan with nothing to finish (any more).
      return notify_line(choose_err, level)
    elseif not chosen then
      return finish(callback, choose_err)
    end
    local current = subtask_status(plan_id, chosen)
    if current and current ~= "waiting" then
      return no_longer_waiting(chosen)
    end
    local extra = { subtaskId = chosen, status = status or "done" }
    if result and result ~= "" then
      extra.result = result
    end
    plan_request(methods.complete, plan_id, extra, callback, take_plan_result, function(_, response_error)
      local kind = type(response_error) == "table" and type(response_error.data) == "table" and response_error.data.kind
      if kind ~= "invalidState" then
        return false
      end
      -- The step ended between the question and the answer: reload, and say so if that is why.
      M.reload(plan_id, function()
        if subtask_status(plan_id, chosen) ~= "waiting" then
          no_longer_waiting(chosen)
        end
      end)
      return true
    end)
  end)
end

--- Lists plans (newest first) and opens the chosen one.
---@param callback? codelab_planner.Callback
function M.list(callback)
  lsp.request(methods.list, { limit = 100 }, function(err, result)
    if err then
      return finish(callback, err)
    end
    for _, summary in ipairs(result.plans) do
      state.remember(summary)
    end
    if callback then
      return callback(nil, result)
    end
    if #result.plans == 0 then
      return notify("no plans yet: :CodelabPlanner new")
    end
    vim.ui.select(result.plans, {
      prompt = "Plans",
      format_item = function(summary)
        return string.format(
          "%s  [%s %d%%]  %s",
          text.one_line(summary.title),
          summary.status,
          summary.progress.percentage,
          summary.id
        )
      end,
    }, function(choice)
      if choice then
        M.show(choice.id)
      end
    end)
  end)
end

--- The plan as `*.plan.toml` text (`planning/export`) in a new buffer, ready to `:write`.
---@param given? string
---@param callback? codelab_planner.Callback
function M.export(given, callback)
  plan_request(methods.export, given, nil, callback, function(plan_id, result)
    local bufnr = vim.api.nvim_create_buf(true, false)
    vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, text.lines(result.text or ""))
    vim.bo[bufnr].filetype = "toml"
    vim.bo[bufnr].modified = false
    local known = state.known_plans[plan_id]
    local slug = known and known.title:lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", "") or plan_id
    pcall(vim.api.nvim_buf_set_name, bufnr, (slug ~= "" and slug or plan_id) .. ".plan.toml")
    vim.cmd("botright split")
    vim.api.nvim_set_current_buf(bufnr)
  end)
end

--- A plan's stored versions in a scratch buffer.
---@param given? string
---@param callback? codelab_planner.Callback
function M.log(given, callback)
  plan_request(methods.history, given, nil, callback, function(plan_id, result)
    local lines = {}
    for _, version in ipairs(result.versions) do
      table.insert(
        lines,
        string.format(
          "v%d  %s  %s  (%s)",
          version.version,
          version.createdAt,
          text.one_line(version.title),
          text.one_line(version.reason)
        )
      )
      for _, subtask in ipairs(version.subtasks) do
        local after = #(subtask.dependsOn or {}) > 0 and ("  after " .. table.concat(subtask.dependsOn, ", ")) or ""
        table.insert(
          lines,
          string.format("    %s  %s  %s%s", subtask.id, text.one_line(subtask.title), subtask.agent, after)
        )
      end
    end
    local bufnr = vim.api.nvim_create_buf(false, true)
    vim.bo[bufnr].bufhidden = "wipe"
    vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
    vim.bo[bufnr].modifiable = false
    pcall(vim.api.nvim_buf_set_name, bufnr, buffer.name(plan_id) .. "/log")
    vim.cmd("botright split")
    vim.api.nvim_set_current_buf(bufnr)
  end)
end

return M
