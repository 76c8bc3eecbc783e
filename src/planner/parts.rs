//! A task's own parts, for step titles: its language, the request itself (the verb it starts
//! with and its object) and the extra requests hung on it — "with tests and docs", "then update
//! the docs", "and write tests for it", «и добавить тесты», «с тестами и документацией» — each
//! of which becomes a step of its own. And the fitting of a title under the length limit, cut at
//! a word.
//!
//! Pure text work: no I/O.

/// The language titles and descriptions are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    En,
    Ru,
}

/// A request hung on the main one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Extra {
    Tests,
    Docs,
    Changelog,
}

/// What a task asks, in its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TaskParts {
    pub lang: Lang,
    /// The request without the words before it ("please") and without its extras, as written:
    /// "Profile the parse function and speed it up".
    pub request: String,
    /// The request verb as written, capitalised ("Add", «Добавь»); `None` when the task does not
    /// start with one.
    pub verb: Option<String>,
    /// What follows the verb up to the first extra request or second clause ("input validation to
    /// the parse function").
    pub clause: String,
    /// The object alone: the clause cut before a place ("to the parse function", «в функцию
    /// parse») — "input validation", «валидацию входных данных».
    pub topic: String,
    pub extras: Vec<Extra>,
    /// The whole task (its first line), normalised for "does a title repeat the task".
    pub whole: String,
}

/// Longest step title, in characters (titles stay under 70).
pub(super) const TITLE_MAX_CHARS: usize = 69;

/// Words before the request itself.
const POLITE_WORDS: &[&str] =
    &["please", "can", "could", "would", "you", "kindly", "пожалуйста", "нужно", "надо", "необходимо"];

/// English request verbs that can head a title as written ("Add", "Rename", ...).
#[rustfmt::skip]
const ENGLISH_VERBS: &[&str] = &[
    "add", "implement", "create", "build", "write", "make", "update", "change", "modify", "refactor", "rename",
    "remove", "delete", "replace", "move", "extract", "convert", "introduce", "support", "migrate", "port",
    "rewrite", "redesign", "split", "enable", "disable", "integrate", "restructure", "simplify", "clean", "fix",
    "debug", "investigate", "explain", "describe", "document", "test", "profile", "optimize", "optimise",
    "speed", "improve", "set", "upgrade", "design", "find", "allow", "handle", "validate", "cache", "show",
];

/// Particles of English phrasal verbs ("set up", "clean up").
const PARTICLES: &[&str] = &["up", "out", "down", "off", "away"];

/// Where an extra request may start.
const BOUNDARIES: &[&str] = &[
    ", and then ",
    ", and ",
    ", then ",
    ", plus ",
    ", also ",
    ", ",
    "; ",
    " and then ",
    " and also ",
    " and ",
    " then ",
    " plus ",
    " along with ",
    " with ",
    ", а также ",
    " а также ",
    ", и ",
    " и ",
    ", затем ",
    " затем ",
    ", потом ",
    " потом ",
    " со ",
    " с ",
];

/// Words that ask for an extra step.
const EXTRA_VERBS: &[&str] = &[
    "write",
    "add",
    "update",
    "document",
    "cover",
    "include",
    "create",
    "extend",
    "напиши",
    "написать",
    "добавь",
    "добавить",
    "обнови",
    "обновить",
    "задокументируй",
    "задокументировать",
    "покрой",
    "покрыть",
    "опиши",
    "описать",
    "допиши",
    "дописать",
];

/// Words that may sit around an extra's noun without changing it.
const EXTRA_FILLER: &[&str] = &[
    "the",
    "a",
    "an",
    "it",
    "them",
    "this",
    "that",
    "its",
    "for",
    "to",
    "new",
    "all",
    "some",
    "unit",
    "regression",
    "integration",
    "missing",
    "necessary",
    "and",
    "also",
    "then",
    "in",
    "of",
    "with",
    "к",
    "нему",
    "ней",
    "ним",
    "него",
    "неё",
    "нее",
    "это",
    "этого",
    "этому",
    "всё",
    "все",
    "и",
    "для",
    "юнит",
    "модульные",
    "модульными",
    "нужные",
    "её",
    "ее",
    "его",
    "too",
    "также",
    "затем",
    "потом",
    "а",
    "по",
    "ним",
    "их",
];

fn extra_of(word: &str) -> Option<Extra> {
    let word = word.trim_matches(|character: char| !character.is_alphanumeric());
    match word {
        "test"
        | "tests"
        | "testing"
        | "тест"
        | "тесты"
        | "тестами"
        | "тестом"
        | "тестов"
        | "юнит-тесты"
        | "юнит-тестами" => Some(Extra::Tests),
        "doc"
        | "docs"
        | "documentation"
        | "readme"
        | "документация"
        | "документацию"
        | "документацией"
        | "доку"
        | "документации" => Some(Extra::Docs),
        "changelog" | "ченджлог" => Some(Extra::Changelog),
        _ => None,
    }
}

/// The extras a piece of text after a boundary asks for, when it asks only for extras:
/// "tests and docs" (after "with"), "write tests for it", "update the docs", "document it".
fn extras_in(piece: &str) -> Option<Vec<Extra>> {
    let words: Vec<String> = piece
        .split_whitespace()
        .map(|word| word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-').to_lowercase())
        .filter(|word| !word.is_empty())
        .collect();
    let mut extras = Vec::new();
    let mut position = 0;
    while position < words.len() {
        let word = words[position].as_str();
        if let Some(extra) = extra_of(word) {
            if !extras.contains(&extra) {
                extras.push(extra);
            }
        } else if matches!(word, "document" | "задокументируй" | "задокументировать" | "опиши" | "описать")
        {
            // "document it", «задокументируй это»: the verb is the request.
            if !extras.contains(&Extra::Docs) {
                extras.push(Extra::Docs);
            }
        } else if !EXTRA_VERBS.contains(&word) && !EXTRA_FILLER.contains(&word) {
            return None;
        }
        position += 1;
    }
    (!extras.is_empty()).then_some(extras)
}

/// Reads a task's parts from its first non-blank line.
pub(super) fn task_parts(task: &str) -> TaskParts {
    let line = task.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("");
    let line = line.trim_end_matches(['.', '!', ';']);
    let mut words: Vec<&str> = line.split_whitespace().collect();
    while words.first().is_some_and(|word| POLITE_WORDS.contains(&bare(word).as_str())) {
        words.remove(0);
    }
    let lang = language_of(line);
    let request = words.join(" ");
    let (main, extras) = split_extras(&request);
    let first = words.first().map(|word| bare(word)).unwrap_or_default();
    let starts_with_verb = is_verb(&first);
    let (verb, rest) = match main.split_once(' ') {
        Some((verb, rest)) if starts_with_verb => {
            let verb = verb.trim_end_matches([',', ':', ';']);
            // "Set up", "Clean up", "Speed up": the particle belongs to the verb.
            match rest.split_once(' ') {
                Some((particle, after)) if PARTICLES.contains(&particle) => {
                    (Some(format!("{} {particle}", capitalised(verb))), after.to_owned())
                }
                _ => (Some(capitalised(verb)), rest.to_owned()),
            }
        }
        None if starts_with_verb => (Some(capitalised(main.trim_end_matches([',', ':', ';']))), String::new()),
        _ => (None, main.clone()),
    };
    let clause = first_clause(&rest).trim_end_matches([',', '.', ';', ':']).trim().to_owned();
    let topic = before_a_place(&clause).to_owned();
    let request = capitalised(main.trim_end_matches([',', '.', ';', ':']).trim());
    TaskParts { lang, request, verb, clause, topic, extras, whole: normalised(line) }
}

/// The request without its extras, and the extras in the order asked.
fn split_extras(request: &str) -> (String, Vec<Extra>) {
    let lowered = request.to_lowercase();
    let mut cut: Option<usize> = None;
    let mut extras = Vec::new();
    for boundary in BOUNDARIES {
        for (at, _) in lowered.match_indices(boundary) {
            if cut.is_some_and(|cut| at >= cut) {
                continue;
            }
            let after = &lowered[at + boundary.len()..];
            // The extras run to the end of the request: every later piece must be one too.
            if let Some(found) = extras_in(after) {
                cut = Some(at);
                extras = found;
            }
        }
    }
    match cut {
        // Lower-casing kept every byte offset (true of Latin and Cyrillic text): cut the original.
        Some(at) if lowered.len() == request.len() && request.is_char_boundary(at) => {
            (request[..at].trim().to_owned(), extras)
        }
        Some(at) => (lowered[..at].trim().to_owned(), extras),
        None => (request.trim().to_owned(), Vec::new()),
    }
}

/// The text up to the second clause ("the parse function and speed it up" → "the parse
/// function"; «экспорт и импорт» stays whole: "and" joins objects, not requests, unless a verb
/// follows).
fn first_clause(text: &str) -> &str {
    let mut cut = text.len();
    for separator in [", ", "; ", " and ", " then ", " и ", " затем ", ": "] {
        for (at, _) in text.match_indices(separator) {
            let next = text[at + separator.len()..].split_whitespace().next().map(bare).unwrap_or_default();
            let verb_follows = is_verb(&next);
            if (verb_follows || matches!(separator, "; " | ": ")) && at < cut {
                cut = at;
            }
        }
    }
    &text[..cut]
}

/// The object before a place it goes to: "input validation to the parse function" → "input
/// validation"; «валидацию в функцию parse» → «валидацию». Kept whole when nothing would be
/// left before the place.
fn before_a_place(clause: &str) -> &str {
    let mut cut = clause.len();
    for preposition in [" to ", " into ", " in ", " on ", " across ", " в ", " во ", " на ", " к ", " ко "] {
        if let Some(at) = clause.find(preposition) {
            if at > 0 && at < cut {
                cut = at;
            }
        }
    }
    clause[..cut].trim_end_matches([',', ';', ':']).trim()
}

/// Russian when the task has at least as many Cyrillic letters as Latin ones (code words such
/// as `parse_config` make a Russian task look partly Latin).
fn language_of(text: &str) -> Lang {
    let cyrillic = text.chars().filter(|c| matches!(c, 'а'..='я' | 'А'..='Я' | 'ё' | 'Ё')).count();
    let latin = text.chars().filter(char::is_ascii_alphabetic).count();
    if cyrillic > 0 && cyrillic * 2 >= latin { Lang::Ru } else { Lang::En }
}

/// A Russian request verb: one of the classifier's verbs («добавь», «исправить», «сделай»), or
/// any infinitive («профилировать»).
fn is_russian_verb(word: &str) -> bool {
    let cyrillic = word.chars().next().is_some_and(|letter| matches!(letter, 'а'..='я' | 'ё'));
    cyrillic && (word.ends_with("ть") || word.ends_with("ти") || is_classifier_verb(word))
}

/// A word the classifier reads as a request verb (its one-word verb phrases).
fn is_classifier_verb(word: &str) -> bool {
    use crate::classify::keywords::{ACTION_VERBS, DESIGN_WORDS, EXPLAIN_VERBS, FIND_VERBS, FIX_VERBS, LARGE_VERBS};
    [ACTION_VERBS, FIX_VERBS, EXPLAIN_VERBS, FIND_VERBS, LARGE_VERBS, DESIGN_WORDS]
        .iter()
        .flat_map(|table| table.iter())
        .any(|phrase| phrase.terms.len() == 1 && phrase.terms[0].matches(word))
}

fn is_verb(word: &str) -> bool {
    ENGLISH_VERBS.contains(&word) || is_russian_verb(word)
}

fn bare(word: &str) -> String {
    word.trim_matches(|character: char| !character.is_alphanumeric()).to_lowercase()
}

pub(super) fn capitalised(text: &str) -> String {
    let mut characters = text.chars();
    characters.next().map(|first| first.to_uppercase().chain(characters).collect()).unwrap_or_default()
}

/// Lower-cased, whitespace collapsed, without trailing punctuation.
pub(super) fn normalised(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").trim_end_matches(['.', '!', '?', ';', ',']).to_lowercase()
}

/// `template` with `{topic}` filled, under [`TITLE_MAX_CHARS`]: the topic is cut at a word
/// (with "…") when the whole would be too long.
pub(super) fn fit(template: &str, topic: &str) -> String {
    let filled = template.replace("{topic}", topic);
    if filled.chars().count() <= TITLE_MAX_CHARS || !template.contains("{topic}") {
        return cut_at_word(&filled, TITLE_MAX_CHARS);
    }
    let room = TITLE_MAX_CHARS.saturating_sub(template.chars().count() - "{topic}".len() + 1);
    let shortened = cut_at_word(topic, room + 1);
    template.replace("{topic}", &shortened)
}

/// At most `max` characters, cut at a word boundary and ending in "…" when cut.
pub(super) fn cut_at_word(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    let at_word = match kept.rfind(' ') {
        Some(space) if space > 0 => &kept[..space],
        _ => kept.as_str(),
    };
    format!("{}…", at_word.trim_end_matches([' ', ',', ';', ':', '.', '-']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_and_its_extras_are_told_apart() {
        let parts = task_parts("Add input validation to the parse function, with tests and docs");
        assert_eq!(parts.verb.as_deref(), Some("Add"));
        assert_eq!(parts.clause, "input validation to the parse function");
        assert_eq!(parts.topic, "input validation");
        assert_eq!(parts.extras, [Extra::Tests, Extra::Docs]);
        let parts = task_parts("Profile the parse function and speed it up, then update the docs");
        assert_eq!((parts.verb.as_deref(), parts.topic.as_str()), (Some("Profile"), "the parse function"));
        assert_eq!(parts.extras, [Extra::Docs]);
        let parts = task_parts("Добавь валидацию входных данных в функцию parse и добавить тесты");
        assert_eq!(parts.lang, Lang::Ru);
        assert_eq!((parts.verb.as_deref(), parts.topic.as_str()), (Some("Добавь"), "валидацию входных данных"));
        assert_eq!(parts.extras, [Extra::Tests]);
        let parts = task_parts("Сделай экспорт отчётов с тестами и документацией");
        assert_eq!((parts.topic.as_str(), parts.extras.len()), ("экспорт отчётов", 2));
        let parts = task_parts("Add OAuth login with Google and GitHub");
        assert_eq!((parts.clause.as_str(), parts.extras.len()), ("OAuth login with Google and GitHub", 0));
        let parts = task_parts("Add CSV export to reports and document it in the README");
        assert_eq!((parts.topic.as_str(), parts.extras.as_slice()), ("CSV export", [Extra::Docs].as_slice()));
        let parts = task_parts("OAuth login for the admin panel");
        assert_eq!((parts.verb, parts.topic.as_str()), (None, "OAuth login for the admin panel"));
    }

    #[test]
    fn titles_fit_under_70_characters_cut_at_a_word() {
        let topic = "a careful and complete migration of every storage table to the new schema with backfill";
        let title = fit("Write tests for {topic}", topic);
        assert!(title.chars().count() < 70, "{title}");
        assert!(title.starts_with("Write tests for a careful") && title.ends_with('…'), "{title}");
        assert!(topic.contains(title.trim_start_matches("Write tests for ").trim_end_matches('…')), "{title}");
        assert_eq!(fit("Document {topic}", "CSV export"), "Document CSV export");
        assert_eq!(cut_at_word("x".repeat(100).as_str(), 69).chars().count(), 69);
    }
}
