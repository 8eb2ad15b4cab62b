//! Cutting a document's scraped text into passages.
//!
//! Scraped articles carry more than their body: photo captions (often twice, once as alt text
//! and once as the caption), photo credits, pull quotes repeated from the body, paywall text
//! and the author's note. [`passages`] tells these apart by the shape of each line, not by
//! line numbers, so any similar article dropped into the knowledge folder is cut the same way.
//! Captions that a file's format marks (a `<figcaption>`, Word's Caption style) need no
//! telling: [`passages_with_captions`] takes them as they are.
//! Apart from loading files, this is the part of [`super`] that changes when scraped pages
//! change shape.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{normalize, sentences, Metadata, Passage, PassageKind};
use crate::lang;

/// A line of at least this many words is a paragraph whatever it ends with: the drop rules
/// below were made for short lines (credits, buttons, navigation), and a long line that
/// lacks a full stop (`…in the lower rooms` before a reference marker, notes typed in a
/// hurry) is still text a reader may ask about.
const PARAGRAPH_WORDS: usize = 15;

/// Why a line of a document is not a passage: each rule that drops lines, by name, so that
/// `citebot index` can say what it will not answer from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropRule {
    /// A heading: a Markdown `#` line, or a short numbered line ("2.1 Cargo volumes").
    Heading,
    /// The second copy of a photo caption (scraped pages give the alt text and the caption).
    RepeatedCaption,
    /// The credit line after a photo caption ("REUTERS / Photohost").
    PhotoCredit,
    /// A subscription or paywall prompt, and the list of selling points after it.
    Paywall,
    /// A line repeated from a body paragraph to catch the eye.
    PullQuote,
    /// A short line that ends no sentence: navigation, a button, a credit, a label.
    ShortLine,
    /// A menu or breadcrumb of any length: links between separators ("Home | World | …").
    Navigation,
}

impl DropRule {
    pub const ALL: [DropRule; 7] = [
        DropRule::Heading,
        DropRule::RepeatedCaption,
        DropRule::PhotoCredit,
        DropRule::Paywall,
        DropRule::PullQuote,
        DropRule::ShortLine,
        DropRule::Navigation,
    ];

    /// Its name in `citebot index`'s report.
    pub fn as_str(self) -> &'static str {
        match self {
            DropRule::Heading => "heading",
            DropRule::RepeatedCaption => "repeated caption",
            DropRule::PhotoCredit => "photo credit",
            DropRule::Paywall => "paywall",
            DropRule::PullQuote => "pull quote",
            DropRule::ShortLine => "short line",
            DropRule::Navigation => "navigation",
        }
    }
}

/// A line of a document that is not a passage, and the rule that dropped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub rule: DropRule,
    pub text: String,
}

/// A document body cut into passages, and the lines that were not kept.
#[derive(Debug, Clone, Default)]
pub struct Cut {
    pub passages: Vec<Passage>,
    pub dropped: Vec<Dropped>,
}

/// A line of scraped text, with what its shape says about it.
struct Line<'a> {
    /// The line less its bullet and its reference markers.
    text: Cow<'a, str>,
    bullet: bool,
}

impl<'a> Line<'a> {
    fn new(raw: &'a str) -> Line<'a> {
        let t = raw.trim();
        let (text, bullet) = ["• ", "* ", "- ", "· "]
            .iter()
            .find_map(|bullet| t.strip_prefix(bullet))
            .map_or((t, false), |rest| (rest.trim(), true));
        Line {
            text: without_reference_markers(text),
            bullet,
        }
    }

    /// The number of words, counted up to 31: every rule here only asks about short lines.
    fn words(&self) -> usize {
        self.text.split_whitespace().take(31).count()
    }

    /// Body text ends its sentences; credits, buttons and navigation links do not. A long
    /// line is text however it ends.
    fn is_prose(&self) -> bool {
        let words = self.words();
        words >= PARAGRAPH_WORDS || (ends_a_sentence(&self.text) && words >= 4)
    }

    /// A menu or a breadcrumb: words between three or more separators standing alone
    /// ("Home | World | Politics", "News › Europe › Russia"), ending no sentence. Long
    /// lines are kept whatever they end with, so a long menu needs its own rule.
    fn is_navigation(&self) -> bool {
        let separators = self
            .text
            .split_whitespace()
            .filter(|w| matches!(*w, "|" | "•" | "·" | "›" | "»" | "/" | "–" | "-"))
            .count();
        separators >= 3 && !ends_a_sentence(&self.text)
    }

    /// A heading: a Markdown `#` line, or a short line numbered as a section ("1.
    /// Introduction", "2.1 Cargo volumes", "3 Recommendations") that ends no sentence.
    fn is_heading(&self) -> bool {
        if self.text.starts_with('#') {
            return true;
        }
        let mut words = self.text.split_whitespace();
        let numbered = words.next().is_some_and(|first| {
            let number = first.trim_end_matches(['.', ')']);
            !number.is_empty()
                && number
                    .split('.')
                    .all(|n| !n.is_empty() && n.len() <= 3 && n.chars().all(|c| c.is_ascii_digit()))
        });
        numbered && words.next().is_some() && self.words() <= 12 && !ends_a_sentence(&self.text)
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

/// Closing quotes and brackets of any script: a sentence may end inside them
/// (`…he said: «Море не прощает спешки»`).
pub(super) const CLOSERS: &[char] = &[
    '"', '\'', '”', '’', '“', '‘', '»', '«', '›', '‹', ')', ']', '}', '」', '』', '〉', '》', '】',
    '〕', '〗', '〙', '〛', '）', '］', '｝', '＂', '＇',
];

/// Whether `text` ends a sentence: its last mark, inside any closing quotes and brackets, is
/// a full stop, `!`, `?`, `…` or `:` (or their forms in other scripts).
fn ends_a_sentence(text: &str) -> bool {
    let end = text.trim_end_matches(CLOSERS).chars().last();
    matches!(
        end,
        Some('.' | '!' | '?' | '…' | ':' | '。' | '！' | '？' | '؟' | '।')
    )
}

/// `text` without the reference markers an encyclopedia puts after a claim: `[12]`, `[a]`,
/// `[note 3]`, `[citation needed]`. They are no part of the sentence a reader quotes, and
/// they hide how a paragraph ends. Other brackets (`[sic]`, a `[link](url)`) stay.
fn without_reference_markers(text: &str) -> Cow<'_, str> {
    if !text.contains('[') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let marker = after
            .find(']')
            .filter(|&close| is_reference_marker(&after[..close]))
            // `[1](url)` is a Markdown link, not a marker.
            .filter(|&close| !after[close + 1..].starts_with('('));
        match marker {
            Some(close) => {
                out.push_str(rest[..open].trim_end_matches(' '));
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out.trim().to_string())
}

/// The inside of a bracket that marks a reference: a number, a footnote letter, a named
/// note, or an editor's flag ("citation needed", "who?", "источник не указан 12 дней").
fn is_reference_marker(inside: &str) -> bool {
    let inside = inside.trim();
    let numbered = |s: &str| !s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit());
    let lower = inside.to_lowercase();
    numbered(inside)
        || (inside.chars().count() == 1 && inside.chars().all(|c| c.is_ascii_lowercase()))
        || ["note ", "nb ", "n "].iter().any(|p| {
            lower
                .strip_prefix(p)
                .is_some_and(|n| n.len() <= 4 && !n.is_empty())
        })
        || (lower.chars().count() <= 40
            && (lower.ends_with(" needed")
                || lower.starts_with("источник")
                || lower.starts_with("нет ")
                || matches!(
                    lower.as_str(),
                    "who?"
                        | "when?"
                        | "which?"
                        | "where?"
                        | "why?"
                        | "dubious"
                        | "update"
                        | "according to whom?"
                        | "by whom?"
                        | "failed verification"
                        | "original research?"
                        | "unreliable source?"
                        | "citation not found"
                        | "кто?"
                        | "когда?"
                        | "где?"
                        | "уточнить"
                )))
}

/// Cuts a document body into passages: body paragraphs numbered in reading order, photo
/// captions once each, the author's note, and a passage made of the metadata itself; photo
/// credits, pull quotes, paywall text and navigation are dropped, each line with its rule.
pub fn passages(doc: usize, meta: &Metadata, body: &str) -> Cut {
    passages_with_captions(doc, meta, body, &[])
}

/// [`passages`], with the captions the file's format marked as such
/// ([`crate::formats::Extracted::captions`]): each is a caption passage, once however often
/// it is given, ahead of those the body's shape tells. A marked caption of a word or two (a
/// bare credit, "Figure 3") says nothing a reader asks about and is dropped as a short line.
pub fn passages_with_captions(doc: usize, meta: &Metadata, body: &str, marked: &[String]) -> Cut {
    let lines: Vec<Line> = body.lines().map(Line::new).collect();
    let marked: Vec<Line> = marked.iter().map(|c| Line::new(c)).collect();
    let mut sorted = sort_lines(&lines, meta.author.as_deref());
    let body_paragraphs = without_pull_quotes(&sorted.paragraphs, &mut sorted.dropped);
    let mut captions: Vec<&str> = Vec::with_capacity(marked.len() + sorted.captions.len());
    for line in &marked {
        if line.words() < 3 && !line.is_prose() {
            if !line.text.is_empty() {
                sorted.dropped.push(Dropped {
                    rule: DropRule::ShortLine,
                    text: line.text.to_string(),
                });
            }
            continue;
        }
        captions.push(&line.text);
    }
    captions.extend(&sorted.captions);
    let mut once: Vec<&str> = Vec::with_capacity(captions.len());
    for caption in captions {
        if once.iter().any(|c| *c == caption || same_text(c, caption)) {
            sorted.dropped.push(Dropped {
                rule: DropRule::RepeatedCaption,
                text: caption.to_string(),
            });
        } else {
            once.push(caption);
        }
    }
    Cut {
        passages: number_passages(doc, meta, &body_paragraphs, &once, &sorted.notes),
        dropped: sorted.dropped,
    }
}

/// The lines of a body that may become passages, by kind, each in reading order, and those
/// dropped. Pull quotes are still among the paragraphs: telling them apart needs all the
/// paragraphs.
struct SortedLines<'a> {
    paragraphs: Vec<&'a str>,
    captions: Vec<&'a str>,
    notes: Vec<&'a str>,
    dropped: Vec<Dropped>,
}

/// Reads the lines in order, keeping prose paragraphs, captions (once each, their credits
/// dropped) and the author's note (the note about `author`), and dropping headings, paywall
/// prompts with the lists that follow them, and short lines that are not prose.
fn sort_lines<'a>(lines: &'a [Line<'_>], author: Option<&str>) -> SortedLines<'a> {
    let mut sorted = SortedLines {
        paragraphs: Vec::new(),
        captions: Vec::new(),
        notes: Vec::new(),
        dropped: Vec::new(),
    };
    let mut dropped: Vec<Dropped> = Vec::new();
    let drop = |rule, line: &Line| Dropped {
        rule,
        text: line.text.to_string(),
    };
    let mut in_boilerplate = false;
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        i += 1;
        if line.text.is_empty() {
            continue;
        }
        if line.is_heading() {
            dropped.push(drop(DropRule::Heading, line));
            continue;
        }
        if line.is_navigation() {
            dropped.push(drop(DropRule::Navigation, line));
            continue;
        }
        // A scraped photo caption comes twice in a row (alt text, then caption), then its credit.
        if lines
            .get(i)
            .is_some_and(|next| same_text(&next.text, &line.text))
        {
            dropped.push(drop(DropRule::RepeatedCaption, &lines[i]));
            i += 1;
            if let Some(credit) = lines
                .get(i)
                .filter(|credit| !credit.text.is_empty() && !credit.is_prose())
            {
                dropped.push(drop(DropRule::PhotoCredit, credit));
                i += 1;
            }
            if !sorted.captions.iter().any(|c| same_text(c, &line.text)) {
                sorted.captions.push(&line.text);
            }
            continue;
        }
        if line.is_author_note(author) {
            sorted.notes.push(&line.text);
            continue;
        }
        if line.is_boilerplate() {
            in_boilerplate = true;
            dropped.push(drop(DropRule::Paywall, line));
            continue;
        }
        // A paywall prompt is followed by its list of selling points: skip the list too.
        if in_boilerplate && (line.bullet || line.words() < 20) {
            dropped.push(drop(DropRule::Paywall, line));
            continue;
        }
        if !line.is_prose() {
            dropped.push(drop(DropRule::ShortLine, line));
            continue;
        }
        in_boilerplate = false;
        sorted.paragraphs.push(&line.text);
    }
    sorted.dropped = dropped;
    sorted
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

/// The paragraphs less the pull quotes (added to `dropped`): lines shaped like a quote whose
/// words all stand in another paragraph, or, sandwiched between long paragraphs, mostly stand
/// in one.
fn without_pull_quotes<'a>(paragraphs: &[&'a str], dropped: &mut Vec<Dropped>) -> Vec<&'a str> {
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
            if pull_quote {
                dropped.push(Dropped {
                    rule: DropRule::PullQuote,
                    text: p.to_string(),
                });
            }
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
        let text = about_text(meta);
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

/// The metadata as a sentence: what a question about the document itself (about.rs) is
/// answered with, its value marked, and what a search for the title or the date finds.
fn about_text(meta: &Metadata) -> String {
    let mut s = format!("“{}” is an article", meta.full_title());
    if let Some(author) = &meta.author {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_markers_are_taken_out_and_other_brackets_stay() {
        for (line, want) in [
            (
                "through the winter storms.[1]",
                "through the winter storms.",
            ),
            ("in the lower rooms.[12][13]", "in the lower rooms."),
            ("was rebuilt [citation needed]", "was rebuilt"),
            (
                "in 1874[3] the tower rose.[a] Then",
                "in 1874 the tower rose. Then",
            ),
            ("a keeper.[note 4] He", "a keeper. He"),
            ("в 1911 году[источник не указан 12 дней]", "в 1911 году"),
            ("he wrote [sic] that", "he wrote [sic] that"),
            (
                "see [1](https://example.org)",
                "see [1](https://example.org)",
            ),
            ("an [unclosed bracket", "an [unclosed bracket"),
            ("[", "["),
            ("no brackets at all", "no brackets at all"),
        ] {
            assert_eq!(without_reference_markers(line), want, "{line:?}");
        }
    }

    #[test]
    fn a_sentence_may_end_inside_closing_quotes_of_any_script() {
        for (text, ends) in [
            ("he said: «Море не прощает спешки»", false),
            ("он сказал: «Море не прощает спешки.»", true),
            ("«Море не прощает спешки!»", true),
            ("the end.)", true),
            ("「終わり。」", true),
            ("It was “over.”", true),
            ("Jump to navigation", false),
            ("", false),
        ] {
            assert_eq!(ends_a_sentence(text), ends, "{text:?}");
        }
    }

    fn cut(body: &str) -> Cut {
        let meta: Metadata =
            toml::from_str("title = \"T\"\nurl = \"https://example.org/t\"").expect("a header");
        passages(0, &meta, body)
    }

    fn paragraphs(cut: &Cut) -> Vec<&str> {
        cut.passages
            .iter()
            .filter(|p| p.kind == PassageKind::Paragraph)
            .map(|p| p.text.as_str())
            .collect()
    }

    /// What was left out, by which rule.
    fn dropped(cut: &Cut) -> Vec<(DropRule, &str)> {
        cut.dropped
            .iter()
            .map(|d| (d.rule, d.text.as_str()))
            .collect()
    }

    #[test]
    fn long_lines_are_paragraphs_however_they_end_and_short_ones_are_reported() {
        let long = "The survey team counted otters along the upper reach for three mornings \
                    running and found fresh spraints at every bridge";
        let quoted = "На прощание капитан повторил ученикам то, что говорил всем до них: \
                      «Море не прощает спешки»";
        let body = format!(
            "From Wikipedia, the free encyclopedia\n\n2.1 Cargo volumes\n\n{long}\n\n\
             # Notes\n\n{quoted}\n\nThe lamp was lit in 1874.[3]\n\n[edit]\n"
        );
        let cut = cut(&body);
        assert_eq!(
            paragraphs(&cut),
            [long, quoted, "The lamp was lit in 1874."]
        );
        assert_eq!(
            dropped(&cut),
            [
                (DropRule::ShortLine, "From Wikipedia, the free encyclopedia"),
                (DropRule::Heading, "2.1 Cargo volumes"),
                (DropRule::Heading, "# Notes"),
                (DropRule::ShortLine, "[edit]"),
            ]
        );
    }

    /// A caption the format marked is a caption passage, once however often it is given,
    /// and never a pull quote or a paragraph; a bare credit marked as a caption is dropped.
    #[test]
    fn marked_captions_are_captions_once() {
        let meta: Metadata =
            toml::from_str("title = \"T\"\nurl = \"https://example.org/t\"").expect("a header");
        let para = "The survey team counted otters along the upper reach for three mornings \
                    running and found fresh spraints at every bridge.";
        let caption = "An otter on the weir below the mill, at dawn, March 2019";
        let marked = [
            caption.to_string(),
            format!(" {caption} "),
            "AP".to_string(),
        ];
        let cut = passages_with_captions(0, &meta, para, &marked);
        let captions: Vec<(u32, &str)> = cut
            .passages
            .iter()
            .filter(|p| p.kind == PassageKind::Caption)
            .map(|p| (p.number, p.text.as_str()))
            .collect();
        assert_eq!(captions, [(1, caption)]);
        assert_eq!(paragraphs(&cut), [para]);
        assert_eq!(
            dropped(&cut),
            [
                (DropRule::ShortLine, "AP"),
                (DropRule::RepeatedCaption, caption)
            ]
        );
        // Without marked captions, the same as `passages`.
        assert_eq!(
            passages_with_captions(0, &meta, para, &[]).passages.len(),
            passages(0, &meta, para).passages.len()
        );
    }

    #[test]
    fn a_long_menu_is_navigation_and_a_sentence_with_dashes_is_not() {
        let menu = "Home | News | Sport | Business | Innovation | Culture | Travel | Earth | \
                    Video | Live | Sign in | Register";
        let prose = "The crossing takes forty minutes - longer in winter - and the ferry \
                     carries twelve cars, two lorries and up to 120 passengers on each trip.";
        let cut = cut(&format!("{menu}\n\n{prose}\n"));
        assert_eq!(paragraphs(&cut), [prose]);
        assert_eq!(cut.dropped[0].rule, DropRule::Navigation);
    }

    #[test]
    fn numbered_sentences_are_not_headings() {
        for (line, heading) in [
            ("1. Introduction", true),
            ("3 Recommendations", true),
            ("2.3 Condition of the estate", true),
            ("1. The harbour handled more cargo than ever before.", false),
            (
                "2014 was the year the ferry stopped running for good",
                false,
            ),
            ("12", false),
        ] {
            let l = Line::new(line);
            assert_eq!(l.is_heading(), heading, "{line:?}");
        }
    }
}
