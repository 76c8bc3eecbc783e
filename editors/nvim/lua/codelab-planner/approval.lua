---@mod codelab-planner.approval Questions the server asks the user (`window/showMessageRequest`).
---
--- The server asks before an agent's tool call that needs approval (write, delete, move, create
--- a directory, run a command). The answer goes through `vim.ui.select`, so a picker plugin
--- (telescope, fzf-lua, snacks, dressing) shows it. Dismissing the question answers null, which
--- the server takes as a deny. Server requests run in a coroutine, so waiting for the user does
--- not block the editor.

local M = {}

---@param action { title: string }
---@return string
function M.format_action(action)
  return (action.title:gsub("\r?\n", " "))
end

--- Handler of `window/showMessageRequest`: returns the chosen action, or `vim.NIL` when dismissed.
---@param params lsp.ShowMessageRequestParams
---@return lsp.MessageActionItem|vim.NIL
function M.on_show_message_request(_, params, _)
  local actions = params.actions or {}
  local co, is_main = coroutine.running()
  if not co or is_main or #actions == 0 then
    -- Not resumable (or nothing to choose): let Neovim's own handler answer.
    local default = vim.lsp.handlers["window/showMessageRequest"]
    return default(nil, params, {})
  end
  vim.ui.select(actions, {
    prompt = "codelab-planner: " .. (params.message or "approve?"),
    kind = "codelab_planner_approval",
    format_item = M.format_action,
  }, function(choice)
    -- Resumed on the next tick: a synchronous vim.ui.select calls back before the yield below.
    vim.schedule(function()
      coroutine.resume(co, choice or vim.NIL)
    end)
  end)
  return coroutine.yield()
end

return M
