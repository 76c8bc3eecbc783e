//! Commands simple enough to run without a shell, as GNU make does: plain words (letters,
//! digits and `_-./+,:@%=`), separated by blanks, whose first word is neither a shell builtin
//! nor a reserved word nor an assignment. `sleep 0.5` or `cargo test --workspace` run as
//! themselves, which saves starting `sh` for every such step; anything a shell would read
//! differently (quotes, `$`, globs, `~`, redirections, pipes, `;`, `&`, comments, several
//! lines) still goes through `sh -c`. The process is the same either way: `sh -c` on one
//! simple command `exec`s it in place.

/// Words of the shell language that `sh -c` would not look up in `PATH` (POSIX special and
/// regular builtins, dash's builtins and the reserved words).
const SHELL_WORDS: &[&str] = &[
    "!", ".", ":", "[", "alias", "bg", "break", "case", "cd", "command", "continue", "do", "done", "echo", "elif",
    "else", "esac", "eval", "exec", "exit", "export", "false", "fc", "fg", "fi", "for", "function", "getopts", "hash",
    "if", "in", "jobs", "kill", "local", "printf", "pwd", "read", "readonly", "return", "select", "set", "shift",
    "test", "then", "time", "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset", "until", "wait",
    "while", "{", "}",
];

/// The words of `command` when it can run without a shell; `None` when it needs one.
pub fn simple_command(command: &str) -> Option<Vec<&str>> {
    let words: Vec<&str> = command.split([' ', '\t']).filter(|word| !word.is_empty()).collect();
    let first = *words.first()?;
    let plain = |word: &str| word.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"_-./+,:@%=".contains(&byte));
    (words.iter().all(|word| plain(word)) && !first.contains('=') && !SHELL_WORDS.contains(&first)).then_some(words)
}

#[cfg(test)]
mod tests {
    use super::simple_command;

    #[test]
    fn plain_words_run_without_a_shell() {
        assert_eq!(simple_command("sleep 0.5"), Some(vec!["sleep", "0.5"]));
        assert_eq!(simple_command("  cargo\ttest  --workspace "), Some(vec!["cargo", "test", "--workspace"]));
        assert_eq!(simple_command("./build.sh --out=dist/a,b:c@1%"), Some(vec!["./build.sh", "--out=dist/a,b:c@1%"]));
    }

    #[test]
    fn anything_a_shell_reads_differently_keeps_the_shell() {
        for command in [
            "",
            "   ",
            "true",
            "echo hello",
            "cd src",
            "exit 3",
            "kill %1",
            "if",
            "FOO=1 make",
            "make 'a b'",
            "make \"a\"",
            "ls *.rs",
            "ls ~",
            "echo $HOME",
            "make > out",
            "make | tee log",
            "make; make install",
            "make && make install",
            "sleep 9 &",
            "make # comment",
            "make\nmake install",
            "make \\\n install",
            "ls [ab]",
            "echo `date`",
            "(make)",
            "make {a,b}",
            "тест",
        ] {
            assert_eq!(simple_command(command), None, "{command:?}");
        }
    }
}
