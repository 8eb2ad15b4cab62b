//! Cutting a document's scraped text into passages.
//!
//! Scraped articles carry more than their body: photo captions (often twice, once as alt text
//! and once as the caption), photo credits, pull quotes repeated from the body, paywall text
//! and the author's note. [`passages`] tells these apart by the shape of each line, not by
//! line numbers, so any similar article dropped into the knowledge folder is cut the same way.
//! Apart from loading files, this is the part of [`super`] that changes when scraped pages
//! change shape.

use std::collections::HashMap;

use super::{normalize, sentences, Metadata, Passage, PassageKind};
use crate::lang;

/// A line of scraped text, with what its shape says about it.
struct Line<'a> {
    text: &'a str,
    bullet: bool,
}

impl<'a> Line<'a> {
    fn new(raw: &'a str) -> Line<'a> {
        let t = raw.trim();
        for bullet in ["• ", "* ", "- ", "· "] {
            if let Some(rest) = t.strip_prefix(bullet) {
                return Line {
                    text: rest.trim(),
                    bullet: true,
                };
            }
        }
        Line {
            text: t,
            bullet: false,
        }
    }

    /// The number of words, counted up to 31: every rule here only asks about short lines.
    fn words(&self) -> usize {
        self.text.split_whitespace().take(31).count()
    }

    /// Body text ends its sentences; credits, buttons and navigation links do not.
    fn is_prose(&self) -> bool {
        let end = self
            .text
            .trim_end_matches(['"', '”', '’', '\'', ')', ']'])
            .chars()
            .last();
        matches!(end, Some('.' | '!' | '?' | '…' | ':')) && self.words() >= 4
    }

    /// Subscription and paywall prompts, as news sites phrase them.
    fn is_boilerplate(&self) -> bool {
        let lower = self.text.to_lowercase();
        self.words() <= 30
            && lang::english()
                .boilerplate
                .iter()
                .any(|m| lower.contains(m))
    }

    /// The author's note starts with the author's name: "JULIA GURGANUS is a ...".
    fn is_author_note(&self, author: Option<&str>) -> bool {
        let Some(author) = author.filter(|a| !a.trim().is_empty()) else {
            return false;
        };
        let first_author = author.split([',', '&']).next().unwrap_or(author);
        let first_author = first_author
            .split(" and ")
            .next()
            .unwrap_or(first_author)
            .trim();
        let Some(head) = self.text.get(..first_author.len()) else {
            return false;
        };
        let rest = &self.text[first_author.len()..];
        head.eq_ignore_ascii_case(first_author)
            && (rest.starts_with(" is ") || rest.starts_with(" was ") || rest.starts_with(", "))
            && self.is_prose()
    }
}

/// Cuts a document body into passages: body paragraphs numbered in reading order, photo
/// captions once each, the author's note, and a passage made of the metadata itself; photo
/// credits, pull quotes, paywall text and navigation are dropped.
pub fn passages(doc: usize, meta: &Metadata, body: &str) -> Vec<Passage> {
    let lines: Vec<Line> = body.lines().map(Line::new).collect();
    let sorted = sort_lines(&lines, meta.author.as_deref());
    let body_paragraphs = without_pull_quotes(&sorted.paragraphs);
    number_passages(doc, meta, &body_paragraphs, &sorted.captions, &sorted.notes)
}

/// The lines of a body that may become passages, by kind, each in reading order. Pull quotes
/// are still among the paragraphs: telling them apart needs all the paragraphs.
struct SortedLines<'a> {
    paragraphs: Vec<&'a str>,
    captions: Vec<&'a str>,
    notes: Vec<&'a str>,
}

/// Reads the lines in order, keeping prose paragraphs, captions (once each, their credits
/// dropped) and the author's note (the note about `author`), and dropping headings, paywall
/// prompts with the lists that follow them, and anything that is not prose.
fn sort_lines<'a>(lines: &[Line<'a>], author: Option<&str>) -> SortedLines<'a> {
    let mut paragraphs: Vec<&str> = Vec::new();
    let mut captions: Vec<&str> = Vec::new();
    let mut notes: Vec<&str> = Vec::new();
    let mut in_boilerplate = false;
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        i += 1;
        if line.text.is_empty() || line.text.starts_with('#') {
            continue;
        }
        // A scraped photo caption comes twice in a row (alt text, then caption), then its credit.
        if lines
            .get(i)
            .is_some_and(|next| same_text(next.text, line.text))
        {
            i += 1;
            if lines
                .get(i)
                .is_some_and(|credit| !credit.text.is_empty() && !credit.is_prose())
            {
                i += 1;
            }
            if !captions.iter().any(|c| same_text(c, line.text)) {
                captions.push(line.text);
            }
            continue;
        }
        if line.is_author_note(author) {
            notes.push(line.text);
            continue;
        }
        if line.is_boilerplate() {
            in_boilerplate = true;
            continue;
        }
        // A paywall prompt is followed by its list of selling points: skip the list too.
        if in_boilerplate && (line.bullet || line.words() < 20) {
            continue;
        }
        if !line.is_prose() {
            continue;
        }
        in_boilerplate = false;
        paragraphs.push(line.text);
    }
    SortedLines {
        paragraphs,
        captions,
        notes,
    }
}

/// A pull quote is a short line repeated from a body paragraph: the paragraph cites it.
/// It is one sentence of a few words; short ones ("Yes.") would match anywhere.
fn shaped_like_a_quote(p: &str) -> bool {
    p.split_whitespace().take(5).count() >= 5 && p.len() <= 300 && sentences(p).len() == 1
}

/// Whether paragraph `i` stands alone between two paragraphs of several sentences, as a
/// pull quote that is not word for word does.
fn sandwiched(paragraphs: &[&str], i: usize) -> bool {
    let long = |j: Option<usize>| {
        j.and_then(|j| paragraphs.get(j))
            .is_some_and(|p| sentences(p).len() >= 2)
    };
    long(i.checked_sub(1)) && long(Some(i + 1))
}

/// The paragraphs less the pull quotes: lines shaped like a quote whose words all stand in
/// another paragraph, or, sandwiched between long paragraphs, mostly stand in one.
fn without_pull_quotes<'a>(paragraphs: &[&'a str]) -> Vec<&'a str> {
    let candidates: Vec<bool> = paragraphs.iter().map(|p| shaped_like_a_quote(p)).collect();
    // Most documents have no line of that shape: then no paragraph needs hashing.
    let shingles = candidates.contains(&true).then(|| Shingles::of(paragraphs));
    // A pull quote that is not word for word ("Moscow has built ties with the Taliban's
    // leaders") is known by its shape: one short sentence alone between two paragraphs of
    // several sentences, most of whose words one other paragraph has.
    let loose: Vec<usize> = (0..paragraphs.len())
        .filter(|&i| candidates[i] && sandwiched(paragraphs, i))
        .collect();
    let words = (!loose.is_empty()).then(|| ParagraphWords::of(paragraphs));
    paragraphs
        .iter()
        .enumerate()
        .filter(|&(i, p)| {
            let pull_quote = candidates[i]
                && (shingles
                    .as_ref()
                    .is_some_and(|s| s.repeated_elsewhere(i, p))
                    || (loose.contains(&i)
                        && words.as_ref().is_some_and(|w| w.mostly_elsewhere(i, p))));
            !pull_quote
        })
        .map(|(_, p)| *p)
        .collect()
}

/// The passages of each kind, numbered on its own in reading order (¶1..¶N, caption 1..M),
/// then, if there is any, the passage about the document.
fn number_passages(
    doc: usize,
    meta: &Metadata,
    body_paragraphs: &[&str],
    captions: &[&str],
    notes: &[&str],
) -> Vec<Passage> {
    let mut out = Vec::new();
    for (kind, texts) in [
        (PassageKind::Paragraph, body_paragraphs),
        (PassageKind::Caption, captions),
        (PassageKind::AuthorNote, notes),
    ] {
        for (n, text) in texts.iter().enumerate() {
            out.push(Passage::new(doc, kind, n as u32 + 1, text.to_string()));
        }
    }
    if !out.is_empty() {
        let text = about_text(meta, !notes.is_empty());
        out.push(Passage::new(doc, PassageKind::About, 1, text));
    }
    out
}

/// Runs of [`SHINGLE`] words of every paragraph, hashed, with the paragraph they come from:
/// whether a line's words all stand in another paragraph is then one look-up per word, so
/// finding pull quotes is linear in the document's size (comparing every line with every
/// paragraph took 51 s for 4 MB of short paragraphs).
struct Shingles {
    /// For each hashed run: the first paragraph it is in, and whether another has it too.
    seen: HashMap<u64, (usize, bool)>,
}

/// Words in a run: long enough that a shared run means a quotation, short enough for the
/// shortest pull quote (five words).
const SHINGLE: usize = 4;

impl Shingles {
    fn of(paragraphs: &[&str]) -> Shingles {
        let mut seen: HashMap<u64, (usize, bool)> = HashMap::new();
        for (i, p) in paragraphs.iter().enumerate() {
            for h in shingle_hashes(p) {
                seen.entry(h)
                    .and_modify(|(first, shared)| *shared |= *first != i)
                    .or_insert((i, false));
            }
        }
        Shingles { seen }
    }

    /// Whether every run of words of paragraph `i` (`text`) is also in another paragraph.
    fn repeated_elsewhere(&self, i: usize, text: &str) -> bool {
        let hashes = shingle_hashes(text);
        !hashes.is_empty()
            && hashes.iter().all(|h| {
                self.seen
                    .get(h)
                    .is_some_and(|&(first, shared)| first != i || shared)
            })
    }
}

/// Which paragraphs each informative word is in, to tell whether a loosely quoted line's
/// words are mostly in one other paragraph.
struct ParagraphWords {
    /// For each word (its first [`WORD_PREFIX`] letters, a crude stem), the paragraphs
    /// holding it, each once, in order.
    postings: HashMap<String, Vec<usize>>,
}

/// Letters of a word compared: "leaders" is "leadership", "established" "establish".
const WORD_PREFIX: usize = 6;
/// A word in more paragraphs than this says nothing about which one a line quotes; the
/// limit also bounds the work for a long document.
const COMMON_WORD_PARAGRAPHS: usize = 100;
/// The share of a loosely quoted line's words that the quoted paragraph has, and at least
/// how many.
const QUOTED_SHARE: f64 = 0.7;
const QUOTED_WORDS: usize = 4;

impl ParagraphWords {
    fn of(paragraphs: &[&str]) -> ParagraphWords {
        let mut postings: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in paragraphs.iter().enumerate() {
            for w in informative_words(p) {
                let list = postings.entry(w).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        ParagraphWords { postings }
    }

    /// Whether one paragraph other than `i` has most of the informative words of `text`.
    fn mostly_elsewhere(&self, i: usize, text: &str) -> bool {
        let mut words = informative_words(text);
        words.sort();
        words.dedup();
        let mut shared: HashMap<usize, usize> = HashMap::new();
        let mut everywhere = 0;
        for w in &words {
            match self.postings.get(w) {
                Some(list) if list.len() > COMMON_WORD_PARAGRAPHS => everywhere += 1,
                Some(list) => {
                    for &p in list.iter().filter(|&&p| p != i) {
                        *shared.entry(p).or_default() += 1;
                    }
                }
                None => {}
            }
        }
        let best = shared.values().max().copied().unwrap_or(0) + everywhere;
        best >= QUOTED_WORDS && best as f64 >= QUOTED_SHARE * words.len() as f64
    }
}

/// The words of `text` that carry its topic, lower-cased and cut to [`WORD_PREFIX`] letters.
fn informative_words(text: &str) -> Vec<String> {
    normalize(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 && !lang::english().is_stop_word(w))
        .map(|w| w.chars().take(WORD_PREFIX).collect())
        .collect()
}

/// The hashes of the runs of [`SHINGLE`] normalized words of `text` (end punctuation off).
fn shingle_hashes(text: &str) -> Vec<u64> {
    use std::hash::{Hash, Hasher};
    let normalized = normalize(text);
    let words: Vec<&str> = normalized
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(SHINGLE.min(words.len().max(1)))
        .map(|run| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            run.hash(&mut h);
            h.finish()
        })
        .collect()
}

/// The metadata as a sentence, so that "when was it published?" has a passage to find.
/// The author is named only when no note about them follows the article: their name here
/// would pull questions about them away from that note.
fn about_text(meta: &Metadata, has_author_note: bool) -> String {
    let mut s = format!("“{}” is an article", meta.full_title());
    if let (Some(author), false) = (&meta.author, has_author_note) {
        s.push_str(&format!(" by {author}"));
        if meta.publication.is_some() || meta.human_date().is_some() {
            s.push(',');
        }
    }
    let date = meta.human_date();
    match (&meta.publication, &date) {
        (Some(publication), _) => s.push_str(&format!(" published in {publication}")),
        (None, Some(_)) => s.push_str(" published"),
        (None, None) => {}
    }
    if let Some(date) = date {
        s.push_str(&format!(" on {date}"));
    }
    s.push('.');
    s
}

fn same_text(a: &str, b: &str) -> bool {
    a.len() > 20 && normalize(a) == normalize(b)
}
