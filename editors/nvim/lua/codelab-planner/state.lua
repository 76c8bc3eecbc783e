---@mod codelab-planner.state What the plugin remembers during a session: views and known plans.
---
--- Plain tables, no I/O. The views are shared by every buffer showing a plan, so events update a
--- plan whether or not a buffer shows it.

local M = {}

---@type table<string, codelab_planner.View>
M.views = {}

--- Plans seen in replies, for completion: id -> `{ title, status }`.
---@type table<string, { title: string, status: string }>
M.known_plans = {}

--- `planning/create` requests waiting for their reply, by partial result token:
--- `{ task, bufnr? }` (the buffer showing the subtasks streamed so far).
---@type table<string, { task: string, bufnr: integer? }>
M.planning = {}

--- The plan the user touched last (the default of commands without an id).
---@type string?
M.last_plan_id = nil

--- Remembers a plan or plan summary.
---@param plan table
function M.remember(plan)
  if type(plan) == "table" and plan.id then
    M.known_plans[plan.id] = { title = plan.title or "", status = plan.status or "" }
  end
end

--- The view of a plan, made or updated from a fresh Plan object.
---@param plan table
---@return codelab_planner.View
function M.update_view(plan)
  local view_module = require("codelab-planner.view")
  M.remember(plan)
  local view = M.views[plan.id]
  if view then
    view_module.set_plan(view, plan)
  else
    view = view_module.new(plan)
    M.views[plan.id] = view
  end
  return view
end

return M
