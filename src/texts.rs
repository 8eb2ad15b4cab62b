//! Everything citebot says to a person, in one place: the bot's messages and button toasts,
//! and the terminal chat's, which are the same texts without tags.
//!
//! Texts are Telegram HTML (`&`, `<`, `>` escaped; `<b>`, `<i>`, `<code>`, `<a>`); the
//! terminal shows them through [`crate::html::html_to_plain`]. A second language would be a
//! second set of these functions, chosen by the user's `language_code`.

use crate::answer::Reply;
use crate::conversation::SmallTalk;
use crate::engine::Engine;
use crate::html::escape;

/// How to use the commands, for /help and the terminal chat's `/help`: the list comes from
/// the command enum, so it never disagrees with the menu Telegram shows.
pub fn help(commands: &[(String, String)]) -> String {
    let mut list = String::new();
    for (name, description) in commands {
        list.push_str(&format!("/{name} — {}\n", escape(description)));
    }
    format!(
        "<b>How to ask</b>\n\
         Send a question in plain words, e.g. <i>What did Sergey Lavrov say about the US strategy?</i> \
         Then ask on: <i>Why?</i>, <i>And China?</i>, <i>What did he call a dead end?</i> are read \
         as follow-ups of the last question, for {minutes} minutes. Reply to one of my answers to \
         ask about that answer. In a group, use /ask, mention me, or reply to one of my messages.\n\n\
         <b>Commands</b>\n{list}\n\
         <b>Buttons under an answer</b>\n\
         Full paragraph — the whole paragraph the quote comes from\n\
         Next match — the next best passage\n\
         👍 / 👎 — tell us whether the answer helped (press the other to change your vote)\n\
         📄 <i>a title</i> — with several documents, the same question asked of that one\n\n\
         <b>Tips</b>\n\
         Use names and key words from the subject (people, places, events). \
         If nothing in the article answers, I say so rather than guess. \
         You can also type @ and my name in any chat to quote the article there.",
        minutes = crate::config::DEFAULT_CONTEXT_TTL.as_secs() / 60,
    )
}

/// What a command does, for the menu Telegram clients show and for /help (names as the
/// command enums spell them, without the slash).
pub fn command_description(name: &str) -> &'static str {
    match name {
        "ask" => "Ask a question about the article",
        "new" => "Start a new conversation: forget the last question",
        "help" => "How to ask, and what the buttons do",
        "about" => "The documents I answer from",
        "start" => "Start over",
        "stats" => "Admin: questions and answers of the last 7 days",
        "unanswered" => "Admin: the last 10 questions nothing answered",
        "reload" => "Admin: re-read knowledge/ and swap it in",
        _ => "",
    }
}

/// The first message, above the example questions.
pub fn greeting(engine: &Engine) -> String {
    let docs = &engine.knowledge.documents;
    let what = match docs.as_slice() {
        [d] => {
            let by = d
                .meta
                .author
                .as_deref()
                .map(|a| format!(" by {}", escape(a)))
                .unwrap_or_default();
            format!("<b>{}</b>{by}", escape(&d.meta.full_title()))
        }
        _ => format!("{} documents (see /about)", docs.len()),
    };
    format!(
        "Hello! I answer questions about {what}.\n\n\
         Send me a question in plain words and I'll reply with the sentences that answer it, \
         the matching words in bold, and a link to the paragraph they come from. \
         Try one of these:"
    )
}

/// How a reader can ask another document the same question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// A button per document under the answer (Telegram).
    Buttons,
    /// `citebot ask --doc ID` (the command line).
    DocFlag,
    /// Naming the document in the question (the terminal chat).
    Naming,
}

/// At most this many other documents are offered under an answer.
pub const MAX_OFFERED: usize = 5;

/// Below an answer from one of several documents, when the question did not say which:
/// which document answered, and how to ask the others.
pub fn other_documents(
    engine: &Engine,
    answered_from: usize,
    others: &[usize],
    offer: Offer,
) -> String {
    let docs = &engine.knowledge.documents;
    // Titles cut to 100 characters: five of them and the rest always fit in a message.
    let title = |d: usize| {
        docs.get(d)
            .map(|d| {
                let (title, cut) = crate::analysis::truncate_chars(&d.meta.title, 100);
                format!("“{}{}”", escape(title), if cut { "…" } else { "" })
            })
            .unwrap_or_default()
    };
    let shown = &others[..others.len().min(MAX_OFFERED)];
    let list: Vec<String> = shown
        .iter()
        .map(|&d| match offer {
            Offer::DocFlag => format!(
                "{} (<code>--doc {}</code>)",
                title(d),
                escape(docs.get(d).map_or("", |d| d.id.as_str()))
            ),
            _ => title(d),
        })
        .collect();
    let how = match offer {
        Offer::Buttons => "press one below to ask it instead",
        Offer::DocFlag => "ask again with <code>--doc</code> to ask one of them",
        Offer::Naming => "name one in your question to ask it instead",
    };
    format!(
        "<i>From {}. Also in my documents: {}; {how}.</i>",
        title(answered_from),
        list.join(", ")
    )
}

/// The label of the button that asks the same question of document `doc`.
pub fn ask_in_button(engine: &Engine, doc: usize) -> String {
    let title = engine
        .knowledge
        .documents
        .get(doc)
        .map_or("", |d| d.meta.title.as_str());
    let (short, cut) = crate::analysis::truncate_chars(title, 40);
    format!("📄 {short}{}", if cut { "…" } else { "" })
}

/// /about: each document, with its details, how many passages it has, and the questions
/// its metadata suggests.
pub fn about(engine: &Engine) -> String {
    let mut s = String::from("<b>What I answer from</b>\n");
    for (i, d) in engine.knowledge.documents.iter().enumerate() {
        let m = &d.meta;
        let passages = engine
            .knowledge
            .passages
            .iter()
            .filter(|p| p.doc == i)
            .count();
        let details: Vec<String> = [&m.author, &m.publication, &m.human_date()]
            .into_iter()
            .flatten()
            .map(|s| escape(s))
            .collect();
        s.push_str(&format!(
            "\n• <a href=\"{}\">{}</a>\n  {} ({passages} passages)",
            escape(&m.url),
            escape(&m.full_title()),
            details.join(", "),
        ));
        if !m.examples.is_empty() {
            s.push_str("\n  Try: ");
            let examples: Vec<String> = m
                .examples
                .iter()
                .map(|q| format!("<i>{}</i>", escape(q)))
                .collect();
            s.push_str(&examples.join(" · "));
        }
        s.push('\n');
    }
    s.trim_end().to_string()
}

/// When nothing answers: say so, and never guess. `chat`: in the bot or the terminal chat,
/// where /help exists.
pub fn no_answer(reply: &Reply, engine: &Engine, chat: bool) -> String {
    if reply.empty_question {
        // "thanks", "hi", "ok": a word back, not a failed search.
        let example = engine
            .knowledge
            .documents
            .iter()
            .find_map(|d| d.meta.examples.first())
            .map_or("Who is Khalifa Haftar?", String::as_str);
        return match reply.small_talk {
            Some(SmallTalk::Thanks) => "You're welcome. Ask on whenever you like.".to_string(),
            Some(SmallTalk::Greeting) => format!(
                "Hello! Ask me a question about the article, e.g. <i>{}</i>",
                escape(example)
            ),
            Some(SmallTalk::Acknowledgement) => {
                "Ask on whenever you like: a follow-up, or a new question.".to_string()
            }
            None => format!(
                "That has no words I can search for. Ask about something in the article, e.g. \
                 <i>{}</i>",
                escape(example)
            ),
        };
    }
    let docs = &engine.knowledge.documents;
    let titles = match (docs.as_slice(), reply.document.and_then(|d| docs.get(d))) {
        ([d], _) | (_, Some(d)) => format!("“{}”", escape(&d.meta.title)),
        (docs, None) => format!("the {} documents I know", docs.len()),
    };
    let help = if chat { " /help has tips." } else { "" };
    format!(
        "I couldn't find an answer to that in {titles}, so I won't guess.\n\
         Try other words, or a question about what the article discusses.{help}"
    )
}

/// The mark that starts the line of an answer saying how a follow-up was understood.
pub const UNDERSTOOD_MARK: &str = "↪ ";

/// Above an answer to a follow-up: the question as citebot understood it. Its first line is
/// read back (by the rendering, which writes it) when a button under the answer is pressed
/// or the answer is replied to.
pub fn understood(question: &str) -> String {
    // At most 600 characters shown (MAX_QUESTION_CHARS is 1,000, and escaping may make each
    // one 6): the line then always fits in a message.
    let (shown, cut) = crate::analysis::truncate_chars(question, 600);
    let more = if cut { "…" } else { "" };
    format!("{UNDERSTOOD_MARK}<i>{}{more}</i>", escape(shown))
}

/// Above the second and later matches.
pub fn match_number(rank: usize) -> String {
    format!("<i>Match {rank}:</i>")
}

/// Above an answer to an example question pressed under the greeting.
pub fn example_question(question: &str) -> String {
    format!("❓ <b>{}</b>", escape(question))
}

/// Above an answer to a question cut for length.
pub fn truncated(max_chars: usize) -> String {
    format!(
        "<i>Your question was long, so only its first {max_chars} characters were searched.</i>"
    )
}

/// /stats: the last days in one message.
pub fn stats(report: &crate::record::Report) -> String {
    let mut s = format!(
        "<b>The last {} days</b>\n{} questions, {} answered ({:.0}% not)\n<code>{}</code> per day\n",
        report.days_covered,
        report.questions,
        report.answered,
        report.unanswered_share * 100.0,
        escape(&report.sparkline()),
    );
    if !report.unanswered.is_empty() {
        s.push_str("\n<b>Asked most, not answered</b>\n");
        for u in report.unanswered.iter().take(5) {
            s.push_str(&format!(
                "{}× <i>{}</i>\n",
                u.count,
                escape(&short(&u.question))
            ));
        }
    }
    if !report.voted_down.is_empty() {
        s.push_str("\n<b>Voted down most</b>\n");
        for v in report.voted_down.iter().take(5) {
            s.push_str(&format!(
                "{}× {} {}: <i>{}</i>\n",
                v.down,
                escape(v.document.as_deref().unwrap_or("?")),
                escape(v.passage.as_deref().unwrap_or("?")),
                escape(&short(&v.question))
            ));
        }
    }
    s.push_str("\n<code>citebot report</code> has the rest.");
    s
}

/// A question cut to a line, for lists that must fit one message.
fn short(question: &str) -> String {
    let (cut, more) = crate::analysis::truncate_chars(question, 120);
    format!("{cut}{}", if more { "…" } else { "" })
}

/// /unanswered: the last questions nothing answered, newest first.
pub fn unanswered(recent: &[crate::record::Recent]) -> String {
    if recent.is_empty() {
        return "No unanswered questions recorded.".to_string();
    }
    let mut s = String::from("<b>The last questions nothing answered</b>\n");
    for r in recent {
        s.push_str(&format!(
            "{} <i>{}</i>\n",
            escape(&r.asked),
            escape(&short(&r.question))
        ));
    }
    s.trim_end().to_string()
}

/// After /reload (or SIGHUP) swapped the new knowledge in.
pub fn reloaded(c: &crate::knowledge::Changes) -> String {
    let mut s = format!(
        "Reloaded: {} documents, {} passages.",
        c.documents, c.passages
    );
    if c.added.is_empty() && c.removed.is_empty() && c.passages_added + c.passages_removed == 0 {
        s.push_str(" Nothing changed.");
        return s;
    }
    let titles = |t: &[String]| {
        t.iter()
            .map(|t| format!("“{}”", escape(t)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !c.added.is_empty() {
        s.push_str(&format!("\nAdded: {}", titles(&c.added)));
    }
    if !c.removed.is_empty() {
        s.push_str(&format!("\nRemoved: {}", titles(&c.removed)));
    }
    s.push_str(&format!(
        "\nPassages: +{} −{}",
        c.passages_added, c.passages_removed
    ));
    s
}

/// When the new knowledge could not be loaded.
pub fn reload_failed(error: &str) -> String {
    format!(
        "Reload failed; still answering from the knowledge as it was.\n<code>{}</code>",
        escape(error)
    )
}

pub const RELOAD_BUSY: &str = "A reload is already running; its result comes in a moment.";
pub const RELOAD_UNAVAILABLE: &str =
    "This bot was not started from a knowledge folder it can re-read.";
pub const RECORD_OFF: &str = "Nothing is recorded (RECORD=off), so there is nothing to show.";
pub const RECORD_EMPTY: &str = "Nothing is recorded yet: ask me a question first.";

pub const NO_MORE_MATCHES: &str = "No more matches for this question.";
pub const NEW_CONVERSATION: &str =
    "Starting afresh: your next question is read on its own, not as a follow-up.";
pub const ONLY_TEXT: &str =
    "I can only read text. Send me a question in words, e.g. <i>Why does Russia work with the Taliban?</i>";
pub const NOT_THIS_CHAT: &str =
    "Sorry, this is a private citebot: it only answers in the chats it was set up for.";
pub const ASK_NEEDS_A_QUESTION: &str =
    "Ask me something after the command, e.g. <code>/ask Who is Mohammad Atmar?</code>";
pub const YES: &str = "Yes? Ask me a question about the article.";
pub const TOO_FAST: &str =
    "You are asking faster than I can read. Please wait a minute before the next question.";
pub const UNKNOWN_COMMAND: &str = "I don't know that command. Send /help to see what I can do.";
pub const SORRY: &str = "Sorry, something went wrong while searching. Please try again.";

/// Button toasts (plain text, at most 200 characters).
pub mod toast {
    pub const BUTTON_TOO_OLD: &str = "This button is too old. Please ask again.";
    pub const NOT_THIS_CHAT: &str = "This bot does not answer in this chat.";
    pub const QUESTION_GONE: &str =
        "I can't find the question any more (was it deleted?). Please ask again.";
    pub const LOOKING: &str = "Looking it up…";
    pub const NEXT: &str = "Next match";
    pub const FULL: &str = "Full paragraph";
    pub const ANSWER_GONE: &str = "That answer is no longer available. Please ask again.";
    pub const THANKS_UP: &str = "Thanks! Glad it helped.";
    pub const THANKS_DOWN: &str = "Thanks — noted. Try rephrasing, or Next match.";
}

/// The labels of the buttons under an answer.
pub mod button {
    pub const FULL: &str = "Full paragraph";
    pub const NEXT: &str = "Next match";

    /// A vote button, up or down, ticked when it is the vote cast.
    pub fn vote(up: bool, ticked: bool) -> String {
        format!(
            "{}{}",
            if up { "👍" } else { "👎" },
            if ticked { " ✓" } else { "" }
        )
    }
}

/// The terminal chat's own lines.
pub mod terminal {
    /// The chat's commands and what they do, for its `/help`.
    pub const COMMANDS: &[(&str, &str)] = &[
        ("more", "the next match"),
        ("full", "the full paragraph of the last answer"),
        ("new", "start a new conversation: forget the last question"),
        ("about", "the documents I answer from"),
        ("help", "this message"),
        ("quit", "leave (Ctrl-D too)"),
    ];

    pub const WELCOME: &str = "Ask a question about the article; follow-ups are read in context. /help lists the commands, /quit (or Ctrl-D) leaves.";
    pub const CHOICES: &str = "[/more: next match · /full: full paragraph · /new: new topic]";
    pub const NOTHING_SHOWN: &str = "Ask a question first: there is no answer to act on yet.";
}
