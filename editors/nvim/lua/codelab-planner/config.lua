---@mod codelab-planner.config Settings from `vim.g.codelab_planner`, merged over defaults.
---
--- Read on every use, so changing `vim.g.codelab_planner` takes effect without a restart (a
--- running server keeps its command and root). No `setup()` is needed. This module does no I/O
--- beyond reading environment variables for the binary's path.

local M = {}

---@class codelab_planner.Keys
---@field execute string
---@field cancel string
---@field retry string
---@field approve string
---@field revise string
---@field edit string
---@field output string
---@field complete string
---@field complete_failed string
---@field refresh string
---@field close string
---@field allow string Allow the change the agent of the step under the cursor asks about.
---@field allow_for_plan string Allow it and every call of its kind for the rest of the plan.
---@field deny string
---@field diff string The question's diff, or the step's changes, in a split.
---@field revert string Revert the files the step under the cursor changed.
---@field revert_plan string Revert every file the plan's agents changed.

---@class codelab_planner.Config
---@field cmd? string[] The server command; default `{ $CODELAB_PLANNER_BIN or "codelab-planner", "--stdio" }`.
---@field root_markers string[] Files or folders that mark the workspace root (else the current directory).
---@field settings table The `codelabPlanner` settings (sent as initializationOptions and workspace/configuration).
---@field auto_start boolean Attach the server to every file buffer (`vim.lsp.enable`, Neovim 0.11+).
---@field plan_files boolean Attach the server to plan files (`*.plan.toml`): diagnostics, lenses, runs.
---@field notify_on_finish boolean `vim.notify` when a run finishes.
---@field open_on_execute boolean Open the plan buffer when a run starts from a command.
---@field open_command? string Ex command run before showing a plan outside a plan window (e.g. "botright vsplit"); nil = the current window.
---@field keys codelab_planner.Keys Buffer-local keys of the plan buffer (`false` disables one).
---@field signs table<string, string> Status signs of the plan buffer.
---@field request_timeout_ms integer How long to wait for the server to initialize.

---@type codelab_planner.Config
M.defaults = {
  cmd = nil,
  root_markers = { ".codelab", ".git" },
  settings = {},
  auto_start = false,
  plan_files = true,
  notify_on_finish = true,
  open_on_execute = true,
  open_command = nil,
  keys = {
    execute = "x",
    cancel = "c",
    retry = "r",
    approve = "a",
    revise = "R",
    edit = "e",
    output = "o",
    complete = "m",
    complete_failed = "M",
    refresh = "gr",
    close = "q",
    allow = "y",
    allow_for_plan = "Y",
    deny = "n",
    diff = "d",
    revert = "u",
    revert_plan = "U",
  },
  signs = {
    pending = "·",
    running = "▶",
    waiting = "⏸",
    done = "✓",
    failed = "✗",
    skipped = "↷",
    cancelled = "⊘",
  },
  request_timeout_ms = 30000,
}

--- The effective configuration: defaults, deep-merged with `vim.g.codelab_planner`.
---@return codelab_planner.Config
function M.get()
  local user = vim.g.codelab_planner
  if type(user) == "function" then
    user = user()
  end
  if type(user) ~= "table" then
    user = {}
  end
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), user)
  -- Lists replace, they do not merge by index.
  if user.root_markers then
    merged.root_markers = user.root_markers
  end
  if user.cmd then
    merged.cmd = user.cmd
  end
  return merged
end

--- The server command: the configured one, else `$CODELAB_PLANNER_BIN`, else `codelab-planner` on PATH.
---@param config? codelab_planner.Config
---@return string[]
function M.server_cmd(config)
  config = config or M.get()
  if config.cmd and #config.cmd > 0 then
    return config.cmd
  end
  local binary = vim.env.CODELAB_PLANNER_BIN
  if binary == nil or binary == "" then
    binary = "codelab-planner"
  end
  return { binary, "--stdio" }
end

--- A setting of the `codelabPlanner` section, written nested (`llm = { model = ... }`) or dotted
--- (`["llm.model"] = ...`).
---@param config codelab_planner.Config
---@param dotted_key string
---@return any
function M.setting(config, dotted_key)
  local settings = config.settings or {}
  if settings.codelabPlanner then
    settings = settings.codelabPlanner
  end
  if settings[dotted_key] ~= nil then
    return settings[dotted_key]
  end
  local value = settings
  for part in dotted_key:gmatch("[^.]+") do
    if type(value) ~= "table" then
      return nil
    end
    value = value[part]
  end
  return value
end

--- Problems with the user's configuration, each naming the key; empty when it is valid.
---@return string[]
function M.validate()
  local problems = {}
  local user = vim.g.codelab_planner
  if user ~= nil and type(user) ~= "table" and type(user) ~= "function" then
    return { "vim.g.codelab_planner: expected a table, got " .. type(user) }
  end
  local config = M.get()
  local checks = {
    cmd = { config.cmd, "table", true },
    root_markers = { config.root_markers, "table" },
    settings = { config.settings, "table" },
    auto_start = { config.auto_start, "boolean" },
    plan_files = { config.plan_files, "boolean" },
    notify_on_finish = { config.notify_on_finish, "boolean" },
    open_on_execute = { config.open_on_execute, "boolean" },
    open_command = { config.open_command, "string", true },
    keys = { config.keys, "table" },
    signs = { config.signs, "table" },
    request_timeout_ms = { config.request_timeout_ms, "number" },
  }
  for key, check in pairs(checks) do
    local value, expected, optional = check[1], check[2], check[3]
    if not (value == nil and optional) and type(value) ~= expected then
      table.insert(
        problems,
        string.format("vim.g.codelab_planner.%s: expected a %s, got %s", key, expected, type(value))
      )
    end
  end
  if type(config.cmd) == "table" then
    for index, part in ipairs(config.cmd) do
      if type(part) ~= "string" then
        table.insert(problems, string.format("vim.g.codelab_planner.cmd[%d]: expected a string", index))
      end
    end
  end
  if type(config.keys) == "table" then
    for name, key in pairs(config.keys) do
      if key ~= false and type(key) ~= "string" then
        table.insert(problems, string.format("vim.g.codelab_planner.keys.%s: expected a string or false", name))
      end
    end
  end
  table.sort(problems)
  return problems
end

return M
