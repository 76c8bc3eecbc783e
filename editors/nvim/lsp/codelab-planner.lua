-- The `codelab-planner` server for `vim.lsp.config` / `vim.lsp.enable` (Neovim 0.11+).
-- Override any field with `vim.lsp.config('codelab-planner', { ... })`; the plugin's own
-- settings live in `vim.g.codelab_planner` (see `:help codelab-planner-config`).
return require("codelab-planner.lsp").base_config()
