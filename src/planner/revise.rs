//! Re-planning from review feedback (English and Russian): the feedback is split into clauses;
//! "remove / drop / skip / don't / without X" («убери», «удали», «без») removes the steps X names
//! (by id, by position "step 3", else by the concepts its words share with step titles — see
//! `concepts.rs`), "everything except X" («всё кроме X») keeps only those, "add / also / include
//! X" appends a step: a `shell` step for "`CMD`" in backticks or a known tool (clippy, fmt, mypy,
//! ruff, eslint, prettier, go vet) with the workspace's command, else a coder step. A clause that
//! cannot be applied is returned as unapplied, with why; nothing is folded into descriptions.
//!
//! Pure: works on the current subtasks and returns drafts; the caller validates and stores them.

use std::collections::HashMap;

use crate::model::validate::{SubtaskDraft, TITLE_MAX_CHARS};
use crate::model::{AgentKind, Subtask};

use super::ReviseError;
use super::concepts::{concepts_of, overlap};
use super::detect::{CommandPurpose, WorkspaceFacts};
use super::detect::{Tool, WorkspaceCommand};
use super::drafting::{describe_step, shell_draft};
use super::parts::task_parts;

const REMOVE_VERBS: &[&str] =
    &["remove", "drop", "delete", "skip", "omit", "without", "no", "don't", "dont", "exclude", "not"];
const REMOVE_STEMS_RU: &[&str] = &["убер", "убра", "удал", "пропуст", "исключ", "выкин"];
const REMOVE_EXACT_RU: &[&str] = &["без", "не"];
/// "everything except X", «всё кроме X», "only X", «только X»: keep just the steps X names.
const KEEP_ONLY_WORDS: &[&str] = &["except", "only", "кроме", "только"];
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
    KeepOnly(Vec<&'clause str>),
    Add { verb: String, words: Vec<&'clause str> },
    Other,
}

/// The revised drafts and the clauses that could not be applied (each with why).
pub(super) fn revise_subtasks(
    task: &str,
    current: &[Subtask],
    feedback: &str,
    facts: &WorkspaceFacts,
) -> Result<(Vec<SubtaskDraft>, Vec<String>), ReviseError> {
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
        let outcome = match request {
            Request::Remove(words) => remove_named_steps(&mut drafts, current, &words),
            Request::KeepOnly(words) => keep_only_named_steps(&mut drafts, &words),
            Request::Add { verb, words } => {
                let added = Addition { verb: &verb, words: &words, clause: &clause, task, facts };
                add_step(&mut drafts, &mut next_number, &added)
            }
            Request::Other => Err("no step named and nothing to add".to_owned()),
        };
        if let Err(why) = outcome {
            unapplied_clauses.push(format!("\"{}\" ({why})", clause.trim()));
        }
    }
    if drafts.is_empty() {
        return Err(ReviseError::NothingLeft);
    }
    if drafts.len() == current.len() && unapplied_clauses.len() == split_clauses(feedback).len() {
        return Err(ReviseError::NothingApplied(unapplied_clauses));
    }
    Ok((drafts, unapplied_clauses))
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
        role: subtask.is_baseline().then(|| subtask.role.as_str().to_owned()),
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
    if let Some(except_at) = normalized_words.iter().position(|word| KEEP_ONLY_WORDS.contains(&word.as_str())) {
        return Request::KeepOnly(words[except_at + 1..].to_vec());
    }
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

/// Removes the steps `words` name: by id ("s3"), by 1-based position in the current plan
/// ("step 3"), else the steps whose titles share the most concepts with it.
fn remove_named_steps(drafts: &mut Vec<SubtaskDraft>, current: &[Subtask], words: &[&str]) -> Result<(), String> {
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
        named = best_title_matches(drafts, &words.join(" "));
    }
    if named.is_empty() {
        return Err("it names no step of the plan".to_owned());
    }
    remove_steps(drafts, &named);
    Ok(())
}

/// Keeps only the steps `words` name (and what they depend on is re-wired as for a removal).
fn keep_only_named_steps(drafts: &mut Vec<SubtaskDraft>, words: &[&str]) -> Result<(), String> {
    let kept = best_title_matches(drafts, &words.join(" "));
    if kept.is_empty() {
        return Err("it names no step of the plan to keep".to_owned());
    }
    let removed: Vec<String> =
        drafts.iter().filter_map(|draft| draft.id.clone()).filter(|id| !kept.contains(id)).collect();
    remove_steps(drafts, &removed);
    Ok(())
}

/// The steps whose title (and the step part of the description) share the most concepts with
/// `text`; none when no concept is shared.
fn best_title_matches(drafts: &[SubtaskDraft], text: &str) -> Vec<String> {
    let wanted = concepts_of(text);
    let scores: Vec<usize> = drafts
        .iter()
        .map(|draft| {
            let description = draft.description.as_deref().unwrap_or("");
            2 * overlap(&wanted, &draft.title) + overlap(&wanted, description)
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

/// An "add" clause with what it needs to become a step.
struct Addition<'a> {
    verb: &'a str,
    words: &'a [&'a str],
    clause: &'a str,
    task: &'a str,
    facts: &'a WorkspaceFacts,
}

/// Appends the step an "add" clause asks for: a shell step for a `command` in backticks or a
/// known tool (with the workspace's command for it); the workspace's test / lint / build command
/// when the clause names one; else a coder step titled from the clause.
fn add_step(drafts: &mut Vec<SubtaskDraft>, next_number: &mut usize, addition: &Addition<'_>) -> Result<(), String> {
    let words = addition.words;
    let lead = words.iter().take_while(|word| TITLE_LEAD_FILLERS.contains(&normalized(word).as_str())).count();
    let rest = &words[lead..];
    if rest.is_empty() {
        return Err("it says nothing to add".to_owned());
    }
    if let Some(commands) = shell_commands_named(addition, rest)? {
        for command in commands {
            if !drafts.iter().any(|draft| draft.command.as_deref() == Some(command.command.as_str())) {
                let depends_on = shell_dependencies(drafts, command.purpose);
                let lang = task_parts(addition.task).lang;
                drafts.push(shell_draft(format!("s{next_number}"), &command, depends_on, lang));
                *next_number += 1;
            }
        }
        return Ok(());
    }
    let id = format!("s{next_number}");
    *next_number += 1;
    let stripped_a_step_word = words[..lead].iter().any(|word| matches!(normalized(word).as_str(), "step" | "шаг"));
    let phrase = rest.join(" ");
    let title_text = if !stripped_a_step_word && matches!(addition.verb, "add" | "include" | "append") {
        format!("Add {phrase}")
    } else {
        phrase
    };
    let title =
        capitalized(title_text.trim_end_matches(['.', '!', '?'])).chars().take(TITLE_MAX_CHARS).collect::<String>();
    let depends_on = last_implementation_step(drafts).into_iter().collect();
    drafts.push(SubtaskDraft {
        id: Some(id),
        description: Some(describe_step(
            &format!("{title} (asked for in review)."),
            None,
            task_parts(addition.task).lang,
        )),
        title,
        agent: AgentKind::Coder.as_str().to_owned(),
        depends_on,
        estimate_secs: Some(600),
        ..SubtaskDraft::default()
    });
    Ok(())
}

/// The shell commands an "add" clause names: "`CMD`" in backticks (run at the workspace root), a
/// known tool (one command per project it applies to), or tests / lint / build (the workspace's
/// own). `None` when the clause names no command; an error when it names one the workspace lacks.
fn shell_commands_named(addition: &Addition<'_>, rest: &[&str]) -> Result<Option<Vec<WorkspaceCommand>>, String> {
    if let Some(quoted) = addition.clause.split('`').nth(1).map(str::trim).filter(|quoted| !quoted.is_empty()) {
        let command = WorkspaceCommand {
            title: format!("Run {quoted}"),
            command: quoted.to_owned(),
            purpose: CommandPurpose::Lint,
            cwd: None,
            builds: false,
        };
        return Ok(Some(vec![command]));
    }
    let named_tool = rest.iter().map(|word| normalized(word)).find_map(|word| Some((Tool::named(&word)?, word)));
    if let Some((tool, word)) = named_tool {
        let commands = addition.facts.tool_commands(tool);
        if commands.is_empty() {
            return Err(format!("no project in the workspace runs {word}"));
        }
        return Ok(Some(commands));
    }
    match named_purpose(rest) {
        Some(purpose) => {
            let commands: Vec<WorkspaceCommand> =
                addition.facts.commands.iter().filter(|command| command.purpose == purpose).cloned().collect();
            if commands.is_empty() { Ok(None) } else { Ok(Some(commands)) }
        }
        None => Ok(None),
    }
}

fn named_purpose(words: &[&str]) -> Option<CommandPurpose> {
    concepts_of(&words.join(" ")).iter().find_map(|concept| match concept.as_str() {
        "test" => Some(CommandPurpose::Test),
        "lint" => Some(CommandPurpose::Lint),
        "build" => Some(CommandPurpose::Build),
        _ => None,
    })
}

/// Tests wait for the workspace build step when there is one; everything else for the last
/// implementation step.
fn shell_dependencies(drafts: &[SubtaskDraft], purpose: CommandPurpose) -> Vec<String> {
    let build_step = drafts.iter().rev().find(|draft| {
        draft.agent == "shell" && (draft.title.starts_with("Build") || draft.title.starts_with("Сборка"))
    });
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
