//! Plan templates by task kind, as data: each template is a short list of steps — in English
//! and Russian, a title with `{topic}` (the task's object), a plain title for when the task's
//! words would repeat the whole task, what the step does, agent, estimate, the earlier steps it
//! depends on. `drafting.rs` turns them into drafts with the workspace's commands.
//!
//! No I/O. The keyword lists that pick a template are in `choose.rs`.

use crate::model::AgentKind;

use super::TemplateKind;
use super::parts::{Extra, Lang};

/// Text in English and in Russian.
#[derive(Debug, Clone, Copy)]
pub(super) struct Words {
    pub en: &'static str,
    pub ru: &'static str,
}

impl Words {
    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Ru => self.ru,
        }
    }
}

const fn words(en: &'static str, ru: &'static str) -> Words {
    Words { en, ru }
}

/// What a step is for: whether a plan wants it, and which extra request ("with tests and
/// docs") it already answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StepKind {
    Study,
    /// The change itself; titled with the task's own words when they do not repeat the task.
    Change,
    /// Always there; answers "with tests".
    Tests,
    /// Only when the task asks for tests.
    OptionalTests,
    /// Only when the workspace has no test command of its own (a shell step runs it then).
    RunTests,
    /// Only when the task asks for documentation.
    Docs,
    /// Always there; answers "with docs".
    DocsAlways,
    Other,
}

/// One step of a template. `depends_on` holds 0-based positions of earlier steps.
pub(super) struct StepTemplate {
    pub kind: StepKind,
    /// With `{topic}`: the task's object ("input validation").
    pub title: Words,
    /// Without the task's words, for when they would repeat the whole task.
    pub plain: Words,
    /// What the step does: its description.
    pub instructions: Words,
    pub agent: AgentKind,
    pub depends_on: &'static [usize],
    pub estimate_secs: u64,
    /// Produces code: the baseline runs before it; the workspace's build, test and lint after.
    pub implements: bool,
}

impl StepTemplate {
    /// Whether a plan wants this step, given what the task asks and what the workspace has.
    pub fn is_wanted(&self, wants_docs: bool, wants_tests: bool, has_test_command: bool) -> bool {
        match self.kind {
            StepKind::Docs => wants_docs,
            StepKind::OptionalTests => wants_tests,
            StepKind::RunTests => !has_test_command,
            _ => true,
        }
    }

    /// Whether this step already answers `extra`.
    pub fn answers(&self, extra: Extra) -> bool {
        match extra {
            Extra::Tests => matches!(self.kind, StepKind::Tests | StepKind::OptionalTests),
            Extra::Docs => matches!(self.kind, StepKind::Docs | StepKind::DocsAlways),
            Extra::Changelog => false,
        }
    }
}

struct Step {
    kind: StepKind,
    title: Words,
    plain: Words,
    instructions: Words,
}

const fn step(
    Step { kind, title, plain, instructions }: Step,
    agent: AgentKind,
    depends_on: &'static [usize],
    estimate_secs: u64,
    implements: bool,
) -> StepTemplate {
    StepTemplate { kind, title, plain, instructions, agent, depends_on, estimate_secs, implements }
}

/// A step whose title needs no topic.
const fn fixed(kind: StepKind, title: Words, instructions: Words) -> Step {
    Step { kind, title, plain: title, instructions }
}

use AgentKind::{Ask, Coder, Debug};

const RUN_TESTS: Step = fixed(
    StepKind::RunTests,
    words("Run the tests and fix failures", "Запустить тесты и исправить ошибки"),
    words(
        "Run the new and existing tests; investigate and fix anything that fails.",
        "Запустить новые и существующие тесты; разобраться и исправить всё, что падает.",
    ),
);

/// The step an extra request adds when the template has none for it.
const TESTS_STEP: Step = Step {
    kind: StepKind::OptionalTests,
    title: words("Write tests for {topic}", "Покрыть тестами {topic}"),
    plain: words("Write tests for the change", "Написать тесты к изменению"),
    instructions: words(
        "Write tests that cover the new behaviour and its edge cases.",
        "Написать тесты на новое поведение и его крайние случаи.",
    ),
};

const DOCS_STEP: Step = Step {
    kind: StepKind::Docs,
    title: words("Document {topic}", "Задокументировать {topic}"),
    plain: words("Update the documentation", "Обновить документацию"),
    instructions: words(
        "Update the documentation and comments for the new behaviour.",
        "Обновить документацию и комментарии под новое поведение.",
    ),
};

const CHANGELOG_STEP: Step = fixed(
    StepKind::Other,
    words("Update the changelog", "Обновить журнал изменений"),
    words("Add an entry for this change to the changelog.", "Добавить запись об этом изменении в журнал изменений."),
);

/// An extra request's step as a template: a coder step after the change (`change` its position).
pub(super) fn extra_step(extra: Extra, change: &'static [usize]) -> StepTemplate {
    let step_words = match extra {
        Extra::Tests => TESTS_STEP,
        Extra::Docs => DOCS_STEP,
        Extra::Changelog => CHANGELOG_STEP,
    };
    step(step_words, Coder, change, 300, false)
}

const FEATURE: &[StepTemplate] = &[
    step(
        Step {
            kind: StepKind::Study,
            title: words("Study the code and design {topic}", "Изучить код и продумать {topic}"),
            plain: words("Study the code and design the change", "Изучить код и продумать изменение"),
            instructions: words(
                "Read the code this change touches and write down the design: which files change, new types or functions, edge cases. Do not change code yet.",
                "Прочитать код, который затрагивает изменение, и записать план: какие файлы меняются, новые типы и функции, крайние случаи. Код пока не менять.",
            ),
        },
        Ask,
        &[],
        300,
        false,
    ),
    step(
        Step {
            kind: StepKind::Change,
            title: words("Implement {topic}", "Реализовать {topic}"),
            plain: words("Implement the change", "Реализовать изменение"),
            instructions: words(
                "Implement the design in the code base, following its existing conventions.",
                "Реализовать задуманное в коде, следуя принятым в проекте соглашениям.",
            ),
        },
        Coder,
        &[0],
        900,
        true,
    ),
    step(Step { kind: StepKind::Tests, ..TESTS_STEP }, Coder, &[0], 600, true),
    step(RUN_TESTS, Debug, &[1, 2], 600, false),
    step(DOCS_STEP, Coder, &[1], 300, false),
];

const BUG_FIX: &[StepTemplate] = &[
    step(
        Step {
            kind: StepKind::Study,
            title: words("Investigate {topic}", "Исследовать {topic}"),
            plain: words("Find the cause of the bug", "Найти причину ошибки"),
            instructions: words(
                "Find where and why the failure happens: read the error, the code path and recent changes. Report the root cause; do not change code yet.",
                "Найти, где и почему возникает сбой: прочитать сообщение об ошибке, путь выполнения и недавние изменения. Описать причину, код пока не менять.",
            ),
        },
        Debug,
        &[],
        600,
        false,
    ),
    step(
        Step {
            kind: StepKind::Tests,
            title: words("Reproduce {topic} with a failing test", "Воспроизвести тестом {topic}"),
            plain: words("Reproduce the bug with a failing test", "Воспроизвести ошибку тестом"),
            instructions: words(
                "Write a test that fails because of the bug.",
                "Написать тест, который падает из-за этой ошибки.",
            ),
        },
        Coder,
        &[0],
        450,
        true,
    ),
    step(
        Step {
            kind: StepKind::Change,
            title: words("Fix the root cause of {topic}", "Исправить {topic}"),
            plain: words("Fix the root cause", "Устранить причину ошибки"),
            instructions: words(
                "Fix the root cause found by the investigation, not only the symptom.",
                "Исправить найденную причину, а не только симптом.",
            ),
        },
        Coder,
        &[0],
        600,
        true,
    ),
    step(
        fixed(
            StepKind::Other,
            words("Verify the fix", "Проверить исправление"),
            words(
                "Run the reproducing test and the existing tests; confirm the bug is gone and nothing else broke.",
                "Запустить воспроизводящий тест и существующие тесты; убедиться, что ошибки нет и ничего не сломалось.",
            ),
        ),
        Debug,
        &[1, 2],
        300,
        false,
    ),
    step(
        fixed(
            StepKind::Docs,
            words("Update the docs after the fix", "Обновить документацию после исправления"),
            words(
                "Update the documentation where it describes the fixed behaviour.",
                "Обновить документацию там, где она описывает исправленное поведение.",
            ),
        ),
        Coder,
        &[2],
        300,
        false,
    ),
];

const REFACTOR: &[StepTemplate] = &[
    step(
        Step {
            kind: StepKind::Study,
            title: words("Map the code involved in {topic}", "Изучить {topic}"),
            plain: words("Map the code involved", "Изучить затронутый код"),
            instructions: words(
                "List the modules, types and call sites involved and the target structure.",
                "Перечислить затронутые модули, типы и места вызова и описать целевую структуру.",
            ),
        },
        Ask,
        &[],
        300,
        false,
    ),
    step(
        fixed(
            StepKind::Tests,
            words("Pin current behaviour with tests", "Закрепить текущее поведение тестами"),
            words(
                "Add tests that pin the current behaviour where coverage is missing.",
                "Добавить тесты, закрепляющие текущее поведение там, где их не хватает.",
            ),
        ),
        Coder,
        &[0],
        600,
        true,
    ),
    step(
        Step {
            kind: StepKind::Change,
            title: words("Restructure {topic}", "Переработать {topic}"),
            plain: words("Carry out the refactoring", "Провести рефакторинг"),
            instructions: words(
                "Carry out the refactoring in small steps without changing behaviour.",
                "Провести рефакторинг небольшими шагами, не меняя поведения.",
            ),
        },
        Coder,
        &[1],
        900,
        true,
    ),
    step(
        fixed(
            StepKind::Other,
            words("Check that behaviour is unchanged", "Проверить, что поведение не изменилось"),
            words(
                "Run the tests and review the diff for accidental behaviour changes.",
                "Запустить тесты и просмотреть изменения на предмет случайных изменений поведения.",
            ),
        ),
        Debug,
        &[2],
        300,
        false,
    ),
    step(
        fixed(
            StepKind::Docs,
            words("Update the docs for the new structure", "Обновить документацию под новую структуру"),
            words(
                "Update the documentation and comments that describe the old structure.",
                "Обновить документацию и комментарии, которые описывают старую структуру.",
            ),
        ),
        Coder,
        &[2],
        300,
        false,
    ),
];

const QUESTION: &[StepTemplate] = &[
    step(
        Step {
            kind: StepKind::Study,
            title: words("Find the code for: {topic}", "Найти код: {topic}"),
            plain: words("Find the code involved", "Найти нужный код"),
            instructions: words(
                "Locate the files, types and functions the question is about.",
                "Найти файлы, типы и функции, о которых вопрос.",
            ),
        },
        Ask,
        &[],
        300,
        false,
    ),
    step(
        fixed(
            StepKind::Other,
            words("Work out how it behaves", "Разобраться в поведении кода"),
            words(
                "Read the code paths and work out the behaviour the question asks about.",
                "Прочитать пути выполнения и понять поведение, о котором спрашивают.",
            ),
        ),
        Ask,
        &[0],
        450,
        false,
    ),
    step(
        Step {
            kind: StepKind::DocsAlways,
            title: words("Write up the answer: {topic}", "Написать ответ: {topic}"),
            plain: words("Write up the answer", "Написать ответ"),
            instructions: words(
                "Write a clear answer with references to files and short examples.",
                "Написать понятный ответ со ссылками на файлы и короткими примерами.",
            ),
        },
        Ask,
        &[1],
        300,
        false,
    ),
];

const NEW_APP: &[StepTemplate] = &[
    step(
        Step {
            kind: StepKind::Study,
            title: words("Design the architecture of {topic}", "Спроектировать {topic}"),
            plain: words("Design the architecture", "Спроектировать архитектуру"),
            instructions: words(
                "Choose the stack and write down the components, data model and screens or endpoints.",
                "Выбрать стек и описать компоненты, модель данных, экраны или точки API.",
            ),
        },
        Ask,
        &[],
        600,
        false,
    ),
    step(
        fixed(
            StepKind::Other,
            words("Set up the project skeleton", "Создать каркас проекта"),
            words(
                "Create the project layout, build configuration and an empty entry point that builds.",
                "Создать структуру проекта, настройки сборки и пустую точку входа, которая собирается.",
            ),
        ),
        Coder,
        &[0],
        600,
        true,
    ),
    step(
        Step {
            kind: StepKind::Change,
            title: words("Implement the core logic of {topic}", "Реализовать основную логику"),
            plain: words("Implement the core logic", "Реализовать основную логику"),
            instructions: words(
                "Implement the data model and the core behaviour.",
                "Реализовать модель данных и основное поведение.",
            ),
        },
        Coder,
        &[1],
        1800,
        true,
    ),
    step(
        fixed(
            StepKind::Other,
            words("Build the user interface", "Сделать пользовательский интерфейс"),
            words(
                "Implement the user-facing part: screens, commands or endpoints.",
                "Реализовать то, с чем работает пользователь: экраны, команды или точки API.",
            ),
        ),
        Coder,
        &[1],
        1800,
        true,
    ),
    step(
        fixed(
            StepKind::Tests,
            words("Write tests", "Написать тесты"),
            words(
                "Write tests for the core logic and the main user flows.",
                "Написать тесты на основную логику и главные сценарии.",
            ),
        ),
        Coder,
        &[1],
        900,
        true,
    ),
    step(
        fixed(
            StepKind::Other,
            words("Integrate and verify", "Собрать всё вместе и проверить"),
            words(
                "Wire the parts together, run everything and fix what fails.",
                "Соединить части, всё запустить и исправить то, что не работает.",
            ),
        ),
        Debug,
        &[2, 3, 4],
        900,
        false,
    ),
    step(
        fixed(
            StepKind::DocsAlways,
            words("Write the README", "Написать инструкцию по запуску"),
            words(
                "Document how to build, run and test the application.",
                "Описать, как собрать, запустить и протестировать приложение.",
            ),
        ),
        Coder,
        &[5],
        300,
        false,
    ),
];

const GENERIC: &[StepTemplate] = &[
    step(
        Step {
            kind: StepKind::Study,
            title: words("Study {topic}", "Изучить {topic}"),
            plain: words("Work out what the task involves", "Разобраться, что нужно сделать"),
            instructions: words(
                "Work out what the task needs and which parts of the code it touches.",
                "Разобраться, что нужно сделать и какие части кода это затрагивает.",
            ),
        },
        Ask,
        &[],
        300,
        false,
    ),
    step(
        Step {
            kind: StepKind::Change,
            title: words("Make the change to {topic}", "Изменить {topic}"),
            plain: words("Make the change", "Внести изменение"),
            instructions: words("Make the change the task asks for.", "Внести изменение, о котором просит задача."),
        },
        Coder,
        &[0],
        900,
        true,
    ),
    step(TESTS_STEP, Coder, &[1], 600, true),
    step(
        fixed(
            StepKind::Other,
            words("Check the result", "Проверить результат"),
            words(
                "Check that the change does what the task asks and that nothing else broke.",
                "Проверить, что изменение делает то, что нужно, и ничего не сломало.",
            ),
        ),
        Debug,
        &[1, 2],
        300,
        false,
    ),
    step(DOCS_STEP, Coder, &[1], 300, false),
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
