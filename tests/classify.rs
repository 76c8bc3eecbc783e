//! Table-driven tests of the keyword classifier: the seed's examples, token boundaries in both
//! directions ("address" is not "add", "errors" is "error"), Russian imperative and infinitive
//! forms, the order of the rules, reasons that quote the deciding words, and that the length of a
//! task never decides (`tests/classify_corpus.rs` measures accuracy on a labelled corpus).

use codelab_planner::classify::classify_keywords;
use codelab_planner::model::{ClassifyMethod, Confidence, RouteAgent};

struct Case {
    task: &'static str,
    atomic: bool,
    agent: RouteAgent,
    confidence: Confidence,
    /// A fragment the reason must contain (what matched).
    reason_fragment: &'static str,
}

const fn case(
    task: &'static str,
    atomic: bool,
    agent: RouteAgent,
    confidence: Confidence,
    reason_fragment: &'static str,
) -> Case {
    Case { task, atomic, agent, confidence, reason_fragment }
}

use Confidence::{High, Low, Medium};
use RouteAgent::{Code, Debug, Explain, Plan};

const CASES: &[Case] = &[
    // The seed authors' examples.
    case("Update function in login.py", true, Code, High, "one change (\"update\") to `login.py`"),
    case("Debug error in authentication", true, Debug, High, "asks for a fix (\"debug\" of \"error\")"),
    case("Создай мобильное приложение с логином и регистрацией", false, Plan, Medium, "large work \"приложение\""),
    case("Create app and fix bug in login", false, Plan, High, "several actions: \"create\", \"fix\""),
    case("", true, Code, Low, "empty task; default code"),
    // The length of a task never decides.
    case("Please look at the login page and the settings page and the profile page", true, Code, Low, "default code"),
    case(
        "Fix the typo in the README where it says recieve instead of receive twice",
        true,
        Debug,
        Medium,
        "asks for a fix (\"fix\")",
    ),
    case("Add OAuth login with Google and GitHub", false, Plan, Medium, "large work \"OAuth\""),
    case("one two three four five six seven eight nine ten eleven twelve", true, Code, Low, "default code"),
    // Token boundaries: no substring hits.
    case("Explain the address format", true, Explain, High, "asks for an explanation (\"explain\")"),
    case("Check the address field", true, Code, Low, "no request verb, question or failure word"),
    case("Rename the prefix option", true, Code, Medium, "one change (\"rename\")"),
    case("The bugle player", true, Code, Low, "no request verb, question or failure word"),
    case("Help me with this crash", true, Debug, Medium, "reads as a report of a failure (\"crash\")"),
    case("fix", true, Debug, Medium, "asks for a fix (\"fix\")"),
    // Inflections hit; a sentence that starts with one reports instead of asking.
    case("Too many errors in the log", true, Debug, Medium, "reads as a report of a failure (\"error\")"),
    case("Fixed the crash on startup", true, Debug, Medium, "reads as a report of a failure (\"crash\")"),
    case("Tests fail on CI but pass locally", true, Debug, Medium, "reads as a report of a failure (\"fail\")"),
    case("FIX BUG IN parser!!!", true, Debug, High, "asks for a fix (\"fix\" of \"bug\")"),
    case("Please fix the bugs in the tokenizer", true, Debug, High, "asks for a fix (\"fix\" of \"bug\")"),
    // Russian: imperative and infinitive alike.
    case("Исправь ошибку в парсере", true, Debug, High, "asks for a fix (\"исправь\" of \"ошибка\")"),
    case("Исправить ошибки в модуле", true, Debug, High, "asks for a fix (\"исправь\" of \"ошибка\")"),
    case("Объясни, что такое замыкание", true, Explain, High, "asks for an explanation (\"объясни\")"),
    case("Расскажи про модуль авторизации", true, Explain, High, "asks for an explanation (\"расскажи\")"),
    case("Напиши функцию сортировки", true, Code, Medium, "one change (\"напиши\")"),
    case("Написать функцию сортировки", true, Code, Medium, "one change (\"напиши\")"),
    case("Измени в файле config.yaml порт", true, Code, High, "one change (\"измени\") to `config.yaml`"),
    case("Что такое LSP?", true, Explain, High, "a question (\"что\")"),
    case("Почему тесты падают на CI?", true, Debug, High, "asks why something fails (\"почему\" … \"падает\")"),
    case("Как работает очередь?", true, Explain, High, "a question (\"как\")"),
    case("Найди баги в парсере", true, Debug, High, "asks to find a failure (\"найди\" … \"баг\")"),
    case("Найди, где определена функция parse_config", true, Explain, High, "asks where something is"),
    case("Реализуй систему оплаты", false, Plan, Medium, "\"реализуй\" with large work \"система\""),
    case("Разработай сервис уведомлений", false, Plan, High, "design work (\"разработай\")"),
    case("Создать приложение для заметок", false, Plan, Medium, "\"создай\" with large work \"приложение\""),
    case("Создай файл .gitignore для Python", true, Code, High, "one change (\"создай\") to `.gitignore`"),
    case("Добавь экспорт в CSV и напиши тесты", false, Plan, High, "several actions: \"добавь\", \"напиши\""),
    case("Переименуй getUser в fetchUser по всему проекту", false, Plan, Medium, "wide reach \"по всему\""),
    // Questions: why/how about a failure go to debug, the others to explain.
    case("Why does merge_ranges not merge adjacent ranges?", true, Debug, High, "(\"why\" … \"not\")"),
    case("Why does the build fail?", true, Debug, High, "asks why something fails (\"why\" … \"fail\")"),
    case("Why do we use a dedicated thread for SQLite?", true, Explain, High, "a question (\"why\")"),
    case("How does the scheduler work", true, Explain, High, "a question (\"how\")"),
    case("What is a monad?", true, Explain, High, "a question (\"what\")"),
    case("Can you explain the difference between approve and execute?", true, Explain, High, "(\"explain\")"),
    case("Find where PlanStatus is defined", true, Explain, High, "(\"find\" … \"where\")"),
    // Plans: design, large changes, large work, wide reach, lists, several actions.
    case("Explain the architecture of the system", true, Explain, High, "asks for an explanation"),
    case("Design the database schema for billing", false, Plan, High, "design work (\"design\")"),
    case("Migrate the project from Webpack to Vite", false, Plan, High, "a large change (\"migrate\")"),
    case("Build system for plugins", false, Plan, Medium, "\"build\" with large work \"system\""),
    case("Implement features across several components", false, Plan, Medium, "wide reach \"across\""),
    case("Changes spanning multiple files", false, Plan, Low, "no request verb; large work (\"multiple files\")"),
    case("Add pagination, sorting and filtering", false, Plan, Medium, "a list of several items"),
    case("Add CSV export to reports and write tests for it", false, Plan, High, "\"add\", \"write\""),
    // One change.
    case("Refactor class UserManager to use injection", true, Code, High, "to `UserManager`"),
    case("Add method to parse dates", true, Code, Medium, "one change (\"add\")"),
    case("Move the constants from app.py to constants.py", true, Code, High, "to `app.py`"),
    case("Add error handling", true, Code, Medium, "one change (\"add\")"),
    case("Implement the From<io::Error> conversion for StoreError", true, Code, High, "one change (\"implement\")"),
    // Issue 21: reports that name no failure, why-questions with a symptom, file-scoped creation,
    // a small change in a sentence that names a large thing, "in file X, …", find and fix, analyse.
    case("The export button does nothing on Safari", true, Debug, Medium, "a report of a bug (\"nothing\")"),
    case("Notifications arrive two hours late", true, Debug, Medium, "a report of a bug (\"late\")"),
    case("Сортировка по дате ставит март раньше января", true, Debug, Medium, "a report of a bug"),
    case("Why is the sidebar empty for new users?", true, Debug, High, "(\"why\" … \"empty\")"),
    case("Why do the logs show every request twice?", true, Debug, High, "(\"why\" … \"twice\")"),
    case("Why is the plan status stored twice?", true, Explain, High, "a question (\"why\")"),
    case("Why does the planner use a template when no model is set?", true, Explain, High, "a question"),
    case("Write a Dockerfile for the worker service", true, Code, High, "one change (\"write\") to `Dockerfile`"),
    case(
        "Создать новый файл lib/a_b.dart с виджетом A, который показывает имя, почту и аватар",
        true,
        Code,
        High,
        "to `lib/a_b.dart`",
    ),
    case(
        "Make the phone field optional on the registration form",
        true,
        Code,
        Medium,
        "one change (\"make\") to a field",
    ),
    case("Add a Makefile with build and test targets", true, Code, High, "to `Makefile`"),
    case("В файле src/cart.js исправить подсчёт суммы", true, Debug, Medium, "asks for a fix (\"исправь\")"),
    case(
        "In src/cart.js, add a function that rounds prices",
        true,
        Code,
        High,
        "one change (\"add\") to `src/cart.js`",
    ),
    case("Найти и починить гонку при сохранении", true, Debug, High, "find and fix (\"найди\" … \"почини\")"),
    case(
        "Analyse the slow startup and make it faster",
        true,
        Debug,
        High,
        "analyse a problem (\"analyse\" … \"slow\")",
    ),
    case("Analyse the architecture of the engine", true, Explain, Medium, "asks for an analysis (\"analyse\")"),
    case("Profile the report generation and cache the slow queries", false, Plan, High, "\"profile\", \"cache\""),
];

#[test]
fn keyword_cases_classify_as_expected() {
    let mut failures = Vec::new();
    for case in CASES {
        let result = classify_keywords(case.task);
        let matches = result.is_atomic() == case.atomic
            && result.agent() == case.agent
            && result.confidence == case.confidence
            && result.reason.contains(case.reason_fragment);
        if !matches {
            failures.push(format!(
                "{:?}: got atomic={} agent={} confidence={} reason={:?}; want atomic={} agent={} confidence={} reason containing {:?}",
                case.task,
                result.is_atomic(),
                result.agent(),
                result.confidence,
                result.reason,
                case.atomic,
                case.agent,
                case.confidence,
                case.reason_fragment,
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

#[test]
fn every_result_keeps_the_invariant_and_names_its_method() {
    for case in CASES {
        let result = classify_keywords(case.task);
        assert_eq!(result.method, ClassifyMethod::Keywords);
        assert!(!result.reason.trim().is_empty(), "{:?} has an empty reason", case.task);
        if !result.is_atomic() {
            assert_eq!(result.agent(), RouteAgent::Plan, "{:?}", case.task);
        } else {
            assert_ne!(result.agent(), RouteAgent::Plan, "{:?}", case.task);
        }
    }
}

#[test]
fn substring_lookalikes_never_count_as_keywords() {
    let lookalikes = ["address", "prefix", "bugle", "adder", "codec", "helpless", "fixture", "errorless"];
    for word in lookalikes {
        let result = classify_keywords(word);
        assert_eq!(result.agent(), RouteAgent::Code, "{word}: {}", result.reason);
        assert_eq!(result.confidence, Confidence::Low, "{word}: {}", result.reason);
    }
}

#[test]
fn full_reasons_read_as_documented() {
    assert_eq!(classify_keywords("Create app and fix bug in login").reason, "several actions: \"create\", \"fix\"");
    assert_eq!(classify_keywords("fix bug in parser").reason, "asks for a fix (\"fix\" of \"bug\")");
    assert_eq!(classify_keywords("Rename the login form").reason, "one change (\"rename\")");
}

#[test]
fn padding_a_task_with_words_never_changes_its_verdict() {
    let padding = " for the page that the team uses every day in the office and at home";
    for task in ["Rename the login form", "Fix the crash on startup", "What is a monad", "Add OAuth login"] {
        let short = classify_keywords(task);
        let long = classify_keywords(&format!("{task}{padding}"));
        assert_eq!((short.is_atomic(), short.agent()), (long.is_atomic(), long.agent()), "{task}");
    }
}

#[test]
fn classification_is_deterministic() {
    for case in CASES {
        assert_eq!(classify_keywords(case.task), classify_keywords(case.task));
    }
}
