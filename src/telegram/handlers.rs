//! The handler tree: what the bot does with each kind of update.
//!
//! - Private chats: any text is a question, read as a follow-up of the last one when it is
//!   one (see [`crate::conversation`]); commands are the [`Command`] enum's.
//! - Groups: only `/ask`, a message that mentions the bot, or a reply to the bot (so it works
//!   with privacy mode on); chatter and commands for other bots are ignored. Each member has
//!   a conversation of their own.
//! - A reply to one of the bot's answers is read in that answer's context, whatever came
//!   between: the answer's text names its passage and, for a follow-up, the question as
//!   understood.
//! - Buttons under an answer: the full paragraph, the next match, a vote; they act on the
//!   question as understood.
//! - Inline mode: `@bot question` offers the top passages.
//! - Everything else: a short hint where a reply makes sense, silence where it does not.
//!
//! The tree takes a plain `Bot` and shares its state through dptree dependencies, so the
//! tests can run it under `teloxide_tests::MockBot`. Search runs on the blocking pool, where
//! a panic is caught and becomes an apology to that one user.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;

use teloxide::dispatching::UpdateHandler;
use teloxide::payloads::{
    AnswerCallbackQuerySetters, AnswerInlineQuerySetters, EditMessageReplyMarkupSetters,
};
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, ChatAction, InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResult,
    InlineQueryResultArticle, InputMessageContent, InputMessageContentText, Me, MessageEntityKind,
    MessageId, ParseMode,
};

use super::buttons::{Action, Button, Origin};
use super::commands::{self, Admin, Command, Parsed};
use super::contexts::{Contexts, Key, MAX_CONVERSATIONS};
use super::flood::{FloodGate, Sender, Verdict};
use super::send::{self, no_preview, Outgoing};
use crate::answer::{self, Reply};
use crate::conversation::{self, understand_with, Context, Understood};
use crate::engine::{Engine, Options};
use crate::record::{self, Asked, RecordError, Recorder, Report, Voted};
use crate::render;
use crate::texts::{self, toast, Offer};

pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// What the handlers share: the engine, the conversations, the record and the bot's policies.
pub struct Ctx {
    /// Swapped whole by a reload; each update loads it once and uses that one throughout.
    engine: ArcSwap<Engine>,
    pub flood: FloodGate,
    /// Longer questions are cut to this many characters (the reply says so).
    pub max_question_chars: usize,
    pub allowed_chats: Option<HashSet<i64>>,
    /// Each chat's (each group member's) last question, for follow-ups.
    pub contexts: Contexts,
    /// Spaces messages to Telegram's limits.
    pub pacer: send::Pacer,
    /// The highest update id that reached the handlers (0: none yet): what a forced stop
    /// confirms to Telegram, so those updates are not delivered again after a restart.
    pub last_update: AtomicU32,
    /// What readers asked and how they voted.
    pub record: Recorder,
    /// `ADMIN_IDS`: who may use the [`Admin`] commands.
    pub admins: HashSet<u64>,
    /// What /reload and SIGHUP load the engine from; `None`: the engine cannot be reloaded.
    pub reload_from: Option<Options>,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
}

impl Ctx {
    pub fn new(engine: Arc<Engine>) -> Ctx {
        Ctx {
            engine: ArcSwap::new(engine),
            flood: FloodGate::new(20, Duration::from_secs(60)),
            max_question_chars: crate::analysis::MAX_QUESTION_CHARS,
            allowed_chats: None,
            contexts: Contexts::new(crate::config::DEFAULT_CONTEXT_TTL, MAX_CONVERSATIONS),
            pacer: send::Pacer::telegram(),
            last_update: AtomicU32::new(0),
            record: Recorder::off(),
            admins: HashSet::new(),
            reload_from: None,
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    /// The engine now (a reload may swap another in for the next update).
    pub fn engine(&self) -> Arc<Engine> {
        self.engine.load_full()
    }

    /// Re-reads the knowledge and swaps the new engine in when it is ready; the old one
    /// answers meanwhile, and stays when the new one cannot be loaded. Returns what to tell
    /// whoever asked (HTML).
    pub async fn reload(&self) -> String {
        let Some(options) = self.reload_from.clone() else {
            return texts::RELOAD_UNAVAILABLE.to_string();
        };
        let Ok(_one_at_a_time) = self.reloading.try_lock() else {
            return texts::RELOAD_BUSY.to_string();
        };
        let started = Instant::now();
        let loaded = tokio::task::spawn_blocking(move || Engine::load(&options)).await;
        match loaded {
            Ok(Ok(new)) => {
                let changes = self.engine().knowledge.changes_to(&new.knowledge);
                self.engine.store(Arc::new(new));
                // Conversations point at passages by number: those of the old knowledge.
                self.contexts.clear();
                tracing::info!(
                    documents = changes.documents,
                    passages = changes.passages,
                    added = changes.added.len(),
                    removed = changes.removed.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "knowledge reloaded"
                );
                texts::reloaded(&changes)
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "reload failed; the old knowledge stays");
                texts::reload_failed(&e.to_string())
            }
            Err(e) => {
                tracing::error!(error = %e, "reload panicked; the old knowledge stays");
                texts::reload_failed("the reload crashed (see the log)")
            }
        }
    }

    fn is_admin(&self, user: Option<&teloxide::types::User>) -> bool {
        user.is_some_and(|u| self.admins.contains(&u.id.0))
    }

    fn allowed(&self, chat: ChatId) -> bool {
        self.allowed_chats
            .as_ref()
            .is_none_or(|set| set.contains(&chat.0))
    }
}

/// The commands, as Telegram clients list them (names without the slash, as the Bot API
/// documents them).
pub fn commands() -> Vec<BotCommand> {
    commands::list()
        .into_iter()
        .map(|(name, description)| BotCommand::new(name, description))
        .collect()
}

/// The admin commands, for the menu of the admins only.
pub fn admin_commands() -> Vec<BotCommand> {
    commands::admin_list()
        .into_iter()
        .map(|(name, description)| BotCommand::new(name, description))
        .collect()
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

/// The question in a message the bot was asked, whatever way it was asked.
pub fn question_of(text: &str, me: &Me) -> String {
    match commands::parse(text, me.username()) {
        Some(Parsed::Ours(Command::Ask, rest)) => rest.to_string(),
        _ => strip_mention(text, me.username()),
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

/// Whose conversation a message belongs to: the private chat's, or its sender's in a group.
fn conversation_key(msg: &Message) -> Key {
    Key {
        chat: msg.chat.id,
        sender: (!msg.chat.is_private()).then(|| Sender::of(msg)),
    }
}

/// The context a message carries by replying to one of the bot's answers.
fn replied_context(msg: &Message, me: &Me, engine: &Engine) -> Option<Context> {
    let answer = msg.reply_to_message()?;
    if answer.from.as_ref().map(|u| u.id) != Some(me.id) {
        return None;
    }
    let text = answer.text()?;
    let marked: Vec<String> = answer
        .parse_entities()
        .unwrap_or_default()
        .iter()
        .filter(|e| matches!(e.kind(), MessageEntityKind::Bold))
        .map(|e| e.text().to_string())
        .collect();
    Context::from_answer(text, &marked, &engine.knowledge)
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
    let engine = ctx.engine();
    let reply = |html: &str| Outgoing::new(msg.chat.id, html.to_string()).reply_to(msg.id);
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
            send::send(&bot, &ctx.pacer, reply(texts::ONLY_TEXT)).await?;
        }
        return Ok(());
    };

    let command = commands::parse(text, me.username());
    if command == Some(Parsed::OtherBot) {
        return Ok(());
    }
    let addressed = private
        || matches!(command, Some(Parsed::Ours(Command::Ask, _)))
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
        send::send(&bot, &ctx.pacer, reply(texts::NOT_THIS_CHAT)).await?;
        return Ok(());
    }

    match command {
        Some(Parsed::Ours(Command::Start, _)) => {
            send::send(
                &bot,
                &ctx.pacer,
                Outgoing::new(msg.chat.id, texts::greeting(&engine))
                    .keyboard(examples_keyboard(&engine)),
            )
            .await?;
        }
        Some(Parsed::Ours(Command::Help, _)) => {
            send::send(&bot, &ctx.pacer, reply(&texts::help(&commands::list()))).await?;
        }
        Some(Parsed::Ours(Command::About, _)) => {
            send::send(&bot, &ctx.pacer, reply(&texts::about(&engine))).await?;
        }
        Some(Parsed::Ours(Command::New, _)) => {
            ctx.contexts
                .set(conversation_key(&msg), None, Instant::now());
            send::send(&bot, &ctx.pacer, reply(texts::NEW_CONVERSATION)).await?;
        }
        Some(Parsed::Ours(Command::Ask, "")) => {
            send::send(&bot, &ctx.pacer, reply(texts::ASK_NEEDS_A_QUESTION)).await?;
        }
        Some(Parsed::Ours(Command::Ask, _)) | None => {
            let question = question_of(text, &me);
            if question.is_empty() {
                send::send(&bot, &ctx.pacer, reply(texts::YES)).await?;
                return Ok(());
            }
            match ctx.flood.check(Sender::of(&msg), Instant::now()) {
                Verdict::Pass => {}
                Verdict::Notice => {
                    send::send(&bot, &ctx.pacer, reply(texts::TOO_FAST)).await?;
                    return Ok(());
                }
                Verdict::Silent => return Ok(()),
            }
            let _ = bot.send_chat_action(msg.chat.id, ChatAction::Typing).await;
            let (question, truncated) =
                crate::analysis::truncate_chars(&question, ctx.max_question_chars);
            // A reply to an answer is about that answer; otherwise the chat's last question.
            let key = conversation_key(&msg);
            let context = replied_context(&msg, &me, &engine)
                .or_else(|| ctx.contexts.get(key, Instant::now()));
            let understood = understand_with(question, context.as_ref(), &engine.names);
            answer(
                &bot,
                &ctx,
                Request {
                    engine: Arc::clone(&engine),
                    chat: msg.chat.id,
                    reply_to: Some(msg.id),
                    understood,
                    rank: 1,
                    origin: Origin::Reply,
                    user: msg.from.as_ref().map(|u| u.id.0),
                    chat_kind: chat_kind(&msg),
                    truncated,
                    conversation: Some((key, context)),
                },
            )
            .await?;
        }
        Some(Parsed::Admin(admin)) if ctx.is_admin(msg.from.as_ref()) => {
            let html = match admin {
                Admin::Stats => stats(&ctx).await,
                Admin::Unanswered => unanswered(&ctx).await,
                Admin::Reload => {
                    let _ = bot.send_chat_action(msg.chat.id, ChatAction::Typing).await;
                    ctx.reload().await
                }
            };
            send::send(&bot, &ctx.pacer, reply(&html)).await?;
        }
        // For anyone else an admin command is as unknown as any other.
        Some(_) if private => {
            send::send(&bot, &ctx.pacer, reply(texts::UNKNOWN_COMMAND)).await?;
        }
        Some(_) => {}
    }
    Ok(())
}

/// /stats: the record's last 7 days.
async fn stats(ctx: &Ctx) -> String {
    read_record(
        ctx,
        |path| Report::load(path, SystemTime::now(), 7),
        |r| texts::stats(&r),
    )
    .await
}

/// /unanswered: the last 10 questions nothing answered.
async fn unanswered(ctx: &Ctx) -> String {
    read_record(
        ctx,
        |path| record::recent_unanswered(path, 10),
        |r| texts::unanswered(&r),
    )
    .await
}

/// Reads the record off the async threads with `read`, and says what it found with `show`
/// (or why there is nothing to show).
async fn read_record<T: Send + 'static>(
    ctx: &Ctx,
    read: impl FnOnce(&Path) -> Result<T, RecordError> + Send + 'static,
    show: impl FnOnce(T) -> String,
) -> String {
    let Some(path) = ctx.record.path().map(Path::to_path_buf) else {
        return texts::RECORD_OFF.to_string();
    };
    match tokio::task::spawn_blocking(move || read(&path)).await {
        Ok(Ok(found)) => show(found),
        Ok(Err(RecordError::Missing(_))) => texts::RECORD_EMPTY.to_string(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot read the record");
            texts::SORRY.to_string()
        }
        Err(_) => texts::SORRY.to_string(),
    }
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
async fn search(engine: &Arc<Engine>, understood: &Understood, top: usize) -> Option<Reply> {
    let engine = Arc::clone(engine);
    let understood = understood.clone();
    match tokio::task::spawn_blocking(move || answer::reply(&engine, &understood, top)).await {
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

/// One answer to send: for which question, at which rank, where, and under which buttons.
struct Request {
    /// The engine the question was read with: the same one answers it, even if a reload
    /// swaps another in meanwhile (the question's context holds its passage numbers).
    engine: Arc<Engine>,
    chat: ChatId,
    reply_to: Option<MessageId>,
    understood: Understood,
    /// 1 for the best answer; the next match is rank 2, and so on.
    rank: usize,
    /// Where the buttons under the answer find the question again.
    origin: Origin,
    /// Who asked (or pressed), for the record.
    user: Option<u64>,
    /// For the log: private, group, supergroup.
    chat_kind: &'static str,
    /// The question was cut to the length limit.
    truncated: bool,
    /// The conversation the question moves on, and its context before it (a button press
    /// does not move a conversation).
    conversation: Option<(Key, Option<Context>)>,
}

/// Answers a request with the answer at its rank, and its buttons.
async fn answer(bot: &Bot, ctx: &Ctx, request: Request) -> Result<(), HandlerError> {
    let Request {
        engine,
        chat,
        reply_to,
        understood,
        rank,
        origin,
        user,
        chat_kind,
        truncated,
        conversation,
    } = request;
    let started = Instant::now();
    let Some(reply) = search(&engine, &understood, rank).await else {
        send::send(
            bot,
            &ctx.pacer,
            Outgoing {
                chat,
                html: texts::SORRY.into(),
                reply_to,
                keyboard: None,
            },
        )
        .await?;
        return Ok(());
    };
    if let Some((key, before)) = conversation {
        let after = understood.remember(before.as_ref(), reply.answers.first().map(Into::into));
        ctx.contexts.set(key, after, Instant::now());
    }
    let answer = reply.answers.get(rank - 1);
    // A question, not a press of "Next match" nor a "thanks", goes on the record.
    if rank == 1 && !matches!(understood.reading, conversation::Reading::SmallTalk(_)) {
        ctx.record.question(Asked {
            at: SystemTime::now(),
            chat_kind,
            chat: chat.0,
            user,
            answer: answer.map(|a| (a.doc.clone(), a.citation.label.clone())),
            latency: started.elapsed(),
            context: reply.understood_as.is_some(),
            question: understood.question.clone(),
        });
    }
    tracing::info!(
        chat_kind,
        latency_ms = started.elapsed().as_secs_f64() * 1e3,
        rank,
        follow_up = reply.understood_as.is_some(),
        passage = answer.map(|a| a.citation.label.as_str()).unwrap_or("none"),
        doc = answer.map(|a| a.doc.as_str()).unwrap_or("none"),
        "answered"
    );
    let example = matches!(origin, Origin::Example { .. }).then_some(understood.typed.as_str());
    let cut_at = (truncated || reply.truncated).then_some(ctx.max_question_chars);
    let messages = render::reply_html(&reply, rank, &engine, example, cut_at, Offer::Buttons);
    let origin = if reply.understood_as.is_some() {
        Origin::Understood
    } else {
        origin
    };
    let keyboard =
        answer.map(|a| answer_keyboard(&engine, &reply, a.rank, origin, understood.document, None));
    send::send_all(bot, &ctx.pacer, chat, messages, reply_to, keyboard).await?;
    Ok(())
}

/// The buttons under the answer at `rank`: the full paragraph, the next match, the votes
/// (the one cast, if any, ticked: the other changes it), and under the best answer, one
/// per other document that may answer. Each acts on the question at `origin`, asked of
/// `document` when the reader chose one.
fn answer_keyboard(
    engine: &Engine,
    reply: &Reply,
    rank: usize,
    origin: Origin,
    document: Option<usize>,
    voted: Option<bool>,
) -> InlineKeyboardMarkup {
    let button = |label: &str, action| {
        let data = Button::new(action, origin)
            .of_document(document)
            .encode()
            .unwrap_or_default();
        InlineKeyboardButton::callback(label, data)
    };
    let mut rows = vec![vec![
        button("Full paragraph", Action::Full { rank }),
        button("Next match", Action::Next { rank }),
    ]];
    let tick = |up: bool| if voted == Some(up) { " ✓" } else { "" };
    rows.push(vec![
        button(
            &format!("👍{}", tick(true)),
            Action::Vote { rank, up: true },
        ),
        button(
            &format!("👎{}", tick(false)),
            Action::Vote { rank, up: false },
        ),
    ]);
    if rank == 1 {
        for &doc in reply.others.iter().take(texts::MAX_OFFERED) {
            let data = Button::new(Action::Ask, origin)
                .of_document(Some(doc))
                .encode()
                .unwrap_or_default();
            rows.push(vec![InlineKeyboardButton::callback(
                texts::ask_in_button(engine, doc),
                data,
            )]);
        }
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

/// The question behind a button: an example, the message the answer replies to, or the
/// question as understood that the answer itself shows.
fn question_behind(
    origin: Origin,
    message: &Message,
    me: &Me,
    engine: &Engine,
) -> Option<Understood> {
    let understood = match origin {
        Origin::Example { doc, index } => engine
            .knowledge
            .documents
            .get(doc)
            .and_then(|d| d.meta.examples.get(index))
            .map(|q| Understood::standalone(q)),
        Origin::Reply => message
            .reply_to_message()
            .and_then(|m| m.text().or(m.caption()))
            // Read on its own, as it was: "different question: who is Kabulov?" is searched
            // without its announcement.
            .map(|t| understand_with(&question_of(t, me), None, &engine.names)),
        Origin::Understood => {
            let text = message.text()?;
            let line = conversation::understood_line(text)?;
            let prior = Context::from_answer(text, &[], &engine.knowledge).and_then(|c| c.passage);
            Some(Understood::resolved(line, prior))
        }
    };
    understood.filter(|u| !u.question.trim().is_empty())
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
        ack(toast::BUTTON_TOO_OLD).await?;
        return Ok(());
    };
    let chat = message.chat.id;
    if !ctx.allowed(chat) {
        ack(toast::NOT_THIS_CHAT).await?;
        return Ok(());
    }
    let engine = ctx.engine();
    let Some(mut understood) = question_behind(button.origin, message, &me, &engine) else {
        ack(toast::QUESTION_GONE).await?;
        return Ok(());
    };
    understood.document = button.document;
    let reply_to = message.reply_to_message().map(|m| m.id);
    let request = |reply_to, rank| Request {
        engine: Arc::clone(&engine),
        chat,
        reply_to,
        understood: understood.clone(),
        rank,
        origin: button.origin,
        user: Some(q.from.id.0),
        chat_kind: chat_kind(message),
        truncated: false,
        conversation: None,
    };
    match button.action {
        Action::Ask => {
            ack(toast::LOOKING).await?;
            // An example stands alone; the same question asked of another document replies
            // to the question, as its first answer did.
            let reply_to = match button.origin {
                Origin::Example { .. } => None,
                _ => reply_to,
            };
            answer(&bot, &ctx, request(reply_to, 1)).await?;
        }
        Action::Next { rank } => {
            ack(toast::NEXT).await?;
            answer(&bot, &ctx, request(reply_to, rank + 1)).await?;
        }
        Action::Full { rank } => {
            let reply = search(&engine, &understood, rank).await;
            match reply.as_ref().and_then(|r| r.answers.get(rank - 1)) {
                Some(a) => {
                    ack(toast::FULL).await?;
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
                    ack(toast::ANSWER_GONE).await?;
                }
            }
        }
        Action::Vote { rank, up } => {
            let Some(reply) = search(&engine, &understood, rank).await else {
                ack(toast::ANSWER_GONE).await?;
                return Ok(());
            };
            let answer = reply.answers.get(rank - 1);
            let passage = answer.map(|a| a.citation.label.clone());
            ctx.record.vote(Voted {
                at: SystemTime::now(),
                chat: chat.0,
                message: message.id.0,
                rank,
                user: q.from.id.0,
                up,
                answer: answer.map(|a| (a.doc.clone(), a.citation.label.clone())),
                question: understood.question.clone(),
            });
            tracing::info!(
                vote = if up { "up" } else { "down" },
                rank,
                passage = passage.as_deref().unwrap_or("unknown"),
                "feedback"
            );
            ack(if up {
                toast::THANKS_UP
            } else {
                toast::THANKS_DOWN
            })
            .await?;
            // One vote per user per answer: the vote cast is ticked; the other changes it.
            let keyboard = answer_keyboard(
                &engine,
                &reply,
                rank,
                button.origin,
                button.document,
                Some(up),
            );
            if let Err(e) = bot
                .edit_message_reply_markup(chat, message.id)
                .reply_markup(keyboard)
                .await
            {
                tracing::debug!(error = %e, "could not tick the vote");
            }
        }
    }
    Ok(())
}

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
        let (query, _) = crate::analysis::truncate_chars(&q.query, ctx.max_question_chars);
        match search(&ctx.engine(), &Understood::standalone(query), 5).await {
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
}
