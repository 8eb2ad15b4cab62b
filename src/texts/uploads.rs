//! What the bot says about a document sent to it: added, refused, or not readable.

use super::{quoted, Text};
use crate::html::escape;
use crate::lang::Lang;

pub const UPLOAD_NOT_ALLOWED: Text = Text {
    en: "Only the bot's admins can add documents. Ask me a question about the ones I have instead: /about lists them.",
    ru: "Добавлять документы могут только администраторы бота. Задайте вопрос по тем, что уже есть: их список — /about.",
};

/// A file over what the Bot API lets a bot download.
pub fn upload_too_large(name: &str, lang: Lang) -> String {
    let name = escape(name);
    match lang {
        Lang::En => format!(
            "<code>{name}</code> is over 20 MB, more than Telegram lets a bot download. Put it into the knowledge folder on the server (<code>citebot add</code>), or send a link to it."
        ),
        Lang::Ru => format!(
            "<code>{name}</code> больше 20 МБ — столько Telegram боту скачать не даёт. Положите его в папку знаний на сервере (<code>citebot add</code>) или пришлите ссылку."
        ),
    }
}

/// A file or link that could not be added, with the reason (empty: the download failed).
pub fn upload_failed(name: &str, reason: &str, lang: Lang) -> String {
    let (name, reason) = (escape(name), escape(reason));
    match (lang, reason.is_empty()) {
        (Lang::En, true) => {
            format!("I could not download <code>{name}</code>; please send it again.")
        }
        (Lang::Ru, true) => {
            format!("Не удалось скачать <code>{name}</code>; пришлите его ещё раз.")
        }
        (Lang::En, false) => format!("Not added, nothing changed:\n<code>{reason}</code>"),
        (Lang::Ru, false) => format!("Не добавлено, ничего не изменилось:\n<code>{reason}</code>"),
    }
}

/// What was found in a document just added, and a question to try it with.
pub fn added(a: &crate::intake::Added, lang: Lang) -> String {
    let by: Vec<String> = [a.author.as_deref(), a.date.as_deref()]
        .into_iter()
        .flatten()
        .map(escape)
        .collect();
    let by = if by.is_empty() {
        String::new()
    } else {
        format!(" ({})", by.join(", "))
    };
    let title = quoted(&escape(&a.title), lang);
    let example = escape(&a.example);
    match lang {
        Lang::En => format!(
            "Added {title}{by}: {} {}.\nTry: <i>{example}</i>",
            a.paragraphs,
            if a.paragraphs == 1 {
                "paragraph"
            } else {
                "paragraphs"
            }
        ),
        Lang::Ru => format!(
            "Добавлен документ {title}{by}: абзацев — {}.\nСпросите: <i>{example}</i>",
            a.paragraphs
        ),
    }
}
