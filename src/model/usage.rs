//! `Usage`: language-model tokens spent, summed over calls. A domain quantity — subtasks and plans
//! keep it, the store persists it, events carry it — so it lives here; `crate::llm` reports it.

/// Tokens spent, summed over calls (`usage` on the wire: `{ promptTokens, completionTokens, calls }`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub calls: u32,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.calls += other.calls;
    }
}
