//! What the LLM planner is told about the workspace, gathered once and bounded: the detected
//! languages and build/test commands, a file tree (at most [`MAX_TREE_ENTRIES`] paths, three levels,
//! no hidden, build or dependency folders), the README's head, and the files the client named in
//! `context.files` (each cut to [`MAX_FILE_CHARS`], only inside the workspace).
//!
//! File-system reads only (call it off the async workers); nothing is written, nothing is run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::detect::{WorkspaceFacts, detect_workspace};

pub const MAX_TREE_ENTRIES: usize = 150;
pub const MAX_TREE_DEPTH: usize = 3;
pub const MAX_README_CHARS: usize = 1_500;
pub const MAX_FILES: usize = 8;
pub const MAX_FILE_CHARS: usize = 4_000;

/// Folders never listed: version control, build output, dependencies, caches.
const SKIPPED_FOLDERS: &[&str] =
    &["target", "node_modules", "dist", "build", "out", "__pycache__", "venv", "vendor", "coverage"];

/// A file the client named, as the prompt shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextFile {
    pub path: String,
    /// The head of the file, or why it is not shown.
    pub text: String,
}

/// Everything about the workspace that goes into a planning prompt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanningContext {
    pub facts: WorkspaceFacts,
    pub languages: Vec<String>,
    /// Relative paths, folders ending in `/`.
    pub file_tree: Vec<String>,
    /// True when the tree was cut at [`MAX_TREE_ENTRIES`].
    pub tree_truncated: bool,
    pub readme_head: Option<String>,
    pub files: Vec<ContextFile>,
}

/// Reads what a planner needs from `root` (blocking I/O).
pub fn gather_context(root: &Path, files: &[String]) -> PlanningContext {
    let facts = detect_workspace(root);
    let (file_tree, tree_truncated) = file_tree(root);
    PlanningContext {
        languages: languages(root, &file_tree),
        facts,
        file_tree,
        tree_truncated,
        readme_head: readme_head(root),
        files: files.iter().take(MAX_FILES).map(|path| context_file(root, path)).collect(),
    }
}

fn file_tree(root: &Path) -> (Vec<String>, bool) {
    let mut entries = Vec::new();
    let mut queue: std::collections::VecDeque<(PathBuf, usize)> = [(root.to_path_buf(), 0)].into();
    while let Some((folder, depth)) = queue.pop_front() {
        let Ok(listing) = std::fs::read_dir(&folder) else { continue };
        let mut children: Vec<_> = listing.flatten().collect();
        children.sort_by_key(|entry| entry.file_name());
        for entry in children {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || SKIPPED_FOLDERS.contains(&name.as_str()) {
                continue;
            }
            if entries.len() >= MAX_TREE_ENTRIES {
                return (entries, true);
            }
            let path = entry.path();
            let relative = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
            // `file_type` does not follow symbolic links, so a link never leads the walk outside.
            let is_folder = entry.file_type().is_ok_and(|kind| kind.is_dir());
            if is_folder {
                entries.push(format!("{relative}/"));
                if depth + 1 < MAX_TREE_DEPTH {
                    queue.push_back((path, depth + 1));
                }
            } else {
                entries.push(relative);
            }
        }
    }
    (entries, false)
}

fn languages(root: &Path, tree: &[String]) -> Vec<String> {
    let mut found = BTreeSet::new();
    let markers = [
        ("Cargo.toml", "Rust"),
        ("package.json", "JavaScript/TypeScript"),
        ("pyproject.toml", "Python"),
        ("setup.py", "Python"),
        ("requirements.txt", "Python"),
        ("go.mod", "Go"),
        ("pom.xml", "Java"),
        ("build.gradle", "Java/Kotlin"),
        ("CMakeLists.txt", "C/C++"),
    ];
    for (marker, language) in markers {
        if root.join(marker).is_file() {
            found.insert(language);
        }
    }
    let extensions = [
        ("rs", "Rust"),
        ("py", "Python"),
        ("ts", "JavaScript/TypeScript"),
        ("js", "JavaScript/TypeScript"),
        ("go", "Go"),
        ("java", "Java"),
        ("c", "C/C++"),
        ("cpp", "C/C++"),
        ("lua", "Lua"),
        ("rb", "Ruby"),
    ];
    for path in tree {
        if let Some(extension) = Path::new(path).extension().and_then(|extension| extension.to_str())
            && let Some((_, language)) = extensions.iter().find(|(known, _)| *known == extension)
        {
            found.insert(language);
        }
    }
    found.into_iter().map(str::to_owned).collect()
}

fn readme_head(root: &Path) -> Option<String> {
    ["README.md", "README", "README.txt", "readme.md", "README.rst"]
        .iter()
        .find_map(|name| read_head(&root.join(name), MAX_README_CHARS).ok())
        .filter(|text| !text.trim().is_empty())
}

fn context_file(root: &Path, path: &str) -> ContextFile {
    let text = match inside_workspace(root, path) {
        Some(resolved) => match read_head(&resolved, MAX_FILE_CHARS) {
            Ok(text) => text,
            Err(error) => format!("(not readable: {error})"),
        },
        None => "(not shown: outside the workspace or missing)".to_owned(),
    };
    ContextFile { path: path.to_owned(), text }
}

/// The canonical path of `path` (relative to `root`, or absolute) when it exists inside `root`
/// (the one confinement decides).
fn inside_workspace(root: &Path, path: &str) -> Option<PathBuf> {
    let workspace = crate::confine::Workspace::new(root).ok()?;
    let inside = workspace.resolve_setting(Path::new(path)).ok()?;
    inside.absolute.exists().then_some(inside.absolute)
}

/// At most `max_chars` characters from the start of a file (read at most 4 bytes a character).
fn read_head(path: &Path, max_chars: usize) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take((max_chars * 4) as u64).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut head: String = text.chars().take(max_chars).collect();
    if head.len() < text.len() {
        head.push_str("\n[… cut …]");
    }
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_is_bounded_and_stays_inside_the_workspace() {
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path();
        std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        std::fs::write(root.join("README.md"), "# X\n".repeat(1_000)).unwrap();
        std::fs::create_dir_all(root.join("src/deep/deeper/deepest")).unwrap();
        std::fs::create_dir_all(root.join("target/debug")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        for index in 0..200 {
            std::fs::write(root.join(format!("src/file{index:03}.rs")), "fn main() {}").unwrap();
        }
        let context = gather_context(root, &["src/file000.rs".into(), "../etc/passwd".into(), "/etc/hostname".into()]);
        assert_eq!(context.languages, vec!["Rust".to_owned()]);
        assert_eq!(context.file_tree.len(), MAX_TREE_ENTRIES);
        assert!(context.tree_truncated);
        assert!(context.file_tree.iter().all(|path| !path.starts_with("target") && !path.starts_with(".git")));
        assert!(context.readme_head.unwrap().chars().count() <= MAX_README_CHARS + 20);
        assert_eq!(context.files[0].text, "fn main() {}");
        assert!(context.files[1].text.contains("outside the workspace"));
        assert!(context.files[2].text.contains("outside the workspace"));
        assert!(context.facts.commands.iter().any(|command| command.command.starts_with("cargo")));
    }
}
