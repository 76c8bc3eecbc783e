//! A small shell lexer, enough to judge a command line: it splits chaining (`;`, `&&`, `||`, `|`,
//! `&`, newlines, subshell parentheses), removes quotes and escapes, keeps `$VAR` / `~` for the
//! caller to expand, pulls `$(…)` and backquoted commands out as nested command lines, and notes
//! redirection targets (`>`, `>>`, `&>`, `2>`). It does not run or expand anything. Pure.

/// One word of a command, quotes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// Contains a command substitution (its value is unknown until run time).
    pub substituted: bool,
    /// Was quoted as a whole in single quotes (no expansion of `$` or `~`).
    pub literal: bool,
}

/// One simple command: its words and the files its output is redirected to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SimpleCommand {
    pub words: Vec<Word>,
    pub redirect_targets: Vec<Word>,
    /// Its standard input is the previous command's output (`a | b`).
    pub piped: bool,
}

/// A command line: its simple commands in order, and the command lines substituted into it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Line {
    pub commands: Vec<SimpleCommand>,
    pub substitutions: Vec<String>,
}

struct Lexer {
    line: Line,
    command: SimpleCommand,
    word: Option<Word>,
    /// The next word is a redirection target (`> file`) or input (`< file`, dropped).
    next_is: Option<Redirect>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Redirect {
    Output,
    Input,
}

impl Lexer {
    fn word(&mut self) -> &mut Word {
        self.word.get_or_insert_with(|| Word { text: String::new(), substituted: false, literal: false })
    }

    fn end_word(&mut self) {
        let Some(word) = self.word.take() else { return };
        match self.next_is.take() {
            Some(Redirect::Output) => self.command.redirect_targets.push(word),
            Some(Redirect::Input) => {}
            None => self.command.words.push(word),
        }
    }

    fn end_command(&mut self, next_piped: bool) {
        self.end_word();
        let finished = std::mem::take(&mut self.command);
        if !finished.words.is_empty() || !finished.redirect_targets.is_empty() {
            self.line.commands.push(finished);
        }
        self.command.piped = next_piped;
    }
}

/// Lexes `line`.
pub fn lex(line: &str) -> Line {
    let characters: Vec<char> = line.chars().collect();
    let mut lexer = Lexer { line: Line::default(), command: SimpleCommand::default(), word: None, next_is: None };
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        let next = characters.get(index + 1).copied();
        match character {
            ' ' | '\t' => lexer.end_word(),
            '\\' => {
                if let Some(escaped) = next.filter(|escaped| *escaped != '\n') {
                    lexer.word().text.push(escaped);
                }
                index += 1;
            }
            '\'' => {
                let end = find(&characters, index + 1, '\'');
                let starts_word = lexer.word.is_none();
                let quoted: String = characters[index + 1..end].iter().collect();
                let word = lexer.word();
                word.text.push_str(&quoted);
                word.literal = starts_word && characters.get(end + 1).is_none_or(|after| after.is_whitespace());
                index = end;
            }
            '"' => {
                let mut position = index + 1;
                while position < characters.len() && characters[position] != '"' {
                    match characters[position] {
                        '\\' if position + 1 < characters.len() => {
                            position += 1;
                            let escaped = characters[position];
                            lexer.word().text.push(escaped);
                        }
                        '$' if characters.get(position + 1) == Some(&'(') => {
                            let end = matching_parenthesis(&characters, position + 1);
                            substitute(&mut lexer, &characters[position + 2..end]);
                            position = end;
                        }
                        '`' => {
                            let end = find(&characters, position + 1, '`');
                            substitute(&mut lexer, &characters[position + 1..end]);
                            position = end;
                        }
                        other => lexer.word().text.push(other),
                    }
                    position += 1;
                }
                lexer.word();
                index = position;
            }
            '$' if next == Some('(') => {
                let end = matching_parenthesis(&characters, index + 1);
                substitute(&mut lexer, &characters[index + 2..end]);
                index = end;
            }
            '`' => {
                let end = find(&characters, index + 1, '`');
                substitute(&mut lexer, &characters[index + 1..end]);
                index = end;
            }
            ';' | '\n' | '(' | ')' => lexer.end_command(false),
            '&' if next == Some('&') => {
                lexer.end_command(false);
                index += 1;
            }
            '&' if next == Some('>') => {
                lexer.end_word();
                lexer.next_is = Some(Redirect::Output);
                index += usize::from(characters.get(index + 2) == Some(&'>')) + 1;
            }
            '&' => lexer.end_command(false),
            '|' if next == Some('|') => {
                lexer.end_command(false);
                index += 1;
            }
            '|' => lexer.end_command(true),
            '>' | '<' => {
                // `2>` / `2>&1`: a file descriptor number is not a word.
                if lexer
                    .word
                    .as_ref()
                    .is_some_and(|word| !word.text.is_empty() && word.text.chars().all(|c| c.is_ascii_digit()))
                {
                    lexer.word = None;
                }
                lexer.end_word();
                if character == '>' && next == Some('&') {
                    // `>&2`: to another descriptor, not a file.
                    index += 1;
                    while characters.get(index + 1).is_some_and(char::is_ascii_digit) {
                        index += 1;
                    }
                } else {
                    lexer.next_is = Some(if character == '>' { Redirect::Output } else { Redirect::Input });
                    if next == Some(character) {
                        index += 1;
                    }
                }
            }
            other => lexer.word().text.push(other),
        }
        index += 1;
    }
    lexer.end_command(false);
    lexer.line
}

/// Records a command substitution: its text is a nested line, the word becomes unknown.
fn substitute(lexer: &mut Lexer, inner: &[char]) {
    lexer.line.substitutions.push(inner.iter().collect());
    lexer.word().substituted = true;
}

/// The index of the next `wanted` from `start`, or the end of the text.
fn find(characters: &[char], start: usize, wanted: char) -> usize {
    (start..characters.len()).find(|&index| characters[index] == wanted).unwrap_or(characters.len())
}

/// The index of the `)` matching the `(` at `open` (quotes inside skipped), or the end.
fn matching_parenthesis(characters: &[char], open: usize) -> usize {
    let mut depth = 0;
    let mut index = open;
    while index < characters.len() {
        match characters[index] {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return index;
                }
            }
            '\'' => index = find(characters, index + 1, '\''),
            _ => {}
        }
        index += 1;
    }
    characters.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &Line) -> Vec<Vec<String>> {
        line.commands.iter().map(|command| command.words.iter().map(|word| word.text.clone()).collect()).collect()
    }

    #[test]
    fn chaining_quotes_and_escapes() {
        let line = lex("ls && rm \"a b\" || echo 'x;y' ; c\\ d | wc -l & e");
        assert_eq!(
            words(&line),
            [vec!["ls"], vec!["rm", "a b"], vec!["echo", "x;y"], vec!["c d"], vec!["wc", "-l"], vec!["e"]]
        );
        assert!(line.commands[4].piped);
        assert!(!line.commands[3].piped);
    }

    #[test]
    fn redirections_and_substitutions() {
        let line = lex("echo hi > out.txt 2>&1; cat < in >> /etc/hosts; x=$(rm -rf /) `id`");
        assert_eq!(line.commands[0].redirect_targets[0].text, "out.txt");
        assert_eq!(words(&line)[0], ["echo", "hi"]);
        assert_eq!(line.commands[1].redirect_targets[0].text, "/etc/hosts");
        assert_eq!(words(&line)[1], ["cat"]);
        assert_eq!(line.substitutions, ["rm -rf /", "id"]);
        assert!(line.commands[2].words[0].substituted);
    }

    #[test]
    fn single_quoted_words_are_literal() {
        let line = lex("echo '$HOME' \"$HOME\"");
        assert!(line.commands[0].words[1].literal);
        assert!(!line.commands[0].words[2].literal);
        assert_eq!(line.commands[0].words[2].text, "$HOME");
    }
}
