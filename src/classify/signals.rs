//! What a task says, before any decision: the prose without code words (file names, symbols,
//! flags), the word the request starts with (after "please" and "in file X,") and what kind it
//! is, whether it is a question, the failure, design, large-work and wide-reach words it
//! contains, the signs of a report that names no failure, and what the request's object is (a
//! file, a small thing such as a field), each as the word to quote.
//!
//! Pure: no I/O. The decision itself is in the parent module.

use std::sync::LazyLock;

use super::keywords::{
    ACTION_VERBS, CAUSE_QUESTIONS, CLAUSE_JOINERS, DESIGN_WORDS, EXPLAIN_VERBS, FAILURE_WORDS, FIND_VERBS, FIX_VERBS,
    LARGE_VERBS, LARGE_WORK, LOOKUP_TARGETS, NEGATIONS, POLITE_PREFIXES, QUESTION_WORDS, WIDE_REACH,
};
use super::reports::{
    ANALYSE_VERBS, BEHAVIOUR_VERBS, CONDITIONS, DOTLESS_FILES, FILE_ARTICLES, NOUN_LIKE_VERBS, PERFORMANCE_WORDS,
    REPETITION_WORDS, SMALL_OBJECTS, SYMPTOM_WORDS, is_russian_present_verb,
};
use super::tokens::{Phrase, PhraseIndex, Term, Tokens};

/// The kind of word a request starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lead {
    Explain,
    Find,
    /// "Analyse …": debug when about a failure or performance, else explain.
    Analyse,
    Fix,
    Design,
    LargeChange,
    Action,
}

/// Everything the decision looks at.
#[derive(Debug)]
pub struct Signals {
    pub tokens: Tokens,
    /// The request's first verb (after "please", "can you", «нужно»), with its kind.
    pub lead: Option<(Lead, &'static str)>,
    /// The question word when the task is a question and does not start with a verb.
    pub question: Option<&'static str>,
    pub negated: bool,
    pub failure: Option<&'static str>,
    pub design: Option<&'static str>,
    pub large_work: Option<&'static str>,
    pub wide_reach: Option<&'static str>,
    pub lookup_target: Option<&'static str>,
    /// Verbs that start clauses ("add X and write Y"), in order.
    pub clause_verbs: Vec<&'static str>,
    /// Commas, colons and joiners in a list after the lead ("add a, b and c").
    pub is_enumeration: bool,
    /// Code words named in the task: files, paths, symbols, flags.
    pub code_words: Vec<String>,
    /// A sign of a report without a failure word: "does nothing", "twice", "still shows", a
    /// negated verb, a verb of behaviour ("prints", «показывает»), «дважды».
    pub symptom: Option<&'static str>,
    /// A sign strong enough in a "why" question: "empty", "stale", "stuck", or a repetition
    /// beside a behaviour verb ("why do the logs show every request twice?").
    pub question_symptom: Option<&'static str>,
    pub performance: Option<&'static str>,
    /// The request's object when it is one file: `Dockerfile`, `lib/widgets/card.dart`.
    pub file_object: Option<String>,
    /// The request's object when it is a small thing: a field, a button, a method, «поле».
    pub small_object: Option<&'static str>,
}

impl Signals {
    pub fn of(task: &str) -> Self {
        let (prose, code_words) = split_code_words(task);
        let tokens = Tokens::of(&prose);
        let start = polite_prefix_length(&tokens);
        let start = start + locative_prefix_length(task, start);
        let lead = lead_at(&tokens, start);
        let question = if lead.is_none() { question_word(&tokens, task) } else { None };
        let negated =
            tokens.iter().take_while(|token| !CONDITIONS.contains(token)).any(|token| NEGATIONS.contains(&token));
        // The signs of a report matter only without a request verb (a report, a question) or for
        // "analyse": the other tasks do not pay for them.
        let analyse = matches!(lead, Some((Lead::Analyse, _)));
        let report =
            if lead.is_none() || analyse { ReportSigns::of(&tokens, start, negated) } else { ReportSigns::NONE };
        let action = matches!(lead, Some((Lead::Action, _)));
        let object_start = lead.filter(|_| action).map(|_| start + 1);
        let clause_verbs = clause_verbs(&prose);
        let separators = prose.matches([',', ':', ';']).count();
        let joiners = tokens.iter().filter(|token| matches!(*token, "and" | "or" | "и" | "или")).count();
        Self {
            lead,
            question,
            negated,
            failure: FAILURES.first_match(&tokens).map(|phrase| phrase.display),
            design: first_display(&tokens, DESIGN_WORDS),
            large_work: LARGE.first_match(&tokens).map(|phrase| phrase.display),
            wide_reach: WIDE.first_match(&tokens).map(|phrase| phrase.display),
            lookup_target: first_display(&tokens, LOOKUP_TARGETS),
            clause_verbs,
            is_enumeration: separators >= 1 && separators + joiners >= 2,
            symptom: report.symptom,
            question_symptom: report.question_symptom,
            performance: if analyse { first_display(&tokens, PERFORMANCE_WORDS) } else { None },
            file_object: if action { file_object(task) } else { None },
            small_object: object_start.and_then(|start| small_object(&tokens, start)),
            code_words,
            tokens,
        }
    }

    /// A question that asks for a cause ("why", «почему»).
    pub fn asks_for_a_cause(&self) -> bool {
        self.question.is_some_and(|word| CAUSE_QUESTIONS.contains(&word))
    }
}

fn first_display(tokens: &Tokens, phrases: &'static [Phrase]) -> Option<&'static str> {
    tokens.first_match(phrases).map(|phrase| phrase.display)
}

/// A verb in its base form: "fix", not "fixed" or "fixes" (a sentence that starts with "Tests"
/// or "Fixed" reports; one that starts with "Test" or "Fix" asks). Russian stems cover the
/// imperative and the infinitive alike.
fn is_base_form(term: &Term, token: &str) -> bool {
    match term {
        Term::Inflected(word) | Term::Exact(word) => token == *word,
        Term::Stem(stem) => token.starts_with(stem),
        Term::OneOf(terms) => terms.iter().any(|term| is_base_form(term, token)),
    }
}

/// The phrase of `phrases` that starts at `start`: its first word in base form, the others as
/// written ("walk me through", «можно ли»).
fn verb_at(tokens: &Tokens, start: usize, phrases: &'static [Phrase]) -> Option<&'static str> {
    let starts_here = |phrase: &&Phrase| {
        phrase.terms.iter().enumerate().all(|(offset, term)| {
            tokens
                .get(start + offset)
                .is_some_and(|token| if offset == 0 { is_base_form(term, token) } else { term.matches(token) })
        })
    };
    phrases.iter().find(starts_here).map(|phrase| phrase.display)
}

/// The kind of request that starts at `start`, if a request verb is there.
fn lead_at(tokens: &Tokens, start: usize) -> Option<(Lead, &'static str)> {
    let tables: [(Lead, &'static [Phrase]); 7] = [
        (Lead::Explain, EXPLAIN_VERBS),
        (Lead::Find, FIND_VERBS),
        (Lead::Analyse, ANALYSE_VERBS),
        (Lead::Fix, FIX_VERBS),
        (Lead::Design, DESIGN_WORDS),
        (Lead::LargeChange, LARGE_VERBS),
        (Lead::Action, ACTION_VERBS),
    ];
    tables.iter().find_map(|(lead, table)| verb_at(tokens, start, table).map(|display| (*lead, display)))
}

fn polite_prefix_length(tokens: &Tokens) -> usize {
    tokens.iter().take_while(|token| POLITE_PREFIXES.contains(token)).count()
}

/// The longer tables, indexed once by the first letter of their first word.
static FAILURES: LazyLock<PhraseIndex> = LazyLock::new(|| PhraseIndex::new(FAILURE_WORDS));
static LARGE: LazyLock<PhraseIndex> = LazyLock::new(|| PhraseIndex::new(LARGE_WORK));
static WIDE: LazyLock<PhraseIndex> = LazyLock::new(|| PhraseIndex::new(WIDE_REACH));

/// The signs of a bug report in a sentence (see [`Signals::symptom`]).
struct ReportSigns {
    symptom: Option<&'static str>,
    question_symptom: Option<&'static str>,
}

impl ReportSigns {
    const NONE: Self = Self { symptom: None, question_symptom: None };

    fn of(tokens: &Tokens, start: usize, negated: bool) -> Self {
        static SYMPTOMS: LazyLock<PhraseIndex> = LazyLock::new(|| PhraseIndex::new(SYMPTOM_WORDS));
        static REPETITIONS: LazyLock<PhraseIndex> = LazyLock::new(|| PhraseIndex::new(REPETITION_WORDS));
        static BEHAVIOURS: LazyLock<PhraseIndex> = LazyLock::new(|| PhraseIndex::new(BEHAVIOUR_VERBS));
        let symptom_word = SYMPTOMS.first_match(tokens).map(|phrase| phrase.display);
        let repetition = REPETITIONS.first_match(tokens).map(|phrase| phrase.display);
        // The behaviour verbs are looked for only when the answer depends on them.
        let behaviour = || {
            BEHAVIOURS
                .first_match(tokens)
                .map(|phrase| phrase.display)
                .or_else(|| tokens.iter().skip(start).any(is_russian_present_verb).then_some("verb of behaviour"))
        };
        let symptom = symptom_word.or(repetition).or(negated.then_some("not")).or_else(behaviour);
        let question_symptom = symptom_word.or_else(|| repetition.filter(|_| behaviour().is_some()));
        Self { symptom, question_symptom }
    }
}

/// The prose tokens of a leading "in FILE," / «в файле FILE» (the code word itself is not prose):
/// "In src/cart.js, add …" → 1, «В файле lib/a.dart исправить …» → 2.
fn locative_prefix_length(task: &str, start: usize) -> usize {
    if start > 0 {
        return 0;
    }
    let words: Vec<&str> = task.split_whitespace().take(4).collect();
    let is_place = |word: &str| matches!(word.to_lowercase().as_str(), "in" | "inside" | "в" | "во");
    if !words.first().is_some_and(|word| is_place(word)) {
        return 0;
    }
    let code_at = words.iter().position(|word| {
        let bare = word.trim_matches(|character: char| ",;:".contains(character));
        is_code_word(bare) || DOTLESS_FILES.contains(&bare.to_lowercase().as_str())
    });
    match code_at {
        Some(at) if at >= 1 => Tokens::of(&words[..at].join(" ")).len(),
        _ => 0,
    }
}

/// The request's object when it is one file: the first word after the verb, past articles and
/// "new file" / «новый файл», is a file name (`app.py`, `lib/a.dart`, `Dockerfile`).
fn file_object(task: &str) -> Option<String> {
    let words: Vec<&str> = task.split_whitespace().collect();
    let verb_at = words.iter().position(|word| !POLITE_PREFIXES.contains(&word.to_lowercase().as_str()))?;
    words[verb_at + 1..]
        .iter()
        .map(|word| word.trim_matches(|character: char| ",;:()\"'`".contains(character)))
        .find(|word| !FILE_ARTICLES.contains(&word.to_lowercase().as_str()))
        .filter(|word| is_file_name(word))
        .map(str::to_owned)
}

/// `app.py`, `src/lib.rs`, `.gitignore`, `Dockerfile` — not `io::Error` or `getUser`.
fn is_file_name(word: &str) -> bool {
    if DOTLESS_FILES.contains(&word.to_lowercase().as_str()) {
        return true;
    }
    let name = word.rsplit('/').next().unwrap_or(word);
    name.rsplit_once('.').is_some_and(|(stem, extension)| {
        !extension.is_empty()
            && extension.len() <= 5
            && extension.chars().all(|character| character.is_ascii_alphanumeric())
            && (stem.is_empty() || !stem.ends_with('.'))
    }) && !word.contains("::")
}

/// A small thing among the first three words of the object ("the phone field", «поле телефона»).
fn small_object(tokens: &Tokens, start: usize) -> Option<&'static str> {
    let skip = ["the", "a", "an", "new", "this", "that", "its"];
    let object: Vec<&str> = tokens.iter().skip(start).filter(|token| !skip.contains(token)).take(3).collect();
    let object = Tokens::of(&object.join(" "));
    first_display(&object, SMALL_OBJECTS)
}

/// The question word a task opens with, or "?" for a task that only ends with a question mark.
fn question_word(tokens: &Tokens, task: &str) -> Option<&'static str> {
    if let Some(word) = verb_at(tokens, 0, QUESTION_WORDS) {
        return Some(word);
    }
    task.trim_end().ends_with('?').then_some("?")
}

/// The verbs that start the clauses of `prose` (split at commas, colons, semicolons and joiners).
fn clause_verbs(prose: &str) -> Vec<&'static str> {
    let mut verbs = Vec::new();
    for piece in prose.split([',', ':', ';']) {
        let tokens = Tokens::of(piece);
        let mut at_clause_start = true;
        for (position, token) in tokens.iter().enumerate() {
            if CLAUSE_JOINERS.contains(&token) {
                at_clause_start = true;
                continue;
            }
            if at_clause_start {
                if let Some((_, display)) = lead_at(&tokens, position) {
                    // "build and test targets": "test" is a noun unless an object or nothing follows.
                    let next = tokens.get(position + 1);
                    let takes_an_object = next.is_none_or(|next| {
                        matches!(next, "the" | "a" | "an" | "it" | "them" | "this" | "that" | "all" | "every" | "its")
                            || CLAUSE_JOINERS.contains(&next)
                    });
                    if !NOUN_LIKE_VERBS.contains(&display) || takes_an_object {
                        verbs.push(display);
                    }
                }
            }
            at_clause_start = false;
        }
    }
    verbs
}

/// Separates code words (`reports.rs`, `parse_header`, `getUser`, `--verbose`, `a/b`) from the
/// prose, so that `app.py` is not the word "app" and `io::Error` is not the word "error".
fn split_code_words(task: &str) -> (String, Vec<String>) {
    let mut prose = String::with_capacity(task.len());
    let mut code_words = Vec::new();
    for word in task.split_whitespace() {
        let bare = word.trim_matches(|character: char| ",;:?!\"'`()".contains(character));
        if is_code_word(bare) {
            code_words.push(bare.to_owned());
            // Keep the separators after it: they still split clauses.
            let trailing = word.len() - word.trim_end_matches([',', ';', ':']).len();
            prose.push_str(&word[word.len() - trailing..]);
            prose.push(' ');
        } else if is_pascal_case(bare) {
            // `PlanStatus` names a symbol, `OAuth` and `GitHub` are words: keep it in both.
            code_words.push(bare.to_owned());
            prose.push_str(word);
            prose.push(' ');
        } else {
            prose.push_str(word);
            prose.push(' ');
        }
    }
    (prose, code_words)
}

fn is_code_word(word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let has_inner_dot = word.trim_end_matches('.').contains('.');
    let has_code_mark = word.contains(['_', '/', '\\', '<', '>', '=', '(', '!', '#']) || word.contains("::");
    let is_flag = word.starts_with('-') && word.len() > 1;
    let camel_case = word.chars().next().is_some_and(char::is_lowercase) && word.chars().any(char::is_uppercase);
    has_inner_dot || has_code_mark || is_flag || camel_case
}

/// `PlanStatus`, `OAuth`: an uppercase letter after the first and some lowercase ones.
fn is_pascal_case(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
        && word.chars().skip(1).any(char::is_uppercase)
        && word.chars().any(char::is_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_words_are_not_prose() {
        let (prose, code) = split_code_words("Move the constants from app.py to constants.py, then use getUser()");
        assert!(!prose.contains("app"), "{prose}");
        assert_eq!(code, ["app.py", "constants.py", "getUser"]);
        assert!(prose.contains(','), "separators stay: {prose}");
        let (prose, code) = split_code_words("Add a --verbose flag to PlanStatus and io::Error");
        assert_eq!(code, ["--verbose", "PlanStatus", "io::Error"]);
        assert!(!prose.contains(':'), "{prose}");
        let (prose, _) = split_code_words("Add OAuth login with GitHub");
        assert!(prose.contains("OAuth") && prose.contains("GitHub"), "{prose}");
    }

    #[test]
    fn the_lead_is_the_first_request_verb_in_base_form() {
        assert_eq!(Signals::of("Please fix the crash").lead, Some((Lead::Fix, "fix")));
        assert_eq!(Signals::of("Can you explain the queue?").lead, Some((Lead::Explain, "explain")));
        assert_eq!(Signals::of("Tests fail on CI").lead, None);
        assert_eq!(Signals::of("Исправить ошибку").lead, Some((Lead::Fix, "исправь")));
        assert_eq!(Signals::of("Нужно добавить флаг").lead, Some((Lead::Action, "добавь")));
    }

    #[test]
    fn clauses_and_enumerations() {
        assert_eq!(Signals::of("Add CSV export and write tests for it").clause_verbs, ["add", "write"]);
        assert_eq!(Signals::of("Fix the race between save and autosave").clause_verbs, ["fix"]);
        assert!(Signals::of("Add pagination, sorting and filtering").is_enumeration);
        assert!(!Signals::of("Написать функцию, которая проверяет палиндром").is_enumeration);
    }
}
