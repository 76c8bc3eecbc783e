//! File operations checked at the moment of the write: every path is opened relative to the
//! workspace root with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`, so a folder that became a
//! symlink after [`Workspace::resolve_for_write`](super::Workspace::resolve_for_write) checked it
//! (while an approval question was open, say) makes the write fail instead of landing outside.
//!
//! - Writes never go through an existing file: the new content goes to a temporary file in the
//!   same folder, which is then renamed over the old one (mode kept). A hard link inside the
//!   workspace to a file outside it is replaced, never written through.
//! - Reads allow symlinks that stay below the root (`RESOLVE_BENEATH` alone).
//! - A protected directory (`.git`, `.codelab`) in the literal path is refused here too.
//! - On a kernel without `openat2` (before Linux 5.6) each folder is opened with `O_NOFOLLOW`,
//!   one at a time, which refuses every symlink on the way.
//!
//! Blocking system calls: async callers run these on the blocking pool. Used by the workspace
//! writer and (issue 19) rollback; nothing else writes an agent's change.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags, ResolveFlags};
use rustix::io::Errno;

use super::{MAX_FILE_BYTES, Workspace, is_protected};

/// `openat2` resolution for writes: below the root, no symlink anywhere, no `/proc` magic links.
const STRICT: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_SYMLINKS).union(ResolveFlags::NO_MAGICLINKS);
/// For reads: symlinks allowed as long as they stay below the root.
const BELOW: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_MAGICLINKS);
/// `openat2` answers EAGAIN when a rename raced the lookup; it is tried again this many times.
const RACE_RETRIES: usize = 8;

/// Text for a failed operation, naming the race when that is what happened.
pub fn describe(error: &std::io::Error) -> String {
    match error.raw_os_error().map(Errno::from_raw_os_error) {
        Some(Errno::LOOP | Errno::XDEV) => {
            "the path changed since it was checked (a link now stands where a folder was); nothing was written"
                .to_owned()
        }
        Some(Errno::ACCESS | Errno::PERM) => format!("refused: {error}"),
        _ => error.to_string(),
    }
}

fn parts(relative: &str) -> std::io::Result<Vec<&str>> {
    let parts: Vec<&str> = relative.split('/').filter(|part| !part.is_empty() && *part != ".").collect();
    if parts.contains(&"..") {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "`..` in a checked path"));
    }
    Ok(parts)
}

fn protected_refusal(relative: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::PermissionDenied, format!("{relative} is protected"))
}

fn open_root(workspace: &Workspace) -> std::io::Result<OwnedFd> {
    Ok(rustix::fs::open(workspace.root(), OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?)
}

/// Opens `path` below `directory`; `strict` refuses every symlink, otherwise links that stay
/// below are followed.
fn open_below(directory: &OwnedFd, path: &str, flags: OFlags, mode: Mode, strict: bool) -> std::io::Result<OwnedFd> {
    let resolve = if strict { STRICT } else { BELOW };
    let path = if path.is_empty() { "." } else { path };
    for _ in 0..RACE_RETRIES {
        match rustix::fs::openat2(directory, path, flags | OFlags::CLOEXEC, mode, resolve) {
            Err(Errno::AGAIN) => continue,
            Err(Errno::NOSYS) => return open_component_by_component(directory, path, flags, mode),
            other => return Ok(other?),
        }
    }
    Err(std::io::Error::other("the path kept changing while it was opened"))
}

/// The fallback without `openat2`: each folder opened with `O_NOFOLLOW`, the last part too.
fn open_component_by_component(directory: &OwnedFd, path: &str, flags: OFlags, mode: Mode) -> std::io::Result<OwnedFd> {
    let parts = parts(path)?;
    let Some((last, folders)) = parts.split_last() else {
        return Ok(rustix::fs::openat(directory, ".", flags | OFlags::CLOEXEC, mode)?);
    };
    let mut current: Option<OwnedFd> = None;
    for folder in folders {
        let base = current.as_ref().unwrap_or(directory);
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        current = Some(rustix::fs::openat(base, *folder, flags, Mode::empty())?);
    }
    let base = current.as_ref().unwrap_or(directory);
    Ok(rustix::fs::openat(base, *last, flags | OFlags::NOFOLLOW | OFlags::CLOEXEC, mode)?)
}

/// The folder holding `relative` (created with its parents when `create`), and the last part.
fn open_parent<'a>(root: &OwnedFd, relative: &'a str, create: bool) -> std::io::Result<(OwnedFd, &'a str)> {
    let parts = parts(relative)?;
    let Some((name, folders)) = parts.split_last() else {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "the workspace root itself"));
    };
    let directory_flags = OFlags::PATH | OFlags::DIRECTORY;
    if !create {
        return Ok((open_below(root, &folders.join("/"), directory_flags, Mode::empty(), true)?, name));
    }
    let mut current = open_below(root, "", directory_flags, Mode::empty(), true)?;
    for folder in folders {
        match rustix::fs::mkdirat(&current, *folder, Mode::from_raw_mode(0o777)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(error) => return Err(error.into()),
        }
        current = open_below(&current, folder, directory_flags, Mode::empty(), true)?;
    }
    Ok((current, name))
}

/// Reads the file at `relative` (`None` when it does not exist); refuses one over
/// [`MAX_FILE_BYTES`].
pub fn read(workspace: &Workspace, relative: &str) -> std::io::Result<Option<Vec<u8>>> {
    let root = open_root(workspace)?;
    let file = match open_below(&root, relative, OFlags::RDONLY, Mode::empty(), false) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let status = rustix::fs::fstat(&file)?;
    if FileType::from_raw_mode(status.st_mode) == FileType::Directory {
        return Err(std::io::Error::new(std::io::ErrorKind::IsADirectory, format!("{relative} is a directory")));
    }
    if status.st_size as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("{relative} is {} bytes, over the 1 MB limit", status.st_size),
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::from(file).take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// Replaces (or creates) the file at `relative` with `content`, creating its folders: a
/// temporary file in the same folder renamed over the old one, which keeps its mode.
pub fn write(workspace: &Workspace, relative: &str, content: &[u8]) -> std::io::Result<()> {
    if is_protected(relative.split('/')) {
        return Err(protected_refusal(relative));
    }
    let root = open_root(workspace)?;
    let (directory, name) = open_parent(&root, relative, true)?;
    let mode = match rustix::fs::statat(&directory, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(status) if FileType::from_raw_mode(status.st_mode) == FileType::Directory => {
            return Err(std::io::Error::new(std::io::ErrorKind::IsADirectory, format!("{relative} is a directory")));
        }
        Ok(status) if FileType::from_raw_mode(status.st_mode) == FileType::RegularFile => {
            Mode::from_raw_mode(status.st_mode & 0o7777)
        }
        _ => Mode::from_raw_mode(0o644),
    };
    let temporary = temporary_name(name);
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL;
    let file = open_below(&directory, &temporary, flags, mode, true)?;
    let written = (|| {
        rustix::fs::fchmod(&file, mode)?;
        let mut file = std::fs::File::from(file);
        file.write_all(content)?;
        file.flush()?;
        rustix::fs::renameat(&directory, temporary.as_str(), &directory, name)?;
        Ok::<_, std::io::Error>(())
    })();
    if written.is_err() {
        let _ = rustix::fs::unlinkat(&directory, temporary.as_str(), AtFlags::empty());
    }
    written
}

fn temporary_name(name: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let short: String = name.chars().take(64).collect();
    format!(".{short}.codelab-{}-{}.tmp", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst))
}

/// Creates the folder at `relative` and its parents (an existing folder is fine).
pub fn create_dir_all(workspace: &Workspace, relative: &str) -> std::io::Result<()> {
    if is_protected(relative.split('/')) {
        return Err(protected_refusal(relative));
    }
    let root = open_root(workspace)?;
    let (directory, name) = open_parent(&root, relative, true)?;
    match rustix::fs::mkdirat(&directory, name, Mode::from_raw_mode(0o777)) {
        Ok(()) => Ok(()),
        Err(Errno::EXIST) => {
            let status = rustix::fs::statat(&directory, name, AtFlags::SYMLINK_NOFOLLOW)?;
            if FileType::from_raw_mode(status.st_mode) == FileType::Directory {
                Ok(())
            } else {
                Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!("{relative} exists and is not a folder"),
                ))
            }
        }
        Err(error) => Err(error.into()),
    }
}

/// Removes the file, link or empty folder at `relative` (a link itself, never what it points at).
pub fn remove(workspace: &Workspace, relative: &str) -> std::io::Result<()> {
    if is_protected(relative.split('/')) {
        return Err(protected_refusal(relative));
    }
    let root = open_root(workspace)?;
    let (directory, name) = open_parent(&root, relative, false)?;
    let status = rustix::fs::statat(&directory, name, AtFlags::SYMLINK_NOFOLLOW)?;
    let flags = if FileType::from_raw_mode(status.st_mode) == FileType::Directory {
        AtFlags::REMOVEDIR
    } else {
        AtFlags::empty()
    };
    Ok(rustix::fs::unlinkat(&directory, name, flags)?)
}

/// Moves `from` to `to`, which must not exist; `to`'s folders are created.
pub fn rename(workspace: &Workspace, from: &str, to: &str) -> std::io::Result<()> {
    if is_protected(from.split('/')) {
        return Err(protected_refusal(from));
    }
    if is_protected(to.split('/')) {
        return Err(protected_refusal(to));
    }
    let root = open_root(workspace)?;
    let (from_directory, from_name) = open_parent(&root, from, false)?;
    let (to_directory, to_name) = open_parent(&root, to, true)?;
    match rustix::fs::renameat_with(&from_directory, from_name, &to_directory, to_name, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(Errno::EXIST) => {
            Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, format!("{to} already exists")))
        }
        Err(Errno::INVAL | Errno::NOSYS) => {
            // A file system without RENAME_NOREPLACE: check, then rename (both below the root).
            if rustix::fs::statat(&to_directory, to_name, AtFlags::SYMLINK_NOFOLLOW).is_ok() {
                return Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, format!("{to} already exists")));
            }
            Ok(rustix::fs::renameat(&from_directory, from_name, &to_directory, to_name)?)
        }
        Err(error) => Err(error.into()),
    }
}
