//! Turning text into terms: the tokenizer shared by the index and the questions (`words`),
//! and the analysis that turns a question into weighted concepts.
//!
//! User text never reaches tantivy's `QueryParser`: a question is only ever cut into words
//! here, so no input can be a syntax error or a match-everything query. Each informative word
//! of the question becomes a [`Concept`], satisfied by any of its [`Alternative`]s: the word
//! itself (weight 1), its synonyms and aliases from `synonyms.txt` (lower), the indexed word
//! nearest to a typo (lower), or the knowledge's word in another language that a word no
//! passage holds means (`bridge`, lowest).

use std::collections::{HashMap, HashSet};

use tantivy::tokenizer::TextAnalyzer;

use crate::lang::{self, Language};

mod words;
pub use words::{
    index_analyzer, plain_analyzer, tokens, words, StemmerFn, WordTokenStream, WordTokenizer,
};

/// The name under which the index analyzer is registered with tantivy.
pub const ANALYZER: &str = "citebot";

/// Questions are cut to this many characters before analysis, whatever the caller allows.
pub const MAX_QUESTION_CHARS: usize = 1_000;

/// Weight of a synonym or alias, relative to the user's own word.
pub const SYNONYM_WEIGHT: f32 = 0.6;
/// Weight of the indexed word that a typo was corrected to.
pub const TYPO_WEIGHT: f32 = 0.8;
/// Weight of the indexed word of another language that a word was read as (`bridge`): a
/// guess, and a rougher one than a typo's correction. Swept on the tune part of
/// `questions_ru` (0.15 to 1.0): from 0.4 up, more answers and fewer refusals of what the
/// article does not answer; 0.3 keeps the refusals and answers more (docs/retrieval.md).
pub const TRANSLATION_WEIGHT: f32 = 0.3;

/// Whether `plain` (lower case, folded) is an English stop word. For code that holds no
/// [`Language`] yet (the synthetic corpus of `bench`); the rest asks its own.
pub fn is_stop_word(plain: &str) -> bool {
    lang::english().is_stop_word(plain)
}

/// Whether `question` speaks of a document itself ("Who wrote the piece on the Balkans?"),
/// however it then names which one: by the English document words, until ranking holds a
/// [`Language`].
pub fn speaks_of_a_document(question: &str) -> bool {
    let lang = lang::english();
    words(question)
        .iter()
        .any(|t| lang.document_words.contains(&t.text.to_lowercase()))
}

/// Where an alternative of a concept comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Own,
    Synonym,
    Typo,
    /// The knowledge's word of another language nearest in meaning (see `bridge`).
    Translation,
}

/// One way a concept can be found in a passage: a stemmed term, or several as a phrase.
#[derive(Debug, Clone, PartialEq)]
pub struct Alternative {
    pub terms: Vec<String>,
    pub weight: f32,
    pub source: Source,
    /// Spellings (lower-cased, unstemmed) that match this alternative exactly; a passage word
    /// that only shares the stem matches a little less ("author" is not "authority", though
    /// both stem to "author"). Empty: any spelling is exact.
    pub forms: Vec<String>,
}

/// One informative word (or multi-word name) of the question.
#[derive(Debug, Clone, PartialEq)]
pub struct Concept {
    /// The words as the user wrote them.
    pub surface: String,
    pub alternatives: Vec<Alternative>,
}

/// A question, analysed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub concepts: Vec<Concept>,
    /// Whether the question was cut to [`MAX_QUESTION_CHARS`].
    pub truncated: bool,
}

impl Query {
    pub fn is_empty(&self) -> bool {
        self.concepts.is_empty()
    }

    /// Every stemmed term of every alternative.
    pub fn terms(&self) -> impl Iterator<Item = &str> {
        self.concepts
            .iter()
            .flat_map(|c| c.alternatives.iter())
            .flat_map(|a| a.terms.iter().map(String::as_str))
    }
}

/// What analysis needs to know of the indexed words: how common a term is, and which indexed
/// term is nearest to one that is not there.
pub trait Vocabulary {
    /// In how many passages `term` (stemmed) occurs.
    fn doc_freq(&self, term: &str) -> u64;
    /// The indexed term within `max_distance` edits of `term`, the most common on a tie.
    fn nearest(&self, term: &str, max_distance: u8) -> Option<String>;
    /// How many passages are indexed.
    fn num_passages(&self) -> u64;
    /// For each of `words` (lower case, of a question), the indexed term (stemmed) of another
    /// language that it means, when one is near enough. None without a multilingual model.
    fn translate(&self, words: &[&str]) -> Vec<Option<String>> {
        vec![None; words.len()]
    }
}

/// Solr-format synonyms: `a, b, c` makes the phrases equivalent; `a, b => c, d` maps the left
/// phrases to the right ones only. `#` starts a comment. Phrases are stored stemmed.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    /// For a phrase (stemmed terms), the phrases it may be replaced by.
    map: HashMap<Vec<String>, Vec<Vec<String>>>,
    /// The spellings of each stemmed one-word entry, as the file writes them.
    forms: HashMap<String, Vec<String>>,
    longest: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SynonymError {
    pub line: usize,
    pub message: String,
}

impl Synonyms {
    /// Parses a synonyms file of English knowledge (its phrases stemmed as English).
    pub fn parse(text: &str) -> Result<Synonyms, SynonymError> {
        let mut plain = plain_analyzer();
        let mut stemmer = StemmerFn::default();
        let mut phrase = |s: &str| -> Vec<String> {
            tokens(&mut plain, s)
                .into_iter()
                .filter(|t| t.position_length == 1)
                .map(|t| stemmer.stem(&t.text))
                .collect()
        };
        let mut syn = Synonyms::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |message: &str| SynonymError {
                line: n + 1,
                message: message.to_string(),
            };
            let (lhs, rhs) = match line.split_once("=>") {
                Some((l, r)) => (l, Some(r)),
                None => (line, None),
            };
            let parse_side = |side: &str,
                              phrase: &mut dyn FnMut(&str) -> Vec<String>,
                              forms: &mut HashMap<String, Vec<String>>|
             -> Vec<Vec<String>> {
                let mut out = Vec::new();
                for entry in side.split(',') {
                    let stems = phrase(entry.trim());
                    if let [stem] = stems.as_slice() {
                        let spelling: String = entry
                            .trim()
                            .to_lowercase()
                            .chars()
                            .filter(|c| c.is_alphanumeric())
                            .collect();
                        let known = forms.entry(stem.clone()).or_default();
                        if !known.contains(&spelling) {
                            known.push(spelling);
                        }
                    }
                    if !stems.is_empty() {
                        out.push(stems);
                    }
                }
                out
            };
            let left = parse_side(lhs, &mut phrase, &mut syn.forms);
            if left.is_empty() {
                return Err(err("no words before `=>` or between commas"));
            }
            let right = match rhs {
                Some(r) => {
                    let right = parse_side(r, &mut phrase, &mut syn.forms);
                    if right.is_empty() {
                        return Err(err("no words after `=>`"));
                    }
                    right
                }
                None => left.clone(),
            };
            for from in &left {
                let to = syn.map.entry(from.clone()).or_default();
                for p in &right {
                    if p != from && !to.contains(p) {
                        to.push(p.clone());
                    }
                }
                syn.longest = syn.longest.max(from.len());
            }
        }
        Ok(syn)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn get(&self, phrase: &[String]) -> Option<&Vec<Vec<String>>> {
        self.map.get(phrase)
    }

    /// How the file spells a one-word entry (its stem given).
    fn forms(&self, terms: &[String]) -> Vec<String> {
        match terms {
            [one] => self.forms.get(one).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// A word of the question: a plain word, or a hyphenated compound standing for its parts.
struct Unit {
    surface: String,
    plain: String,
    stem: String,
}

/// Analyses a question into concepts. Pure given the vocabulary: the same question and index
/// give the same query.
pub struct Analyzer {
    lang: &'static Language,
    plain: TextAnalyzer,
    stemmer: StemmerFn,
    stop_stems: std::sync::Arc<HashSet<String>>,
}

/// English.
impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new(lang::english())
    }
}

impl Clone for Analyzer {
    fn clone(&self) -> Self {
        Analyzer {
            lang: self.lang,
            plain: self.plain.clone(),
            stemmer: self.stemmer.clone(),
            stop_stems: self.stop_stems.clone(),
        }
    }
}

impl Analyzer {
    /// An analyzer of questions in `lang`.
    pub fn new(lang: &'static Language) -> Analyzer {
        let mut stemmer = StemmerFn::default();
        let stop_stems =
            std::sync::Arc::new(lang.stop_words.iter().map(|w| stemmer.stem(w)).collect());
        Analyzer {
            lang,
            plain: plain_analyzer(),
            stemmer,
            stop_stems,
        }
    }

    /// The language it reads.
    pub fn language(&self) -> &'static Language {
        self.lang
    }

    pub fn analyse(
        &mut self,
        question: &str,
        synonyms: &Synonyms,
        vocab: &dyn Vocabulary,
    ) -> Query {
        let (question, truncated) = truncate_chars(question, MAX_QUESTION_CHARS);
        let units = self.units(question);
        let in_phrase = in_synonym_phrases(&units, synonyms);
        // Typos after the phrases, whose words are no typos, and before the synonyms, so
        // that a corrected word can still find its synonyms.
        let corrected = self.typo_fixes(&units, &in_phrase, synonyms, vocab);
        let mut concepts = self.concepts(&units, &corrected, synonyms);
        // "this article" names the document, not a topic: asked with a topic ("Who wrote this
        // article?"), it would pull the answer toward the passage made of the metadata.
        if concepts.iter().any(|c| !self.is_document_word(c)) {
            concepts.retain(|c| !self.is_document_word(c));
        }
        Query {
            concepts,
            truncated,
        }
    }

    /// For each unit that no passage holds, the indexed word it stands for: its spelling in
    /// Latin letters, else the word it was mistyped for, else its translation (see `bridge`),
    /// asked for all such words at once. A word stands for itself when it is in a synonym
    /// phrase, a stop word, in the index or a synonym itself.
    fn typo_fixes(
        &self,
        units: &[Unit],
        in_phrase: &[bool],
        synonyms: &Synonyms,
        vocab: &dyn Vocabulary,
    ) -> Vec<Option<(String, Source)>> {
        let mut corrected: Vec<Option<(String, Source)>> = Vec::with_capacity(units.len());
        let mut untranslated = Vec::new();
        for (i, (u, in_phrase)) in units.iter().zip(in_phrase).enumerate() {
            let fix = if *in_phrase
                || self.lang.is_stop_word(&u.plain)
                || vocab.doc_freq(&u.stem) > 0
                || synonyms.get(std::slice::from_ref(&u.stem)).is_some()
            {
                None
            } else if let Some(fix) = self.by_transliteration(u, vocab) {
                Some(fix)
            } else {
                let fix = typo_distance(&u.stem)
                    .and_then(|d| vocab.nearest(&u.stem, d))
                    // An English word is spelt as meant: "raining" is not "training", "snow"
                    // is not "now". It may still be another form of an indexed word, which
                    // differs in its ending ("rebuilt", "rebuild").
                    .filter(|fix| !self.lang.is_word(&u.plain) || another_form(&u.stem, fix));
                if fix.is_none() {
                    untranslated.push(i);
                }
                fix
            };
            corrected.push(fix.map(|fix| (fix, Source::Typo)));
        }
        let words: Vec<&str> = untranslated
            .iter()
            .map(|&i| units[i].plain.as_str())
            .collect();
        for (i, translation) in untranslated.into_iter().zip(vocab.translate(&words)) {
            corrected[i] = translation
                .filter(|t| vocab.doc_freq(t) > 0)
                .map(|t| (t, Source::Translation));
        }
        corrected
    }

    /// The indexed word a Russian word of the question stands for when the knowledge writes
    /// it in Latin letters: a name ("Кабулов" is "Kabulov", "Гани" is "Ghani", one letter
    /// off). Weighed as a corrected typo: a transliteration is a guess, and so is the match.
    fn by_transliteration(&self, u: &Unit, vocab: &dyn Vocabulary) -> Option<String> {
        let mut stemmer = self.stemmer.clone();
        // The word as typed, then its stem ("Кабулова" → "Кабулов"): inflected, a name
        // keeps its stem.
        [&u.plain, &u.stem]
            .into_iter()
            .filter_map(|w| lang::transliterate(w))
            .map(|latin| stemmer.stem(&latin))
            .find_map(|latin| {
                if vocab.doc_freq(&latin) > 0 {
                    Some(latin)
                } else {
                    typo_distance(&latin).and_then(|d| vocab.nearest(&latin, d))
                }
            })
    }

    /// The question's concepts in order: at each unit, the longest phrase with synonyms that
    /// starts there, else the unit alone (its typo corrected); stop words and concepts
    /// already asked are left out.
    fn concepts(
        &self,
        units: &[Unit],
        corrected: &[Option<(String, Source)>],
        synonyms: &Synonyms,
    ) -> Vec<Concept> {
        let stem_at = |i: usize| match &corrected[i] {
            Some((fix, _)) => fix.clone(),
            None => units[i].stem.clone(),
        };

        let mut concepts = Vec::new();
        let mut i = 0;
        while i < units.len() {
            let matched = longest_synonym_phrase(synonyms, units.len(), i, &stem_at);
            let (len, own) = match &matched {
                Some(phrase) => (phrase.len, phrase.stems.clone()),
                None => (1, vec![stem_at(i)]),
            };
            let span = &units[i..i + len];
            let fixed = match &corrected[i] {
                Some((_, source)) if len == 1 => *source,
                _ => Source::Own,
            };
            // A typo corrected into a stop word ("abut" → "about") was a stop word all along.
            let stop = span.iter().all(|u| self.lang.is_stop_word(&u.plain))
                || (fixed != Source::Own && self.stop_stems.contains(&own[0]));
            let duplicate = concepts
                .iter()
                .any(|c: &Concept| c.alternatives[0].terms == own);
            if !stop && !duplicate {
                let alts = matched.as_ref().map_or(&[][..], |phrase| phrase.synonyms);
                concepts.push(concept(span, own, fixed, alts, synonyms));
            }
            i += len;
        }
        concepts
    }

    fn is_document_word(&self, c: &Concept) -> bool {
        self.lang.document_words.contains(&c.surface.to_lowercase())
    }

    /// The question's words; a hyphenated compound stands once for all its parts.
    fn units(&mut self, question: &str) -> Vec<Unit> {
        let raw = words(question);
        let plain = tokens(&mut self.plain, question);
        let mut units = Vec::new();
        let mut skip_until = 0;
        for (i, t) in plain.iter().enumerate() {
            // The joined form of a compound comes right after its first part: keep it alone.
            let compound_follows = plain.get(i + 1).is_some_and(|n| n.position == t.position);
            if t.position < skip_until || compound_follows {
                continue;
            }
            if t.position_length > 1 {
                skip_until = t.position + t.position_length;
            }
            let surface = raw
                .iter()
                .find(|r| r.position == t.position && r.position_length == t.position_length)
                .map(|r| question[r.offset_from..r.offset_to].to_string())
                .unwrap_or_else(|| t.text.clone());
            units.push(Unit {
                surface,
                stem: self.stemmer.stem(&t.text),
                plain: t.text.clone(),
            });
        }
        units
    }
}

/// Which units are in a known multi-word phrase ("took part"): those are no typos, whatever
/// the index holds.
fn in_synonym_phrases(units: &[Unit], synonyms: &Synonyms) -> Vec<bool> {
    let mut in_phrase = vec![false; units.len()];
    for i in 0..units.len() {
        for len in 2..=synonyms.longest.min(units.len() - i) {
            let phrase: Vec<String> = units[i..i + len].iter().map(|u| u.stem.clone()).collect();
            if synonyms.get(&phrase).is_some() {
                in_phrase[i..i + len].iter_mut().for_each(|x| *x = true);
            }
        }
    }
    in_phrase
}

/// A phrase of the question that has synonyms.
struct SynonymPhrase<'s> {
    /// Its length in units.
    len: usize,
    stems: Vec<String>,
    synonyms: &'s [Vec<String>],
}

/// The longest phrase with synonyms among the `count` units' stems (`stem_at`) that starts at
/// unit `i`.
fn longest_synonym_phrase<'s>(
    synonyms: &'s Synonyms,
    count: usize,
    i: usize,
    stem_at: &impl Fn(usize) -> String,
) -> Option<SynonymPhrase<'s>> {
    for len in (1..=synonyms.longest.min(count - i)).rev() {
        let phrase: Vec<String> = (i..i + len).map(stem_at).collect();
        if let Some(alts) = synonyms.get(&phrase) {
            return Some(SynonymPhrase {
                len,
                stems: phrase,
                synonyms: alts,
            });
        }
    }
    None
}

/// The concept of the units `span`: its own terms `own` first (`source` says whether they
/// are the words as typed or what they were read as: a corrected typo or a translation
/// weighs less and has no form as typed), then its synonyms `alts`.
fn concept(
    span: &[Unit],
    own: Vec<String>,
    source: Source,
    alts: &[Vec<String>],
    synonyms: &Synonyms,
) -> Concept {
    let own_form: String = span.iter().map(|u| u.plain.as_str()).collect();
    let mut alternatives = vec![Alternative {
        terms: own,
        weight: match source {
            Source::Own => 1.0,
            Source::Translation => TRANSLATION_WEIGHT,
            Source::Typo | Source::Synonym => TYPO_WEIGHT,
        },
        source,
        forms: match source {
            Source::Own => vec![own_form],
            _ => Vec::new(),
        },
    }];
    for alt in alts {
        alternatives.push(Alternative {
            terms: alt.clone(),
            weight: SYNONYM_WEIGHT,
            source: Source::Synonym,
            forms: synonyms.forms(alt),
        });
    }
    let surface = span
        .iter()
        .map(|u| u.surface.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Concept {
        surface,
        alternatives,
    }
}

/// How many edits a word of this length may be from its correction: none for short words,
/// where one edit makes another real word.
fn typo_distance(term: &str) -> Option<u8> {
    match term.chars().count() {
        0..=3 => None,
        4..=7 => Some(1),
        _ => Some(2),
    }
}

/// Whether `fix` may be another form of the word `stem`: they differ in the last two
/// letters at most.
fn another_form(stem: &str, fix: &str) -> bool {
    let shared = stem
        .chars()
        .zip(fix.chars())
        .take_while(|(a, b)| a == b)
        .count();
    shared >= 4 && shared + 2 >= stem.chars().count().max(fix.chars().count())
}

/// The first `max` characters of `s`, cut at a char boundary.
pub fn truncate_chars(s: &str, max: usize) -> (&str, bool) {
    match s.char_indices().nth(max) {
        Some((i, _)) => (&s[..i], true),
        None => (s, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Vocab(Vec<(&'static str, u64)>);
    impl Vocabulary for Vocab {
        fn doc_freq(&self, term: &str) -> u64 {
            self.0
                .iter()
                .find(|(t, _)| *t == term)
                .map_or(0, |(_, f)| *f)
        }
        fn nearest(&self, term: &str, max: u8) -> Option<String> {
            self.0
                .iter()
                .filter(|(t, _)| strsim_levenshtein(t, term) <= max as usize)
                .max_by_key(|(_, f)| *f)
                .map(|(t, _)| t.to_string())
        }
        fn num_passages(&self) -> u64 {
            10
        }
    }

    fn strsim_levenshtein(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                cur.push(
                    (prev[j] + usize::from(ca != *cb))
                        .min(prev[j + 1] + 1)
                        .min(cur[j] + 1),
                );
            }
            prev = cur;
        }
        prev[b.len()]
    }

    fn analyse(q: &str, syn: &str) -> Query {
        let vocab = Vocab(vec![
            ("withdraw", 2),
            ("rebuild", 2),
            ("train", 3),
            ("kabulov", 2),
            ("about", 9),
            ("russia", 9),
            ("unit", 5),
            ("state", 5),
            ("us", 5),
        ]);
        Analyzer::default().analyse(q, &Synonyms::parse(syn).unwrap(), &vocab)
    }

    /// The vocabulary above, with a dictionary standing for the bridge between languages.
    struct Translating(Vocab, Vec<(&'static str, &'static str)>);
    impl Vocabulary for Translating {
        fn doc_freq(&self, term: &str) -> u64 {
            self.0.doc_freq(term)
        }
        fn nearest(&self, term: &str, max: u8) -> Option<String> {
            self.0.nearest(term, max)
        }
        fn num_passages(&self) -> u64 {
            self.0.num_passages()
        }
        fn translate(&self, words: &[&str]) -> Vec<Option<String>> {
            words
                .iter()
                .map(|w| {
                    (self.1.iter())
                        .find(|(from, _)| from == w)
                        .map(|(_, to)| to.to_string())
                })
                .collect()
        }
    }

    #[test]
    fn a_word_no_passage_holds_is_read_as_its_translation() {
        let vocab = Translating(
            Vocab(vec![("heroin", 2), ("russia", 9), ("героин", 1)]),
            vec![
                ("волнует", "worri"),
                ("героин", "heroin"),
                ("россию", "russia"),
            ],
        );
        let mut analyzer = Analyzer::new(lang::russian());
        let q = analyzer.analyse("почему россию волнует героин", &Synonyms::default(), &vocab);
        let read: Vec<(String, Source, f32)> = (q.concepts.iter())
            .map(|c| &c.alternatives[0])
            .map(|a| (a.terms.join(" "), a.source, a.weight))
            .collect();
        assert_eq!(
            read,
            [
                // "россию" is no indexed word, nor a typo of one.
                ("russia".into(), Source::Translation, TRANSLATION_WEIGHT),
                // A translation that no passage holds is no reading ("worri" is not indexed).
                ("волн".into(), Source::Own, 1.0),
                // A word the index holds stands for itself, though it has a translation.
                ("героин".into(), Source::Own, 1.0),
            ]
        );
    }

    fn own_terms(q: &Query) -> Vec<String> {
        q.concepts
            .iter()
            .map(|c| c.alternatives[0].terms.join(" "))
            .collect()
    }

    #[test]
    fn question_words_and_stop_words_go() {
        let q = analyse("What did Kabulov say about the withdrawal?", "");
        assert_eq!(own_terms(&q), ["kabulov", "withdraw"]);
        let q = analyse("Who is the author?", "");
        assert_eq!(own_terms(&q), ["author"]);
        assert!(analyse("what is it?", "").is_empty());
        assert!(analyse("", "").is_empty());
        assert!(analyse("?!(*)\\ \"", "").is_empty());
        // Contractions, with either apostrophe, are function words too.
        let q = analyse("It'll collapse, who'd say so? What’re they?", "");
        assert_eq!(own_terms(&q), ["collaps"]);
        // So are chat's shorthands for them ("something", "right now", "though"), and
        // adverbs that only stress ("actually", "really").
        let q = analyse("tbh is smth actually happening w/ kabulov rn tho", "");
        assert_eq!(own_terms(&q), ["kabulov"]);
        // And vague nouns that only frame a question ("what kind of", "the airspace stuff").
        let q = analyse("what sort of stuff, what kind of helicopters", "");
        assert_eq!(own_terms(&q), ["helicopt"]);
    }

    #[test]
    fn words_of_synonym_phrases_are_not_typos() {
        // "took" is not indexed and "look" is one edit away, but "took part" is a phrase.
        let vocab = Vocab(vec![("look", 3), ("part", 2), ("particip", 2)]);
        let syn = Synonyms::parse("take part, took part, participate").unwrap();
        let q = Analyzer::default().analyse("Who took part?", &syn, &vocab);
        assert_eq!(own_terms(&q), ["took part"]);
        assert_eq!(q.concepts[0].alternatives[2].terms, ["particip"]);
    }

    #[test]
    fn the_document_itself_is_no_topic() {
        assert_eq!(
            own_terms(&analyse("Who wrote this article?", "")),
            ["wrote"]
        );
        assert_eq!(
            own_terms(&analyse("What is the article about?", "")),
            ["articl"]
        );
        assert_eq!(
            own_terms(&analyse("What does the text say about Kabulov?", "")),
            ["kabulov"]
        );
    }

    #[test]
    fn typos_are_corrected_to_indexed_words() {
        let q = analyse("what did kabulov say abut withdrawl", "");
        // "abut" becomes the stop word "about" and goes; "withdrawl" becomes "withdraw".
        assert_eq!(own_terms(&q), ["kabulov", "withdraw"]);
        assert_eq!(q.concepts[1].alternatives[0].source, Source::Typo);
        assert_eq!(q.concepts[1].surface, "withdrawl");
    }

    #[test]
    fn english_words_are_not_typos() {
        // "withdrawing" is indexed by its stem; "snow", a word one letter from the stop word
        // "now", stays "snow".
        let q = analyse("is kabulov withdrawing in the snow", "");
        assert_eq!(own_terms(&q), ["kabulov", "withdraw", "snow"]);
        assert!(q
            .concepts
            .iter()
            .all(|c| c.alternatives[0].source == Source::Own));
        // "raining" is a word one letter from the indexed "train" and no form of it;
        // "rebuilt" is another form of the indexed "rebuild".
        let q = analyse("raining rebuilt", "");
        assert_eq!(own_terms(&q), ["rain", "rebuild"]);
        assert_eq!(q.concepts[1].alternatives[0].source, Source::Typo);
        let is_english_word = |w: &str| lang::english().is_word(w);
        assert!(is_english_word("raining") && is_english_word("snow"));
        assert!(!is_english_word("withdrawl") && !is_english_word("kabulv"));
    }

    #[test]
    fn synonyms_add_lower_weighted_alternatives() {
        let syn = "us, united states, america\nwrote => author\n";
        let q = analyse("Did the United States and Russia agree?", syn);
        assert_eq!(own_terms(&q), ["unit state", "russia", "agre"]);
        let alts: Vec<(String, f32)> = q.concepts[0]
            .alternatives
            .iter()
            .map(|a| (a.terms.join(" "), a.weight))
            .collect();
        assert_eq!(
            alts,
            [
                ("unit state".into(), 1.0),
                ("us".into(), SYNONYM_WEIGHT),
                ("america".into(), SYNONYM_WEIGHT)
            ]
        );
        let q = analyse("who wrote it", syn);
        assert_eq!(q.concepts[0].alternatives[1].terms, ["author"]);
        let q = analyse("who is the author", syn);
        assert_eq!(q.concepts[0].alternatives.len(), 1, "=> maps one way only");
    }

    #[test]
    fn hyphenated_names_are_one_concept() {
        let q = analyse("Where is Mazar-i-Sharif and the Mi-17?", "");
        assert_eq!(own_terms(&q), ["mazarisharif", "mi17"]);
        assert_eq!(q.concepts[1].surface, "Mi-17");
    }

    #[test]
    fn synonym_file_errors_name_the_line() {
        let err = Synonyms::parse("a, b\n , \n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(Synonyms::parse("a => ").is_err());
        assert_eq!(Synonyms::parse("# only a comment\n\n").unwrap().len(), 0);
    }

    #[test]
    fn long_questions_are_cut_at_char_boundaries() {
        let q = "é".repeat(MAX_QUESTION_CHARS + 5);
        let (cut, truncated) = truncate_chars(&q, MAX_QUESTION_CHARS);
        assert!(truncated);
        assert_eq!(cut.chars().count(), MAX_QUESTION_CHARS);
        assert!(analyse(&q, "").truncated);
    }
}
