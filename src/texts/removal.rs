//! What the bot says about removing a document (`/remove`, an admin's): the list to choose
//! from, the question before anything is deleted, and what came of it.

use super::{quoted, ru_plural, Text};
use crate::html::escape;
use crate::lang::Lang;

pub const REMOVE_CHOOSE: Text = Text {
    en: "Which document shall I remove? Nothing is removed until you confirm.",
    ru: "Какой документ удалить? Без подтверждения ничего не удаляется.",
};
pub const REMOVE_NONE: Text = Text {
    en: "There are no documents to remove.",
    ru: "Удалять нечего: документов нет.",
};
pub const REMOVE_CANCELLED: Text = Text {
    en: "Cancelled: nothing was removed.",
    ru: "Отменено: ничего не удалено.",
};
pub const REMOVE_STALE: Text = Text {
    en: "That document is no longer in the knowledge folder (removed already?). Send /remove to see what there is.",
    ru: "Этого документа уже нет в папке знаний (его уже удалили?). Отправьте /remove, чтобы увидеть, что есть.",
};
/// The buttons under the question.
pub const REMOVE_YES: Text = Text {
    en: "🗑 Yes, remove it",
    ru: "🗑 Да, удалить",
};
pub const REMOVE_CANCEL: Text = Text {
    en: "Cancel",
    ru: "Отмена",
};
/// Toasts.
pub const REMOVING: Text = Text {
    en: "Removing…",
    ru: "Удаляю…",
};
pub const ADMINS_ONLY: Text = Text {
    en: "Only the bot's admins can do this.",
    ru: "Это могут только администраторы бота.",
};

/// A document as the list and the question name it: its title quoted, its file as code.
fn named(title: &str, file: &str, lang: Lang) -> (String, String) {
    (
        quoted(&escape(title), lang),
        format!("<code>{}</code>", escape(file)),
    )
}

/// The list above the buttons: each document, numbered as /about numbers them.
pub fn remove_list(documents: &[(String, String)], lang: Lang) -> String {
    let mut s = REMOVE_CHOOSE.get(lang).to_string();
    for (n, (title, file)) in documents.iter().enumerate() {
        let (title, file) = named(title, file, lang);
        s.push_str(&format!("\n{}. {title} ({file})", n + 1));
    }
    s
}

/// The label of a document's button in the list, its title cut to fit.
pub fn remove_button(n: usize, title: &str) -> String {
    let (short, cut) = crate::analysis::truncate_chars(title, 40);
    format!("{n}. {short}{}", if cut { "…" } else { "" })
}

/// `/remove NAME` named no document.
pub fn remove_unknown(name: &str, lang: Lang) -> String {
    let name = escape(name);
    match lang {
        Lang::En => format!(
            "I have no document <code>{name}</code>. Send /remove alone to choose from the list."
        ),
        Lang::Ru => format!(
            "Документа <code>{name}</code> у меня нет. Отправьте /remove без слов, чтобы выбрать из списка."
        ),
    }
}

/// The question before a document is removed.
pub fn remove_confirm(title: &str, file: &str, passages: usize, lang: Lang) -> String {
    let (title, file) = named(title, file, lang);
    match lang {
        Lang::En => format!(
            "Remove {title} ({file}, {passages} {})?",
            if passages == 1 { "passage" } else { "passages" }
        ),
        Lang::Ru => format!(
            "Удалить {title} ({file}, {passages} {})?",
            ru_plural(passages, "фрагмент", "фрагмента", "фрагментов")
        ),
    }
}

/// The one document left is not removed: without it the bot would have nothing to answer
/// from (an empty knowledge folder does not load).
pub fn remove_last(title: &str, lang: Lang) -> String {
    let title = quoted(&escape(title), lang);
    match lang {
        Lang::En => format!(
            "{title} is my only document: without it I would have nothing to answer from. Add another one first, then remove this one."
        ),
        Lang::Ru => format!(
            "{title} — мой единственный документ: без него мне не из чего отвечать. Сначала добавьте другой, потом удалите этот."
        ),
    }
}

/// What was removed (the document's file, and its `NAME.toml`), and how many documents
/// remain.
pub fn removed(title: &str, files: &[String], remaining: usize, lang: Lang) -> String {
    let title = quoted(&escape(title), lang);
    let files: Vec<String> = files
        .iter()
        .map(|f| format!("<code>{}</code>", escape(f)))
        .collect();
    let files = files.join(", ");
    match lang {
        Lang::En => format!(
            "Removed {title} ({files}). {remaining} {} {}.",
            if remaining == 1 {
                "document"
            } else {
                "documents"
            },
            if remaining == 1 { "remains" } else { "remain" }
        ),
        Lang::Ru => format!(
            "Удалён документ {title} ({files}). {} {remaining} {}.",
            if remaining % 10 == 1 && remaining % 100 != 11 {
                "Остался"
            } else {
                "Осталось"
            },
            ru_plural(remaining, "документ", "документа", "документов")
        ),
    }
}

/// The files could not be deleted: nothing changed.
pub fn remove_failed(reason: &str, lang: Lang) -> String {
    let reason = escape(reason);
    match lang {
        Lang::En => format!("Could not remove it, nothing changed:\n<code>{reason}</code>"),
        Lang::Ru => format!("Удалить не удалось, ничего не изменилось:\n<code>{reason}</code>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_right_in_both_languages() {
        let files = ["bees.txt".to_string(), "bees.toml".to_string()];
        assert_eq!(
            removed("Bees & Winter", &files, 1, Lang::En),
            "Removed “Bees &amp; Winter” (<code>bees.txt</code>, <code>bees.toml</code>). 1 document remains."
        );
        assert!(removed("B", &files[..1], 2, Lang::En).ends_with("2 documents remain."));
        assert!(removed("B", &files[..1], 1, Lang::Ru).ends_with("Остался 1 документ."));
        assert!(removed("B", &files[..1], 3, Lang::Ru).ends_with("Осталось 3 документа."));
        assert!(removed("B", &files[..1], 11, Lang::Ru).ends_with("Осталось 11 документов."));
        assert_eq!(
            remove_confirm("Bees", "bees.txt", 6, Lang::En),
            "Remove “Bees” (<code>bees.txt</code>, 6 passages)?"
        );
        assert_eq!(
            remove_confirm("Пчёлы", "bees.txt", 21, Lang::Ru),
            "Удалить «Пчёлы» (<code>bees.txt</code>, 21 фрагмент)?"
        );
        assert_eq!(
            remove_button(2, &"Long title ".repeat(10)),
            format!("2. {}…", &"Long title ".repeat(10)[..40])
        );
    }
}
