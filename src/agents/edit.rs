//! Search-and-replace edits, as a pure function over text: `edit_file`'s core.
//!
//! Each block's `search` must match exactly once — exactly first, then (only if there is no
//! exact match) line by line after normalising whitespace at line ends and Unicode quotes and
//! dashes. No match, or several, is an error that shows the nearest lines, never "the first
//! match". Every block is validated before anything is applied, so a failed edit changes
//! nothing. Whole-file rewrites are `write_file`'s business, not this module's.

/// One search/replace block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    pub search: String,
    pub replace: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("edits[{index}].search is empty")]
    EmptySearch { index: usize },
    #[error("edits[{index}].search was not found; the nearest lines are:\n{nearest}")]
    NoMatch { index: usize, nearest: String },
    #[error("edits[{index}].search matches {count} places (lines {lines}); add surrounding lines to make it unique")]
    Ambiguous { index: usize, count: usize, lines: String },
}

/// Applies every block in order, each to the result of the previous one; all or nothing.
pub fn apply_replacements(content: &str, replacements: &[Replacement]) -> Result<String, EditError> {
    let mut text = content.to_owned();
    for (index, replacement) in replacements.iter().enumerate() {
        if replacement.search.is_empty() {
            return Err(EditError::EmptySearch { index });
        }
        let (start, end) = locate(&text, &replacement.search, index)?;
        text.replace_range(start..end, &replacement.replace);
    }
    Ok(text)
}

/// The byte range `search` occupies in `text`: one exact match, else one normalised match.
fn locate(text: &str, search: &str, index: usize) -> Result<(usize, usize), EditError> {
    let exact: Vec<usize> = text.match_indices(search).map(|(start, _)| start).collect();
    match exact.len() {
        1 => return Ok((exact[0], exact[0] + search.len())),
        0 => {}
        count => {
            let lines = exact.iter().map(|&start| line_number(text, start).to_string()).collect::<Vec<_>>();
            return Err(EditError::Ambiguous { index, count, lines: lines.join(", ") });
        }
    }
    let fuzzy = normalised_matches(text, search);
    match fuzzy.len() {
        1 => Ok(fuzzy[0]),
        0 => Err(EditError::NoMatch { index, nearest: nearest_lines(text, search) }),
        count => {
            let lines = fuzzy.iter().map(|&(start, _)| line_number(text, start).to_string()).collect::<Vec<_>>();
            Err(EditError::Ambiguous { index, count, lines: lines.join(", ") })
        }
    }
}

fn line_number(text: &str, byte: usize) -> usize {
    text[..byte].matches('\n').count() + 1
}

/// Trailing whitespace dropped, Unicode quotes and dashes folded to ASCII.
fn normalise(line: &str) -> String {
    line.trim_end()
        .chars()
        .map(|character| match character {
            '\u{2018}' | '\u{2019}' | '\u{201B}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201F}' => '"',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            '\u{00A0}' => ' ',
            other => other,
        })
        .collect()
}

/// Byte ranges of whole-line windows of `text` that equal `search`'s lines after normalising.
fn normalised_matches(text: &str, search: &str) -> Vec<(usize, usize)> {
    let wanted: Vec<String> = search.trim_end_matches('\n').split('\n').map(normalise).collect();
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        starts.push((offset, line));
        offset += line.len();
    }
    let mut found = Vec::new();
    if wanted.is_empty() || starts.len() < wanted.len() {
        return found;
    }
    for first in 0..=starts.len() - wanted.len() {
        let window = &starts[first..first + wanted.len()];
        if window.iter().zip(&wanted).all(|((_, line), want)| normalise(line.trim_end_matches('\n')) == *want) {
            let (start, _) = window[0];
            let (last_start, last_line) = window[window.len() - 1];
            let end = last_start + last_line.trim_end_matches('\n').len();
            let end = if search.ends_with('\n') && last_line.ends_with('\n') { end + 1 } else { end };
            found.push((start, end));
        }
    }
    found
}

/// Up to five numbered lines around the line most similar to `search`'s first non-blank line.
fn nearest_lines(text: &str, search: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return "(the file is empty)".to_owned();
    }
    let probe = search.lines().find(|line| !line.trim().is_empty()).unwrap_or_default().trim();
    let best = (0..lines.len()).max_by_key(|&number| similarity(lines[number].trim(), probe)).unwrap_or(0);
    let first = best.saturating_sub(2);
    let last = (best + 3).min(lines.len());
    (first..last).map(|number| format!("{:>5} | {}", number + 1, lines[number])).collect::<Vec<_>>().join("\n")
}

/// Shared characters in order (a cheap longest-common-subsequence proxy on bytes).
fn similarity(line: &str, probe: &str) -> usize {
    let (line, probe) = (line.as_bytes(), probe.as_bytes());
    if line.is_empty() || probe.is_empty() {
        return 0;
    }
    let mut previous = vec![0usize; probe.len() + 1];
    for &byte in line.iter().take(400) {
        let mut current = vec![0usize; probe.len() + 1];
        for (column, &wanted) in probe.iter().take(400).enumerate() {
            current[column + 1] =
                if byte == wanted { previous[column] + 1 } else { current[column].max(previous[column + 1]) };
        }
        previous = current;
    }
    previous.into_iter().max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(search: &str, replace: &str) -> Replacement {
        Replacement { search: search.to_owned(), replace: replace.to_owned() }
    }

    #[test]
    fn an_exact_unique_match_is_replaced() {
        let text = "fn a() {}\nfn b() {}\n";
        assert_eq!(apply_replacements(text, &[block("fn b() {}", "fn c() {}")]).unwrap(), "fn a() {}\nfn c() {}\n");
    }

    #[test]
    fn blocks_apply_in_order_and_all_or_nothing() {
        let text = "one\ntwo\n";
        let result = apply_replacements(text, &[block("one", "uno"), block("uno\ntwo", "uno\ndos")]).unwrap();
        assert_eq!(result, "uno\ndos\n");
        let failed = apply_replacements(text, &[block("one", "uno"), block("three", "tres")]);
        assert!(matches!(failed, Err(EditError::NoMatch { index: 1, .. })));
    }

    #[test]
    fn several_matches_are_an_error_naming_the_lines() {
        let error = apply_replacements("x = 1\ny = 2\nx = 1\n", &[block("x = 1", "x = 3")]).unwrap_err();
        assert_eq!(error, EditError::Ambiguous { index: 0, count: 2, lines: "1, 3".to_owned() });
    }

    #[test]
    fn no_match_shows_the_nearest_lines() {
        let text = "fn main() {\n    println!(\"hello\");\n}\n";
        let error = apply_replacements(text, &[block("    println!(\"helo\");", "")]).unwrap_err();
        let EditError::NoMatch { nearest, .. } = error else { panic!("{error:?}") };
        assert!(nearest.contains("    2 |     println!(\"hello\");"), "{nearest}");
    }

    #[test]
    fn trailing_spaces_and_unicode_quotes_match_after_normalising() {
        let text = "let s = \"a\";   \nlet t = 1;\n";
        let result =
            apply_replacements(text, &[block("let s = \u{201C}a\u{201D};\nlet t = 1;", "let s = 2;")]).unwrap();
        assert_eq!(result, "let s = 2;\n");
    }

    #[test]
    fn an_empty_search_is_refused() {
        assert_eq!(apply_replacements("x", &[block("", "y")]), Err(EditError::EmptySearch { index: 0 }));
    }
}
