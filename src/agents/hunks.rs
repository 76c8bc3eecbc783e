//! Minimal edits: the changed ranges between two texts, as hunks against the old one (a line
//! diff by `similar`, each changed region then narrowed to the characters that differ). What the
//! writer sends the editor instead of a whole-file replacement, so text outside those ranges —
//! a person's unsaved typing included — is never touched. Pure.

use similar::{Algorithm, ChangeTag, TextDiff};

use crate::engine::TextHunk;

/// The hunks that turn `old` into `new`, in order, non-overlapping, against `old`'s bytes.
pub fn minimal_hunks(old: &str, new: &str) -> Vec<TextHunk> {
    if old == new {
        return Vec::new();
    }
    let diff = TextDiff::configure().algorithm(Algorithm::Myers).diff_lines(old, new);
    // Walk the changes in order: equal lines close a region, deleted lines widen its old range,
    // inserted lines add to its new text.
    let mut regions: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut offset = 0;
    let mut open = false;
    for change in diff.iter_all_changes() {
        let line = change.value();
        match change.tag() {
            ChangeTag::Equal => {
                open = false;
                offset += line.len();
            }
            ChangeTag::Delete | ChangeTag::Insert => {
                if !open {
                    regions.push((offset..offset, String::new()));
                    open = true;
                }
                let Some((range, text)) = regions.last_mut() else { continue };
                if change.tag() == ChangeTag::Delete {
                    offset += line.len();
                    range.end = offset;
                } else {
                    text.push_str(line);
                }
            }
        }
    }
    regions.into_iter().map(|(range, text)| narrowed(old, range, &text)).collect()
}

/// One region with its common head and tail (whole characters) cut away.
fn narrowed(old: &str, old_range: std::ops::Range<usize>, new_part: &str) -> TextHunk {
    let old_part = &old[old_range.clone()];
    let head: usize = old_part
        .chars()
        .zip(new_part.chars())
        .take_while(|(a, b)| a == b)
        .map(|(character, _)| character.len_utf8())
        .sum();
    let (old_rest, new_rest) = (&old_part[head..], &new_part[head..]);
    let tail: usize = old_rest
        .chars()
        .rev()
        .zip(new_rest.chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(character, _)| character.len_utf8())
        .sum();
    let start = old_range.start + head;
    let end = old_range.end - tail;
    TextHunk { range: start..end, new_text: new_rest[..new_rest.len() - tail].to_owned() }
}

/// `old` with `hunks` applied (what the editor does with them).
pub fn apply_hunks(old: &str, hunks: &[TextHunk]) -> String {
    let mut text = String::with_capacity(old.len());
    let mut last = 0;
    for hunk in hunks {
        text.push_str(&old[last..hunk.range.start]);
        text.push_str(&hunk.new_text);
        last = hunk.range.end;
    }
    text.push_str(&old[last..]);
    text
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_one_character_change_is_a_one_character_hunk() {
        let hunks = minimal_hunks("fn a() {\n    41\n}\n", "fn a() {\n    42\n}\n");
        assert_eq!(hunks, vec![TextHunk { range: 14..15, new_text: "2".to_owned() }]);
    }

    #[test]
    fn distant_changes_are_separate_hunks_and_the_middle_is_untouched() {
        let old = "one\ntwo\nthree\nfour\nfive\n";
        let new = "ONE\ntwo\nthree\nfour\nfive!\n";
        let hunks = minimal_hunks(old, new);
        assert_eq!(hunks.len(), 2, "{hunks:?}");
        assert!(hunks.iter().all(|hunk| !old[hunk.range.clone()].contains("three")));
        assert_eq!(apply_hunks(old, &hunks), new);
    }

    #[test]
    fn unicode_is_cut_on_character_boundaries() {
        let old = "привет, мир\n";
        let new = "привет, миръ\n";
        let hunks = minimal_hunks(old, new);
        assert_eq!(apply_hunks(old, &hunks), new);
        assert_eq!(minimal_hunks("", "x"), vec![TextHunk { range: 0..0, new_text: "x".to_owned() }]);
        assert_eq!(minimal_hunks("same", "same"), Vec::new());
    }

    proptest! {
        #[test]
        fn applying_the_hunks_gives_the_new_text(
            old in "[ab\n é😀]{0,40}",
            new in "[ab\n é😀]{0,40}",
        ) {
            let hunks = minimal_hunks(&old, &new);
            prop_assert_eq!(apply_hunks(&old, &hunks), new);
            for pair in hunks.windows(2) {
                prop_assert!(pair[0].range.end <= pair[1].range.start);
            }
        }
    }
}
