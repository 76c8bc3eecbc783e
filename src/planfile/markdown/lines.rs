//! The block structure of a markdown task list, line by line: headings, list items (with their
//! checkbox), fenced code, and the other lines — with the front matter, HTML comments and the
//! inside of fences that are not under a list item kept out. Not a CommonMark parser: what task
//! lists are written with, with every byte range kept.

use super::super::Span;

/// One block-level line (or fenced block) of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Block<'a> {
    Blank,
    Heading {
        level: usize,
        text: &'a str,
        span: Span,
    },
    Item(Item<'a>),
    /// A fenced code block: its info string and its body.
    Fence {
        indent: usize,
        info: &'a str,
        body: &'a str,
        line_span: Span,
    },
    /// Any other non-blank line.
    Text {
        indent: usize,
        text: &'a str,
        span: Span,
        line_span: Span,
    },
}

/// A list item's first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Item<'a> {
    /// Columns before the list marker.
    pub indent: usize,
    pub checkbox: Option<Checkbox>,
    /// The text after the marker (and the checkbox), trimmed.
    pub text: &'a str,
    pub text_span: Span,
    /// From the marker to the end of the line.
    pub span: Span,
    pub line_span: Span,
}

/// `[ ]`, `[x]`, `[X]`, Kiro's `[-]` (in progress), `[~]`, `[/]`; `[ ]*` is Kiro's optional task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Checkbox {
    pub mark: char,
    /// The character between the brackets.
    pub mark_span: Span,
    pub optional: bool,
    /// `[]`, `[  ]` or an unknown mark: read as not ticked, reported.
    pub malformed: Option<String>,
}

impl Checkbox {
    pub fn checked(&self) -> bool {
        matches!(self.mark, 'x' | 'X')
    }
}

/// Splits `text` into blocks, skipping YAML/TOML front matter and HTML comments.
pub(super) fn blocks(text: &str) -> Vec<Block<'_>> {
    let lines = lines_of(text);
    let mut blocks = Vec::with_capacity(lines.len());
    let mut index = front_matter_end(&lines);
    while index < lines.len() {
        let (start, line) = lines[index];
        index += 1;
        let line_span = start..start + line.len();
        let indent = indent_of(line);
        let rest = line.trim_start();
        if rest.is_empty() {
            blocks.push(Block::Blank);
            continue;
        }
        if rest.starts_with("<!--") {
            index = comment_end(&lines, index - 1);
            continue;
        }
        if let Some((fence, info)) = fence_opening(rest) {
            let body_start = lines.get(index).map_or(text.len(), |(offset, _)| *offset);
            let mut close = index;
            while close < lines.len() && !closes(lines[close].1.trim_start(), fence) {
                close += 1;
            }
            let body_end = lines.get(close).map_or(text.len(), |(offset, _)| *offset);
            let end = lines.get(close).map_or(text.len(), |(offset, line)| offset + line.len());
            let body = text[body_start..body_end.max(body_start)].trim_end_matches(['\n', '\r']);
            blocks.push(Block::Fence { indent, info: info.trim(), body, line_span: start..end });
            index = close + 1;
            continue;
        }
        if indent < 4
            && let Some(heading) = heading(rest, start + (line.len() - rest.len()))
        {
            blocks.push(heading);
            continue;
        }
        let rest_start = start + (line.len() - rest.len());
        match list_item(rest, rest_start) {
            Some((checkbox, text_offset)) => {
                let item_text = rest[text_offset..].trim_end();
                let text_start = rest_start + text_offset;
                blocks.push(Block::Item(Item {
                    indent,
                    checkbox,
                    text: item_text,
                    text_span: text_start..text_start + item_text.len(),
                    span: rest_start..line_span.end,
                    line_span,
                }));
            }
            None => {
                let trimmed = rest.trim_end();
                blocks.push(Block::Text {
                    indent,
                    text: trimmed,
                    span: rest_start..rest_start + trimmed.len(),
                    line_span,
                });
            }
        }
    }
    blocks
}

/// Each line with the offset it starts at, without its `\n` (and `\r`).
fn lines_of(text: &str) -> Vec<(usize, &str)> {
    let mut lines = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let content = line.strip_suffix('\n').unwrap_or(line);
        let content = content.strip_suffix('\r').unwrap_or(content);
        lines.push((start, content));
        start += line.len();
    }
    lines
}

/// Columns of leading whitespace (a tab counts to the next multiple of 4).
pub(super) fn indent_of(line: &str) -> usize {
    let mut columns = 0;
    for character in line.chars() {
        match character {
            ' ' => columns += 1,
            '\t' => columns += 4 - columns % 4,
            _ => break,
        }
    }
    columns
}

/// The first line after a `---` … `---` (YAML) or `+++` … `+++` (TOML) block that opens the text.
fn front_matter_end(lines: &[(usize, &str)]) -> usize {
    let Some((_, first)) = lines.first() else { return 0 };
    let delimiter = match first.trim_end() {
        "---" => "---",
        "+++" => "+++",
        _ => return 0,
    };
    match lines.iter().skip(1).position(|(_, line)| line.trim_end() == delimiter) {
        Some(position) => position + 2,
        None => 0,
    }
}

/// The line after the one that closes the comment opened on line `from`.
fn comment_end(lines: &[(usize, &str)], from: usize) -> usize {
    let mut index = from;
    let mut first = true;
    while index < lines.len() {
        let line = lines[index].1;
        let searched = if first { line.find("<!--").map_or(line, |at| &line[at + 4..]) } else { line };
        first = false;
        index += 1;
        if searched.contains("-->") {
            return index;
        }
    }
    index
}

/// "```sh" / "~~~": the fence (its character and length) and the info string.
fn fence_opening(rest: &str) -> Option<((char, usize), &str)> {
    let character = rest.chars().next().filter(|character| *character == '`' || *character == '~')?;
    let count = rest.chars().take_while(|found| *found == character).count();
    if count < 3 {
        return None;
    }
    let info = &rest[count..];
    if character == '`' && info.contains('`') {
        return None;
    }
    Some(((character, count), info))
}

fn closes(rest: &str, (character, count): (char, usize)) -> bool {
    let run = rest.chars().take_while(|found| *found == character).count();
    run >= count && rest[run * character.len_utf8()..].trim().is_empty()
}

/// `## Phase 1: Setup` (ATX; closing `#`s dropped).
fn heading(rest: &str, rest_start: usize) -> Option<Block<'_>> {
    let level = rest.chars().take_while(|character| *character == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let after = &rest[level..];
    if !after.is_empty() && !after.starts_with([' ', '\t']) {
        return None;
    }
    let text = after.trim();
    let text = text.trim_end_matches('#').trim_end();
    let text_start = rest_start + level + (after.len() - after.trim_start().len());
    Some(Block::Heading { level, text, span: text_start..text_start + text.len() })
}

/// A list marker (`-`, `*`, `+`, `1.`, `1)`) and what follows it: the checkbox, and where the
/// text starts (relative to `rest`).
fn list_item(rest: &str, rest_start: usize) -> Option<(Option<Checkbox>, usize)> {
    let marker_len = match rest.as_bytes().first()? {
        b'-' | b'*' | b'+' => 1,
        b'0'..=b'9' => {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            match rest.as_bytes().get(digits) {
                Some(b'.' | b')') if digits <= 9 => digits + 1,
                _ => return None,
            }
        }
        _ => return None,
    };
    let after_marker = &rest[marker_len..];
    if !after_marker.is_empty() && !after_marker.starts_with([' ', '\t']) {
        return None;
    }
    if rest.starts_with("---") || rest.starts_with("***") {
        return None; // a thematic break, not an item
    }
    let content_offset = marker_len + (after_marker.len() - after_marker.trim_start().len());
    let content = &rest[content_offset..];
    match checkbox(content, rest_start + content_offset) {
        Some((checkbox, length)) => {
            let after = &content[length..];
            let text_offset = content_offset + length + (after.len() - after.trim_start().len());
            Some((Some(checkbox), text_offset))
        }
        None => Some((None, content_offset)),
    }
}

/// `[ ]`, `[x]`, … at the start of an item's content, followed by a space or the end: the
/// checkbox and its length. `[P]` and other letters are labels, not checkboxes.
fn checkbox(content: &str, content_start: usize) -> Option<(Checkbox, usize)> {
    let inner = content.strip_prefix('[')?;
    let close = inner.find(']')?;
    let mark_text = &inner[..close];
    let mut length = close + 2;
    let optional = content[length..].starts_with('*');
    if optional {
        length += 1;
    }
    let followed_well = content[length..].is_empty() || content[length..].starts_with([' ', '\t']);
    if !followed_well {
        return None;
    }
    let mut characters = mark_text.chars();
    let (mark, malformed) = match (characters.next(), characters.next()) {
        (Some(mark @ (' ' | 'x' | 'X' | '-' | '~' | '/')), None) => (mark, None),
        (Some(letter), None) if letter.is_alphanumeric() => return None,
        (None, _) => (' ', Some("an empty checkbox `[]`: write `[ ]`".to_owned())),
        _ if mark_text.trim().is_empty() && mark_text.len() <= 3 => {
            (' ', Some(format!("a checkbox with {} spaces: write `[ ]`", mark_text.len())))
        }
        (Some(other), None) => (
            ' ',
            Some(format!("unknown checkbox mark `{other}` (expected `[ ]`, `[x]`, `[X]` or `[-]`); read as not done")),
        ),
        _ => return None,
    };
    let mark_start = content_start + 1;
    Some((Checkbox { mark, mark_span: mark_start..mark_start + mark_text.len(), optional, malformed }, length))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item<'a>(block: &Block<'a>) -> Item<'a> {
        match block {
            Block::Item(item) => item.clone(),
            other => panic!("not an item: {other:?}"),
        }
    }

    #[test]
    fn items_keep_their_checkbox_and_text() {
        let text = "# Tasks\n\n- [ ] T001 [P] Do it\n  - [X] 2.1 Nested\n* plain\n1. [ ]* 3. optional\n";
        let blocks = blocks(text);
        assert_eq!(blocks[0], Block::Heading { level: 1, text: "Tasks", span: 2..7 });
        let first = item(&blocks[2]);
        assert_eq!((first.indent, first.text), (0, "T001 [P] Do it"));
        let mark = first.checkbox.as_ref().unwrap();
        assert_eq!((mark.mark, &text[mark.mark_span.clone()]), (' ', " "));
        let nested = item(&blocks[3]);
        assert_eq!((nested.indent, nested.text, nested.checkbox.unwrap().checked()), (2, "2.1 Nested", true));
        assert_eq!(item(&blocks[4]).checkbox, None);
        let optional = item(&blocks[5]);
        assert!(optional.checkbox.unwrap().optional);
        assert_eq!(optional.text, "3. optional");
    }

    #[test]
    fn labels_are_not_checkboxes_and_bad_marks_are_named() {
        let blocks = blocks("- [P] parallel\n- [] empty\n- [?] what\n- [link](x)\n");
        assert_eq!(item(&blocks[0]).checkbox, None);
        assert!(item(&blocks[1]).checkbox.unwrap().malformed.unwrap().contains("empty checkbox"));
        assert!(item(&blocks[2]).checkbox.unwrap().malformed.unwrap().contains("unknown checkbox mark `?`"));
        assert_eq!(item(&blocks[3]).checkbox, None);
    }

    #[test]
    fn front_matter_comments_and_fences_are_kept_out() {
        let text = "---\ndescription: x\n---\n<!--\n- [ ] hidden\n-->\n```bash\n- [ ] in code\n```\n- [ ] seen\n";
        let blocks = blocks(text);
        let items: Vec<&str> = blocks
            .iter()
            .filter_map(|block| match block {
                Block::Item(item) => Some(item.text),
                _ => None,
            })
            .collect();
        assert_eq!(items, vec!["seen"]);
        assert!(matches!(blocks[0], Block::Fence { info: "bash", body: "- [ ] in code", .. }));
    }

    #[test]
    fn crlf_lines_and_tabs() {
        let text = "- [x] one\r\n\t- [ ] two\r\n";
        let blocks = blocks(text);
        assert_eq!(item(&blocks[0]).text, "one");
        let two = item(&blocks[1]);
        assert_eq!((two.indent, two.text), (4, "two"));
    }
}
