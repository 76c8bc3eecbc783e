//! Plan templates by task kind, as data: each template is a short list of steps (a title with
//! `{subject}` / `{Verb}` filled from the task's own words, what to do, agent, estimate, earlier
//! steps it depends on). `drafting.rs` turns them into drafts with the workspace's commands.
//!
//! Also the keyword lists that pick a template from the task text. No I/O.

use crate::classify::{Phrase, Term, Tokens};
use crate::model::AgentKind;

use super::TemplateKind;

use Term::{Exact, Inflected, OneOf, Stem};

/// One step of a template. `depends_on` holds 0-based positions of earlier steps.
pub(super) struct StepTemplate {
    pub title: &'static str,
    pub instructions: &'static str,
    pub agent: AgentKind,
    pub depends_on: &'static [usize],
    pub estimate_secs: u64,
    /// Produces code: the workspace's build, test and lint steps wait for it.
    pub implements: bool,
}

impl StepTemplate {
    /// Optional steps: documentation only when the task mentions docs; "run the tests" only
    /// when the workspace has no test command of its own (a shell step runs it then).
    pub fn is_wanted(&self, mentions_docs: bool, has_test_command: bool) -> bool {
        match self.title {
            "Document {subject}" => mentions_docs,
            "Run the tests and fix failures" => !has_test_command,
            _ => true,
        }
    }
}

const fn step(
    title: &'static str,
    instructions: &'static str,
    agent: AgentKind,
    depends_on: &'static [usize],
    estimate_secs: u64,
    implements: bool,
) -> StepTemplate {
    StepTemplate { title, instructions, agent, depends_on, estimate_secs, implements }
}

use AgentKind::{Ask, Coder, Debug};

const FEATURE: &[StepTemplate] = &[
    step(
        "Study the code for {subject} and design the change",
        "Read the code this touches and write down the design: which files change, new types or functions, edge cases. Do not change code yet.",
        Ask,
        &[],
        300,
        false,
    ),
    step(
        "{Verb} {subject}",
        "Implement the design in the code base, following its existing conventions.",
        Coder,
        &[0],
        900,
        true,
    ),
    step(
        "Write tests for {subject}",
        "Write tests that cover the new behaviour and its edge cases.",
        Coder,
        &[0],
        600,
        true,
    ),
    step(
        "Run the tests and fix failures",
        "Run the new and existing tests; investigate and fix anything that fails.",
        Debug,
        &[1, 2],
        600,
        false,
    ),
    step("Document {subject}", "Update documentation and comments for the new behaviour.", Coder, &[1], 300, false),
];

const BUG_FIX: &[StepTemplate] = &[
    step(
        "Investigate {subject}",
        "Find where and why the failure happens: read the error, the code path and recent changes. Report the root cause; do not change code yet.",
        Debug,
        &[],
        600,
        false,
    ),
    step(
        "Reproduce {subject} with a failing test",
        "Write a test that fails because of the bug.",
        Coder,
        &[0],
        450,
        true,
    ),
    step(
        "Fix the root cause of {subject}",
        "Fix the root cause found by the investigation, not only the symptom.",
        Coder,
        &[0],
        600,
        true,
    ),
    step(
        "Verify the fix",
        "Run the reproducing test and the existing tests; confirm the bug is gone and nothing else broke.",
        Debug,
        &[1, 2],
        300,
        false,
    ),
];

const REFACTOR: &[StepTemplate] = &[
    step(
        "Map the code involved in {subject}",
        "List the modules, types and call sites involved and the target structure.",
        Ask,
        &[],
        300,
        false,
    ),
    step(
        "Pin current behaviour with tests",
        "Add tests that pin the current behaviour where coverage is missing.",
        Coder,
        &[0],
        600,
        true,
    ),
    step(
        "{Verb} {subject}",
        "Carry out the refactoring in small steps without changing behaviour.",
        Coder,
        &[1],
        900,
        true,
    ),
    step(
        "Check that behaviour is unchanged",
        "Run the tests and review the diff for accidental behaviour changes.",
        Debug,
        &[2],
        300,
        false,
    ),
];

const QUESTION: &[StepTemplate] = &[
    step(
        "Find the code for: {subject}",
        "Locate the files, types and functions the question is about.",
        Ask,
        &[],
        300,
        false,
    ),
    step(
        "Work out how it behaves",
        "Read the code paths and work out the behaviour the question asks about.",
        Ask,
        &[0],
        450,
        false,
    ),
    step(
        "Write up the answer: {subject}",
        "Write a clear answer with references to files and short examples.",
        Ask,
        &[1],
        300,
        false,
    ),
];

const NEW_APP: &[StepTemplate] = &[
    step(
        "Design the architecture of {subject}",
        "Choose the stack and write down the components, data model and screens or endpoints.",
        Ask,
        &[],
        600,
        false,
    ),
    step(
        "Set up the project skeleton",
        "Create the project layout, build configuration and an empty entry point that builds.",
        Coder,
        &[0],
        600,
        true,
    ),
    step(
        "Implement the core logic of {subject}",
        "Implement the data model and the core behaviour.",
        Coder,
        &[1],
        1800,
        true,
    ),
    step(
        "Build the user interface",
        "Implement the user-facing part: screens, commands or endpoints.",
        Coder,
        &[1],
        1800,
        true,
    ),
    step("Write tests", "Write tests for the core logic and the main user flows.", Coder, &[1], 900, true),
    step(
        "Integrate and verify",
        "Wire the parts together, run everything and fix what fails.",
        Debug,
        &[2, 3, 4],
        900,
        false,
    ),
    step("Write the README", "Document how to build, run and test the application.", Coder, &[5], 300, false),
];

const GENERIC: &[StepTemplate] = &[
    step(
        "Analyse what {subject} needs",
        "Work out what the task needs and which parts of the code it touches.",
        Ask,
        &[],
        300,
        false,
    ),
    step("{Verb} {subject}", "Make the change the task asks for.", Coder, &[0], 900, true),
    step(
        "Check the result",
        "Check that the change does what the task asks and that nothing else broke.",
        Debug,
        &[1],
        300,
        false,
    ),
];

pub(super) fn steps_for(kind: TemplateKind) -> &'static [StepTemplate] {
    match kind {
        TemplateKind::Feature => FEATURE,
        TemplateKind::BugFix => BUG_FIX,
        TemplateKind::Refactor => REFACTOR,
        TemplateKind::Question => QUESTION,
        TemplateKind::NewApp => NEW_APP,
        TemplateKind::Generic => GENERIC,
    }
}

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
