-- A markdown task list in real Neovim: the built-in LSP client attached to `tasks.md`,
-- `planning/import`, the run, each finished step ticked in the buffer through Neovim's own
-- `workspace/applyEdit` handler, then the code lenses on the file ("▶ Run all" on the title, each
-- step's outcome on its line). Exits 0 or 1.
-- Run: CODELAB_PLANNER_BIN=... CODELAB_WORKSPACE=... nvim --headless -u NONE -l tests/nvim/tasklists.lua

local binary = os.getenv("CODELAB_PLANNER_BIN")
local workspace = os.getenv("CODELAB_WORKSPACE")
local timeout_ms = 30000

local function fail(message)
  io.stderr:write("nvim tasklists: FAIL: " .. message .. "\n")
  os.exit(1)
end

if not binary or not workspace then
  fail("set CODELAB_PLANNER_BIN and CODELAB_WORKSPACE")
end

-- Neovim prints each workspace edit's label ("Workspace edit codelab-planner: s1 done"); in a
-- headless run that goes to stderr, which the runner reads as an error: keep it on stdout.
local applied = {}
print = function(...)
  local line = table.concat(vim.tbl_map(tostring, { ... }), " ")
  table.insert(applied, line)
  io.stdout:write(line .. "\n")
end

local path = workspace .. "/tasks.md"
local lines = { "# Ship it", "", "- [ ] Run `echo one`", "- [ ] Run `echo two`" }
vim.fn.writefile(lines, path)
vim.cmd.edit(vim.fn.fnameescape(path))
local bufnr = vim.api.nvim_get_current_buf()

local finished = nil
local client_id = vim.lsp.start({
  name = "codelab-planner",
  cmd = { binary },
  root_dir = workspace,
  workspace_folders = { { uri = vim.uri_from_fname(workspace), name = "workspace" } },
  handlers = {
    ["planning/progress"] = function(_, params)
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
if not vim.wait(timeout_ms, function()
  client = vim.lsp.get_client_by_id(client_id)
  return client ~= nil and client.initialized
end, 20) then
  fail("the server did not initialize")
end
vim.lsp.buf_attach_client(bufnr, client_id)

local function request(method, params)
  local response, err = client:request_sync(method, params, timeout_ms, bufnr)
  if not response then
    fail(method .. ": " .. tostring(err))
  end
  if response.err then
    fail(method .. ": " .. vim.inspect(response.err))
  end
  return response.result
end

local plan = request("planning/import", { path = "tasks.md" })
if plan.sourceFile ~= "tasks.md" or #plan.subtasks ~= 2 then
  fail("unexpected import: " .. vim.inspect(plan))
end
request("planning/approve", { planId = plan.id })
request("planning/execute", { planId = plan.id })
if not vim.wait(timeout_ms, function()
  return finished ~= nil
end, 20) then
  fail("no planFinished")
end
if finished.status ~= "completed" then
  fail("plan finished " .. tostring(finished.status))
end

local ticked = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
local wanted = { "# Ship it", "", "- [x] Run `echo one`", "- [x] Run `echo two`" }
if not vim.deep_equal(ticked, wanted) then
  fail("the buffer is not ticked: " .. vim.inspect(ticked))
end

if #applied ~= 2 then
  fail("expected one workspace edit per step, got " .. vim.inspect(applied))
end

local lenses = request("textDocument/codeLens", { textDocument = { uri = vim.uri_from_bufnr(bufnr) } })
local by_line = {}
for _, lens in ipairs(lenses or {}) do
  local line = lens.range.start.line
  by_line[line] = by_line[line] or {}
  table.insert(by_line[line], lens.command and lens.command.title or "")
end
local function has(line, prefix)
  for _, title in ipairs(by_line[line] or {}) do
    if title:sub(1, #prefix) == prefix then
      return true
    end
  end
  return false
end
if not has(0, "▶ Run all") then
  fail("no Run all lens on the title: " .. vim.inspect(by_line))
end
for _, line in ipairs({ 2, 3 }) do
  if not has(line, "▶ Run from here") or not has(line, "✓ done") then
    fail("line " .. line .. " lacks its lenses: " .. vim.inspect(by_line))
  end
end

client:stop()
vim.wait(5000, function()
  return client:is_stopped()
end, 20)
io.stdout:write("nvim tasklists: ok\n")
os.exit(0)
