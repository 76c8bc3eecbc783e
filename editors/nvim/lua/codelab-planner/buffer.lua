---@mod codelab-planner.buffer Plan buffers: scratch buffers of filetype `codelab-plan`.
---
--- A plan buffer shows one plan's view (`codelab-planner.view`) and re-renders when the view
--- changes. Its buffer-local keys call the plugin's actions (`codelab-planner.actions`) for the
--- plan, or for the subtask under the cursor. The buffer holds no state of its own beyond which
--- line shows which subtask.

local config = require("codelab-planner.config")
local state = require("codelab-planner.state")
local text = require("codelab-planner.text")
local view_module = require("codelab-planner.view")

local M = {}

local namespace = vim.api.nvim_create_namespace("codelab-planner")

for group, link in pairs(view_module.highlight_links) do
  vim.api.nvim_set_hl(0, group, { link = link, default = true })
end

--- Line number -> subtask id, per buffer.
---@type table<integer, table<integer, string>>
local rows_by_buffer = {}

---@param plan_id string
---@return string
function M.name(plan_id)
  return "codelab-plan://" .. plan_id
end

--- Buffers showing a plan.
---@param plan_id string
---@return integer[]
function M.buffers(plan_id)
  local found = {}
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_valid(bufnr) and vim.b[bufnr].codelab_plan_id == plan_id then
      table.insert(found, bufnr)
    end
  end
  return found
end

--- The plan id of a buffer (0 = current), or nil when it is not a plan buffer.
---@param bufnr? integer
---@return string?
function M.plan_id(bufnr)
  return vim.b[bufnr or 0].codelab_plan_id
end

--- The subtask id on the cursor's line in the current plan buffer.
---@return string?
function M.subtask_at_cursor()
  local rows = rows_by_buffer[vim.api.nvim_get_current_buf()] or {}
  return rows[vim.api.nvim_win_get_cursor(0)[1]]
end

--- The subtask on the cursor's line when it is waiting for a person, else nil.
---@return string?
function M.waiting_subtask_at_cursor()
  local subtask_id = M.subtask_at_cursor()
  local view = subtask_id and state.views[M.plan_id(0) or ""]
  local subtask = view and view_module.subtask(view, subtask_id)
  return (subtask and subtask.status == "waiting") and subtask_id or nil
end

--- The line that shows a subtask in a buffer, or nil.
---@param bufnr integer
---@param subtask_id string
---@return integer?
function M.row_of(bufnr, subtask_id)
  local first = nil
  for row, id in pairs(rows_by_buffer[bufnr] or {}) do
    if id == subtask_id and (first == nil or row < first) then
      first = row
    end
  end
  return first
end

local function render_into(bufnr, view)
  local current = config.get()
  local rendered = view_module.render(view, { signs = current.signs, keys = current.keys })
  -- view.render never yields a line break; should one slip through, the line is joined rather
  -- than the whole render failing (the rows and highlights stay where they are).
  local lines = vim.tbl_map(function(line)
    return line:find("[\r\n]") and text.one_line(line) or line
  end, rendered.lines)
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.bo[bufnr].modifiable = false
  vim.bo[bufnr].modified = false
  rows_by_buffer[bufnr] = rendered.rows
  vim.api.nvim_buf_clear_namespace(bufnr, namespace, 0, -1)
  for _, highlight in ipairs(rendered.highlights) do
    local row, start_col, end_col, group = highlight[1], highlight[2], highlight[3], highlight[4]
    pcall(vim.api.nvim_buf_set_extmark, bufnr, namespace, row - 1, start_col, { end_col = end_col, hl_group = group })
  end
end

--- Re-renders every buffer showing the plan.
---@param plan_id string
function M.refresh(plan_id)
  local view = state.views[plan_id]
  if not view then
    return
  end
  for _, bufnr in ipairs(M.buffers(plan_id)) do
    render_into(bufnr, view)
  end
end

local function map_keys(bufnr)
  local keys = config.get().keys
  local actions = require("codelab-planner.actions")
  local function plan()
    return M.plan_id(bufnr)
  end
  local bindings = {
    execute = {
      "execute the plan",
      function()
        actions.execute(plan())
      end,
    },
    cancel = {
      "cancel the run",
      function()
        actions.cancel(plan())
      end,
    },
    retry = {
      "retry unfinished subtasks",
      function()
        actions.retry(plan())
      end,
    },
    approve = {
      "approve the draft",
      function()
        actions.approve(plan())
      end,
    },
    revise = {
      "revise the draft with feedback",
      function()
        actions.revise(plan())
      end,
    },
    edit = {
      "rename the step under the cursor (the plan on other lines) of a draft",
      function()
        actions.edit(plan(), M.subtask_at_cursor())
      end,
    },
    output = {
      "open the step's transcript (a model's step) or output",
      function()
        require("codelab-planner.record").open(plan(), M.subtask_at_cursor())
      end,
    },
    allow = {
      "allow the change the step's agent asks about",
      function()
        require("codelab-planner.record").answer(plan(), M.subtask_at_cursor(), "allow_once")
      end,
    },
    allow_for_plan = {
      "allow it and every call of its kind for the rest of the plan",
      function()
        require("codelab-planner.record").answer(plan(), M.subtask_at_cursor(), "allow_always")
      end,
    },
    deny = {
      "deny the change the step's agent asks about",
      function()
        require("codelab-planner.record").answer(plan(), M.subtask_at_cursor(), "reject_once")
      end,
    },
    diff = {
      "the question's diff, or the step's changes, in a split",
      function()
        require("codelab-planner.record").diff(plan(), M.subtask_at_cursor())
      end,
    },
    revert = {
      "revert the files the step under the cursor changed",
      function()
        local subtask_id = M.subtask_at_cursor()
        if not subtask_id then
          return vim.notify("codelab-planner: put the cursor on a step", vim.log.levels.WARN)
        end
        require("codelab-planner.record").rollback(plan(), subtask_id)
      end,
    },
    revert_plan = {
      "revert every file the plan's agents changed",
      function()
        require("codelab-planner.record").rollback(plan(), nil)
      end,
    },
    complete = {
      "mark the waiting subtask done",
      function()
        actions.complete(plan(), M.waiting_subtask_at_cursor(), "done")
      end,
    },
    complete_failed = {
      "mark the waiting subtask failed",
      function()
        actions.complete(plan(), M.waiting_subtask_at_cursor(), "failed")
      end,
    },
    refresh = {
      "reload the plan",
      function()
        actions.show(plan(), { focus = false })
      end,
    },
    close = {
      "close the plan window",
      function()
        vim.cmd("close")
      end,
    },
  }
  for name, binding in pairs(bindings) do
    local lhs = keys[name]
    if lhs then
      vim.keymap.set("n", lhs, binding[2], { buffer = bufnr, nowait = true, desc = "codelab-planner: " .. binding[1] })
    end
  end
end

local function create_buffer(plan_id)
  local bufnr = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(bufnr, M.name(plan_id))
  vim.b[bufnr].codelab_plan_id = plan_id
  vim.bo[bufnr].buftype = "nofile"
  vim.bo[bufnr].bufhidden = "hide"
  vim.bo[bufnr].swapfile = false
  vim.bo[bufnr].modifiable = false
  vim.bo[bufnr].filetype = "codelab-plan"
  map_keys(bufnr)
  vim.api.nvim_create_autocmd("BufWipeout", {
    buffer = bufnr,
    callback = function()
      rows_by_buffer[bufnr] = nil
    end,
  })
  return bufnr
end

--- Shows a plan's view in a buffer (made when missing) and returns the buffer.
---@param plan_id string
---@param opts? { focus?: boolean }
---@return integer bufnr
function M.open(plan_id, opts)
  opts = opts or {}
  local bufnr = M.buffers(plan_id)[1] or create_buffer(plan_id)
  M.refresh(plan_id)
  if opts.focus ~= false then
    M.show(bufnr)
  end
  return bufnr
end

--- Shows a plan-like buffer: in its window when it has one, else in the current window when that
--- shows a plan buffer already, else after `open_command` (e.g. `botright vsplit`).
---@param bufnr integer
function M.show(bufnr)
  local window = vim.fn.bufwinid(bufnr)
  if window ~= -1 then
    vim.api.nvim_set_current_win(window)
    return
  end
  local open_command = config.get().open_command
  if open_command and open_command ~= "" and vim.bo.filetype ~= "codelab-plan" then
    vim.cmd(open_command)
  end
  vim.api.nvim_set_current_buf(bufnr)
  vim.wo.wrap = false
  vim.wo.cursorline = true
end

--- The output lines of a subtask: what events streamed, else its stored result and error.
---@param view codelab_planner.View
---@param subtask_id string
---@return string[]
function M.output_lines(view, subtask_id)
  local lines = vim.deepcopy(view.output[subtask_id] or {})
  local subtask = view_module.subtask(view, subtask_id) or {}
  if #lines == 0 and type(subtask.result) == "string" and subtask.result ~= "" then
    lines = text.lines(subtask.result)
  end
  if type(subtask.error) == "string" and subtask.error ~= "" then
    table.insert(lines, "")
    vim.list_extend(lines, text.lines("error: " .. subtask.error))
  end
  if #lines == 0 then
    lines = { "(no output yet)" }
  end
  return lines
end

local function output_name(plan_id, subtask_id)
  return M.name(plan_id) .. "/output/" .. subtask_id
end

local function fill_output(bufnr, view, subtask_id)
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, text.buffer_lines(M.output_lines(view, subtask_id)))
  vim.bo[bufnr].modifiable = false
end

--- Updates a subtask's output buffer, when one is open, as output streams in.
---@param plan_id string
---@param subtask_id string
function M.refresh_output(plan_id, subtask_id)
  local view = state.views[plan_id]
  local bufnr = vim.fn.bufnr(output_name(plan_id, subtask_id))
  if view and bufnr ~= -1 and vim.api.nvim_buf_is_loaded(bufnr) then
    fill_output(bufnr, view, subtask_id)
  end
end

--- Opens a subtask's output in a split; it follows the output while the subtask runs.
---@param plan_id? string
---@param subtask_id? string
function M.open_output(plan_id, subtask_id)
  local view = plan_id and state.views[plan_id]
  if not view or not subtask_id then
    vim.notify("codelab-planner: put the cursor on a subtask", vim.log.levels.WARN)
    return
  end
  local name = output_name(plan_id, subtask_id)
  local bufnr = vim.fn.bufnr(name)
  if bufnr == -1 then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, name)
    vim.bo[bufnr].buftype = "nofile"
    vim.bo[bufnr].bufhidden = "wipe"
    vim.bo[bufnr].swapfile = false
  end
  fill_output(bufnr, view, subtask_id)
  if vim.fn.bufwinid(bufnr) == -1 then
    vim.cmd("botright split")
    vim.api.nvim_set_current_buf(bufnr)
  end
end

--- Puts the plan's failed subtasks in the quickfix list (entries jump to the plan buffer).
---@param plan_id string
function M.set_quickfix(plan_id)
  local view = state.views[plan_id]
  if not view then
    return
  end
  local bufnr = M.buffers(plan_id)[1]
  local items = {}
  for _, subtask in ipairs(view.plan.subtasks or {}) do
    if subtask.status == "failed" then
      local error = type(subtask.error) == "string" and subtask.error or "failed"
      table.insert(items, {
        bufnr = bufnr,
        lnum = bufnr and M.row_of(bufnr, subtask.id) or 0,
        text = string.format("%s: %s: %s", subtask.id, text.one_line(subtask.title), text.one_line(error)),
        type = "E",
      })
    end
  end
  if #items > 0 then
    local title = text.one_line(view.plan.title)
    vim.fn.setqflist({}, " ", { title = "codelab-planner: " .. (title ~= "" and title or plan_id), items = items })
  end
end

return M
