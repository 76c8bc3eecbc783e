---@mod codelab-planner.approval Questions the server asks the user (`window/showMessageRequest`).
---
--- The server asks before an agent's tool call that needs approval (write, delete, move, create
--- a directory, run a command). The answer goes through `vim.ui.select`, so a picker plugin
--- (telescope, fzf-lua, snacks, dressing) shows it. The same question waits in the plan buffer
--- (`y` allow, `Y` allow for this plan, `n` deny, `d` its diff), so dismissing an approval
--- question leaves it open there rather than denying it; the first answer wins, and the server
--- no longer waits for this one. Dismissing any other question answers null. Server requests run
--- in a coroutine, so waiting for the user does not block the editor.

local protocol = require("codelab-planner.protocol")

local M = {}

--- Whether the question offers exactly the approval answers (Allow, Allow for this plan, Deny).
---@param actions table[]
---@return boolean
function M.is_approval(actions)
  if #actions ~= #protocol.approval_options then
    return false
  end
  for index, option in ipairs(protocol.approval_options) do
    if actions[index].title ~= option.title then
      return false
    end
  end
  return true
end

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
    if choice == nil and M.is_approval(actions) then
      -- Not a denial: the question stays in the plan buffer, answered there (or elsewhere).
      vim.schedule(function()
        vim.notify("codelab-planner: the question stays open in the plan buffer (y/Y/n, d diff)")
      end)
      return
    end
    -- Resumed on the next tick: a synchronous vim.ui.select calls back before the yield below.
    vim.schedule(function()
      coroutine.resume(co, choice or vim.NIL)
    end)
  end)
  return coroutine.yield()
end

return M
