//! Which template a task asks for, by its words (English and Russian, matched with the
//! classifier's tokens): a new application first, then a bug fix, a refactoring, a feature, a
//! question, and the generic template when nothing matches. No I/O.

use crate::classify::{Phrase, Term, Tokens};

use super::TemplateKind;

use Term::{Exact, Inflected, OneOf, Stem};

const NEW_APP_WORDS: &[Phrase] = &[
    Phrase::new("from scratch", &[Exact("from"), Exact("scratch")]),
    Phrase::new(
        "create app",
        &[
            OneOf(&[Inflected("create"), Inflected("build"), Inflected("write"), Inflected("make")]),
            OneOf(&[Inflected("app"), Inflected("application")]),
        ],
    ),
    Phrase::new(
        "new project",
        &[
            Exact("new"),
            OneOf(&[Inflected("project"), Inflected("app"), Inflected("application"), Inflected("service")]),
        ],
    ),
    Phrase::new("scaffold", &[Inflected("scaffold")]),
    Phrase::new("приложение", &[Stem("приложени")]),
    Phrase::new("с нуля", &[Exact("с"), Exact("нуля")]),
    Phrase::new("новый проект", &[Stem("нов"), Stem("проект")]),
];

const BUG_FIX_WORDS: &[Phrase] = &[
    Phrase::new(
        "fix",
        &[OneOf(&[
            Inflected("fix"),
            Inflected("bug"),
            Inflected("error"),
            Inflected("crash"),
            Exact("broken"),
            Inflected("fail"),
            Inflected("failure"),
            Inflected("regression"),
            Inflected("exception"),
            Inflected("debug"),
        ])],
    ),
    Phrase::new("not working", &[Exact("not"), Inflected("work")]),
    Phrase::new(
        "исправь",
        &[OneOf(&[
            Stem("исправ"),
            Stem("ошибк"),
            Exact("баг"),
            Exact("баги"),
            Stem("сломал"),
            Stem("пада"),
            Stem("отлад"),
            Stem("проблем"),
        ])],
    ),
];

const REFACTOR_WORDS: &[Phrase] = &[
    Phrase::new(
        "refactor",
        &[OneOf(&[
            Inflected("refactor"),
            Inflected("restructure"),
            Exact("cleanup"),
            Inflected("rename"),
            Inflected("extract"),
            Inflected("simplify"),
            Inflected("reorganize"),
            Inflected("reorganise"),
            Inflected("deduplicate"),
        ])],
    ),
    Phrase::new("clean up", &[Inflected("clean"), Exact("up")]),
    Phrase::new("рефакторинг", &[OneOf(&[Stem("рефактор"), Stem("переимен"), Stem("упрост"), Stem("реорганиз")])]),
];

const QUESTION_WORDS: &[Phrase] = &[
    Phrase::new(
        "explain",
        &[OneOf(&[
            Inflected("explain"),
            Exact("what"),
            Exact("how"),
            Exact("why"),
            Inflected("document"),
            Inflected("describe"),
            Inflected("understand"),
        ])],
    ),
    Phrase::new(
        "объясни",
        &[OneOf(&[
            Stem("объясн"),
            Stem("расскаж"),
            Exact("что"),
            Exact("как"),
            Exact("почему"),
            Stem("опиш"),
            Stem("документ"),
        ])],
    ),
];

const FEATURE_WORDS: &[Phrase] = &[
    Phrase::new(
        "add",
        &[OneOf(&[
            Inflected("add"),
            Inflected("implement"),
            Inflected("create"),
            Inflected("build"),
            Inflected("support"),
            Inflected("introduce"),
            Inflected("allow"),
            Inflected("enable"),
            Inflected("integrate"),
            Inflected("write"),
            Inflected("feature"),
        ])],
    ),
    Phrase::new(
        "добавь",
        &[OneOf(&[
            Stem("добав"),
            Stem("реализ"),
            Stem("созда"),
            Stem("напиш"),
            Stem("напис"),
            Stem("поддерж"),
            Stem("внедр"),
            Stem("интегр"),
            Stem("разработ"),
        ])],
    ),
];

/// Picks the template: a new application first, then a bug fix, a refactoring, a feature, a
/// question, and the generic template when nothing matches.
pub(super) fn choose_template(tokens: &Tokens) -> TemplateKind {
    let ordered: [(TemplateKind, &[Phrase]); 5] = [
        (TemplateKind::NewApp, NEW_APP_WORDS),
        (TemplateKind::BugFix, BUG_FIX_WORDS),
        (TemplateKind::Refactor, REFACTOR_WORDS),
        (TemplateKind::Feature, FEATURE_WORDS),
        (TemplateKind::Question, QUESTION_WORDS),
    ];
    ordered.iter().find(|(_, words)| tokens.contains_any(words)).map_or(TemplateKind::Generic, |(kind, _)| *kind)
}
