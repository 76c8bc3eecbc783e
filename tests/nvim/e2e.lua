-- End-to-end test of codelab-planner from Neovim's built-in LSP client.
-- Run: CODELAB_PLANNER_BIN=... CODELAB_WORKSPACE=... nvim --headless -u NONE -l tests/nvim/e2e.lua
-- Starts the server with vim.lsp.start, creates a plan of shell subtasks, approves and executes
-- it, and waits for `planning/progress` planFinished with status completed. Exits 0 or 1.

local binary = os.getenv("CODELAB_PLANNER_BIN")
local workspace = os.getenv("CODELAB_WORKSPACE")
local timeout_ms = 30000

local function fail(message)
  io.stderr:write("nvim e2e: FAIL: " .. message .. "\n")
  os.exit(1)
end

if not binary or not workspace then
  fail("set CODELAB_PLANNER_BIN and CODELAB_WORKSPACE")
end

local events = {}
local finished = nil

local client_id = vim.lsp.start({
  name = "codelab-planner",
  cmd = { binary },
  root_dir = workspace,
  workspace_folders = { { uri = vim.uri_from_fname(workspace), name = "workspace" } },
  handlers = {
    ["planning/progress"] = function(_, params)
      table.insert(events, params.event.kind)
      if params.event.kind == "planFinished" then
        finished = params.event
      end
    end,
  },
}, { attach = false })
if not client_id then
  fail("vim.lsp.start returned nil")
end

local client = nil
local ready = vim.wait(timeout_ms, function()
  client = vim.lsp.get_client_by_id(client_id)
  return client ~= nil and client.initialized
end, 20)
if not ready then
  fail("the server did not initialize")
end

local methods = client.server_capabilities.experimental.planning.methods
if not vim.tbl_contains(methods, "planning/execute") then
  fail("planning/execute is not advertised")
end

local function request(method, params)
  local response, err = client:request_sync(method, params, timeout_ms)
  if not response then
    fail(method .. ": " .. tostring(err))
  end
  if response.err then
    fail(method .. ": " .. vim.inspect(response.err))
  end
  return response.result
end

local created = request("planning/create", {
  task = "write a file and read it back",
  mode = "plan",
  subtasks = {
    { id = "write", title = "Write", agent = "shell", command = "echo from-nvim > nvim.txt" },
    { id = "read", title = "Read", agent = "shell", command = "cat nvim.txt", dependsOn = { "write" } },
  },
})
local plan_id = created.plan.id
if created.plan.status ~= "draft" then
  fail("expected a draft, got " .. tostring(created.plan.status))
end
request("planning/approve", { planId = plan_id })
local started = request("planning/execute", { planId = plan_id })
if started.status ~= "running" then
  fail("execute did not start: " .. vim.inspect(started))
end

if not vim.wait(timeout_ms, function()
  return finished ~= nil
end, 20) then
  fail("no planFinished; events so far: " .. table.concat(events, ", "))
end
if finished.status ~= "completed" then
  fail("plan finished " .. tostring(finished.status))
end

local plan = request("planning/get", { planId = plan_id })
local read_result = plan.subtasks[2].result or ""
if not read_result:find("from-nvim", 1, true) then
  fail("the read step did not see the file: " .. vim.inspect(plan.subtasks[2]))
end

client:stop()
vim.wait(5000, function()
  return client:is_stopped()
end, 20)
io.stdout:write("nvim e2e: ok (" .. #events .. " events)\n")
os.exit(0)
