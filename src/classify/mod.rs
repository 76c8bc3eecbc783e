//! The keyword task classifier (English and Russian): complex indicators, then atomic
//! indicators, then the word-count rule; agent by keyword counts with ties going to code, then
//! debug, then explain. Matches whole tokens and known inflections, never substrings.
//!
//! Pure and deterministic: no I/O. The LLM classifier (later) falls back to this one.
//! The tables are in [`keywords`]; the token matching, shared with the planner, in [`tokens`].

pub mod keywords;
pub mod tokens;

use crate::model::{Classification, ClassifyMethod, Confidence, RouteAgent};

use std::sync::LazyLock;

use keywords::{ATOMIC_INDICATORS, CODE_KEYWORDS, COMPLEX_INDICATORS, DEBUG_KEYWORDS, EXPLAIN_KEYWORDS};
pub use tokens::{Phrase, PhraseIndex, PhraseSet, Term, Tokens};

static COMPLEX_INDEX: LazyLock<PhraseIndex> = LazyLock::new(|| PhraseIndex::new(COMPLEX_INDICATORS));
static ATOMIC_INDEX: LazyLock<PhraseIndex> = LazyLock::new(|| PhraseIndex::new(ATOMIC_INDICATORS));
static CODE_INDEX: LazyLock<PhraseIndex> = LazyLock::new(|| PhraseIndex::new(CODE_KEYWORDS));
static DEBUG_INDEX: LazyLock<PhraseIndex> = LazyLock::new(|| PhraseIndex::new(DEBUG_KEYWORDS));
static EXPLAIN_INDEX: LazyLock<PhraseIndex> = LazyLock::new(|| PhraseIndex::new(EXPLAIN_KEYWORDS));

/// Without any indicator, a task with fewer whitespace-separated words than this is atomic.
pub const ATOMIC_WORD_LIMIT: usize = 10;

/// Classifies a task by keywords. Never fails; the empty task is atomic (code).
pub fn classify_keywords(task: &str) -> Classification {
    let tokens = Tokens::of(task);
    if let Some(indicator) = COMPLEX_INDEX.first_match(&tokens) {
        let reason = format!("complex indicator \"{}\"", indicator.display);
        return Classification::complex(Confidence::High, reason, ClassifyMethod::Keywords);
    }
    let agent_hits = AgentHits::of(&tokens);
    let choice = agent_hits.choose();
    if let Some(indicator) = ATOMIC_INDEX.first_match(&tokens) {
        let confidence = if choice.is_clear { Confidence::High } else { Confidence::Medium };
        let reason = format!("atomic indicator \"{}\"; {}", indicator.display, agent_hits.describe(&choice));
        return Classification::atomic(choice.agent, confidence, reason, ClassifyMethod::Keywords);
    }
    let word_count = task.split_whitespace().count();
    if word_count >= ATOMIC_WORD_LIMIT {
        let reason = format!("no indicator; {word_count} words (>= {ATOMIC_WORD_LIMIT}), needs planning");
        return Classification::complex(Confidence::Low, reason, ClassifyMethod::Keywords);
    }
    let confidence = if choice.any_hit { Confidence::Medium } else { Confidence::Low };
    let words = if word_count == 1 { "word" } else { "words" };
    let reason =
        format!("no indicator; {word_count} {words} (< {ATOMIC_WORD_LIMIT}); {}", agent_hits.describe(&choice));
    Classification::atomic(choice.agent, confidence, reason, ClassifyMethod::Keywords)
}

/// The agent keywords that occur in a task, per agent, in table order.
#[derive(Debug, Default)]
struct AgentHits {
    code: Vec<&'static str>,
    debug: Vec<&'static str>,
    explain: Vec<&'static str>,
}

/// The chosen agent and how clearly it won.
#[derive(Debug)]
struct AgentChoice {
    agent: RouteAgent,
    /// Some agent keyword occurred.
    any_hit: bool,
    /// The winner has strictly more hits than each other agent.
    is_clear: bool,
}

fn matched_displays(tokens: &Tokens, index: &PhraseIndex) -> Vec<&'static str> {
    index.matches(tokens).positions().map(|position| index.phrases()[position].display).collect()
}

impl AgentHits {
    fn of(tokens: &Tokens) -> Self {
        Self {
            code: matched_displays(tokens, &CODE_INDEX),
            debug: matched_displays(tokens, &DEBUG_INDEX),
            explain: matched_displays(tokens, &EXPLAIN_INDEX),
        }
    }

    /// In tie order: code, then debug, then explain.
    fn in_tie_order(&self) -> [(RouteAgent, &[&'static str]); 3] {
        [(RouteAgent::Code, &self.code), (RouteAgent::Debug, &self.debug), (RouteAgent::Explain, &self.explain)]
    }

    /// The highest count wins; ties go to the earlier agent in tie order; all zero → code.
    fn choose(&self) -> AgentChoice {
        let ranked = self.in_tie_order();
        let mut winner = ranked[0];
        for candidate in &ranked[1..] {
            if candidate.1.len() > winner.1.len() {
                winner = *candidate;
            }
        }
        let best = winner.1.len();
        let rivals_at_best = ranked.iter().filter(|(_, hits)| hits.len() == best).count();
        AgentChoice { agent: winner.0, any_hit: best > 0, is_clear: best > 0 && rivals_at_best == 1 }
    }

    /// E.g. `debug keywords: fix, bug`, or with a tie `code keywords: add; explain keywords:
    /// explain; tie goes to code`, or `no agent keyword, default code`.
    fn describe(&self, choice: &AgentChoice) -> String {
        if !choice.any_hit {
            return "no agent keyword, default code".to_owned();
        }
        let listed: Vec<String> = self
            .in_tie_order()
            .iter()
            .filter(|(_, hits)| !hits.is_empty())
            .map(|(agent, hits)| format!("{agent} keywords: {}", hits.join(", ")))
            .collect();
        let mut description = listed.join("; ");
        if !choice.is_clear {
            description.push_str(&format!("; tie goes to {}", choice.agent));
        }
        description
    }
}
