//! The tools that change the workspace: `write_file`, `edit_file`, `create_directory`,
//! `delete_file`, `move_file`. Each resolves its paths through the confinement first, then asks the
//! approval policy, then goes through the one workspace writer. `edit_file` refuses a stale edit
//! (the file changed since this agent last read or wrote it) and returns a short diff; every
//! result says where the change went when that was the editor's buffer.

use super::specs::{EditArgs, MoveArgs, PathArgs, WriteArgs};
use super::{Stop, ToolEnv, ToolState, approve, unless_cancelled};
use crate::agents::approval::Action;
use crate::agents::ask::approve_change;
use crate::agents::edit::{Replacement, apply_replacements};
use crate::agents::writer::{ChangeTarget, Current, Modified};
use crate::confine::InsidePath;

/// Lines of diff shown to the model at most.
const MAX_DIFF_LINES: usize = 40;

/// Files other than Markdown are refused to the architect role.
fn check_role_may_write(env: &ToolEnv, path: &InsidePath) -> Result<(), Stop> {
    if env.role == super::Role::Architect && !path.relative.ends_with(".md") {
        return Err(Stop::Tool(format!("the architect writes only Markdown files, not {}", path.relative)));
    }
    Ok(())
}

fn label(env: &ToolEnv, verb: &str, path: &InsidePath) -> String {
    format!("{}: {verb} {}", env.agent, path.relative)
}

pub(super) async fn write_file(env: &ToolEnv, state: &mut ToolState, arguments: WriteArgs) -> Result<String, Stop> {
    let path = env.workspace.resolve_for_write(&arguments.path)?;
    check_role_may_write(env, &path)?;
    if path.absolute.is_dir() {
        return Err(Stop::Tool(format!("{} is a directory", path.relative)));
    }
    let content = arguments.content;
    let action = Action::Write { path: path.relative.clone() };
    approve_change(env, action, &path, |_| Ok(Some(content.clone()))).await?;
    let seen = state.seen.get(&path.relative).cloned();
    let relative = path.relative.clone();
    // Replacing a buffer with unsaved changes the agent has not read would discard them.
    let transform = |current: Current<'_>| -> Result<String, Stop> {
        if current.unsaved && seen.as_deref() != current.text {
            return Err(Stop::Tool(format!(
                "{relative} is open in the editor with unsaved changes you have not read; read it, then write or edit it"
            )));
        }
        Ok(content.clone())
    };
    let label = label(env, "write", &path);
    let writing = env.writer.modify(env.write_context(&label), &path, transform);
    let modified = unless_cancelled(env, writing).await???;
    state.seen.insert(path.relative.clone(), modified.after.clone());
    let lines = modified.after.lines().count();
    let verb = if modified.before.is_none() { "created" } else { "replaced" };
    Ok(format!("{verb} {} ({lines} lines){}", path.relative, where_it_went(&modified)))
}

pub(super) async fn edit_file(env: &ToolEnv, state: &mut ToolState, arguments: EditArgs) -> Result<String, Stop> {
    let path = env.workspace.resolve_for_write(&arguments.path)?;
    check_role_may_write(env, &path)?;
    env.workspace.check_size(&path)?;
    if arguments.edits.is_empty() {
        return Err(Stop::Tool("edits is empty".to_owned()));
    }
    let replacements: Vec<Replacement> =
        arguments.edits.into_iter().map(|block| Replacement { search: block.search, replace: block.replace }).collect();
    // The question shows the edit as it would apply now; an edit that cannot apply is not asked.
    let propose = |current: Option<&str>| {
        let text = current
            .ok_or_else(|| Stop::Tool(format!("{} does not exist; create it with write_file", path.relative)))?;
        apply_replacements(text, &replacements).map(Some).map_err(|error| Stop::Tool(error.to_string()))
    };
    approve_change(env, Action::Write { path: path.relative.clone() }, &path, propose).await?;
    let seen = state.seen.get(&path.relative).cloned();
    let relative = path.relative.clone();
    let transform = |current: Current<'_>| -> Result<String, Stop> {
        let Some(text) = current.text else {
            return Err(Stop::Tool(format!("{relative} does not exist; create it with write_file")));
        };
        // After the person's typing made the first try stale, the blocks are applied to their
        // text once more: that is the point of search-and-replace.
        if !current.after_conflict && seen.as_deref().is_some_and(|seen| seen != text) {
            return Err(Stop::Tool(format!(
                "{relative} changed since you last read it (another step or the person edited it); read it again, then edit"
            )));
        }
        apply_replacements(text, &replacements).map_err(|error| {
            let again = if current.after_conflict { " (after the person's typing in the editor)" } else { "" };
            Stop::Tool(format!("{error}{again}"))
        })
    };
    let label = label(env, "edit", &path);
    let editing = env.writer.modify(env.write_context(&label), &path, transform);
    let modified = unless_cancelled(env, editing).await???;
    state.seen.insert(path.relative.clone(), modified.after.clone());
    let diff = short_diff(modified.before.as_deref().unwrap_or_default(), &modified.after);
    Ok(format!("edited {}{}\n{diff}", path.relative, where_it_went(&modified)))
}

/// Where the change went, for the model: nothing for the disk, the editor's buffer otherwise.
fn where_it_went(modified: &Modified) -> String {
    match modified.target {
        None => " (no change: the content was already so)".to_owned(),
        Some(ChangeTarget::Disk) => String::new(),
        Some(ChangeTarget::Buffer { saved_too: true, .. }) => " (in the editor's open buffer and on disk)".to_owned(),
        Some(ChangeTarget::Buffer { saved_too: false, .. }) => {
            " (in the editor's buffer only: the file is open with the person's unsaved changes, so the disk is \
             unchanged until they save it; commands see the saved file)"
                .to_owned()
        }
    }
}

pub(super) async fn create_directory(env: &ToolEnv, arguments: PathArgs) -> Result<String, Stop> {
    let path = env.workspace.resolve_for_write(&arguments.path)?;
    if path.absolute.is_dir() {
        return Ok(format!("{} already exists", path.relative));
    }
    approve(env, Action::CreateDirectory { path: path.relative.clone() }).await?;
    let label = label(env, "create", &path);
    env.writer.create_directory(env.write_context(&label), &path).await?;
    Ok(format!("created directory {}", path.relative))
}

pub(super) async fn delete_file(env: &ToolEnv, arguments: PathArgs) -> Result<String, Stop> {
    let path = env.workspace.resolve_for_write(&arguments.path)?;
    if path.absolute.symlink_metadata().is_err() {
        return Err(Stop::Tool(format!("{} does not exist", path.relative)));
    }
    if path.absolute.is_dir() {
        approve(env, Action::Delete { path: path.relative.clone() }).await?;
    } else {
        approve_change(env, Action::Delete { path: path.relative.clone() }, &path, |_| Ok(None)).await?;
    }
    let label = label(env, "delete", &path);
    env.writer.delete(env.write_context(&label), &path).await?;
    Ok(format!("deleted {}", path.relative))
}

pub(super) async fn move_file(env: &ToolEnv, arguments: MoveArgs) -> Result<String, Stop> {
    let from = env.workspace.resolve_for_write(&arguments.source)?;
    let to = env.workspace.resolve_for_write(&arguments.destination)?;
    check_role_may_write(env, &to)?;
    if from.absolute.symlink_metadata().is_err() {
        return Err(Stop::Tool(format!("{} does not exist", from.relative)));
    }
    approve(env, Action::Move { from: from.relative.clone(), to: to.relative.clone() }).await?;
    let label = label(env, "move", &from);
    env.writer.rename(env.write_context(&label), &from, &to).await?;
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
