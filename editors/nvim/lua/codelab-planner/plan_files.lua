---@mod codelab-planner.plan_files Plan files (`*.plan.toml`): checked as you type, run from a lens.
---
--- Opening a plan file attaches the workspace's server to it (the same client the commands use),
--- so its problems show as diagnostics and its code lenses ("▶ Run plan", "▶ Run from here", the
--- last run's outcome) as virtual text; `vim.lsp.codelens.run()` or `:CodelabPlanner run` runs it.
--- A run started here opens its plan buffer like `:CodelabPlanner execute` does.

local config = require("codelab-planner.config")
local lsp = require("codelab-planner.lsp")
local protocol = require("codelab-planner.protocol")

local M = {}

--- File patterns of plan files (autocommand patterns). The server checks and runs `*.plan.toml`;
--- another format joins here once the server reads it.
M.patterns = { "*.plan.toml" }

local augroup = vim.api.nvim_create_augroup("codelab_planner_plan_file_lenses", { clear = true })

--- Whether a buffer's file is a plan file.
---@param bufnr integer
---@return boolean
function M.is_plan_file(bufnr)
  local tail = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":t")
  for _, pattern in ipairs(M.patterns) do
    if vim.regex(vim.fn.glob2regpat(pattern)):match_str(tail) then
      return true
    end
  end
  return false
end

--- Plan-file buffers attached to the server.
---@return integer[]
function M.buffers()
  local found = {}
  for _, client in ipairs(lsp.clients()) do
    for bufnr in pairs(client.attached_buffers or {}) do
      if vim.api.nvim_buf_is_loaded(bufnr) and M.is_plan_file(bufnr) then
        table.insert(found, bufnr)
      end
    end
  end
  return found
end

--- Asks for the lenses of every attached plan file again (after a run's progress).
function M.refresh_lenses()
  for _, bufnr in ipairs(M.buffers()) do
    vim.lsp.codelens.refresh({ bufnr = bufnr })
  end
end

--- Attaches the server to a plan-file buffer and keeps its lenses current.
---@param bufnr integer
function M.attach(bufnr)
  if not config.get().plan_files then
    return
  end
  lsp.with_client(function(client, err)
    if not client then
      vim.notify_once("codelab-planner: plan files are not checked: " .. tostring(err), vim.log.levels.WARN)
      return
    end
    if not vim.api.nvim_buf_is_valid(bufnr) then
      return
    end
    if not vim.lsp.buf_is_attached(bufnr, client.id) then
      vim.lsp.buf_attach_client(bufnr, client.id)
    end
    vim.api.nvim_clear_autocmds({ group = augroup, buffer = bufnr })
    vim.api.nvim_create_autocmd({ "BufEnter", "InsertLeave", "TextChanged", "BufWritePost" }, {
      group = augroup,
      buffer = bufnr,
      callback = function()
        vim.lsp.codelens.refresh({ bufnr = bufnr })
      end,
    })
    vim.lsp.codelens.refresh({ bufnr = bufnr })
    require("codelab-planner.actions").emit("CodelabPlannerPlanFileAttached", { bufnr = bufnr })
  end)
end

--- Runs a plan file (its text in the editor, saved or not), from `subtask_id` and what depends on
--- it when given; opens the run's plan buffer.
---@param bufnr? integer
---@param subtask_id? string
---@param callback? fun(err: string?, result: any)
function M.run(bufnr, subtask_id, callback)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local actions = require("codelab-planner.actions")
  if not M.is_plan_file(bufnr) then
    local err = "not a plan file (*.plan.toml): " .. vim.api.nvim_buf_get_name(bufnr)
    if callback then
      return callback(err)
    end
    return vim.notify("codelab-planner: " .. err, vim.log.levels.ERROR)
  end
  local arguments = { vim.uri_from_bufnr(bufnr) }
  if subtask_id then
    table.insert(arguments, subtask_id)
  end
  local params = { command = protocol.commands.run_file, arguments = arguments }
  lsp.request(protocol.lsp.execute_command, params, function(err, result)
    if not err and type(result) == "table" and result.planId then
      actions.run_started(result.planId)
    end
    if callback then
      return callback(err, result)
    end
    if err then
      vim.notify("codelab-planner: " .. err, vim.log.levels.ERROR)
    end
  end)
end

-- The lenses' command runs here, so that the run's plan buffer opens (instead of the server
-- running it unseen).
vim.lsp.commands[protocol.commands.run_file] = function(command, context)
  local arguments = command.arguments or {}
  local bufnr = context and context.bufnr
  if type(arguments[1]) == "string" then
    bufnr = vim.uri_to_bufnr(arguments[1])
  end
  M.run(bufnr, arguments[2])
end

return M
