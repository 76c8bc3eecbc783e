//! Word tables for what a task says beyond its request verb (English and Russian): the signs of a
//! bug report that uses no failure word ("does nothing", "twice", "still shows", «ничего не
//! делает», «дважды»), the verbs that describe how software behaves ("shows", "returns",
//! «приходят»), the small things a one-step change touches (a field, a button, a method, «поле»,
//! «кнопка»), the file names that are files without a dot (`Dockerfile`), the words of a
//! performance problem, the verbs that ask for an analysis, the words that end a clause's
//! condition ("if", "when", «если»), and the endings of a Russian verb that describes what
//! software does. Data and word tests only; see [`super::tokens`] for how terms match.

use super::tokens::{Phrase, Term};

use Term::{Exact, Inflected, OneOf, Stem};

/// Words that say software misbehaves without naming a failure: "does nothing", "twice",
/// "still", "forever", "stale", «ничего», «дважды», «всё ещё», «пустой».
pub const SYMPTOM_WORDS: &[Phrase] = &[
    Phrase::new("nothing", &[OneOf(&[Exact("nothing"), Stem("ничего")])]),
    Phrase::new("forever", &[OneOf(&[Exact("forever"), Exact("endlessly"), Stem("бесконечн")])]),
    Phrase::new("instead", &[OneOf(&[Exact("instead"), Exact("вместо")])]),
    Phrase::new("empty", &[OneOf(&[Exact("empty"), Exact("blank"), Stem("пуст")])]),
    Phrase::new("stale", &[OneOf(&[Exact("stale"), Exact("outdated"), Exact("старые"), Stem("устаревш")])]),
    Phrase::new("stuck", &[OneOf(&[Exact("stuck"), Stem("застрева"), Stem("застрял")])]),
    Phrase::new("stops", &[OneOf(&[Inflected("stop"), Stem("останавлива"), Stem("обрыва")])]),
    Phrase::new("late", &[OneOf(&[Exact("late"), Exact("позже"), Exact("поздно")])]),
    Phrase::new("missing", &[OneOf(&[Exact("missing"), Inflected("disappear"), Stem("пропада"), Stem("исчеза")])]),
    Phrase::new("off by", &[Exact("off"), Exact("by")]),
    Phrase::new("still", &[OneOf(&[Exact("still"), Exact("anymore")])]),
    Phrase::new("всё ещё", &[OneOf(&[Exact("всё"), Exact("все")]), Exact("ещё")]),
    Phrase::new("до сих пор", &[Exact("до"), Exact("сих"), Exact("пор")]),
];

/// Words of a repetition: a symptom in a question only beside a behaviour verb ("why do the logs
/// show every request twice?"), never in "why is the status stored twice?".
pub const REPETITION_WORDS: &[Phrase] = &[Phrase::new("twice", &[OneOf(&[Exact("twice"), Exact("дважды")])])];

/// Verbs that describe what software does, as a report says it: "the CLI prints", "the page
/// shows", "notifications arrive".
pub const BEHAVIOUR_VERBS: &[Phrase] = &[
    Phrase::new(
        "shows",
        &[OneOf(&[
            Exact("shows"),
            Exact("showed"),
            Exact("displays"),
            Exact("returns"),
            Exact("returned"),
            Exact("renders"),
            Exact("logs"),
            Exact("sends"),
            Exact("puts"),
            Exact("keeps"),
            Exact("stays"),
            Exact("loads"),
            Exact("submits"),
            Exact("goes"),
            Exact("arrive"),
            Exact("arrives"),
            Exact("appears"),
            Exact("redirects"),
            Exact("ignores"),
            Exact("skips"),
            Exact("counts"),
            Exact("delivered"),
            Exact("show"),
            Exact("log"),
            Exact("return"),
            Exact("send"),
            Exact("appear"),
            Exact("render"),
        ])],
    ),
    Phrase::new(
        "показывает",
        &[OneOf(&[
            Stem("отправля"),
            Stem("приход"),
            Stem("ставит"),
            Stem("остаёт"),
            Stem("остает"),
            Stem("уменьша"),
            Stem("увеличива"),
            Stem("загружа"),
            Stem("отдаёт"),
            Stem("отдает"),
            Stem("записан"),
        ])],
    ),
];

/// Small things a change of one step touches: a field, a button, a method, a flag, «поле».
pub const SMALL_OBJECTS: &[Phrase] = &[
    Phrase::new(
        "field",
        &[OneOf(&[
            Inflected("field"),
            Inflected("button"),
            Inflected("column"),
            Inflected("flag"),
            Inflected("option"),
            Inflected("constant"),
            Inflected("method"),
            Inflected("function"),
            Inflected("parameter"),
            Inflected("variable"),
            Inflected("label"),
            Exact("title"),
            Exact("header"),
            Inflected("link"),
            Inflected("icon"),
            Exact("color"),
            Exact("colour"),
            Exact("placeholder"),
            Exact("tooltip"),
            Exact("index"),
            Inflected("argument"),
            Exact("timeout"),
        ])],
    ),
    Phrase::new(
        "поле",
        &[OneOf(&[
            Exact("поле"),
            Exact("поля"),
            Exact("полем"),
            Stem("кнопк"),
            Stem("колонк"),
            Stem("столбец"),
            Stem("флаг"),
            Stem("опци"),
            Stem("констант"),
            Stem("метод"),
            Stem("функци"),
            Stem("параметр"),
            Stem("переменн"),
            Stem("заголов"),
            Stem("ссылк"),
            Stem("иконк"),
            Stem("цвет"),
            Stem("подсказк"),
            Stem("индекс"),
            Stem("таймаут"),
        ])],
    ),
];

/// Files whose names have no dot: `Dockerfile`, `Makefile`, ...
pub const DOTLESS_FILES: &[&str] = &[
    "dockerfile",
    "makefile",
    "justfile",
    "jenkinsfile",
    "procfile",
    "gemfile",
    "rakefile",
    "vagrantfile",
    "readme",
    "changelog",
    "license",
    "containerfile",
];

/// Words before a file name that still make it the object: "a new file", «новый файл».
pub const FILE_ARTICLES: &[&str] =
    &["a", "an", "the", "new", "file", "empty", "small", "новый", "новую", "новое", "файл", "пустой", "simple"];

/// A performance problem: "slow", "faster", «медленно», «ускорить».
pub const PERFORMANCE_WORDS: &[Phrase] = &[Phrase::new(
    "slow",
    &[OneOf(&[
        Exact("slow"),
        Exact("slower"),
        Exact("slowly"),
        Exact("faster"),
        Exact("performance"),
        Exact("latency"),
        Stem("медлен"),
        Stem("ускор"),
        Stem("производительн"),
        Stem("тормоз"),
    ])],
)];

/// A request to analyse: debug when it is about a failure or performance, else explain.
pub const ANALYSE_VERBS: &[Phrase] = &[
    Phrase::new("analyse", &[OneOf(&[Inflected("analyse"), Inflected("analyze")])]),
    Phrase::new("проанализируй", &[OneOf(&[Stem("проанализир"), Stem("анализир")])]),
];

/// Words that start a condition: a negation after them ("when no model is set", «если модель не
/// настроена») is not the report.
pub const CONDITIONS: &[&str] = &["if", "when", "unless", "until", "whenever", "если", "когда", "пока"];

/// Clause verbs that are also nouns ("build and test targets"): a clause verb only when an object
/// follows them (an article or a pronoun) or nothing does.
pub const NOUN_LIKE_VERBS: &[&str] = &["test", "build", "lint", "run", "search", "set", "sort", "use"];

/// Endings of a Russian verb in the third person of the present ("ставит", "приходят",
/// "остаётся"): in a sentence with no request verb, a verb that says what software does.
const RUSSIAN_PRESENT_ENDINGS: &[&str] =
    &["ется", "ётся", "ится", "ются", "ятся", "ает", "яет", "еет", "ует", "ит", "ют", "ят", "ёт"];

/// Nouns with those endings.
const RUSSIAN_NOUNS_LIKE_VERBS: &[&str] = &[
    "ответ",
    "объект",
    "бюджет",
    "пакет",
    "отчёт",
    "отчет",
    "билет",
    "лимит",
    "кредит",
    "счёт",
    "счет",
    "совет",
    "предмет",
    "сюжет",
    "макет",
    "портрет",
    "приоритет",
    "интернет",
    "планшет",
    "кит",
    "тест",
    "скрипт",
    "монолит",
];

/// A Russian verb of the third person present, by its ending (not one of the nouns that end
/// the same way).
pub fn is_russian_present_verb(token: &str) -> bool {
    token.chars().count() >= 5
        && token.chars().next().is_some_and(|letter| matches!(letter, 'а'..='я' | 'ё'))
        && RUSSIAN_PRESENT_ENDINGS.iter().any(|ending| token.ends_with(ending))
        && !RUSSIAN_NOUNS_LIKE_VERBS.contains(&token)
}
