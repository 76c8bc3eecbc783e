//! Tests of the confinement: examples, then properties over generated paths (`..` chains,
//! absolute paths, unicode, symlinks that leave, loop or dangle) against a real folder tree, for
//! both the check and the checked-at-write operations.

use std::os::unix::fs::symlink;
use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::*;

/// A workspace with folders, a `.git`, and links: out of it, into it, to `.git`, in a loop, to
/// nothing; and a folder outside it. Returns `(workspace folder, outside folder, confinement)`.
fn fixture() -> (tempfile::TempDir, tempfile::TempDir, Workspace) {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let path = root.path();
    std::fs::create_dir_all(path.join("src/deep")).unwrap();
    std::fs::create_dir_all(path.join(".git/hooks")).unwrap();
    std::fs::create_dir_all(path.join("Документы")).unwrap();
    std::fs::write(path.join("src/lib.rs"), "fn main() {}\n").unwrap();
    std::fs::write(path.join(".git/config"), "[core]\n").unwrap();
    std::fs::write(outside.path().join("secret"), "outside\n").unwrap();
    symlink(outside.path(), path.join("out")).unwrap();
    symlink(path.join("src"), path.join("inside")).unwrap();
    symlink(path.join(".git"), path.join("g")).unwrap();
    symlink(path.join("loop2"), path.join("loop1")).unwrap();
    symlink(path.join("loop1"), path.join("loop2")).unwrap();
    symlink("/nonexistent/target", path.join("dangling")).unwrap();
    let workspace = Workspace::new(path).unwrap();
    (root, outside, workspace)
}

#[test]
fn relative_paths_resolve_inside_the_root() {
    let (_root, _outside, workspace) = fixture();
    let resolved = workspace.resolve("./src/lib.rs").unwrap();
    assert_eq!(resolved.relative, "src/lib.rs");
    assert!(resolved.absolute.starts_with(workspace.root()));
    assert_eq!(workspace.resolve("src/new/deep.rs").unwrap().relative, "src/new/deep.rs");
    let absolute = workspace.root().join("src/lib.rs");
    assert_eq!(workspace.resolve(&absolute.display().to_string()).unwrap().relative, "src/lib.rs");
    assert_eq!(workspace.resolve("inside/lib.rs").unwrap().relative, "src/lib.rs");
}

#[test]
fn parent_components_absolute_paths_and_links_out_are_refused() {
    let (_root, _outside, workspace) = fixture();
    assert!(matches!(workspace.resolve("../etc/passwd"), Err(ConfineError::ParentComponent(_))));
    assert!(matches!(workspace.resolve("src/../../x"), Err(ConfineError::ParentComponent(_))));
    assert!(matches!(workspace.resolve("/etc/passwd"), Err(ConfineError::Absolute(_))));
    assert!(matches!(workspace.resolve("  "), Err(ConfineError::Empty)));
    assert!(matches!(workspace.resolve("out/secret"), Err(ConfineError::Escapes(_))));
    assert!(matches!(workspace.resolve("out/new-file"), Err(ConfineError::Escapes(_))));
    assert!(matches!(workspace.resolve("dangling"), Err(ConfineError::Unresolvable(_))));
    assert!(matches!(workspace.resolve("loop1/x"), Err(ConfineError::Unresolvable(_))));
}

#[test]
fn git_and_codelab_are_never_written_whatever_their_case_or_link() {
    let (_root, _outside, workspace) = fixture();
    for path in [".git/config", ".codelab/planner.db", "g/HEAD", ".", ".GIT/hooks/pre-commit", "src/vendor/.git/x"] {
        assert!(matches!(workspace.resolve_for_write(path), Err(ConfineError::Protected(_))), "{path}");
    }
    assert!(workspace.resolve(".git/config").is_ok());
    assert!(workspace.resolve_for_write(".github/workflows/ci.yml").is_ok());
}

#[test]
fn settings_fold_parent_components_and_stay_strictly_below_the_root() {
    let (root, outside, workspace) = fixture();
    let real_root = root.path().canonicalize().unwrap();
    assert_eq!(
        workspace.resolve_setting(Path::new("state/plans.db")).unwrap().absolute,
        real_root.join("state/plans.db")
    );
    assert!(workspace.resolve_setting(Path::new("a/../b.db")).is_ok());
    assert!(workspace.resolve_setting(Path::new(".codelab/planner.db")).is_ok(), "reading state is not writing");
    assert!(workspace.resolve_setting(Path::new("../escape.db")).is_err());
    assert!(workspace.resolve_setting(&outside.path().join("x.db")).is_err());
    assert!(workspace.resolve_setting(Path::new(".")).is_err(), "the root itself is not a file");
    assert!(workspace.resolve_setting(Path::new("out/escape.db")).is_err());
    assert!(workspace.resolve_setting(Path::new("loop1/x.db")).is_err());
}

#[test]
fn directories_must_exist_inside() {
    let (_root, _outside, workspace) = fixture();
    assert_eq!(workspace.resolve_directory("src/deep").unwrap().relative, "src/deep");
    assert_eq!(workspace.resolve_directory(".").unwrap().relative, "");
    assert!(workspace.resolve_directory("src/lib.rs").is_err());
    assert!(workspace.resolve_directory("missing").is_err());
    assert!(workspace.resolve_directory("out").is_err());
}

#[test]
fn files_over_one_megabyte_are_refused() {
    let (root, _outside, workspace) = fixture();
    std::fs::write(root.path().join("big.bin"), vec![b'x'; (MAX_FILE_BYTES + 1) as usize]).unwrap();
    let big = workspace.resolve("big.bin").unwrap();
    assert!(matches!(workspace.check_size(&big), Err(ConfineError::TooLarge { .. })));
    assert!(beneath::read(&workspace, "big.bin").is_err());
}

#[test]
fn a_folder_swapped_for_a_link_after_the_check_makes_the_write_fail() {
    let (root, outside, workspace) = fixture();
    let checked = workspace.resolve_for_write("src/deep/new.txt").unwrap();
    std::fs::remove_dir_all(root.path().join("src/deep")).unwrap();
    symlink(outside.path(), root.path().join("src/deep")).unwrap();
    let error = beneath::write(&workspace, &checked.relative, b"x").unwrap_err();
    assert!(beneath::describe(&error).contains("the path changed since it was checked"), "{error}");
    assert!(!outside.path().join("new.txt").exists());
    for operation in [
        beneath::create_dir_all(&workspace, "src/deep/dir"),
        beneath::remove(&workspace, "src/deep/secret"),
        beneath::rename(&workspace, "src/lib.rs", "src/deep/moved.rs"),
        beneath::rename(&workspace, "src/deep/secret", "taken.txt"),
    ] {
        assert!(operation.is_err());
    }
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1, "only `secret` is outside");
    assert_eq!(std::fs::read_to_string(outside.path().join("secret")).unwrap(), "outside\n");
}

#[test]
fn a_hard_link_to_a_file_elsewhere_is_replaced_not_written_through() {
    let (root, _outside, workspace) = fixture();
    // Hard links cannot cross file systems, so "elsewhere" is a folder beside the workspace.
    let elsewhere = root.path().join("src/deep/elsewhere.txt");
    std::fs::write(&elsewhere, "keep me\n").unwrap();
    std::fs::hard_link(&elsewhere, root.path().join("linked.txt")).unwrap();
    beneath::write(&workspace, "linked.txt", b"new\n").unwrap();
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "keep me\n");
    assert_eq!(std::fs::read_to_string(root.path().join("linked.txt")).unwrap(), "new\n");
}

#[test]
fn writes_keep_the_mode_and_leave_no_temporary_file() {
    use std::os::unix::fs::PermissionsExt;
    let (root, _outside, workspace) = fixture();
    let script = root.path().join("run.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    beneath::write(&workspace, "run.sh", b"#!/bin/sh\necho hi\n").unwrap();
    assert_eq!(std::fs::metadata(&script).unwrap().permissions().mode() & 0o777, 0o755);
    let names: Vec<String> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into())
        .collect();
    assert!(!names.iter().any(|name| name.ends_with(".tmp")), "{names:?}");
    beneath::write(&workspace, "new/folder/file.txt", b"made\n").unwrap();
    assert_eq!(beneath::read(&workspace, "new/folder/file.txt").unwrap().unwrap(), b"made\n");
    assert!(beneath::write(&workspace, ".git/config", b"x").is_err());
    assert!(beneath::write(&workspace, "src", b"x").is_err(), "a folder is not overwritten");
    beneath::rename(&workspace, "new/folder/file.txt", "moved.txt").unwrap();
    assert!(beneath::rename(&workspace, "run.sh", "moved.txt").is_err(), "a move never overwrites");
    beneath::remove(&workspace, "moved.txt").unwrap();
    assert_eq!(beneath::read(&workspace, "moved.txt").unwrap(), None);
}

/// One generated path: parts drawn from names, `.`, `..`, links, unicode and separators.
fn generated_path() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        Just("src".to_owned()),
        Just("deep".to_owned()),
        Just("lib.rs".to_owned()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just("".to_owned()),
        Just("out".to_owned()),
        Just("inside".to_owned()),
        Just("g".to_owned()),
        Just("loop1".to_owned()),
        Just("dangling".to_owned()),
        Just(".git".to_owned()),
        Just(".Git".to_owned()),
        Just(".codelab".to_owned()),
        Just("Документы".to_owned()),
        "[a-zé日\u{301}]{1,6}",
    ];
    let separator = prop_oneof![4 => Just("/"), 1 => Just("\\"), 1 => Just("//")];
    (prop::option::of(Just("/")), prop::collection::vec((part, separator), 1..6)).prop_map(|(lead, parts)| {
        let mut path = lead.unwrap_or_default().to_owned();
        for (part, separator) in parts {
            path.push_str(&part);
            path.push_str(separator);
        }
        path.trim_end_matches(['/', '\\']).to_owned()
    })
}

fn listing(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = walk(folder).into_iter().map(|path| path.display().to_string()).collect();
    names.sort();
    names
}

fn walk(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}

#[test]
fn generated_paths_resolve_inside_or_are_refused_and_writes_never_leave() {
    let (root, outside, workspace) = fixture();
    let outside_before = listing(outside.path());
    let git_before = listing(&root.path().join(".git"));
    let mut runner = TestRunner::new(Config { cases: 256, failure_persistence: None, ..Config::default() });
    runner
        .run(&generated_path(), |path| {
            let lexical_parent = path.split(['/', '\\']).any(|part| part == "..");
            match workspace.resolve(&path) {
                Ok(resolved) => {
                    prop_assert!(!lexical_parent, "`..` passed: {path}");
                    prop_assert!(resolved.absolute.starts_with(workspace.root()), "{path} -> {resolved:?}");
                    prop_assert_eq!(workspace.relative_of(&resolved.absolute), Some(resolved.relative.clone()));
                    prop_assert!(!resolved.relative.split('/').any(|part| part == ".."));
                }
                Err(error) => prop_assert!(
                    relative_parts(&path).is_err()
                        || path.contains("out")
                        || path.contains("loop1")
                        || path.contains("dangling"),
                    "{path} refused for no reason: {error}"
                ),
            }
            if let Ok(resolved) = workspace.resolve_for_write(&path) {
                prop_assert!(!is_protected(resolved.relative.split('/')), "{path} -> {}", resolved.relative);
                // Writing what passed lands below the root (or fails: a file in the way).
                let _ = beneath::write(&workspace, &resolved.relative, b"generated\n");
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(listing(outside.path()), outside_before, "nothing was written outside");
    assert_eq!(listing(&root.path().join(".git")), git_before, "nothing was written into .git");
}

#[test]
fn generated_dot_dot_chains_never_pass() {
    let (_root, _outside, workspace) = fixture();
    let chain = prop::collection::vec(prop_oneof![Just("..".to_owned()), "[a-z]{1,3}", Just(".".to_owned())], 1..8)
        .prop_filter("has ..", |parts| parts.iter().any(|part| part == ".."))
        .prop_map(|parts| parts.join("/"));
    let mut runner = TestRunner::new(Config { cases: 256, failure_persistence: None, ..Config::default() });
    runner
        .run(&chain, |path| {
            prop_assert!(matches!(workspace.resolve(&path), Err(ConfineError::ParentComponent(_))), "{path}");
            prop_assert!(relative_parts(&path).is_err());
            Ok(())
        })
        .unwrap();
}
