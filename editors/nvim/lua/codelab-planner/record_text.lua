---@mod codelab-planner.record_text Agent work on the record as lines a person reads.
---
--- A step's transcript (`planning/transcript`) as a Markdown buffer, a plan's or a step's file
--- changes (`planning/changes`) as one diff buffer, and what a rollback did in one sentence.
--- Pure, like `codelab-planner.view` for the plan buffer: no buffers, no requests, no state;
--- `codelab-planner.record` puts the lines on screen.

local text = require("codelab-planner.text")

local M = {}

local function time_of(entry)
  return (type(entry.at) == "string" and entry.at:match("T(%d%d:%d%d:%d%d)")) or "?"
end

local function fenced(lines, body, language)
  table.insert(lines, "```" .. (language or ""))
  vim.list_extend(lines, text.lines(body or ""))
  table.insert(lines, "```")
end

local function pretty_arguments(arguments)
  if type(arguments) ~= "string" or arguments == "" then
    return ""
  end
  local ok, decoded = pcall(vim.json.decode, arguments)
  if not ok or type(decoded) ~= "table" then
    return arguments
  end
  local parts = {}
  local keys = vim.tbl_keys(decoded)
  table.sort(keys)
  for _, key in ipairs(keys) do
    local value = decoded[key]
    table.insert(parts, string.format("%s: %s", key, type(value) == "string" and value or vim.json.encode(value)))
  end
  return table.concat(parts, "\n")
end

--- The lines of one entry, a heading and what it holds.
local function entry_lines(entry)
  local lines = {}
  local time = time_of(entry)
  local tool = entry.tool or "tool"
  local target = entry.target and (" `" .. text.one_line(entry.target) .. "`") or ""
  if entry.kind == "message" and entry.role == "user" then
    table.insert(lines, "## " .. time .. " · the task given to the agent")
    fenced(lines, entry.text)
  elseif entry.kind == "message" then
    table.insert(lines, "## " .. time .. " · the model")
    vim.list_extend(lines, text.lines(entry.text or ""))
  elseif entry.kind == "toolCall" then
    table.insert(lines, string.format("## %s · → %s%s", time, tool, target))
    fenced(lines, pretty_arguments(entry.arguments))
  elseif entry.kind == "toolResult" then
    table.insert(lines, string.format("## %s · ← %s%s: %s", time, tool, target, entry.outcome or "?"))
    fenced(lines, entry.text)
  elseif entry.kind == "approval" and entry.outcome == "asked" then
    table.insert(lines, "## " .. time .. " · asked the person")
    fenced(lines, entry.text, "diff")
  elseif entry.kind == "approval" then
    table.insert(lines, string.format("## %s · answer: %s", time, entry.outcome or "?"))
    vim.list_extend(lines, text.lines(entry.text or ""))
  else
    table.insert(lines, "> " .. time .. " · " .. text.one_line(entry.text or ""))
  end
  return lines
end

--- A step's transcript as Markdown lines.
---@param title string The step's title.
---@param subtask_id string
---@param transcript table A TranscriptResult.
---@return string[]
function M.transcript_lines(title, subtask_id, transcript)
  local attempt = transcript.attempt or 0
  local lines = { "# Transcript: " .. text.one_line(title), "", string.format("Step `%s`, attempt %d.", subtask_id, attempt) }
  local entries = transcript.entries or {}
  if attempt == 0 or #entries == 0 then
    vim.list_extend(lines, { "", "No language model worked on this step, so it has no transcript." })
    return lines
  end
  if (transcript.dropped or 0) > 0 then
    vim.list_extend(lines, { "", string.format("_%d earlier entries were dropped to keep the record bounded._", transcript.dropped) })
  end
  for _, entry in ipairs(entries) do
    table.insert(lines, "")
    vim.list_extend(lines, entry_lines(entry))
  end
  return lines
end

--- File changes (`planning/changes`) as diff lines, a comment line per file.
---@param changes table[] FileChange objects.
---@return string[]
function M.changes_lines(changes)
  if #changes == 0 then
    return { "# no file changes are recorded" }
  end
  local lines = {}
  for _, change in ipairs(changes) do
    table.insert(
      lines,
      string.format(
        "# %s (attempt %d) · %s %s%s · +%d −%d%s",
        change.subtaskId,
        change.attempt or 0,
        change.change,
        change.path,
        change.from and (" (from " .. change.from .. ")") or "",
        change.added or 0,
        change.removed or 0,
        change.rolledBack and " · rolled back" or ""
      )
    )
    vim.list_extend(lines, text.lines(change.diff or ""))
  end
  return lines
end

--- What a rollback did, in one sentence.
---@param result table A RollbackResult.
---@return string
function M.rollback_summary(result)
  local restored, conflicts = result.restored or {}, result.conflicts or {}
  if #restored == 0 and #conflicts == 0 then
    return "nothing to revert"
  end
  local parts = {}
  if #restored > 0 then
    table.insert(parts, "reverted " .. table.concat(restored, ", "))
  end
  for _, conflict in ipairs(conflicts) do
    table.insert(parts, string.format("left %s: %s", conflict.path, conflict.reason))
  end
  return table.concat(parts, "; ")
end

return M
