//! /about and /summary: the documents citebot answers from, and each one in short (its key
//! sentences, cited), by command or by the button under /about.

use teloxide::prelude::*;
use teloxide::RequestError;

use super::buttons;
use super::ctx::Ctx;
use super::send::{self, Outgoing};
use crate::answer;
use crate::engine::Engine;
use crate::lang::Lang;
use crate::render;
use crate::texts::{self, Offer};

/// /about: the documents, with a button under it to sum up each.
pub async fn about(bot: &Bot, ctx: &Ctx, chat: ChatId, lang: Lang) -> Result<(), RequestError> {
    let engine = ctx.engine();
    let docs: Vec<usize> = (0..engine.knowledge.documents.len()).collect();
    let about = Outgoing::new(chat, texts::about(&engine, lang))
        .keyboard(buttons::summary_keyboard(&engine, &docs, lang));
    send::send(bot, &ctx.pacer, about).await?;
    Ok(())
}

/// /summary [document]: the summary of the one document, or of the one `name` names; with
/// several and none named, a button for each.
pub async fn summary(
    bot: &Bot,
    ctx: &Ctx,
    chat: ChatId,
    name: &str,
    lang: Lang,
) -> Result<(), RequestError> {
    let engine = ctx.engine();
    let documents = engine.knowledge.documents.len();
    let doc = match documents {
        1 => Some(0),
        _ => engine.catalog.named_in(name),
    };
    let Some(doc) = doc else {
        let docs: Vec<usize> = (0..documents).collect();
        let choose = Outgoing::new(chat, texts::which_document(&engine, &docs, lang))
            .keyboard(buttons::summary_keyboard(&engine, &docs, lang));
        send::send(bot, &ctx.pacer, choose).await?;
        return Ok(());
    };
    send(bot, ctx, &engine, chat, doc, lang).await
}

/// Sends document `doc`'s summary to `chat`.
pub async fn send(
    bot: &Bot,
    ctx: &Ctx,
    engine: &Engine,
    chat: ChatId,
    doc: usize,
    lang: Lang,
) -> Result<(), RequestError> {
    let reply = answer::summary_reply(engine, doc, "/summary");
    let messages = render::reply_html(&reply, 1, engine, None, None, Offer::Buttons, lang);
    send::send_all(bot, &ctx.pacer, chat, messages, None, None).await?;
    Ok(())
}
