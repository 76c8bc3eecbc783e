//! A small reader of the shared contract's notation, for the drift tests: the field names and
//! quoted values of every `{ a, b?: "x"|"y", c: { d } }` written in backticks, with the object
//! they belong to when the text says (`**Plan** {…}`, a table row of a method, `planning/x {…}`,
//! `→ {…}` after it, `subtaskWaiting {…}`, `Subtask.changes?: {…}`, `SubtaskInput.role?: "baseline"`,
//! `` `Plan.planner`: `"llm"` | `"template"` ``).

/// Who a braced block or a value list belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A `$defs` object by name: `**Classification**`.
    Definition(String),
    /// The params (`false`) or result (`true`) of a method.
    Method(String, bool),
    /// A `planning/progress` event by its kind.
    Event(String),
    /// A property of a definition: `Subtask.changes`.
    Property(String, String),
    /// Nobody the text names: the names must exist somewhere in the schema.
    Anywhere,
}

/// What one backticked block says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub owner: Owner,
    /// Field names at the block's top level.
    pub fields: Vec<String>,
    /// Field names inside nested braces.
    pub nested_fields: Vec<String>,
    /// Quoted strings (enum values).
    pub values: Vec<String>,
}

/// Every block of `text` that names fields or values.
pub fn blocks(text: &str) -> Vec<Block> {
    let spans = spans(text);
    let mut blocks = Vec::new();
    let mut last_method: Option<String> = None;
    let mut property_before: Option<(Owner, usize)> = None;
    for (index, (start, span)) in spans.iter().enumerate() {
        let before = line_before(text, *start);
        if let Some(owner) = property_span(span) {
            let (fields, nested_fields, values) = braced(span);
            blocks.push(Block { owner: owner.clone(), fields, nested_fields, values });
            property_before = Some((owner, start + span.len() + 1));
            continue;
        }
        if let Some((owner, end)) = &property_before {
            let gap = &text[(*end).min(*start - 1)..*start - 1];
            let only_values = span.starts_with('"') && span.ends_with('"') && span.len() >= 2;
            let plain_gap = gap.chars().all(|character| character.is_ascii_lowercase() || " |:\n".contains(character));
            if only_values && plain_gap {
                let value = span.trim_matches('"').to_owned();
                blocks.push(Block {
                    owner: owner.clone(),
                    fields: Vec::new(),
                    nested_fields: Vec::new(),
                    values: vec![value],
                });
                property_before = Some((owner.clone(), start + span.len() + 1));
                continue;
            }
            property_before = None;
        }
        let Some(brace) = span.find('{') else {
            if span.starts_with("planning/") && !span.contains(' ') {
                last_method = Some(span.to_string());
            }
            continue;
        };
        let head = span[..brace].trim();
        let owner = if head.starts_with("planning/") {
            last_method = Some(head.to_owned());
            Owner::Method(head.to_owned(), false)
        } else if head == "$/progress" {
            Owner::Definition("PartialResultParams".to_owned())
        } else if !head.is_empty() && head.chars().all(|character| character.is_ascii_alphanumeric()) {
            Owner::Event(head.to_owned())
        } else if let Some(name) = head.strip_suffix('=').map(str::trim).filter(|name| is_type_name(name)) {
            Owner::Definition(name.to_owned())
        } else if let Some(name) = before.trim_end().strip_suffix("**").and_then(|rest| rest.rsplit("**").next()) {
            Owner::Definition(name.to_owned())
        } else if before.trim_start().starts_with('|') {
            table_owner(before, &spans[..index]).unwrap_or(Owner::Anywhere)
        } else if before.trim_end().ends_with('→') {
            last_method.clone().map_or(Owner::Anywhere, |method| Owner::Method(method, true))
        } else if let Some(method) = before.trim_end().strip_suffix('—').and_then(method_alone) {
            Owner::Method(method, false)
        } else {
            Owner::Anywhere
        };
        let (fields, nested_fields, values) = braced(&span[brace..]);
        blocks.push(Block { owner, fields, nested_fields, values });
    }
    blocks
}

fn is_type_name(text: &str) -> bool {
    text.starts_with(|character: char| character.is_ascii_uppercase())
        && text.chars().all(|character| character.is_ascii_alphanumeric())
}

/// `` - `planning/progress` `` (a line that names a method alone, before a dash).
fn method_alone(before: &str) -> Option<String> {
    let quoted = before.trim().trim_start_matches('-').trim().strip_prefix('`')?.strip_suffix('`')?;
    (quoted.starts_with("planning/") && !quoted.contains(' ')).then(|| quoted.to_owned())
}

/// The backticked spans of `text` with their byte offsets.
fn spans(text: &str) -> Vec<(usize, &str)> {
    let mut spans = Vec::new();
    let mut open = None;
    for (offset, character) in text.char_indices() {
        if character == '`' {
            match open.take() {
                None => open = Some(offset + 1),
                Some(start) => spans.push((start, &text[start..offset])),
            }
        }
    }
    spans
}

/// The text of `text`'s line before `offset` (minus the opening backtick).
fn line_before(text: &str, offset: usize) -> &str {
    let line_start = text[..offset].rfind('\n').map_or(0, |newline| newline + 1);
    &text[line_start..offset.saturating_sub(1)]
}

/// `| \`planning/x\` | \`{params}\` | \`{result}\` |`: the method of the row and which column.
fn table_owner(before: &str, earlier: &[(usize, &str)]) -> Option<Owner> {
    let column = before.matches('|').count() - before.matches("\\|").count();
    let method = earlier.iter().rev().map(|(_, span)| *span).find(|span| span.starts_with("planning/"))?;
    let method = method.split_whitespace().next()?.to_owned();
    match column {
        2 => Some(Owner::Method(method, false)),
        3 => Some(Owner::Method(method, true)),
        _ => None,
    }
}

/// `Name.field`, `Name.field?: …`: a property of a definition.
fn property_span(span: &str) -> Option<Owner> {
    let head = span.split([':', ' ']).next()?.trim_end_matches('?');
    let (name, field) = head.split_once('.')?;
    let is_name = |text: &str| !text.is_empty() && text.chars().all(|character| character.is_ascii_alphanumeric());
    let capitalised = name.starts_with(|character: char| character.is_ascii_uppercase());
    (capitalised && is_name(name) && is_name(field)).then(|| Owner::Property(name.to_owned(), field.to_owned()))
}

/// Fields at depth 1, fields deeper, and quoted values of a `{…}` block (or of a property
/// span's tail).
fn braced(block: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut fields, mut nested, mut values) = (Vec::new(), Vec::new(), Vec::new());
    let characters: Vec<char> = block.chars().collect();
    let mut depth = 0_usize;
    let mut key_position = false;
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        match character {
            '{' => {
                depth += 1;
                key_position = true;
            }
            '}' => depth = depth.saturating_sub(1),
            '[' | ']' => key_position = false,
            ',' => key_position = depth > 0,
            '"' => {
                let end = characters[index + 1..]
                    .iter()
                    .position(|next| *next == '"')
                    .map_or(characters.len(), |at| index + 1 + at);
                values.push(characters[index + 1..end.min(characters.len())].iter().collect());
                index = end;
                key_position = false;
            }
            character if character.is_whitespace() => {}
            character if key_position && (character.is_ascii_alphabetic() || character == '_') => {
                let end = characters[index..]
                    .iter()
                    .position(|next| !(next.is_ascii_alphanumeric() || *next == '_'))
                    .map_or(characters.len(), |at| index + at);
                let name: String = characters[index..end].iter().collect();
                let after = characters[end..].iter().find(|next| !next.is_whitespace() && **next != '?');
                if matches!(after, Some(':' | ',' | '}')) {
                    if depth == 1 { fields.push(name) } else { nested.push(name) }
                }
                index = end;
                key_position = false;
                continue;
            }
            _ => key_position = false,
        }
        index += 1;
    }
    (fields, nested, values)
}

#[test]
fn the_reader_finds_owners_fields_and_values() {
    let text = "**Session** `{ id, state }` — x\n\
        | `planning/list` | `{ sessionId?, limit?: number (default 50, max 500) }` | `{ plans: PlanSummary[], nextCursor?: string }` |\n\
        - request `planning/next { planId }` → `{ ready: Subtask[] }` — y\n\
        `subtaskWaiting { subtaskId, message }` and `Subtask.changes?: { files, added }`, `Plan.planner`: `\"llm\"` | `\"user\"`.\n\
        `mode?: \"auto\"\\|\"plan\"` `{ a: [{ b, c: \"x\"|\"y\" }] }`\n\
        `Entry = { at }` and\n- `planning/progress` — `{ planId }`";
    let found = blocks(text);
    let summary: Vec<(Owner, Vec<&str>, Vec<&str>)> = found
        .iter()
        .map(|block| {
            let names = block.fields.iter().chain(&block.nested_fields).map(String::as_str).collect();
            (block.owner.clone(), names, block.values.iter().map(String::as_str).collect())
        })
        .collect();
    let method = |name: &str, result| Owner::Method(name.to_owned(), result);
    assert_eq!(
        summary,
        vec![
            (Owner::Definition("Session".into()), vec!["id", "state"], vec![]),
            (method("planning/list", false), vec!["sessionId", "limit"], vec![]),
            (method("planning/list", true), vec!["plans", "nextCursor"], vec![]),
            (method("planning/next", false), vec!["planId"], vec![]),
            (method("planning/next", true), vec!["ready"], vec![]),
            (Owner::Event("subtaskWaiting".into()), vec!["subtaskId", "message"], vec![]),
            (Owner::Property("Subtask".into(), "changes".into()), vec!["files", "added"], vec![]),
            (Owner::Property("Plan".into(), "planner".into()), vec![], vec![]),
            (Owner::Property("Plan".into(), "planner".into()), vec![], vec!["llm"]),
            (Owner::Property("Plan".into(), "planner".into()), vec![], vec!["user"]),
            (Owner::Anywhere, vec!["a", "b", "c"], vec!["x", "y"]),
            (Owner::Definition("Entry".into()), vec!["at"], vec![]),
            (method("planning/progress", false), vec!["planId"], vec![]),
        ]
    );
}
