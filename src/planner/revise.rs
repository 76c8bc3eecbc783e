//! Re-planning from review feedback: the feedback is split into clauses; "remove/drop/skip/
//! without X" removes the steps X names (by title words, by id, or by position "step 3"),
//! "add/also/include X" appends a step, and every other clause is folded into the kept steps'
//! descriptions as reviewer feedback.
//!
//! Pure: works on the current subtasks and returns drafts; the caller validates and stores them.

use std::collections::HashMap;

use crate::model::validate::{SubtaskDraft, TITLE_MAX_CHARS};
use crate::model::{AgentKind, Subtask};

use super::ReviseError;
use super::detect::{CommandPurpose, WorkspaceFacts};
use super::templates::{describe_step, shell_draft};

const REMOVE_VERBS: &[&str] =
    &["remove", "drop", "delete", "skip", "omit", "without", "no", "don't", "dont", "exclude"];
const REMOVE_STEMS_RU: &[&str] = &["убер", "удал", "пропуст", "исключ"];
const REMOVE_EXACT_RU: &[&str] = &["без"];
const ADD_VERBS: &[&str] = &["add", "also", "include", "plus", "append", "добавь", "добавить", "также", "ещё", "еще"];
/// Words that do not identify a step.
const FILLER_WORDS: &[&str] = &[
    "the", "a", "an", "step", "steps", "subtask", "subtasks", "task", "please", "for", "to", "of", "it", "this",
    "that", "all", "any", "with", "part", "one", "ones", "stage", "phase", "write", "run", "do", "make", "which",
    "шаг", "шаги",
];
/// Leading words dropped from an added step's title ("add a step to run clippy" → "Run clippy").
const TITLE_LEAD_FILLERS: &[&str] = &["a", "an", "the", "step", "new", "to", "that", "which", "шаг"];

/// What one clause of the feedback asks for.
enum Request<'clause> {
    Remove(Vec<&'clause str>),
    Add { verb: String, words: Vec<&'clause str> },
    Other,
}

pub(super) fn revise_subtasks(
    task: &str,
    current: &[Subtask],
    feedback: &str,
    facts: &WorkspaceFacts,
) -> Result<Vec<SubtaskDraft>, ReviseError> {
    if feedback.trim().is_empty() {
        return Err(ReviseError::EmptyFeedback);
    }
    let mut drafts: Vec<SubtaskDraft> = current.iter().map(draft_from_subtask).collect();
    let mut next_number = next_free_step_number(current);
    let mut unapplied_clauses: Vec<String> = Vec::new();
    let mut previous_was_remove = false;
    for clause in split_clauses(feedback) {
        let request = match parse_clause(&clause) {
            Request::Other if previous_was_remove => Request::Remove(clause.split_whitespace().collect()),
            request => request,
        };
        previous_was_remove = matches!(request, Request::Remove(_));
        let applied = match request {
            Request::Remove(words) => remove_named_steps(&mut drafts, current, &words),
            Request::Add { verb, words } => add_step(&mut drafts, &mut next_number, &verb, &words, task, facts),
            Request::Other => false,
        };
        if !applied {
            unapplied_clauses.push(clause);
        }
    }
    if drafts.is_empty() {
        return Err(ReviseError::NothingLeft);
    }
    if !unapplied_clauses.is_empty() {
        let note = format!("\n\nReviewer feedback: {}", unapplied_clauses.join("; "));
        for draft in &mut drafts {
            draft.description.get_or_insert_with(String::new).push_str(&note);
        }
    }
    Ok(drafts)
}

/// A stored subtask as a draft that keeps its id, agent, command, dependencies and limits.
pub(super) fn draft_from_subtask(subtask: &Subtask) -> SubtaskDraft {
    SubtaskDraft {
        id: Some(subtask.id.as_str().to_owned()),
        title: subtask.title.clone(),
        description: Some(subtask.description.clone()).filter(|description| !description.is_empty()),
        agent: subtask.agent.as_str().to_owned(),
        command: subtask.command.clone(),
        cwd: subtask.cwd.clone(),
        depends_on: subtask.depends_on.iter().map(|id| id.as_str().to_owned()).collect(),
        timeout_secs: subtask.timeout_secs.map(|secs| i64::try_from(secs).unwrap_or(i64::MAX)),
        max_attempts: Some(i64::from(subtask.max_attempts)),
        estimate_secs: subtask.estimate_secs,
    }
}

/// Splits on `;`, `,`, newlines, `!`, `?`, a `.` that ends a sentence, and the word "and" / "и".
fn split_clauses(feedback: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut characters = feedback.chars().peekable();
    while let Some(character) = characters.next() {
        let ends_sentence = character == '.' && characters.peek().is_none_or(|next| next.is_whitespace());
        if matches!(character, ';' | ',' | '\n' | '!' | '?') || ends_sentence {
            pieces.push(std::mem::take(&mut current));
        } else {
            current.push(character);
        }
    }
    pieces.push(current);
    let mut clauses = Vec::new();
    for piece in pieces {
        let mut words: Vec<&str> = Vec::new();
        for word in piece.split_whitespace() {
            if word.eq_ignore_ascii_case("and") || word == "и" {
                clauses.push(words.join(" "));
                words.clear();
            } else {
                words.push(word);
            }
        }
        clauses.push(words.join(" "));
    }
    clauses.retain(|clause| !clause.trim().is_empty());
    clauses
}

/// Lower-case with punctuation trimmed from both ends ("Docs," → "docs").
fn normalized(word: &str) -> String {
    word.trim_matches(|character: char| !character.is_alphanumeric() && character != '\'').to_lowercase()
}

fn is_remove_verb(word: &str) -> bool {
    REMOVE_VERBS.contains(&word)
        || REMOVE_EXACT_RU.contains(&word)
        || REMOVE_STEMS_RU.iter().any(|stem| word.starts_with(stem))
}

fn parse_clause(clause: &str) -> Request<'_> {
    let words: Vec<&str> = clause.split_whitespace().collect();
    let normalized_words: Vec<String> = words.iter().map(|word| normalized(word)).collect();
    if let Some(verb_at) = normalized_words.iter().position(|word| is_remove_verb(word)) {
        return Request::Remove(words[verb_at + 1..].to_vec());
    }
    if let Some(verb_at) = normalized_words.iter().position(|word| ADD_VERBS.contains(&word.as_str())) {
        let mut verb = normalized_words[verb_at].clone();
        let mut rest_at = verb_at + 1;
        // "also add X": the second verb is the real one.
        if let Some(next) = normalized_words.get(rest_at).filter(|next| ADD_VERBS.contains(&next.as_str())) {
            verb = next.clone();
            rest_at += 1;
        }
        return Request::Add { verb, words: words[rest_at..].to_vec() };
    }
    Request::Other
}

/// A crude stem for comparing words: lower-cased, one common suffix removed.
fn word_stem(word: &str) -> String {
    let word = normalized(word);
    for suffix in ["ations", "ation", "ments", "ment", "ing", "ers", "er", "ed", "es", "s"] {
        if let Some(stem) = word.strip_suffix(suffix) {
            if stem.chars().count() >= 3 {
                return stem.to_owned();
            }
        }
    }
    word
}

fn stems_match(left: &str, right: &str) -> bool {
    let (shorter, longer) = if left.len() <= right.len() { (left, right) } else { (right, left) };
    shorter == longer || (shorter.chars().count() >= 3 && longer.starts_with(shorter))
}

/// Removes the steps `words` name: by id ("s3"), by 1-based position in the current plan
/// ("step 3"), else the steps whose titles share the most words with it. False when nothing matched.
fn remove_named_steps(drafts: &mut Vec<SubtaskDraft>, current: &[Subtask], words: &[&str]) -> bool {
    let content: Vec<String> = words
        .iter()
        .map(|word| normalized(word))
        .filter(|word| !word.is_empty() && !FILLER_WORDS.contains(&word.as_str()))
        .collect();
    let draft_ids: Vec<String> = drafts.iter().filter_map(|draft| draft.id.clone()).collect();
    let mut named: Vec<String> =
        draft_ids.iter().filter(|id| content.iter().any(|word| word.eq_ignore_ascii_case(id))).cloned().collect();
    if named.is_empty() {
        if let [only] = content.as_slice() {
            if let Some(subtask) = only.parse::<usize>().ok().and_then(|position| current.get(position.checked_sub(1)?))
            {
                named.extend(draft_ids.iter().filter(|id| *id == subtask.id.as_str()).cloned());
            }
        }
    }
    if named.is_empty() {
        named = best_title_matches(drafts, &content);
    }
    if named.is_empty() {
        return false;
    }
    remove_steps(drafts, &named);
    true
}

fn best_title_matches(drafts: &[SubtaskDraft], content: &[String]) -> Vec<String> {
    let target_stems: Vec<String> = content.iter().map(|word| word_stem(word)).collect();
    let scores: Vec<usize> = drafts
        .iter()
        .map(|draft| {
            let title_stems: Vec<String> =
                draft.title.split_whitespace().map(word_stem).filter(|stem| !stem.is_empty()).collect();
            target_stems.iter().filter(|target| title_stems.iter().any(|title| stems_match(target, title))).count()
        })
        .collect();
    let best = scores.iter().copied().max().unwrap_or(0);
    if best == 0 {
        return Vec::new();
    }
    drafts.iter().zip(&scores).filter(|(_, score)| **score == best).filter_map(|(draft, _)| draft.id.clone()).collect()
}

/// Removes `removed` ids; a removed step's dependents inherit its dependencies.
fn remove_steps(drafts: &mut Vec<SubtaskDraft>, removed: &[String]) {
    let inherited: HashMap<String, Vec<String>> = drafts
        .iter()
        .filter(|draft| draft.id.as_ref().is_some_and(|id| removed.contains(id)))
        .filter_map(|draft| Some((draft.id.clone()?, draft.depends_on.clone())))
        .collect();
    drafts.retain(|draft| !draft.id.as_ref().is_some_and(|id| removed.contains(id)));
    for draft in drafts.iter_mut() {
        let mut expanded = Vec::new();
        for dependency in &draft.depends_on {
            expand_dependency(dependency, &inherited, &mut expanded, 0);
        }
        draft.depends_on = expanded;
    }
}

fn expand_dependency(id: &str, inherited: &HashMap<String, Vec<String>>, out: &mut Vec<String>, depth: usize) {
    match inherited.get(id) {
        // The depth bound only guards against a cyclic input; valid plans are acyclic.
        Some(parents) if depth < 64 => {
            parents.iter().for_each(|parent| expand_dependency(parent, inherited, out, depth + 1))
        }
        Some(_) => {}
        None if !out.iter().any(|kept| kept == id) => out.push(id.to_owned()),
        None => {}
    }
}

fn next_free_step_number(current: &[Subtask]) -> usize {
    let highest = current
        .iter()
        .filter_map(|subtask| subtask.id.as_str().strip_prefix('s')?.parse::<usize>().ok())
        .max()
        .unwrap_or(0);
    highest.max(current.len()) + 1
}

/// Appends the step an "add" clause asks for: the workspace's command when the clause names tests,
/// linting or building and the workspace has that command, else a coder step titled from the clause.
fn add_step(
    drafts: &mut Vec<SubtaskDraft>,
    next_number: &mut usize,
    verb: &str,
    words: &[&str],
    task: &str,
    facts: &WorkspaceFacts,
) -> bool {
    let lead = words.iter().take_while(|word| TITLE_LEAD_FILLERS.contains(&normalized(word).as_str())).count();
    let rest = &words[lead..];
    if rest.is_empty() {
        return false;
    }
    let id = format!("s{next_number}");
    if let Some(command) = named_purpose(rest).and_then(|purpose| facts.command_for(purpose)) {
        if drafts.iter().any(|draft| draft.command.as_deref() == Some(command.command.as_str())) {
            return true;
        }
        *next_number += 1;
        let depends_on = shell_dependencies(drafts, command.purpose);
        drafts.push(shell_draft(id, &command.title, &command.command, depends_on, task));
        return true;
    }
    *next_number += 1;
    let stripped_a_step_word = words[..lead].iter().any(|word| matches!(normalized(word).as_str(), "step" | "шаг"));
    let phrase = rest.join(" ");
    let title_text = if !stripped_a_step_word && matches!(verb, "add" | "include" | "append") {
        format!("Add {phrase}")
    } else {
        phrase
    };
    let title =
        capitalized(title_text.trim_end_matches(['.', '!', '?'])).chars().take(TITLE_MAX_CHARS).collect::<String>();
    let depends_on = last_implementation_step(drafts).into_iter().collect();
    drafts.push(SubtaskDraft {
        id: Some(id),
        description: Some(describe_step(task, &format!("{title} (asked for in review)."), None)),
        title,
        agent: AgentKind::Coder.as_str().to_owned(),
        depends_on,
        estimate_secs: Some(600),
        ..SubtaskDraft::default()
    });
    true
}

fn named_purpose(words: &[&str]) -> Option<CommandPurpose> {
    words.iter().map(|word| word_stem(word)).find_map(|stem| match stem.as_str() {
        "test" | "tests" | "pytest" => Some(CommandPurpose::Test),
        "lint" | "clippy" => Some(CommandPurpose::Lint),
        "build" | "compil" | "compile" => Some(CommandPurpose::Build),
        _ => None,
    })
}

/// Tests wait for the workspace build step when there is one; everything else for the last
/// implementation step.
fn shell_dependencies(drafts: &[SubtaskDraft], purpose: CommandPurpose) -> Vec<String> {
    let build_step = drafts.iter().rev().find(|draft| draft.agent == "shell" && draft.title.starts_with("Build"));
    match (purpose, build_step) {
        (CommandPurpose::Test, Some(build)) => build.id.clone().into_iter().collect(),
        _ => last_implementation_step(drafts).into_iter().collect(),
    }
}

/// The last coder step, else the last step.
fn last_implementation_step(drafts: &[SubtaskDraft]) -> Option<String> {
    drafts
        .iter()
        .rev()
        .find(|draft| draft.agent == "coder")
        .or_else(|| drafts.last())
        .and_then(|draft| draft.id.clone())
}

fn capitalized(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}
