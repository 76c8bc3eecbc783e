//! What a shell command line can reach: the approval policy's view of `execute_command`.
//!
//! The line is lexed (`lexer`: chaining, quoting, substitutions, redirections), wrappers are
//! looked through (`env`, `sudo`, `nohup`, `timeout`, `xargs`, `sh -c` / `bash -c` / `eval`,
//! nested to any depth), `$HOME`, `~` and `$PWD` are expanded, `cd` is followed, and each
//! command's write targets are judged against the workspace. The verdict is the worst one:
//!
//! - [`Reach::Refused`]: destroys the machine or the person's files (`rm -rf /`, `dd of=/dev/sda`,
//!   a fork bomb, `chmod -R 777 /`, `sudo`): refused whatever the settings say.
//! - [`Reach::Risky`]: cannot be confined to the workspace by a file sandbox (`git push --force`,
//!   `curl … | sh`, `git reset --hard`): always asked.
//! - [`Reach::Outside`]: writes outside the workspace or into `.git/` / `.codelab/`, or where it
//!   writes is only known at run time: asked unless the command sandbox confines it.
//! - [`Reach::Inside`]: nothing above.
//!
//! A heuristic over text, not a proof: the sandbox (`crate::agents::sandbox`) is what confines
//! commands where the kernel offers Landlock; this is what keeps `auto` safe where it does not.
//! Pure: no I/O (the caller passes the folders).

mod lexer;
mod programs;

use std::path::{Component, Path, PathBuf};

use lexer::{Line, SimpleCommand, Word, lex};

/// Where a command line runs, for judging its paths.
#[derive(Debug, Clone, Copy)]
pub struct Surroundings<'a> {
    pub workspace_root: &'a Path,
    /// Where the command starts.
    pub cwd: &'a Path,
    pub home: Option<&'a Path>,
    pub temporary: &'a Path,
}

/// The verdict on a command line, worst first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    Refused(String),
    Risky(String),
    Outside(String),
    Inside,
}

impl Reach {
    fn rank(&self) -> u8 {
        match self {
            Reach::Refused(_) => 0,
            Reach::Risky(_) => 1,
            Reach::Outside(_) => 2,
            Reach::Inside => 3,
        }
    }

    fn worst(self, other: Reach) -> Reach {
        if other.rank() < self.rank() { other } else { self }
    }
}

/// How deep `sh -c` / `eval` / substitutions are followed; deeper is refused as unreadable.
const MAX_NESTING: usize = 8;

/// Judges `line` run in `surroundings`.
pub fn assess(line: &str, surroundings: &Surroundings<'_>) -> Reach {
    if is_fork_bomb(line) {
        return Reach::Refused("is a fork bomb".to_owned());
    }
    let mut cwd = Some(surroundings.cwd.to_path_buf());
    assess_line(line, surroundings, &mut cwd, 0)
}

fn assess_line(line: &str, surroundings: &Surroundings<'_>, cwd: &mut Option<PathBuf>, depth: usize) -> Reach {
    if depth > MAX_NESTING {
        return Reach::Outside("nests commands too deeply to read".to_owned());
    }
    let Line { commands, substitutions } = lex(line);
    let mut verdict = Reach::Inside;
    for substitution in &substitutions {
        verdict = verdict.worst(assess_line(substitution, surroundings, &mut cwd.clone(), depth + 1));
    }
    for (index, command) in commands.iter().enumerate() {
        let previous = index.checked_sub(1).map(|previous| &commands[previous]);
        let judged = assess_command(command, previous, surroundings, cwd, depth);
        verdict = verdict.worst(judged);
    }
    verdict
}

/// A word's value, if it can be known before running: `~`, `$HOME`, `${HOME}` and `$PWD`
/// expanded; any other expansion makes it unknown.
fn expand(word: &Word, surroundings: &Surroundings<'_>, cwd: &Option<PathBuf>) -> Option<String> {
    if word.substituted {
        return None;
    }
    if word.literal {
        return Some(word.text.clone());
    }
    let home = surroundings.home.map(|home| home.display().to_string());
    let mut text = word.text.clone();
    if text == "~" || text.starts_with("~/") {
        text = format!("{}{}", home.clone()?, &text[1..]);
    }
    for (variable, value) in [("HOME", home), ("PWD", cwd.as_ref().map(|cwd| cwd.display().to_string()))] {
        for spelled in [format!("${{{variable}}}"), format!("${variable}")] {
            if text.contains(&spelled) {
                text = text.replace(&spelled, &value.clone()?);
            }
        }
    }
    if text.contains('$') {
        return None;
    }
    Some(text)
}

/// A path a command writes, resolved lexically against `cwd` (globs cut to their folder).
fn target_path(text: &str, cwd: &Option<PathBuf>) -> Option<PathBuf> {
    let cut = match text.find(['*', '?', '[']) {
        Some(glob) => text[..glob].rfind('/').map_or("", |slash| &text[..=slash]),
        None => text,
    };
    let joined = if cut.starts_with('/') { PathBuf::from(cut) } else { cwd.as_ref()?.join(cut) };
    let mut folded = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                folded.pop();
            }
            Component::CurDir => {}
            other => folded.push(other),
        }
    }
    Some(folded)
}

/// What writing (or deleting) `path` means.
fn judge_target(path: &Path, surroundings: &Surroundings<'_>, recursive_destruction: bool) -> Reach {
    let shown = path.display().to_string();
    if recursive_destruction && is_precious(path, surroundings) {
        return Reach::Refused(format!("destroys {shown}, outside the workspace"));
    }
    if path.starts_with("/dev") {
        return match path.to_str() {
            Some("/dev/null" | "/dev/zero" | "/dev/stdout" | "/dev/stderr" | "/dev/tty") => Reach::Inside,
            Some(device) if device.starts_with("/dev/fd/") => Reach::Inside,
            _ => Reach::Refused(format!("writes to the device {shown}")),
        };
    }
    if let Ok(below) = path.strip_prefix(surroundings.workspace_root) {
        let parts: Vec<String> =
            below.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
        if crate::confine::is_protected(parts.iter().map(String::as_str)) {
            return Reach::Outside(format!("writes into {shown} (`.git/` and `.codelab/` are protected)"));
        }
        return Reach::Inside;
    }
    if path.starts_with(surroundings.temporary) {
        return Reach::Inside;
    }
    Reach::Outside(format!("writes outside the workspace ({shown})"))
}

/// `/`, a folder directly below it, the home folder or one above it, or a folder holding the
/// workspace: what a recursive delete or `chmod -R` must never reach.
fn is_precious(path: &Path, surroundings: &Surroundings<'_>) -> bool {
    let depth = path.components().count();
    depth <= 2
        || surroundings.home.is_some_and(|home| home.starts_with(path))
        || (surroundings.workspace_root.starts_with(path) && path != surroundings.workspace_root)
}

fn assess_command(
    command: &SimpleCommand,
    previous: Option<&SimpleCommand>,
    surroundings: &Surroundings<'_>,
    cwd: &mut Option<PathBuf>,
    depth: usize,
) -> Reach {
    let mut verdict = Reach::Inside;
    for target in &command.redirect_targets {
        verdict = verdict.worst(match expand(target, surroundings, cwd).and_then(|text| target_path(&text, cwd)) {
            Some(path) => judge_target(&path, surroundings, false),
            None => Reach::Outside("redirects output to a file named at run time".to_owned()),
        });
    }
    let words: Vec<Option<String>> = command.words.iter().map(|word| expand(word, surroundings, cwd)).collect();
    let invocation = programs::unwrap(&words);
    let program = match invocation.program() {
        Ok(program) => program,
        Err(programs::Unknown) => {
            return verdict.worst(Reach::Outside("runs a command whose name is known only at run time".to_owned()));
        }
    };
    if let Some(refused) = invocation.refusal() {
        return Reach::Refused(refused);
    }
    if let Some(nested) = invocation.nested_line() {
        return verdict.worst(assess_line(&nested, surroundings, cwd, depth + 1));
    }
    if program == "cd" {
        *cwd = match invocation.arguments().first() {
            None => surroundings.home.map(Path::to_path_buf),
            Some(Some(target)) if target != "-" => target_path(target, cwd),
            Some(_) => None,
        };
        return verdict;
    }
    let piped_from = previous.filter(|_| command.piped).and_then(|previous| {
        let words: Vec<Option<String>> = previous.words.iter().map(|word| expand(word, surroundings, cwd)).collect();
        programs::unwrap(&words).program().ok()
    });
    if let Some(risk) = programs::risk(&program, &invocation, piped_from.as_deref()) {
        verdict = verdict.worst(Reach::Risky(risk));
    }
    let writes = programs::writes(&program, &invocation);
    for target in writes.targets {
        verdict = verdict.worst(match target.and_then(|text| target_path(&text, cwd)) {
            Some(path) => judge_target(&path, surroundings, writes.recursive_destruction),
            None => Reach::Outside(format!("`{program}` works on files named only at run time")),
        });
    }
    if let Some(outside) = writes.outside {
        verdict = verdict.worst(Reach::Outside(outside));
    }
    verdict
}

/// `:(){ :|:& };:` and its spellings: a function that pipes itself into itself in the background.
fn is_fork_bomb(line: &str) -> bool {
    let compact: String = line.chars().filter(|character| !character.is_whitespace()).collect();
    let Some(open) = compact.find("(){") else { return false };
    let name = compact[..open].rsplit([';', '&', '|', '\n']).next().unwrap_or_default();
    let name = name.strip_prefix("function").unwrap_or(name);
    !name.is_empty() && compact[open..].contains(&format!("{name}|{name}&"))
}

#[cfg(test)]
mod tests;
