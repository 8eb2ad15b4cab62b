//! The languages citebot reads: everything that differs between them, as one [`Language`]
//! value per language, built once from data files.
//!
//! Reading a question leans on its language everywhere: which words carry no topic, how words
//! are stemmed, which words point back to the last answer ("he", "that"), which say what is
//! asked ("when", "how many"), which in an answer would hold it (month names, "because"). The
//! code that reads (analysis, conversation, answer types, documents, knowledge) holds no word
//! of any language: it asks a `&Language`. The words live as plain data files under a folder
//! per language (`en/`, `ru/`), one word or phrase a line with `#` comments, or a small TOML
//! file where a rule needs structure, compiled in with `include_str!`. Adding a language is
//! adding its folder (the same files as `en/`, its own words in them), a static built by
//! `language_from_files!` beside `en/`'s, and its arm in [`Lang::language`].
//!
//! This module is a leaf: it knows no other module of the crate.

/// One of a language folder's data files (`src/lang/<code>/<name>`), compiled in.
macro_rules! data {
    ($code:literal, $name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/lang/",
            $code,
            "/",
            $name
        ))
    };
}

/// The [`Language`] whose data files are in `src/lang/<code>/`: every language has the same
/// files, read the same way, so a language is its folder and one line that names its code
/// and stemmer. A macro because `include_str!` takes only a literal path. `months.txt` holds
/// a month a line: the form a date writes first, then any other forms ("января январь").
macro_rules! language_from_files {
    ($code:literal, $stemming:expr) => {{
        use $crate::lang::{
            AboutWords, AnswerWords, ConversationWords, Dictionary, Language, Phrases,
            QuestionWords, Words,
        };
        let words = |text: &str| Words::parse(text);
        let phrases = |text: &str| Phrases::parse(text);
        let document_words = words(data!($code, "document_words.txt"));
        let months = phrases(data!($code, "months.txt"));
        Language {
            code: $code,
            stemming: $stemming,
            stop_words: words(data!($code, "stop_words.txt")),
            dictionary: Dictionary::new(data!($code, "words.txt")),
            generic_document_words: words(data!($code, "generic_document_words.txt")),
            abbreviations: words(data!($code, "abbreviations.txt")),
            boilerplate: words(data!($code, "boilerplate.txt")),
            months: months.iter().map(|forms| forms[0].clone()).collect(),
            months_lower: months.iter().flatten().map(|f| f.to_lowercase()).collect(),
            conversation: ConversationWords {
                pronouns: words(data!($code, "conversation/pronouns.txt")),
                demonstratives: words(data!($code, "conversation/demonstratives.txt")),
                document_mentions: document_words
                    .and(&words(data!($code, "conversation/document_mentions.txt"))),
                question_starts: words(data!($code, "conversation/question_starts.txt")),
                leads: phrases(data!($code, "conversation/leads.txt")),
                switches: phrases(data!($code, "conversation/switches.txt")),
                switch_fillers: words(data!($code, "conversation/switch_fillers.txt")),
                more: phrases(data!($code, "conversation/more.txt")),
                more_about: phrases(data!($code, "conversation/more_about.txt")),
                greetings: words(data!($code, "conversation/greetings.txt")),
                thanks: words(data!($code, "conversation/thanks.txt")),
                acknowledgements: words(data!($code, "conversation/acknowledgements.txt")),
                small_talk_fillers: words(data!($code, "conversation/small_talk_fillers.txt")),
                place_pronouns: words(data!($code, "conversation/place_pronouns.txt")),
                existential_verbs: words(data!($code, "conversation/existential_verbs.txt")),
                adverb_endings: words(data!($code, "conversation/adverb_endings.txt")),
                nouns_in_ly: words(data!($code, "conversation/nouns_in_ly.txt")),
            },
            questions: toml::from_str::<QuestionWords>(data!($code, "questions.toml"))
                .expect(concat!("src/lang/", $code, "/questions.toml is valid")),
            answers: AnswerWords {
                number_words: words(data!($code, "answers/number_words.txt")),
                measures: words(data!($code, "answers/measures.txt")),
                time_words: words(data!($code, "answers/time_words.txt")),
                role_words: words(data!($code, "answers/role_words.txt")),
                place_words: words(data!($code, "answers/place_words.txt")),
                reason_words: words(data!($code, "answers/reason_words.txt")),
                reported_speech: words(data!($code, "answers/reported_speech.txt")),
            },
            document_words,
            about: toml::from_str::<AboutWords>(data!($code, "about.toml")).expect(concat!(
                "src/lang/",
                $code,
                "/about.toml is valid"
            )),
        }
    }};
}

mod en;
mod ru;

use std::collections::{HashMap, HashSet};

/// Which of tantivy's stemmers stems a language's words.
pub use tantivy::tokenizer::Language as Stemming;

/// English, the language of the knowledge and of questions until others are added.
pub fn english() -> &'static Language {
    &en::ENGLISH
}

/// Russian: questions and documents written in Cyrillic.
pub fn russian() -> &'static Language {
    &ru::RUSSIAN
}

/// A language citebot speaks, by its ISO 639-1 code: what a question is asked in, what a
/// document is written in, what a reply is worded in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ru,
}

impl Lang {
    /// Every language, in the order menus list them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    /// "en", "ru".
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// Everything citebot knows of the language's words.
    pub fn language(self) -> &'static Language {
        match self {
            Lang::En => english(),
            Lang::Ru => russian(),
        }
    }

    /// The language of an IETF tag as Telegram gives it (`language_code`: "ru", "en-US",
    /// "pt-br"), or of a document's header; `None` for one citebot does not speak.
    pub fn from_code(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The language `text` is written in, told by its letters' script: Cyrillic is Russian,
    /// Latin is English, whichever has more letters wins (a Russian question may name
    /// "Kabulov" in Latin letters, and an English one "Путин" in Cyrillic). `None` when it
    /// has no letters of either ("?", "👍", "2018"): the caller falls back on what it knows
    /// of the user. Two languages with two scripts need no statistics; a third that shares
    /// a script (Ukrainian, German) would (a crate such as whatlang).
    pub fn detect(text: &str) -> Option<Lang> {
        let (mut cyrillic, mut latin) = (0usize, 0usize);
        for c in text.chars().filter(|c| c.is_alphabetic()) {
            if is_cyrillic(c) {
                cyrillic += 1;
            } else if c.is_ascii_alphabetic() || ('\u{c0}'..='\u{24f}').contains(&c) {
                latin += 1;
            }
        }
        match (cyrillic, latin) {
            (0, 0) => None,
            (c, l) if c > l => Some(Lang::Ru),
            _ => Some(Lang::En),
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A Russian word in Latin letters, as names are written across the two scripts (BGN/PCGN,
/// simplified: "Кабулов" → "kabulov", "Мазари-Шариф" → "mazari-sharif"), so that a
/// question in Russian finds the names of an English text; `None` when `word` has no
/// Cyrillic letter. Lower case.
pub fn transliterate(word: &str) -> Option<String> {
    if !word.chars().any(is_cyrillic) {
        return None;
    }
    let mut out = String::with_capacity(word.len());
    for c in word.chars().flat_map(char::to_lowercase) {
        let latin = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'й' | 'ы' => "y",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ъ' | 'ь' => "",
            'ю' => "yu",
            'я' => "ya",
            other => {
                out.push(other);
                continue;
            }
        };
        out.push_str(latin);
    }
    Some(out)
}

/// Whether `c` is a Cyrillic letter (the basic block and its supplement).
pub fn is_cyrillic(c: char) -> bool {
    ('\u{400}'..='\u{52f}').contains(&c)
}

/// Everything language-specific about reading a question and the text that answers it.
pub struct Language {
    /// A short code (ISO 639-1): "en".
    pub code: &'static str,
    /// The stemmer of the index and the questions.
    pub stemming: Stemming,
    /// Function and question words, lower case, ASCII-folded: they carry no topic.
    pub stop_words: Words,
    /// The language's words, lower case: a word among them is spelt as meant, no typo.
    pub dictionary: Dictionary,
    /// Words by which a question refers to the document itself ("this article").
    pub document_words: Words,
    /// Words that say "a document" without saying which (nor can a URL's "www").
    pub generic_document_words: Words,
    /// Words ending with a period that does not end the sentence ("Gen.", "Mr."), lower case.
    pub abbreviations: Words,
    /// Subscription and paywall prompts (lower case), found anywhere in a short line.
    pub boilerplate: Words,
    /// The months in order, as written in a date ("January").
    pub months: Vec<String>,
    /// The same, lower case, for telling a month from a name.
    months_lower: HashSet<String>,
    /// How a message points back to the last answer, or asks nothing.
    pub conversation: ConversationWords,
    /// How a question says what it asks for.
    pub questions: QuestionWords,
    /// What, in the sentences of an answer, holds what a question asks for.
    pub answers: AnswerWords,
    /// How a question asks about the document itself.
    pub about: AboutWords,
}

/// By its code only: its lists run to tens of thousands of words, and whoever prints an
/// engine or a catalog wants to know which language, not every word of it.
impl std::fmt::Debug for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Language")
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

impl Language {
    /// Whether `plain` (lower case, folded) is a stop word.
    pub fn is_stop_word(&self, plain: &str) -> bool {
        self.stop_words.contains(plain)
    }

    /// Whether `plain` (lower case) is a word of the language: typo correction is for words
    /// that are no words ("withdrawl", "Kabulv").
    pub fn is_word(&self, plain: &str) -> bool {
        self.dictionary.contains(plain)
    }

    /// Whether `lower` (lower case) is a month's name.
    pub fn is_month(&self, lower: &str) -> bool {
        self.months_lower.contains(lower)
    }

    /// The name of month `number` (1 to 12), as written in a date.
    pub fn month(&self, number: usize) -> Option<&str> {
        self.months.get(number.checked_sub(1)?).map(String::as_str)
    }
}

/// The words conversation.rs reads a follow-up with.
#[derive(Debug)]
pub struct ConversationWords {
    /// Personal and possessive pronouns: a question holding one points back.
    pub pronouns: Words,
    /// "this", "that": they point back, except to the document itself.
    pub demonstratives: Words,
    /// After a demonstrative, words that make it name the document ("this article", "this
    /// author"): the document words and these.
    pub document_mentions: Words,
    /// Question words and the verbs a yes/no question starts with: an ellipsis has none.
    pub question_starts: Words,
    /// What opens an ellipsis ("and", "what about"), the first that matches winning.
    pub leads: Phrases,
    /// What announces a new topic ("different question"), the first that matches winning.
    pub switches: Phrases,
    /// Words around such an announcement ("ok", "totally").
    pub switch_fillers: Words,
    /// Whole messages that ask for more of the last answer ("tell me more").
    pub more: Phrases,
    /// Openings that ask for more about something ("tell me more about").
    pub more_about: Phrases,
    /// Small talk: a message made only of these asks nothing.
    pub greetings: Words,
    pub thanks: Words,
    pub acknowledgements: Words,
    pub small_talk_fillers: Words,
    /// Words that point back to a place ("there"), unless an existential verb follows.
    pub place_pronouns: Words,
    pub existential_verbs: Words,
    /// Endings of adverbs of manner ("-ly"), and the nouns that end so all the same.
    pub adverb_endings: Words,
    pub nouns_in_ly: Words,
}

impl ConversationWords {
    /// These words and `more`'s, list by list: the words of two languages, for reading a
    /// message in either (see `conversation::lexicon`).
    pub fn and(&self, more: &ConversationWords) -> ConversationWords {
        ConversationWords {
            pronouns: self.pronouns.and(&more.pronouns),
            demonstratives: self.demonstratives.and(&more.demonstratives),
            document_mentions: self.document_mentions.and(&more.document_mentions),
            question_starts: self.question_starts.and(&more.question_starts),
            leads: self.leads.and(&more.leads),
            switches: self.switches.and(&more.switches),
            switch_fillers: self.switch_fillers.and(&more.switch_fillers),
            more: self.more.and(&more.more),
            more_about: self.more_about.and(&more.more_about),
            greetings: self.greetings.and(&more.greetings),
            thanks: self.thanks.and(&more.thanks),
            acknowledgements: self.acknowledgements.and(&more.acknowledgements),
            small_talk_fillers: self.small_talk_fillers.and(&more.small_talk_fillers),
            place_pronouns: self.place_pronouns.and(&more.place_pronouns),
            existential_verbs: self.existential_verbs.and(&more.existential_verbs),
            adverb_endings: self.adverb_endings.and(&more.adverb_endings),
            nouns_in_ly: self.nouns_in_ly.and(&more.nouns_in_ly),
        }
    }
}

/// The words about.rs reads a question about the document itself with; `en/about.toml` says
/// how. A word of a phrase ending in `*` stands for every word it begins.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AboutWords {
    pub author: Phrases,
    pub author_bio: Phrases,
    pub date: Phrases,
    pub publication: Phrases,
    pub title: Phrases,
    pub summary: Phrases,
    pub points: Phrases,
    pub people: Phrases,
    pub elsewhere: Phrases,
    pub filler: Phrases,
}

/// The words answer_type.rs reads a question with; `en/questions.toml` says what each does.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionWords {
    pub framing: Words,
    pub yes_no_starts: Words,
    /// A contraction opening a question, and the words it stands for ("whats" → "what is").
    #[serde(deserialize_with = "phrase_map")]
    pub contractions: HashMap<String, Vec<String>>,
    pub which: WhichWords,
    pub number: NumberWords,
    pub date: KindWords,
    pub person: KindWords,
    pub place: KindWords,
    pub reason: ReasonWords,
    pub statement: StatementWords,
}

/// "Which/what NOUN" questions.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhichWords {
    pub words: Words,
    pub leads: Words,
    pub verbs: Words,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberWords {
    pub how_many: Phrases,
    pub noun_ends: Words,
    pub which_nouns: Words,
}

/// How a question asks for one kind of thing: by its first word, a phrase anywhere, its last
/// word, or the noun after "which".
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindWords {
    pub first: Words,
    #[serde(default)]
    pub phrases: Phrases,
    #[serde(default)]
    pub last: Words,
    pub which_nouns: Words,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonWords {
    pub first: Words,
    pub phrases: Phrases,
    /// Phrases that ask why only in a question of three words at most ("What for?").
    pub short_phrases: Phrases,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementWords {
    pub first: Words,
    pub verbs: Words,
    pub about_the_text: Words,
}

/// The words answer_type.rs looks for in the sentences that would answer.
#[derive(Debug)]
pub struct AnswerWords {
    pub number_words: Words,
    /// Counted words that are units ("years"): any number answers "how many years".
    pub measures: Words,
    pub time_words: Words,
    pub role_words: Words,
    pub place_words: Words,
    pub reason_words: Words,
    pub reported_speech: Words,
}

/// Words (or phrases read whole) from a data file, in the file's order, looked up by
/// membership.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(from = "Vec<String>")]
pub struct Words {
    list: Vec<String>,
    set: HashSet<String>,
}

impl Words {
    /// One entry a line; `#` starts a comment, blank lines are skipped.
    pub fn parse(text: &str) -> Words {
        data_lines(text)
            .map(str::to_string)
            .collect::<Vec<_>>()
            .into()
    }

    pub fn contains(&self, word: &str) -> bool {
        self.set.contains(word)
    }

    /// In the file's order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// These words and `more`'s, in this order.
    pub fn and(&self, more: &Words) -> Words {
        self.iter()
            .chain(more.iter())
            .map(str::to_string)
            .collect::<Vec<_>>()
            .into()
    }
}

impl From<Vec<String>> for Words {
    fn from(list: Vec<String>) -> Words {
        let set = list.iter().cloned().collect();
        Words { list, set }
    }
}

/// A long list of words (tens of thousands), borrowed from its data file and indexed the
/// first time a word is looked up: building it with the rest of the language cost a sixth of
/// a `citebot ask`'s instructions, and most questions never ask (only a word that may be a
/// typo does).
pub struct Dictionary {
    text: &'static str,
    set: std::sync::OnceLock<HashSet<&'static str>>,
}

impl Dictionary {
    /// One word a line, nothing else: no comments, no blank lines (a dictionary is long, and
    /// read as it is).
    pub const fn new(text: &'static str) -> Dictionary {
        Dictionary {
            text,
            set: std::sync::OnceLock::new(),
        }
    }

    pub fn contains(&self, word: &str) -> bool {
        self.set
            .get_or_init(|| self.text.lines().collect())
            .contains(word)
    }

    /// In the file's order.
    pub fn iter(&self) -> impl Iterator<Item = &'static str> {
        self.text.lines()
    }
}

/// Phrases of one or more words, in the file's order (where the first match wins, the order
/// is the priority).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(from = "Vec<String>")]
pub struct Phrases(Vec<Vec<String>>);

impl Phrases {
    /// One phrase a line, its words separated by spaces; `#` starts a comment.
    pub fn parse(text: &str) -> Phrases {
        data_lines(text)
            .map(str::to_string)
            .collect::<Vec<_>>()
            .into()
    }

    /// The first phrase `words` start with.
    pub fn first_opening(&self, words: &[&str]) -> Option<&[String]> {
        self.iter().find(|p| opens(words, p))
    }

    /// Whether `words` start with one of the phrases.
    pub fn opens(&self, words: &[&str]) -> bool {
        self.first_opening(words).is_some()
    }

    /// Whether `words` are, whole, one of the phrases.
    pub fn is(&self, words: &[&str]) -> bool {
        self.iter()
            .any(|p| p.len() == words.len() && opens(words, p))
    }

    /// Whether one of the phrases stands anywhere in `words`.
    pub fn within(&self, words: &[&str]) -> bool {
        (0..words.len()).any(|i| self.opens(&words[i..]))
    }

    pub fn iter(&self) -> impl Iterator<Item = &[String]> {
        self.0.iter().map(Vec::as_slice)
    }

    /// These phrases, then `more`'s.
    pub fn and(&self, more: &Phrases) -> Phrases {
        Phrases(self.0.iter().chain(&more.0).cloned().collect())
    }
}

impl From<Vec<String>> for Phrases {
    fn from(lines: Vec<String>) -> Phrases {
        Phrases(lines.iter().map(|l| words_of(l)).collect())
    }
}

/// Whether `words` start with `phrase`.
fn opens(words: &[&str], phrase: &[String]) -> bool {
    words.len() >= phrase.len() && phrase.iter().zip(words).all(|(p, w)| p == w)
}

fn words_of(phrase: &str) -> Vec<String> {
    phrase.split_whitespace().map(str::to_string).collect()
}

/// A TOML table of phrases by word: `whats = "what is"`.
fn phrase_map<'de, D>(de: D) -> Result<HashMap<String, Vec<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let map: HashMap<String, String> = serde::Deserialize::deserialize(de)?;
    Ok(map.into_iter().map(|(k, v)| (k, words_of(&v))).collect())
}

/// The entries of a data file: trimmed lines, comments and blank lines left out.
fn data_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
}

/// Asserts that a word list is sorted, without repeats, and written in `letters` only (a
/// stop word in capitals or with ё would never match the analyzer's folded words).
#[cfg(test)]
fn assert_sorted_in(words: &Words, letters: impl Fn(char) -> bool) {
    let words: Vec<&str> = words.iter().collect();
    let mut sorted = words.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, words);
    assert!(words.iter().all(|w| w.chars().all(&letters)), "{words:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_language_is_told_by_its_script_and_a_tag_by_its_primary_part() {
        assert_eq!(Lang::detect("кто такой Кабулов"), Some(Lang::Ru));
        assert_eq!(Lang::detect("что сказал Kabulov?"), Some(Lang::Ru));
        assert_eq!(Lang::detect("Who is Kabulov?"), Some(Lang::En));
        assert_eq!(Lang::detect("what did Путин say"), Some(Lang::En));
        assert_eq!(Lang::detect("Ёлки"), Some(Lang::Ru));
        for nothing in ["", "?", "👍👍", "2018", "¶4 — …"] {
            assert_eq!(Lang::detect(nothing), None, "{nothing:?}");
        }
        assert_eq!(Lang::from_code("ru"), Some(Lang::Ru));
        assert_eq!(Lang::from_code("RU-ru"), Some(Lang::Ru));
        assert_eq!(Lang::from_code("en-US"), Some(Lang::En));
        assert_eq!(Lang::from_code("pt-br"), None);
        assert_eq!(Lang::from_code(""), None);
    }

    #[test]
    fn russian_words_are_written_in_latin_letters_as_names_are() {
        assert_eq!(transliterate("Кабулов").as_deref(), Some("kabulov"));
        assert_eq!(
            transliterate("Мазари-Шариф").as_deref(),
            Some("mazari-sharif")
        );
        assert_eq!(transliterate("Щукин").as_deref(), Some("shchukin"));
        assert_eq!(transliterate("ми17").as_deref(), Some("mi17"));
        assert_eq!(transliterate("Kabulov"), None);
    }

    #[test]
    fn data_files_skip_comments_and_keep_their_order() {
        let words = Words::parse("# a comment\nzebra\n\n  apple  # trailing\n");
        assert_eq!(words.iter().collect::<Vec<_>>(), ["zebra", "apple"]);
        assert!(words.contains("apple") && !words.contains("# a comment"));
        let phrases = Phrases::parse("what about\nwhat\n");
        assert_eq!(
            phrases
                .first_opening(&["what", "about", "egypt"])
                .unwrap()
                .len(),
            2
        );
        assert!(phrases.is(&["what"]) && !phrases.is(&["what", "else"]));
        assert!(phrases.within(&["and", "what", "about"]));
        assert!(!phrases.opens(&["and", "what"]));
    }
}
