//! `/remove` (admins): a document taken out of the knowledge folder, after a button confirms
//! it. `/remove` alone lists the documents as buttons; `/remove NAME` or `/remove 2` (as
//! /about numbers them) asks at once. "Yes" deletes the file and its `NAME.toml`, and
//! reloads as /reload does, on every replica.
//!
//! The bot keeps no state between updates (replicas share none), so a button names its
//! document itself: by a short hash of its file name, never by its place in the list, which
//! shifts when a document goes; a stale "Yes" must not remove the one that moved into the
//! place. At each press the document is looked for again, in the knowledge now and on disk.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use teloxide::payloads::{AnswerCallbackQuerySetters, EditMessageTextSetters};
use teloxide::prelude::*;
use teloxide::types::{ChatAction, InlineKeyboardButton, InlineKeyboardMarkup, ParseMode};

use super::ctx::Ctx;
use super::send::{self, no_preview, Outgoing};
use crate::engine::Engine;
use crate::knowledge::{self, Document};
use crate::lang::Lang;
use crate::texts;

type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A press of one of /remove's buttons, as its callback data says: `rm:c:KEY` chose a
/// document from the list, `rm:y:KEY` confirms its removal, `rm:n` cancels. At most 21
/// bytes, far under Telegram's 64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Press {
    Choose(String),
    Confirm(String),
    Cancel,
}

/// Hex digits of a document's key: 64 bits of its file name's hash, so that two documents
/// of one folder never share one.
const KEY_LEN: usize = 16;

impl Press {
    pub fn encode(&self) -> String {
        match self {
            Press::Choose(key) => format!("rm:c:{key}"),
            Press::Confirm(key) => format!("rm:y:{key}"),
            Press::Cancel => "rm:n".to_string(),
        }
    }

    /// `None` for anything else: another button's data, or a forged one.
    pub fn decode(data: &str) -> Option<Press> {
        let rest = data.strip_prefix("rm:")?;
        if rest == "n" {
            return Some(Press::Cancel);
        }
        let (kind, key) = rest.split_once(':')?;
        if key.len() != KEY_LEN || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        match kind {
            "c" => Some(Press::Choose(key.to_string())),
            "y" => Some(Press::Confirm(key.to_string())),
            _ => None,
        }
    }
}

/// The file name of a document, as the admin knows it.
fn file_name(doc: &Document) -> String {
    doc.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| doc.id.clone())
}

/// A document's key in callback data: the start of its file name's SHA-256, in hex. The
/// file name, not the path, so that replicas with the folder mounted elsewhere agree.
pub fn key_of(doc: &Document) -> String {
    let hash = Sha256::digest(file_name(doc).as_bytes());
    hash.iter()
        .take(KEY_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The document `key` names, if the knowledge still has it and its file is still there.
fn find(engine: &Engine, key: &str) -> Option<usize> {
    engine
        .knowledge
        .documents
        .iter()
        .position(|d| key_of(d) == key)
        .filter(|&doc| engine.knowledge.documents[doc].path.is_file())
}

/// The document `name` names: its number in /about's list, its file name (with or without
/// its extension) or its title, in any case; else the one the words of `name` name, as
/// /summary reads them. The confirmation shows which it is before anything is removed.
fn resolve(engine: &Engine, name: &str) -> Option<usize> {
    let docs = &engine.knowledge.documents;
    let name = name
        .trim()
        .trim_matches(['"', '\'', '«', '»', '“', '”'])
        .trim();
    if let Ok(n) = name.parse::<usize>() {
        return (1..=docs.len()).contains(&n).then(|| n - 1);
    }
    let lower = name.to_lowercase();
    docs.iter()
        .position(|d| {
            [file_name(d), d.id.clone(), d.meta.title.clone()]
                .iter()
                .any(|n| n.to_lowercase() == lower)
        })
        .or_else(|| engine.catalog.named_in(name))
}

/// The language to answer an admin in: their app's (a command says nothing of its own).
fn lang_of(user: Option<&teloxide::types::User>) -> Lang {
    texts::reply_language(None, user.and_then(|u| u.language_code.as_deref()))
}

/// `/remove [NAME]`, an admin's (the handler tree lets no one else's through).
pub async fn on_command(bot: &Bot, ctx: &Ctx, msg: &Message, name: &str) -> HandlerResult {
    let lang = lang_of(msg.from.as_ref());
    let engine = ctx.engine();
    let out = |html: String| Outgoing::new(msg.chat.id, html).reply_to(msg.id);
    let reply = if ctx.reload_from.is_none() {
        out(texts::RELOAD_UNAVAILABLE.get(lang).to_string())
    } else if engine.knowledge.documents.is_empty() {
        out(texts::REMOVE_NONE.get(lang).to_string())
    } else if name.trim().is_empty() {
        let (html, keyboard) = list(&engine, lang);
        out(html).keyboard(keyboard)
    } else {
        match resolve(&engine, name) {
            Some(doc) => confirmation(&engine, doc, out(String::new()), lang),
            None => out(texts::remove_unknown(name.trim(), lang)),
        }
    };
    send::send(bot, &ctx.pacer, reply).await?;
    Ok(())
}

/// The documents, numbered as /about numbers them, and a button for each.
fn list(engine: &Engine, lang: Lang) -> (String, InlineKeyboardMarkup) {
    let docs = &engine.knowledge.documents;
    let named: Vec<(String, String)> = docs
        .iter()
        .map(|d| (d.meta.title.clone(), file_name(d)))
        .collect();
    let rows = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            vec![InlineKeyboardButton::callback(
                texts::remove_button(i + 1, &d.meta.title),
                Press::Choose(key_of(d)).encode(),
            )]
        })
        .collect::<Vec<_>>();
    (
        texts::remove_list(&named, lang),
        InlineKeyboardMarkup::new(rows),
    )
}

/// `out` asking whether to remove document `doc`, under Yes and Cancel; or, when it is the
/// only one, saying it stays.
fn confirmation(engine: &Engine, doc: usize, out: Outgoing, lang: Lang) -> Outgoing {
    let d = &engine.knowledge.documents[doc];
    if engine.knowledge.documents.len() < 2 {
        return Outgoing {
            html: texts::remove_last(&d.meta.title, lang),
            ..out
        };
    }
    let passages = engine.knowledge.passage_ids_of(doc).len();
    let keyboard = InlineKeyboardMarkup::new(vec![vec![
        InlineKeyboardButton::callback(
            texts::REMOVE_YES.get(lang),
            Press::Confirm(key_of(d)).encode(),
        ),
        InlineKeyboardButton::callback(texts::REMOVE_CANCEL.get(lang), Press::Cancel.encode()),
    ]]);
    Outgoing {
        html: texts::remove_confirm(&d.meta.title, &file_name(d), passages, lang),
        ..out
    }
    .keyboard(keyboard)
}

/// A press of one of /remove's buttons. Only an admin's counts (in a group anyone may press
/// it); every press gets a toast.
pub async fn on_press(bot: Bot, q: CallbackQuery, ctx: Arc<Ctx>, press: Press) -> HandlerResult {
    let lang = lang_of(Some(&q.from));
    let toast = |text: &'static str| {
        let (bot, id) = (bot.clone(), q.id.clone());
        async move { bot.answer_callback_query(id).text(text).await }
    };
    let Some(message) = q.regular_message() else {
        toast(texts::toast::BUTTON_TOO_OLD.get(lang)).await?;
        return Ok(());
    };
    if !ctx.allowed(message.chat.id) {
        toast(texts::toast::NOT_THIS_CHAT.get(lang)).await?;
        return Ok(());
    }
    if !ctx.is_admin(Some(&q.from)) {
        toast(texts::ADMINS_ONLY.get(lang)).await?;
        return Ok(());
    }
    let engine = ctx.engine();
    match press {
        Press::Cancel => {
            toast(texts::REMOVE_CANCELLED.get(lang)).await?;
            replace(&bot, &ctx, message, texts::REMOVE_CANCELLED.get(lang)).await
        }
        Press::Choose(key) => {
            toast(texts::toast::LOOKING.get(lang)).await?;
            let out = Outgoing::new(message.chat.id, String::new());
            let out = match find(&engine, &key) {
                Some(doc) => confirmation(&engine, doc, out, lang),
                None => Outgoing {
                    html: texts::REMOVE_STALE.get(lang).to_string(),
                    ..out
                },
            };
            send::send(&bot, &ctx.pacer, out).await?;
            Ok(())
        }
        Press::Confirm(key) => {
            toast(texts::REMOVING.get(lang)).await?;
            let _ = bot
                .send_chat_action(message.chat.id, ChatAction::Typing)
                .await;
            let said = remove(&ctx, &engine, &key, lang).await;
            replace(&bot, &ctx, message, &said).await
        }
    }
}

/// Removes the document `key` names, when it is still there and not the last one, and
/// reloads; what to tell the admin.
async fn remove(ctx: &Ctx, engine: &Engine, key: &str, lang: Lang) -> String {
    let Some(doc) = find(engine, key) else {
        return texts::REMOVE_STALE.get(lang).to_string();
    };
    let documents = &engine.knowledge.documents;
    let d = &documents[doc];
    if documents.len() < 2 {
        return texts::remove_last(&d.meta.title, lang);
    }
    // A `NAME.toml` that another document shares (`NAME.pdf` beside `NAME.html`) stays.
    let sidecar = knowledge::sidecar(&d.path);
    let shared = documents
        .iter()
        .enumerate()
        .any(|(i, other)| i != doc && knowledge::sidecar(&other.path) == sidecar);
    let path = d.path.clone();
    let deleted =
        tokio::task::spawn_blocking(move || delete(&path, (!shared).then_some(sidecar))).await;
    let files = match deleted {
        Ok(Ok(files)) => files,
        // Gone between the look and the deletion: another admin was quicker.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return texts::REMOVE_STALE.get(lang).to_string()
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, file = %d.path.display(), "could not remove a document");
            return texts::remove_failed(&e.to_string(), lang);
        }
        Err(e) => {
            tracing::error!(error = %e, "removing a document panicked");
            return texts::SORRY.get(lang).to_string();
        }
    };
    tracing::info!(file = %d.path.display(), "document removed");
    ctx.share_files(files.clone(), true).await;
    let reloaded = ctx.reload_everywhere(lang).await;
    let said = texts::removed(&d.meta.title, &files, documents.len() - 1, lang);
    format!("{said}\n\n{reloaded}")
}

/// Deletes the document's file, then its `NAME.toml` if given and there; the names of the
/// files deleted. A sidecar that cannot be deleted is only logged: without its document it
/// is read by nothing.
fn delete(path: &Path, sidecar: Option<PathBuf>) -> std::io::Result<Vec<String>> {
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    std::fs::remove_file(path)?;
    let mut deleted = vec![name(path)];
    if let Some(sidecar) = sidecar {
        match std::fs::remove_file(&sidecar) {
            Ok(()) => deleted.push(name(&sidecar)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(error = %e, file = %sidecar.display(), "could not remove a sidecar")
            }
        }
    }
    Ok(deleted)
}

/// Puts `html` in place of the confirmation (its buttons go with it, so it cannot be
/// pressed twice); a message that cannot be edited any more gets `html` as a new one.
async fn replace(bot: &Bot, ctx: &Ctx, message: &Message, html: &str) -> HandlerResult {
    let edited = bot
        .edit_message_text(message.chat.id, message.id, html)
        .parse_mode(ParseMode::Html)
        .link_preview_options(no_preview())
        .await;
    if let Err(e) = edited {
        tracing::debug!(error = %e, "could not edit the confirmation; sending the result");
        send::send(bot, &ctx.pacer, Outgoing::new(message.chat.id, html)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presses_round_trip_within_64_bytes_and_forgeries_are_refused() {
        let key = "0123456789abcdef".to_string();
        for press in [
            Press::Choose(key.clone()),
            Press::Confirm(key.clone()),
            Press::Cancel,
        ] {
            let data = press.encode();
            assert!(data.len() <= super::super::buttons::MAX_CALLBACK_DATA);
            assert_eq!(Press::decode(&data), Some(press), "{data}");
        }
        for bad in [
            "",
            "rm",
            "rm:",
            "rm:y",
            "rm:y:",
            "rm:y:0123",
            "rm:y:0123456789abcdeg",
            "rm:y:0123456789abcdef0",
            "rm:x:0123456789abcdef",
            "rm:n:0123456789abcdef",
            "a:0:r",
        ] {
            assert_eq!(Press::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn documents_are_named_by_number_file_or_title_and_keyed_by_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "knowledge/russias-afghanistan-strategy.txt",
            "tests/data/library/honeybees-in-winter.txt",
        ] {
            let from = root.join(file);
            std::fs::copy(&from, dir.path().join(from.file_name().unwrap())).unwrap();
        }
        let engine = Engine::load(&crate::Options::lexical(dir.path())).unwrap();
        let bees = engine
            .knowledge
            .documents
            .iter()
            .position(|d| d.id == "honeybees-in-winter")
            .unwrap();
        for name in [
            &(bees + 1).to_string(),
            "honeybees-in-winter.txt",
            "HONEYBEES-IN-WINTER",
            "«How Honeybees Survive the Winter»",
            "the honeybees piece",
        ] {
            assert_eq!(resolve(&engine, name), Some(bees), "{name}");
        }
        assert_eq!(resolve(&engine, "3"), None);
        assert_eq!(resolve(&engine, "0"), None);
        assert_eq!(resolve(&engine, "giraffes"), None);
        let key = key_of(&engine.knowledge.documents[bees]);
        assert_eq!(key.len(), KEY_LEN);
        assert_eq!(find(&engine, &key), Some(bees));
        std::fs::remove_file(dir.path().join("honeybees-in-winter.txt")).unwrap();
        assert_eq!(find(&engine, &key), None, "its file is gone");
    }
}
