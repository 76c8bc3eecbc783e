---@mod codelab-planner.commands `:CodelabPlanner {subcommand} [args]`, with completion.
---
--- A table of subcommands, each with `impl(args, opts)` and an optional `complete(arg_lead)`.
--- Plan ids complete from the plans seen in this session (refreshed from the server when it is
--- running); an argument that matches no id completes to the ids of plans whose title contains it.

local actions = require("codelab-planner.actions")
local lsp = require("codelab-planner.lsp")
local methods = require("codelab-planner.protocol").methods
local state = require("codelab-planner.state")

local M = {}

--- Refreshes `state.known_plans` from a running, initialized server (bounded wait).
local function refresh_known_plans()
  local client = lsp.clients(lsp.root_dir())[1]
  if not client or not client.initialized then
    return
  end
  local response = lsp.request_sync(client, methods.list, { limit = 100 }, 300)
  if response and response.result then
    -- The server's list replaces the cache: plans deleted elsewhere stop completing.
    state.known_plans = {}
    for _, summary in ipairs(response.result.plans) do
      state.remember(summary)
    end
  end
end

--- Plan ids for an argument: ids starting with it, else ids of plans whose title contains it.
---@param arg_lead string
---@return string[]
function M.complete_plan_id(arg_lead)
  pcall(refresh_known_plans)
  local by_id, by_title = {}, {}
  local lowered = arg_lead:lower()
  for id, known in pairs(state.known_plans) do
    if vim.startswith(id, arg_lead) then
      table.insert(by_id, id)
    elseif lowered ~= "" and known.title:lower():find(lowered, 1, true) then
      table.insert(by_title, id)
    end
  end
  -- Ids are ULIDs: sorting them backwards puts the newest plan first.
  local newest_first = function(left, right)
    return left > right
  end
  table.sort(by_id, newest_first)
  table.sort(by_title, newest_first)
  return #by_id > 0 and by_id or by_title
end

local function rest(args, from)
  return table.concat(vim.list_slice(args, from), " ")
end

local function first_is_plan(args)
  return args[1] ~= nil and (state.known_plans[args[1]] ~= nil or args[1]:match("^%w+$") and #args[1] >= 20)
end

---@class codelab_planner.Subcommand
---@field impl fun(args: string[], opts: table)
---@field complete? fun(arg_lead: string): string[]
---@field description string

---@type table<string, codelab_planner.Subcommand>
M.subcommands = {
  new = {
    description = "plan a task: new {task}",
    impl = function(args)
      local task = rest(args, 1)
      if task ~= "" then
        return actions.create({ task = task })
      end
      vim.ui.input({ prompt = "Task: " }, function(input)
        if input and input ~= "" then
          actions.create({ task = input })
        end
      end)
    end,
  },
  list = {
    description = "pick a plan to open",
    impl = function()
      actions.list()
    end,
  },
  show = {
    description = "open a plan: show [id]",
    impl = function(args)
      actions.show(args[1])
    end,
    complete = M.complete_plan_id,
  },
  execute = {
    description = "run an approved plan: execute [id]",
    impl = function(args)
      actions.execute(args[1])
    end,
    complete = M.complete_plan_id,
  },
  cancel = {
    description = "cancel a run: cancel [id]",
    impl = function(args)
      actions.cancel(args[1])
    end,
    complete = M.complete_plan_id,
  },
  retry = {
    description = "run unfinished subtasks again: retry [id] [subtask ...]",
    impl = function(args)
      actions.retry(args[1], vim.list_slice(args, 2))
    end,
    complete = M.complete_plan_id,
  },
  approve = {
    description = "approve a draft: approve [id]",
    impl = function(args)
      actions.approve(args[1])
    end,
    complete = M.complete_plan_id,
  },
  reject = {
    description = "reject a draft: reject [id] [feedback]",
    impl = function(args)
      if first_is_plan(args) then
        return actions.reject(args[1], rest(args, 2))
      end
      actions.reject(nil, rest(args, 1))
    end,
    complete = M.complete_plan_id,
  },
  revise = {
    description = "re-plan a draft with feedback: revise [id] [feedback]",
    impl = function(args)
      if first_is_plan(args) then
        return actions.revise(args[1], rest(args, 2))
      end
      actions.revise(nil, rest(args, 1))
    end,
    complete = M.complete_plan_id,
  },
  run = {
    description = "run the plan file (*.plan.toml) in this buffer: run [from-subtask]",
    impl = function(args)
      require("codelab-planner.plan_files").run(0, args[1])
    end,
  },
  edit = {
    description = "rename the step under the cursor, or the plan, of a draft: edit [title]",
    impl = function(args)
      local buffer = require("codelab-planner.buffer")
      local title = rest(args, 1)
      actions.edit(nil, buffer.plan_id(0) and buffer.subtask_at_cursor() or nil, title ~= "" and title or nil)
    end,
  },
  delete = {
    description = "delete a plan: delete[!] [id]",
    impl = function(args, opts)
      actions.delete(args[1], opts.bang)
    end,
    complete = M.complete_plan_id,
  },
  log = {
    description = "a plan's versions: log [id]",
    impl = function(args)
      actions.log(args[1])
    end,
    complete = M.complete_plan_id,
  },
  export = {
    description = "the plan as a *.plan.toml file: export [id]",
    impl = function(args)
      actions.export(args[1])
    end,
    complete = M.complete_plan_id,
  },
  answer = {
    description = "answer the question an agent waits on: answer allow|always|deny",
    impl = function(args)
      local options = { allow = "allow_once", always = "allow_always", deny = "reject_once" }
      local option = options[args[1] or ""]
      if not option then
        return vim.notify("codelab-planner: answer allow, always or deny", vim.log.levels.ERROR)
      end
      local buffer = require("codelab-planner.buffer")
      local plan_id, err = actions.resolve(nil)
      if not plan_id then
        return vim.notify("codelab-planner: " .. err, vim.log.levels.ERROR)
      end
      require("codelab-planner.record").answer(plan_id, buffer.plan_id(0) and buffer.subtask_at_cursor() or nil, option)
    end,
    complete = function(arg_lead)
      return vim.tbl_filter(function(word)
        return vim.startswith(word, arg_lead)
      end, { "allow", "always", "deny" })
    end,
  },
  transcript = {
    description = "what the step's agent did: transcript [step] (in a plan buffer)",
    impl = function(args)
      local plan_id, err = actions.resolve(nil)
      if not plan_id then
        return vim.notify("codelab-planner: " .. err, vim.log.levels.ERROR)
      end
      require("codelab-planner.record").transcript(plan_id, args[1] or require("codelab-planner.buffer").subtask_at_cursor())
    end,
  },
  changes = {
    description = "the files agents changed, as diffs: changes [step]",
    impl = function(args)
      local plan_id, err = actions.resolve(nil)
      if not plan_id then
        return vim.notify("codelab-planner: " .. err, vim.log.levels.ERROR)
      end
      require("codelab-planner.record").diff(plan_id, args[1])
    end,
  },
  rollback = {
    description = "revert the files a step (or the whole plan) changed: rollback [step]",
    impl = function(args)
      local plan_id, err = actions.resolve(nil)
      if not plan_id then
        return vim.notify("codelab-planner: " .. err, vim.log.levels.ERROR)
      end
      require("codelab-planner.record").rollback(plan_id, args[1])
    end,
  },
  complete = {
    description = "finish the waiting step: complete [failed] [result]",
    impl = function(args)
      local status = "done"
      if args[1] == "failed" or args[1] == "done" then
        status = table.remove(args, 1)
      end
      local subtask_id = require("codelab-planner.buffer").waiting_subtask_at_cursor()
      actions.complete(nil, subtask_id, status, rest(args, 1))
    end,
    complete = function(arg_lead)
      return vim.tbl_filter(function(word)
        return vim.startswith(word, arg_lead)
      end, { "done", "failed" })
    end,
  },
}

--- Names of the subcommands, sorted.
---@return string[]
function M.names()
  local names = vim.tbl_keys(M.subcommands)
  table.sort(names)
  return names
end

--- Runs `:CodelabPlanner` (`opts` as given to a user command).
---@param opts table
function M.run(opts)
  local args = vim.deepcopy(opts.fargs)
  local name = table.remove(args, 1)
  opts = vim.deepcopy(opts)
  if name and name:sub(-1) == "!" then
    -- `:CodelabPlanner delete! id` as well as `:CodelabPlanner! delete id`.
    name, opts.bang = name:sub(1, -2), true
  end
  local subcommand = name and M.subcommands[name]
  if not subcommand then
    vim.notify(
      string.format(
        "codelab-planner: %s; one of: %s",
        name and ('unknown subcommand "' .. name .. '"') or "missing subcommand",
        table.concat(M.names(), ", ")
      ),
      vim.log.levels.ERROR
    )
    return
  end
  subcommand.impl(args, opts)
end

--- Completion of `:CodelabPlanner`: subcommands, then the subcommand's own arguments.
---@param arg_lead string
---@param cmdline string
---@return string[]
function M.complete(arg_lead, cmdline)
  local name, rest_of_line = cmdline:match("^['<,'>]*%s*%S+%s+(%S-)!?%s+(.*)$")
  if name and M.subcommands[name] and M.subcommands[name].complete then
    -- Only the first argument is a plan id (or a status word for `complete`).
    if not rest_of_line:find("%s") then
      return M.subcommands[name].complete(arg_lead)
    end
    return {}
  end
  if cmdline:match("^['<,'>]*%s*%S+%s+%S*$") then
    return vim.tbl_filter(function(candidate)
      return vim.startswith(candidate, arg_lead)
    end, M.names())
  end
  return {}
end

return M
