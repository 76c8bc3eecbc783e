//! Table-driven tests of the keyword classifier: the seed's examples, token boundaries in both
//! directions ("address" is not "add", "errors" is "error"), Russian word forms, precedence
//! (complex, atomic, word count), the tie order and the graded confidence.

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
    case("Update function in login.py", true, Code, High, "atomic indicator \"update function\""),
    case("Debug error in authentication", true, Debug, Medium, "debug keywords: debug, error"),
    case("Создай мобильное приложение с логином и регистрацией", false, Plan, High, "\"мобильное приложение\""),
    case("Create app and fix bug in login", false, Plan, High, "complex indicator \"create app\""),
    case("", true, Code, Low, "no agent keyword, default code"),
    case(
        "Please look at the login page and the settings page and the profile page",
        false,
        Plan,
        Low,
        "14 words (>= 10)",
    ),
    // Token boundaries: no substring hits.
    case("Explain the address format", true, Explain, High, "explain keywords: explain"),
    case("Check the address field", true, Code, Low, "no agent keyword, default code"),
    case("Rename the prefix option", true, Code, Low, "no agent keyword, default code"),
    case("Run the debug build", true, Debug, Medium, "debug keywords: debug"),
    case("The bugle player", true, Code, Low, "no agent keyword"),
    case("Attach the debugger", true, Debug, Medium, "debug keywords: debug"),
    case("fix", true, Debug, Medium, "1 word (< 10); debug keywords: fix"),
    // Token boundaries: inflections do hit.
    case("Too many errors in the log", true, Debug, Medium, "debug keywords: error"),
    case("Fixed the crash on startup", true, Debug, Medium, "debug keywords: fix, crash"),
    case("Debugged the crashes in the parser yesterday", true, Debug, Medium, "debug keywords: debug, crash"),
    case("Investigating the problems", true, Debug, Medium, "debug keywords: problem, investigate"),
    case("Implementation of the parser", true, Code, Medium, "code keywords: implement"),
    case("FIX BUG IN parser!!!", true, Debug, High, "atomic indicator \"fix bug in\"; debug keywords: bug, fix"),
    case("Please fix the bugs in the tokenizer", true, Debug, High, "atomic indicator \"fix bug in\""),
    // Russian word forms.
    case("Исправь ошибку в парсере", true, Debug, High, "debug keywords: ошибка, исправь"),
    case("Исправить ошибки в модуле", true, Debug, High, "atomic indicator \"исправь ошибку\""),
    case("Объясни, что такое замыкание", true, Explain, Medium, "explain keywords: объясни, что такое"),
    case("Расскажи про модуль авторизации", true, Explain, Medium, "explain keywords: расскажи"),
    case("Напиши функцию сортировки", true, Code, Medium, "code keywords: напиши"),
    case("Измени в файле config.yaml порт", true, Code, High, "atomic indicator \"измени в файле\""),
    case("Обнови функцию логина", true, Code, Medium, "atomic indicator \"обнови функцию\""),
    case("Что такое LSP?", true, Explain, Medium, "explain keywords: что такое"),
    case("Найди баги в парсере", true, Debug, Medium, "debug keywords: баг"),
    case("Реализуй систему оплаты", false, Plan, High, "complex indicator \"реализуй систему\""),
    case("Разработай сервис уведомлений", false, Plan, High, "complex indicator \"разработай\""),
    case("Создать приложение для заметок", false, Plan, High, "complex indicator \"создай приложение\""),
    case("Приложение с авторизацией через OAuth", false, Plan, High, "complex indicator \"с авторизацией\""),
    // Precedence: complex beats atomic beats the word count.
    case("Explain the architecture of the system", false, Plan, High, "complex indicator \"architecture\""),
    case(
        "Explain how the scheduler picks the next ready subtask from the queue in detail",
        true,
        Explain,
        High,
        "atomic indicator \"explain\"",
    ),
    case("Build system for plugins", false, Plan, High, "complex indicator \"build system\""),
    case("Implement features across several components", false, Plan, High, "\"implement feature\""),
    case("Changes spanning multiple files", false, Plan, High, "complex indicator \"multiple files\""),
    case("Create a new app for notes", false, Plan, High, "complex indicator \"create app\""),
    case("Refactor class UserManager to use injection", true, Code, High, "atomic indicator \"refactor class\""),
    case("Add method to parse dates", true, Code, High, "atomic indicator \"add method\""),
    case("Change in file settings.json the port", true, Code, High, "atomic indicator \"change in file\""),
    case("What is a monad?", true, Explain, High, "atomic indicator \"what is\""),
    case("How does the scheduler work", true, Explain, High, "atomic indicator \"how does\""),
    case("Why does the build fail?", true, Code, Medium, "atomic indicator \"why\"; no agent keyword, default code"),
    case("Why not working after the upgrade", true, Debug, High, "debug keywords: why not working"),
    case("Describe and explain this", true, Explain, High, "explain keywords: explain, describe"),
    // Ties: code, then debug, then explain.
    case("Add error handling", true, Code, Medium, "code keywords: add; debug keywords: error; tie goes to code"),
    case("Help me with this crash", true, Debug, Medium, "tie goes to debug"),
    case("Add a fix and help", true, Code, Medium, "tie goes to code"),
    case("Fix the error in code", true, Debug, Medium, "code keywords: code; debug keywords: error, fix"),
    // The word-count rule at its boundary.
    case("one two three four five six seven eight nine", true, Code, Low, "9 words (< 10)"),
    case("one two three four five six seven eight nine ten", false, Plan, Low, "10 words (>= 10)"),
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
        assert!(result.reason.ends_with("no agent keyword, default code"), "{word}: {}", result.reason);
    }
}

#[test]
fn full_reasons_read_as_documented() {
    assert_eq!(classify_keywords("Create app and fix bug in login").reason, "complex indicator \"create app\"");
    assert_eq!(
        classify_keywords("fix bug in parser").reason,
        "atomic indicator \"fix bug in\"; debug keywords: bug, fix"
    );
    assert_eq!(
        classify_keywords("Rename the login form").reason,
        "no indicator; 4 words (< 10); no agent keyword, default code"
    );
}

#[test]
fn classification_is_deterministic() {
    for case in CASES {
        assert_eq!(classify_keywords(case.task), classify_keywords(case.task));
    }
}
