//! Words across languages: a question's word read as the knowledge's word of another
//! language that means the same.
//!
//! A question in Russian shares no words with an English article but its names, so matching
//! by words had nothing to say about it, and what a passage covers of the question (which
//! the answer policy weighs) read nothing. The multilingual model puts a word close to its
//! translation ("героин" and "heroin" 0.93, "стабильности" and "stability" 0.93, where
//! unrelated words sit below 0.88). So every word of the knowledge is embedded once, per
//! language, beside the sentences (and cached with them), and a question's word that no
//! passage holds, nor corrects to one, is embedded with the others of its question in one
//! batch and read as the nearest word of the knowledge in another language, when near
//! enough. Analysis weighs it well under a corrected typo (`analysis::TRANSLATION_WEIGHT`):
//! a rougher guess.
//!
//! This is no translation of the question: one word for one word, and only words the
//! knowledge holds. An abbreviation is read worst: "РФ" is "russia" (0.90), but "США" is
//! nearest to "south" (0.89, over the threshold), not "united states" (below "south"), which
//! is one reason a translated word weighs little.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::analysis::{plain_analyzer, tokens, StemmerFn};
use crate::embed::{EmbedError, Model, Progress, Role, SentenceVectors};
use crate::knowledge::Knowledge;
use crate::lang::Lang;

/// At most this many words of one language are embedded: the most frequent. The article has
/// about 600; a library of books would have more, mostly rare.
const MAX_WORDS: usize = 20_000;
/// Shorter words of the knowledge are mostly function words, which the model reads badly
/// alone.
const MIN_CHARS: usize = 3;

/// Question words whose reading is remembered, at most: a word costs about 100 bytes, and
/// readers of one knowledge ask with much the same words.
const MEMO_WORDS: usize = 50_000;

/// The knowledge's words, per language, with their vectors.
pub struct Bridge {
    model: Arc<Model>,
    lexicons: Vec<Lexicon>,
    /// For a question's word already read: the nearest word of another language (its stem)
    /// and their cosine. Embedding a question's words costs as much as embedding the
    /// question; most come again. Emptied when full.
    memo: Mutex<HashMap<String, Option<(String, f32)>>>,
}

/// The words of the documents in one language.
struct Lexicon {
    lang: Lang,
    /// Each word's stem, as the index holds it, in the vectors' row order.
    stems: Vec<String>,
    vectors: SentenceVectors,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let words: Vec<(Lang, usize)> = self
            .lexicons
            .iter()
            .map(|l| (l.lang, l.stems.len()))
            .collect();
        f.debug_struct("Bridge").field("words", &words).finish()
    }
}

impl Bridge {
    /// Embeds `by_language`, the knowledge's words ([`Bridge::words_of`]), with `model` (a
    /// multilingual one), or reads their vectors from `cache_dir`, counting in `progress` and
    /// asking `go_on` between parts (`None`: told to stop; what was embedded is kept in the
    /// cache).
    pub fn load(
        model: Arc<Model>,
        by_language: Words,
        cache_dir: Option<&Path>,
        (progress, go_on): (&Progress, &dyn Fn() -> bool),
    ) -> Result<Option<Bridge>, EmbedError> {
        let texts: Vec<&str> = (by_language.iter())
            .flat_map(|(_, words)| words.iter().map(String::as_str))
            .collect();
        let starts = (0..=texts.len() as u32).collect();
        let filled = SentenceVectors::fill(
            &model,
            (&texts, starts),
            Role::Query,
            cache_dir,
            progress,
            go_on,
        )?;
        let Some(filled) = filled else {
            return Ok(None);
        };
        let mut next = 0;
        let mut lexicons = Vec::new();
        for (lang, words) in by_language {
            let rows: Vec<Vec<f32>> = (next..next + words.len())
                .map(|row| filled.vectors.row(row).to_vec())
                .collect();
            next += words.len();
            let starts = (0..=words.len() as u32).collect();
            let mut stemmer = StemmerFn::default();
            lexicons.push(Lexicon {
                lang,
                stems: words.iter().map(|w| stemmer.stem(w)).collect(),
                vectors: SentenceVectors::from_rows(model.dim, &rows, starts),
            });
        }
        Ok(Some(Bridge {
            model,
            lexicons,
            memo: Mutex::default(),
        }))
    }

    /// For each of `words` (lower case), the stem of the knowledge's word in another language
    /// nearest to it in meaning, when their cosine is at least `min_cosine`. The words not
    /// read before are embedded together; if that fails, they are read as nothing.
    pub fn translate(&self, words: &[&str], min_cosine: f32) -> Vec<Option<String>> {
        let memo = || {
            self.memo
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        let mut read: HashMap<String, Option<(String, f32)>> = HashMap::new();
        let mut new = Vec::new();
        {
            let memo = memo();
            for &word in words {
                match memo.get(word) {
                    Some(known) => {
                        read.insert(word.to_string(), known.clone());
                    }
                    None if self.has_targets(word) => new.push(word),
                    None => {}
                }
            }
        }
        if new.is_empty() {
            return answer(words, &read, min_cosine);
        }
        // Embedded without the lock: questions asked at once are read at once, and a word
        // two of them bring is embedded twice at worst.
        match self.model.embed_queries(&new) {
            Ok(vectors) => {
                let mut memo = memo();
                if memo.len() + new.len() > MEMO_WORDS {
                    memo.clear();
                }
                for (word, vector) in new.iter().zip(&vectors) {
                    let nearest = self.nearest(word, vector);
                    memo.insert(word.to_string(), nearest.clone());
                    read.insert(word.to_string(), nearest);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not embed a question's words to translate them")
            }
        }
        answer(words, &read, min_cosine)
    }

    /// Whether the knowledge has a language other than `word`'s. (Short words are read too:
    /// "РФ" is Russia.)
    fn has_targets(&self, word: &str) -> bool {
        self.targets(word).next().is_some()
    }

    /// The lexicons of the languages other than `word`'s.
    fn targets<'a>(&'a self, word: &str) -> impl Iterator<Item = &'a Lexicon> {
        let from = Lang::detect(word);
        (self.lexicons.iter()).filter(move |l| from.is_some_and(|from| from != l.lang))
    }

    /// The word of another language nearest to `word`, whose vector is `vector`, and its
    /// cosine.
    fn nearest(&self, word: &str, vector: &[f32]) -> Option<(String, f32)> {
        self.targets(word)
            .flat_map(|l| l.stems.iter().zip(l.vectors.similarities(vector)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(stem, cosine)| (stem.clone(), cosine))
    }

    /// How many words it holds, of every language.
    pub fn len(&self) -> usize {
        self.lexicons.iter().map(|l| l.stems.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// For each of `words`, the stem it was `read` as, if near enough.
fn answer(
    words: &[&str],
    read: &HashMap<String, Option<(String, f32)>>,
    min_cosine: f32,
) -> Vec<Option<String>> {
    (words.iter())
        .map(|w| match read.get(*w) {
            Some(Some((stem, cosine))) if *cosine >= min_cosine => Some(stem.clone()),
            _ => None,
        })
        .collect()
}

/// The words a bridge holds: each language's, most frequent first.
pub type Words = Vec<(Lang, Vec<String>)>;

/// Bumped when the choice of words changes ([`MAX_WORDS`], [`MIN_CHARS`], what counts): a list
/// kept beside the index is made again.
pub const WORDS_FORMAT: u32 = 1;

impl Bridge {
    /// The informative words of each language's documents (lower case, as typed: the model
    /// reads words, not stems), most frequent first, at most [`MAX_WORDS`] each; a language's
    /// word is one written in its script, so an English name in a Russian text counts as
    /// English. Reading every word of the knowledge, this takes seconds at a million
    /// sentences: an engine with its index on disk keeps the list beside it.
    pub fn words_of(knowledge: &Knowledge) -> Words {
        words_by_language(knowledge)
    }
}

fn words_by_language(knowledge: &Knowledge) -> Words {
    let mut counts: HashMap<Lang, HashMap<String, usize>> = HashMap::new();
    let mut plain = plain_analyzer();
    for passage in &knowledge.passages {
        for token in tokens(&mut plain, &passage.text) {
            let word = token.text;
            let Some(lang) = Lang::detect(&word) else {
                continue;
            };
            if word.chars().count() < MIN_CHARS
                || !word.chars().all(char::is_alphabetic)
                || lang.language().is_stop_word(&word)
            {
                continue;
            }
            *counts.entry(lang).or_default().entry(word).or_default() += 1;
        }
    }
    Lang::ALL
        .into_iter()
        .filter_map(|lang| {
            let mut words: Vec<(String, usize)> = counts.remove(&lang)?.into_iter().collect();
            // Most frequent first; alphabetical on a tie, so the order (and the cache key)
            // does not depend on the hash map's.
            words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            words.truncate(MAX_WORDS);
            Some((lang, words.into_iter().map(|(w, _)| w).collect()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Knowledge;

    fn knowledge(text: &str) -> Knowledge {
        let dir = tempfile::tempdir().unwrap();
        let header = "+++\ntitle = \"T\"\nurl = \"https://example.org/t\"\n+++\n";
        std::fs::write(dir.path().join("doc.txt"), format!("{header}{text}")).unwrap();
        Knowledge::load(dir.path()).unwrap()
    }

    #[test]
    fn a_languages_words_are_its_scripts_informative_words() {
        let k = knowledge(
            "Russia worries about heroin and heroin trafficking. It is a 2017 war.\n\n\
             Россия ведёт переговоры с талибами.",
        );
        let words = words_by_language(&k);
        let english = &words.iter().find(|(l, _)| *l == Lang::En).unwrap().1;
        assert_eq!(english[0], "heroin", "most frequent first: {english:?}");
        assert!(english.contains(&"trafficking".to_string()));
        // Stop words, short words and numbers are not embedded.
        for word in ["about", "it", "is", "2017", "a"] {
            assert!(
                !english.contains(&word.to_string()),
                "{word} in {english:?}"
            );
        }
        let russian = &words.iter().find(|(l, _)| *l == Lang::Ru).unwrap().1;
        assert!(russian.contains(&"переговоры".to_string()), "{russian:?}");
        assert!(!russian.contains(&"с".to_string()));
    }

    #[test]
    fn a_russian_word_is_read_as_the_english_word_it_means() {
        let model = Model::shared(&crate::embed::shipped(crate::embed::MULTILINGUAL_MODEL_DIR))
            .expect("the multilingual model ships with the project");
        let k = knowledge(
            "Moscow worries about heroin trafficking through Central Asia.\n\n\
             The negotiations with the Taliban stalled.",
        );
        let words = Bridge::words_of(&k);
        let bridge = Bridge::load(model, words, None, (&Progress::default(), &|| true))
            .unwrap()
            .unwrap();
        let read = bridge.translate(&["героин", "переговоры", "борщ", "heroin"], 0.88);
        assert_eq!(read[0].as_deref(), Some("heroin"));
        assert_eq!(read[1].as_deref(), Some("negoti"));
        // A word the knowledge has no translation of, and a word in the knowledge's own
        // language, are read as nothing.
        assert_eq!(read[2], None, "{read:?}");
        assert_eq!(read[3], None);
        // Read again from memory, the same; a word of the knowledge's own language is not
        // embedded, nor kept.
        assert_eq!(bridge.memo.lock().unwrap().len(), 3);
        assert_eq!(
            bridge.translate(&["героин", "переговоры", "борщ", "heroin"], 0.88),
            read
        );
        // The threshold applies to what is remembered too.
        assert_eq!(bridge.translate(&["героин"], 0.999), [None]);
    }
}
