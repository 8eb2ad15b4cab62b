//! One answer, three renderings: plain text for the terminal, Telegram HTML for the bot, and
//! the JSON of `ask --json` and `chat --json`.
//!
//! Telegram's HTML parse mode accepts a handful of tags and needs `&`, `<` and `>` escaped
//! everywhere else; a message holds at most 4096 UTF-16 code units. Every piece of user or
//! document text goes through [`escape`], and long passages are split at sentence or word
//! boundaries into messages whose tags each open and close within the message.

use std::borrow::Cow;
use std::ops::Range;

use crate::answer::{Answer, Citation, Kind, Marked, Reply};
use crate::conversation::{Context, ShownAnswer};
use crate::engine::Engine;
use crate::html::{escape, html_to_plain};
use crate::knowledge::Knowledge;
use crate::lang::Lang;
use crate::texts;
use crate::verdict::Verdict;

/// Telegram's limit for one message, in UTF-16 code units.
pub const MAX_MESSAGE_UTF16: usize = 4096;

/// Telegram HTML as a terminal shows it: bold and italics (ANSI escapes, or `*` and
/// nothing with [`Style::Stars`]), a quote in curly quotes, a link's address after its
/// text. For the terminal chat, which shows what the bot would send.
pub fn html_to_terminal(html: &str, style: Style) -> String {
    let mut out = String::with_capacity(html.len());
    let mut href: Vec<String> = Vec::new();
    let mut quoted = false;
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let text = html_to_plain(&rest[..i]);
        out.push_str(&if quoted { nest_quotes(&text) } else { text });
        rest = &rest[i..];
        let Some(end) = rest.find('>') else {
            break;
        };
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        let ansi = style == Style::Ansi;
        match tag {
            "b" => out.push_str(if ansi { "\x1b[1m" } else { "*" }),
            "/b" => out.push_str(if ansi { "\x1b[22m" } else { "*" }),
            "i" if ansi => out.push_str("\x1b[3m"),
            "/i" if ansi => out.push_str("\x1b[23m"),
            "blockquote" => {
                out.push('“');
                quoted = true;
            }
            "/blockquote" => {
                out.push('”');
                quoted = false;
            }
            "code" | "/code" => out.push('`'),
            "/a" => {
                if let Some(url) = href.pop() {
                    out.push_str(&format!(" <{url}>"));
                }
            }
            t if t.starts_with("a href=\"") => {
                href.push(html_to_plain(t["a href=\"".len()..].trim_end_matches('"')));
            }
            _ => {}
        }
    }
    out.push_str(&html_to_plain(rest));
    out
}

/// Quotation marks inside a quote become single ones, as typesetters do, so that a quote
/// that ends with one does not end with two (`collapse.””`).
fn nest_quotes(text: &str) -> String {
    text.replace('“', "‘").replace('”', "’")
}

/// The length Telegram counts: UTF-16 code units.
pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// How marked words look in plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Bold, with ANSI escapes, for a terminal.
    Ansi,
    /// `*word*`, for pipes and files.
    Stars,
}

pub fn marked_plain(m: &Marked, style: Style) -> String {
    let (open, close) = match style {
        Style::Ansi => ("\x1b[1m", "\x1b[0m"),
        Style::Stars => ("*", "*"),
    };
    let mut out = String::with_capacity(m.text.len() + 8 * m.marks.len());
    let mut at = 0;
    for r in &m.marks {
        out.push_str(&m.text[at..r.start]);
        out.push_str(open);
        out.push_str(&m.text[r.clone()]);
        out.push_str(close);
        at = r.end;
    }
    out.push_str(&m.text[at..]);
    out
}

/// The part `range` of a marked text as Telegram HTML: escaped, marks in `<b>`.
pub fn marked_html(m: &Marked, range: Range<usize>) -> String {
    let mut out = String::with_capacity(range.len() + range.len() / 8);
    let mut at = range.start;
    for r in &m.marks {
        let (start, end) = (r.start.max(range.start), r.end.min(range.end));
        if start >= end || start < at {
            continue;
        }
        out.push_str(&escape(&m.text[at..start]));
        out.push_str("<b>");
        out.push_str(&escape(&m.text[start..end]));
        out.push_str("</b>");
        at = end;
    }
    out.push_str(&escape(&m.text[at..range.end]));
    out
}

/// The language a reply's question was asked in (`None`: it has no letters), which decides
/// what its answers mark.
pub fn asked_in(reply: &Reply) -> Option<Lang> {
    Lang::detect(&reply.question)
}

/// Whether a question asked in `asked` and an answer are in different languages: then they
/// share no words to mark, and the sentences that answer are marked instead.
pub fn across_languages(a: &Answer, asked: Option<Lang>) -> bool {
    asked.is_some_and(|lang| lang != a.language)
}

/// An answer's excerpt as shown to a question asked in `asked`: the question's words marked,
/// or across languages the sentences that answer, which the excerpt is (all of it but the
/// `…` where a sentence was trimmed).
pub fn shown_excerpt(a: &Answer, asked: Option<Lang>) -> Cow<'_, Marked> {
    if !across_languages(a, asked) {
        return Cow::Borrowed(&a.excerpt);
    }
    let text = &a.excerpt.text;
    let start = if text.starts_with('…') {
        '…'.len_utf8()
    } else {
        0
    };
    let end = match text.strip_suffix('…') {
        Some(rest) if rest.len() >= start => rest.len(),
        _ => text.len(),
    };
    Cow::Owned(sentences_marked(text, start..end))
}

/// An answer's whole passage as shown to a question asked in `asked`: the question's words
/// marked, or across languages the sentences that answer, within their paragraph.
pub fn shown_full(a: &Answer, asked: Option<Lang>) -> Cow<'_, Marked> {
    if !across_languages(a, asked) {
        return Cow::Borrowed(&a.full);
    }
    Cow::Owned(sentences_marked(&a.full.text, a.answering.clone()))
}

/// `text` with `range` marked, its white space at either end left out (nothing when the
/// range is no slice of `text`).
fn sentences_marked(text: &str, range: Range<usize>) -> Marked {
    let marks = match text.get(range.clone()) {
        Some(slice) if !slice.trim().is_empty() => {
            let start = range.start + (slice.len() - slice.trim_start().len());
            std::iter::once(start..start + slice.trim().len()).collect()
        }
        _ => Vec::new(),
    };
    Marked {
        text: text.to_string(),
        marks,
    }
}

/// A citation in plain text, on two lines: what, then where.
pub fn citation_plain(c: &Citation) -> String {
    match &c.url {
        Some(url) => format!("— {}, {}\n  {url}", c.title, c.details()),
        None => format!("— {}, {}", c.title, c.details()),
    }
}

/// A citation in Telegram HTML: the title links to the source.
pub fn citation_html(c: &Citation) -> String {
    format!(
        "— {}, {}",
        crate::html::link(c.url.as_deref(), &escape(&c.title)),
        escape(&c.details())
    )
}

/// A whole reply for the terminal: the same texts as the bot's, in `lang`, without tags.
pub fn reply_plain(reply: &Reply, engine: &Engine, style: Style, lang: Lang) -> String {
    let mut out = String::new();
    if let Some(question) = &reply.understood_as {
        out.push_str(&html_to_plain(&texts::understood(question)));
        out.push('\n');
    }
    if reply.truncated {
        out.push_str(&html_to_plain(&texts::truncated(
            crate::analysis::MAX_QUESTION_CHARS,
            lang,
        )));
        out.push_str("\n\n");
    }
    if reply.kind == Kind::Summary {
        out.push_str(&html_to_terminal(
            &summary_html(reply, engine, false, lang),
            style,
        ));
        return out;
    }
    if reply.answers.is_empty() {
        out.push_str(&html_to_plain(&texts::no_answer(
            reply, engine, false, lang,
        )));
        return out;
    }
    if reply.verdict == Verdict::Closest && !reply.more {
        out.push_str(&html_to_plain(&texts::closest(reply, engine, lang)));
        out.push('\n');
    }
    let several = reply.answers.len() > 1;
    let asked = asked_in(reply);
    for a in &reply.answers {
        if several {
            out.push_str(&format!("{}. ", a.rank));
        }
        let text = if reply.more {
            shown_full(a, asked)
        } else {
            shown_excerpt(a, asked)
        };
        out.push_str(&format!(
            "“{}”\n{}\n",
            nest_quotes(&marked_plain(&text, style)),
            citation_plain(&a.citation)
        ));
        if several {
            out.push('\n');
        }
    }
    if let Some(line) = others_line(reply, engine, texts::Offer::DocFlag, lang) {
        out.push_str(&format!("\n{}", html_to_plain(&line)));
    }
    out.trim_end().to_string()
}

/// The line that offers the other documents, when the reply has some to offer.
fn others_line(reply: &Reply, engine: &Engine, offer: texts::Offer, lang: Lang) -> Option<String> {
    let first = reply.answers.first()?;
    let from = engine.passage_doc(first.passage)?;
    (!reply.others.is_empty())
        .then(|| texts::other_documents(engine, from, &reply.others, offer, lang))
}

/// Splits a marked text into byte ranges whose HTML takes at most `budget` UTF-16 units,
/// cutting after a sentence where possible, else at white space, else between characters.
pub fn split_marked(m: &Marked, budget: usize) -> Vec<Range<usize>> {
    const TAGS: usize = "<b></b>".len();
    let budget = budget.max(TAGS + 8);
    let text = &m.text;
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut cost = 0;
        let mut end = text.len();
        let (mut sentence_break, mut space_break) = (None, None);
        let mut prev = ' ';
        for (i, c) in text[start..].char_indices() {
            let at = start + i;
            let opens_mark = m
                .marks
                .iter()
                .any(|r| r.start == at || (at == start && r.start < at && r.end > at));
            cost += match c {
                '&' => 5,
                '<' | '>' => 4,
                '"' => 6,
                c => c.len_utf16(),
            } + if opens_mark { TAGS } else { 0 };
            if cost > budget {
                end = sentence_break
                    .or(space_break)
                    .unwrap_or(at.max(start + first_char_len(text, start)));
                break;
            }
            if c.is_whitespace() && at > start {
                space_break = Some(at);
                if matches!(prev, '.' | '!' | '?' | '…' | '\n') {
                    sentence_break = Some(at);
                }
            }
            prev = c;
        }
        pieces.push(start..end);
        // Skip the white space the cut was made at.
        start = end + text[end..].len() - text[end..].trim_start().len();
    }
    pieces
}

fn first_char_len(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(1, char::len_utf8)
}

/// A marked text in a blockquote, followed by `footer`, as one or more Telegram messages:
/// each within the limit, each with its tags balanced, the footer on the last.
pub fn quote_messages(m: &Marked, footer: &str) -> Vec<String> {
    const QUOTE: usize = "<blockquote></blockquote>\n".len();
    let footer_len = utf16_len(footer);
    let budget = MAX_MESSAGE_UTF16.saturating_sub(QUOTE + footer_len + 1);
    let pieces = split_marked(m, budget);
    let last = pieces.len().saturating_sub(1);
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let mut msg = format!("<blockquote>{}</blockquote>", marked_html(m, r));
            if i == last && !footer.is_empty() {
                msg.push('\n');
                msg.push_str(footer);
            }
            msg
        })
        .collect()
}

/// Puts `head` (lines of HTML: how a question was understood, which match this is) above
/// the first message, or, when both would not fit in one message, in a message of its own.
pub fn prepend(messages: &mut Vec<String>, head: &str) {
    if head.is_empty() {
        return;
    }
    match messages.first_mut() {
        Some(first) if utf16_len(head) + 1 + utf16_len(first) <= MAX_MESSAGE_UTF16 => {
            first.insert_str(0, &format!("{head}\n"));
        }
        _ => messages.insert(0, head.to_string()),
    }
}

/// What the bot sends for the answer at `rank` of `reply` (the terminal chat shows the same):
/// the quote, or the whole paragraph for "tell me more", or why there is none; above it
/// how a follow-up was understood (first: the buttons and replies read it back there), the
/// example question asked, the length a cut question was cut to, and which match this is;
/// below the best answer, the other documents that may answer, offered as `offer` says.
/// Its own texts are in `lang`; the quote is in its document's language.
pub fn reply_html(
    reply: &Reply,
    rank: usize,
    engine: &Engine,
    example: Option<&str>,
    cut_at: Option<usize>,
    offer: texts::Offer,
    lang: Lang,
) -> Vec<String> {
    let answer = reply.answers.get(rank - 1);
    let asked = asked_in(reply);
    let mut messages = match answer {
        _ if reply.kind == Kind::Summary && rank == 1 => {
            quote_lines(&summary_html(reply, engine, true, lang))
        }
        _ if reply.kind == Kind::Summary => vec![texts::NO_MORE_MATCHES.get(lang).to_string()],
        Some(a) if reply.more && rank == 1 => full_html(a, asked),
        Some(a) => answer_html(a, asked),
        None if rank == 1 => vec![texts::no_answer(reply, engine, true, lang)],
        None => vec![texts::NO_MORE_MATCHES.get(lang).to_string()],
    };
    let mut above: Vec<String> = Vec::new();
    if let Some(question) = &reply.understood_as {
        above.push(texts::understood(question));
    }
    if let (Some(question), 1) = (example, rank) {
        above.push(texts::example_question(question));
    }
    if let Some(max_chars) = cut_at {
        above.push(texts::truncated(max_chars, lang));
    }
    if rank == 1 && answer.is_some() && reply.verdict == Verdict::Closest && !reply.more {
        above.push(texts::closest(reply, engine, lang));
    }
    if rank > 1 && answer.is_some() {
        above.push(texts::match_number(rank, lang));
    }
    prepend(&mut messages, &above.join("\n"));
    if rank == 1 {
        if let Some(line) = others_line(reply, engine, offer, lang) {
            append(&mut messages, &line);
        }
    }
    messages
}

/// A document's summary as Telegram HTML: its title and subtitle, its key sentences in
/// reading order, each with its ¶ (`links`: linked to the source), then the citation; or,
/// when the question did not say which document, the question which.
pub fn summary_html(reply: &Reply, engine: &Engine, links: bool, lang: Lang) -> String {
    let Some(first) = reply.answers.first() else {
        return texts::which_document(engine, &reply.others, lang);
    };
    let passage = &engine.knowledge.passages[first.passage];
    let doc = engine.knowledge.document(passage);
    let mut lines = vec![texts::summary_head(doc, lang)];
    for a in &reply.answers {
        let (sentence, label) = (escape(&a.excerpt.text), escape(&a.citation.label));
        lines.push(if links {
            let label = crate::html::link(a.citation.url.as_deref(), &label);
            format!("• {sentence} {label}")
        } else {
            format!("• {sentence} ({label})")
        });
    }
    let c = &first.citation;
    let byline = c.byline();
    let mut citation = format!(
        "— {}",
        crate::html::link(c.url.as_deref(), &escape(&c.title))
    );
    for part in byline {
        citation.push_str(&format!(", {}", escape(part)));
    }
    lines.push(citation);
    lines.join("\n")
}

/// Lines of HTML (each with its tags balanced) as messages within Telegram's limit.
fn quote_lines(html: &str) -> Vec<String> {
    let mut messages = Vec::new();
    for line in html.lines() {
        append(&mut messages, line);
    }
    messages
}

/// Puts `tail` below the last message, or in a message of its own when it does not fit.
fn append(messages: &mut Vec<String>, tail: &str) {
    match messages.last_mut() {
        Some(last) if utf16_len(last) + 1 + utf16_len(tail) <= MAX_MESSAGE_UTF16 => {
            last.push('\n');
            last.push_str(tail);
        }
        _ => messages.push(tail.to_string()),
    }
}

/// The answer's excerpt with its citation, as Telegram HTML messages (one, unless the
/// document's metadata is absurdly long), marked for a question asked in `asked`.
pub fn answer_html(a: &Answer, asked: Option<Lang>) -> Vec<String> {
    quote_messages(&shown_excerpt(a, asked), &citation_html(&a.citation))
}

/// The whole passage of an answer, with its citation, marked for a question asked in
/// `asked`.
pub fn full_html(a: &Answer, asked: Option<Lang>) -> Vec<String> {
    quote_messages(&shown_full(a, asked), &citation_html(&a.citation))
}

/// The context of an answer the bot sent, read back for a message that replies to it: from
/// its text as the reader's client has it (the HTML of [`reply_html`] without its tags) and
/// the words it marks in bold. Read here, beside the rendering that writes what it reads:
/// the line [`texts::understood`] puts first, the quoted excerpt, the citation line.
pub fn context_of_answer(text: &str, marked: &[String], knowledge: &Knowledge) -> Option<Context> {
    Context::of_answer(ShownAnswer {
        understood: understood_line(text),
        marked,
        excerpt: excerpt(text),
        passage: passage_quoted(text, knowledge),
    })
}

/// The excerpt an answer's text quotes: the line before its citation line ("— Title, …").
/// An excerpt is one line (a passage is one paragraph); the lines above it are the bot's
/// own (how a follow-up was understood, "I'm not sure … The closest passage:"), whose words
/// are no part of what was answered.
fn excerpt(text: &str) -> &str {
    let end = text
        .match_indices('\n')
        .find(|&(i, _)| text[i + 1..].starts_with('—'))
        .map_or(text.len(), |(i, _)| i);
    let before = text[..end].trim_end();
    before
        .rfind('\n')
        .map_or(before, |start| &before[start + 1..])
}

/// The question a follow-up's answer says it answered: its first line after
/// [`texts::UNDERSTOOD_MARK`].
pub fn understood_line(text: &str) -> Option<&str> {
    let first = text.lines().next()?;
    let question = first
        .trim()
        .strip_prefix(texts::UNDERSTOOD_MARK.trim_end())?
        .trim();
    (!question.is_empty()).then_some(question)
}

/// The passage an answer's text quotes: the first passage holding one of its pieces (an
/// excerpt is cut with `…`) of at least 20 characters.
pub fn passage_quoted(text: &str, knowledge: &Knowledge) -> Option<usize> {
    let mut pieces: Vec<&str> = text
        .lines()
        .flat_map(|l| l.split('…'))
        .map(str::trim)
        .filter(|p| p.chars().count() >= 20)
        .collect();
    pieces.sort_by_key(|p| std::cmp::Reverse(p.len()));
    pieces.iter().find_map(|piece| {
        knowledge
            .passages
            .iter()
            .position(|p| p.text.contains(piece))
    })
}

/// A reply as the JSON object `ask --json` prints: `verdict` is `answer` (sure), `closest`
/// (the best passage, shown as not sure) or `none` (then `answers` is empty), `confidence`
/// how sure (0 to 1); `others` are the ids of the documents
/// that may answer too, when the question did not say which document it is about;
/// `question_language` is the question's (`null`: it has no letters), `passage_language`
/// the best answer's (`null`: no answer), and each answer has its own `language`.
pub fn reply_json(reply: &Reply, engine: &Engine) -> serde_json::Value {
    let answers: Vec<_> = reply
        .answers
        .iter()
        .map(|a| {
            serde_json::json!({
                "rank": a.rank,
                "doc": a.doc,
                "language": a.language.code(),
                "title": a.citation.title,
                "passage": a.citation.label,
                "kind": a.kind.as_str(),
                "score": round4(a.score),
                "signals": {
                    "lexical": round4(a.signals.lexical),
                    "semantic": a.signals.semantic.map(round4),
                },
                "text": a.full.text,
                "excerpt": a.excerpt.text,
                "highlights": a.excerpt.marked_words(),
                "citation": format!("{}, {}", a.citation.title, a.citation.details()),
                "url": a.citation.url,
            })
        })
        .collect();
    let others: Vec<&str> = reply
        .others
        .iter()
        .filter_map(|&d| engine.knowledge.documents.get(d))
        .map(|d| d.id.as_str())
        .collect();
    serde_json::json!({
        "question": reply.question,
        "question_language": asked_in(reply).map(Lang::code),
        "passage_language": reply.answers.first().map(|a| a.language.code()),
        "truncated": reply.truncated,
        "kind": reply.kind.as_str(),
        "verdict": reply.verdict.as_str(),
        "confidence": round4(reply.confidence),
        "answers": answers,
        "others": others,
    })
}

/// Scores to 4 digits: enough to compare, no float noise.
fn round4(x: f32) -> f64 {
    (f64::from(x) * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str, words: &[&str]) -> Marked {
        let marks = words
            .iter()
            .map(|w| {
                let i = text.find(w).unwrap();
                i..i + w.len()
            })
            .collect();
        Marked {
            text: text.to_string(),
            marks,
        }
    }

    #[test]
    fn html_escapes_text_and_marks() {
        let cases = [
            (m("a < b & c > d", &["b"]), "a &lt; <b>b</b> &amp; c &gt; d"),
            (m("<script>", &["script"]), "&lt;<b>script</b>&gt;"),
            (m("say \"hi\"", &[]), "say &quot;hi&quot;"),
            (m("Mi-17 😀", &["Mi-17"]), "<b>Mi-17</b> 😀"),
        ];
        for (marked, want) in cases {
            assert_eq!(marked_html(&marked, 0..marked.text.len()), want);
        }
    }

    #[test]
    fn a_head_goes_above_the_first_message_or_before_it_when_too_long() {
        let mut short = vec!["<blockquote>x</blockquote>".to_string()];
        prepend(&mut short, "<i>Match 2:</i>");
        assert_eq!(short, ["<i>Match 2:</i>\n<blockquote>x</blockquote>"]);
        let full = "a".repeat(MAX_MESSAGE_UTF16 - 100);
        let mut long = vec![full.clone()];
        prepend(&mut long, &"b".repeat(200));
        assert_eq!(long.len(), 2);
        assert_eq!(long[1], full);
        assert!(long.iter().all(|m| utf16_len(m) <= MAX_MESSAGE_UTF16));
    }

    #[test]
    fn quotes_inside_a_quote_are_single() {
        let html = "<blockquote>he said “it will <b>collapse</b>.”</blockquote>\n— <a href=\"https://x/\">T</a>";
        assert_eq!(
            html_to_terminal(html, Style::Stars),
            "“he said ‘it will *collapse*.’”\n— T <https://x/>"
        );
    }

    #[test]
    fn plain_marks() {
        let x = m("the Taliban leadership", &["Taliban"]);
        assert_eq!(marked_plain(&x, Style::Stars), "the *Taliban* leadership");
        assert_eq!(
            marked_plain(&x, Style::Ansi),
            "the \x1b[1mTaliban\x1b[0m leadership"
        );
    }

    #[test]
    fn long_texts_split_within_the_limit_with_balanced_tags() {
        let sentence = "Russia & the <Taliban> met again in Moscow 😀. ";
        let text = sentence.repeat(400);
        let marks: Vec<Range<usize>> = text
            .match_indices("Taliban")
            .map(|(i, w)| i..i + w.len())
            .collect();
        let marked = Marked {
            text: text.clone(),
            marks,
        };
        let footer = citation_html(&Citation {
            title: "T".into(),
            author: None,
            publication: None,
            date: None,
            label: "¶1".into(),
            url: Some("https://x/?a=1&b=2".into()),
        });
        let msgs = quote_messages(&marked, &footer);
        assert!(msgs.len() > 1);
        for msg in &msgs {
            assert!(utf16_len(msg) <= MAX_MESSAGE_UTF16, "{}", utf16_len(msg));
            assert_eq!(msg.matches("<b>").count(), msg.matches("</b>").count());
            assert_eq!(msg.matches("<blockquote>").count(), 1);
            assert!(!msg.contains("<Taliban>"));
        }
        assert!(msgs.last().unwrap().ends_with("¶1"));
        assert!(msgs[0].contains("&amp;b=2") == (msgs.len() == 1));
        // Cut after sentences: every message but the last ends a sentence.
        for msg in &msgs[..msgs.len() - 1] {
            assert!(
                msg.ends_with("😀.</blockquote>"),
                "{}",
                &msg[msg.len() - 40..]
            );
        }
    }

    #[test]
    fn text_without_spaces_splits_between_chars() {
        let text = "中".repeat(10_000);
        let marked = Marked {
            text: text.clone(),
            marks: vec![],
        };
        let pieces = split_marked(&marked, 4000);
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces.iter().map(|r| r.len()).sum::<usize>(), text.len());
    }

    #[test]
    fn a_mark_cut_by_a_split_is_closed_and_reopened() {
        let text = "aaaa bbbb cccc dddd";
        let marked = Marked {
            text: text.to_string(),
            marks: std::iter::once(0..text.len()).collect(),
        };
        let pieces = split_marked(&marked, 18);
        assert!(pieces.len() > 1);
        for r in pieces {
            let html = marked_html(&marked, r);
            assert!(html.starts_with("<b>") && html.ends_with("</b>"), "{html}");
        }
    }

    #[test]
    fn an_answer_names_its_question_and_passage() {
        let knowledge =
            Knowledge::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"))
                .unwrap();
        let (id, passage) = knowledge
            .passages
            .iter()
            .enumerate()
            .find(|(_, p)| p.text.contains("Lavrov"))
            .unwrap();
        let sentence = &passage.text[passage.sentences[0].clone()];
        let text = format!("↪ Who is he? (about Sergey Lavrov)\n…{sentence}…\n— citation");
        let c = context_of_answer(&text, &[], &knowledge).unwrap();
        assert_eq!(c.question, "Who is he? (about Sergey Lavrov)");
        assert_eq!(c.passage, Some(id));
        let c = context_of_answer(sentence, &["Lavrov".into()], &knowledge).unwrap();
        assert_eq!(c.question, "Lavrov");
        assert_eq!(c.passage, Some(id));
        assert_eq!(context_of_answer("hi", &[], &knowledge), None);
    }

    #[test]
    fn a_reply_to_an_answer_that_names_someone_the_question_did_not_is_about_that_person() {
        let knowledge = Knowledge::default();
        let answer = "“In January 2017, Zamir Kabulov, the Special Representative to the Russian \
                      President for Afghanistan, said that…”\n\
                      — Russia's Afghanistan Strategy, Julia Gurganus, Foreign Affairs, ¶4";
        // What the bot marks in its answer to "Who is Russia's special envoy for Afghanistan?".
        let marked = ["Special".into(), "Russian".into(), "Afghanistan".into()];
        let c = context_of_answer(answer, &marked, &knowledge).unwrap();
        assert_eq!(c.topic[0], "Zamir Kabulov");
        // The question named him: nothing changes.
        let c = context_of_answer(answer, &["Kabulov".into()], &knowledge).unwrap();
        assert_eq!(c.topic, ["Kabulov"]);
        // The author in the citation answers nothing.
        let answer = "“Moscow was underwhelmed by the new U.S. strategy.”\n\
                      — Russia's Afghanistan Strategy, Julia Gurganus, Foreign Affairs, ¶5";
        let c = context_of_answer(answer, &["strategy".into()], &knowledge).unwrap();
        assert_eq!(c.topic, ["strategy"]);
    }

    #[test]
    fn across_languages_the_sentences_that_answer_are_marked_instead_of_words() {
        let engine = Engine::load(&crate::Options::new(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"),
        ))
        .unwrap();
        let reply = crate::answer::ask(&engine, "Who is Zamir Kabulov?", 1).unwrap();
        let a = &reply.answers[0];
        assert_eq!(a.language, Lang::En);
        assert_eq!(asked_in(&reply), Some(Lang::En));
        // In the passage's language, or without letters: the question's words.
        let words = answer_html(a, Some(Lang::En));
        assert!(words[0].contains("<b>Kabulov</b>"), "{}", words[0]);
        assert_eq!(answer_html(a, None), words);
        // Asked in Russian: the excerpt is the sentences that answer, marked whole.
        let html = answer_html(a, Some(Lang::Ru)).join("\n");
        let bold = bold_words(&html);
        assert_eq!(bold.len(), 1, "{html}");
        assert_eq!(bold[0], a.excerpt.text.trim_matches('…'), "{html}");
        // The full paragraph: those sentences in bold, among the others.
        let full = full_html(a, Some(Lang::Ru)).join("\n");
        let bold = bold_words(&full);
        assert_eq!(bold, [a.full.text[a.answering.clone()].trim()], "{full}");
        assert!(
            html_to_plain(&full).contains(&a.full.text),
            "the whole paragraph"
        );
        let plain = marked_plain(&shown_full(a, Some(Lang::Ru)), Style::Stars);
        assert!(plain.contains(&format!("*{}*", bold[0])), "{plain}");
        // A range that is no slice of the text marks nothing, and never panics.
        let odd = Answer {
            answering: 3..10_000,
            ..a.clone()
        };
        assert!(shown_full(&odd, Some(Lang::Ru)).marks.is_empty());
    }

    /// The words an answer's HTML marks in bold, as a Telegram client hands them over.
    fn bold_words(html: &str) -> Vec<String> {
        html.split("<b>")
            .skip(1)
            .filter_map(|s| s.split_once("</b>"))
            .map(|(bold, _)| html_to_plain(bold))
            .collect()
    }

    #[test]
    fn an_answer_rendered_reads_back_as_the_context_it_leaves() {
        use crate::conversation::{turn, Limits};
        let engine = Engine::load(&crate::Options::new(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"),
        ))
        .unwrap();
        let limits = Limits {
            question_chars: crate::analysis::MAX_QUESTION_CHARS,
            answers: 1,
        };
        let first = turn(&engine, "Who is Zamir Kabulov?", None, limits).unwrap();
        let second = turn(
            &engine,
            "What did he warn about?",
            first.context.as_ref(),
            limits,
        )
        .unwrap();
        for (turn, follow_up) in [(&first, false), (&second, true)] {
            let html = reply_html(
                &turn.reply,
                1,
                &engine,
                None,
                None,
                texts::Offer::Buttons,
                Lang::En,
            );
            let html = html.join("\n");
            let text = html_to_plain(&html);
            let back = context_of_answer(&text, &bold_words(&html), &engine.knowledge).unwrap();
            let remembered = turn.context.clone().unwrap();
            assert_eq!(back.passage, remembered.passage, "{text}");
            assert!(back.passage.is_some());
            for word in &remembered.topic {
                assert!(back.topic.contains(word), "{word}: {:?}", back.topic);
            }
            if follow_up {
                // A follow-up's answer shows the question as understood: it reads back whole.
                assert_eq!(back.question, remembered.question);
                assert_eq!(back.asks_for, remembered.asks_for);
            }
        }
    }
}
