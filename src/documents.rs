//! Which document a question is about, when the knowledge holds several.
//!
//! "When was the bee article published?" names a document by a word of its title: the
//! question is then answered from that document only, or not at all (answering it from
//! another document's metadata is the mistake this module exists to avoid). A word names a
//! document when it matches a word of its title, subtitle, URL or file name: the same stem
//! ("Balkans" / "Balkan"), a prefix of four letters or more ("Afghan" / "Afghanistan"), or
//! the end of a compound ("bee" / "Honeybees"). Words every document's names share, and
//! words that name no document ("the article", "the piece"), decide nothing.

use crate::analysis::{plain_analyzer, tokens, StemmerFn};
use crate::knowledge::{Document, Knowledge};
use crate::lang::{self, Language};

/// The shortest question word that may be the end of a compound ("bee" in "honeybees").
const MIN_COMPOUND_END: usize = 3;
/// The shortest word that may stand for a longer one it begins ("afghan", "balk" no).
const MIN_PREFIX: usize = 5;

/// The words that name each document, stemmed, for matching questions against.
#[derive(Debug, Clone)]
pub struct Catalog {
    names: Vec<Vec<Word>>,
    /// The language of the documents' names and of the questions.
    lang: &'static Language,
}

/// No documents, in English.
impl Default for Catalog {
    fn default() -> Catalog {
        Catalog {
            names: Vec::new(),
            lang: lang::english(),
        }
    }
}

#[derive(Debug, Clone)]
struct Word {
    plain: String,
    stem: String,
}

impl Catalog {
    /// The names of `knowledge`'s documents, read as `lang`.
    pub fn of(knowledge: &Knowledge, lang: &'static Language) -> Catalog {
        let mut stemmer = StemmerFn::default();
        Catalog {
            lang,
            names: knowledge
                .documents
                .iter()
                .map(|d| {
                    let mut words = informative_words(lang, &naming_text(d), &mut stemmer);
                    words.sort_by(|a, b| a.plain.cmp(&b.plain));
                    words.dedup_by(|a, b| a.plain == b.plain);
                    words
                })
                .collect(),
        }
    }

    /// The document `question` names, when it names exactly one better than the others
    /// (always `None` with a single document: there is nothing to choose).
    pub fn named_in(&self, question: &str) -> Option<usize> {
        if self.names.len() < 2 {
            return None;
        }
        let mut stemmer = StemmerFn::default();
        let asked = informative_words(self.lang, question, &mut stemmer);
        let mut scores = vec![0usize; self.names.len()];
        for word in &asked {
            let naming: Vec<usize> = (0..self.names.len())
                .filter(|&d| self.names[d].iter().any(|n| names(word, n)))
                .collect();
            // A word all documents share tells them apart no better than none.
            if naming.len() < self.names.len() {
                for d in naming {
                    scores[d] += 1;
                }
            }
        }
        let best = *scores.iter().max()?;
        let mut at_best = scores.iter().enumerate().filter(|(_, &s)| s == best);
        let (doc, _) = at_best.next()?;
        (best > 0 && at_best.next().is_none()).then_some(doc)
    }
}

/// Whether a word of a question stands for a word of a document's names.
fn names(asked: &Word, name: &Word) -> bool {
    asked.stem == name.stem
        || (asked.plain.chars().count() >= MIN_PREFIX && name.plain.starts_with(&asked.plain))
        || (name.plain.chars().count() >= MIN_PREFIX && asked.plain.starts_with(&name.plain))
        || (asked.plain.chars().count() >= MIN_COMPOUND_END
            && singular(&name.plain).ends_with(singular(&asked.plain)))
}

/// "bees" is "bee", "honeybees" "honeybee"; "glass" stays.
fn singular(word: &str) -> &str {
    match word.strip_suffix('s') {
        Some(stem) if !stem.ends_with('s') => stem,
        _ => word,
    }
}

/// What names a document: its title, subtitle, URL (the path's words) and file name.
fn naming_text(d: &Document) -> String {
    let url_words = d
        .meta
        .url
        .as_deref()
        .unwrap_or_default()
        .replace(['/', '-', '_', '.', ':', '?', '=', '&'], " ");
    [
        d.meta.title.as_str(),
        d.meta.subtitle.as_deref().unwrap_or_default(),
        &url_words,
        &d.id.replace(['-', '_'], " "),
    ]
    .join(" ")
}

/// Lower-cased, folded words of `text` that may name something: no stop words, no generic
/// words for a document, no numbers, at least three letters.
fn informative_words(lang: &Language, text: &str, stemmer: &mut StemmerFn) -> Vec<Word> {
    let mut analyzer = plain_analyzer();
    tokens(&mut analyzer, text)
        .into_iter()
        .map(|t| t.text)
        .map(|w| {
            // "Russia's" is Russia.
            w.strip_suffix("'s")
                .or_else(|| w.strip_suffix("’s"))
                .unwrap_or(&w)
                .to_string()
        })
        .filter(|w| {
            w.chars().count() >= 3
                && w.chars().all(char::is_alphabetic)
                && !lang.is_stop_word(w)
                && !lang.generic_document_words.contains(w)
        })
        .map(|plain| Word {
            stem: stemmer.stem(&plain),
            plain,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn library() -> Knowledge {
        let mut k = Knowledge::default();
        for (file, title, subtitle, url) in [
            (
                "russias-afghanistan-strategy.txt",
                "Russia's Afghanistan Strategy",
                "How Moscow Is Preparing to Go It Alone",
                "https://www.foreignaffairs.com/articles/afghanistan/2018-01-02/russias-afghanistan-strategy",
            ),
            (
                "honeybees.txt",
                "How Honeybees Survive the Winter",
                "A colony's long wait for spring",
                "https://example.org/nature/honeybees-in-winter",
            ),
            (
                "balkans.txt",
                "The Western Balkans After Enlargement",
                "Why the region still waits at Europe's door",
                "https://example.org/europe/western-balkans",
            ),
        ] {
            let raw = format!(
                "+++\ntitle = \"{title}\"\nsubtitle = \"{subtitle}\"\nurl = \"{url}\"\n+++\n\
                 This is a paragraph of prose that is long enough to count as one, with more \
                 than a few words in it so that it is kept.\n"
            );
            k.add(Path::new(file), &raw).unwrap();
        }
        k
    }

    #[test]
    fn a_document_is_named_by_stems_prefixes_and_compound_ends() {
        let catalog = Catalog::of(&library(), lang::english());
        for (question, doc) in [
            ("When was the bee article published?", Some(1)),
            ("Who wrote the piece on the Balkans?", Some(2)),
            ("What does the Balkan article say about Serbia?", Some(2)),
            ("What is the Afghan piece about?", Some(0)),
            ("In the Russia article, who is Kabulov?", Some(0)),
            ("How do honeybees keep warm?", Some(1)),
            // Names no document: every document may answer.
            ("When was the article published?", None),
            ("Who wrote it?", None),
            // Names two as much: no choice.
            ("Do bees live in the Balkans?", None),
            ("What strategy do bees follow?", None),
            // A title word by chance names that document (docs/retrieval.md says so).
            ("What strategy does a hive follow?", Some(0)),
        ] {
            assert_eq!(catalog.named_in(question), doc, "{question}");
        }
    }

    #[test]
    fn one_document_is_never_chosen_between() {
        let mut k = library();
        k.documents.truncate(1);
        assert_eq!(
            Catalog::of(&k, lang::english()).named_in("the Russia article"),
            None
        );
    }
}
