//! The buttons under an answer and under the greeting: their labels (from
//! [`crate::texts`]) and their callback data, small, self-contained, at most 64 bytes.
//!
//! The bot keeps no state between updates, so that several replicas behind a load balancer
//! can serve the same bot. A button therefore says everything needed to act on it: what to
//! do, for which rank of answer, where the question is (in the message the answer replies
//! to, in the answer's own first line for a follow-up as understood, or an example question
//! of a document's metadata), and the document it is asked of, when the reader chose one.

use std::fmt;

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::answer::Reply;
use crate::engine::Engine;
use crate::lang::Lang;
use crate::texts;

/// Telegram's limit for callback data.
pub const MAX_CALLBACK_DATA: usize = 64;

/// Where the question behind a button is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// In the message the bot's answer replies to.
    Reply,
    /// The example question `index` of document `doc`.
    Example { doc: usize, index: usize },
    /// In the first line of the answer itself: a follow-up's answer shows the question as
    /// understood, which the buttons act on (not the message as typed).
    Understood,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Ask the question: an example, or the same question of another document.
    Ask,
    /// Show the whole passage of the answer at `rank`.
    Full { rank: usize },
    /// Show the answer after `rank`.
    Next { rank: usize },
    /// Thumbs up or down for the answer at `rank`.
    Vote { rank: usize, up: bool },
    /// The summary of the button's document.
    Summary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Button {
    pub action: Action,
    pub origin: Origin,
    /// The document the question is asked of (an index into the knowledge's documents);
    /// `None`: the one the question names, or any.
    pub document: Option<usize>,
}

impl fmt::Display for Button {
    /// `f:1:r`, `n:2:e0.3`, `v:1:u:r`, `a:0:e0.1`, `a:0:r@2` (asked of document 2).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.action {
            Action::Ask => write!(f, "a:0:")?,
            Action::Full { rank } => write!(f, "f:{rank}:")?,
            Action::Next { rank } => write!(f, "n:{rank}:")?,
            Action::Vote { rank, up } => write!(f, "v:{rank}:{}:", if up { 'u' } else { 'd' })?,
            Action::Summary => write!(f, "s:0:")?,
        }
        match self.origin {
            Origin::Reply => write!(f, "r")?,
            Origin::Understood => write!(f, "u")?,
            Origin::Example { doc, index } => write!(f, "e{doc}.{index}")?,
        }
        match self.document {
            Some(doc) => write!(f, "@{doc}"),
            None => Ok(()),
        }
    }
}

impl Button {
    pub fn new(action: Action, origin: Origin) -> Button {
        Button {
            action,
            origin,
            document: None,
        }
    }

    /// The same button, for the question asked of document `doc` (`None`: any).
    pub fn of_document(self, document: Option<usize>) -> Button {
        Button { document, ..self }
    }

    /// The callback data; `None` would only happen with absurd numbers, never silently wrong.
    pub fn encode(&self) -> Option<String> {
        let data = self.to_string();
        (data.len() <= MAX_CALLBACK_DATA).then_some(data)
    }

    /// Parses callback data; anything else (an old format, a forged payload) is `None`.
    pub fn decode(data: &str) -> Option<Button> {
        let mut parts = data.split(':');
        let kind = parts.next()?;
        let rank: usize = parts.next()?.parse().ok()?;
        let action = match kind {
            "a" => Action::Ask,
            "s" => Action::Summary,
            "f" => Action::Full { rank },
            "n" => Action::Next { rank },
            "v" => Action::Vote {
                rank,
                up: match parts.next()? {
                    "u" => true,
                    "d" => false,
                    _ => return None,
                },
            },
            _ => return None,
        };
        if !matches!(action, Action::Ask | Action::Summary) && !(1..=100).contains(&rank) {
            return None;
        }
        let last = parts.next()?;
        let (origin, document) = match last.split_once('@') {
            Some((origin, doc)) => (origin, Some(doc.parse().ok()?)),
            None => (last, None),
        };
        let origin = match origin {
            "r" => Origin::Reply,
            "u" => Origin::Understood,
            e => {
                let (doc, index) = e.strip_prefix('e')?.split_once('.')?;
                Origin::Example {
                    doc: doc.parse().ok()?,
                    index: index.parse().ok()?,
                }
            }
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Button {
            action,
            origin,
            document,
        })
    }
}

/// The buttons under the answer at `rank`: the full paragraph, the next match, the votes
/// (the one cast, if any, ticked: the other changes it), and under the best answer, one
/// per other document that may answer. Each acts on the question at `origin`, asked of
/// `document` when the reader chose one. Labels in `lang`.
pub fn answer_keyboard(
    engine: &Engine,
    reply: &Reply,
    rank: usize,
    origin: Origin,
    document: Option<usize>,
    voted: Option<bool>,
    lang: Lang,
) -> InlineKeyboardMarkup {
    let button = |label: &str, action| {
        let data = Button::new(action, origin)
            .of_document(document)
            .encode()
            .unwrap_or_default();
        InlineKeyboardButton::callback(label, data)
    };
    let mut rows = vec![vec![
        button(texts::button::FULL.get(lang), Action::Full { rank }),
        button(texts::button::NEXT.get(lang), Action::Next { rank }),
    ]];
    let vote = |up: bool| {
        let label = texts::button::vote(up, voted == Some(up));
        button(&label, Action::Vote { rank, up })
    };
    rows.push(vec![vote(true), vote(false)]);
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

/// Under the greeting: a button per example question of the documents' metadata (six at
/// most).
pub fn examples_keyboard(engine: &Engine) -> InlineKeyboardMarkup {
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

/// A "Summary" button for each of `docs`, labelled with its title (when there are several)
/// in `lang`.
pub fn summary_keyboard(engine: &Engine, docs: &[usize], lang: Lang) -> InlineKeyboardMarkup {
    let several = engine.knowledge.documents.len() > 1;
    let rows = docs
        .iter()
        .filter_map(|&doc| {
            let d = engine.knowledge.documents.get(doc)?;
            let data = Button::new(Action::Summary, Origin::Reply)
                .of_document(Some(doc))
                .encode()?;
            let label = match several {
                true => texts::summary_button_of(&d.meta.title, lang),
                false => texts::SUMMARY_BUTTON.get(lang).to_string(),
            };
            Some(vec![InlineKeyboardButton::callback(label, data)])
        })
        .collect::<Vec<_>>();
    InlineKeyboardMarkup::new(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_within_64_bytes() {
        let origins = [
            Origin::Reply,
            Origin::Understood,
            Origin::Example { doc: 0, index: 3 },
            Origin::Example {
                doc: usize::MAX,
                index: usize::MAX,
            },
        ];
        let actions = [
            Action::Ask,
            Action::Full { rank: 1 },
            Action::Next { rank: 100 },
            Action::Vote { rank: 2, up: true },
            Action::Vote { rank: 3, up: false },
            Action::Summary,
        ];
        for origin in origins {
            for action in actions {
                for document in [None, Some(0), Some(7)] {
                    let b = Button::new(action, origin).of_document(document);
                    let data = b.encode().expect("fits");
                    assert!(data.len() <= MAX_CALLBACK_DATA);
                    assert_eq!(Button::decode(&data), Some(b), "{data}");
                }
            }
        }
        assert_eq!(
            Button::decode("a:0:r@2"),
            Some(Button::new(Action::Ask, Origin::Reply).of_document(Some(2)))
        );
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            "",
            "x",
            "f",
            "f:1",
            "f:0:r",
            "f:101:r",
            "q:1:r",
            "v:1:x:r",
            "f:1:e1",
            "f:1:e.1",
            "f:1:r:extra",
            "f:-1:r",
            "f:1:😀",
            "f:1:r@",
            "f:1:r@x",
            "f:1:r@-1",
            "f:1:r@1@2",
        ] {
            assert_eq!(Button::decode(bad), None, "{bad:?}");
        }
    }
}
