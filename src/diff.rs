//! Line diffs for people: the unified diff of a file's change (`planning/changes`, the approval
//! question for a write) and its line counts (`+3 −1 README.md`), by `similar`.
//!
//! A diff of two very different large texts is bounded by a deadline (then it is coarser, never
//! wrong) and a shown diff by a number of lines. No I/O.

use std::time::Duration;

use similar::{Algorithm, ChangeTag, TextDiff};

/// How long one diff may search for a minimal result.
const DIFF_DEADLINE: Duration = Duration::from_millis(250);
/// Lines of context around each change.
const CONTEXT_LINES: usize = 3;

fn line_diff<'a>(before: &'a str, after: &'a str) -> TextDiff<'a, 'a, 'a, str> {
    TextDiff::configure().algorithm(Algorithm::Myers).timeout(DIFF_DEADLINE).diff_lines(before, after)
}

/// Lines added and removed from `before` to `after` (an absent side is empty).
pub fn line_counts(before: Option<&str>, after: Option<&str>) -> (u64, u64) {
    let (before, after) = (before.unwrap_or_default(), after.unwrap_or_default());
    if before == after {
        return (0, 0);
    }
    let diff = line_diff(before, after);
    diff.iter_all_changes().fold((0, 0), |(added, removed), change| match change.tag() {
        ChangeTag::Insert => (added + 1, removed),
        ChangeTag::Delete => (added, removed + 1),
        ChangeTag::Equal => (added, removed),
    })
}

/// The two paths of a diff's header and whether each side exists.
#[derive(Debug, Clone, Copy)]
pub struct DiffSides<'a> {
    pub before_path: &'a str,
    pub after_path: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// A unified diff (`--- a/path`, `+++ b/path`, `@@` hunks with three lines of context; an absent
/// side is `/dev/null`), cut after `max_lines` lines with a line saying how many were left out.
pub fn unified_diff(sides: DiffSides<'_>, max_lines: usize) -> String {
    let header_before = if sides.before.is_some() { format!("a/{}", sides.before_path) } else { "/dev/null".into() };
    let header_after = if sides.after.is_some() { format!("b/{}", sides.after_path) } else { "/dev/null".into() };
    let (before, after) = (sides.before.unwrap_or_default(), sides.after.unwrap_or_default());
    let diff = line_diff(before, after);
    let body = diff.unified_diff().context_radius(CONTEXT_LINES).header(&header_before, &header_after).to_string();
    let body = if body.is_empty() { format!("--- {header_before}\n+++ {header_after}\n") } else { body };
    bounded_lines(&body, max_lines)
}

fn bounded_lines(text: &str, max_lines: usize) -> String {
    let total = text.lines().count();
    if total <= max_lines {
        return text.to_owned();
    }
    let mut kept: String = text.lines().take(max_lines).flat_map(|line| [line, "\n"]).collect();
    kept.push_str(&format!("[… {} more diff lines …]\n", total - max_lines));
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_modification_is_a_unified_diff_with_context() {
        let sides = DiffSides {
            before_path: "README.md",
            after_path: "README.md",
            before: Some("# Title\nold line\nend\n"),
            after: Some("# Title\nnew line\nend\n"),
        };
        assert_eq!(
            unified_diff(sides, 100),
            "--- a/README.md\n+++ b/README.md\n@@ -1,3 +1,3 @@\n # Title\n-old line\n+new line\n end\n"
        );
        assert_eq!(line_counts(sides.before, sides.after), (1, 1));
    }

    #[test]
    fn an_added_file_comes_from_dev_null_and_a_long_diff_is_cut() {
        let sides = DiffSides { before_path: "new.txt", after_path: "new.txt", before: None, after: Some("a\nb\n") };
        assert_eq!(unified_diff(sides, 100), "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n");
        assert_eq!(line_counts(None, Some("a\nb\n")), (2, 0));
        let long: String = (0..50).map(|number| format!("{number}\n")).collect();
        let cut = unified_diff(DiffSides { after: Some(&long), ..sides }, 10);
        assert_eq!(cut.lines().count(), 11);
        assert!(cut.ends_with("[… 43 more diff lines …]\n"), "{cut}");
    }
}
