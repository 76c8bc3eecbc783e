---@mod codelab-planner.view A plan as the plan buffer shows it: a pure reducer and a pure renderer.
---
--- `new(plan)` makes a view, `apply(view, params)` folds one `planning/progress` notification into
--- it, and `render(view, opts)` turns it into lines. No buffers, no requests, no clock: the same
--- plan and events always give the same text, which is what the tests compare. The buffer module
--- (`codelab-planner.buffer`) puts the lines on screen.

local protocol = require("codelab-planner.protocol")
local text = require("codelab-planner.text")

local M = {}

local kinds = protocol.event_kinds
local OUTPUT_LINES_KEPT = 2000
local TITLE_WIDTH_MAX = 40

---@class codelab_planner.View
---@field plan table The last known Plan (wire object).
---@field run_id? string
---@field activity table<string, table> Last `agentActivity` event per running subtask.
---@field waiting table<string, string> What a person is asked to do, per waiting subtask (the
--- event's `instructions`, else its `message`).
---@field notes table<string, string> Retry notes per subtask.
---@field durations table<string, integer> Milliseconds per finished subtask (from events).
---@field output table<string, string[]> Output lines per subtask (from events, bounded).
---@field pending? string A request under way that changes the plan ("revising: ..."), shown until its reply.
---@field duration_ms? integer The run's duration, from `planFinished`.
---@field event_status table<string, string> Statuses reported by events of the current run.

---@param plan table
---@return codelab_planner.View
function M.new(plan)
  return {
    plan = vim.deepcopy(plan),
    activity = {},
    waiting = {},
    notes = {},
    durations = {},
    output = {},
    event_status = {},
  }
end

--- A view of a plan still being planned: the task and the subtasks streamed so far
--- (`SubtaskInput`s of a `planning/create` partial result).
---@param task string
---@param inputs table[]
---@return codelab_planner.View
function M.from_inputs(task, inputs)
  local subtasks = {}
  for index, input in ipairs(inputs or {}) do
    table.insert(subtasks, {
      id = input.id or ("s" .. index),
      title = input.title or "",
      description = input.description or "",
      agent = input.agent or "",
      command = input.command,
      dependsOn = input.dependsOn or {},
      status = "pending",
      attempts = 0,
      maxAttempts = input.maxAttempts or 1,
    })
  end
  return M.new({
    id = "(planning)",
    title = task,
    status = "planning",
    version = 0,
    subtasks = subtasks,
    progress = M.progress(subtasks),
  })
end

--- Replaces the plan (a fresh `planning/get`), keeping what only events know.
---@param view codelab_planner.View
---@param plan table
function M.set_plan(view, plan)
  view.plan = vim.deepcopy(plan)
  -- A reply can be older than events already applied: during the same run, statuses that events
  -- reported win over the reply's.
  if plan.status == "running" and view.run_id and plan.runId == view.run_id then
    for _, subtask in ipairs(view.plan.subtasks or {}) do
      subtask.status = view.event_status[subtask.id] or subtask.status
    end
    view.plan.progress = M.progress(view.plan.subtasks)
  end
  for id in pairs(view.waiting) do
    local subtask = M.subtask(view, id)
    if not subtask or subtask.status ~= "waiting" then
      view.waiting[id] = nil
    end
  end
  for id in pairs(view.activity) do
    local subtask = M.subtask(view, id)
    if not subtask or subtask.status ~= "running" then
      view.activity[id] = nil
    end
  end
end

---@param view codelab_planner.View
---@param id string
---@return table?
function M.subtask(view, id)
  for _, subtask in ipairs(view.plan.subtasks or {}) do
    if subtask.id == id then
      return subtask
    end
  end
  return nil
end

--- Counts by status, the same rule as the server's Progress.
---@param subtasks table[]
---@return table
function M.progress(subtasks)
  local progress = { total = #subtasks, percentage = 0 }
  for _, status in ipairs(protocol.subtask_statuses) do
    progress[status] = 0
  end
  for _, subtask in ipairs(subtasks) do
    progress[subtask.status] = (progress[subtask.status] or 0) + 1
  end
  if progress.total > 0 then
    local finished = progress.done + progress.failed + progress.skipped + progress.cancelled
    progress.percentage = math.floor(finished * 100 / progress.total)
  end
  return progress
end

local function set_status(view, id, status)
  local subtask = M.subtask(view, id)
  if subtask then
    subtask.status = status
    view.event_status[id] = status
    view.plan.progress = M.progress(view.plan.subtasks)
  end
  return subtask
end

--- Each `subtaskOutput.text` is one line without its terminator (docs/protocol.md); a text that
--- holds line breaks anyway becomes several lines.
local function append_output(view, id, output)
  local lines = view.output[id] or {}
  for _, line in ipairs(text.lines(output)) do
    table.insert(lines, line)
  end
  while #lines > OUTPUT_LINES_KEPT do
    table.remove(lines, 1)
  end
  view.output[id] = lines
end

--- What a waiting step asks of a person: plain `instructions` when the server sends them, else
--- its `message`.
---@param event table A `subtaskWaiting` event.
---@return string
function M.waiting_text(event)
  if type(event.instructions) == "string" and vim.trim(event.instructions) ~= "" then
    return event.instructions
  end
  return type(event.message) == "string" and event.message or ""
end

local handlers = {}

handlers[kinds.plan_started] = function(view, event)
  view.plan.status = "running"
  view.plan.error = nil
  view.duration_ms = nil
  view.activity = {}
  view.event_status = {}
  if event.title then
    view.plan.title = event.title
  end
end

handlers[kinds.subtask_started] = function(view, event)
  local subtask = set_status(view, event.subtaskId, "running")
  if subtask then
    subtask.attempts = event.attempt or subtask.attempts
    subtask.error = nil
    subtask.result = nil
  end
  view.waiting[event.subtaskId] = nil
  view.notes[event.subtaskId] = nil
  view.activity[event.subtaskId] = nil
  view.durations[event.subtaskId] = nil
end

handlers[kinds.subtask_output] = function(view, event)
  append_output(view, event.subtaskId, event.text or "")
end

handlers[kinds.subtask_retrying] = function(view, event)
  view.notes[event.subtaskId] = string.format(
    "retry %d in %s: %s",
    event.attempt or 0,
    M.format_duration(event.delayMs or 0),
    text.one_line(event.error)
  )
  view.activity[event.subtaskId] = nil
end

handlers[kinds.subtask_finished] = function(view, event)
  local subtask = set_status(view, event.subtaskId, event.status)
  if subtask then
    subtask.result = event.result
    subtask.error = event.error
    subtask.pendingApproval = nil
  end
  view.durations[event.subtaskId] = event.durationMs
  view.waiting[event.subtaskId] = nil
  view.activity[event.subtaskId] = nil
  view.notes[event.subtaskId] = nil
end

handlers[kinds.subtask_waiting] = function(view, event)
  set_status(view, event.subtaskId, "waiting")
  view.waiting[event.subtaskId] = M.waiting_text(event)
  view.activity[event.subtaskId] = nil
end

handlers[kinds.agent_activity] = function(view, event)
  view.activity[event.subtaskId] = event
end

handlers[kinds.approval_requested] = function(view, event)
  local subtask = M.subtask(view, event.subtaskId)
  if subtask then
    subtask.pendingApproval = vim.deepcopy(event.approval)
  end
end

handlers[kinds.approval_answered] = function(view, event)
  local subtask = M.subtask(view, event.subtaskId)
  if subtask and type(subtask.pendingApproval) == "table" and subtask.pendingApproval.requestId == event.requestId then
    subtask.pendingApproval = nil
  end
end

--- The question on one line with the change: "Allow coder to edit `README.md`? (+2 −1 README.md)".
---@param approval table A PendingApproval.
---@return string
function M.approval_line(approval)
  local question = text.one_line(approval.question or "")
  if type(approval.summary) == "string" and approval.summary ~= "" then
    return question .. " (" .. approval.summary .. ")"
  end
  return question
end

handlers[kinds.plan_finished] = function(view, event)
  view.plan.status = event.status
  if event.progress then
    view.plan.progress = vim.deepcopy(event.progress)
  end
  if event.usage then
    view.plan.usage = vim.deepcopy(event.usage)
  end
  view.duration_ms = event.durationMs
  view.activity = {}
end

--- Folds one `planning/progress` notification (`{ planId, runId, event }`) into the view.
--- Events of another plan, of an older run, or of an unknown kind change nothing.
---@param view codelab_planner.View
---@param params table
---@return boolean changed
function M.apply(view, params)
  if type(params) ~= "table" or params.planId ~= view.plan.id or type(params.event) ~= "table" then
    return false
  end
  local handler = handlers[params.event.kind]
  if not handler then
    return false
  end
  if params.event.kind == kinds.plan_started then
    view.run_id = params.runId
  elseif view.run_id and params.runId and params.runId ~= view.run_id then
    return false
  end
  view.run_id = view.run_id or params.runId
  handler(view, params.event)
  return true
end

-- ---------------------------------------------------------------------------------------------
-- Rendering

--- `340ms`, `5.3s`, `2m 05s`.
---@param milliseconds number
---@return string
function M.format_duration(milliseconds)
  milliseconds = math.max(0, math.floor(milliseconds))
  if milliseconds < 1000 then
    return string.format("%dms", milliseconds)
  elseif milliseconds < 60000 then
    return string.format("%.1fs", milliseconds / 1000)
  end
  local seconds = math.floor(milliseconds / 1000)
  return string.format("%dm %02ds", math.floor(seconds / 60), seconds % 60)
end

--- Milliseconds since an arbitrary origin for an RFC 3339 UTC timestamp, or nil.
---@param timestamp? string
---@return number?
function M.parse_timestamp(timestamp)
  if type(timestamp) ~= "string" then
    return nil
  end
  local year, month, day, hour, minute, second, fraction =
    timestamp:match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)(%.?%d*)")
  if not year then
    return nil
  end
  local days = os.time({ year = year, month = month, day = day, hour = 12 }) / 86400
  local seconds = math.floor(days + 0.5) * 86400 + hour * 3600 + minute * 60 + second
  return seconds * 1000 + math.floor((tonumber("0" .. fraction) or 0) * 1000 + 0.5)
end

local function elapsed(from, to)
  local start, finish = M.parse_timestamp(from), M.parse_timestamp(to)
  if start and finish and finish >= start then
    return finish - start
  end
  return nil
end

--- The tool's ACP kind. The event is tagged by `kind` (always "agentActivity"), so the tool kind
--- travels as `toolKind`; `kind` counts only when it is not the tag.
local function tool_kind(activity)
  if activity.toolKind then
    return activity.toolKind
  end
  if activity.kind and activity.kind ~= kinds.agent_activity then
    return activity.kind
  end
  return nil
end

local function describe_activity(activity)
  local what = tool_kind(activity) or activity.tool or "tool"
  local target = activity.target and (" " .. text.one_line(activity.target)) or ""
  if activity.phase == "thinking" then
    return activity.tokens and string.format("thinking (%d tokens)", activity.tokens) or "thinking"
  elseif activity.phase == "toolStarted" then
    return what .. target
  elseif activity.phase == "toolFinished" then
    return what .. target .. " finished"
  elseif activity.phase == "waitingForApproval" then
    return "approval needed: " .. what .. target
  end
  return activity.phase or ""
end

local function display_width(text)
  return vim.fn.strdisplaywidth(text)
end

local function pad(text, width)
  return text .. string.rep(" ", math.max(0, width - display_width(text)))
end

local function truncate(text, width)
  if display_width(text) <= width then
    return text
  end
  return vim.fn.strcharpart(text, 0, width - 1) .. "…"
end

local function progress_line(view)
  local progress = view.plan.progress or M.progress(view.plan.subtasks or {})
  local parts = { string.format("%d%%", progress.percentage or 0) }
  for _, status in ipairs({ "done", "running", "waiting", "failed", "skipped", "cancelled", "pending" }) do
    if (progress[status] or 0) > 0 then
      table.insert(parts, string.format("%d %s", progress[status], status))
    end
  end
  return string.format("progress: %s of %d", table.concat(parts, " · "), progress.total or 0)
end

local function status_line(view)
  local plan = view.plan
  local parts = { "status: " .. (plan.status or "?") }
  local duration = view.duration_ms or elapsed(plan.startedAt, plan.finishedAt)
  if duration and (plan.finishedAt or view.duration_ms) then
    parts[1] = parts[1] .. " in " .. M.format_duration(duration)
  end
  table.insert(parts, "v" .. tostring(plan.version or 0))
  if plan.planner then
    table.insert(parts, "planner: " .. plan.planner)
  end
  return table.concat(parts, " · ")
end

--- `label: value`, a value of several lines continuing on indented lines below.
local function labelled(lines, label, value)
  local value_lines = text.lines(value)
  for index, line in ipairs(value_lines) do
    table.insert(lines, index == 1 and (label .. ": " .. line) or ("  " .. line))
  end
end

local function header_lines(view)
  local plan = view.plan
  local title = text.one_line(plan.title)
  local lines = { title ~= "" and title or "(untitled plan)", status_line(view), progress_line(view) }
  if view.pending then
    table.insert(lines, text.one_line(view.pending))
  end
  local optional = {
    { "goal", plan.goal },
    { "planner note", plan.plannerNote },
    { "feedback", plan.feedback },
    { "error", plan.error },
  }
  for _, pair in ipairs(optional) do
    if type(pair[2]) == "string" and vim.trim(pair[2]) ~= "" then
      labelled(lines, pair[1], pair[2])
    end
  end
  if type(plan.usage) == "table" then
    table.insert(
      lines,
      string.format(
        "usage: %d prompt + %d completion tokens in %d calls",
        plan.usage.promptTokens or 0,
        plan.usage.completionTokens or 0,
        plan.usage.calls or 0
      )
    )
  end
  table.insert(lines, "id: " .. (plan.id or "?"))
  return lines
end

--- How the person ends a waiting step, in the plugin's own words (the buffer key when it has one).
local function completion_hint(keys)
  if keys and keys.complete then
    return string.format("press %s when done", keys.complete)
  end
  return ":CodelabPlanner complete when done"
end

local function subtask_details(view, subtask, keys)
  local details = {}
  if #(subtask.dependsOn or {}) > 0 then
    table.insert(details, "after " .. table.concat(subtask.dependsOn, ", "))
  end
  if subtask.status == "running" and (subtask.attempts or 0) > 1 then
    table.insert(details, "attempt " .. subtask.attempts)
  end
  local duration = view.durations[subtask.id] or elapsed(subtask.startedAt, subtask.finishedAt)
  local has_run = (subtask.attempts or 0) > 0 and subtask.status ~= "skipped"
  if duration and has_run and vim.tbl_contains({ "done", "failed", "cancelled" }, subtask.status) then
    table.insert(details, M.format_duration(duration))
  end
  if type(subtask.usage) == "table" then
    table.insert(
      details,
      string.format("%d tokens", (subtask.usage.promptTokens or 0) + (subtask.usage.completionTokens or 0))
    )
  end
  if subtask.status == "waiting" then
    table.insert(details, "waiting for you: " .. completion_hint(keys))
  end
  if type(subtask.pendingApproval) == "table" then
    table.insert(details, "asks you (below)")
  elseif subtask.status == "running" and view.activity[subtask.id] then
    table.insert(details, describe_activity(view.activity[subtask.id]))
  end
  local changes = subtask.changes
  if type(changes) == "table" and (changes.files or 0) > 0 then
    table.insert(
      details,
      string.format(
        "changed %d file%s +%d −%d",
        changes.files,
        changes.files == 1 and "" or "s",
        changes.added or 0,
        changes.removed or 0
      )
    )
  end
  if view.notes[subtask.id] then
    table.insert(details, view.notes[subtask.id])
  end
  return details
end

--- `y allow · Y allow for this plan (every file edit of this plan) · n deny · d diff`, the keys
--- that answer a question (the command when a key is disabled).
local function answer_keys(approval, keys)
  local parts = {}
  local scope = type(approval.scope) == "string" and (" (" .. approval.scope .. ")") or ""
  for _, entry in ipairs({
    { "allow", "allow" },
    { "allow_for_plan", "allow for this plan" .. scope },
    { "deny", "deny" },
    { "diff", "diff" },
  }) do
    if keys and keys[entry[1]] then
      table.insert(parts, keys[entry[1]] .. " " .. entry[2])
    end
  end
  if #parts == 0 then
    return ":CodelabPlanner answer allow|always|deny"
  end
  return table.concat(parts, " · ")
end

--- Lines shown under a subtask's row: the question its agent waits on, what a waiting step asks,
--- or a failed step's error.
local function subtask_notes(view, subtask, keys)
  if type(subtask.pendingApproval) == "table" then
    return {
      "    ? " .. M.approval_line(subtask.pendingApproval),
      "    │ " .. answer_keys(subtask.pendingApproval, keys),
    }, "CodelabPlannerWaiting"
  end
  if subtask.status == "waiting" then
    local asked = {}
    for _, line in ipairs(text.lines(view.waiting[subtask.id])) do
      if vim.trim(line) ~= "" then
        table.insert(asked, "    │ " .. vim.trim(line))
      end
    end
    return asked, "CodelabPlannerWaiting"
  end
  if subtask.status == "failed" and type(subtask.error) == "string" and subtask.error ~= "" then
    local error_lines = text.lines(subtask.error)
    local first = "    error: " .. vim.trim(error_lines[1] or "")
    if #error_lines > 1 then
      first = first .. " … (o: the whole error)"
    end
    return { first }, "CodelabPlannerError"
  end
  return {}, nil
end

---@class codelab_planner.Rendered
---@field lines string[]
---@field rows table<integer, string> 1-based line number -> subtask id.
---@field highlights table[] `{ row (1-based), start_col, end_col, group }` (byte columns, 0-based).

--- Highlight groups of the plan buffer and the groups they link to by default (`:hi link`
--- them to change colours).
M.highlight_links = {
  CodelabPlannerTitle = "Title",
  CodelabPlannerPending = "Comment",
  CodelabPlannerRunning = "DiagnosticInfo",
  CodelabPlannerWaiting = "DiagnosticWarn",
  CodelabPlannerDone = "DiagnosticOk",
  CodelabPlannerFailed = "DiagnosticError",
  CodelabPlannerSkipped = "Comment",
  CodelabPlannerCancelled = "DiagnosticWarn",
  CodelabPlannerError = "DiagnosticError",
  CodelabPlannerKeys = "Comment",
}

local function status_group(status)
  return "CodelabPlanner" .. (status or "pending"):gsub("^%l", string.upper)
end

--- The plan buffer's text for a view.
---@param view codelab_planner.View
---@param opts? { signs?: table<string, string>, keys?: table<string, string|false> }
---@return codelab_planner.Rendered
function M.render(view, opts)
  opts = opts or {}
  local signs = opts.signs or require("codelab-planner.config").defaults.signs
  local lines = header_lines(view)
  local rendered = { lines = lines, rows = {}, highlights = { { 1, 0, #lines[1], "CodelabPlannerTitle" } } }
  table.insert(lines, "")
  local subtasks = view.plan.subtasks or {}
  local id_width, title_width, agent_width = 0, 0, 0
  for _, subtask in ipairs(subtasks) do
    id_width = math.max(id_width, display_width(subtask.id))
    title_width = math.max(title_width, display_width(truncate(text.one_line(subtask.title), TITLE_WIDTH_MAX)))
    agent_width = math.max(agent_width, display_width(subtask.agent or ""))
  end
  for _, subtask in ipairs(subtasks) do
    local sign = signs[subtask.status] or "?"
    local columns = {
      sign .. " " .. pad(subtask.id, id_width),
      pad(truncate(text.one_line(subtask.title), TITLE_WIDTH_MAX), title_width),
      pad(subtask.agent or "", agent_width),
    }
    local details = subtask_details(view, subtask, opts.keys)
    local line = table.concat(columns, "  ")
    if #details > 0 then
      line = line .. "  " .. table.concat(details, " · ")
    end
    table.insert(lines, (line:gsub("%s+$", "")))
    rendered.rows[#lines] = subtask.id
    table.insert(rendered.highlights, { #lines, 0, #sign, status_group(subtask.status) })
    local notes, group = subtask_notes(view, subtask, opts.keys)
    for _, note in ipairs(notes) do
      table.insert(lines, note)
      rendered.rows[#lines] = subtask.id
      table.insert(rendered.highlights, { #lines, 4, #note, group })
    end
  end
  if #subtasks == 0 then
    table.insert(lines, "(no subtasks)")
  end
  if opts.keys then
    table.insert(lines, "")
    table.insert(lines, M.keys_line(opts.keys))
    table.insert(rendered.highlights, { #lines, 0, #lines[#lines], "CodelabPlannerKeys" })
    local agent_keys = M.agent_keys_line(opts.keys)
    if agent_keys then
      table.insert(lines, agent_keys)
      table.insert(rendered.highlights, { #lines, 0, #lines[#lines], "CodelabPlannerKeys" })
    end
  end
  return rendered
end

local key_order = {
  { "execute", "execute" },
  { "cancel", "cancel" },
  { "retry", "retry" },
  { "approve", "approve" },
  { "revise", "revise" },
  { "edit", "edit" },
  { "output", "output" },
  { "complete", "done" },
  { "complete_failed", "failed" },
  { "refresh", "refresh" },
  { "close", "close" },
}

local agent_key_order = {
  { "allow", "allow" },
  { "allow_for_plan", "allow for plan" },
  { "deny", "deny" },
  { "diff", "diff" },
  { "revert", "revert step" },
  { "revert_plan", "revert plan" },
}

--- `agents: y allow · Y allow for plan · n deny · d diff · u revert step · U revert plan` (what
--- agents ask and changed; `o` opens a model's step's transcript), nil when every one is disabled.
---@param keys table<string, string|false>
---@return string?
function M.agent_keys_line(keys)
  local parts = {}
  for _, pair in ipairs(agent_key_order) do
    if keys[pair[1]] then
      table.insert(parts, keys[pair[1]] .. " " .. pair[2])
    end
  end
  return #parts > 0 and ("agents: " .. table.concat(parts, " · ")) or nil
end

--- `keys: x execute · c cancel · ...` for the enabled keys.
---@param keys table<string, string|false>
---@return string
function M.keys_line(keys)
  local parts = {}
  for _, pair in ipairs(key_order) do
    if keys[pair[1]] then
      table.insert(parts, keys[pair[1]] .. " " .. pair[2])
    end
  end
  return "keys: " .. table.concat(parts, " · ")
end

return M
