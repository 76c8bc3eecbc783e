-- codelab-planner: command definitions only; everything else loads on first use.
if vim.g.loaded_codelab_planner then
  return
end
vim.g.loaded_codelab_planner = true

vim.api.nvim_create_user_command("CodelabPlanner", function(opts)
  require("codelab-planner.commands").run(opts)
end, {
  nargs = "*",
  bang = true,
  desc = "codelab-planner: plan and run coding tasks",
  complete = function(arg_lead, cmdline)
    return require("codelab-planner.commands").complete(arg_lead, cmdline)
  end,
})

local user = vim.g.codelab_planner
if type(user) == "table" and user.auto_start then
  require("codelab-planner.lsp").enable()
end

-- Plan files are checked as you type and run from their lenses (`plan_files = false` turns it off).
vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile" }, {
  group = vim.api.nvim_create_augroup("codelab_planner_plan_files", { clear = true }),
  pattern = { "*.plan.toml" },
  desc = "codelab-planner: check and run plan files",
  callback = function(args)
    require("codelab-planner.plan_files").attach(args.buf)
  end,
})
-- Loaded lazily (a plugin manager's `ft = "toml"`), the plan file that triggered the load is open already.
for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
  if vim.api.nvim_buf_is_loaded(bufnr) and vim.api.nvim_buf_get_name(bufnr):match("%.plan%.toml$") then
    require("codelab-planner.plan_files").attach(bufnr)
  end
end
