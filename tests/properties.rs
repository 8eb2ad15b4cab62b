//! Property tests: whatever a user types, analysis, search, excerpting and rendering never
//! panic, the HTML is always valid under Telegram's rules, every message fits in 4096 UTF-16
//! units, and user text never reaches the output unescaped.

use std::path::Path;
use std::sync::OnceLock;

use citebot::answer::{excerpt, Marked};
use citebot::lang::Lang;
use citebot::render::{self, utf16_len, MAX_MESSAGE_UTF16};
use citebot::Engine;
use proptest::prelude::*;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::load(&citebot::Options::new(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"),
        ))
        .unwrap()
    })
}

/// Telegram's HTML rules, as far as citebot uses them: only `b`, `i`, `code`, `blockquote`
/// and `a href="..."` tags, each closed in order, and `&` only in the four entities.
fn check_telegram_html(html: &str) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&', '>']) {
        let at = &rest[i..];
        if at.starts_with('>') {
            return Err(format!("bare > at {:?}", &at[..at.len().min(20)]));
        }
        if let Some(after) = at.strip_prefix('&') {
            let ok = ["amp;", "lt;", "gt;", "quot;"]
                .iter()
                .any(|e| after.starts_with(e));
            if !ok {
                return Err(format!("bare & at {:?}", &at[..at.len().min(20)]));
            }
            rest = after;
            continue;
        }
        let end = at.find('>').ok_or("unclosed tag")?;
        let tag = &at[1..end];
        if let Some(name) = tag.strip_prefix('/') {
            if open.pop() != Some(name) {
                return Err(format!("</{name}> closes nothing open"));
            }
        } else {
            let name = tag.split(' ').next().unwrap();
            match name {
                "b" | "i" | "code" | "blockquote" if tag == name => {}
                "a" if tag.starts_with("a href=\"")
                    && tag.ends_with('"')
                    && !tag[8..tag.len() - 1].contains(['"', '<']) => {}
                _ => return Err(format!("tag <{tag}> is not one Telegram accepts")),
            }
            open.push(name);
        }
        rest = &at[end + 1..];
    }
    if open.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed {open:?}"))
    }
}

/// Text with the characters that break naive code: RTL scripts, combining marks, zero-width
/// characters, 4-byte emoji, NUL and control characters, markup, query syntax.
fn nasty_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("Taliban".to_string()),
        Just("Kabulov's".to_string()),
        Just("U.S.".to_string()),
        Just("Mi-17".to_string()),
        Just("Mi-17s,".to_string()),
        Just("And".to_string()),
        Just("he".to_string()),
        Just("(about".to_string()),
        Just("tell me more".to_string()),
        Just("مرحبا".to_string()),
        Just("שלום".to_string()),
        Just("e\u{301}\u{302}".to_string()),
        Just("\u{200b}\u{200d}\u{feff}".to_string()),
        Just("👩‍👩‍👧‍👦😀".to_string()),
        Just("\0\x07\x1b[1m".to_string()),
        Just("<b>&amp;</a>\"'".to_string()),
        Just("title:x -a NOT \"unbalanced ( * \\ a^2".to_string()),
        Just("https://example.org/?a=1&b=<2>".to_string()),
        Just(" \n\t ".to_string()),
        "\\PC{0,12}",
        any::<String>(),
    ];
    prop::collection::vec(pieces, 0..30).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_question_gets_a_valid_reply(q in nasty_text()) {
        let reply = citebot::ask(engine(), &q, 3).unwrap();
        for a in &reply.answers {
            // Asked in the passage's language (words marked), in another (sentences), or
            // in none.
            for asked in [None, Some(Lang::En), Some(Lang::Ru)] {
                for msgs in [render::answer_html(a, asked), render::full_html(a, asked)] {
                    for m in &msgs {
                        prop_assert!(utf16_len(m) <= MAX_MESSAGE_UTF16);
                        if let Err(e) = check_telegram_html(m) {
                            prop_assert!(false, "{}: {}", e, m);
                        }
                    }
                }
            }
            for lang in Lang::ALL {
                let plain = render::reply_plain(&reply, engine(), render::Style::Stars, lang);
                prop_assert!(!plain.is_empty());
            }
        }
    }

    #[test]
    fn excerpts_of_any_text_cut_at_char_boundaries(text in nasty_text(), max in 1usize..500, a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        // Marks at arbitrary char boundaries, possibly overlapping or reversed.
        let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        let (x, y) = (bounds[a.index(bounds.len())], bounds[b.index(bounds.len())]);
        let marks = vec![x.min(y)..x.max(y), 0..bounds[bounds.len() / 2]];
        let e = excerpt(&text, 0..text.len(), &marks, max);
        // Valid ranges on char boundaries: slicing would panic otherwise.
        for m in &e.marks {
            prop_assert!(m.start <= m.end && m.end <= e.text.len());
            let _ = &e.text[m.clone()];
        }
        prop_assert!(e.text.chars().count() <= max.max(text.chars().count().min(max)) + 2 + longest_word(&text));
    }

    #[test]
    fn rendered_user_text_is_always_escaped(text in nasty_text()) {
        let marked = Marked { text: text.clone(), marks: vec![] };
        for m in render::quote_messages(&marked, "— footer") {
            prop_assert!(utf16_len(&m) <= MAX_MESSAGE_UTF16);
            if let Err(e) = check_telegram_html(&m) {
                prop_assert!(false, "{}: {}", e, m);
            }
        }
        prop_assert_eq!(citebot::html::html_to_plain(&citebot::html::escape(&text)), text);
    }

    /// Any message, in the context of any earlier one, is understood, answered and shown
    /// without a panic: the conversation slices strings by the words it finds.
    #[test]
    fn any_follow_up_in_any_context_gets_a_valid_reply(first in nasty_text(), then in nasty_text()) {
        use citebot::conversation::{understand, Answered, Understood};
        // Any first question, as if answered by any excerpt (a nasty one too).
        let answered = Answered { passage: 3, excerpt: &then };
        let context = Understood::standalone(&first).remember(None, Some(answered));
        let understood = understand(&then, context.as_ref());
        let reply = citebot::answer::reply(engine(), &understood, 1).unwrap();
        for a in &reply.answers {
            for m in render::answer_html(a, render::asked_in(&reply)) {
                prop_assert!(utf16_len(&m) <= MAX_MESSAGE_UTF16);
            }
        }
        let next = understood.remember(context.as_ref(), reply.answers.first().map(Into::into));
        let _ = understand(&first, next.as_ref());
        if let Some(line) = understood.understood_as() {
            let _ = Understood::resolved(line, None);
            let html = citebot::texts::understood(line);
            prop_assert!(check_telegram_html(&html).is_ok(), "{}", html);
        }
    }
}

/// Without white space to cut at, an excerpt may keep one whole word past the limit.
fn longest_word(text: &str) -> usize {
    text.split(char::is_whitespace)
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(0)
}

#[test]
fn long_inputs_are_fine() {
    let huge = "Taliban Kabulov 😀 ".repeat(7_000); // ~100 KB
    let reply = citebot::ask(engine(), &huge, 3).unwrap();
    assert!(reply.truncated);
    let marked = Marked {
        text: huge.clone(),
        marks: vec![],
    };
    let msgs = render::quote_messages(&marked, "— footer");
    assert!(msgs.len() > 10);
    for m in &msgs {
        assert!(utf16_len(m) <= MAX_MESSAGE_UTF16);
        check_telegram_html(m).unwrap();
    }
}

#[test]
fn the_checker_itself_rejects_bad_html() {
    for bad in [
        "<b>x",
        "</b>",
        "<script>",
        "a & b",
        "a > b",
        "<b><i></b></i>",
        "<a href=\"x\" onclick=\"y\">z</a>",
    ] {
        assert!(check_telegram_html(bad).is_err(), "{bad}");
    }
    check_telegram_html(
        "<blockquote>a &amp; <b>b</b></blockquote>\n— <a href=\"https://x/?a=1&amp;b\">T</a>",
    )
    .unwrap();
}
