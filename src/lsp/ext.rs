//! The protocol extensions: every custom method and its params/result types (lsp helper).
