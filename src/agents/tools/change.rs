//! The tools that change the workspace: `write_file`, `edit_file`, `create_directory`,
//! `delete_file`, `move_file`. Each resolves its paths through the sandbox first, then asks the
//! approval policy, then goes through the one workspace writer. `edit_file` refuses a stale edit
//! (the file changed since this agent last read or wrote it) and returns a short diff.

use super::specs::{EditArgs, MoveArgs, PathArgs, WriteArgs};
use super::{Stop, ToolEnv, ToolState, approve, unless_cancelled};
use crate::agents::approval::Action;
use crate::agents::edit::{Replacement, apply_replacements};
use crate::agents::sandbox::SandboxPath;

/// Lines of diff shown to the model at most.
const MAX_DIFF_LINES: usize = 40;

/// Files other than Markdown are refused to the architect role.
fn check_role_may_write(env: &ToolEnv, path: &SandboxPath) -> Result<(), Stop> {
    if env.role == super::Role::Architect && !path.relative.ends_with(".md") {
        return Err(Stop::Tool(format!("the architect writes only Markdown files, not {}", path.relative)));
    }
    Ok(())
}

fn label(env: &ToolEnv, verb: &str, path: &SandboxPath) -> String {
    format!("{}: {verb} {}", env.agent, path.relative)
}

pub(super) async fn write_file(env: &ToolEnv, state: &mut ToolState, arguments: WriteArgs) -> Result<String, Stop> {
    let path = env.sandbox.resolve_for_write(&arguments.path)?;
    check_role_may_write(env, &path)?;
    if path.absolute.is_dir() {
        return Err(Stop::Tool(format!("{} is a directory", path.relative)));
    }
    approve(env, Action::Write { path: path.relative.clone() }).await?;
    let editor = env.io.editor.as_deref();
    let content = arguments.content;
    let written = content.clone();
    let label = label(env, "write", &path);
    let writing = env.writer.modify(editor, &path, &label, |_| Ok::<_, Stop>(content));
    let (old, _) = unless_cancelled(env, writing).await???;
    state.seen.insert(path.relative.clone(), written.clone());
    let lines = written.lines().count();
    Ok(match old {
        None => format!("created {} ({lines} lines)", path.relative),
        Some(_) => format!("replaced {} ({lines} lines)", path.relative),
    })
}

pub(super) async fn edit_file(env: &ToolEnv, state: &mut ToolState, arguments: EditArgs) -> Result<String, Stop> {
    let path = env.sandbox.resolve_for_write(&arguments.path)?;
    check_role_may_write(env, &path)?;
    env.sandbox.check_size(&path)?;
    if arguments.edits.is_empty() {
        return Err(Stop::Tool("edits is empty".to_owned()));
    }
    approve(env, Action::Write { path: path.relative.clone() }).await?;
    let replacements: Vec<Replacement> =
        arguments.edits.into_iter().map(|block| Replacement { search: block.search, replace: block.replace }).collect();
    let seen = state.seen.get(&path.relative).cloned();
    let relative = path.relative.clone();
    let transform = |current: Option<String>| -> Result<String, Stop> {
        let Some(current) = current else {
            return Err(Stop::Tool(format!("{relative} does not exist; create it with write_file")));
        };
        if seen.as_ref().is_some_and(|seen| *seen != current) {
            return Err(Stop::Tool(format!(
                "{relative} changed since you last read it (another step edited it); read it again, then edit"
            )));
        }
        apply_replacements(&current, &replacements).map_err(|error| Stop::Tool(error.to_string()))
    };
    let editor = env.io.editor.as_deref();
    let label = label(env, "edit", &path);
    let editing = env.writer.modify(editor, &path, &label, transform);
    let (old, new) = unless_cancelled(env, editing).await???;
    state.seen.insert(path.relative.clone(), new.clone());
    Ok(format!("edited {}\n{}", path.relative, short_diff(old.as_deref().unwrap_or_default(), &new)))
}

pub(super) async fn create_directory(env: &ToolEnv, arguments: PathArgs) -> Result<String, Stop> {
    let path = env.sandbox.resolve_for_write(&arguments.path)?;
    if path.absolute.is_dir() {
        return Ok(format!("{} already exists", path.relative));
    }
    approve(env, Action::CreateDirectory { path: path.relative.clone() }).await?;
    env.writer.create_directory(&path).await?;
    Ok(format!("created directory {}", path.relative))
}

pub(super) async fn delete_file(env: &ToolEnv, arguments: PathArgs) -> Result<String, Stop> {
    let path = env.sandbox.resolve_for_write(&arguments.path)?;
    if path.absolute.symlink_metadata().is_err() {
        return Err(Stop::Tool(format!("{} does not exist", path.relative)));
    }
    approve(env, Action::Delete { path: path.relative.clone() }).await?;
    env.writer.delete(&path).await?;
    Ok(format!("deleted {}", path.relative))
}

pub(super) async fn move_file(env: &ToolEnv, arguments: MoveArgs) -> Result<String, Stop> {
    let from = env.sandbox.resolve_for_write(&arguments.source)?;
    let to = env.sandbox.resolve_for_write(&arguments.destination)?;
    check_role_may_write(env, &to)?;
    if from.absolute.symlink_metadata().is_err() {
        return Err(Stop::Tool(format!("{} does not exist", from.relative)));
    }
    approve(env, Action::Move { from: from.relative.clone(), to: to.relative.clone() }).await?;
    env.writer.rename(&from, &to).await?;
    Ok(format!("moved {} to {}", from.relative, to.relative))
}

/// A minimal line diff: the changed region with `-`/`+` lines, bounded.
fn short_diff(old: &str, new: &str) -> String {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let common_head = old_lines.iter().zip(&new_lines).take_while(|(a, b)| a == b).count();
    let common_tail = old_lines[common_head..]
        .iter()
        .rev()
        .zip(new_lines[common_head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let removed = &old_lines[common_head..old_lines.len() - common_tail];
    let added = &new_lines[common_head..new_lines.len() - common_tail];
    let mut diff = vec![format!("@@ line {} @@", common_head + 1)];
    diff.extend(removed.iter().map(|line| format!("-{line}")));
    diff.extend(added.iter().map(|line| format!("+{line}")));
    if diff.len() > MAX_DIFF_LINES {
        let omitted = diff.len() - MAX_DIFF_LINES;
        diff.truncate(MAX_DIFF_LINES);
        diff.push(format!("[… {omitted} more diff lines …]"));
    }
    diff.join("\n")
}

#[cfg(test)]
mod tests {
    use super::short_diff;

    #[test]
    fn the_diff_shows_only_the_changed_region() {
        let diff = short_diff("a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(diff, "@@ line 2 @@\n-b\n+B");
    }
}
