//! The synthetic corpus of `citebot bench`: a knowledge folder as large as wanted, and
//! questions drawn from it (or from any knowledge folder).
//!
//! It stands in for the documents a bigger deployment would hold. It is made to stress what
//! real text stresses:
//! - word frequencies follow Zipf's law (s = 1): a few words are everywhere, most are rare,
//!   so posting lists have the lengths that real prose gives them;
//! - the most frequent words are real English function words, which the index keeps and the
//!   question analysis drops, as with real text;
//! - the rest is a vocabulary of [`PSEUDO_WORDS`] pronounceable pseudo-words, shorter ones
//!   more frequent, so the term dictionary and the typo automaton work on a realistic size;
//! - every paragraph is one line of 60 to 200 words in capitalized sentences ending with a
//!   period, so citebot's ingestion keeps each one as a body paragraph.
//!
//! Everything is drawn from a small hand-written generator (SplitMix64), so a seed gives the
//! same bytes on every machine and run, without a dependency.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::analysis;
use crate::knowledge::{self, PassageKind, SYNONYMS_FILE};

/// How many distinct pseudo-words the generator makes (besides the function words).
pub const PSEUDO_WORDS: usize = 60_000;
/// A synthetic folder spreads its passages over at most this many documents.
pub const MAX_DOCUMENTS: usize = 100;
/// The shortest and longest synthetic paragraph, in words.
pub const PARAGRAPH_WORDS: std::ops::RangeInclusive<usize> = 60..=200;

/// The head of the Zipf curve: real function words, most frequent first. They are all stop
/// words of the question analysis (a unit test checks it), as in real text.
const FUNCTION_WORDS: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "was", "with", "be",
    "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have",
    "an", "they", "were", "her", "she", "there", "been", "all", "we", "their", "its", "also",
    "more", "has", "had", "would", "when", "who", "will", "if", "out", "so", "into", "than",
    "them", "can", "only", "other", "some", "could", "these", "may", "then", "any", "such", "over",
    "most", "after", "between", "through", "while", "both", "under",
];

const ONSETS: &[&str] = &[
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br",
    "ch", "cl", "dr", "fl", "gr", "kr", "pl", "pr", "sh", "sk", "sl", "st", "th", "tr", "vr",
];
const VOWELS: &[&str] = &[
    "a", "e", "i", "o", "u", "ai", "au", "ea", "ee", "ia", "io", "oa", "ou",
];
/// Open syllables are the most common, as in most languages: hence the repeated "".
const CODAS: &[&str] = &[
    "", "", "", "", "n", "r", "l", "s", "m", "k", "nd", "st", "x", "rt",
];

/// SplitMix64 (Steele, Lea and Flood 2014): tiny, fast, and good enough for test data.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    /// A generator for one purpose (`stream`) of one seed, independent of the others.
    fn new(seed: u64, stream: u64) -> Rng {
        let mut mixer = Rng(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
        Rng(mixer.next_u64())
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..=hi`. The modulo bias, (hi - lo + 1) / 2^64, is negligible here.
    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.between(0, items.len() - 1)]
    }
}

/// Streams of [`Rng::new`], one per purpose, so that changing how one thing is drawn does not
/// change everything else.
const VOCABULARY_STREAM: u64 = 1;
const TEXT_STREAM: u64 = 2;
const QUESTION_STREAM: u64 = 3;

/// The words of a synthetic corpus, by rank, and their Zipf distribution.
struct Vocabulary {
    /// Function words first, then pseudo-words, shorter first.
    words: Vec<String>,
    /// Cumulative probability of ranks `0..=i`.
    cdf: Vec<f64>,
}

impl Vocabulary {
    fn new(seed: u64) -> Vocabulary {
        let mut rng = Rng::new(seed, VOCABULARY_STREAM);
        let mut seen: HashSet<String> = FUNCTION_WORDS.iter().map(|w| w.to_string()).collect();
        let mut pseudo = Vec::with_capacity(PSEUDO_WORDS);
        while pseudo.len() < PSEUDO_WORDS {
            let syllables = match rng.between(0, 19) {
                0..=8 => 2,
                9..=16 => 3,
                _ => 4,
            };
            let mut word = String::new();
            for _ in 0..syllables {
                word.push_str(rng.pick(ONSETS));
                word.push_str(rng.pick(VOWELS));
                word.push_str(rng.pick(CODAS));
            }
            // A pseudo-word that happens to be a stop word ("these") would not be searchable.
            if !analysis::is_stop_word(&word) && seen.insert(word.clone()) {
                pseudo.push(word);
            }
        }
        // Zipf's law of abbreviation: frequent words are short. The sort is stable, so the
        // order stays a function of the seed.
        pseudo.sort_by_key(String::len);
        let words: Vec<String> = FUNCTION_WORDS
            .iter()
            .map(|w| w.to_string())
            .chain(pseudo)
            .collect();
        // s = 1 exactly: the weight of rank r is 1 / (r + 1). No `powf`, so the table is
        // bit-identical on every platform.
        let mut cdf = Vec::with_capacity(words.len());
        let mut total = 0.0;
        for rank in 0..words.len() {
            total += 1.0 / (rank as f64 + 1.0);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Vocabulary { words, cdf }
    }

    /// A rank drawn from the Zipf distribution.
    fn draw(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf
            .partition_point(|&c| c <= u)
            .min(self.words.len() - 1)
    }

    /// A rank that is not a function word: sentences, titles and names do not end with "the".
    fn draw_content(&self, rng: &mut Rng) -> usize {
        loop {
            let rank = self.draw(rng);
            if rank >= FUNCTION_WORDS.len() {
                return rank;
            }
        }
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What [`write_synthetic_in`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticInfo {
    pub documents: usize,
    /// Body paragraphs written. Ingestion adds one "about" passage per document, so the
    /// engine holds `passages + documents` passages.
    pub passages: usize,
    /// Distinct words in the text (function words included).
    pub vocabulary: usize,
    /// Total size of the document files.
    pub bytes: u64,
}

fn synthetic_file_name(doc: usize) -> String {
    format!("doc-{doc:03}.txt")
}

/// N of a `doc-N.txt` name.
fn synthetic_file_number(name: &str) -> Option<usize> {
    let n = name.strip_prefix("doc-")?.strip_suffix(".txt")?;
    n.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| n.parse().ok())?
}

/// Writes a reproducible knowledge folder of `passages` body paragraphs, spread over up to
/// `max_documents` documents (at most [`MAX_DOCUMENTS`]; one, to measure a single long
/// document) `doc-000.txt`, `doc-001.txt`, ... in citebot's document format. The same seed
/// always gives the same bytes.
///
/// `dir` is created if needed. Synthetic documents left there by an earlier, larger run are
/// removed; any other document in it is an error, since it would be indexed along with them.
pub fn write_synthetic_in(
    dir: &Path,
    passages: usize,
    max_documents: usize,
    seed: u64,
) -> anyhow::Result<SyntheticInfo> {
    if passages == 0 {
        bail!("a synthetic corpus needs at least one passage");
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot be created", dir.display()))?;
    let documents = passages.min(max_documents.clamp(1, MAX_DOCUMENTS));
    // Check everything before removing anything.
    let mut stale = Vec::new();
    for path in document_files(dir)? {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match synthetic_file_number(name) {
            Some(n) if n >= documents => stale.push(path),
            Some(_) => {}
            None => bail!(
                "{} holds {name}, which is not a synthetic document: write the synthetic corpus to an empty folder",
                dir.display()
            ),
        }
    }
    for path in stale {
        std::fs::remove_file(&path)
            .with_context(|| format!("{}: cannot be removed", path.display()))?;
    }

    let vocabulary = Vocabulary::new(seed);
    let mut rng = Rng::new(seed, TEXT_STREAM);
    let mut used = vec![false; vocabulary.words.len()];
    let mut bytes = 0u64;
    let mut text = String::new();
    for doc in 0..documents {
        // Even shares; the first documents take the remainder.
        let count = passages / documents + usize::from(doc < passages % documents);
        text.clear();
        let author =
            [0, 1].map(|_| capitalized(&vocabulary.words[vocabulary.draw_content(&mut rng)]));
        let title: Vec<String> = (0..rng.between(3, 6))
            .map(|_| capitalized(&vocabulary.words[vocabulary.draw_content(&mut rng)]))
            .collect();
        let publication = capitalized(&vocabulary.words[vocabulary.draw_content(&mut rng)]);
        let slug = title.join("-").to_lowercase();
        // Writing to a String cannot fail.
        let _ = write!(
            text,
            "+++\ntitle = \"{}\"\nauthor = \"{} {}\"\npublication = \"The {publication} Review\"\ndate = \"{}-{:02}-{:02}\"\nurl = \"https://example.org/{}/{slug}\"\n+++\n",
            title.join(" "),
            author[0],
            author[1],
            rng.between(1995, 2024),
            rng.between(1, 12),
            rng.between(1, 28),
            synthetic_file_name(doc).trim_end_matches(".txt"),
        );
        for _ in 0..count {
            text.push('\n');
            paragraph(&vocabulary, &mut rng, &author[0], &mut used, &mut text);
            text.push('\n');
        }
        let path = dir.join(synthetic_file_name(doc));
        std::fs::write(&path, &text)
            .with_context(|| format!("{}: cannot be written", path.display()))?;
        bytes += text.len() as u64;
    }
    Ok(SyntheticInfo {
        documents,
        passages,
        vocabulary: used.iter().filter(|u| **u).count(),
        bytes,
    })
}

/// One paragraph on one line: sentences of 6 to 24 words (the last one may run to 30), each
/// capitalized and ending with a period on a content word, an occasional comma inside.
fn paragraph(
    vocabulary: &Vocabulary,
    rng: &mut Rng,
    author_first_name: &str,
    used: &mut [bool],
    out: &mut String,
) {
    let mut remaining = rng.between(*PARAGRAPH_WORDS.start(), *PARAGRAPH_WORDS.end());
    let mut first_sentence = true;
    while remaining > 0 {
        let len = if remaining <= 30 {
            remaining
        } else {
            rng.between(6, 24)
        };
        remaining -= len;
        if !first_sentence {
            out.push(' ');
        }
        for i in 0..len {
            let last = i + 1 == len;
            let rank = loop {
                let rank = if last {
                    vocabulary.draw_content(rng)
                } else {
                    vocabulary.draw(rng)
                };
                // A paragraph opening with the author's name could pass for the author's
                // note ("Name Surname is ..."): never start one with it.
                if !(first_sentence
                    && i == 0
                    && vocabulary.words[rank].eq_ignore_ascii_case(author_first_name))
                {
                    break rank;
                }
            };
            used[rank] = true;
            let word = &vocabulary.words[rank];
            if i == 0 {
                out.push_str(&capitalized(word));
            } else {
                out.push(' ');
                out.push_str(word);
            }
            if last {
                out.push('.');
            } else if i > 0 && i + 2 < len && rng.between(0, 15) == 0 {
                out.push(',');
            }
        }
        first_sentence = false;
    }
}

/// The text documents of a knowledge folder (`*.txt` and `*.md`, the synonyms file and hidden
/// files aside), in file-name order: what the synthetic corpus writes and reads back.
fn document_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("{}: cannot be read", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("txt") | Some("md")
            ) && name != SYNONYMS_FILE
                && !name.starts_with('.')
                && p.is_file()
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Calls `each` with every body paragraph of the folder, numbered across documents in the
/// order citebot loads them. Reads one file at a time, so that drawing questions from a large
/// corpus does not hold the corpus in memory.
fn for_each_paragraph(dir: &Path, mut each: impl FnMut(usize, &str)) -> anyhow::Result<()> {
    let mut n = 0;
    for (doc, path) in document_files(dir)?.iter().enumerate() {
        let raw = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot be read", path.display()))?;
        let (meta, body) = knowledge::parse_document(path, &raw)?;
        for p in knowledge::passages(doc, &meta, body).passages {
            if p.kind == PassageKind::Paragraph {
                each(n, &p.text);
                n += 1;
            }
        }
    }
    Ok(())
}

/// The words a question can be made of: alphabetic, three letters or more, not stop words.
/// Each comes with its lower-case form, and each once, in order of appearance.
fn content_words(text: &str) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
    analysis::words(text)
        .into_iter()
        .filter(|t| t.text.chars().count() >= 3 && t.text.chars().all(char::is_alphabetic))
        .filter_map(|t| {
            let lower = t.text.to_lowercase();
            (!analysis::is_stop_word(&lower) && seen.insert(lower.clone()))
                .then_some((t.text, lower))
        })
        .collect()
}

/// How a question wraps its words. Every other word is a stop word (a unit test checks it),
/// so the chosen words are the whole question to the analysis.
const QUESTION_TEMPLATES: &[(&str, &str)] = &[
    ("What about ", "?"),
    ("What is said about ", "?"),
    ("Tell me about ", "."),
    ("What does it say about ", "?"),
];

/// Draws `n` questions from the body paragraphs of the knowledge folder `dir` (synthetic or
/// not): each takes a paragraph at random (with replacement, among those with three words or
/// more to ask about) and asks about 3 to 6 of its rarer words, "What about w1 w2 w3?". Rarer
/// means in fewer paragraphs of the folder, as a person asks about what distinguishes a
/// passage, not about its common words. The files are read again, one at a time, so the
/// folder may have been written by an earlier run, and may be larger than memory.
pub fn synthetic_questions(dir: &Path, n: usize, seed: u64) -> anyhow::Result<Vec<String>> {
    // First pass: in how many paragraphs each word is, and which paragraphs have the three
    // words a question needs.
    let mut paragraph_freq: HashMap<String, u32> = HashMap::new();
    let mut eligible = Vec::new();
    for_each_paragraph(dir, |at, text| {
        let words = content_words(text);
        if words.len() >= 3 {
            eligible.push(at);
        }
        for (_, lower) in words {
            *paragraph_freq.entry(lower).or_default() += 1;
        }
    })?;
    if eligible.is_empty() {
        bail!(
            "{}: no body paragraphs to draw questions from",
            dir.display()
        );
    }
    let mut rng = Rng::new(seed, QUESTION_STREAM);
    let mut draws: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..n {
        draws.entry(rng.pick(&eligible)).or_default().push(i);
    }

    // Second pass: the words of the paragraphs drawn.
    let mut questions: Vec<Option<String>> = vec![None; n];
    for_each_paragraph(dir, |at, text| {
        let Some(wanted) = draws.get(&at) else {
            return;
        };
        let words = content_words(text);
        for &i in wanted {
            // One generator per question, so the question does not depend on the file order.
            let mut rng = Rng::new(seed, QUESTION_STREAM + 1 + i as u64);
            questions[i] = Some(question(&words, &paragraph_freq, &mut rng));
        }
    })?;
    Ok(questions.into_iter().flatten().collect())
}

/// A question about 3 to 6 of the rarer half of `words` (at least three words), in their order
/// in the paragraph.
fn question(words: &[(String, String)], freq: &HashMap<String, u32>, rng: &mut Rng) -> String {
    let mut by_rarity: Vec<usize> = (0..words.len()).collect();
    by_rarity.sort_by_key(|&i| (freq.get(&words[i].1).copied().unwrap_or(0), i));
    let pool_len = words.len().div_ceil(2).max(words.len().min(3));
    let pool = &mut by_rarity[..pool_len];
    let k = rng.between(3, 6).min(pool.len());
    // A partial Fisher-Yates shuffle picks k of the pool.
    for j in 0..k {
        let swap = rng.between(j, pool.len() - 1);
        pool.swap(j, swap);
    }
    let mut chosen = pool[..k].to_vec();
    chosen.sort_unstable();
    let (before, after) = rng.pick(QUESTION_TEMPLATES);
    let body: Vec<&str> = chosen.iter().map(|&i| words[i].0.as_str()).collect();
    format!("{before}{}{after}", body.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer;
    use crate::engine::Engine;

    fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// A folder of [`MAX_DOCUMENTS`] documents, as `citebot bench --synthetic` writes by
    /// default.
    fn write_synthetic(dir: &Path, passages: usize, seed: u64) -> anyhow::Result<SyntheticInfo> {
        write_synthetic_in(dir, passages, MAX_DOCUMENTS, seed)
    }

    #[test]
    fn the_same_seed_writes_the_same_bytes() {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let info_a = write_synthetic(a.path(), 500, 7).unwrap();
        let info_b = write_synthetic(b.path(), 500, 7).unwrap();
        write_synthetic(c.path(), 500, 8).unwrap();
        assert_eq!(info_a, info_b);
        assert_eq!(files(a.path()), files(b.path()));
        assert_ne!(files(a.path()), files(c.path()));
        assert_eq!(
            synthetic_questions(a.path(), 20, 1).unwrap(),
            synthetic_questions(b.path(), 20, 1).unwrap()
        );
    }

    #[test]
    fn the_vocabulary_is_large_distinct_and_zipfian() {
        let v = Vocabulary::new(42);
        let distinct: HashSet<&String> = v.words.iter().collect();
        assert_eq!(distinct.len(), v.words.len());
        assert!(v.words.len() - FUNCTION_WORDS.len() >= 50_000);
        assert!(v.words[FUNCTION_WORDS.len()..]
            .iter()
            .all(|w| w.len() >= 4 && w.chars().all(|c| c.is_ascii_lowercase())));
        // Under Zipf's law with s = 1, rank 1 is drawn about twice as often as rank 2 and
        // ten times as often as rank 10.
        let mut rng = Rng::new(42, 99);
        let mut counts = vec![0u32; v.words.len()];
        for _ in 0..200_000 {
            counts[v.draw(&mut rng)] += 1;
        }
        let ratio = |a: usize, b: usize| f64::from(counts[a]) / f64::from(counts[b]);
        assert!((1.8..2.2).contains(&ratio(0, 1)), "{}", ratio(0, 1));
        assert!((8.5..11.5).contains(&ratio(0, 9)), "{}", ratio(0, 9));
    }

    #[test]
    fn function_words_and_question_templates_are_stop_words() {
        for w in FUNCTION_WORDS {
            assert!(analysis::is_stop_word(w), "{w}");
        }
        for (before, after) in QUESTION_TEMPLATES {
            for w in analysis::words(&format!("{before}{after}")) {
                assert!(analysis::is_stop_word(&w.text.to_lowercase()), "{}", w.text);
            }
        }
    }

    #[test]
    fn the_folder_loads_into_the_paragraphs_written() {
        let dir = tempfile::tempdir().unwrap();
        let info = write_synthetic(dir.path(), 2_000, 3).unwrap();
        assert_eq!((info.documents, info.passages), (100, 2_000));
        assert!(info.vocabulary > 10_000, "{}", info.vocabulary);
        let k = knowledge::Knowledge::load(dir.path()).unwrap();
        assert_eq!(k.documents.len(), 100);
        let paragraphs: Vec<_> = k
            .passages
            .iter()
            .filter(|p| p.kind == PassageKind::Paragraph)
            .collect();
        assert_eq!(paragraphs.len(), 2_000);
        // The only other passage is the "about" passage ingestion makes of each header.
        assert_eq!(k.passages.len(), 2_000 + 100);
        for p in paragraphs {
            let words = p.text.split_whitespace().count();
            assert!(PARAGRAPH_WORDS.contains(&words), "{words} words");
            assert!(p.sentences.len() >= 3, "{}", p.text);
        }

        // Writing a smaller corpus to the same folder leaves no stale documents behind.
        write_synthetic(dir.path(), 50, 3).unwrap();
        assert_eq!(
            knowledge::Knowledge::load(dir.path())
                .unwrap()
                .documents
                .len(),
            50
        );

        // One long document: every passage in it, numbered in one run.
        let one = tempfile::tempdir().unwrap();
        let info = write_synthetic_in(one.path(), 120, 1, 3).unwrap();
        assert_eq!(info.documents, 1);
        let k = knowledge::Knowledge::load(one.path()).unwrap();
        assert_eq!((k.documents.len(), k.passages.len()), (1, 121));
    }

    #[test]
    fn other_documents_are_not_overwritten_or_mixed_in() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("article.txt"), "+++\n").unwrap();
        assert!(write_synthetic(dir.path(), 10, 1).is_err());
        assert!(write_synthetic(dir.path(), 0, 1).is_err());
    }

    #[test]
    fn synthetic_questions_are_answered_from_the_corpus() {
        let dir = tempfile::tempdir().unwrap();
        write_synthetic(dir.path(), 300, 11).unwrap();
        let questions = synthetic_questions(dir.path(), 40, 5).unwrap();
        assert_eq!(questions.len(), 40);
        for q in &questions {
            let (_, words) = QUESTION_TEMPLATES
                .iter()
                .find_map(|(before, after)| {
                    Some((before, q.strip_prefix(before)?.strip_suffix(after)?))
                })
                .unwrap_or_else(|| panic!("{q}"));
            assert!((3..=6).contains(&words.split(' ').count()), "{q}");
        }
        let engine = Engine::load(&crate::Options::lexical(dir.path())).unwrap();
        let answered = questions
            .iter()
            .filter(|q| !answer::ask(&engine, q, 1).unwrap().answers.is_empty())
            .count();
        assert!(answered >= 36, "{answered} of 40 answered");
    }
}
