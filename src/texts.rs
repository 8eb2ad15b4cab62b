//! Everything citebot says to a person, in one place and in every language it speaks: the
//! bot's messages and button toasts, its command descriptions, and the terminal chat's lines,
//! which are the same texts without tags.
//!
//! Texts are Telegram HTML (`&`, `<`, `>` escaped; `<b>`, `<i>`, `<code>`, `<a>`); the
//! terminal shows them through [`crate::html::html_to_plain`]. A fixed text is a [`Text`],
//! one field per language; a text with parts to fill in is a function taking a [`Lang`] and
//! matching on it. Either way a language left out does not compile, and each text's versions
//! sit side by side.
//!
//! Which language a reply is worded in is [`reply_language`]'s to say. The quotes themselves
//! stay in their document's language, and citations as their documents give them.

use crate::engine::Engine;
use crate::html::escape;
use crate::lang::Lang;

mod removal;
mod replies;
mod uploads;
pub use removal::{
    remove_button, remove_confirm, remove_failed, remove_last, remove_list, remove_unknown,
    removed, ADMINS_ONLY, REMOVE_CANCEL, REMOVE_CANCELLED, REMOVE_CHOOSE, REMOVE_NONE,
    REMOVE_STALE, REMOVE_YES, REMOVING,
};
pub use replies::{closest, no_answer, summary_head, which_document};
pub use uploads::{added, upload_failed, upload_too_large, UPLOAD_NOT_ALLOWED};

/// A fixed text, in each language citebot speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub en: &'static str,
    pub ru: &'static str,
}

impl Text {
    /// The text in `lang`.
    pub const fn get(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Ru => self.ru,
        }
    }
}

/// The language to reply in: the message's own (`asked`, `None` when it has no letters),
/// else the user's (Telegram's `language_code`, "ru", "en-US"; the terminal's locale), else
/// English. A message that is no question (/start, a button, a sticker) has no language of
/// its own: the user's decides.
pub fn reply_language(asked: Option<Lang>, user: Option<&str>) -> Lang {
    asked
        .or_else(|| user.and_then(Lang::from_code))
        .unwrap_or_default()
}

/// Russian nouns after a number take one of three forms: 1, 21 *документ*; 2–4, 22
/// *документа*; 5–20, 25 *документов*.
fn ru_plural(n: usize, one: &'static str, few: &'static str, many: &'static str) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=14) => many,
        (1, _) => one,
        (2..=4, _) => few,
        _ => many,
    }
}

/// A title in quotation marks, as each language sets them: “Title”, «Title».
fn quoted(title: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("“{title}”"),
        Lang::Ru => format!("«{title}»"),
    }
}

/// How to use the commands, for /help and the terminal chat's `/help`: the list comes from
/// the command enum, so it never disagrees with the menu Telegram shows.
pub fn help(commands: &[(String, String)], lang: Lang) -> String {
    let mut list = String::new();
    for (name, description) in commands {
        list.push_str(&format!("/{name} — {}\n", escape(description)));
    }
    let minutes = crate::config::DEFAULT_CONTEXT_TTL.as_secs() / 60;
    match lang {
        Lang::En => format!(
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
             I answer in the language you ask in; quotes stay in the language of their document. \
             You can also type @ and my name in any chat to quote the article there."
        ),
        Lang::Ru => format!(
            "<b>Как спрашивать</b>\n\
             Напишите вопрос обычными словами, например: <i>Что Сергей Лавров сказал о стратегии США?</i> \
             Потом можно уточнять: <i>Почему?</i>, <i>А Китай?</i>, <i>Что он назвал тупиком?</i> — \
             в течение {minutes} минут такие вопросы я читаю как продолжение предыдущего. Ответьте \
             на мой ответ, чтобы спросить именно о нём. В группе пишите /ask, упомяните меня или \
             ответьте на моё сообщение.\n\n\
             <b>Команды</b>\n{list}\n\
             <b>Кнопки под ответом</b>\n\
             Весь абзац — весь абзац, из которого взята цитата\n\
             Следующее совпадение — следующий подходящий фрагмент\n\
             👍 / 👎 — помог ли ответ (нажмите другую кнопку, чтобы изменить оценку)\n\
             📄 <i>название</i> — если документов несколько, тот же вопрос к этому документу\n\n\
             <b>Советы</b>\n\
             Называйте имена и ключевые слова темы: людей, места, события. \
             Если в статье нет ответа, я так и скажу, а не стану гадать. \
             Отвечаю на языке вопроса, а цитаты привожу на языке документа: если языки разные, \
             жирным выделены предложения, которые отвечают на вопрос. \
             Можно также набрать @ и моё имя в любом чате, чтобы процитировать статью там."
        ),
    }
}

/// What a command does, for the menu Telegram clients show and for /help (names as the
/// command enums spell them, without the slash).
pub fn command_description(name: &str, lang: Lang) -> &'static str {
    let text = match name {
        "ask" => Text {
            en: "Ask a question about the article",
            ru: "Задать вопрос о статье",
        },
        "summary" => Text {
            en: "The article in short: its key sentences, cited",
            ru: "Статья вкратце: её главные фразы со ссылками",
        },
        "new" => Text {
            en: "Start a new conversation: forget the last question",
            ru: "Новый разговор: забыть прошлый вопрос",
        },
        "help" => Text {
            en: "How to ask, and what the buttons do",
            ru: "Как спрашивать и что делают кнопки",
        },
        "about" => Text {
            en: "The documents I answer from",
            ru: "Документы, по которым я отвечаю",
        },
        "start" => Text {
            en: "Start over",
            ru: "Начать сначала",
        },
        "stats" => Text {
            en: "Admin: questions and answers of the last 7 days",
            ru: "Админ: вопросы и ответы за 7 дней",
        },
        "unanswered" => Text {
            en: "Admin: the last 10 questions nothing answered",
            ru: "Админ: последние 10 вопросов без ответа",
        },
        "reload" => Text {
            en: "Admin: re-read knowledge/ and swap it in",
            ru: "Админ: перечитать папку knowledge/",
        },
        "remove" => Text {
            en: "Admin: remove a document from knowledge/ (asks first)",
            ru: "Админ: удалить документ из knowledge/ (с подтверждением)",
        },
        _ => return "",
    };
    text.get(lang)
}

/// The button under /about that sums up the one document.
pub const SUMMARY_BUTTON: Text = Text {
    en: "📄 Summary",
    ru: "📄 Кратко",
};

/// The button that sums up one of several documents, named by its title (cut to fit).
pub fn summary_button_of(title: &str, lang: Lang) -> String {
    let short: String = title.chars().take(40).collect();
    let cut = if short.len() < title.len() { "…" } else { "" };
    format!("{} {short}{cut}", SUMMARY_BUTTON.get(lang))
}

/// The first message, above the example questions.
pub fn greeting(engine: &Engine, lang: Lang) -> String {
    let docs = &engine.knowledge.documents;
    let author = |d: &crate::knowledge::Document| d.meta.author.as_deref().map(escape);
    match (lang, docs.as_slice()) {
        (Lang::En, docs) => {
            let what = match docs {
                [d] => {
                    let by = author(d).map(|a| format!(" by {a}")).unwrap_or_default();
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
        (Lang::Ru, docs) => {
            let what = match docs {
                [d] => {
                    let by = author(d)
                        .map(|a| format!(" (автор — {a})"))
                        .unwrap_or_default();
                    format!("по тексту <b>{}</b>{by}", escape(&d.meta.full_title()))
                }
                _ => format!("по моим документам (их {}, список — в /about)", docs.len()),
            };
            format!(
                "Здравствуйте! Я отвечаю на вопросы {what}.\n\n\
                 Напишите вопрос обычными словами, и я пришлю предложения, которые на него \
                 отвечают, со ссылкой на абзац, откуда они взяты. Цитаты — на языке документа, \
                 главное выделено жирным. Попробуйте один из этих вопросов:"
            )
        }
    }
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
    lang: Lang,
) -> String {
    let docs = &engine.knowledge.documents;
    // Titles cut to 100 characters: five of them and the rest always fit in a message.
    let title = |d: usize| {
        docs.get(d)
            .map(|d| {
                let (title, cut) = crate::analysis::truncate_chars(&d.meta.title, 100);
                let more = if cut { "…" } else { "" };
                quoted(&format!("{}{more}", escape(title)), lang)
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
    let (from, also) = (title(answered_from), list.join(", "));
    match lang {
        Lang::En => {
            let how = match offer {
                Offer::Buttons => "press one below to ask it instead",
                Offer::DocFlag => "ask again with <code>--doc</code> to ask one of them",
                Offer::Naming => "name one in your question to ask it instead",
            };
            format!("<i>From {from}. Also in my documents: {also}; {how}.</i>")
        }
        Lang::Ru => {
            let how = match offer {
                Offer::Buttons => "нажмите на один из них ниже, чтобы спросить его",
                Offer::DocFlag => "спросите снова с <code>--doc</code>, чтобы спросить один из них",
                Offer::Naming => "назовите один из них в вопросе, чтобы спросить его",
            };
            format!("<i>Из {from}. Другие мои документы: {also}; {how}.</i>")
        }
    }
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
pub fn about(engine: &Engine, lang: Lang) -> String {
    let mut s = match lang {
        Lang::En => String::from("<b>What I answer from</b>\n"),
        Lang::Ru => String::from("<b>По каким документам я отвечаю</b>\n"),
    };
    // Numbered when there are several: `/remove 2` names a document by its number here.
    let several = engine.knowledge.documents.len() > 1;
    for (i, d) in engine.knowledge.documents.iter().enumerate() {
        let m = &d.meta;
        let mark = match several {
            true => format!("{}.", i + 1),
            false => "•".to_string(),
        };
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
        let count = match lang {
            Lang::En => format!("{passages} passages"),
            Lang::Ru => format!(
                "{passages} {}",
                ru_plural(passages, "фрагмент", "фрагмента", "фрагментов")
            ),
        };
        s.push_str(&format!(
            "\n{mark} {}\n  {} ({count})",
            crate::html::link(m.url.as_deref(), &escape(&m.full_title())),
            details.join(", "),
        ));
        if !m.examples.is_empty() {
            s.push_str(match lang {
                Lang::En => "\n  Try: ",
                Lang::Ru => "\n  Спросите: ",
            });
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

/// The mark that starts the line of an answer saying how a follow-up was understood.
pub const UNDERSTOOD_MARK: &str = "↪ ";

/// Above an answer to a follow-up: the question as citebot understood it. Its first line is
/// read back (by the rendering, which writes it) when a button under the answer is pressed
/// or the answer is replied to. It has no words of its own, so no language.
pub fn understood(question: &str) -> String {
    // At most 600 characters shown (MAX_QUESTION_CHARS is 1,000, and escaping may make each
    // one 6): the line then always fits in a message.
    let (shown, cut) = crate::analysis::truncate_chars(question, 600);
    let more = if cut { "…" } else { "" };
    format!("{UNDERSTOOD_MARK}<i>{}{more}</i>", escape(shown))
}

/// Above the second and later matches.
pub fn match_number(rank: usize, lang: Lang) -> String {
    match lang {
        Lang::En => format!("<i>Match {rank}:</i>"),
        Lang::Ru => format!("<i>Совпадение {rank}:</i>"),
    }
}

/// Above an answer to an example question pressed under the greeting.
pub fn example_question(question: &str) -> String {
    format!("❓ <b>{}</b>", escape(question))
}

/// Above an answer to a question cut for length.
pub fn truncated(max_chars: usize, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "<i>Your question was long, so only its first {max_chars} characters were searched.</i>"
        ),
        Lang::Ru => format!(
            "<i>Вопрос длинный, поэтому поиск шёл только по первым {max_chars} {}.</i>",
            ru_plural(max_chars, "символу", "символам", "символам")
        ),
    }
}

/// What `/stats` says first while a meaning layer is still loading: which, and how far;
/// nothing once all are in.
pub fn meaning_progress(layers: &[crate::engine::LayerState], lang: Lang) -> String {
    if layers.iter().all(|l| l.ready) {
        return String::new();
    }
    let mut s = String::from(match lang {
        Lang::En => "<b>Matching by meaning is loading</b>: answers come by words meanwhile.\n",
        Lang::Ru => "<b>Поиск по смыслу загружается</b>: пока ответы ищутся по словам.\n",
    });
    for l in layers {
        let model = escape(&l.model);
        let (done, total) = (l.done, l.total);
        s.push_str(&match (l.ready, lang) {
            (true, Lang::En) => format!("{model}: ready\n"),
            (true, Lang::Ru) => format!("{model}: готов\n"),
            (false, Lang::En) => format!("{model}: {done} of {total} sentences embedded\n"),
            (false, Lang::Ru) => format!("{model}: {done} из {total} предложений\n"),
        });
    }
    s.push('\n');
    s
}

/// /stats: the last days in one message.
pub fn stats(report: &crate::record::Report, lang: Lang) -> String {
    let sparkline = escape(&report.sparkline());
    let (days, asked, answered) = (report.days_covered, report.questions, report.answered);
    let unanswered = report.unanswered_share * 100.0;
    let mut s = match lang {
        Lang::En => format!(
            "<b>The last {days} days</b>\n{asked} questions, {answered} answered \
             ({unanswered:.0}% not)\n<code>{sparkline}</code> per day\n"
        ),
        Lang::Ru => format!(
            "<b>Последние {days} дн.</b>\nВопросов: {asked}, с ответом: {answered} \
             (без ответа {unanswered:.0}%)\n<code>{sparkline}</code> по дням\n"
        ),
    };
    s.push_str(&verdict_votes(report, lang));
    if !report.unanswered.is_empty() {
        s.push_str(match lang {
            Lang::En => "\n<b>Asked most, not answered</b>\n",
            Lang::Ru => "\n<b>Чаще всего без ответа</b>\n",
        });
        for u in report.unanswered.iter().take(5) {
            s.push_str(&format!(
                "{}× <i>{}</i>\n",
                u.count,
                escape(&short(&u.question))
            ));
        }
    }
    if !report.voted_down.is_empty() {
        s.push_str(match lang {
            Lang::En => "\n<b>Voted down most</b>\n",
            Lang::Ru => "\n<b>Чаще всего с 👎</b>\n",
        });
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
    s.push_str(match lang {
        Lang::En => "\n<code>citebot report</code> has the rest.",
        Lang::Ru => "\nОстальное — в <code>citebot report</code>.",
    });
    s
}

/// How readers voted on sure answers and on passages shown as the closest: the line that
/// tells whoever keeps the bot whether its cut points suit the readers. Empty before any
/// passage was shown.
fn verdict_votes(report: &crate::record::Report, lang: Lang) -> String {
    let line = |shown: &crate::record::Shown, en: &str, ru: &str| {
        let n = shown.shown;
        match (shown.up_share(), lang) {
            (Some(up), Lang::En) => format!(
                "{en}: {n}, 👍 {} 👎 {} ({:.0}% up)\n",
                shown.up,
                shown.down,
                up * 100.0
            ),
            (Some(up), Lang::Ru) => format!(
                "{ru}: {n}, 👍 {} 👎 {} ({:.0}% 👍)\n",
                shown.up,
                shown.down,
                up * 100.0
            ),
            (None, Lang::En) => format!("{en}: {n}, no votes yet\n"),
            (None, Lang::Ru) => format!("{ru}: {n}, оценок пока нет\n"),
        }
    };
    if report.sure.shown + report.closest.shown == 0 {
        return String::new();
    }
    line(&report.sure, "Sure answers", "Уверенных ответов")
        + &line(&report.closest, "Closest passages", "Ближайших абзацев")
}

/// A question cut to a line, for lists that must fit one message.
fn short(question: &str) -> String {
    let (cut, more) = crate::analysis::truncate_chars(question, 120);
    format!("{cut}{}", if more { "…" } else { "" })
}

/// /unanswered: the last questions nothing answered, newest first.
pub fn unanswered(recent: &[crate::record::Recent], lang: Lang) -> String {
    if recent.is_empty() {
        return Text {
            en: "No unanswered questions recorded.",
            ru: "Вопросов без ответа не записано.",
        }
        .get(lang)
        .to_string();
    }
    let mut s = String::from(match lang {
        Lang::En => "<b>The last questions nothing answered</b>\n",
        Lang::Ru => "<b>Последние вопросы без ответа</b>\n",
    });
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
pub fn reloaded(c: &crate::knowledge::Changes, lang: Lang) -> String {
    let (documents, passages) = (c.documents, c.passages);
    let mut s = match lang {
        Lang::En => format!("Reloaded: {documents} documents, {passages} passages."),
        Lang::Ru => format!("Перечитано: документов — {documents}, фрагментов — {passages}."),
    };
    // The files that could not be read, each with its reason: the one thing to act on.
    let skipped: String = c
        .skipped
        .iter()
        .map(|f| {
            let name = f.path.file_name().unwrap_or_default().to_string_lossy();
            format!("\n• <code>{}</code>: {}", escape(&name), escape(&f.reason))
        })
        .collect();
    let skipped = match (skipped.is_empty(), lang) {
        (true, _) => skipped,
        (false, Lang::En) => format!("\nNot read:{skipped}"),
        (false, Lang::Ru) => format!("\nНе прочитаны:{skipped}"),
    };
    if c.added.is_empty() && c.removed.is_empty() && c.passages_added + c.passages_removed == 0 {
        s.push_str(match lang {
            Lang::En => " Nothing changed.",
            Lang::Ru => " Ничего не изменилось.",
        });
        return s + &skipped;
    }
    let titles = |t: &[String]| {
        t.iter()
            .map(|t| quoted(&escape(t), lang))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (added, removed, changed) = match lang {
        Lang::En => ("Added", "Removed", "Passages"),
        Lang::Ru => ("Добавлены", "Удалены", "Фрагменты"),
    };
    if !c.added.is_empty() {
        s.push_str(&format!("\n{added}: {}", titles(&c.added)));
    }
    if !c.removed.is_empty() {
        s.push_str(&format!("\n{removed}: {}", titles(&c.removed)));
    }
    s.push_str(&format!(
        "\n{changed}: +{} −{}",
        c.passages_added, c.passages_removed
    ));
    s + &skipped
}

/// When the new knowledge could not be loaded.
pub fn reload_failed(error: &str, lang: Lang) -> String {
    let said = match lang {
        Lang::En => "Reload failed; still answering from the knowledge as it was.",
        Lang::Ru => "Перечитать не удалось; отвечаю по прежним документам.",
    };
    format!("{said}\n<code>{}</code>", escape(error))
}

pub const RELOAD_BUSY: Text = Text {
    en: "A reload is already running; its result comes in a moment.",
    ru: "Документы уже перечитываются; результат придёт через минуту.",
};
pub const RELOAD_UNAVAILABLE: Text = Text {
    en: "This bot was not started from a knowledge folder it can re-read.",
    ru: "Этот бот запущен не из папки с документами, которую можно перечитать.",
};
pub const RELOAD_CRASHED: Text = Text {
    en: "the reload crashed (see the log)",
    ru: "перечитывание прервалось с ошибкой (см. журнал)",
};
pub const RECORD_OFF: Text = Text {
    en: "Nothing is recorded (RECORD=off), so there is nothing to show.",
    ru: "Ничего не записывается (RECORD=off), поэтому показывать нечего.",
};
pub const RECORD_EMPTY: Text = Text {
    en: "Nothing is recorded yet: ask me a question first.",
    ru: "Пока ничего не записано: сначала задайте мне вопрос.",
};

pub const NO_MORE_MATCHES: Text = Text {
    en: "No more matches for this question.",
    ru: "Других совпадений для этого вопроса нет.",
};
pub const NEW_CONVERSATION: Text = Text {
    en: "Starting afresh: your next question is read on its own, not as a follow-up.",
    ru: "Начнём заново: следующий вопрос я прочту сам по себе, а не как продолжение.",
};
pub const ONLY_TEXT: Text = Text {
    en: "I can only read text. Send me a question in words, e.g. <i>Why does Russia work with the Taliban?</i>",
    ru: "Я читаю только текст. Напишите вопрос словами, например: <i>Почему Россия сотрудничает с талибами?</i>",
};
pub const NOT_THIS_CHAT: Text = Text {
    en: "Sorry, this is a private citebot: it only answers in the chats it was set up for.",
    ru: "Извините, это частный citebot: он отвечает только в чатах, для которых настроен.",
};
pub const ASK_NEEDS_A_QUESTION: Text = Text {
    en: "Ask me something after the command, e.g. <code>/ask Who is Mohammad Atmar?</code>",
    ru: "Напишите вопрос после команды, например: <code>/ask Кто такой Мохаммад Атмар?</code>",
};
pub const YES: Text = Text {
    en: "Yes? Ask me a question about the article.",
    ru: "Да? Задайте мне вопрос о статье.",
};
pub const TOO_FAST: Text = Text {
    en: "You are asking faster than I can read. Please wait a minute before the next question.",
    ru: "Вы спрашиваете быстрее, чем я успеваю читать. Подождите минуту перед следующим вопросом.",
};
pub const UNKNOWN_COMMAND: Text = Text {
    en: "I don't know that command. Send /help to see what I can do.",
    ru: "Такой команды я не знаю. Отправьте /help, чтобы узнать, что я умею.",
};
pub const SORRY: Text = Text {
    en: "Sorry, something went wrong while searching. Please try again.",
    ru: "Извините, при поиске что-то пошло не так. Попробуйте ещё раз.",
};

/// Button toasts (plain text, at most 200 characters).
pub mod toast {
    use super::Text;

    pub const BUTTON_TOO_OLD: Text = Text {
        en: "This button is too old. Please ask again.",
        ru: "Эта кнопка устарела. Задайте вопрос снова.",
    };
    pub const NOT_THIS_CHAT: Text = Text {
        en: "This bot does not answer in this chat.",
        ru: "В этом чате бот не отвечает.",
    };
    pub const QUESTION_GONE: Text = Text {
        en: "I can't find the question any more (was it deleted?). Please ask again.",
        ru: "Не могу найти вопрос (его удалили?). Задайте его снова.",
    };
    pub const LOOKING: Text = Text {
        en: "Looking it up…",
        ru: "Ищу…",
    };
    pub const NEXT: Text = super::button::NEXT;
    pub const FULL: Text = super::button::FULL;
    pub const ANSWER_GONE: Text = Text {
        en: "That answer is no longer available. Please ask again.",
        ru: "Этого ответа больше нет. Задайте вопрос снова.",
    };
    pub const THANKS_UP: Text = Text {
        en: "Thanks! Glad it helped.",
        ru: "Спасибо! Хорошо, что ответ помог.",
    };
    pub const THANKS_DOWN: Text = Text {
        en: "Thanks — noted. Try rephrasing, or Next match.",
        ru: "Спасибо, учтём. Попробуйте сказать иначе или нажмите «Следующее совпадение».",
    };
}

/// The labels of the buttons under an answer.
pub mod button {
    use super::Text;

    pub const FULL: Text = Text {
        en: "Full paragraph",
        ru: "Весь абзац",
    };
    pub const NEXT: Text = Text {
        en: "Next match",
        ru: "Следующее совпадение",
    };

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
    use super::Text;
    use crate::lang::Lang;

    /// The chat's commands and what they do, for its `/help`.
    pub fn commands(lang: Lang) -> Vec<(String, String)> {
        const COMMANDS: &[(&str, Text)] = &[
            (
                "more",
                Text {
                    en: "the next match",
                    ru: "следующее совпадение",
                },
            ),
            (
                "full",
                Text {
                    en: "the full paragraph of the last answer",
                    ru: "весь абзац последнего ответа",
                },
            ),
            (
                "new",
                Text {
                    en: "start a new conversation: forget the last question",
                    ru: "новый разговор: забыть прошлый вопрос",
                },
            ),
            (
                "about",
                Text {
                    en: "the documents I answer from",
                    ru: "документы, по которым я отвечаю",
                },
            ),
            (
                "help",
                Text {
                    en: "this message",
                    ru: "это сообщение",
                },
            ),
            (
                "quit",
                Text {
                    en: "leave (Ctrl-D too)",
                    ru: "выйти (или Ctrl-D)",
                },
            ),
        ];
        COMMANDS
            .iter()
            .map(|(name, what)| (name.to_string(), what.get(lang).to_string()))
            .collect()
    }

    pub const WELCOME: Text = Text {
        en: "Ask a question about the article; follow-ups are read in context. /help lists the commands, /quit (or Ctrl-D) leaves.",
        ru: "Задайте вопрос о статье; уточняющие вопросы я читаю в контексте. /help — список команд, /quit (или Ctrl-D) — выход.",
    };
    pub const CHOICES: Text = Text {
        en: "[/more: next match · /full: full paragraph · /new: new topic]",
        ru: "[/more: следующее совпадение · /full: весь абзац · /new: новая тема]",
    };
    pub const NOTHING_SHOWN: Text = Text {
        en: "Ask a question first: there is no answer to act on yet.",
        ru: "Сначала задайте вопрос: ответа, с которым можно что-то сделать, пока нет.",
    };

    /// The terminal's language, as its locale says (`LC_ALL`, `LC_MESSAGES`, `LANG`:
    /// "ru_RU.UTF-8"): the terminal's `language_code`. `None` for "C", "POSIX", or one
    /// citebot does not speak.
    pub fn locale() -> Option<String> {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(|var| std::env::var(var).ok())
            .find(|value| !value.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_in_the_question_s_language_else_the_user_s_else_english() {
        assert_eq!(reply_language(Some(Lang::Ru), Some("en")), Lang::Ru);
        assert_eq!(reply_language(Some(Lang::En), Some("ru")), Lang::En);
        assert_eq!(reply_language(None, Some("ru-RU")), Lang::Ru);
        assert_eq!(reply_language(None, Some("ru_RU.UTF-8")), Lang::Ru);
        assert_eq!(reply_language(None, Some("de")), Lang::En);
        assert_eq!(reply_language(None, Some("C")), Lang::En);
        assert_eq!(reply_language(None, None), Lang::En);
    }

    /// Whether `html` is what Telegram's HTML mode accepts: the tags citebot uses, each
    /// closed in order, and `&` only in an entity.
    fn balanced(html: &str) -> bool {
        let mut open: Vec<&str> = Vec::new();
        let mut rest = html;
        while let Some(i) = rest.find(['<', '&']) {
            rest = &rest[i..];
            if let Some(after) = rest.strip_prefix('&') {
                if !["amp;", "lt;", "gt;", "quot;"]
                    .iter()
                    .any(|e| after.starts_with(e))
                {
                    return false;
                }
                rest = after;
                continue;
            }
            let Some(end) = rest.find('>') else {
                return false;
            };
            let tag = &rest[1..end];
            match tag.strip_prefix('/') {
                Some(name) if open.pop() != Some(name) => return false,
                Some(_) => {}
                None => {
                    let name = tag.split(' ').next().unwrap_or_default();
                    if !["b", "i", "code", "blockquote", "a"].contains(&name) {
                        return false;
                    }
                    open.push(name);
                }
            }
            rest = &rest[end + 1..];
        }
        open.is_empty()
    }

    #[test]
    fn every_text_is_translated_and_valid_telegram_html_in_every_language() {
        let engine = Engine::load(&crate::Options::lexical(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"),
        ))
        .unwrap();
        let fixed = [
            RELOAD_BUSY,
            RELOAD_UNAVAILABLE,
            RELOAD_CRASHED,
            RECORD_OFF,
            RECORD_EMPTY,
            NO_MORE_MATCHES,
            NEW_CONVERSATION,
            ONLY_TEXT,
            NOT_THIS_CHAT,
            ASK_NEEDS_A_QUESTION,
            YES,
            TOO_FAST,
            UNKNOWN_COMMAND,
            SORRY,
            toast::BUTTON_TOO_OLD,
            toast::NOT_THIS_CHAT,
            toast::QUESTION_GONE,
            toast::LOOKING,
            toast::ANSWER_GONE,
            toast::THANKS_UP,
            toast::THANKS_DOWN,
            REMOVE_CHOOSE,
            REMOVE_NONE,
            REMOVE_CANCELLED,
            REMOVE_STALE,
            REMOVE_YES,
            REMOVE_CANCEL,
            REMOVING,
            ADMINS_ONLY,
            button::FULL,
            button::NEXT,
            terminal::WELCOME,
            terminal::CHOICES,
            terminal::NOTHING_SHOWN,
        ];
        for text in fixed {
            assert_ne!(text.en, text.ru, "translated");
            assert!(text.ru.chars().any(crate::lang::is_cyrillic), "{}", text.ru);
        }
        for t in [toast::THANKS_DOWN, toast::QUESTION_GONE, toast::ANSWER_GONE] {
            assert!(t.ru.chars().count() <= 200, "a toast: {}", t.ru);
        }
        let changes = crate::knowledge::Changes {
            added: vec!["A & <B>".into()],
            removed: vec!["C".into()],
            passages_added: 3,
            passages_removed: 1,
            documents: 2,
            passages: 40,
            skipped: vec![crate::knowledge::Skipped {
                path: "k/scan.pdf".into(),
                reason: "has no text layer <a scan?>".into(),
            }],
        };
        let mut said: Vec<(Lang, String)> = Vec::new();
        for lang in Lang::ALL {
            let mut html: Vec<String> = fixed.iter().map(|t| t.get(lang).to_string()).collect();
            html.extend([
                help(&terminal::commands(lang), lang),
                greeting(&engine, lang),
                about(&engine, lang),
                other_documents(&engine, 0, &[0], Offer::DocFlag, lang),
                truncated(1_000, lang),
                match_number(2, lang),
                reloaded(&changes, lang),
                reload_failed("<no & such>", lang),
                unanswered(&[], lang),
                remove_list(&[("A & B".into(), "a<b>.txt".into())], lang),
                remove_unknown("<x>", lang),
                remove_confirm("A & B", "a<b>.txt", 3, lang),
                remove_last("A & B", lang),
                removed("A & B", &["a<b>.txt".into()], 2, lang),
                remove_failed("<denied>", lang),
            ]);
            for message in [
                "thanks!",
                "hi",
                "ok",
                "what is it?",
                "Capital of Burkina Faso",
            ] {
                let reply = crate::answer::ask(&engine, message, 1).unwrap();
                html.push(no_answer(&reply, &engine, true, lang));
            }
            for h in html {
                assert!(balanced(&h), "{lang}: {h}");
                assert!(
                    crate::render::utf16_len(&h) <= crate::render::MAX_MESSAGE_UTF16,
                    "{h}"
                );
                said.push((lang, h));
            }
        }
        let (en, ru): (Vec<_>, Vec<_>) = said.into_iter().partition(|(l, _)| *l == Lang::En);
        for ((_, en), (_, ru)) in en.iter().zip(&ru) {
            assert_ne!(en, ru, "translated");
        }
    }

    #[test]
    fn russian_counts_take_the_right_form() {
        let form = |n| ru_plural(n, "фрагмент", "фрагмента", "фрагментов");
        let cases = [
            (1, "фрагмент"),
            (2, "фрагмента"),
            (4, "фрагмента"),
            (5, "фрагментов"),
            (11, "фрагментов"),
            (12, "фрагментов"),
            (21, "фрагмент"),
            (22, "фрагмента"),
            (111, "фрагментов"),
            (0, "фрагментов"),
        ];
        for (n, want) in cases {
            assert_eq!(form(n), want, "{n}");
        }
    }

    #[test]
    fn every_command_is_described_in_every_language() {
        for name in [
            "ask",
            "new",
            "help",
            "about",
            "start",
            "stats",
            "unanswered",
            "reload",
            "remove",
        ] {
            for lang in Lang::ALL {
                let description = command_description(name, lang);
                // Telegram: 1 to 256 characters.
                assert!(
                    (1..=256).contains(&description.chars().count()),
                    "/{name} in {lang}"
                );
            }
            assert_ne!(
                command_description(name, Lang::En),
                command_description(name, Lang::Ru)
            );
        }
    }
}
