---@mod codelab-planner.lsp The language client: starting the server, waiting for it, requests.
---
--- One client per workspace root, named `codelab-planner`. Requests wait until the client has
--- finished `initialize` (a request sent earlier is refused by the server with -32002), so
--- commands can be used the moment Neovim starts. This module knows method names only through
--- `codelab-planner.protocol`; what happens with results is the caller's business.

local config = require("codelab-planner.config")
local protocol = require("codelab-planner.protocol")

local M = {}

M.name = "codelab-planner"

local has_011 = vim.fn.has("nvim-0.11") == 1

--- Whether a client has stopped (`client:is_stopped()` on 0.11, `client.is_stopped()` on 0.10).
---@param client vim.lsp.Client
---@return boolean
function M.is_stopped(client)
  if has_011 then
    return client:is_stopped()
  end
  return client.is_stopped()
end

--- The workspace root for a buffer: the nearest root marker, else the current directory.
---@param bufnr? integer
---@return string
function M.root_dir(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local markers = config.get().root_markers
  local ok, root = pcall(vim.fs.root, bufnr, markers)
  if ok and root then
    return root
  end
  return vim.fn.getcwd()
end

local function handlers()
  return {
    [protocol.notifications.progress] = function(err, params, ctx)
      if err == nil then
        require("codelab-planner.progress").on_progress(params, ctx)
      end
    end,
    [protocol.lsp.progress] = function(err, params, ctx)
      -- Partial results of planning/create are the plugin's; every other token is Neovim's
      -- (vim.lsp.status(), LspProgress).
      local progress = require("codelab-planner.progress")
      if err == nil and type(params) == "table" and progress.is_partial_result(params.token) then
        return progress.on_partial_result(params)
      end
      return vim.lsp.handlers[protocol.lsp.progress](err, params, ctx)
    end,
    [protocol.lsp.show_message] = function(_, params)
      -- Through vim.notify (a notification plugin shows it; Neovim's own handler only echoes).
      if type(params) == "table" and type(params.message) == "string" then
        local levels = { vim.log.levels.ERROR, vim.log.levels.WARN, vim.log.levels.INFO, vim.log.levels.DEBUG }
        local message = params.message:gsub("^codelab%-planner: ", "")
        vim.notify("codelab-planner: " .. message, levels[params.type] or vim.log.levels.INFO)
      end
    end,
    [protocol.lsp.show_message_request] = function(err, params, ctx)
      return require("codelab-planner.approval").on_show_message_request(err, params, ctx)
    end,
  }
end

--- The client configuration without a root (what `lsp/codelab-planner.lua` returns).
---@return vim.lsp.Config
function M.base_config()
  local current = config.get()
  return {
    name = M.name,
    cmd = config.server_cmd(current),
    -- The same root the commands use, so `vim.lsp.enable` and the commands share one client.
    root_dir = function(bufnr, on_dir)
      on_dir(M.root_dir(bufnr))
    end,
    init_options = current.settings,
    settings = { codelabPlanner = current.settings },
    handlers = handlers(),
  }
end

--- The configuration to start a client for `root`: `vim.lsp.config` (0.11, with the user's
--- overrides) or `base_config()`, with the root made explicit.
---@param root string
---@return vim.lsp.ClientConfig
function M.client_config(root)
  local resolved = nil
  if has_011 then
    local ok, from_config = pcall(function()
      return vim.lsp.config[M.name]
    end)
    resolved = ok and from_config or nil
  end
  local client_config = vim.deepcopy(resolved or M.base_config())
  client_config.name = M.name
  client_config.root_dir = root
  client_config.root_markers = nil
  client_config.workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fs.basename(root) } }
  if type(client_config.cmd) ~= "table" and type(client_config.cmd) ~= "function" then
    client_config.cmd = config.server_cmd()
  end
  client_config.handlers = vim.tbl_extend("keep", client_config.handlers or {}, handlers())
  return client_config
end

--- Running clients of this server, optionally for one root.
---@param root? string
---@return vim.lsp.Client[]
function M.clients(root)
  local found = {}
  for _, client in ipairs(vim.lsp.get_clients({ name = M.name })) do
    if not M.is_stopped(client) and (root == nil or client.root_dir == root) then
      table.insert(found, client)
    end
  end
  return found
end

--- The client for the current root, started when there is none.
---@return vim.lsp.Client? client
---@return string? error
function M.ensure_client()
  local root = M.root_dir()
  local existing = M.clients(root)[1]
  if existing then
    return existing, nil
  end
  local cmd = M.client_config(root).cmd
  if type(cmd) == "table" and vim.fn.executable(cmd[1]) ~= 1 then
    return nil, string.format("server not found: %s (install codelab-planner or set vim.g.codelab_planner.cmd)", cmd[1])
  end
  local ok, client_id = pcall(vim.lsp.start, M.client_config(root), { attach = false })
  if not ok or not client_id then
    return nil, "cannot start the server: " .. tostring(ok and "vim.lsp.start returned nil" or client_id)
  end
  return vim.lsp.get_client_by_id(client_id), nil
end

--- Calls `callback(client)` once the client has initialized, or `callback(nil, error)`.
--- Never blocks: it polls the client's state on the event loop.
---@param callback fun(client: vim.lsp.Client?, err: string?)
function M.with_client(callback)
  local client, start_error = M.ensure_client()
  if not client then
    callback(nil, start_error)
    return
  end
  if client.initialized then
    callback(client, nil)
    return
  end
  local deadline = vim.uv.now() + config.get().request_timeout_ms
  local timer = assert(vim.uv.new_timer())
  timer:start(
    10,
    10,
    vim.schedule_wrap(function()
      if timer:is_closing() then
        return
      end
      if client.initialized or M.is_stopped(client) or vim.uv.now() > deadline then
        timer:stop()
        timer:close()
        if client.initialized then
          callback(client, nil)
        else
          callback(
            nil,
            M.is_stopped(client) and "the server stopped before it initialized" or "the server did not initialize"
          )
        end
      end
    end)
  )
end

--- The methods the server advertises (`capabilities.experimental.planning.methods`).
---@param client vim.lsp.Client
---@return string[]
function M.advertised_methods(client)
  local experimental = (client.server_capabilities or {}).experimental or {}
  return (experimental.planning or {}).methods or {}
end

--- `planning/create: cannot execute a plan that is draft (invalidState)`.
---@param method string
---@param err table|string
---@return string
function M.describe_error(method, err)
  if type(err) ~= "table" then
    return method .. ": " .. tostring(err)
  end
  local message = err.message or vim.inspect(err)
  local data = err.data
  if type(data) == "table" and data.kind then
    message = message .. " (" .. data.kind .. ")"
  end
  return method .. ": " .. message
end

--- Sends a request once the client is ready. `callback(err_message, result, response_error)`:
--- the last is the server's error object (`{ code, message, data = { kind } }`) when it sent one.
---@param method string
---@param params table
---@param callback fun(err: string?, result: any, response_error: table?)
function M.request(method, params, callback)
  M.with_client(function(client, start_error)
    if not client then
      callback(start_error, nil)
      return
    end
    local advertised = M.advertised_methods(client)
    local planning = vim.startswith(method, "planning/")
    if planning and #advertised > 0 and not vim.tbl_contains(advertised, method) then
      callback(method .. ": not supported by this server (update codelab-planner)", nil)
      return
    end
    local function handler(err, result)
      if err then
        callback(M.describe_error(method, err), nil, type(err) == "table" and err or nil)
      else
        callback(nil, result)
      end
    end
    local sent
    if has_011 then
      sent = client:request(method, params, handler)
    else
      sent = client.request(method, params, handler)
    end
    if not sent then
      callback(method .. ": the server has stopped", nil)
    end
  end)
end

--- `client:request_sync` on 0.11, `client.request_sync` on 0.10.
---@param client vim.lsp.Client
---@param method string
---@param params table
---@param timeout_ms integer
---@return { err: lsp.ResponseError?, result: any }?
function M.request_sync(client, method, params, timeout_ms)
  if has_011 then
    return client:request_sync(method, params, timeout_ms)
  end
  return client.request_sync(method, params, timeout_ms)
end

--- Starts the server on every file buffer of the workspace (Neovim 0.11+), when `auto_start`.
function M.enable()
  if has_011 then
    vim.lsp.enable(M.name)
  end
end

return M
