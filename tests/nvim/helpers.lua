-- Shared helpers of the headless Neovim tests: loading the plugin from editors/nvim, failing with
-- a message, waiting on events with a hard timeout, comparing lines.
local M = {}

M.timeout_ms = 30000

function M.fail(message)
  io.stderr:write("nvim test: FAIL: " .. message .. "\n")
  os.exit(1)
end

--- Puts editors/nvim on the runtimepath and sources its plugin/ file, as a plugin manager would.
function M.load_plugin()
  local root = os.getenv("CODELAB_PLUGIN_DIR")
  if not root then
    M.fail("set CODELAB_PLUGIN_DIR")
  end
  vim.opt.runtimepath:prepend(root)
  vim.cmd.runtime("plugin/codelab-planner.lua")
  return root
end

--- Waits until `predicate()` is true, or fails naming `what`.
function M.wait_for(what, predicate, timeout_ms)
  if not vim.wait(timeout_ms or M.timeout_ms, predicate, 10) then
    local told = vim.tbl_map(function(notice)
      return notice.message
    end, M.notices)
    M.fail("timed out waiting for " .. what .. "\nnotices so far: " .. vim.inspect(told))
  end
end

function M.equal(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    M.fail(string.format("%s:\nexpected:\n%s\nactual:\n%s", what, vim.inspect(expected), vim.inspect(actual)))
  end
end

--- Compares lines; on a difference names the first differing line.
function M.lines_equal(actual, expected, what)
  for index = 1, math.max(#actual, #expected) do
    if actual[index] ~= expected[index] then
      M.fail(
        string.format(
          "%s: line %d differs\nexpected: %s\nactual:   %s\n--- actual lines:\n%s",
          what,
          index,
          vim.inspect(expected[index]),
          vim.inspect(actual[index]),
          table.concat(actual, "\n")
        )
      )
    end
  end
end

function M.truthy(value, what)
  if not value then
    M.fail(what)
  end
  return value
end

--- Every vim.notify message, for assertions. A notice at ERROR level fails the test at `ok`
--- unless the test said it expects it (`expect_error`).
M.notices = {}
function M.capture_notifications()
  vim.notify = function(message, level)
    table.insert(M.notices, { message = message, level = level })
  end
  vim.notify_once = vim.notify
end

local expected_errors = {}
--- The test provokes an error notice that contains `fragment` (a refused request, a bad command).
function M.expect_error(fragment)
  table.insert(expected_errors, fragment)
end

--- Fails when Neovim reported an error the test did not ask for: `v:errmsg` (an error in a
--- callback, a failed command) or a vim.notify at ERROR level.
function M.check_no_errors()
  if vim.v.errmsg ~= "" then
    M.fail("Neovim reported an error: " .. vim.v.errmsg)
  end
  for _, notice in ipairs(M.notices) do
    if notice.level == vim.log.levels.ERROR then
      local expected = false
      for _, fragment in ipairs(expected_errors) do
        expected = expected or notice.message:find(fragment, 1, true) ~= nil
      end
      if not expected then
        M.fail("an error was shown: " .. notice.message)
      end
    end
  end
end

function M.noticed(fragment)
  for _, notice in ipairs(M.notices) do
    if notice.message:find(fragment, 1, true) then
      return notice
    end
  end
  return nil
end

function M.ok(name)
  M.check_no_errors()
  io.stdout:write("nvim test " .. name .. ": ok\n")
  os.exit(0)
end

return M
