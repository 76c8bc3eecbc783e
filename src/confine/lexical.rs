//! The lexical half of confinement: a path as text, before the file system is asked. No I/O, so
//! the pure layers (`model::validate` for a plan's `cwd`) use it too.
//!
//! A workspace path is relative, uses `/` (a `\` counts as a separator too, so `..\x` cannot slip
//! through), has no `..`, no root, no drive (`C:`), no NUL. `.` and empty parts are dropped.

/// Why a path was refused before the file system was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LexicalError {
    #[error("path is empty")]
    Empty,
    #[error("must not contain NUL")]
    Nul,
    #[error("must be relative to the workspace")]
    Absolute,
    #[error("must stay inside the workspace (no \"..\")")]
    Parent,
}

/// The parts of `path` below the workspace root (`a/./b/` → `["a", "b"]`; `.` → `[]`).
pub fn relative_parts(path: &str) -> Result<Vec<&str>, LexicalError> {
    let path = path.trim();
    if path.is_empty() {
        return Err(LexicalError::Empty);
    }
    if path.contains('\0') {
        return Err(LexicalError::Nul);
    }
    if path.starts_with('/') || path.starts_with('\\') || has_drive(path) {
        return Err(LexicalError::Absolute);
    }
    let mut parts = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return Err(LexicalError::Parent),
            part => parts.push(part),
        }
    }
    Ok(parts)
}

/// `C:`, `c:foo`: a Windows drive, refused everywhere.
fn has_drive(path: &str) -> bool {
    let mut characters = path.chars();
    matches!((characters.next(), characters.next()), (Some(letter), Some(':')) if letter.is_ascii_alphabetic())
}

/// Directories no agent writes into, at any depth: the repository's history (`.git`, which also
/// marks nested repositories and submodules) and the planner's own state (`.codelab`). Compared
/// without regard to ASCII case, as a case-insensitive file system would.
pub const PROTECTED_NAMES: &[&str] = &[".git", ".codelab"];

/// True when one of `parts` is a protected directory name.
pub fn is_protected<'a>(parts: impl IntoIterator<Item = &'a str>) -> bool {
    parts.into_iter().any(|part| PROTECTED_NAMES.iter().any(|name| part.eq_ignore_ascii_case(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_split_and_escapes_are_refused() {
        assert_eq!(relative_parts("a/./b/").unwrap(), ["a", "b"]);
        assert_eq!(relative_parts(".").unwrap(), Vec::<&str>::new());
        assert_eq!(relative_parts("a\\b").unwrap(), ["a", "b"]);
        assert_eq!(relative_parts("../x"), Err(LexicalError::Parent));
        assert_eq!(relative_parts("a\\..\\..\\x"), Err(LexicalError::Parent));
        assert_eq!(relative_parts("/etc"), Err(LexicalError::Absolute));
        assert_eq!(relative_parts("C:\\x"), Err(LexicalError::Absolute));
        assert_eq!(relative_parts("a\0b"), Err(LexicalError::Nul));
        assert_eq!(relative_parts("  "), Err(LexicalError::Empty));
    }

    #[test]
    fn protected_names_ignore_case() {
        assert!(is_protected(["src", ".GIT", "config"]));
        assert!(is_protected([".Codelab"]));
        assert!(is_protected(["vendor", "lib", ".git"]));
        assert!(!is_protected([".github", "workflows"]));
    }
}
