---@mod codelab-planner The Neovim client of codelab-planner: plan coding tasks and run them.
---
--- No `setup()` is needed: configure with `vim.g.codelab_planner` (see `:help codelab-planner`).
--- This module is the public Lua API; everything else is an implementation detail. Every
--- function takes an optional `callback(err, result)`.

local M = {}

local function actions()
  return require("codelab-planner.actions")
end

--- Creates a plan from `planning/create` params (`{ task, mode?, subtasks?, title? }`) and opens it.
---@param params table
---@param callback? fun(err: string?, result: any)
function M.create(params, callback)
  actions().create(params, callback)
end

--- Opens a plan buffer (`plan_id` or the current plan).
function M.show(plan_id, callback)
  actions().show(plan_id, nil, callback)
end

function M.approve(plan_id, callback)
  actions().approve(plan_id, callback)
end

function M.execute(plan_id, callback)
  actions().execute(plan_id, callback)
end

function M.cancel(plan_id, callback)
  actions().cancel(plan_id, callback)
end

function M.retry(plan_id, subtask_ids, callback)
  actions().retry(plan_id, subtask_ids, callback)
end

--- Ends a waiting subtask as `done` (default) or `failed`.
function M.complete(plan_id, subtask_id, status, result, callback)
  actions().complete(plan_id, subtask_id, status, result, callback)
end

--- Sends any planning request once the server is ready: `request("planning/status", { planId = ... }, cb)`.
---@param method string
---@param params table
---@param callback fun(err: string?, result: any)
function M.request(method, params, callback)
  require("codelab-planner.lsp").request(method, params, callback)
end

--- The view (plan and live run state) the plugin holds for a plan, or nil.
---@param plan_id string
---@return codelab_planner.View?
function M.view(plan_id)
  return require("codelab-planner.state").views[plan_id]
end

return M
