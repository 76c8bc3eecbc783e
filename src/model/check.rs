//! Checks before and after a change: how many tests a runner's output says failed (cargo test,
//! pytest, unittest, go test, jest, vitest — `npm test` prints one of the last two), the result a
//! `baseline` step records ("failing before the change: 1 test"), and the plan's summary that
//! compares each baseline with the final check that runs the same command ("before: 1 failing ·
//! after: all passing").
//!
//! Pure text work: no I/O, no clock.

use super::plan::{Plan, Subtask};
use super::status::{AgentKind, SubtaskStatus};

/// What a check showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    Passing,
    /// `tests`: how many failed, when the runner's output says; else `why` (the exit code, ...).
    Failing {
        tests: Option<u32>,
        why: String,
    },
    NotRun,
}

const BASELINE_PASSING: &str = "all passing before the change";
const BASELINE_FAILING: &str = "failing before the change: ";
const BASELINE_NOT_RUN: &str = "not run before the change";

impl CheckOutcome {
    /// A failed check: the failing tests counted from `output`, else `error`'s first line (also
    /// when the output counts no failing test: the check failed for another reason).
    pub fn failing(error: &str, output: Option<&str>) -> Self {
        let why = error.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("it failed").to_owned();
        Self::Failing { tests: output.and_then(failed_tests).filter(|count| *count > 0), why }
    }

    /// Short words for a summary: "all passing", "1 failing", "failing (exit code 1)", "not run".
    pub fn describe(&self) -> String {
        match self {
            Self::Passing => "all passing".to_owned(),
            Self::Failing { tests: Some(count), .. } => format!("{count} failing"),
            Self::Failing { tests: None, why } => format!("failing ({why})"),
            Self::NotRun => "not run".to_owned(),
        }
    }

    /// The first line of a baseline's result: "all passing before the change", "failing before
    /// the change: 2 tests", "failing before the change: exit code 1".
    pub fn baseline_verdict(&self) -> String {
        match self {
            Self::Passing => BASELINE_PASSING.to_owned(),
            Self::Failing { tests: Some(count), .. } => {
                format!("{BASELINE_FAILING}{count} test{}", if *count == 1 { "" } else { "s" })
            }
            Self::Failing { tests: None, why } => format!("{BASELINE_FAILING}{why}"),
            Self::NotRun => BASELINE_NOT_RUN.to_owned(),
        }
    }

    /// A baseline's result: the verdict, then what the check printed (dependents read it).
    pub fn baseline_result(&self, output: &str) -> String {
        let verdict = self.baseline_verdict();
        if output.trim().is_empty() { verdict } else { format!("{verdict}\n\n{output}") }
    }

    /// Reads back the verdict a baseline recorded with [`CheckOutcome::baseline_result`].
    pub fn of_baseline(subtask: &Subtask) -> Self {
        if subtask.status != SubtaskStatus::Done {
            return Self::NotRun;
        }
        let first_line = subtask.result.as_deref().and_then(|result| result.lines().next()).unwrap_or("");
        if first_line.starts_with(BASELINE_PASSING) {
            return Self::Passing;
        }
        let Some(rest) = first_line.strip_prefix(BASELINE_FAILING) else { return Self::NotRun };
        let tests = rest.strip_suffix(" tests").or_else(|| rest.strip_suffix(" test")).and_then(|n| n.parse().ok());
        Self::Failing { tests, why: rest.to_owned() }
    }

    /// What a final check showed: done → passing; failed → its failing tests; else not run.
    pub fn of_final_check(subtask: &Subtask) -> Self {
        match subtask.status {
            SubtaskStatus::Done => Self::Passing,
            SubtaskStatus::Failed => {
                Self::failing(subtask.error.as_deref().unwrap_or("it failed"), subtask.result.as_deref())
            }
            _ => Self::NotRun,
        }
    }
}

/// The verdict line of a baseline's result ("failing before the change: 1 test"), if `result`
/// is one.
pub fn baseline_verdict(result: &str) -> Option<&str> {
    let first_line = result.lines().next()?;
    let is_verdict = first_line.starts_with(BASELINE_PASSING)
        || first_line.starts_with(BASELINE_FAILING)
        || first_line == BASELINE_NOT_RUN;
    is_verdict.then_some(first_line)
}

/// "before: 1 failing · after: all passing" for each baseline of the plan (prefixed with its
/// `cwd` when there are several), compared with its final check: the last other `shell` step
/// running the same command in the same directory. `None` for a plan without a baseline.
pub fn summary(plan: &Plan) -> Option<String> {
    let baselines: Vec<&Subtask> = plan.subtasks.iter().filter(|subtask| subtask.is_baseline()).collect();
    if baselines.is_empty() {
        return None;
    }
    let parts: Vec<String> = baselines
        .iter()
        .map(|baseline| {
            let before = CheckOutcome::of_baseline(baseline).describe();
            let final_check = plan.subtasks.iter().rev().find(|subtask| {
                !subtask.is_baseline()
                    && subtask.agent == AgentKind::Shell
                    && subtask.command == baseline.command
                    && subtask.cwd == baseline.cwd
            });
            let mut part = format!("before: {before}");
            if let Some(final_check) = final_check {
                part.push_str(&format!(" · after: {}", CheckOutcome::of_final_check(final_check).describe()));
            }
            match (&baseline.cwd, baselines.len()) {
                (Some(cwd), 2..) => format!("{cwd}: {part}"),
                _ => part,
            }
        })
        .collect();
    Some(parts.join("; "))
}

/// How many tests failed, from a test runner's summary lines; `None` when no known summary is
/// there. Several summaries (one per cargo test binary) add up.
pub fn failed_tests(output: &str) -> Option<u32> {
    let mut found: Option<u32> = None;
    let mut add = |count: u32| found = Some(found.unwrap_or(0) + count);
    let mut go_failures = 0;
    for line in output.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("test result: ") {
            // cargo test: "test result: FAILED. 3 passed; 1 failed; 0 ignored; ..."
            add(count_before(rest, "failed").unwrap_or(0));
        } else if let Some(rest) = trimmed.strip_prefix("FAILED (") {
            // unittest: "FAILED (failures=1, errors=2)"
            add(count_after(rest, "failures=").unwrap_or(0) + count_after(rest, "errors=").unwrap_or(0));
        } else if let Some(rest) = trimmed.strip_prefix("Tests:").or_else(|| trimmed.strip_prefix("Tests ")) {
            // jest: "Tests:       1 failed, 2 passed, 3 total"; vitest: "Tests  1 failed | 2 passed (3)"
            if rest.contains("passed") || rest.contains("failed") || rest.contains("total") {
                add(count_before(rest, "failed").unwrap_or(0));
            }
        } else if is_pytest_summary(trimmed) {
            // pytest: "==== 1 failed, 2 passed in 0.12s ====" (or without the rules)
            add(count_before(trimmed, "failed").unwrap_or(0) + count_before(trimmed, "error").unwrap_or(0));
        } else if line.starts_with("--- FAIL: ") {
            // go test: one "--- FAIL: TestName (0.00s)" per failed top-level test
            go_failures += 1;
        }
    }
    if go_failures > 0 {
        add(go_failures);
    }
    found
}

/// pytest's last line: counts followed by " in 0.12s", inside `=` rules or not.
fn is_pytest_summary(line: &str) -> bool {
    let inner = line.trim_matches(|character: char| character == '=' || character.is_whitespace());
    let Some((counts, time)) = inner.rsplit_once(" in ") else { return false };
    let counts_words = ["passed", "failed", "error", "errors", "skipped", "xfailed", "xpassed", "warning", "warnings"];
    time.trim_end().ends_with('s')
        && counts.split(", ").all(|part| {
            part.split_once(' ')
                .is_some_and(|(number, word)| number.parse::<u32>().is_ok() && counts_words.contains(&word.trim()))
        })
}

/// The number just before `word` ("3 passed; 1 failed" → 1 for "failed").
fn count_before(text: &str, word: &str) -> Option<u32> {
    let words: Vec<&str> = text
        .split(|character: char| character.is_whitespace() || matches!(character, ',' | ';' | '|' | '.'))
        .filter(|word| !word.is_empty())
        .collect();
    words.windows(2).find(|pair| pair[1] == word).and_then(|pair| pair[0].parse().ok())
}

/// The number just after `key` ("failures=2" → 2).
fn count_after(text: &str, key: &str) -> Option<u32> {
    let at = text.find(key)? + key.len();
    let digits: String = text[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SubtaskId, SubtaskRole};

    #[test]
    fn failed_tests_are_counted_from_common_runners() {
        let cargo = "running 3 tests\ntest a ... ok\ntest b ... FAILED\n\ntest result: FAILED. 2 passed; 1 failed; \
                     0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n";
        assert_eq!(failed_tests(cargo), Some(1));
        let two_binaries = "test result: FAILED. 0 passed; 2 failed; 0 ignored\ntest result: ok. 4 passed; 0 failed;";
        assert_eq!(failed_tests(two_binaries), Some(2));
        assert_eq!(failed_tests("=========== 1 failed, 2 passed in 0.12s ==========="), Some(1));
        assert_eq!(failed_tests("2 failed, 1 error in 1.03s"), Some(3));
        assert_eq!(failed_tests("Ran 4 tests in 0.001s\n\nFAILED (failures=1, errors=1)"), Some(2));
        assert_eq!(failed_tests("--- FAIL: TestParse (0.00s)\n    --- FAIL: TestParse/empty (0.00s)\nFAIL"), Some(1));
        assert_eq!(failed_tests("Tests:       1 failed, 2 passed, 3 total"), Some(1));
        assert_eq!(failed_tests(" Test Files  1 failed (1)\n      Tests  3 failed | 2 passed (5)"), Some(3));
        assert_eq!(failed_tests("make: *** [test] Error 2"), None);
        assert_eq!(failed_tests("all good in 5 minutes"), None);
    }

    fn shell(id: &str, command: &str, status: SubtaskStatus) -> Subtask {
        let mut subtask = Subtask::new(SubtaskId::from_raw(id), id.to_owned(), AgentKind::Shell);
        subtask.command = Some(command.to_owned());
        subtask.status = status;
        subtask
    }

    #[test]
    fn a_baseline_result_reads_back_and_the_summary_compares_it_with_the_final_check() {
        let failing = CheckOutcome::failing("exit code 101", Some("test result: FAILED. 2 passed; 1 failed;"));
        let result = failing.baseline_result("test result: FAILED. 2 passed; 1 failed;");
        assert!(result.starts_with("failing before the change: 1 test\n\n"), "{result}");
        let mut baseline = shell("s0", "cargo test", SubtaskStatus::Done);
        baseline.role = SubtaskRole::Baseline;
        baseline.result = Some(result);
        assert_eq!(
            CheckOutcome::of_baseline(&baseline),
            CheckOutcome::Failing { tests: Some(1), why: "1 test".into() }
        );
        let lint_after_tests = CheckOutcome::failing("exit code 1", Some("test result: ok. 4 passed; 0 failed;"));
        assert_eq!(lint_after_tests.describe(), "failing (exit code 1)", "no failing test counted: say why");
        let unknown = CheckOutcome::failing("exit code 2: make: *** [test] Error 2", Some("boom"));
        assert_eq!(unknown.baseline_verdict(), "failing before the change: exit code 2: make: *** [test] Error 2");

        let mut plan = Plan::new_draft(
            crate::model::SessionId::from_raw("s"),
            "t".into(),
            "g".into(),
            vec![
                baseline.clone(),
                shell("fix", "sed -i s/a/b/ x", SubtaskStatus::Done),
                shell("s3", "cargo test", SubtaskStatus::Done),
            ],
            crate::model::Timestamp::from_millis(0),
        );
        assert_eq!(summary(&plan).as_deref(), Some("before: 1 failing · after: all passing"));
        plan.subtasks[2].status = SubtaskStatus::Failed;
        plan.subtasks[2].error = Some("exit code 101".into());
        plan.subtasks[2].result = Some("test result: FAILED. 0 passed; 3 failed;".into());
        assert_eq!(summary(&plan).as_deref(), Some("before: 1 failing · after: 3 failing"));
        plan.subtasks[2].result = None;
        assert_eq!(summary(&plan).as_deref(), Some("before: 1 failing · after: failing (exit code 101)"));
        plan.subtasks[0].result = Some(CheckOutcome::Passing.baseline_result(""));
        plan.subtasks[2].status = SubtaskStatus::Skipped;
        assert_eq!(summary(&plan).as_deref(), Some("before: all passing · after: not run"));
        plan.subtasks[0].role = SubtaskRole::Step;
        assert_eq!(summary(&plan), None);
    }
}
