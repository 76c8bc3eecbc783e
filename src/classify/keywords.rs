//! The classifier's keyword tables, as data: the seed's lists (complex indicators, atomic
//! indicators, and the code / debug / explain agent keywords), each entry a phrase of tokens
//! matched by exact form, English inflection or Russian stem (see [`super::tokens`]).
//!
//! Kept in the seed's order; the first matching indicator is the one named in reasons.

use super::tokens::{Phrase, Term};

use Term::{Exact, Inflected, OneOf, Stem};

/// "приложение" in any case form.
const APPLICATION_RU: Term = Stem("приложени");
/// "создай", "создать", "создание", ...
const CREATE_RU: Term = Stem("созда");
/// "файл", "файла", "файле", "файлов", ...
const FILE_RU: Term = Stem("файл");

/// Any hit means the task is complex (checked first).
pub const COMPLEX_INDICATORS: &[Phrase] = &[
    Phrase::new("create application", &[Inflected("create"), Inflected("application")]),
    Phrase::new("create app", &[Inflected("create"), Inflected("app")]),
    Phrase::new("build system", &[Inflected("build"), Inflected("system")]),
    Phrase::new("implement feature", &[Inflected("implement"), Inflected("feature")]),
    Phrase::new("design system", &[Inflected("design"), Inflected("system")]),
    Phrase::new("architecture", &[Inflected("architecture")]),
    Phrase::new("multiple files", &[Exact("multiple"), Inflected("file")]),
    Phrase::new("several components", &[Exact("several"), Inflected("component")]),
    Phrase::new("full implementation", &[Exact("full"), Inflected("implementation")]),
    Phrase::new("создай приложение", &[CREATE_RU, APPLICATION_RU]),
    Phrase::new("мобильное приложение", &[Stem("мобильн"), APPLICATION_RU]),
    Phrase::new("реализуй систему", &[Stem("реализ"), Stem("систем")]),
    Phrase::new("разработай", &[Stem("разработ")]),
    Phrase::new("несколько файлов", &[Exact("несколько"), FILE_RU]),
    Phrase::new("полная реализация", &[Stem("полн"), Stem("реализаци")]),
    Phrase::new("с логином", &[Exact("с"), Stem("логин")]),
    Phrase::new("с регистрацией", &[Exact("с"), Stem("регистрац")]),
    Phrase::new("с авторизацией", &[Exact("с"), Stem("авторизац")]),
];

/// Any hit (and no complex hit) means the task is atomic.
pub const ATOMIC_INDICATORS: &[Phrase] = &[
    Phrase::new("fix bug in", &[Inflected("fix"), Inflected("bug"), Exact("in")]),
    Phrase::new("change in file", &[Inflected("change"), Exact("in"), Inflected("file")]),
    Phrase::new("update function", &[Inflected("update"), Inflected("function")]),
    Phrase::new("add method", &[Inflected("add"), Inflected("method")]),
    Phrase::new("refactor class", &[Inflected("refactor"), Inflected("class")]),
    Phrase::new("explain", &[Inflected("explain")]),
    Phrase::new("what is", &[Exact("what"), Exact("is")]),
    Phrase::new("how does", &[Exact("how"), Exact("does")]),
    Phrase::new("why", &[Exact("why")]),
    Phrase::new("исправь ошибку", &[Stem("исправ"), Stem("ошибк")]),
    Phrase::new("измени в файле", &[Stem("измен"), Exact("в"), FILE_RU]),
    Phrase::new("обнови функцию", &[Stem("обнов"), Stem("функци")]),
];

/// Keywords for the code agent.
pub const CODE_KEYWORDS: &[Phrase] = &[
    Phrase::new("create", &[Inflected("create")]),
    Phrase::new("write", &[OneOf(&[Inflected("write"), Exact("wrote"), Exact("written")])]),
    Phrase::new("implement", &[Inflected("implement")]),
    Phrase::new("code", &[Inflected("code")]),
    Phrase::new("refactor", &[Inflected("refactor")]),
    Phrase::new("modify", &[Inflected("modify")]),
    Phrase::new("add", &[Inflected("add")]),
    Phrase::new("update", &[Inflected("update")]),
    Phrase::new("change", &[Inflected("change")]),
    Phrase::new("создай", &[CREATE_RU]),
    Phrase::new("напиши", &[OneOf(&[Stem("напиш"), Stem("напис")])]),
    Phrase::new("реализуй", &[Stem("реализ")]),
    Phrase::new("измени", &[Stem("измен")]),
];

/// Keywords for the debug agent.
pub const DEBUG_KEYWORDS: &[Phrase] = &[
    Phrase::new("debug", &[Inflected("debug")]),
    Phrase::new("error", &[Inflected("error")]),
    Phrase::new("bug", &[Inflected("bug")]),
    Phrase::new("problem", &[Inflected("problem")]),
    Phrase::new("fix", &[Inflected("fix")]),
    Phrase::new("investigate", &[Inflected("investigate")]),
    Phrase::new("crash", &[Inflected("crash")]),
    Phrase::new("why not working", &[Exact("why"), Exact("not"), Inflected("work")]),
    Phrase::new("отладь", &[Stem("отлад")]),
    Phrase::new("ошибка", &[Stem("ошибк")]),
    Phrase::new(
        "баг",
        &[OneOf(&[Exact("баг"), Exact("баги"), Exact("бага"), Exact("багу"), Exact("багов"), Exact("багом")])],
    ),
    Phrase::new("проблема", &[Stem("проблем")]),
    Phrase::new("исправь", &[Stem("исправ")]),
];

/// Keywords for the explain agent.
pub const EXPLAIN_KEYWORDS: &[Phrase] = &[
    Phrase::new("explain", &[Inflected("explain")]),
    Phrase::new("what is", &[Exact("what"), Exact("is")]),
    Phrase::new("how does", &[Exact("how"), Exact("does")]),
    Phrase::new("help", &[Inflected("help")]),
    Phrase::new("understand", &[Inflected("understand")]),
    Phrase::new("describe", &[Inflected("describe")]),
    Phrase::new("tell me about", &[Exact("tell"), Exact("me"), Exact("about")]),
    Phrase::new("объясни", &[Stem("объясн")]),
    Phrase::new("что такое", &[Exact("что"), Exact("такое")]),
    Phrase::new("как работает", &[Exact("как"), Stem("работа")]),
    Phrase::new("расскажи", &[Stem("расскаж")]),
];
