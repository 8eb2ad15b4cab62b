//! The handler tree: what the bot does with each kind of update.
//!
//! - Private chats: any text is a question; commands `/start`, `/help`, `/about`, `/ask`.
//! - Groups: only `/ask`, a message that mentions the bot, or a reply to the bot (so it works
//!   with privacy mode on); chatter and commands for other bots are ignored.
//! - Buttons under an answer: the full paragraph, the next match, a vote.
//! - Inline mode: `@bot question` offers the top passages.
//! - Everything else: a short hint where a reply makes sense, silence where it does not.
//!
//! The tree takes a plain `Bot` and shares its state through dptree dependencies, so the
//! tests can run it under `teloxide_tests::MockBot`. Search runs on the blocking pool, where
//! a panic is caught and becomes an apology to that one user.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use teloxide::dispatching::UpdateHandler;
use teloxide::payloads::{
    AnswerCallbackQuerySetters, AnswerInlineQuerySetters, EditMessageReplyMarkupSetters,
};
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, ChatAction, InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResult,
    InlineQueryResultArticle, InputMessageContent, InputMessageContentText, Me, MessageId,
    ParseMode, UserId,
};

use super::buttons::{Action, Button, Origin};
use super::send::{self, no_preview, Outgoing};
use crate::answer::{self, Answer, Reply};
use crate::engine::Engine;
use crate::render::{self, escape};

pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// What the handlers share: the engine and the bot's policies.
pub struct Ctx {
    pub engine: Arc<Engine>,
    pub flood: FloodGate,
    pub max_question_chars: usize,
    pub allowed_chats: Option<HashSet<i64>>,
    /// Spaces messages to Telegram's limits.
    pub pacer: send::Pacer,
    /// The highest update id that reached the handlers (0: none yet): what a forced stop
    /// confirms to Telegram, so those updates are not delivered again after a restart.
    pub last_update: AtomicU32,
}

impl Ctx {
    pub fn new(engine: Arc<Engine>) -> Ctx {
        Ctx {
            engine,
            flood: FloodGate::new(20, Duration::from_secs(60)),
            max_question_chars: crate::analysis::MAX_QUESTION_CHARS,
            allowed_chats: None,
            pacer: send::Pacer::telegram(),
            last_update: AtomicU32::new(0),
        }
    }

    fn allowed(&self, chat: ChatId) -> bool {
        self.allowed_chats
            .as_ref()
            .is_none_or(|set| set.contains(&chat.0))
    }
}

/// The commands, as Telegram clients list them.
pub fn commands() -> Vec<BotCommand> {
    vec![
        BotCommand::new("ask", "Ask a question about the article"),
        BotCommand::new("help", "How to ask, and what the buttons do"),
        BotCommand::new("about", "The documents I answer from"),
        BotCommand::new("start", "Start over"),
    ]
}

pub fn handler_tree() -> UpdateHandler<HandlerError> {
    dptree::entry()
        .inspect(|update: Update, ctx: Arc<Ctx>| {
            ctx.last_update.fetch_max(update.id.0, Ordering::SeqCst);
        })
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback))
        .branch(Update::filter_inline_query().endpoint(on_inline))
        // Edited messages, channel posts, member updates...: nothing to say.
        .endpoint(|| async { Ok(()) })
}

/// Per-sender flood limit: `limit` questions per `window`; past it one notice, then silence
/// until the window passes.
pub struct FloodGate {
    limit: u32,
    window: Duration,
    users: Mutex<HashMap<Sender, (Instant, u32)>>,
}

/// Who sent a message, for the flood limit: the user, or, for a message sent on behalf of a
/// channel or by an anonymous group admin (no `from` that is a person), the chat it was sent
/// as, so that those are limited too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sender {
    User(UserId),
    Chat(ChatId),
}

impl Sender {
    pub fn of(msg: &Message) -> Sender {
        match (&msg.sender_chat, &msg.from) {
            (Some(chat), _) => Sender::Chat(chat.id),
            (None, Some(user)) => Sender::User(user.id),
            (None, None) => Sender::Chat(msg.chat.id),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Just over the limit: say so, once.
    Notice,
    Silent,
}

impl FloodGate {
    pub fn new(limit: u32, window: Duration) -> FloodGate {
        FloodGate {
            limit,
            window,
            users: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, user: Sender, now: Instant) -> Verdict {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        if users.len() > 10_000 {
            users.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = users.entry(user).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if entry.1 <= self.limit {
            Verdict::Pass
        } else if entry.1 == self.limit + 1 {
            Verdict::Notice
        } else {
            Verdict::Silent
        }
    }
}

/// A message's command: name, the bot it is addressed to, and the rest of the text.
fn parse_command(text: &str) -> Option<(String, Option<&str>, &str)> {
    let text = text.strip_prefix('/')?;
    let (head, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let (name, target) = match head.split_once('@') {
        Some((n, t)) => (n, Some(t)),
        None => (head, None),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some((name.to_ascii_lowercase(), target, rest.trim()))
}

/// The question in a message the bot was asked, whatever way it was asked.
pub fn question_of(text: &str, me: &Me) -> String {
    let username = me.username();
    match parse_command(text) {
        Some((name, _, rest)) if name == "ask" => rest.to_string(),
        _ => strip_mention(text, username),
    }
}

fn strip_mention(text: &str, username: &str) -> String {
    let mention = format!("@{username}");
    let lower = text.to_lowercase();
    match lower.find(&mention.to_lowercase()) {
        // Lower-casing can change byte lengths outside ASCII; only trust an exact-length hit.
        Some(i)
            if text
                .get(i..i + mention.len())
                .is_some_and(|m| m.eq_ignore_ascii_case(&mention)) =>
        {
            format!("{} {}", &text[..i], &text[i + mention.len()..])
                .trim()
                .to_string()
        }
        _ => text.trim().to_string(),
    }
}

async fn on_message(bot: Bot, msg: Message, me: Me, ctx: Arc<Ctx>) -> Result<(), HandlerError> {
    if let Some(to) = msg.migrate_to_chat_id() {
        tracing::info!(
            from = msg.chat.id.0,
            to = to.0,
            "group migrated to a supergroup"
        );
        return Ok(());
    }
    let private = msg.chat.is_private();
    let reply = |html: String| Outgoing::new(msg.chat.id, html).reply_to(msg.id);
    // A photo's caption is a question like a message's text, `/ask` included.
    let Some(text) = msg.text().or(msg.caption()) else {
        // A sticker, a photo without words, a voice note, a service message.
        let is_content = msg.from.as_ref().is_some_and(|u| !u.is_bot)
            && (msg.sticker().is_some()
                || msg.photo().is_some()
                || msg.voice().is_some()
                || msg.video().is_some()
                || msg.document().is_some()
                || msg.audio().is_some()
                || msg.animation().is_some()
                || msg.video_note().is_some()
                || msg.location().is_some()
                || msg.contact().is_some()
                || msg.poll().is_some()
                || msg.dice().is_some());
        if private && is_content {
            let hint = "I can only read text. Send me a question in words, e.g. <i>Why does Russia work with the Taliban?</i>";
            send::send(&bot, &ctx.pacer, reply(hint.into())).await?;
        }
        return Ok(());
    };

    let command = parse_command(text);
    if let Some((_, Some(target), _)) = &command {
        if !target.eq_ignore_ascii_case(me.username()) {
            return Ok(()); // For another bot.
        }
    }
    let addressed = private
        || matches!(&command, Some((name, _, _)) if name == "ask")
        || text
            .to_lowercase()
            .contains(&format!("@{}", me.username().to_lowercase()))
        || msg
            .reply_to_message()
            .and_then(|m| m.from.as_ref())
            .is_some_and(|u| u.id == me.id);
    if !addressed {
        return Ok(());
    }
    if !ctx.allowed(msg.chat.id) {
        tracing::info!(chat = msg.chat.id.0, "chat not in ALLOWED_CHATS: refused");
        let refusal =
            "Sorry, this is a private citebot: it only answers in the chats it was set up for.";
        send::send(&bot, &ctx.pacer, reply(refusal.into())).await?;
        return Ok(());
    }

    match command
        .as_ref()
        .map(|(name, _, rest)| (name.as_str(), *rest))
    {
        Some(("start", _)) => {
            send::send(
                &bot,
                &ctx.pacer,
                Outgoing::new(msg.chat.id, greeting(&ctx.engine))
                    .keyboard(examples_keyboard(&ctx.engine)),
            )
            .await?;
        }
        Some(("help", _)) => {
            send::send(&bot, &ctx.pacer, reply(help_text())).await?;
        }
        Some(("about", _)) => {
            send::send(&bot, &ctx.pacer, reply(about_text(&ctx.engine))).await?;
        }
        Some(("ask", "")) => {
            send::send(&bot, &ctx.pacer, reply("Ask me something after the command, e.g. <code>/ask Who is Mohammad Atmar?</code>".into())).await?;
        }
        Some(("ask", _)) | None => {
            let question = question_of(text, &me);
            if question.is_empty() {
                send::send(
                    &bot,
                    &ctx.pacer,
                    reply("Yes? Ask me a question about the article.".into()),
                )
                .await?;
                return Ok(());
            }
            match ctx.flood.check(Sender::of(&msg), Instant::now()) {
                Verdict::Pass => {}
                Verdict::Notice => {
                    let notice = "You are asking faster than I can read. Please wait a minute before the next question.";
                    send::send(&bot, &ctx.pacer, reply(notice.into())).await?;
                    return Ok(());
                }
                Verdict::Silent => return Ok(()),
            }
            let _ = bot.send_chat_action(msg.chat.id, ChatAction::Typing).await;
            answer_question(
                &bot,
                &ctx,
                msg.chat.id,
                Some(msg.id),
                &question,
                1,
                Origin::Reply,
                chat_kind(&msg),
            )
            .await?;
        }
        Some(_) if private => {
            send::send(
                &bot,
                &ctx.pacer,
                reply("I don't know that command. Send /help to see what I can do.".into()),
            )
            .await?;
        }
        Some(_) => {}
    }
    Ok(())
}

fn chat_kind(msg: &Message) -> &'static str {
    if msg.chat.is_private() {
        "private"
    } else if msg.chat.is_group() {
        "group"
    } else if msg.chat.is_supergroup() {
        "supergroup"
    } else {
        "channel"
    }
}

/// Runs the search off the async threads; a panic inside it is caught and logged, and the
/// user gets an apology instead of silence.
async fn search(ctx: &Ctx, question: &str, top: usize) -> Option<Reply> {
    let engine = Arc::clone(&ctx.engine);
    let (question, _) = crate::analysis::truncate_chars(question, ctx.max_question_chars);
    let q = question.to_string();
    match tokio::task::spawn_blocking(move || answer::ask(&engine, &q, top)).await {
        Ok(Ok(reply)) => Some(reply),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "search failed");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "search panicked");
            None
        }
    }
}

const SORRY: &str = "Sorry, something went wrong while searching. Please try again.";

/// Answers `question` with the answer at `rank`, with its buttons.
#[allow(clippy::too_many_arguments)]
async fn answer_question(
    bot: &Bot,
    ctx: &Ctx,
    chat: ChatId,
    reply_to: Option<MessageId>,
    question: &str,
    rank: usize,
    origin: Origin,
    kind: &str,
) -> Result<(), HandlerError> {
    let started = Instant::now();
    let truncated = question.chars().count() > ctx.max_question_chars;
    let Some(reply) = search(ctx, question, rank).await else {
        send::send(
            bot,
            &ctx.pacer,
            Outgoing {
                chat,
                html: SORRY.into(),
                reply_to,
                keyboard: None,
            },
        )
        .await?;
        return Ok(());
    };
    let answer = reply.answers.get(rank - 1);
    tracing::info!(
        chat_kind = kind,
        latency_ms = started.elapsed().as_secs_f64() * 1e3,
        rank,
        passage = answer.map(|a| a.citation.label.as_str()).unwrap_or("none"),
        doc = answer.map(|a| a.doc.as_str()).unwrap_or("none"),
        "answered"
    );
    let mut messages = match answer {
        Some(a) => render::answer_html(a),
        None if rank == 1 => vec![no_answer_html(&reply, &ctx.engine)],
        None => vec!["No more matches for this question.".to_string()],
    };
    if let Some(first) = messages.first_mut() {
        if rank > 1 && answer.is_some() {
            first.insert_str(0, &format!("<i>Match {rank}:</i>\n"));
        }
        if truncated || reply.truncated {
            first.insert_str(
                0,
                &format!(
                    "<i>{}</i>\n",
                    escape(&truncated_note(
                        ctx.max_question_chars
                            .min(crate::analysis::MAX_QUESTION_CHARS)
                    ))
                ),
            );
        }
        if let (Origin::Example { .. }, 1) = (origin, rank) {
            first.insert_str(0, &format!("❓ <b>{}</b>\n", escape(question)));
        }
    }
    let keyboard = answer.map(|a| answer_keyboard(a.rank, origin, true));
    send::send_all(bot, &ctx.pacer, chat, messages, reply_to, keyboard).await?;
    Ok(())
}

fn truncated_note(max: usize) -> String {
    format!("Your question was long, so only its first {max} characters were searched.")
}

fn no_answer_html(reply: &Reply, engine: &Engine) -> String {
    if reply.empty_question {
        return "That has no words I can search for. Ask about something in the article, e.g. <i>Who is Khalifa Haftar?</i>".to_string();
    }
    let titles = titles(engine);
    format!(
        "I couldn't find an answer to that in {titles}, so I won't guess.\n\
         Try other words, or a question about what the article discusses. /help has tips."
    )
}

fn titles(engine: &Engine) -> String {
    let docs = &engine.knowledge.documents;
    match docs.len() {
        1 => format!("“{}”", escape(&docs[0].meta.title)),
        n => format!("the {n} documents I know"),
    }
}

fn answer_keyboard(rank: usize, origin: Origin, with_votes: bool) -> InlineKeyboardMarkup {
    let button = |label: &str, action| {
        let data = Button::new(action, origin).encode().unwrap_or_default();
        InlineKeyboardButton::callback(label, data)
    };
    let mut rows = vec![vec![
        button("Full paragraph", Action::Full { rank }),
        button("Next match", Action::Next { rank }),
    ]];
    if with_votes {
        rows.push(vec![
            button("👍", Action::Vote { rank, up: true }),
            button("👎", Action::Vote { rank, up: false }),
        ]);
    }
    InlineKeyboardMarkup::new(rows)
}

fn examples_keyboard(engine: &Engine) -> InlineKeyboardMarkup {
    let rows = engine
        .knowledge
        .documents
        .iter()
        .enumerate()
        .flat_map(|(doc, d)| {
            d.meta
                .examples
                .iter()
                .enumerate()
                .map(move |(index, q)| (doc, index, q))
        })
        .take(6)
        .filter_map(|(doc, index, q)| {
            let data = Button::new(Action::Ask, Origin::Example { doc, index }).encode()?;
            Some(vec![InlineKeyboardButton::callback(q.clone(), data)])
        })
        .collect::<Vec<_>>();
    InlineKeyboardMarkup::new(rows)
}

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

pub fn help_text() -> String {
    "<b>How to ask</b>\n\
     Send a question in plain words, e.g. <i>What did Sergey Lavrov say about the US strategy?</i> \
     In a group, use /ask, mention me, or reply to one of my messages.\n\n\
     <b>Commands</b>\n\
     /ask <i>question</i> — ask (needed in groups)\n\
     /about — the documents I answer from\n\
     /help — this message\n\n\
     <b>Buttons under an answer</b>\n\
     Full paragraph — the whole paragraph the quote comes from\n\
     Next match — the next best passage\n\
     👍 / 👎 — tell us whether the answer helped\n\n\
     <b>Tips</b>\n\
     Use names and key words from the subject (people, places, events). \
     If nothing in the article answers, I say so rather than guess. \
     You can also type @ and my name in any chat to quote the article there."
        .to_string()
}

pub fn about_text(engine: &Engine) -> String {
    let mut s = String::from("<b>What I answer from</b>\n");
    for d in &engine.knowledge.documents {
        let m = &d.meta;
        let passages = engine
            .knowledge
            .passages
            .iter()
            .filter(|p| engine.knowledge.documents[p.doc].id == d.id)
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
    }
    s
}

async fn on_callback(
    bot: Bot,
    q: CallbackQuery,
    me: Me,
    ctx: Arc<Ctx>,
) -> Result<(), HandlerError> {
    let button = q.data.as_deref().and_then(Button::decode);
    let message = q.regular_message();
    // Every press gets an answer, or the user's client spins.
    let ack = |text: &str| {
        bot.answer_callback_query(q.id.clone())
            .text(truncate_for_toast(text))
    };
    let (Some(button), Some(message)) = (button, message) else {
        ack("This button is too old. Please ask again.").await?;
        return Ok(());
    };
    let chat = message.chat.id;
    if !ctx.allowed(chat) {
        ack("This bot does not answer in this chat.").await?;
        return Ok(());
    }
    let question = match button.origin {
        Origin::Example { doc, index } => ctx
            .engine
            .knowledge
            .documents
            .get(doc)
            .and_then(|d| d.meta.examples.get(index))
            .cloned(),
        Origin::Reply => message
            .reply_to_message()
            .and_then(|m| m.text())
            .map(|t| question_of(t, &me)),
    };
    let Some(question) = question.filter(|q| !q.is_empty()) else {
        ack("I can't find the question any more (was it deleted?). Please ask again.").await?;
        return Ok(());
    };
    let reply_to = message.reply_to_message().map(|m| m.id);
    let kind = if message.chat.is_private() {
        "private"
    } else {
        "group"
    };
    match button.action {
        Action::Ask => {
            ack("Looking it up…").await?;
            answer_question(&bot, &ctx, chat, None, &question, 1, button.origin, kind).await?;
        }
        Action::Next { rank } => {
            ack("Next match").await?;
            answer_question(
                &bot,
                &ctx,
                chat,
                reply_to,
                &question,
                rank + 1,
                button.origin,
                kind,
            )
            .await?;
        }
        Action::Full { rank } => {
            let reply = search(&ctx, &question, rank).await;
            match reply.as_ref().and_then(|r| r.answers.get(rank - 1)) {
                Some(a) => {
                    ack("Full paragraph").await?;
                    send::send_all(
                        &bot,
                        &ctx.pacer,
                        chat,
                        render::full_html(a),
                        Some(message.id),
                        None,
                    )
                    .await?;
                }
                None => {
                    ack("That answer is no longer available. Please ask again.").await?;
                }
            }
        }
        Action::Vote { rank, up } => {
            let reply = search(&ctx, &question, rank).await;
            let passage = reply
                .as_ref()
                .and_then(|r| r.answers.get(rank - 1))
                .map(|a: &Answer| a.citation.label.clone());
            tracing::info!(
                vote = if up { "up" } else { "down" },
                rank,
                passage = passage.as_deref().unwrap_or("unknown"),
                "feedback"
            );
            ack(if up {
                "Thanks! Glad it helped."
            } else {
                "Thanks — noted. Try rephrasing, or Next match."
            })
            .await?;
            // One vote per answer: the vote buttons go once used.
            let keyboard = answer_keyboard(rank, button.origin, false);
            if let Err(e) = bot
                .edit_message_reply_markup(chat, message.id)
                .reply_markup(keyboard)
                .await
            {
                tracing::debug!(error = %e, "could not remove the vote buttons");
            }
        }
    }
    Ok(())
}

/// Telegram shows at most 200 characters of a callback answer.
fn truncate_for_toast(text: &str) -> String {
    crate::analysis::truncate_chars(text, 200).0.to_string()
}

/// Inline results for a query: the top passages, each sending its excerpt and citation.
pub fn inline_results(reply: &Reply) -> Vec<InlineQueryResult> {
    reply
        .answers
        .iter()
        .map(|a| {
            let html = render::answer_html(a)
                .into_iter()
                .next()
                .unwrap_or_default();
            let content = InputMessageContent::Text(
                InputMessageContentText::new(html)
                    .parse_mode(ParseMode::Html)
                    .link_preview_options(no_preview()),
            );
            let title = format!("{} — {}", a.citation.label, a.citation.title);
            let description = crate::analysis::truncate_chars(&a.excerpt.text, 200)
                .0
                .to_string();
            InlineQueryResult::Article(
                InlineQueryResultArticle::new(format!("p{}", a.passage), title, content)
                    .description(description),
            )
        })
        .collect()
}

async fn on_inline(bot: Bot, q: InlineQuery, ctx: Arc<Ctx>) -> Result<(), HandlerError> {
    let results = if q.query.trim().is_empty() {
        Vec::new()
    } else {
        match search(&ctx, &q.query, 5).await {
            Some(reply) => inline_results(&reply),
            None => Vec::new(),
        }
    };
    tracing::info!(chat_kind = "inline", results = results.len(), "answered");
    bot.answer_inline_query(q.id, results)
        .cache_time(300)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_results_send_the_excerpt_with_its_citation() {
        let engine = Engine::load(&crate::Options::new(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"),
        ))
        .unwrap();
        let reply = answer::ask(&engine, "Who is Khalifa Haftar?", 5).unwrap();
        let results = inline_results(&reply);
        assert!(!results.is_empty() && results.len() <= 5);
        let InlineQueryResult::Article(first) = &results[0] else {
            panic!("an article");
        };
        assert!(first
            .title
            .starts_with("¶6 — Russia's Afghanistan Strategy"));
        let InputMessageContent::Text(content) = &first.input_message_content else {
            panic!("a text message");
        };
        assert_eq!(content.parse_mode, Some(ParseMode::Html));
        assert!(content.message_text.contains("<b>Haftar</b>"));
        assert!(content.message_text.contains("¶6"));
        let none = answer::ask(&engine, "Recommend a laptop", 5).unwrap();
        assert!(inline_results(&none).is_empty());
    }

    #[test]
    fn commands_parse() {
        let cases = [
            ("/start", Some(("start", None, ""))),
            ("/start deep-link", Some(("start", None, "deep-link"))),
            (
                "/ASK@CiteBot  Who is Atmar? ",
                Some(("ask", Some("CiteBot"), "Who is Atmar?")),
            ),
            ("/ask", Some(("ask", None, ""))),
            ("/", None),
            ("/ 1", None),
            ("/€uro", None),
            ("not a command", None),
        ];
        for (text, want) in cases {
            let got = parse_command(text);
            assert_eq!(
                got.as_ref().map(|(n, t, r)| (n.as_str(), *t, *r)),
                want,
                "{text:?}"
            );
        }
    }

    #[test]
    fn mentions_are_stripped() {
        assert_eq!(
            strip_mention("@CiteBot who is Atmar?", "citebot"),
            "who is Atmar?"
        );
        assert_eq!(
            strip_mention("who is Atmar, @citebot?", "citebot"),
            "who is Atmar,  ?"
        );
        assert_eq!(strip_mention("İ@citebot", "citebot"), "İ@citebot".trim());
    }

    #[test]
    fn flood_gate_passes_then_notices_once_then_silence_until_the_window_passes() {
        let gate = FloodGate::new(3, Duration::from_secs(60));
        let (u, t0) = (Sender::User(UserId(7)), Instant::now());
        let verdicts: Vec<Verdict> = (0..6)
            .map(|i| gate.check(u, t0 + Duration::from_secs(i)))
            .collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Pass,
                Verdict::Pass,
                Verdict::Pass,
                Verdict::Notice,
                Verdict::Silent,
                Verdict::Silent
            ]
        );
        assert_eq!(
            gate.check(Sender::User(UserId(8)), t0),
            Verdict::Pass,
            "other users are not affected"
        );
        assert_eq!(gate.check(u, t0 + Duration::from_secs(61)), Verdict::Pass);
        assert_eq!(
            gate.check(Sender::Chat(ChatId(-100)), t0),
            Verdict::Pass,
            "a channel is a sender of its own"
        );
    }
}
