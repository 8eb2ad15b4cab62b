//! From ranked passages to answers a person can check: the best sentences of a passage, the
//! question's words marked in them, and a citation that says where they come from.

use std::ops::Range;

use serde::Serialize;

use crate::about::Asks;
use crate::conversation::{understand_with, Answered, Reading, SmallTalk, Understood};
use crate::engine::{Engine, Results, Scope};
use crate::knowledge::{Metadata, Passage, PassageKind};
use crate::lang::Lang;
use crate::rank::{window_bytes, Hit, Signals, MAX_EXCERPT_CHARS};
use crate::retrieve::SearchError;
use crate::verdict::Verdict;

/// Where a passage comes from, as a reader cites it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citation {
    pub title: String,
    pub author: Option<String>,
    pub publication: Option<String>,
    /// As people write it: "2 January 2018".
    pub date: Option<String>,
    /// `¶4`, `photo caption 1`, `about the author`.
    pub label: String,
    /// Where the document lives on the web, when it does.
    pub url: Option<String>,
}

impl Citation {
    pub fn new(meta: &Metadata, passage: &Passage) -> Citation {
        Citation {
            title: meta.title.clone(),
            author: meta.author.clone(),
            publication: meta.publication.clone(),
            date: meta.human_date(),
            label: passage.label(),
            url: meta.url.clone(),
        }
    }

    /// Everything but the title and the URL: "Julia Gurganus, Foreign Affairs, 2 January 2018, ¶4".
    pub fn details(&self) -> String {
        self.byline()
            .into_iter()
            .chain(std::iter::once(&self.label))
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Who wrote it, where and when, as far as the metadata says.
    pub fn byline(&self) -> Vec<&String> {
        [&self.author, &self.publication, &self.date]
            .into_iter()
            .flatten()
            .collect()
    }
}

/// A text with the byte ranges to mark in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Marked {
    pub text: String,
    #[serde(skip)]
    pub marks: Vec<Range<usize>>,
}

impl Marked {
    /// The marked words, each once, in order of appearance.
    pub fn marked_words(&self) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        for r in &self.marks {
            let w = self.text[r.clone()].to_string();
            if !words.iter().any(|x| x.eq_ignore_ascii_case(&w)) {
                words.push(w);
            }
        }
        words
    }
}

/// One answer: a passage, the excerpt that answers, and its citation.
#[derive(Debug, Clone)]
pub struct Answer {
    /// 1 for the best passage.
    pub rank: usize,
    /// Index into the knowledge's passages.
    pub passage: usize,
    pub doc: String,
    pub kind: PassageKind,
    /// N of ¶N for paragraphs.
    pub number: u32,
    pub score: f32,
    /// Its score on words and on meaning, for a reader who wants to know why it won.
    pub signals: Signals,
    /// The whole passage, the question's words marked.
    pub full: Marked,
    /// The 1-3 sentences that answer best, `…` where a sentence was trimmed.
    pub excerpt: Marked,
    /// Where those sentences are in [`Answer::full`]'s text (byte range): what a reply
    /// marks when the question's words cannot be (the question is in another language).
    pub answering: Range<usize>,
    /// The language of the passage's document: the excerpt is quoted in it.
    pub language: Lang,
    pub citation: Citation,
}

impl<'a> From<&'a Answer> for Answered<'a> {
    fn from(answer: &'a Answer) -> Self {
        Answered {
            passage: answer.passage,
            excerpt: &answer.excerpt.text,
        }
    }
}

/// What citebot says to a question.
#[derive(Debug, Clone)]
pub struct Reply {
    pub question: String,
    /// Best first; empty when the knowledge does not answer the question.
    pub answers: Vec<Answer>,
    /// The question had no informative word at all ("what is it?").
    pub empty_question: bool,
    /// The message was only small talk ("thanks", "hi"), and which: nothing was searched,
    /// and the reply is a word back in kind.
    pub small_talk: Option<SmallTalk>,
    /// The question was cut before searching.
    pub truncated: bool,
    /// The question as a conversation resolved it, when it was a follow-up.
    pub understood_as: Option<String>,
    /// The message asked for more of the last answer: show the first answer's passage whole.
    pub more: bool,
    /// The documents that may answer too, to offer: the question did not say which document
    /// it is about, and one of several answered.
    pub others: Vec<usize>,
    /// The one document the answers were looked for in, when the search kept to one.
    pub document: Option<usize>,
    /// What the reader is told: a sure answer, the closest passage shown as such, or
    /// nothing related (then `answers` is empty)...
    pub verdict: Verdict,
    /// ...and how sure it is, from 0 to 1...
    pub confidence: f32,
    /// ...that this passage (shown, or not when nothing is) answers.
    pub best: Option<usize>,
    /// What the answers are: passages that answer, or the key sentences of a summary.
    pub kind: Kind,
}

/// What a reply's answers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// Passages that answer the question, best first.
    #[default]
    Passages,
    /// A document's summary: its key sentences in reading order, each its own answer (the
    /// document in [`Reply::document`]). Without answers, the question did not say which of
    /// several documents: [`Reply::others`] are the ones to choose from.
    Summary,
}

impl Kind {
    /// As `ask --json` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Passages => "passages",
            Kind::Summary => "summary",
        }
    }
}

/// How sure a reply from the document's own metadata, its author's note or its summary is:
/// these say what the question asks by construction; what can be wrong is reading the
/// question as one about the document (about.rs). Set, not fitted: on `tests/data/about`
/// the questions about the document got the right reply for 57 of 57 tune questions and 21
/// of 27 held-out ones (the held-out misses were counted, not read).
pub const FROM_THE_DOCUMENT: f32 = 0.95;

/// Asks `engine` and explains up to `top` passages that answer.
pub fn ask(engine: &Engine, question: &str, top: usize) -> Result<Reply, SearchError> {
    ask_in(engine, question, None, top)
}

/// [`ask`], of document `document` only when given (an index into the documents).
pub fn ask_in(
    engine: &Engine,
    question: &str,
    document: Option<usize>,
    top: usize,
) -> Result<Reply, SearchError> {
    // Read as a first message is: small talk answered in kind, an announced new topic
    // ("different question: ...") searched without its announcement.
    let mut understood = understand_with(question, None, &engine.names);
    understood.hints.document = document;
    reply(engine, &understood, top)
}

/// The reply to "thanks", "hi" or "ok": nothing searched, nothing found; the texts answer in
/// kind.
fn small_talk(message: &str, kind: SmallTalk) -> Reply {
    Reply {
        question: message.to_string(),
        answers: Vec::new(),
        empty_question: true,
        small_talk: Some(kind),
        truncated: false,
        understood_as: None,
        more: false,
        others: Vec::new(),
        document: None,
        verdict: Verdict::None,
        confidence: 0.0,
        best: None,
        kind: Kind::Passages,
    }
}

/// Answers a message of a conversation, as [`crate::conversation::understand`] read it.
pub fn reply(engine: &Engine, understood: &Understood, top: usize) -> Result<Reply, SearchError> {
    if let Reading::SmallTalk(kind) = understood.reading {
        return Ok(small_talk(&understood.typed, kind));
    }
    if understood.reading == Reading::More {
        if let Some(reply) = more(engine, understood)? {
            return Ok(reply);
        }
    }
    if understood.reading != Reading::More {
        if let Some(reply) = about_the_document(engine, understood, top) {
            return Ok(reply);
        }
    }
    let results = engine.search_with(&understood.question, &understood.hints, top.max(1))?;
    let mut reply = explain(engine, &understood.typed, &results, top);
    reply.understood_as = understood.understood_as().map(String::from);
    reply.more = understood.reading == Reading::More;
    Ok(reply)
}

/// "Tell me more": the passage of the last answer, whole, its words marked as for the last
/// question. `None` when there was no last answer, or it is no longer in the knowledge.
fn more(engine: &Engine, understood: &Understood) -> Result<Option<Reply>, SearchError> {
    let Some(prior) = understood.hints.prior else {
        return Ok(None);
    };
    // The last answer's passage is among the best for its own question; 50 is plenty.
    let results = engine.search_with(&understood.question, &understood.hints, 50)?;
    let Some(hit) = results.hits.iter().find(|h| h.passage == prior) else {
        return Ok(None);
    };
    Ok(Some(Reply {
        question: understood.typed.clone(),
        answers: vec![answer(engine, hit, 1)],
        empty_question: false,
        small_talk: None,
        truncated: false,
        understood_as: understood.understood_as().map(String::from),
        more: true,
        others: Vec::new(),
        document: engine.passage_doc(hit.passage),
        // The last answer's passage shown whole, on request: the decision on its question
        // now, which shows a passage in any case.
        verdict: match results.verdict {
            Verdict::None => Verdict::Closest,
            shown => shown,
        },
        confidence: results.confidence,
        best: results.best,
        kind: Kind::Passages,
    }))
}

/// Turns search results into answers. The best passage is shown when the verdict shows one
/// (sure, or as the closest); the next ones need less, but a passage that shares one common
/// word with the question and nothing of its meaning is never shown.
pub fn explain(engine: &Engine, question: &str, results: &Results, top: usize) -> Reply {
    let answers = if results.verdict.shows() {
        results
            .hits
            .iter()
            .enumerate()
            .filter(|(i, h)| *i == 0 || engine.tuning().policy.is_another_match(h))
            .map(|(_, h)| h)
            .take(top)
            .enumerate()
            .map(|(i, hit)| answer(engine, hit, i + 1))
            .collect()
    } else {
        Vec::new()
    };
    let others = match (results.scope, answers.first()) {
        (Scope::All, Some(first)) => {
            let answered_from = engine.passage_doc(first.passage);
            (0..engine.knowledge.documents.len())
                .filter(|&d| Some(d) != answered_from)
                .collect()
        }
        _ => Vec::new(),
    };
    Reply {
        question: question.to_string(),
        answers,
        empty_question: results.query.is_empty(),
        small_talk: None,
        truncated: results.query.truncated,
        understood_as: None,
        more: false,
        others,
        document: match results.scope {
            Scope::Document(doc) => Some(doc),
            Scope::All => None,
        },
        verdict: results.verdict,
        confidence: results.confidence,
        best: results.best,
        kind: Kind::Passages,
    }
}

fn answer(engine: &Engine, hit: &Hit, rank: usize) -> Answer {
    let passage = engine.passage(hit);
    let marks = merge(hit.matches.iter().filter_map(|m| m.range.clone()).collect());
    let window = window_bytes(passage, &hit.window);
    Answer {
        score: hit.score,
        signals: hit.signals,
        ..quoted(engine, hit.passage, rank, marks, window)
    }
}

/// Passage `id` quoted at `rank`: its `window` (a byte range) as the excerpt, `marks` marked.
fn quoted(
    engine: &Engine,
    id: usize,
    rank: usize,
    marks: Vec<Range<usize>>,
    window: Range<usize>,
) -> Answer {
    let passage = &engine.knowledge.passages[id];
    let doc = engine.knowledge.document(passage);
    Answer {
        rank,
        passage: id,
        doc: doc.id.clone(),
        kind: passage.kind,
        number: passage.number,
        score: 1.0,
        signals: Signals {
            lexical: 0.0,
            semantic: None,
        },
        excerpt: excerpt(&passage.text, window.clone(), &marks, MAX_EXCERPT_CHARS),
        answering: window,
        language: doc.language,
        full: Marked {
            text: passage.text.clone(),
            marks,
        },
        citation: Citation::new(&doc.meta, passage),
    }
}

/// The reply to a question about a document itself (about.rs), or `None` when the
/// question is about something else: when, where and under which title from the metadata
/// passage (its value marked), who wrote it and who they are from the note about them, what
/// it is about from its summary. The document is the one the question or the conversation
/// names; with several and none named, a summary asks which, and the rest is said of each.
fn about_the_document(engine: &Engine, understood: &Understood, top: usize) -> Option<Reply> {
    let language = engine.language_of(&understood.typed);
    let follows_an_answer = understood.hints.prior.is_some();
    let asks = crate::about::asks(
        &understood.typed,
        language,
        &engine.bylines,
        follows_an_answer,
    )?;
    let documents = engine.knowledge.documents.len();
    let named = understood
        .hints
        .document
        .or_else(|| engine.catalog.named_in(&understood.typed))
        .or_else(|| engine.passage_doc(understood.hints.prior?))
        .or((documents == 1).then_some(0));
    let docs: Vec<usize> = match named {
        Some(doc) => vec![doc],
        None => (0..documents).collect(),
    };
    let mut reply = match (asks, named) {
        (Asks::Summary, Some(doc)) => {
            from_the_document(understood, named, Kind::Summary, summary(engine, doc))
        }
        (Asks::Summary, None) => Reply {
            others: docs,
            verdict: Verdict::Closest,
            ..from_the_document(understood, None, Kind::Summary, Vec::new())
        },
        (asks, _) => {
            let mut answers = metadata(engine, asks, &docs);
            answers.truncate(top.max(1));
            from_the_document(understood, named, Kind::Passages, answers)
        }
    };
    for (i, a) in reply.answers.iter_mut().enumerate() {
        a.rank = i + 1;
    }
    if reply.answers.is_empty() && reply.others.is_empty() {
        return None; // A document without paragraphs to summarise: searched instead.
    }
    Some(reply)
}

/// The passages that say what `asks` asks of each of `docs`: who the author is from the
/// note about them; who wrote it from that note, then the metadata that names them; when,
/// where and under which title from the metadata, its value marked.
fn metadata(engine: &Engine, asks: Asks, docs: &[usize]) -> Vec<Answer> {
    let mut answers = Vec::new();
    for &doc in docs {
        let note = passage_of(engine, doc, PassageKind::AuthorNote);
        let about = passage_of(engine, doc, PassageKind::About);
        let shown = match asks {
            Asks::AuthorBio => vec![note.or(about)],
            Asks::Author => vec![note, about],
            _ => vec![about],
        };
        for id in shown.into_iter().flatten() {
            let marks = match Some(id) == about {
                true => metadata_marks(engine, id, asks),
                false => Vec::new(),
            };
            answers.push(whole(engine, id, marks));
        }
    }
    answers
}

/// The first passage of `kind` in document `doc`.
fn passage_of(engine: &Engine, doc: usize, kind: PassageKind) -> Option<usize> {
    (engine.knowledge.passages.iter()).position(|p| p.doc == doc && p.kind == kind)
}

/// Passage `id` quoted whole.
fn whole(engine: &Engine, id: usize, marks: Vec<Range<usize>>) -> Answer {
    let len = engine.knowledge.passages[id].text.len();
    quoted(engine, id, 1, marks, 0..len)
}

/// Where the metadata passage `id` says what `field` asks: the author's name, the date, the
/// publication, the title.
fn metadata_marks(engine: &Engine, id: usize, field: Asks) -> Vec<Range<usize>> {
    let passage = &engine.knowledge.passages[id];
    let meta = &engine.knowledge.document(passage).meta;
    let value = match field {
        Asks::Author => meta.author.clone(),
        Asks::Date => meta.human_date(),
        Asks::Publication => meta.publication.clone(),
        Asks::Title => Some(meta.full_title()),
        Asks::AuthorBio | Asks::Summary => None,
    };
    value
        .and_then(|v| passage.text.find(&v).map(|at| at..at + v.len()))
        .into_iter()
        .collect()
}

/// Document `doc`'s key sentences, each an answer quoting it from its paragraph.
pub fn summary(engine: &Engine, doc: usize) -> Vec<Answer> {
    engine
        .summary(doc)
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let sentence = engine.knowledge.passages[key.passage].sentences[key.sentence].clone();
            quoted(engine, key.passage, i + 1, Vec::new(), sentence)
        })
        .collect()
}

/// The reply to `/summary` and its buttons: document `doc`'s summary.
pub fn summary_reply(engine: &Engine, doc: usize, question: &str) -> Reply {
    let asked = Understood::standalone(question);
    from_the_document(&asked, Some(doc), Kind::Summary, summary(engine, doc))
}

/// A sure reply of `kind` from what a document says of itself (its metadata, its note
/// about the author, its summary) to `understood`, kept to `document` when given.
fn from_the_document(
    understood: &Understood,
    document: Option<usize>,
    kind: Kind,
    answers: Vec<Answer>,
) -> Reply {
    Reply {
        question: understood.typed.clone(),
        best: answers.first().map(|a| a.passage),
        answers,
        empty_question: false,
        small_talk: None,
        truncated: false,
        understood_as: None,
        more: false,
        others: Vec::new(),
        document,
        verdict: Verdict::Answer,
        confidence: FROM_THE_DOCUMENT,
        kind,
    }
}

/// Sorted, overlapping ranges merged.
fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut out: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// The `window` of `text`, cut to at most `max_chars` characters (plus `…` marks) around the
/// marked words when it is longer, at word boundaries where there are any.
pub fn excerpt(
    text: &str,
    window: Range<usize>,
    marks: &[Range<usize>],
    max_chars: usize,
) -> Marked {
    // Marks in any order, overlapping or not: the cut below needs them sorted and disjoint.
    let inside: Vec<Range<usize>> = merge(
        marks
            .iter()
            .filter(|m| m.start >= window.start && m.end <= window.end && m.start <= m.end)
            .cloned()
            .collect(),
    );
    let mut cut = window.clone();
    if text[window.clone()].chars().count() > max_chars {
        // Centre the cut on the marked words, as far as they fit.
        let focus_start = inside.first().map_or(window.start, |m| m.start);
        let focus_end = inside
            .iter()
            .take_while(|m| text[focus_start..m.end].chars().count() <= max_chars)
            .last()
            .map_or(focus_start, |m| m.end);
        let spare = max_chars.saturating_sub(text[focus_start..focus_end].chars().count());
        let before = text[window.start..focus_start]
            .chars()
            .count()
            .min(spare / 2);
        let start = back_chars(text, focus_start, before).max(window.start);
        let room = max_chars - text[start..focus_end].chars().count().min(max_chars);
        let end = forward_chars(text, focus_end, room).min(window.end);
        cut = snap_to_words(text, start, end, &window);
    }
    let mut out = String::new();
    let mut shift = cut.start as isize;
    if cut.start > window.start {
        out.push('…');
        shift -= '…'.len_utf8() as isize;
    }
    out.push_str(&text[cut.clone()]);
    if cut.end < window.end {
        out.push('…');
    }
    let marks = inside
        .iter()
        .filter(|m| m.start >= cut.start && m.end <= cut.end)
        .map(|m| (m.start as isize - shift) as usize..(m.end as isize - shift) as usize)
        .collect();
    Marked { text: out, marks }
}

fn back_chars(text: &str, from: usize, n: usize) -> usize {
    if n == 0 {
        return from;
    }
    text[..from]
        .char_indices()
        .rev()
        .nth(n - 1)
        .map_or(0, |(i, _)| i)
}

fn forward_chars(text: &str, from: usize, n: usize) -> usize {
    text[from..]
        .char_indices()
        .nth(n)
        .map_or(text.len(), |(i, _)| from + i)
}

/// Moves the cut inwards to the nearest white space, so no word is cut in half (unless the
/// text has no white space to cut at).
fn snap_to_words(text: &str, start: usize, end: usize, window: &Range<usize>) -> Range<usize> {
    let start = if start > window.start {
        text[start..end]
            .find(char::is_whitespace)
            .map_or(start, |i| start + i + 1)
    } else {
        start
    };
    let end = if end < window.end {
        text[start..end]
            .rfind(char::is_whitespace)
            .map_or(end, |i| start + i)
    } else {
        end
    };
    let slice = &text[start..end];
    let trimmed_start = start + (slice.len() - slice.trim_start().len());
    let trimmed_end = end - (slice.len() - slice.trim_end().len());
    if trimmed_start < trimmed_end {
        trimmed_start..trimmed_end
    } else {
        start..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(m: &Marked) -> String {
        let mut s = String::new();
        let mut at = 0;
        for r in &m.marks {
            s.push_str(&m.text[at..r.start]);
            s.push('[');
            s.push_str(&m.text[r.clone()]);
            s.push(']');
            at = r.end;
        }
        s.push_str(&m.text[at..]);
        s
    }

    fn find(text: &str, word: &str) -> Range<usize> {
        let i = text.find(word).unwrap();
        i..i + word.len()
    }

    #[test]
    fn short_windows_are_kept_whole() {
        let text = "One two three. Four five six.";
        let e = excerpt(text, 15..text.len(), &[find(text, "five")], 400);
        assert_eq!(marked(&e), "Four [five] six.");
    }

    #[test]
    fn long_sentences_are_cut_around_the_marks_at_char_boundaries() {
        let cases = [
            (
                "word ".repeat(100) + "target " + &"word ".repeat(100),
                "target",
            ),
            (
                "слово ".repeat(100) + "цель " + &"слово ".repeat(100),
                "цель",
            ),
            ("😀 ".repeat(300) + "goal" + &" 😀".repeat(300), "goal"),
            ("中文".repeat(300) + "目标" + &"中文".repeat(300), "目标"),
        ];
        for (text, word) in cases {
            let e = excerpt(&text, 0..text.len(), &[find(&text, word)], 50);
            assert!(
                e.text.starts_with('…') && e.text.ends_with('…'),
                "{:?}",
                e.text
            );
            assert!(
                e.text.chars().count() <= 52,
                "{} chars",
                e.text.chars().count()
            );
            assert_eq!(e.marks.len(), 1);
            assert_eq!(&e.text[e.marks[0].clone()], word);
        }
    }

    #[test]
    fn a_cut_at_the_start_has_no_leading_ellipsis() {
        let text = "target ".to_string() + &"word ".repeat(200);
        let e = excerpt(&text, 0..text.len(), &[find(&text, "target")], 40);
        assert!(e.text.starts_with("target word"));
        assert!(e.text.ends_with("word…"));
        assert_eq!(marked(&e).split(']').next(), Some("[target"));
    }

    #[test]
    fn unsorted_overlapping_marks_do_not_break_the_cut() {
        let text = "word ".repeat(100) + "alpha beta " + &"word ".repeat(100);
        let a = find(&text, "alpha");
        let b = find(&text, "beta");
        let both = a.start..b.end;
        let e = excerpt(&text, 0..text.len(), &[b, both, a], 40);
        assert_eq!(e.marks.len(), 1);
        assert_eq!(&e.text[e.marks[0].clone()], "alpha beta");
    }

    #[test]
    fn overlapping_marks_merge() {
        assert_eq!(merge(vec![5..8, 0..2, 1..3, 8..9]), vec![0..3, 5..9]);
    }
}
