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
//! - Admin commands (`ADMIN_IDS`): /stats, /unanswered, /reload, and /remove with its
//!   confirmation buttons ([`super::remove`]); unknown commands for anyone else.
//! - Everything else: a short hint where a reply makes sense, silence where it does not.
//! - Every text is in the language of the question it answers, else in that of the user's
//!   app (`language_code`), else English ([`texts::reply_language`]); quotes stay in their
//!   document's.
//!
//! The tree takes a plain `Bot` and shares its state through dptree dependencies, so the
//! tests can run it under `teloxide_tests::MockBot`. A question is one
//! [`conversation::turn`], taken on the blocking pool with the conversation store's calls,
//! where a panic is caught and becomes an apology to that one user.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use teloxide::dispatching::UpdateHandler;
use teloxide::payloads::{
    AnswerCallbackQuerySetters, AnswerInlineQuerySetters, EditMessageReplyMarkupSetters,
};
use teloxide::prelude::*;
use teloxide::types::{
    ChatAction, InlineQueryResult, InlineQueryResultArticle, InputMessageContent,
    InputMessageContentText, Me, MessageEntityKind, MessageId, ParseMode, User,
};

use super::buttons::{self, Action, Button, Origin};
use super::commands::{self, Admin, Command};
use super::ctx::Ctx;
use super::flood::{Sender, Verdict};
use super::remove;
use super::send::{self, no_preview, Outgoing};
use super::summary;
use super::upload;
use crate::answer::{self, Reply};
use crate::conversation::store::Key;
use crate::conversation::{self, understand_with, Context, Limits, Turn, Understood};
use crate::engine::Engine;
use crate::lang::Lang;
use crate::record::{Asked, Voted};
use crate::render;
use crate::texts::{self, toast, Offer};

pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;
type HandlerResult = Result<(), HandlerError>;

pub fn handler_tree() -> UpdateHandler<HandlerError> {
    dptree::entry()
        .inspect(|update: Update, ctx: Arc<Ctx>| {
            ctx.last_update.fetch_max(update.id.0, Ordering::SeqCst);
        })
        // An update another replica took (Telegram retried a webhook delivery that timed
        // out, or a proxy sent it twice) is answered there, not again here.
        .branch(
            dptree::filter_async(|update: Update, ctx: Arc<Ctx>| async move {
                !ctx.first_delivery(update.id.0).await
            })
            .endpoint(|| async { Ok(()) }),
        )
        .branch(messages())
        // /remove's buttons carry data of their own (see `remove::Press`).
        .branch(
            Update::filter_callback_query()
                .filter_map(|q: CallbackQuery| q.data.as_deref().and_then(remove::Press::decode))
                .endpoint(remove::on_press),
        )
        .branch(Update::filter_callback_query().endpoint(on_callback))
        .branch(Update::filter_inline_query().endpoint(on_inline))
        // Edited messages, channel posts, member updates...: nothing to say.
        .endpoint(|| async { Ok(()) })
}

/// Messages, told apart in this order: a group's migration, a message without words, one
/// not addressed to the bot, one from a chat it does not answer in, a command, text.
fn messages() -> UpdateHandler<HandlerError> {
    let wordless = |msg: Message| msg.text().or(msg.caption()).is_none();
    let not_addressed = |msg: Message, me: Me| !commands::addressed(&msg, &me);
    let not_allowed = |msg: Message, ctx: Arc<Ctx>| !ctx.allowed(msg.chat.id);
    let by_an_admin = |msg: Message, ctx: Arc<Ctx>| ctx.is_admin(msg.from.as_ref());
    let a_file = |msg: Message, ctx: Arc<Ctx>| upload::is_a_file(&msg, &ctx);
    let an_admins_link = |msg: Message, ctx: Arc<Ctx>| upload::is_an_admins_link(&msg, &ctx);
    let a_command = |msg: Message| {
        msg.text()
            .or(msg.caption())
            .is_some_and(commands::is_command)
    };
    Update::filter_message()
        .branch(
            dptree::filter_map(|msg: Message| msg.migrate_to_chat_id().copied())
                .endpoint(on_migration),
        )
        // A file sent in a private chat: a document to add (an admin's), with or without words.
        .branch(dptree::filter(a_file).endpoint(upload::on_document))
        .branch(dptree::filter(wordless).endpoint(on_wordless))
        .branch(dptree::filter(not_addressed).endpoint(|| async { Ok(()) }))
        .branch(dptree::filter(not_allowed).endpoint(on_chat_not_allowed))
        .branch(dptree::filter(an_admins_link).endpoint(upload::on_link))
        .branch(
            commands::filter_command::<Command, _>()
                .branch(dptree::case![Command::Start].endpoint(on_start))
                .branch(dptree::case![Command::Help].endpoint(on_help))
                .branch(dptree::case![Command::About].endpoint(on_about))
                .branch(dptree::case![Command::New].endpoint(on_new))
                .branch(dptree::case![Command::Summary(name)].endpoint(on_summary))
                .branch(dptree::case![Command::Ask(question)].endpoint(on_ask)),
        )
        .branch(
            commands::filter_command::<Admin, _>()
                .filter(by_an_admin)
                .endpoint(on_admin),
        )
        // For anyone else an admin command is as unknown as any other.
        .branch(dptree::filter(a_command).endpoint(on_unknown_command))
        .endpoint(on_text)
}

/// The language `user`'s Telegram app is set to (`language_code`: "ru", "en-US"), if it says.
fn app_language(user: Option<&User>) -> Option<&str> {
    user.and_then(|u| u.language_code.as_deref())
}

/// The language to tell the sender of `msg` something that answers no question of theirs
/// (/start, /help, a sticker): their app's, else English.
fn lang_of(msg: &Message) -> Lang {
    texts::reply_language(None, app_language(msg.from.as_ref()))
}

/// The language to answer `question` from `user` in: the question's, else their app's.
fn lang_for(question: &str, user: Option<&User>) -> Lang {
    texts::reply_language(Lang::detect(question), app_language(user))
}

/// Sends `html` in reply to `msg`.
async fn say(bot: &Bot, ctx: &Ctx, msg: &Message, html: &str) -> HandlerResult {
    let out = Outgoing::new(msg.chat.id, html.to_string()).reply_to(msg.id);
    send::send(bot, &ctx.pacer, out).await?;
    Ok(())
}

async fn on_migration(msg: Message, to: ChatId) -> HandlerResult {
    tracing::info!(
        from = msg.chat.id.0,
        to = to.0,
        "group migrated to a supergroup"
    );
    Ok(())
}

/// A sticker, a photo without words, a voice note, a service message: a hint in a private
/// chat when a person sent something, else silence.
async fn on_wordless(bot: Bot, msg: Message, ctx: Arc<Ctx>) -> HandlerResult {
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
    if msg.chat.is_private() && is_content {
        say(&bot, &ctx, &msg, texts::ONLY_TEXT.get(lang_of(&msg))).await?;
    }
    Ok(())
}

async fn on_chat_not_allowed(bot: Bot, msg: Message, ctx: Arc<Ctx>) -> HandlerResult {
    tracing::info!(chat = msg.chat.id.0, "chat not in ALLOWED_CHATS: refused");
    say(&bot, &ctx, &msg, texts::NOT_THIS_CHAT.get(lang_of(&msg))).await
}

async fn on_start(bot: Bot, msg: Message, ctx: Arc<Ctx>) -> HandlerResult {
    let engine = ctx.engine();
    let greeting = Outgoing::new(msg.chat.id, texts::greeting(&engine, lang_of(&msg)))
        .keyboard(buttons::examples_keyboard(&engine));
    send::send(&bot, &ctx.pacer, greeting).await?;
    Ok(())
}

async fn on_help(bot: Bot, msg: Message, ctx: Arc<Ctx>) -> HandlerResult {
    let lang = lang_of(&msg);
    say(&bot, &ctx, &msg, &texts::help(&commands::list(lang), lang)).await
}

async fn on_about(bot: Bot, msg: Message, ctx: Arc<Ctx>) -> HandlerResult {
    Ok(summary::about(&bot, &ctx, msg.chat.id, lang_of(&msg)).await?)
}

async fn on_summary(bot: Bot, msg: Message, ctx: Arc<Ctx>, name: String) -> HandlerResult {
    Ok(summary::summary(&bot, &ctx, msg.chat.id, &name, lang_of(&msg)).await?)
}

/// /new: the conversation is forgotten, and the next question read on its own.
async fn on_new(bot: Bot, msg: Message, ctx: Arc<Ctx>) -> HandlerResult {
    let key = conversation_key(&msg);
    let store = Arc::clone(&ctx);
    if let Err(e) = tokio::task::spawn_blocking(move || store.remember(key, None)).await {
        tracing::error!(error = %e, "forgetting the conversation panicked");
    }
    say(&bot, &ctx, &msg, texts::NEW_CONVERSATION.get(lang_of(&msg))).await
}

async fn on_ask(bot: Bot, msg: Message, me: Me, ctx: Arc<Ctx>, question: String) -> HandlerResult {
    if question.is_empty() {
        let lang = lang_of(&msg);
        return say(&bot, &ctx, &msg, texts::ASK_NEEDS_A_QUESTION.get(lang)).await;
    }
    ask(&bot, &msg, &me, &ctx, &question).await
}

/// Text that is no command: a question, once a mention of the bot is taken out of it.
async fn on_text(bot: Bot, msg: Message, me: Me, ctx: Arc<Ctx>) -> HandlerResult {
    let text = msg.text().or(msg.caption()).unwrap_or_default();
    let question = strip_mention(text, commands::username(&me));
    if question.is_empty() {
        return say(&bot, &ctx, &msg, texts::YES.get(lang_of(&msg))).await;
    }
    ask(&bot, &msg, &me, &ctx, &question).await
}

async fn on_admin(bot: Bot, msg: Message, ctx: Arc<Ctx>, admin: Admin) -> HandlerResult {
    let lang = lang_of(&msg);
    let html = match admin {
        Admin::Stats => super::admin::stats(&ctx, lang).await,
        Admin::Unanswered => super::admin::unanswered(&ctx, lang).await,
        Admin::Reload => {
            let _ = bot.send_chat_action(msg.chat.id, ChatAction::Typing).await;
            ctx.reload_everywhere(lang).await
        }
        Admin::Remove(name) => return remove::on_command(&bot, &ctx, &msg, &name).await,
    };
    say(&bot, &ctx, &msg, &html).await
}

async fn on_unknown_command(bot: Bot, msg: Message, ctx: Arc<Ctx>) -> HandlerResult {
    if msg.chat.is_private() {
        say(&bot, &ctx, &msg, texts::UNKNOWN_COMMAND.get(lang_of(&msg))).await?;
    }
    Ok(())
}

/// The question in a message the bot was asked, whatever way it was asked.
pub fn question_of(text: &str, me: &Me) -> String {
    let username = commands::username(me);
    match commands::parse::<Command>(text, username) {
        Some(Ok(Command::Ask(question))) => question,
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

/// Whose conversation a message belongs to: the private chat's, or its sender's in a group.
fn conversation_key(msg: &Message) -> Key {
    // User ids are positive and the ids of the chats a message is sent as are negative:
    // the two never name the same sender.
    let sender = match Sender::of(msg) {
        Sender::User(user) => user.0 as i64,
        Sender::Chat(chat) => chat.0,
    };
    Key {
        chat: msg.chat.id.0,
        sender: (!msg.chat.is_private()).then_some(sender),
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
    render::context_of_answer(text, &marked, &engine.knowledge)
}

/// Answers a question asked in `msg`, within its sender's flood limit: read in the context
/// of the answer it replies to, or else of the conversation's last question, and remembered
/// for the next. The reply is worded in the question's language, else the asker's.
async fn ask(bot: &Bot, msg: &Message, me: &Me, ctx: &Arc<Ctx>, question: &str) -> HandlerResult {
    let user = msg.from.as_ref();
    match ctx.flood_check(Sender::of(msg)).await {
        Verdict::Pass => {}
        Verdict::Notice => {
            let lang = lang_for(question, user);
            return say(bot, ctx, msg, texts::TOO_FAST.get(lang)).await;
        }
        Verdict::Silent => return Ok(()),
    }
    let _ = bot.send_chat_action(msg.chat.id, ChatAction::Typing).await;
    let engine = ctx.engine();
    let started = Instant::now();
    let replied = replied_context(msg, me, &engine);
    let key = conversation_key(msg);
    let Some(turn) = take_turn(ctx, &engine, key, question, replied).await else {
        let lang = lang_for(question, user);
        return say(bot, ctx, msg, texts::SORRY.get(lang)).await;
    };
    let request = Request {
        engine,
        chat: msg.chat.id,
        reply_to: Some(msg.id),
        understood: turn.understood,
        rank: 1,
        origin: Origin::Reply,
        user: msg.from.as_ref().map(|u| u.id.0),
        chat_kind: chat_kind(msg),
        truncated: turn.truncated,
        lang: texts::reply_language(turn.language, app_language(user)),
    };
    show(bot, ctx, request, &turn.reply, started).await
}

/// One turn of the conversation at `key`, off the async threads (the store's calls may
/// block, and the search does): the message read in `replied`, the context of the answer it
/// replies to, or else in the store's, and what follows remembered there. `None` when the
/// search failed or panicked (logged).
async fn take_turn(
    ctx: &Arc<Ctx>,
    engine: &Arc<Engine>,
    key: Key,
    message: &str,
    replied: Option<Context>,
) -> Option<Turn> {
    let (shared, engine, message) = (Arc::clone(ctx), Arc::clone(engine), message.to_string());
    compute(ctx, move || {
        let context = replied.or_else(|| shared.context(key));
        let limits = Limits {
            question_chars: shared.max_question_chars,
            answers: 1,
        };
        let turn = conversation::turn(&engine, &message, context.as_ref(), limits)?;
        shared.remember(key, turn.context.clone());
        Ok(turn)
    })
    .await
}

/// Runs `work` (a search, a turn) off the async threads, at most `THREADS` at once: the
/// others wait here, an idle async task each, so a burst can neither crowd the cores nor
/// hold up the dispatcher or a shutdown. A failure or a panic inside is logged, and `None`
/// tells the caller to apologise.
async fn compute<T: Send + 'static>(
    ctx: &Ctx,
    work: impl FnOnce() -> Result<T, crate::retrieve::SearchError> + Send + 'static,
) -> Option<T> {
    let Ok(_permit) = ctx.answering.acquire().await else {
        return None; // Closed: the bot is stopping.
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(done)) => Some(done),
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

/// The reply to `understood` with `top` answers, computed as [`compute`] does.
async fn search(
    ctx: &Ctx,
    engine: &Arc<Engine>,
    understood: &Understood,
    top: usize,
) -> Option<Reply> {
    let (engine, understood) = (Arc::clone(engine), understood.clone());
    compute(ctx, move || answer::reply(&engine, &understood, top)).await
}

/// One answer to show: for which question, at which rank, where, and under which buttons.
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
    /// The language the answer's texts are worded in.
    lang: Lang,
}

/// Answers a request made with a button (a press does not move a conversation): the answer
/// at its rank, or an apology when the search fails.
async fn answer(bot: &Bot, ctx: &Ctx, request: Request) -> HandlerResult {
    let started = Instant::now();
    let Some(reply) = search(ctx, &request.engine, &request.understood, request.rank).await else {
        let sorry = Outgoing {
            chat: request.chat,
            html: texts::SORRY.get(request.lang).into(),
            reply_to: request.reply_to,
            keyboard: None,
        };
        send::send(bot, &ctx.pacer, sorry).await?;
        return Ok(());
    };
    show(bot, ctx, request, &reply, started).await
}

/// Shows the answer at the request's rank of `reply`, with its buttons; a question (not a
/// press of "Next match" nor a "thanks") goes on the record.
async fn show(
    bot: &Bot,
    ctx: &Ctx,
    request: Request,
    reply: &Reply,
    started: Instant,
) -> HandlerResult {
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
        lang,
    } = request;
    let answer = reply.answers.get(rank - 1);
    if rank == 1 && !matches!(understood.reading, conversation::Reading::SmallTalk(_)) {
        ctx.record.question(Asked {
            at: SystemTime::now(),
            chat_kind,
            chat: chat.0,
            user,
            // A passage shown only as the closest answered nothing: the question is kept for
            // /unanswered and `citebot report`, which tell what the knowledge lacks.
            answer: answer
                .filter(|_| reply.verdict == crate::verdict::Verdict::Answer)
                .map(|a| (a.doc.clone(), a.citation.label.clone())),
            latency: started.elapsed(),
            context: reply.understood_as.is_some(),
            verdict: reply.verdict,
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
    let messages = render::reply_html(reply, rank, &engine, example, cut_at, Offer::Buttons, lang);
    let origin = if reply.understood_as.is_some() {
        Origin::Understood
    } else {
        origin
    };
    let keyboard = match answer {
        // A summary is the document's, not an answer to weigh or page through; asked of
        // several documents without saying which, the buttons choose.
        _ if reply.kind == answer::Kind::Summary => (reply.answers.is_empty())
            .then(|| buttons::summary_keyboard(&engine, &reply.others, lang)),
        Some(a) => {
            let document = understood.hints.document;
            Some(buttons::answer_keyboard(
                &engine, reply, a.rank, origin, document, None, lang,
            ))
        }
        // Nothing related: the example questions, to show what can be asked.
        None if rank == 1
            && reply.verdict == crate::verdict::Verdict::None
            && !reply.empty_question =>
        {
            Some(buttons::examples_keyboard(&engine))
        }
        None => None,
    };
    send::send_all(bot, &ctx.pacer, chat, messages, reply_to, keyboard).await?;
    Ok(())
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
            let line = render::understood_line(text)?;
            let prior = render::passage_quoted(text, &engine.knowledge);
            Some(Understood::resolved(line, prior))
        }
    };
    understood.filter(|u| !u.question.trim().is_empty())
}

/// Answers a button press with a toast (every press gets one, or the user's client spins).
/// Before the question behind the button is known, in the presser's language.
async fn ack(bot: &Bot, q: &CallbackQuery, text: &str) -> HandlerResult {
    bot.answer_callback_query(q.id.clone())
        .text(truncate_for_toast(text))
        .await?;
    Ok(())
}

async fn on_callback(bot: Bot, q: CallbackQuery, me: Me, ctx: Arc<Ctx>) -> HandlerResult {
    let button = q.data.as_deref().and_then(Button::decode);
    let theirs = texts::reply_language(None, app_language(Some(&q.from)));
    let (Some(button), Some(message)) = (button, q.regular_message()) else {
        return ack(&bot, &q, toast::BUTTON_TOO_OLD.get(theirs)).await;
    };
    let chat = message.chat.id;
    if !ctx.allowed(chat) {
        return ack(&bot, &q, toast::NOT_THIS_CHAT.get(theirs)).await;
    }
    let engine = ctx.engine();
    if button.action == Action::Summary {
        let Some(doc) = button
            .document
            .filter(|&d| d < engine.knowledge.documents.len())
        else {
            return ack(&bot, &q, toast::BUTTON_TOO_OLD.get(theirs)).await;
        };
        ack(&bot, &q, toast::LOOKING.get(theirs)).await?;
        return Ok(summary::send(&bot, &ctx, &engine, chat, doc, theirs).await?);
    }
    let Some(mut understood) = question_behind(button.origin, message, &me, &engine) else {
        return ack(&bot, &q, toast::QUESTION_GONE.get(theirs)).await;
    };
    understood.hints.document = button.document;
    // A button acts on a question: what it shows is worded as the answer to it was, in the
    // question's language; an example question is the document's, not the presser's.
    let lang = match button.origin {
        Origin::Example { .. } => theirs,
        _ => lang_for(&understood.typed, Some(&q.from)),
    };
    let request = Request {
        engine,
        chat,
        reply_to: message.reply_to_message().map(|m| m.id),
        understood,
        rank: 1,
        origin: button.origin,
        user: Some(q.from.id.0),
        chat_kind: chat_kind(message),
        truncated: false,
        lang,
    };
    match button.action {
        Action::Ask => {
            ack(&bot, &q, toast::LOOKING.get(lang)).await?;
            // An example stands alone; the same question asked of another document replies
            // to the question, as its first answer did.
            let reply_to = match button.origin {
                Origin::Example { .. } => None,
                _ => request.reply_to,
            };
            answer(
                &bot,
                &ctx,
                Request {
                    reply_to,
                    ..request
                },
            )
            .await
        }
        Action::Next { rank } => {
            ack(&bot, &q, toast::NEXT.get(lang)).await?;
            let rank = rank + 1;
            answer(&bot, &ctx, Request { rank, ..request }).await
        }
        Action::Full { rank } => full_paragraph(&bot, &ctx, &q, message, &request, rank).await,
        Action::Vote { rank, up } => vote(&bot, &ctx, &q, message, &request, rank, up).await,
        Action::Summary => Ok(()), // Answered above: it needs no question.
    }
}

/// "Full paragraph": the whole passage of the answer at `rank`, in reply to that answer.
async fn full_paragraph(
    bot: &Bot,
    ctx: &Ctx,
    q: &CallbackQuery,
    message: &Message,
    request: &Request,
    rank: usize,
) -> HandlerResult {
    let reply = search(ctx, &request.engine, &request.understood, rank).await;
    let Some(reply) = reply else {
        return ack(bot, q, toast::ANSWER_GONE.get(request.lang)).await;
    };
    let Some(a) = reply.answers.get(rank - 1) else {
        return ack(bot, q, toast::ANSWER_GONE.get(request.lang)).await;
    };
    ack(bot, q, toast::FULL.get(request.lang)).await?;
    let messages = render::full_html(a, render::asked_in(&reply));
    send::send_all(
        bot,
        &ctx.pacer,
        request.chat,
        messages,
        Some(message.id),
        None,
    )
    .await?;
    Ok(())
}

/// A vote on the answer at `rank`: recorded, thanked for, and ticked under the answer (one
/// vote per user per answer: the other button changes it).
async fn vote(
    bot: &Bot,
    ctx: &Ctx,
    q: &CallbackQuery,
    message: &Message,
    request: &Request,
    rank: usize,
    up: bool,
) -> HandlerResult {
    let Some(reply) = search(ctx, &request.engine, &request.understood, rank).await else {
        return ack(bot, q, toast::ANSWER_GONE.get(request.lang)).await;
    };
    let answer = reply.answers.get(rank - 1);
    let passage = answer.map(|a| a.citation.label.clone());
    ctx.record.vote(Voted {
        at: SystemTime::now(),
        chat: request.chat.0,
        message: message.id.0,
        rank,
        user: q.from.id.0,
        up,
        answer: answer.map(|a| (a.doc.clone(), a.citation.label.clone())),
        verdict: reply.verdict,
        question: request.understood.question.clone(),
    });
    tracing::info!(
        vote = if up { "up" } else { "down" },
        rank,
        passage = passage.as_deref().unwrap_or("unknown"),
        "feedback"
    );
    let thanks = if up {
        toast::THANKS_UP
    } else {
        toast::THANKS_DOWN
    };
    ack(bot, q, thanks.get(request.lang)).await?;
    let keyboard = buttons::answer_keyboard(
        &request.engine,
        &reply,
        rank,
        request.origin,
        request.understood.hints.document,
        Some(up),
        request.lang,
    );
    if let Err(e) = bot
        .edit_message_reply_markup(request.chat, message.id)
        .reply_markup(keyboard)
        .await
    {
        tracing::debug!(error = %e, "could not tick the vote");
    }
    Ok(())
}

fn truncate_for_toast(text: &str) -> String {
    crate::analysis::truncate_chars(text, 200).0.to_string()
}

/// Inline results for a query: the top passages, each sending its excerpt and citation.
pub fn inline_results(reply: &Reply) -> Vec<InlineQueryResult> {
    let asked = render::asked_in(reply);
    reply
        .answers
        .iter()
        .map(|a| {
            let html = render::answer_html(a, asked)
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
        match search(&ctx, &ctx.engine(), &Understood::standalone(query), 5).await {
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
