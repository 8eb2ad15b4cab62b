//! Documents sent to the bot: an admin's file (or link) in a private chat is read, added to
//! the knowledge folder and answered from after a reload; anyone else's is not downloaded.

use std::sync::Arc;

use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::Document;

use super::ctx::Ctx;
use super::send::{self, Outgoing};
use crate::intake::{self, Added, Fields};
use crate::lang::Lang;
use crate::texts;

/// The largest file the Bot API lets a bot download.
pub const MAX_DOWNLOAD_BYTES: u64 = 20 * 1024 * 1024;

/// A file in a private chat: added when an admin sent it, politely refused otherwise.
pub async fn on_document(bot: Bot, msg: Message, ctx: Arc<Ctx>) -> HandlerResult {
    let lang = lang_of(&msg);
    let Some(document) = msg.document() else {
        return Ok(());
    };
    if !ctx.is_admin(msg.from.as_ref()) {
        return say(&bot, &ctx, &msg, texts::UPLOAD_NOT_ALLOWED.get(lang)).await;
    }
    let name = document
        .file_name
        .clone()
        .unwrap_or_else(|| "document".to_string());
    if u64::from(document.file.size) > MAX_DOWNLOAD_BYTES {
        return say(&bot, &ctx, &msg, &texts::upload_too_large(&name, lang)).await;
    }
    let bytes = match download(&bot, document).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!(error = %e, file = %name, "could not download a document");
            return say(&bot, &ctx, &msg, &texts::upload_failed(&name, "", lang)).await;
        }
    };
    add_and_reload(&bot, &ctx, &msg, name, bytes, Fields::default(), lang).await
}

/// A link an admin sent alone in a private chat: the page (or file) it points to is added.
pub async fn on_link(bot: Bot, msg: Message, ctx: Arc<Ctx>) -> HandlerResult {
    let lang = lang_of(&msg);
    let Some(url) = msg.text().map(str::trim) else {
        return Ok(());
    };
    let Some(options) = ctx.reload_from.as_ref() else {
        return say(&bot, &ctx, &msg, texts::RELOAD_UNAVAILABLE.get(lang)).await;
    };
    let max_bytes = options.max_document_mb.saturating_mul(1_000_000);
    let (name, bytes) = match intake::fetch(url, max_bytes).await {
        Ok(fetched) => fetched,
        Err(e) => {
            return say(
                &bot,
                &ctx,
                &msg,
                &texts::upload_failed(url, &e.to_string(), lang),
            )
            .await
        }
    };
    let fields = Fields {
        url: Some(url.to_string()),
        ..Fields::default()
    };
    add_and_reload(&bot, &ctx, &msg, name, bytes, fields, lang).await
}

/// Whether `msg` is only a link (an admin's document to add, not a question).
pub fn is_a_link(msg: &Message) -> bool {
    msg.text().map(str::trim).is_some_and(|t| {
        (t.starts_with("https://") || t.starts_with("http://"))
            && !t.contains(char::is_whitespace)
            && url::Url::parse(t).is_ok()
    })
}

async fn download(bot: &Bot, document: &Document) -> Result<Vec<u8>, HandlerErrorBox> {
    let file = bot.get_file(document.file.id.clone()).await?;
    let mut bytes: Vec<u8> = Vec::new();
    bot.download_file(&file.path, &mut bytes).await?;
    Ok(bytes)
}

type HandlerErrorBox = Box<dyn std::error::Error + Send + Sync>;
type HandlerResult = Result<(), HandlerErrorBox>;

/// Whether `msg` is a file sent in a private chat the bot answers in.
pub fn is_a_file(msg: &Message, ctx: &Ctx) -> bool {
    msg.chat.is_private() && msg.document().is_some() && ctx.allowed(msg.chat.id)
}

/// Whether `msg` is an admin's link, alone in a private chat: a document to add.
pub fn is_an_admins_link(msg: &Message, ctx: &Ctx) -> bool {
    msg.chat.is_private() && ctx.is_admin(msg.from.as_ref()) && is_a_link(msg)
}

/// The language to answer in: the sender's app's (a file says nothing of its own).
fn lang_of(msg: &Message) -> Lang {
    texts::reply_language(
        None,
        msg.from.as_ref().and_then(|u| u.language_code.as_deref()),
    )
}

async fn say(bot: &Bot, ctx: &Ctx, msg: &Message, html: &str) -> HandlerResult {
    let out = Outgoing::new(msg.chat.id, html.to_string()).reply_to(msg.id);
    send::send(bot, &ctx.pacer, out).await?;
    Ok(())
}

/// Adds the file to the knowledge folder the bot reloads from, shares it with the other
/// replicas, reloads them all, and says what was added; a file that cannot be read gets its
/// reason, and nothing changes.
async fn add_and_reload(
    bot: &Bot,
    ctx: &Ctx,
    msg: &Message,
    name: String,
    bytes: Vec<u8>,
    fields: Fields,
    lang: Lang,
) -> HandlerResult {
    let Some(options) = ctx.reload_from.clone() else {
        return say(bot, ctx, msg, texts::RELOAD_UNAVAILABLE.get(lang)).await;
    };
    let shown_name = intake::file_name(&name);
    let added = tokio::task::spawn_blocking(move || {
        intake::add(
            &options.knowledge_dir,
            &name,
            &bytes,
            &fields,
            options.max_document_mb,
        )
    })
    .await;
    let added: Added = match added {
        Ok(Ok(added)) => added,
        Ok(Err(e)) => {
            tracing::info!(file = %shown_name, reason = %e, "a document sent was not added");
            return say(
                bot,
                ctx,
                msg,
                &texts::upload_failed(&shown_name, &e.to_string(), lang),
            )
            .await;
        }
        Err(e) => {
            tracing::error!(error = %e, file = %shown_name, "adding a document panicked");
            return say(bot, ctx, msg, texts::SORRY.get(lang)).await;
        }
    };
    tracing::info!(file = %added.path.display(), paragraphs = added.paragraphs, "document added");
    ctx.share_files(shared_names(&added.path), false).await;
    let reloaded = ctx.reload_everywhere(lang).await;
    let html = format!("{}\n\n{reloaded}", texts::added(&added, lang));
    say(bot, ctx, msg, &html).await
}

/// The names of a document just added and of its `NAME.toml`, when it has one.
fn shared_names(path: &std::path::Path) -> Vec<String> {
    let sidecar = crate::knowledge::sidecar(path);
    std::iter::once(path)
        .chain(sidecar.exists().then_some(sidecar.as_path()))
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect()
}
