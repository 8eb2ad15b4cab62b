//! `citebot chat`: the bot's conversation in a terminal, for trying citebot without a token
//! and for driving it from tests and scripts.
//!
//! A [`Session`] is one conversation: it reads each message with the same
//! [`crate::conversation`] code as the bot, answers with the same [`crate::answer`] code, and
//! shows what the bot would send ([`crate::render`]'s Telegram HTML, turned into terminal
//! text), with the buttons as commands: `/more` (next match), `/full` (full paragraph),
//! `/new`, `/help`, `/about`, `/quit`.
//!
//! On a terminal it is a prompt with line editing and history (rustyline). Off a terminal it
//! reads one message per line; an empty line starts a new conversation; `--json` prints one
//! JSON object per message, `ask --json`'s, plus `"understood_as"`.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context as _;

use crate::answer::{self, Reply};
use crate::conversation::{self, Context, Limits, Understood};
use crate::engine::Engine;
use crate::lang::Lang;
use crate::render::{self, Style};
use crate::texts;

/// What a message to the chat does.
#[derive(Debug, Clone)]
pub enum Said {
    /// An answer (or the lack of one) to a question, at a rank.
    Answer { reply: Reply, rank: usize },
    /// The full paragraph of the answer shown last.
    Full(Reply),
    /// Text to show (help, about, a notice), as Telegram HTML.
    Text(String),
    /// The user is leaving.
    Quit,
}

/// The answer shown last, which `/more` and `/full` act on.
struct Shown {
    understood: Understood,
    rank: usize,
    reply: Reply,
}

/// One conversation in the terminal.
pub struct Session<'a> {
    engine: &'a Engine,
    /// The longest question read whole (`MAX_QUESTION_CHARS`), and one answer at a time.
    limits: Limits,
    context: Option<Context>,
    shown: Option<Shown>,
    /// The user's language, as the terminal's locale says: the chat's `language_code`.
    user: Option<String>,
    /// The language the chat speaks: the last question's, else the user's, else English.
    lang: Lang,
}

impl<'a> Session<'a> {
    /// A new conversation, whose questions are cut to `max_question_chars` characters, with
    /// a user whose language the terminal's locale says.
    pub fn new(engine: &'a Engine, max_question_chars: usize) -> Session<'a> {
        Session::for_user(engine, max_question_chars, texts::terminal::locale())
    }

    /// A new conversation with a user whose language is `user` ("ru_RU.UTF-8", "en"; `None`:
    /// unknown).
    pub fn for_user(
        engine: &'a Engine,
        max_question_chars: usize,
        user: Option<String>,
    ) -> Session<'a> {
        Session {
            engine,
            limits: Limits {
                question_chars: max_question_chars,
                answers: 1,
            },
            context: None,
            shown: None,
            lang: texts::reply_language(None, user.as_deref()),
            user,
        }
    }

    /// The language the chat speaks now: the last question's, else the user's.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Forgets the conversation, as `/new` or an empty line does.
    pub fn forget(&mut self) {
        self.context = None;
        self.shown = None;
    }

    /// Handles one message: a command (answered in the chat's language) or a question (in
    /// its own, which becomes the chat's).
    pub fn say(&mut self, message: &str) -> anyhow::Result<Said> {
        let message = message.trim();
        let lang = self.lang;
        let command = message.strip_prefix('/').map(|c| {
            c.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_lowercase()
        });
        match command.as_deref() {
            Some("quit" | "exit" | "q") => Ok(Said::Quit),
            Some("new") => {
                self.forget();
                Ok(Said::Text(texts::NEW_CONVERSATION.get(lang).into()))
            }
            Some("help") => {
                let list = texts::terminal::commands(lang);
                Ok(Said::Text(texts::help(&list, lang)))
            }
            Some("about") => Ok(Said::Text(texts::about(self.engine, lang))),
            Some("more" | "next") => {
                let Some(shown) = &self.shown else {
                    return Ok(Said::Text(texts::terminal::NOTHING_SHOWN.get(lang).into()));
                };
                let rank = shown.rank + 1;
                let understood = shown.understood.clone();
                let reply = answer::reply(self.engine, &understood, rank)?;
                self.shown = Some(Shown {
                    understood,
                    rank,
                    reply: reply.clone(),
                });
                Ok(Said::Answer { reply, rank })
            }
            Some("full") => match &self.shown {
                Some(shown) if shown.reply.answers.len() >= shown.rank => {
                    let mut reply = shown.reply.clone();
                    reply.answers = vec![reply.answers.swap_remove(shown.rank - 1)];
                    Ok(Said::Full(reply))
                }
                _ => Ok(Said::Text(texts::terminal::NOTHING_SHOWN.get(lang).into())),
            },
            Some(_) => Ok(Said::Text(texts::UNKNOWN_COMMAND.get(lang).into())),
            None => {
                let turn =
                    conversation::turn(self.engine, message, self.context.as_ref(), self.limits)?;
                self.context = turn.context;
                self.lang = texts::reply_language(turn.language, self.user.as_deref());
                let reply = turn.reply;
                self.shown = Some(Shown {
                    understood: turn.understood,
                    rank: 1,
                    reply: reply.clone(),
                });
                Ok(Said::Answer { reply, rank: 1 })
            }
        }
    }

    /// What the bot would send for `said`, as Telegram HTML messages (none for `Quit`).
    pub fn html(&self, said: &Said) -> Vec<String> {
        match said {
            Said::Quit => Vec::new(),
            Said::Text(html) => vec![html.clone()],
            Said::Full(reply) => reply
                .answers
                .first()
                .map(|a| render::full_html(a, render::asked_in(reply)))
                .unwrap_or_default(),
            Said::Answer { reply, rank } => {
                let cut_at = reply
                    .truncated
                    .then_some(crate::analysis::MAX_QUESTION_CHARS);
                let mut messages = render::reply_html(
                    reply,
                    *rank,
                    self.engine,
                    None,
                    cut_at,
                    texts::Offer::Naming,
                    self.lang,
                );
                let answer = reply.answers.get(rank - 1);
                if answer.is_some() {
                    messages.push(texts::terminal::CHOICES.get(self.lang).to_string());
                }
                messages
            }
        }
    }

    /// `said` as one JSON object: `ask --json`'s, plus `"understood_as"`; `None` for what
    /// is not an answer.
    pub fn json(&self, said: &Said) -> Option<serde_json::Value> {
        let (reply, rank) = match said {
            Said::Answer { reply, rank } => (reply, *rank),
            Said::Full(reply) => (reply, 1),
            Said::Text(_) | Said::Quit => return None,
        };
        let mut shown = reply.clone();
        shown.answers = shown.answers.into_iter().skip(rank - 1).take(1).collect();
        let mut value = render::reply_json(&shown, self.engine);
        value["understood_as"] = reply.understood_as.clone().into();
        Some(value)
    }
}

/// `citebot chat`: interactive on a terminal, one message per line otherwise; `style` says
/// how matched words look, and questions are cut to `max_question_chars` characters.
pub fn run(
    engine: &Engine,
    json: bool,
    style: Style,
    max_question_chars: usize,
) -> anyhow::Result<()> {
    let session = Session::new(engine, max_question_chars);
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() && !json {
        interactive(session, style)
    } else {
        lines(session, json, style)
    }
}

fn interactive(mut session: Session, style: Style) -> anyhow::Result<()> {
    use rustyline::error::ReadlineError;
    let mut editor = rustyline::DefaultEditor::new().context("opening the terminal")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}\n", texts::terminal::WELCOME.get(session.lang()))?;
    loop {
        let line = match editor.readline("you> ") {
            Ok(line) => line,
            // Ctrl-C clears the line, as in a shell; Ctrl-D leaves.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e).context("reading from the terminal"),
        };
        if line.trim().is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(line.as_str());
        let said = session.say(&line)?;
        if matches!(said, Said::Quit) {
            break;
        }
        for html in session.html(&said) {
            writeln!(out, "{}\n", render::html_to_terminal(&html, style))?;
        }
        out.flush()?;
    }
    Ok(())
}

fn lines(mut session: Session, json: bool, style: Style) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading messages from standard input")?;
        if line.trim().is_empty() {
            session.forget();
            continue;
        }
        let said = session.say(&line)?;
        if matches!(said, Said::Quit) {
            break;
        }
        if json {
            if let Some(value) = session.json(&said) {
                writeln!(out, "{value}")?;
            }
        } else {
            for html in session.html(&said) {
                writeln!(out, "{}", render::html_to_terminal(&html, style))?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::load(&crate::Options::new(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"),
        ))
        .unwrap()
    }

    fn label(said: &Said) -> Option<String> {
        match said {
            Said::Answer { reply, rank } => reply
                .answers
                .get(rank - 1)
                .map(|a| a.citation.label.clone()),
            Said::Full(reply) => reply.answers.first().map(|a| a.citation.label.clone()),
            _ => None,
        }
    }

    #[test]
    fn a_session_follows_up_pages_shows_whole_and_starts_afresh() {
        let engine = engine();
        let mut s = Session::for_user(&engine, crate::analysis::MAX_QUESTION_CHARS, None);
        let first = s.say("Who is Zamir Kabulov?").unwrap();
        assert_eq!(label(&first).as_deref(), Some("¶4"));
        let follow = s.say("What did he warn about?").unwrap();
        assert_eq!(label(&follow).as_deref(), Some("¶4"));
        let html = s.html(&follow);
        assert!(html[0].starts_with("↪ <i>What did he warn about? (about Zamir Kabulov)</i>"));
        assert!(
            html.last().unwrap().contains("/more"),
            "the buttons as commands"
        );
        let json = s.json(&follow).unwrap();
        assert_eq!(
            json["understood_as"],
            "What did he warn about? (about Zamir Kabulov)"
        );
        assert_eq!(json["answers"][0]["passage"], "¶4");

        let more = s.say("/more").unwrap();
        assert!(matches!(more, Said::Answer { rank: 2, .. }));
        let full = s.say("/full").unwrap();
        assert_eq!(
            label(&full),
            label(&more),
            "/full shows the answer shown last"
        );

        // "Thanks" is answered in kind and leaves the conversation where it was.
        let thanks = s.say("thanks!").unwrap();
        assert!(s.html(&thanks)[0].starts_with("You're welcome"));
        let again = s.say("What did he warn about?").unwrap();
        let Said::Answer { reply, .. } = again else {
            panic!("an answer");
        };
        assert_eq!(
            reply.understood_as.as_deref(),
            Some("What did he warn about? (about Zamir Kabulov)")
        );

        assert!(matches!(s.say("/new").unwrap(), Said::Text(_)));
        let alone = s.say("What did he warn about?").unwrap();
        let Said::Answer { reply, .. } = alone else {
            panic!("an answer");
        };
        assert_eq!(reply.understood_as, None, "no context after /new");
        assert!(matches!(s.say("/quit").unwrap(), Said::Quit));
    }

    #[test]
    fn commands_before_any_answer_and_odd_input_get_a_clear_answer() {
        let engine = engine();
        let mut s = Session::for_user(&engine, crate::analysis::MAX_QUESTION_CHARS, None);
        for message in [
            "/more",
            "/full",
            "/frobnicate",
            "/",
            "field:value",
            "\"unbalanced",
            "😀",
        ] {
            let said = s.say(message).unwrap();
            assert!(!s.html(&said).is_empty(), "{message}");
        }
        let long = "Why ".repeat(5_000);
        let said = s.say(&long).unwrap();
        assert!(!s.html(&said).is_empty());
    }
}
