//! The classifier's word tables, as data (English and Russian): what a request starts with (an
//! action, a fix, an explanation, a lookup, design work), the words that mark a question, a
//! failure, a large piece of work or a wide reach. Each entry is a phrase of tokens matched by
//! exact form, English inflection or Russian stem (see [`super::tokens`]); Russian verbs are
//! matched by stems that cover the imperative and the infinitive («исправь», «исправить»).
//!
//! The `display` text of an entry is what reasons quote.

use super::tokens::{Phrase, Term};

use Term::{Exact, Inflected, OneOf, Stem};

/// Words before the request itself that do not change it: "please", "can you", "нужно".
pub const POLITE_PREFIXES: &[&str] = &[
    "please",
    "can",
    "could",
    "would",
    "will",
    "you",
    "kindly",
    "i",
    "we",
    "need",
    "want",
    "to",
    "let",
    "s",
    "lets",
    "пожалуйста",
    "нужно",
    "надо",
    "необходимо",
    "давай",
    "можешь",
    "можете",
    "ты",
    "вы",
    "мне",
    "нам",
    "хочу",
];

/// A request that changes code: the code agent's verbs.
pub const ACTION_VERBS: &[Phrase] = &[
    Phrase::new("add", &[Inflected("add")]),
    Phrase::new("implement", &[Inflected("implement")]),
    Phrase::new("create", &[Inflected("create")]),
    Phrase::new("write", &[OneOf(&[Inflected("write"), Exact("wrote"), Exact("written")])]),
    Phrase::new("make", &[OneOf(&[Inflected("make"), Exact("made")])]),
    Phrase::new("build", &[OneOf(&[Inflected("build"), Exact("built")])]),
    Phrase::new("update", &[Inflected("update")]),
    Phrase::new("change", &[Inflected("change")]),
    Phrase::new("modify", &[Inflected("modify")]),
    Phrase::new("refactor", &[Inflected("refactor")]),
    Phrase::new("rename", &[Inflected("rename")]),
    Phrase::new("remove", &[Inflected("remove")]),
    Phrase::new("delete", &[Inflected("delete")]),
    Phrase::new("replace", &[Inflected("replace")]),
    Phrase::new("move", &[Inflected("move")]),
    Phrase::new("extract", &[Inflected("extract")]),
    Phrase::new("convert", &[Inflected("convert")]),
    Phrase::new("use", &[Inflected("use")]),
    Phrase::new("bump", &[Inflected("bump")]),
    Phrase::new("increase", &[Inflected("increase")]),
    Phrase::new("decrease", &[Inflected("decrease")]),
    Phrase::new("set", &[Inflected("set")]),
    Phrase::new("introduce", &[Inflected("introduce")]),
    Phrase::new("inline", &[Inflected("inline")]),
    Phrase::new("sort", &[Inflected("sort")]),
    Phrase::new("upgrade", &[Inflected("upgrade")]),
    Phrase::new("enable", &[Inflected("enable")]),
    Phrase::new("disable", &[Inflected("disable")]),
    Phrase::new("generate", &[Inflected("generate")]),
    Phrase::new("configure", &[Inflected("configure")]),
    Phrase::new("install", &[Inflected("install")]),
    Phrase::new("integrate", &[Inflected("integrate")]),
    Phrase::new("test", &[Inflected("test")]),
    Phrase::new("lint", &[Inflected("lint")]),
    Phrase::new("document", &[Inflected("document")]),
    Phrase::new("deploy", &[Inflected("deploy")]),
    Phrase::new("optimize", &[OneOf(&[Inflected("optimize"), Inflected("optimise")])]),
    Phrase::new("run", &[OneOf(&[Inflected("run"), Exact("ran")])]),
    Phrase::new("profile", &[Inflected("profile")]),
    Phrase::new("benchmark", &[Inflected("benchmark")]),
    Phrase::new("clean up", &[Inflected("clean"), Exact("up")]),
    Phrase::new("improve", &[Inflected("improve")]),
    Phrase::new("cache", &[Inflected("cache")]),
    Phrase::new("добавь", &[Stem("добав")]),
    Phrase::new("создай", &[Stem("созда")]),
    Phrase::new("напиши", &[OneOf(&[Stem("напиш"), Stem("напис")])]),
    Phrase::new("реализуй", &[Stem("реализ")]),
    Phrase::new("обнови", &[Stem("обнов")]),
    Phrase::new("измени", &[Stem("измен")]),
    Phrase::new("переименуй", &[Stem("переимен")]),
    Phrase::new("удали", &[Stem("удал")]),
    Phrase::new("замени", &[Stem("замен")]),
    Phrase::new("перенеси", &[Stem("перенес")]),
    Phrase::new("вынеси", &[Stem("вынес")]),
    Phrase::new("сделай", &[Stem("сдела")]),
    Phrase::new("настрой", &[Stem("настро")]),
    Phrase::new("внедри", &[Stem("внедр")]),
    Phrase::new("подключи", &[Stem("подключ")]),
    Phrase::new("увеличь", &[Stem("увелич")]),
    Phrase::new("уменьши", &[Stem("уменьш")]),
    Phrase::new("оптимизируй", &[Stem("оптимизир")]),
    Phrase::new("протестируй", &[Stem("протестир")]),
    Phrase::new("задокументируй", &[Stem("задокумент")]),
    Phrase::new("отрефактори", &[OneOf(&[Stem("отрефактор"), Stem("рефактор")])]),
    Phrase::new("обнови", &[Stem("обновл")]),
    Phrase::new("поменяй", &[Stem("поменя")]),
    Phrase::new("профилируй", &[Stem("профилир")]),
    Phrase::new("ускорь", &[Stem("ускор")]),
    Phrase::new("покрой", &[OneOf(&[Exact("покрой"), Exact("покрыть"), Exact("покройте")])]),
];

/// Changes too large for one step whatever their object: migrate, port, rewrite, split, ...
pub const LARGE_VERBS: &[Phrase] = &[
    Phrase::new("port", &[Inflected("port")]),
    Phrase::new("migrate", &[Inflected("migrate")]),
    Phrase::new("rewrite", &[OneOf(&[Inflected("rewrite"), Exact("rewrote"), Exact("rewritten")])]),
    Phrase::new("redesign", &[Inflected("redesign")]),
    Phrase::new("split", &[Inflected("split")]),
    Phrase::new("containerize", &[Inflected("containerize")]),
    Phrase::new("раздели", &[Stem("раздел")]),
    Phrase::new("разбей", &[OneOf(&[Exact("разбей"), Exact("разбить"), Exact("разбейте")])]),
    Phrase::new("перепиши", &[OneOf(&[Stem("перепиш"), Stem("перепис")])]),
    Phrase::new("мигрируй", &[Stem("мигрир")]),
    Phrase::new("портируй", &[Stem("портир")]),
];

/// A request to repair something: the debug agent's verbs.
pub const FIX_VERBS: &[Phrase] = &[
    Phrase::new("fix", &[Inflected("fix")]),
    Phrase::new("debug", &[Inflected("debug")]),
    Phrase::new("investigate", &[Inflected("investigate")]),
    Phrase::new("repair", &[Inflected("repair")]),
    Phrase::new("troubleshoot", &[Inflected("troubleshoot")]),
    Phrase::new("исправь", &[Stem("исправ")]),
    Phrase::new("почини", &[Stem("почин")]),
    Phrase::new("отладь", &[Stem("отлад")]),
    Phrase::new("поправь", &[Stem("поправ")]),
];

/// A request for an explanation: the explain agent's verbs.
pub const EXPLAIN_VERBS: &[Phrase] = &[
    Phrase::new("explain", &[Inflected("explain")]),
    Phrase::new("describe", &[Inflected("describe")]),
    Phrase::new("tell", &[Exact("tell")]),
    Phrase::new("summarize", &[OneOf(&[Inflected("summarize"), Inflected("summarise")])]),
    Phrase::new("walk me through", &[Exact("walk"), Exact("me"), Exact("through")]),
    Phrase::new("show me", &[Exact("show"), Exact("me")]),
    Phrase::new("help me understand", &[Exact("help"), Exact("me"), Inflected("understand")]),
    Phrase::new("объясни", &[Stem("объясн")]),
    Phrase::new("расскажи", &[OneOf(&[Stem("расскаж"), Stem("рассказ")])]),
    Phrase::new("опиши", &[OneOf(&[Stem("опиш"), Stem("описа")])]),
    Phrase::new("покажи", &[OneOf(&[Stem("покаж"), Stem("показа")])]),
];

/// A request to find something in the code (answered by the explain agent when it asks where).
pub const FIND_VERBS: &[Phrase] = &[
    Phrase::new("find", &[OneOf(&[Inflected("find"), Exact("found")])]),
    Phrase::new("locate", &[Inflected("locate")]),
    Phrase::new("search", &[Inflected("search")]),
    Phrase::new("найди", &[OneOf(&[Stem("найд"), Exact("найти")])]),
];

/// After a find verb: the lookup is about where something is, not about a bug.
pub const LOOKUP_TARGETS: &[Phrase] = &[
    Phrase::new("where", &[Exact("where")]),
    Phrase::new("callers", &[Inflected("caller")]),
    Phrase::new("usages", &[Inflected("usage")]),
    Phrase::new("references", &[Inflected("reference")]),
    Phrase::new("defined", &[OneOf(&[Inflected("define"), Inflected("definition")])]),
    Phrase::new("где", &[Exact("где")]),
    Phrase::new("определена", &[Stem("определ")]),
    Phrase::new("использования", &[Stem("использовани")]),
];

/// First words of a question.
pub const QUESTION_WORDS: &[Phrase] = &[
    Phrase::new("why", &[Exact("why")]),
    Phrase::new("how", &[Exact("how")]),
    Phrase::new("what", &[Exact("what")]),
    Phrase::new("where", &[Exact("where")]),
    Phrase::new("which", &[Exact("which")]),
    Phrase::new("when", &[Exact("when")]),
    Phrase::new("who", &[Exact("who")]),
    Phrase::new("is", &[OneOf(&[Exact("is"), Exact("are"), Exact("was"), Exact("were")])]),
    Phrase::new("does", &[OneOf(&[Exact("does"), Exact("do"), Exact("did")])]),
    Phrase::new("should", &[Exact("should")]),
    Phrase::new("почему", &[Exact("почему")]),
    Phrase::new("зачем", &[Exact("зачем")]),
    Phrase::new("как", &[Exact("как")]),
    Phrase::new("что", &[Exact("что")]),
    Phrase::new("где", &[Exact("где")]),
    Phrase::new("какой", &[Stem("как")]),
    Phrase::new("когда", &[Exact("когда")]),
    Phrase::new("кто", &[Exact("кто")]),
    Phrase::new("можно ли", &[Exact("можно"), Exact("ли")]),
];

/// Questions that ask for a cause ("why", "how come", «почему»): with a negation they report a failure.
pub const CAUSE_QUESTIONS: &[&str] = &["why", "how", "почему", "зачем"];

/// Negations that turn a cause question into a failure report ("why does X not merge"); one in a
/// condition ("when no model is set") does not (see `reports::CONDITIONS`).
pub const NEGATIONS: &[&str] = &["not", "never", "t", "no", "не", "нет", "никогда"];

/// Words that report something going wrong.
pub const FAILURE_WORDS: &[Phrase] = &[
    Phrase::new("bug", &[Inflected("bug")]),
    Phrase::new("error", &[Inflected("error")]),
    Phrase::new("crash", &[Inflected("crash")]),
    Phrase::new("fail", &[OneOf(&[Inflected("fail"), Inflected("failure")])]),
    Phrase::new("broken", &[OneOf(&[Exact("broken"), Exact("breaks"), Exact("broke")])]),
    Phrase::new("panic", &[OneOf(&[Exact("panic"), Exact("panics"), Exact("panicked"), Exact("panicking")])]),
    Phrase::new("exception", &[Inflected("exception")]),
    Phrase::new("traceback", &[Inflected("traceback")]),
    Phrase::new("segfault", &[OneOf(&[Inflected("segfault"), Exact("sigsegv")])]),
    Phrase::new("leak", &[Inflected("leak")]),
    Phrase::new("deadlock", &[Inflected("deadlock")]),
    Phrase::new("hang", &[OneOf(&[Inflected("hang"), Exact("hung"), Inflected("freeze"), Exact("froze")])]),
    Phrase::new("flaky", &[Exact("flaky")]),
    Phrase::new("regression", &[Inflected("regression")]),
    Phrase::new("wrong", &[OneOf(&[Exact("wrong"), Exact("incorrect"), Exact("incorrectly")])]),
    Phrase::new("killed", &[Exact("killed")]),
    Phrase::new("disconnects", &[Inflected("disconnect")]),
    Phrase::new("duplicate", &[Inflected("duplicate")]),
    Phrase::new("randomly", &[Exact("randomly")]),
    Phrase::new("grows", &[Exact("grows")]),
    Phrase::new("5xx", &[OneOf(&[Exact("500"), Exact("502"), Exact("503"), Exact("504")])]),
    Phrase::new("ошибка", &[Stem("ошибк")]),
    Phrase::new("баг", &[OneOf(&[Exact("баг"), Exact("баги"), Exact("бага"), Exact("багу"), Exact("багов")])]),
    Phrase::new("падает", &[OneOf(&[Stem("пада"), Stem("падени"), Stem("упал")])]),
    Phrase::new("сломан", &[Stem("слома")]),
    Phrase::new("не работает", &[Exact("не"), Stem("работа")]),
    Phrase::new("утечка", &[Stem("утечк")]),
    Phrase::new("зависает", &[Stem("завис")]),
    Phrase::new("вылетает", &[Stem("вылета")]),
    Phrase::new("неправильный", &[Stem("неправильн")]),
    Phrase::new("опечатка", &[Stem("опечатк")]),
];

/// Work that is designed before it is written.
pub const DESIGN_WORDS: &[Phrase] = &[
    Phrase::new("design", &[Inflected("design")]),
    Phrase::new("architecture", &[OneOf(&[Inflected("architecture"), Inflected("architect")])]),
    Phrase::new("propose", &[Inflected("propose")]),
    Phrase::new("спроектируй", &[Stem("спроектир")]),
    Phrase::new("архитектура", &[Stem("архитектур")]),
    Phrase::new("разработай", &[Stem("разработ")]),
];

/// Objects that are too large for one step: applications, services, sign-in, billing, ...
pub const LARGE_WORK: &[Phrase] = &[
    Phrase::new("app", &[OneOf(&[Inflected("app"), Inflected("application"), Exact("webapp")])]),
    Phrase::new("service", &[OneOf(&[Inflected("service"), Inflected("microservice"), Exact("monolith")])]),
    Phrase::new("system", &[Inflected("system")]),
    Phrase::new("platform", &[Inflected("platform")]),
    Phrase::new("website", &[Inflected("website")]),
    Phrase::new("API", &[Exact("api")]),
    Phrase::new("bot", &[Inflected("bot")]),
    Phrase::new("dashboard", &[Inflected("dashboard")]),
    Phrase::new("admin panel", &[OneOf(&[Exact("admin"), Inflected("panel")])]),
    Phrase::new("engine", &[Inflected("engine")]),
    Phrase::new("backend", &[Exact("backend")]),
    Phrase::new("frontend", &[Exact("frontend")]),
    Phrase::new("tool", &[Exact("tool")]),
    Phrase::new("extension", &[Exact("extension")]),
    Phrase::new("library", &[Exact("library")]),
    Phrase::new("wizard", &[Inflected("wizard")]),
    Phrase::new("checkout", &[Exact("checkout")]),
    Phrase::new("suite", &[Exact("suite")]),
    Phrase::new("stack", &[Exact("stack")]),
    Phrase::new("crates", &[OneOf(&[Exact("crates"), Exact("packages"), Exact("modules")])]),
    Phrase::new("authentication", &[OneOf(&[Inflected("authentication"), Inflected("authorization")])]),
    Phrase::new("OAuth", &[OneOf(&[Exact("oauth"), Exact("sso"), Exact("saml"), Exact("2fa")])]),
    Phrase::new("registration", &[OneOf(&[Exact("registration"), Exact("signup")])]),
    Phrase::new("billing", &[OneOf(&[Exact("billing"), Inflected("subscription")])]),
    Phrase::new("two-factor", &[Exact("two"), Exact("factor")]),
    Phrase::new("access control", &[Exact("access"), Exact("control")]),
    Phrase::new("full-text search", &[Exact("full"), Exact("text"), Inflected("search")]),
    Phrase::new("i18n", &[OneOf(&[Exact("i18n"), Inflected("translation"), Exact("localization")])]),
    Phrase::new("offline", &[OneOf(&[Exact("offline"), Stem("офлайн")])]),
    Phrase::new("encrypted", &[OneOf(&[Exact("encrypted"), Exact("encryption")])]),
    Phrase::new("monitoring", &[Exact("monitoring")]),
    Phrase::new("feature flags", &[Exact("feature"), Inflected("flag")]),
    Phrase::new("support for", &[Exact("support"), Exact("for")]),
    Phrase::new("from scratch", &[Exact("from"), Exact("scratch")]),
    Phrase::new("end-to-end", &[Exact("end"), Exact("to"), Exact("end")]),
    Phrase::new("приложение", &[Stem("приложени")]),
    Phrase::new("сервис", &[OneOf(&[Stem("сервис"), Stem("микросервис"), Stem("монолит")])]),
    Phrase::new("система", &[Stem("систем")]),
    Phrase::new("сайт", &[Stem("сайт")]),
    Phrase::new("бот", &[OneOf(&[Stem("бот"), Stem("телеграм")])]),
    Phrase::new("админка", &[OneOf(&[Stem("админк"), Stem("администратор")])]),
    Phrase::new("авторизация", &[OneOf(&[Stem("авторизац"), Stem("аутентификац"), Stem("регистрац")])]),
    Phrase::new("биллинг", &[OneOf(&[Stem("биллинг"), Stem("оплат")])]),
    Phrase::new("поддержка", &[Stem("поддержк")]),
    Phrase::new("мониторинг", &[Stem("мониторинг")]),
    Phrase::new("поиск", &[Stem("полнотекстов")]),
    Phrase::new("синхронизация", &[Stem("синхрониз")]),
    Phrase::new("фронтенд", &[OneOf(&[Stem("фронтенд"), Stem("бэкенд")])]),
    Phrase::new("с нуля", &[Exact("с"), Exact("нуля")]),
];

/// Words that say a change reaches far: "across the codebase", «по всему проекту».
pub const WIDE_REACH: &[Phrase] = &[
    Phrase::new("across", &[Exact("across")]),
    Phrase::new("throughout", &[Exact("throughout")]),
    Phrase::new(
        "every",
        &[
            Exact("every"),
            OneOf(&[
                Exact("file"),
                Exact("module"),
                Exact("repository"),
                Exact("service"),
                Exact("endpoint"),
                Exact("package"),
                Exact("crate"),
                Exact("class"),
                Exact("function"),
                Exact("page"),
                Exact("screen"),
                Exact("place"),
                Exact("component"),
                Exact("handler"),
                Exact("query"),
            ]),
        ],
    ),
    Phrase::new("entire", &[Exact("entire")]),
    Phrase::new("whole", &[Exact("whole")]),
    Phrase::new("everywhere", &[Exact("everywhere")]),
    Phrase::new("codebase", &[Exact("codebase")]),
    Phrase::new("multiple files", &[OneOf(&[Exact("multiple"), Exact("several")]), Inflected("file")]),
    Phrase::new("по всему", &[Exact("по"), Stem("всем")]),
    Phrase::new("во все", &[Exact("во"), Stem("все")]),
    Phrase::new("несколько файлов", &[Exact("несколько"), Stem("файл")]),
];

/// Words that join clauses of one request ("add X and write Y", «добавь X и напиши Y»).
pub const CLAUSE_JOINERS: &[&str] = &["and", "then", "also", "и", "затем", "потом", "также", "а"];
