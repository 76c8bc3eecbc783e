---@mod codelab-planner.health `:checkhealth codelab-planner`.
---
--- Checks the Neovim version, the configuration, the server binary and its version, the running
--- client and what it advertises, the database folder, whether a language model is set up, and
--- whether agents' commands run in the sandbox.
--- Never prints an API key: only the name of the variable that holds it, and whether it is set.

local config = require("codelab-planner.config")
local lsp = require("codelab-planner.lsp")
local protocol = require("codelab-planner.protocol")

local M = {}

local health = vim.health

local function check_neovim()
  local version = vim.version()
  local text = string.format("Neovim %d.%d.%d", version.major, version.minor, version.patch)
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok(text)
  else
    health.error(text .. ": codelab-planner needs Neovim 0.10 or newer")
  end
end

local function check_config()
  local problems = config.validate()
  if #problems == 0 then
    health.ok("vim.g.codelab_planner is valid")
  end
  for _, problem in ipairs(problems) do
    health.error(problem)
  end
end

local function check_binary(current)
  local cmd = config.server_cmd(current)
  local path = vim.fn.exepath(cmd[1])
  if path == "" then
    health.error("server not found: " .. cmd[1], {
      "install it: cargo install --path . (in the codelab-planner checkout)",
      "or set vim.g.codelab_planner = { cmd = { '/path/to/codelab-planner', '--stdio' } }",
    })
    return
  end
  local ok, result = pcall(function()
    return vim.system({ path, "--version" }, { text = true }):wait(5000)
  end)
  if ok and result.code == 0 then
    health.ok(string.format("server: %s (%s)", vim.trim(result.stdout or ""), path))
  else
    health.error(string.format("%s --version failed: %s", path, ok and vim.trim(result.stderr or "") or result))
  end
end

local function check_client()
  local clients = lsp.clients()
  if #clients == 0 then
    health.info("server not running (it starts on the first :CodelabPlanner command)")
    return nil
  end
  for _, client in ipairs(clients) do
    if client.initialized then
      health.ok(string.format("server running: client %d, root %s", client.id, client.root_dir or "?"))
    else
      health.warn(string.format("server starting: client %d has not finished initialize", client.id))
    end
    local advertised = lsp.advertised_methods(client)
    local missing = vim.tbl_filter(function(method)
      return not vim.tbl_contains(advertised, method)
    end, vim.tbl_values(protocol.methods))
    table.sort(missing)
    if client.initialized and #missing > 0 then
      health.warn("the server does not offer " .. table.concat(missing, ", ") .. " (an older server)")
    elseif client.initialized then
      health.ok("the server offers every planning method this plugin uses")
    end
  end
  return clients[1]
end

local function check_database(current, client)
  local root = client and client.root_dir or lsp.root_dir()
  local database = config.setting(current, "database")
  if type(database) ~= "string" or database == "" then
    database = vim.fs.joinpath(root, ".codelab", "planner.db")
  elseif not vim.startswith(database, "/") then
    database = vim.fs.joinpath(root, database)
  end
  local folder = vim.fs.dirname(database)
  while folder and vim.fn.isdirectory(folder) == 0 do
    local parent = vim.fs.dirname(folder)
    if parent == folder then
      break
    end
    folder = parent
  end
  if folder and vim.fn.filewritable(folder) == 2 then
    health.ok("database: " .. database .. " (folder writable)")
  else
    health.error("database: " .. database .. ": " .. tostring(folder) .. " is not writable")
  end
end

local function check_llm(current)
  local model = config.setting(current, "llm.model")
  local base_url = config.setting(current, "llm.baseUrl")
  if not model and not base_url then
    health.info(
      "no language model configured: keyword classifier, template planner, shell steps; "
        .. "coder, debug and ask steps wait for you (agents.withoutModel)"
    )
    return
  end
  local key_variable = config.setting(current, "llm.apiKeyEnv") or "OPENAI_API_KEY"
  local key_state = (vim.env[key_variable] and vim.env[key_variable] ~= "") and "set" or "not set"
  local text =
    string.format("language model: %s at %s; $%s is %s", model or "?", base_url or "?", key_variable, key_state)
  if model and base_url then
    health.ok(text)
  else
    health.warn(text, { "set both llm.model and llm.baseUrl in vim.g.codelab_planner.settings" })
  end
end

local function check_sandbox(client)
  local experimental = client and client.server_capabilities and client.server_capabilities.experimental
  local sandbox = type(experimental) == "table" and experimental.sandbox or nil
  if type(sandbox) ~= "table" then
    health.info("command sandbox: unknown until the server runs")
  elseif sandbox.enforced then
    health.ok("command sandbox: " .. tostring(sandbox.note))
  else
    health.warn("command sandbox: " .. tostring(sandbox.note), {
      "a kernel with Landlock (Linux 5.13+) confines agents' commands to the workspace",
    })
  end
end

function M.check()
  local current = config.get()
  health.start("codelab-planner")
  check_neovim()
  check_config()
  check_binary(current)
  local client = check_client()
  check_database(current, client)
  check_llm(current)
  check_sandbox(client)
end

return M
