//! Tokens and keyword phrases: the matching primitives shared by the classifier and the
//! template planner. A text is lower-cased and split on anything that is not alphanumeric; a
//! phrase matches a run of whole tokens, each token by exact form, by a closed set of English
//! inflections, or by an explicit (Russian) stem. Never substring matching: "add" does not
//! match "address", "bug" does not match "debug".
//!
//! Pure: no I/O, no allocation beyond the lower-cased copy of the text and its token list.

/// A lower-cased text split into word tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    lowered: String,
    spans: Vec<(usize, usize)>,
}

impl Tokens {
    /// Lower-cases `text` and splits it on every character that is not alphanumeric
    /// (Unicode-aware, so Cyrillic words are tokens too). Apostrophes split as well.
    pub fn of(text: &str) -> Self {
        let lowered = text.to_lowercase();
        let mut spans = Vec::with_capacity(lowered.len() / 5 + 1);
        let mut start: Option<usize> = None;
        for (index, character) in lowered.char_indices() {
            match (character.is_alphanumeric(), start) {
                (true, None) => start = Some(index),
                (false, Some(begin)) => {
                    spans.push((begin, index));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(begin) = start {
            spans.push((begin, lowered.len()));
        }
        Self { lowered, spans }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The token at `index` (lower-cased).
    pub fn get(&self, index: usize) -> Option<&str> {
        self.spans.get(index).map(|(start, end)| &self.lowered[*start..*end])
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.spans.iter().map(|(start, end)| &self.lowered[*start..*end])
    }

    /// True when any phrase of `phrases` occurs.
    pub fn contains_any(&self, phrases: &[Phrase]) -> bool {
        phrases.iter().any(|phrase| phrase.occurs_in(self))
    }

    /// The first phrase of `phrases` (in list order) that occurs.
    pub fn first_match<'p>(&self, phrases: &'p [Phrase]) -> Option<&'p Phrase> {
        phrases.iter().find(|phrase| phrase.occurs_in(self))
    }
}

/// How one token of a phrase matches one token of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// Exactly this (lower-case) token.
    Exact(&'static str),
    /// This English word or one of its regular inflections: -s, -es, -ed, -d, -ing, -ation(s),
    /// with a final "e" dropped ("creating"), a final consonant doubled ("debugged") or a final
    /// "y" turned into "i" ("modified"). Nothing else: "address" is not "add".
    Inflected(&'static str),
    /// Any token that starts with this stem, for Russian word forms ("ошибк" matches "ошибку").
    Stem(&'static str),
    /// Any of these terms.
    OneOf(&'static [Term]),
}

/// Suffixes accepted after the whole word.
const WORD_SUFFIXES: &[&str] = &["s", "es", "ed", "d", "ing", "ation", "ations"];
/// Suffixes accepted after a word whose final "e" is dropped.
const E_DROPPED_SUFFIXES: &[&str] = &["ing", "ion", "ions", "ation", "ations"];
/// Suffixes accepted after a doubled final consonant.
const DOUBLED_SUFFIXES: &[&str] = &["ed", "ing", "er", "ers"];
/// Suffixes accepted after a final "y" turned into "i".
const Y_TO_I_SUFFIXES: &[&str] = &["es", "ed", "er", "ers"];

impl Term {
    pub fn matches(&self, token: &str) -> bool {
        match self {
            Term::Exact(word) => token == *word,
            Term::Inflected(word) => is_inflection_of(token, word),
            Term::Stem(stem) => token.starts_with(stem),
            Term::OneOf(terms) => terms.iter().any(|term| term.matches(token)),
        }
    }
}

fn is_inflection_of(token: &str, word: &str) -> bool {
    if let Some(rest) = token.strip_prefix(word) {
        if rest.is_empty() || WORD_SUFFIXES.contains(&rest) {
            return true;
        }
        // A doubled final consonant: "bug" + "g" + "ed".
        let last = word.as_bytes().last().copied();
        if let (Some(last), Some(first_of_rest)) = (last, rest.as_bytes().first().copied())
            && last.is_ascii_alphabetic()
            && last == first_of_rest
            && !b"aeiouy".contains(&last)
            && DOUBLED_SUFFIXES.contains(&&rest[1..])
        {
            return true;
        }
        return false;
    }
    if let Some(stem) = word.strip_suffix('e')
        && let Some(rest) = token.strip_prefix(stem)
    {
        return E_DROPPED_SUFFIXES.contains(&rest);
    }
    if let Some(stem) = word.strip_suffix('y')
        && let Some(rest) = token.strip_prefix(stem).and_then(|rest| rest.strip_prefix('i'))
    {
        return Y_TO_I_SUFFIXES.contains(&rest);
    }
    false
}

/// Filler tokens a phrase may skip between two of its terms: "create a new app", "fix the bug in".
const SKIPPABLE_BETWEEN_TERMS: &[&str] = &["a", "an", "the", "new"];

/// A keyword or multi-word phrase, with the text shown in reasons (`"fix bug in"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phrase {
    pub display: &'static str,
    pub terms: &'static [Term],
}

impl Phrase {
    pub const fn new(display: &'static str, terms: &'static [Term]) -> Self {
        Self { display, terms }
    }

    /// True when the phrase's terms match consecutive tokens (articles may sit between terms).
    pub fn occurs_in(&self, tokens: &Tokens) -> bool {
        (0..tokens.len()).any(|start| self.matches_at(tokens, start))
    }

    fn matches_at(&self, tokens: &Tokens, start: usize) -> bool {
        let Some((first, rest)) = self.terms.split_first() else { return false };
        if !tokens.get(start).is_some_and(|token| first.matches(token)) {
            return false;
        }
        let mut position = start + 1;
        for term in rest {
            loop {
                let Some(token) = tokens.get(position) else { return false };
                position += 1;
                if term.matches(token) {
                    break;
                }
                if !SKIPPABLE_BETWEEN_TERMS.contains(&token) {
                    return false;
                }
            }
        }
        true
    }
}

/// A set of phrases of one list, by position in the list (lists hold at most 128 phrases).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhraseSet(u128);

impl PhraseSet {
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Positions in list order.
    pub fn positions(self) -> impl Iterator<Item = usize> {
        let mut remaining = self.0;
        std::iter::from_fn(move || {
            let position = (remaining != 0).then(|| remaining.trailing_zeros() as usize)?;
            remaining &= remaining - 1;
            Some(position)
        })
    }

    pub fn first(self) -> Option<usize> {
        (self.0 != 0).then(|| self.0.trailing_zeros() as usize)
    }
}

/// A phrase list indexed by the first character its first term can start with, so a text is
/// scanned once and only plausible phrases are tried at each token. Build it once (a
/// `LazyLock` static) and reuse it.
#[derive(Debug)]
pub struct PhraseIndex {
    phrases: &'static [Phrase],
    /// Sorted by character; each entry lists phrase positions.
    by_first_char: Vec<(char, Vec<u8>)>,
}

impl PhraseIndex {
    /// Panics when `phrases` has more than 128 entries (a programming error in a static table).
    pub fn new(phrases: &'static [Phrase]) -> Self {
        assert!(phrases.len() <= 128, "a phrase list holds at most 128 phrases");
        let mut by_first_char: Vec<(char, Vec<u8>)> = Vec::new();
        for (position, phrase) in phrases.iter().enumerate() {
            let mut first_chars = Vec::new();
            if let Some(first_term) = phrase.terms.first() {
                first_term.collect_first_chars(&mut first_chars);
            }
            first_chars.dedup();
            for first_char in first_chars {
                match by_first_char.binary_search_by_key(&first_char, |(character, _)| *character) {
                    Ok(found) => by_first_char[found].1.push(position as u8),
                    Err(insert_at) => by_first_char.insert(insert_at, (first_char, vec![position as u8])),
                }
            }
        }
        Self { phrases, by_first_char }
    }

    pub fn phrases(&self) -> &'static [Phrase] {
        self.phrases
    }

    /// Every phrase of the list that occurs in `tokens`.
    pub fn matches(&self, tokens: &Tokens) -> PhraseSet {
        let mut found = 0u128;
        for (start, token) in tokens.iter().enumerate() {
            let Some(first_char) = token.chars().next() else { continue };
            let Ok(bucket) = self.by_first_char.binary_search_by_key(&first_char, |(character, _)| *character) else {
                continue;
            };
            for position in &self.by_first_char[bucket].1 {
                let bit = 1u128 << position;
                if found & bit == 0 && self.phrases[usize::from(*position)].matches_at(tokens, start) {
                    found |= bit;
                }
            }
        }
        PhraseSet(found)
    }

    /// The first phrase in list order that occurs in `tokens`.
    pub fn first_match(&self, tokens: &Tokens) -> Option<&'static Phrase> {
        self.matches(tokens).first().map(|position| &self.phrases[position])
    }
}

impl Term {
    /// Every character a matching token can start with.
    fn collect_first_chars(&self, out: &mut Vec<char>) {
        match self {
            Term::Exact(word) | Term::Inflected(word) | Term::Stem(word) => out.extend(word.chars().next()),
            Term::OneOf(terms) => terms.iter().for_each(|term| term.collect_first_chars(out)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_lowercased_and_split_on_non_alphanumerics() {
        let tokens = Tokens::of("Fix login.py: Ошибка в  файле, don't panic!");
        let words: Vec<&str> = tokens.iter().collect();
        assert_eq!(words, ["fix", "login", "py", "ошибка", "в", "файле", "don", "t", "panic"]);
        assert!(Tokens::of("  ...  ").is_empty());
    }

    #[test]
    fn inflections_match_whole_words_only() {
        let add = Term::Inflected("add");
        for form in ["add", "adds", "added", "adding"] {
            assert!(add.matches(form), "{form}");
        }
        for other in ["address", "adder", "addition", "ad", "badd"] {
            assert!(!add.matches(other), "{other}");
        }
        let fix = Term::Inflected("fix");
        assert!(fix.matches("fixes") && fix.matches("fixed") && fix.matches("fixing"));
        assert!(!fix.matches("prefix") && !fix.matches("fixture"));
        let bug = Term::Inflected("bug");
        assert!(bug.matches("bugs") && bug.matches("bugged"));
        assert!(!bug.matches("debug") && !bug.matches("bugle"));
        let create = Term::Inflected("create");
        assert!(create.matches("creating") && create.matches("created") && create.matches("creation"));
        assert!(!create.matches("creature"));
        let modify = Term::Inflected("modify");
        assert!(modify.matches("modifies") && modify.matches("modified") && modify.matches("modifying"));
        assert!(Term::Inflected("error").matches("errors"));
        assert!(Term::Inflected("debug").matches("debugging"));
    }

    #[test]
    fn stems_match_russian_word_forms() {
        let mistake = Term::Stem("ошибк");
        for form in ["ошибка", "ошибку", "ошибки", "ошибкой"] {
            assert!(mistake.matches(form), "{form}");
        }
        assert!(!mistake.matches("ошибся"));
    }

    #[test]
    fn phrases_match_consecutive_tokens_skipping_articles_only() {
        const FIX_BUG_IN: Phrase =
            Phrase::new("fix bug in", &[Term::Inflected("fix"), Term::Inflected("bug"), Term::Exact("in")]);
        assert!(FIX_BUG_IN.occurs_in(&Tokens::of("please fix the bug in parser")));
        assert!(FIX_BUG_IN.occurs_in(&Tokens::of("Fixed bugs in parser")));
        assert!(!FIX_BUG_IN.occurs_in(&Tokens::of("fix parser bug in main")));
        assert!(!FIX_BUG_IN.occurs_in(&Tokens::of("fix bug")));
        assert!(!FIX_BUG_IN.occurs_in(&Tokens::of("")));
    }

    #[test]
    fn an_index_finds_the_same_phrases_as_a_scan() {
        const LIST: &[Phrase] = &[
            Phrase::new("fix", &[Term::Inflected("fix")]),
            Phrase::new("what is", &[Term::Exact("what"), Term::Exact("is")]),
            Phrase::new("баг", &[Term::OneOf(&[Term::Exact("баг"), Term::Exact("баги")])]),
            Phrase::new("fix bug", &[Term::Inflected("fix"), Term::Inflected("bug")]),
        ];
        let index = PhraseIndex::new(LIST);
        for text in ["fixed the bug", "what is it", "баги и fix bug", "nothing here", "", "what fix"] {
            let tokens = Tokens::of(text);
            let scanned: Vec<usize> = (0..LIST.len()).filter(|position| LIST[*position].occurs_in(&tokens)).collect();
            let indexed: Vec<usize> = index.matches(&tokens).positions().collect();
            assert_eq!(indexed, scanned, "{text}");
            assert_eq!(
                index.first_match(&tokens).map(|phrase| phrase.display),
                scanned.first().map(|p| LIST[*p].display)
            );
        }
    }
}
