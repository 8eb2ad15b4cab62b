//! The callback data of the answer buttons: small, self-contained, at most 64 bytes.
//!
//! The bot keeps no state between updates, so that several replicas behind a load balancer
//! can serve the same bot. A button therefore says everything needed to act on it: what to
//! do, for which rank of answer, and where the question is: in the message the answer
//! replies to, in the answer's own first line (a follow-up as understood), or an example
//! question of a document's metadata.

use std::fmt;

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
    /// Ask an example question.
    Ask,
    /// Show the whole passage of the answer at `rank`.
    Full { rank: usize },
    /// Show the answer after `rank`.
    Next { rank: usize },
    /// Thumbs up or down for the answer at `rank`.
    Vote { rank: usize, up: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Button {
    pub action: Action,
    pub origin: Origin,
}

impl fmt::Display for Button {
    /// `f:1:r`, `n:2:e0.3`, `v:1:u:r`, `a:0:e0.1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.action {
            Action::Ask => write!(f, "a:0:")?,
            Action::Full { rank } => write!(f, "f:{rank}:")?,
            Action::Next { rank } => write!(f, "n:{rank}:")?,
            Action::Vote { rank, up } => write!(f, "v:{rank}:{}:", if up { 'u' } else { 'd' })?,
        }
        match self.origin {
            Origin::Reply => write!(f, "r"),
            Origin::Understood => write!(f, "u"),
            Origin::Example { doc, index } => write!(f, "e{doc}.{index}"),
        }
    }
}

impl Button {
    pub fn new(action: Action, origin: Origin) -> Button {
        Button { action, origin }
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
        if !matches!(action, Action::Ask) && !(1..=100).contains(&rank) {
            return None;
        }
        let origin = match parts.next()? {
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
        Some(Button { action, origin })
    }
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
        ];
        for origin in origins {
            for action in actions {
                let b = Button::new(action, origin);
                let data = b.encode().expect("fits");
                assert!(data.len() <= MAX_CALLBACK_DATA);
                assert_eq!(Button::decode(&data), Some(b), "{data}");
            }
        }
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
        ] {
            assert_eq!(Button::decode(bad), None, "{bad:?}");
        }
    }
}
