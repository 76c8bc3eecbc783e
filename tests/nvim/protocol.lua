-- The plugin's protocol mirror (codelab-planner.protocol) against the server's JSON Schema
-- (docs/protocol.schema.json, generated from the Rust wire types): every method, event kind,
-- status, agent, error kind, phase, tool kind, permission option and completion status, name by
-- name, both ways; the subtask fields the plugin treats as the server's are exactly those a
-- SubtaskInput lacks; the commands the plugin runs exist.
-- Run: CODELAB_PLUGIN_DIR=editors/nvim CODELAB_SCHEMA=docs/protocol.schema.json nvim --headless -u NONE -l tests/nvim/protocol.lua
local t = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "helpers.lua"))
t.load_plugin()
local protocol = require("codelab-planner.protocol")

local schema_path = os.getenv("CODELAB_SCHEMA") or t.fail("set CODELAB_SCHEMA")
local schema = vim.json.decode(table.concat(vim.fn.readfile(schema_path), "\n"))
local defs = schema["$defs"]

local function sorted(list)
  local copy = vim.deepcopy(list)
  table.sort(copy)
  return copy
end
local function values(map)
  return sorted(vim.tbl_values(map))
end
local function same(mirror, from_schema, what)
  t.equal(sorted(mirror), sorted(from_schema), what .. " (protocol.lua, then the schema)")
end

local methods = vim.list_extend(
  vim.list_extend(values(protocol.methods), values(protocol.other_methods)),
  values(protocol.notifications)
)
same(methods, vim.tbl_keys(schema.methods), "methods")
same(protocol.all_methods(), vim.tbl_keys(schema.methods), "all_methods()")
same(values(protocol.event_kinds), defs.EventKind.enum, "event kinds")
same(values(protocol.event_kinds), vim.tbl_keys(schema.events), "events")
same(protocol.plan_statuses, defs.PlanStatus.enum, "plan statuses")
same(protocol.subtask_statuses, defs.SubtaskStatus.enum, "subtask statuses")
same(protocol.agents, defs.SubtaskAgent.enum, "agents")
same(protocol.planners, defs.Planner.enum, "planners")
same(protocol.error_kinds, defs.ErrorKind.enum, "error kinds")
same(protocol.activity_phases, defs.ActivityPhase.enum, "activity phases")
same(protocol.tool_kinds, defs.ToolKind.enum, "tool kinds")
same(protocol.completion_statuses, defs.CompletionStatus.enum, "completion statuses")
same(protocol.subtask_roles, defs.SubtaskRole.enum, "subtask roles")
same(
  vim.tbl_map(function(option)
    return option.option
  end, protocol.approval_options),
  defs.PermissionOption.enum,
  "approval options"
)

local server_fields = {}
for field in pairs(defs.Subtask.properties) do
  if defs.SubtaskInput.properties[field] == nil then
    table.insert(server_fields, field)
  end
end
same(protocol.subtask_server_fields, server_fields, "the fields only the server writes")

for name, command in pairs(protocol.commands) do
  t.truthy(vim.tbl_contains(schema.commands, command), "command " .. name .. " (" .. command .. ") is not the server's")
end
-- The event fields the plugin reads are the schema's.
local read = {
  subtaskWaiting = { "subtaskId", "message", "instructions" },
  subtaskOutput = { "subtaskId", "text" },
  subtaskFinished = { "subtaskId", "status", "result", "error", "durationMs" },
  subtaskRetrying = { "subtaskId", "attempt", "delayMs", "error" },
  agentActivity = { "subtaskId", "phase", "tool", "toolKind", "target", "tokens" },
  planFinished = { "status", "progress", "durationMs", "usage" },
}
for _, member in ipairs(defs.RunEvent.oneOf) do
  local kind = member.properties.kind.const
  for _, field in ipairs(read[kind] or {}) do
    t.truthy(member.properties[field], string.format("%s.%s is not in the schema", kind, field))
  end
  read[kind] = nil
end
t.equal(vim.tbl_keys(read), {}, "events the plugin reads that the schema lacks")
t.ok("protocol")
