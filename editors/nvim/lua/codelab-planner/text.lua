---@mod codelab-planner.text Text from the server made fit for a buffer line.
---
--- A buffer line never holds a line break (`nvim_buf_set_lines` refuses one), yet titles,
--- messages, results, errors and output may carry several lines. Every string that reaches a
--- buffer goes through `one_line` (joined) or `lines` (split). Pure: no buffers, no state.

local M = {}

--- The text's lines: split at `\n`, `\r\n` and `\r`; a trailing line break adds no empty line.
---@param text any
---@return string[]
function M.lines(text)
  if type(text) ~= "string" then
    return {}
  end
  local normalized = text:gsub("\r\n", "\n"):gsub("\r", "\n")
  local lines = vim.split(normalized, "\n", { plain = true })
  if #lines > 1 and lines[#lines] == "" then
    table.remove(lines)
  end
  return lines
end

--- The text on one line: its lines joined with " ⏎ ", blank lines dropped, other control
--- characters (tabs aside) shown as spaces.
---@param text any
---@return string
function M.one_line(text)
  if type(text) ~= "string" then
    return ""
  end
  local kept = {}
  for _, line in ipairs(M.lines(text)) do
    local trimmed = vim.trim(line)
    if trimmed ~= "" then
      table.insert(kept, trimmed)
    end
  end
  local joined = table.concat(kept, " ⏎ ")
  return (joined:gsub("[%z\1-\8\11-\31\127]", " "))
end

--- One line no wider than `width` display cells, cut with "…" (a message that fits the command
--- line shows without a hit-enter prompt).
---@param text string
---@param width integer
---@return string
function M.fit(text, width)
  local line = M.one_line(text)
  if vim.fn.strdisplaywidth(line) <= width then
    return line
  end
  local cut = line
  while vim.fn.strdisplaywidth(cut) > width - 1 and #cut > 0 do
    cut = vim.fn.strcharpart(cut, 0, vim.fn.strchars(cut) - 1)
  end
  return cut .. "…"
end

--- Lines fit for `nvim_buf_set_lines`: every item split at its line breaks.
---@param lines string[]
---@return string[]
function M.buffer_lines(lines)
  local fit = {}
  for _, line in ipairs(lines) do
    if type(line) == "string" and line:find("[\r\n]") then
      vim.list_extend(fit, M.lines(line))
    else
      table.insert(fit, tostring(line))
    end
  end
  return fit
end

return M
