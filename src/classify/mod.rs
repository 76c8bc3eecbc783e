//! The keyword task classifier (English and Russian). It reads what kind of request a task is —
//! the verb it starts with, a question, a failure report — and what it asks for: several actions,
//! design work, a large object (an app, sign-in, billing), a wide reach ("across the codebase"),
//! a list of features. The length of a task never decides anything; every reason quotes the
//! words that decided.
//!
//! Order of the rules (the first that applies wins):
//! 1. a request to explain or find → explain (a find of a failure, or "find and fix" → debug); a
//!    request to analyse → debug when it is about a failure or performance, else explain;
//! 2. a question → explain, or debug when it asks why something fails, does not work or shows a
//!    symptom ("why is the list empty?");
//! 3. two or more clauses that each start with a request verb → plan;
//! 4. a request to fix → debug;
//! 5. an action on one file or on a small thing (a field, a button, a method) without a wide
//!    reach → code, whatever large words the sentence also names ("the registration form");
//! 6. design work, a large change (migrate, rewrite, split), or an action on large work, with a
//!    wide reach or on a list of features → plan;
//! 7. any other action → code;
//! 8. no request verb: a report of a failure → debug, or of a symptom with no failure word
//!    ("the button does nothing", «показывает дважды») → debug; large work or wide reach → plan;
//!    else code (low).
//!
//! Pure and deterministic: no I/O. The tables are in [`keywords`]; the token matching, shared
//! with the planner, in [`tokens`]; what a task says in [`signals`].

pub mod keywords;
mod reports;
mod signals;
pub mod tokens;

use crate::model::{Classification, ClassifyMethod, Confidence, RouteAgent};

use signals::{Lead, Signals};
pub use tokens::{Phrase, PhraseIndex, PhraseSet, Term, Tokens};

/// Classifies a task by its words. Never fails; the empty task is atomic (code, low).
pub fn classify_keywords(task: &str) -> Classification {
    let signals = Signals::of(task);
    request_verdict(&signals).or_else(|| question_verdict(&signals)).unwrap_or_else(|| statement_verdict(&signals))
}

fn atomic(agent: RouteAgent, confidence: Confidence, reason: String) -> Classification {
    Classification::atomic(agent, confidence, reason, ClassifyMethod::Keywords)
}

fn complex(confidence: Confidence, reason: String) -> Classification {
    Classification::complex(confidence, reason, ClassifyMethod::Keywords)
}

fn quoted(words: &[&str]) -> String {
    words.iter().map(|word| format!("\"{word}\"")).collect::<Vec<_>>().join(", ")
}

/// Rules 1, 3, 4, 5 and 6: the task starts with a request verb.
fn request_verdict(signals: &Signals) -> Option<Classification> {
    let (lead, verb) = signals.lead?;
    let verdict = match lead {
        Lead::Explain => atomic(RouteAgent::Explain, Confidence::High, format!("asks for an explanation (\"{verb}\")")),
        Lead::Find => find_verdict(signals, verb),
        Lead::Analyse => analyse_verdict(signals, verb),
        _ if signals.clause_verbs.len() >= 2 => {
            complex(Confidence::High, format!("several actions: {}", quoted(&signals.clause_verbs)))
        }
        Lead::Fix => {
            let confidence = if signals.failure.is_some() { Confidence::High } else { Confidence::Medium };
            let also = signals.failure.map(|word| format!(" of \"{word}\"")).unwrap_or_default();
            atomic(RouteAgent::Debug, confidence, format!("asks for a fix (\"{verb}\"{also})"))
        }
        Lead::Design => complex(Confidence::High, format!("design work (\"{verb}\")")),
        Lead::LargeChange => complex(Confidence::High, format!("a large change (\"{verb}\")")),
        Lead::Action => action_verdict(signals, verb),
    };
    Some(verdict)
}

fn find_verdict(signals: &Signals, verb: &str) -> Classification {
    if let Some(fix) = signals.clause_verbs.iter().skip(1).find(|clause_verb| is_fix_verb(clause_verb)) {
        let reason = format!("asks to find and fix (\"{verb}\" … \"{fix}\")");
        return atomic(RouteAgent::Debug, Confidence::High, reason);
    }
    if let Some(target) = signals.lookup_target {
        let reason = format!("asks where something is (\"{verb}\" … \"{target}\")");
        return atomic(RouteAgent::Explain, Confidence::High, reason);
    }
    if let Some(failure) = signals.failure {
        return atomic(
            RouteAgent::Debug,
            Confidence::High,
            format!("asks to find a failure (\"{verb}\" … \"{failure}\")"),
        );
    }
    atomic(RouteAgent::Explain, Confidence::Medium, format!("asks to find something (\"{verb}\")"))
}

fn is_fix_verb(display: &str) -> bool {
    keywords::FIX_VERBS.iter().any(|phrase| phrase.display == display)
}

/// "Analyse …": a failure or a performance problem is the debug agent's, anything else is a
/// request for an explanation.
fn analyse_verdict(signals: &Signals, verb: &str) -> Classification {
    match signals.failure.or(signals.performance).or(signals.question_symptom) {
        Some(problem) => atomic(
            RouteAgent::Debug,
            Confidence::High,
            format!("asks to analyse a problem (\"{verb}\" … \"{problem}\")"),
        ),
        None => atomic(RouteAgent::Explain, Confidence::Medium, format!("asks for an analysis (\"{verb}\")")),
    }
}

/// Rules 5, 6 and 7 for a task that starts with an action verb.
fn action_verdict(signals: &Signals, verb: &str) -> Classification {
    if signals.wide_reach.is_none() && signals.design.is_none() {
        if let Some(file) = &signals.file_object {
            return atomic(RouteAgent::Code, Confidence::High, format!("one change (\"{verb}\") to `{file}`"));
        }
        if let Some(thing) = signals.small_object {
            return match signals.code_words.first() {
                Some(target) => {
                    atomic(RouteAgent::Code, Confidence::High, format!("one change (\"{verb}\") to `{target}`"))
                }
                None => atomic(RouteAgent::Code, Confidence::Medium, format!("one change (\"{verb}\") to a {thing}")),
            };
        }
    }
    let mut scope = Vec::new();
    if let Some(word) = signals.design {
        scope.push(format!("design \"{word}\""));
    }
    if let Some(word) = signals.large_work {
        scope.push(format!("large work \"{word}\""));
    }
    if let Some(word) = signals.wide_reach {
        scope.push(format!("wide reach \"{word}\""));
    }
    if signals.is_enumeration {
        scope.push("a list of several items".to_owned());
    }
    if !scope.is_empty() {
        let confidence = if scope.len() >= 2 { Confidence::High } else { Confidence::Medium };
        return complex(confidence, format!("\"{verb}\" with {}", scope.join(", ")));
    }
    match signals.code_words.first() {
        Some(target) => atomic(RouteAgent::Code, Confidence::High, format!("one change (\"{verb}\") to `{target}`")),
        None => atomic(RouteAgent::Code, Confidence::Medium, format!("one change (\"{verb}\")")),
    }
}

/// Rule 2: a question that does not start with a request verb.
fn question_verdict(signals: &Signals) -> Option<Classification> {
    let word = signals.question?;
    if signals.asks_for_a_cause() {
        let failure = signals.failure.or(signals.question_symptom).or(signals.negated.then_some("not"));
        if let Some(failure) = failure {
            let reason = format!("asks why something fails (\"{word}\" … \"{failure}\")");
            return Some(atomic(RouteAgent::Debug, Confidence::High, reason));
        }
    }
    Some(atomic(RouteAgent::Explain, Confidence::High, format!("a question (\"{word}\")")))
}

/// Rule 7: no request verb and no question — a report, or a bare noun phrase.
fn statement_verdict(signals: &Signals) -> Classification {
    if let Some(failure) = signals.failure {
        let reason = format!("reads as a report of a failure (\"{failure}\")");
        return atomic(RouteAgent::Debug, Confidence::Medium, reason);
    }
    if let Some(symptom) = signals.symptom {
        let reason = format!("reads as a report of a bug (\"{symptom}\")");
        return atomic(RouteAgent::Debug, Confidence::Medium, reason);
    }
    if let Some(large) = signals.large_work.or(signals.design).or(signals.wide_reach) {
        return complex(Confidence::Low, format!("no request verb; large work (\"{large}\")"));
    }
    let reason = if signals.tokens.is_empty() {
        "empty task; default code".to_owned()
    } else {
        "no request verb, question or failure word; default code".to_owned()
    };
    atomic(RouteAgent::Code, Confidence::Low, reason)
}
