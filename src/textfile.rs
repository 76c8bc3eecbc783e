//! Reading a text file someone named (a plan file, a settings file) as bad input is read: only a
//! regular file, at most a size limit, within a timeout, UTF-8 or an error at the first bad
//! byte's line and column. It never blocks on a FIFO (opened non-blocking, then refused by
//! `fstat`) and never reads a device to its end. It is not a general file API: agents' reads go
//! through `confine`.

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

/// How long reading one file may take (a hung network mount, a stuck device).
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a file could not be read as text. Messages are short, lowercase, and never quote the
/// file's content.
#[derive(Debug, thiserror::Error)]
pub enum TextFileError {
    #[error("no such file")]
    NotFound,
    #[error("is a directory, not a file")]
    Directory,
    #[error("is {0}, not a regular file")]
    NotRegular(&'static str),
    #[error("is larger than {} KiB", .limit / 1024)]
    TooLarge { limit: u64 },
    #[error("is not UTF-8 text (line {line}, column {column})")]
    NotUtf8 { line: usize, column: usize },
    #[error("took longer than {} s to read", .0.as_secs())]
    TimedOut(Duration),
    #[error("cannot be read: {0}")]
    Io(std::io::Error),
}

impl TextFileError {
    /// The 1-based line and column of the problem, when it has one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            Self::NotUtf8 { line, column } => Some((*line, *column)),
            _ => None,
        }
    }
}

/// Reads `path` as UTF-8 text of at most `limit` bytes, on the blocking pool, within
/// [`READ_TIMEOUT`].
pub async fn read_text(path: &Path, limit: u64) -> Result<String, TextFileError> {
    let owned = path.to_path_buf();
    let reading = tokio::task::spawn_blocking(move || read_text_blocking(&owned, limit));
    match tokio::time::timeout(READ_TIMEOUT, reading).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(TextFileError::Io(std::io::Error::other(join.to_string()))),
        Err(_) => Err(TextFileError::TimedOut(READ_TIMEOUT)),
    }
}

/// [`read_text`] without the timeout, for callers already on a blocking thread.
pub fn read_text_blocking(path: &Path, limit: u64) -> Result<String, TextFileError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits() | nix::fcntl::OFlag::O_NOCTTY.bits())
        .open(path)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => TextFileError::NotFound,
            std::io::ErrorKind::IsADirectory => TextFileError::Directory,
            _ => TextFileError::Io(error),
        })?;
    let kind = file.metadata().map_err(TextFileError::Io)?.file_type();
    if kind.is_dir() {
        return Err(TextFileError::Directory);
    }
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else {
            "a special file"
        };
        return Err(TextFileError::NotRegular(what));
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(TextFileError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(TextFileError::TooLarge { limit });
    }
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let valid = std::str::from_utf8(valid).unwrap_or_default();
        let line = valid.matches('\n').count() + 1;
        let line_start = valid.rfind('\n').map_or(0, |index| index + 1);
        TextFileError::NotUtf8 { line, column: valid[line_start..].chars().count() + 1 }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_utf8_files_are_read_and_everything_else_is_named() {
        let folder = tempfile::tempdir().unwrap();
        let good = folder.path().join("good.txt");
        std::fs::write(&good, "héllo\n").unwrap();
        assert_eq!(read_text_blocking(&good, 64).unwrap(), "héllo\n");
        assert!(matches!(read_text_blocking(&folder.path().join("none"), 64), Err(TextFileError::NotFound)));
        assert!(matches!(read_text_blocking(folder.path(), 64), Err(TextFileError::Directory)));
        assert!(matches!(read_text_blocking(&good, 3), Err(TextFileError::TooLarge { limit: 3 })));
        let latin1 = folder.path().join("latin1.txt");
        std::fs::write(&latin1, b"ok\nab\xe9c\n").unwrap();
        let error = read_text_blocking(&latin1, 64).unwrap_err();
        assert_eq!(error.position(), Some((2, 3)), "{error}");
        let fifo = folder.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let refused = read_text_blocking(&fifo, 64).unwrap_err();
        assert_eq!(refused.to_string(), "is a FIFO, not a regular file");
    }
}
