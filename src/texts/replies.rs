//! The replies that carry no passage or that grade one: a word back to small talk, the
//! reply when nothing relates (what the documents cover, and an example to ask), and the
//! line above a passage shown as the closest rather than as an answer.

use super::quoted;
use crate::answer::Reply;
use crate::conversation::SmallTalk;
use crate::engine::Engine;
use crate::html::escape;
use crate::lang::Lang;

/// The document a reply is about: the one there is, or the one the question was kept to.
fn the_document<'e>(reply: &Reply, engine: &'e Engine) -> Option<&'e crate::knowledge::Document> {
    let docs = &engine.knowledge.documents;
    match (docs.as_slice(), reply.document.and_then(|d| docs.get(d))) {
        ([d], _) | (_, Some(d)) => Some(d),
        _ => None,
    }
}

/// "thanks", "hi", "ok", or no word to search for: a word back, not a failed search.
fn small_talk(reply: &Reply, engine: &Engine, lang: Lang) -> String {
    let example = engine
        .knowledge
        .documents
        .iter()
        .find_map(|d| d.meta.examples.first())
        .map_or("Who is Khalifa Haftar?", String::as_str);
    let example = escape(example);
    match (reply.small_talk, lang) {
        (Some(SmallTalk::Thanks), Lang::En) => {
            "You're welcome. Ask on whenever you like.".to_string()
        }
        (Some(SmallTalk::Thanks), Lang::Ru) => {
            "Пожалуйста. Спрашивайте ещё, когда захотите.".to_string()
        }
        (Some(SmallTalk::Greeting), Lang::En) => {
            format!("Hello! Ask me a question about the article, e.g. <i>{example}</i>")
        }
        (Some(SmallTalk::Greeting), Lang::Ru) => {
            format!("Здравствуйте! Задайте мне вопрос о статье, например: <i>{example}</i>")
        }
        (Some(SmallTalk::Acknowledgement), Lang::En) => {
            "Ask on whenever you like: a follow-up, or a new question.".to_string()
        }
        (Some(SmallTalk::Acknowledgement), Lang::Ru) => {
            "Спрашивайте дальше, когда захотите: уточняйте или задайте новый вопрос.".to_string()
        }
        (None, Lang::En) => format!(
            "That has no words I can search for. Ask about something in the article, e.g. \
                 <i>{example}</i>"
        ),
        (None, Lang::Ru) => format!(
            "Здесь нет слов, по которым можно искать. Спросите о чём-нибудь из статьи, \
                 например: <i>{example}</i>"
        ),
    }
}

/// When nothing answers: say so, and never guess. `chat`: in the bot or the terminal chat,
/// where /help exists.
pub fn no_answer(reply: &Reply, engine: &Engine, chat: bool, lang: Lang) -> String {
    if reply.empty_question {
        return small_talk(reply, engine, lang);
    }
    let docs = &engine.knowledge.documents;
    let one = the_document(reply, engine);
    // What the documents cover: the one document's full title, else every title.
    let covers = match one {
        Some(d) => quoted(&escape(&d.meta.full_title()), lang),
        None => docs
            .iter()
            .map(|d| quoted(&escape(&d.meta.title), lang))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let example = one
        .into_iter()
        .chain(docs)
        .find_map(|d| d.meta.examples.first())
        .map(|e| escape(e));
    match lang {
        Lang::En => {
            let titles = one.map_or_else(
                || format!("the {} documents I know", docs.len()),
                |d| quoted(&escape(&d.meta.title), lang),
            );
            let help = if chat { " /help has tips." } else { "" };
            let ask = example.map_or(String::new(), |e| format!(" You could ask: <i>{e}</i>"));
            format!(
                "I couldn't find an answer to that in {titles}, so I won't guess.\n\
                 I answer from {covers}.{ask}{help}"
            )
        }
        Lang::Ru => {
            let titles = one.map_or_else(
                || format!("моих документах ({})", docs.len()),
                |d| quoted(&escape(&d.meta.title), lang),
            );
            let help = if chat {
                " Советы — в /help."
            } else {
                ""
            };
            let ask = example.map_or(String::new(), |e| format!(" Можно спросить: <i>{e}</i>"));
            format!(
                "Ответа на этот вопрос в {titles} нет, и гадать я не стану.\n\
                 Я отвечаю по тексту {covers}.{ask}{help}"
            )
        }
    }
}

/// Above the closest passage, when citebot is not sure it answers: said as such, so that the
/// reader weighs the quote for themselves.
pub fn closest(reply: &Reply, engine: &Engine, lang: Lang) -> String {
    let one = the_document(reply, engine).map(|d| quoted(&escape(&d.meta.title), lang));
    match (lang, one) {
        (Lang::En, Some(title)) => {
            format!("<i>I'm not sure {title} answers this. The closest passage:</i>")
        }
        (Lang::En, None) => {
            "<i>I'm not sure my documents answer this. The closest passage:</i>".to_string()
        }
        (Lang::Ru, Some(title)) => {
            format!("<i>Не уверен, что в {title} есть ответ. Ближайший отрывок:</i>")
        }
        (Lang::Ru, None) => {
            "<i>Не уверен, что в моих документах есть ответ. Ближайший отрывок:</i>".to_string()
        }
    }
}

/// Above a document's summary: its title and subtitle, said as a summary of it.
pub fn summary_head(doc: &crate::knowledge::Document, lang: Lang) -> String {
    let title = quoted(&escape(&doc.meta.title), lang);
    let subtitle = doc
        .meta
        .subtitle
        .as_deref()
        .map_or(String::new(), |s| format!("\n<i>{}</i>", escape(s)));
    match lang {
        Lang::En => format!("<b>In short:</b> {title}{subtitle}"),
        Lang::Ru => format!("<b>Кратко:</b> {title}{subtitle}"),
    }
}

/// When a summary was asked for and the question did not say of which document.
pub fn which_document(engine: &Engine, docs: &[usize], lang: Lang) -> String {
    let titles: Vec<String> = docs
        .iter()
        .filter_map(|&d| engine.knowledge.documents.get(d))
        .map(|d| format!("• {}", quoted(&escape(&d.meta.title), lang)))
        .collect();
    let ask = match lang {
        Lang::En => "Which document should I sum up?",
        Lang::Ru => "Какой документ пересказать?",
    };
    format!("{ask}\n{}", titles.join("\n"))
}
