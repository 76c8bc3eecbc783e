//! The words revision feedback and step titles share, as concepts: «документация», "docs" and
//! "Document …" are one concept; «тесты» and "tests" another. Texts are split with the
//! classifier's own tokenizer ([`Tokens`]) and words matched with its [`Term`]s (English
//! inflections, Russian stems), so there is one word matcher, not two.
//!
//! Pure: no I/O.

use crate::classify::{Term, Tokens};

use Term::{Exact, Inflected, OneOf, Stem};

/// Concept name → the words (English and Russian) that mean it.
const CONCEPTS: &[(&str, Term)] = &[
    (
        "docs",
        OneOf(&[
            Inflected("document"),
            Inflected("documentation"),
            Exact("doc"),
            Exact("docs"),
            Exact("readme"),
            Stem("документ"),
            Stem("доку"),
            Stem("ридми"),
        ]),
    ),
    ("test", OneOf(&[Inflected("test"), Exact("pytest"), Stem("тест")])),
    ("build", OneOf(&[Inflected("build"), Inflected("compile"), Stem("сборк"), Stem("собр"), Stem("компил")])),
    ("lint", OneOf(&[Inflected("lint"), Exact("linter"), Exact("clippy"), Stem("линт")])),
    (
        "study",
        OneOf(&[
            Inflected("study"),
            Inflected("analyse"),
            Inflected("analyze"),
            Inflected("analysis"),
            Inflected("design"),
            Inflected("investigate"),
            Inflected("map"),
            Stem("анализ"),
            Stem("исследов"),
            Stem("изуч"),
            Stem("проектир"),
            Stem("дизайн"),
        ]),
    ),
    ("implement", OneOf(&[Inflected("implement"), Inflected("implementation"), Stem("реализ")])),
    ("baseline", OneOf(&[Exact("baseline"), Stem("базов"), Stem("исходн")])),
    ("verify", OneOf(&[Inflected("verify"), Inflected("check"), Stem("провер")])),
    ("fix", OneOf(&[Inflected("fix"), Stem("исправ"), Stem("почин")])),
    ("reproduce", OneOf(&[Inflected("reproduce"), Stem("воспроизв")])),
];

/// Words that never identify a step ("the", "step", «шаг», «с»).
const FILLER: &[&str] = &[
    "the",
    "a",
    "an",
    "step",
    "steps",
    "subtask",
    "subtasks",
    "task",
    "please",
    "for",
    "to",
    "of",
    "it",
    "this",
    "that",
    "all",
    "any",
    "with",
    "part",
    "one",
    "ones",
    "stage",
    "phase",
    "write",
    "run",
    "do",
    "make",
    "which",
    "and",
    "in",
    "on",
    "шаг",
    "шаги",
    "шага",
    "шаг",
    "с",
    "со",
    "для",
    "на",
    "в",
    "и",
    "про",
    "по",
    "этот",
    "эти",
    "все",
    "всё",
    "их",
    "его",
    "писать",
    "напиши",
    "написать",
];

/// The concepts (or, for other words, the words themselves) a text names, without filler.
pub(super) fn concepts_of(text: &str) -> Vec<String> {
    let tokens = Tokens::of(text);
    let mut found: Vec<String> = Vec::new();
    for token in tokens.iter().filter(|token| !FILLER.contains(token)) {
        let concept = CONCEPTS
            .iter()
            .find(|(_, term)| term.matches(token))
            .map_or_else(|| token.to_owned(), |(name, _)| (*name).to_owned());
        if !found.contains(&concept) {
            found.push(concept);
        }
    }
    found
}

/// How many of `wanted` a step named `title` (with the step part of its description) has.
pub(super) fn overlap(wanted: &[String], step_text: &str) -> usize {
    let step = concepts_of(step_text);
    wanted.iter().filter(|concept| step.contains(concept)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_and_english_words_meet_in_one_concept() {
        assert_eq!(concepts_of("убери шаг с документацией"), ["убери", "docs"]);
        assert_eq!(overlap(&concepts_of("документацией"), "Document CSV export"), 1);
        assert_eq!(overlap(&concepts_of("don't write tests"), "Write tests for CSV export"), 1);
        assert_eq!(overlap(&concepts_of("тесты"), "Test (cargo)"), 1);
        assert_eq!(overlap(&concepts_of("docs"), "Implement CSV export"), 0);
    }
}
