//! What the judge knows about programs: the wrappers it looks through (`env`, `sudo`, `nohup`,
//! `timeout`, `xargs`, `sh -c`, `eval`, …), the ones refused outright, the risky uses of a few
//! (`git push --force`, a download piped into a shell), and which arguments each common file
//! tool writes. Words are `None` when their value is known only at run time. Pure.

/// The program's name is known only at run time.
pub struct Unknown;

/// A command after its wrappers were looked through.
pub struct Invocation {
    words: Vec<Option<String>>,
    refusal: Option<String>,
    nested: Option<Option<String>>,
}

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else { return false };
    let mut characters = name.chars();
    characters.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|character| character.is_ascii_alphanumeric() || character == '_')
}

const SHELLS: &[&str] = &["sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "fish"];
const INTERPRETERS: &[&str] = &["python", "python3", "perl", "ruby", "node", "php", "lua"];
const DOWNLOADERS: &[&str] = &["curl", "wget", "fetch", "aria2c"];

/// Looks through wrappers; the command that really runs is what remains.
pub fn unwrap(words: &[Option<String>]) -> Invocation {
    let mut rest: Vec<Option<String>> = words.to_vec();
    let mut more_at_run_time = false;
    loop {
        while rest.first().is_some_and(|word| {
            word.as_deref().is_some_and(|word| is_assignment(word) || matches!(word, "{" | "!" | "}"))
        }) {
            rest.remove(0);
        }
        let Some(Some(first)) = rest.first().cloned() else { break };
        let name = basename(&first);
        match name {
            "sudo" | "doas" | "su" | "pkexec" | "run0" => {
                return Invocation { words: rest, refusal: Some("needs elevated privileges".to_owned()), nested: None };
            }
            "env" => rest = skip_options(&rest[1..], &["-u", "--unset", "-C", "--chdir", "-S"], true),
            "nohup" | "time" | "command" | "builtin" | "exec" | "setsid" | "stdbuf" | "unbuffer" | "caffeinate" => {
                rest = skip_options(&rest[1..], &[], false);
            }
            "nice" | "ionice" => rest = skip_options(&rest[1..], &["-n", "-c", "-p", "--adjustment"], false),
            "timeout" | "taskset" | "chrt" => {
                rest = skip_options(&rest[1..], &["-s", "--signal", "-k", "--kill-after"], false);
                if !rest.is_empty() {
                    rest.remove(0);
                }
            }
            "xargs" => {
                let valued =
                    ["-I", "-i", "-n", "-P", "-d", "-L", "-s", "-E", "-a", "--max-args", "--max-procs", "--delimiter"];
                rest = skip_options(&rest[1..], &valued, false);
                more_at_run_time = true;
            }
            "eval" => {
                let joined: Option<Vec<String>> = rest[1..].iter().cloned().collect();
                return Invocation { words: rest, refusal: None, nested: Some(joined.map(|parts| parts.join(" "))) };
            }
            shell if SHELLS.contains(&shell) => {
                let command_option = rest[1..].iter().position(|word| {
                    word.as_deref()
                        .is_some_and(|word| word.starts_with('-') && !word.starts_with("--") && word.contains('c'))
                });
                if let Some(position) = command_option {
                    let nested = rest.get(position + 2).cloned().unwrap_or(Some(String::new()));
                    return Invocation { words: rest, refusal: None, nested: Some(nested) };
                }
                break;
            }
            _ => break,
        }
    }
    if more_at_run_time {
        rest.push(None);
    }
    let refusal = rest.first().cloned().flatten().and_then(|first| machine_refusal(basename(&first), &rest[1..]));
    Invocation { words: rest, refusal, nested: None }
}

/// Drops leading options (and the values of those in `valued`), and leading assignments when
/// `assignments` (for `env`); `--` ends the options.
fn skip_options(words: &[Option<String>], valued: &[&str], assignments: bool) -> Vec<Option<String>> {
    let mut index = 0;
    while let Some(Some(word)) = words.get(index) {
        if word == "--" {
            index += 1;
            break;
        }
        let is_option = word.starts_with('-') && word.len() > 1;
        if !(is_option || (assignments && is_assignment(word))) {
            break;
        }
        index += if valued.contains(&word.as_str()) { 2 } else { 1 };
    }
    words.get(index..).map(<[Option<String>]>::to_vec).unwrap_or_default()
}

/// Programs that change the machine itself.
fn machine_refusal(program: &str, arguments: &[Option<String>]) -> Option<String> {
    let has = |wanted: &str| arguments.iter().any(|word| word.as_deref() == Some(wanted));
    match program {
        _ if program.starts_with("mkfs") => Some("formats a disk".to_owned()),
        "wipefs" | "fdisk" | "sfdisk" | "parted" | "mkswap" => Some("changes a disk's partitions".to_owned()),
        "shutdown" | "reboot" | "halt" | "poweroff" | "killall5" => Some("changes the machine".to_owned()),
        "init" | "telinit" if has("0") || has("6") => Some("changes the machine".to_owned()),
        "kill" | "pkill" if has("-1") => Some("kills every process".to_owned()),
        _ => None,
    }
}

impl Invocation {
    pub fn program(&self) -> Result<String, Unknown> {
        match self.words.first() {
            Some(Some(first)) => Ok(basename(first).to_owned()),
            Some(None) => Err(Unknown),
            None => Ok(String::new()),
        }
    }

    pub fn arguments(&self) -> &[Option<String>] {
        self.words.get(1..).unwrap_or_default()
    }

    pub fn refusal(&self) -> Option<String> {
        self.refusal.clone()
    }

    /// The command line a shell, `sh -c` or `eval`, runs (`Some("")`-like unknown text is
    /// returned as a `$` so that it is judged as unknown).
    pub fn nested_line(&self) -> Option<String> {
        match &self.nested {
            Some(Some(line)) => Some(line.clone()),
            Some(None) => Some("$UNKNOWN_AT_RUN_TIME".to_owned()),
            None => None,
        }
    }

    fn has(&self, wanted: &str) -> bool {
        self.arguments().iter().any(|word| word.as_deref() == Some(wanted))
    }

    /// A short option letter in any cluster (`-rf` has `r`), or a long option.
    fn has_flag(&self, letter: char, long: &str) -> bool {
        self.arguments()
            .iter()
            .flatten()
            .any(|word| word == long || (word.starts_with('-') && !word.starts_with("--") && word.contains(letter)))
    }

    /// Arguments that are not options (after `--`, everything), and the values of `valued` options.
    fn positional(&self, valued: &[&str]) -> (Vec<Option<String>>, Vec<Option<String>>) {
        let (mut positional, mut values) = (Vec::new(), Vec::new());
        let mut arguments = self.arguments().iter();
        let mut options_done = false;
        while let Some(word) = arguments.next() {
            match word.as_deref() {
                Some("--") if !options_done => options_done = true,
                Some(option) if !options_done && valued.contains(&option) => {
                    values.push(arguments.next().cloned().flatten())
                }
                Some(option) if !options_done && option.starts_with('-') && option.len() > 1 => {}
                _ => positional.push(word.clone()),
            }
        }
        (positional, values)
    }
}

/// What cannot be confined by a file sandbox, whatever the settings.
pub fn risk(program: &str, invocation: &Invocation, piped_from: Option<&str>) -> Option<String> {
    if (SHELLS.contains(&program) || INTERPRETERS.contains(&program))
        && piped_from.is_some_and(|from| DOWNLOADERS.contains(&from))
        && (invocation.positional(&[]).0.is_empty() || invocation.has("-s") || invocation.has("-"))
    {
        return Some("runs code downloaded from the network".to_owned());
    }
    if program != "git" {
        return None;
    }
    let (positional, _) = invocation.positional(&["-C", "-c"]);
    let subcommand = positional.first().cloned().flatten().unwrap_or_default();
    let forced_refspec = positional.iter().flatten().skip(1).any(|word| word.starts_with('+') || word.starts_with(':'));
    match subcommand.as_str() {
        "push"
            if invocation.has_flag('f', "--force")
                || invocation.has("--force-with-lease")
                || invocation.has("--mirror")
                || invocation.has("--delete")
                || forced_refspec =>
        {
            Some("rewrites or deletes a branch on the remote".to_owned())
        }
        "reset" if invocation.has("--hard") => Some("discards uncommitted work".to_owned()),
        "clean" if invocation.has_flag('f', "--force") => Some("deletes untracked files".to_owned()),
        "filter-branch" | "filter-repo" => Some("rewrites the repository's history".to_owned()),
        _ => None,
    }
}

/// The files a program writes: `None` entries are named only at run time.
pub struct Writes {
    pub targets: Vec<Option<String>>,
    /// Deleting or changing everything below a target (`rm -r`, `chmod -R`, `find -delete`, `mv`).
    pub recursive_destruction: bool,
    /// Writes outside the workspace by what it is (a global install).
    pub outside: Option<String>,
}

pub fn writes(program: &str, invocation: &Invocation) -> Writes {
    let none = Writes { targets: Vec::new(), recursive_destruction: false, outside: None };
    let last = |positional: Vec<Option<String>>| positional.last().cloned().into_iter().collect::<Vec<_>>();
    match program {
        "rm" | "rmdir" | "unlink" | "shred" | "srm" => Writes {
            targets: invocation.positional(&[]).0,
            recursive_destruction: invocation.has_flag('r', "--recursive") || invocation.has_flag('R', "--recursive"),
            outside: None,
        },
        "touch" | "mkdir" | "tee" => Writes { targets: invocation.positional(&["-m", "--mode", "-d", "-r"]).0, ..none },
        "truncate" => Writes { targets: invocation.positional(&["-s", "--size", "-r"]).0, ..none },
        "mv" => {
            let (mut targets, directories) = invocation.positional(&["-t", "--target-directory", "-S"]);
            targets.extend(directories);
            Writes { targets, recursive_destruction: true, ..none }
        }
        "cp" | "ln" | "install" | "rsync" | "scp" => {
            let (positional, directories) =
                invocation.positional(&["-t", "--target-directory", "-S", "-m", "-o", "-g", "-e"]);
            let targets = if directories.is_empty() { last(positional) } else { directories };
            Writes { targets, ..none }
        }
        "chmod" | "chown" | "chgrp" | "chattr" | "setfacl" => {
            let (positional, _) = invocation.positional(&["--reference"]);
            let skip =
                usize::from(!invocation.arguments().iter().flatten().any(|word| word.starts_with("--reference")));
            Writes {
                targets: positional.into_iter().skip(skip).collect(),
                recursive_destruction: invocation.has_flag('R', "--recursive"),
                outside: None,
            }
        }
        "dd" => Writes {
            targets: invocation
                .arguments()
                .iter()
                .filter_map(|word| match word {
                    Some(word) => word.strip_prefix("of=").map(|target| Some(target.to_owned())),
                    None => Some(None),
                })
                .collect(),
            ..none
        },
        "sed"
            if invocation
                .arguments()
                .iter()
                .flatten()
                .any(|word| word.starts_with("-i") || word.starts_with("--in-place")) =>
        {
            let (positional, scripts) = invocation.positional(&["-e", "--expression", "-f", "--file"]);
            let skip = usize::from(scripts.is_empty());
            Writes { targets: positional.into_iter().skip(skip).collect(), ..none }
        }
        "find" => {
            let destructive = invocation.has("-delete")
                || invocation.arguments().windows(2).any(|pair| {
                    matches!(pair[0].as_deref(), Some("-exec" | "-execdir" | "-ok"))
                        && pair[1].as_deref().is_none_or(|program| {
                            matches!(basename(program), "rm" | "shred" | "mv" | "chmod" | "chown" | "truncate")
                        })
                });
            if !destructive {
                return none;
            }
            let mut roots: Vec<Option<String>> = invocation
                .arguments()
                .iter()
                .take_while(|word| {
                    word.as_deref().is_none_or(|word| !word.starts_with('-') && word != "(" && word != "!")
                })
                .cloned()
                .collect();
            if roots.is_empty() {
                roots.push(Some(".".to_owned()));
            }
            Writes { targets: roots, recursive_destruction: true, outside: None }
        }
        "curl" | "wget" => Writes {
            targets: invocation
                .positional(&["-o", "--output", "-O", "--output-document", "-P", "--directory-prefix"])
                .1,
            ..none
        },
        "npm" | "pnpm" | "yarn" | "bun" if invocation.has_flag('g', "--global") || invocation.has("global") => {
            Writes { outside: Some("installs packages for the whole machine".to_owned()), ..none }
        }
        "pip" | "pip3" | "cargo" | "go" | "gem" if invocation.has("install") => {
            let confined = invocation
                .arguments()
                .iter()
                .flatten()
                .any(|word| matches!(word.as_str(), "-t" | "--target" | "--root" | "--prefix" | "--install-dir"));
            if confined {
                return none;
            }
            Writes { outside: Some(format!("`{program} install` installs outside the workspace")), ..none }
        }
        _ => none,
    }
}
