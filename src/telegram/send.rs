//! Sending a message the way Telegram's rules require, whatever Telegram answers.
//!
//! - 429 (flood control): wait `retry_after`, then send again.
//! - A group that became a supergroup: send to `migrate_to_chat_id` instead.
//! - The message to reply to was deleted: send without the reply.
//! - "can't parse entities": send once more as plain text.
//! - 403 and friends (the user blocked the bot, the bot was kicked): log it and go on; there
//!   is nobody to tell.
//! - Network errors and 5xx answers: a few more tries with a growing pause.
//!
//! Before each try, a [`Pacer`] spaces messages to Telegram's published limits, so that a 429
//! stays the exception.
//!
//! This lives here rather than in teloxide's `Throttle` adaptor because the handler tree must
//! take a plain `Bot` (that is what the mock bot of the tests gives it), and because the
//! other fallbacks need the same retry loop anyway.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use teloxide::payloads::SendMessageSetters;
use teloxide::prelude::*;
use teloxide::types::{
    ChatId, InlineKeyboardMarkup, LinkPreviewOptions, MessageId, ParseMode, ReplyParameters,
};
use teloxide::{ApiError, RequestError};

/// Spaces messages to Telegram's limits: about 30 a second for the whole bot, one a second in
/// a private chat, 20 a minute in a group. Slots are booked first come, first served.
pub struct Pacer {
    overall: Duration,
    private: Duration,
    group: Duration,
    /// The next free moment overall, and per chat.
    next: Mutex<(Instant, HashMap<ChatId, Instant>)>,
}

impl Pacer {
    pub fn new(overall: Duration, private: Duration, group: Duration) -> Pacer {
        Pacer {
            overall,
            private,
            group,
            next: Mutex::new((Instant::now(), HashMap::new())),
        }
    }

    /// Telegram's published limits.
    pub fn telegram() -> Pacer {
        Pacer::new(
            Duration::from_millis(34),
            Duration::from_secs(1),
            Duration::from_secs(3),
        )
    }

    /// Books the moment a message to `chat` may go, `now` being now.
    pub fn book(&self, chat: ChatId, now: Instant) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let (overall, chats) = &mut *next;
        let at = now
            .max(*overall)
            .max(chats.get(&chat).copied().unwrap_or(now));
        *overall = at + self.overall;
        let gap = if chat.is_user() {
            self.private
        } else {
            self.group
        };
        chats.insert(chat, at + gap);
        if chats.len() > 10_000 {
            chats.retain(|_, free| *free > now);
        }
        at
    }
}

/// How many times one message is tried before giving up.
const ATTEMPTS: u32 = 6;
/// Telegram sometimes asks for long waits; past this the message is dropped, not queued.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// A message to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub chat: ChatId,
    pub html: String,
    pub reply_to: Option<MessageId>,
    pub keyboard: Option<InlineKeyboardMarkup>,
}

impl Outgoing {
    pub fn new(chat: ChatId, html: impl Into<String>) -> Outgoing {
        Outgoing {
            chat,
            html: html.into(),
            reply_to: None,
            keyboard: None,
        }
    }

    pub fn reply_to(mut self, id: MessageId) -> Outgoing {
        self.reply_to = Some(id);
        self
    }

    pub fn keyboard(mut self, k: InlineKeyboardMarkup) -> Outgoing {
        self.keyboard = Some(k);
        self
    }
}

pub fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Whether an error means that this chat cannot be written to any more.
pub fn is_unreachable_chat(e: &RequestError) -> bool {
    matches!(
        e,
        RequestError::Api(
            ApiError::BotBlocked
                | ApiError::BotKicked
                | ApiError::BotKickedFromSupergroup
                | ApiError::BotKickedFromChannel
                | ApiError::UserDeactivated
                | ApiError::ChatNotFound
                | ApiError::CantInitiateConversation
                | ApiError::CantTalkWithBots
                | ApiError::NotEnoughRightsToPostMessages
        )
    )
}

/// Whether trying again later may work: the network failed, or Telegram (or a proxy in front
/// of it) answered 5xx. teloxide reports a 5xx JSON error as an unknown API error carrying
/// its description, and an HTML error page from a proxy as invalid JSON.
pub fn is_transient(e: &RequestError) -> bool {
    const SERVER_ERRORS: [&str; 5] = [
        "Internal Server Error",
        "Bad Gateway",
        "Service Unavailable",
        "Gateway Timeout",
        "Too Many Open Connections",
    ];
    match e {
        RequestError::Network(_) | RequestError::Io(_) | RequestError::InvalidJson { .. } => true,
        RequestError::Api(ApiError::Unknown(description)) => {
            SERVER_ERRORS.iter().any(|s| description.contains(s))
        }
        _ => false,
    }
}

/// Sends `out`, handling Telegram's faults as the module says. `Ok(None)`: the chat cannot
/// be written to (logged), which is not an error of the bot.
pub async fn send(
    bot: &Bot,
    pacer: &Pacer,
    mut out: Outgoing,
) -> Result<Option<Message>, RequestError> {
    let mut plain = false;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let at = pacer.book(out.chat, Instant::now());
        tokio::time::sleep_until(at.into()).await;
        let mut req = bot
            .send_message(out.chat, &out.html)
            .link_preview_options(no_preview());
        if !plain {
            req = req.parse_mode(ParseMode::Html);
        }
        if let Some(id) = out.reply_to {
            req = req.reply_parameters(ReplyParameters::new(id));
        }
        if let Some(k) = &out.keyboard {
            req = req.reply_markup(k.clone());
        }
        let err = match req.await {
            Ok(m) => return Ok(Some(m)),
            Err(e) => e,
        };
        if attempt >= ATTEMPTS {
            return Err(err);
        }
        match &err {
            RequestError::RetryAfter(wait) => {
                let wait = wait.duration();
                if wait > MAX_RETRY_AFTER {
                    return Err(err);
                }
                tracing::warn!(
                    chat = out.chat.0,
                    wait_s = wait.as_secs(),
                    "Telegram flood control: waiting"
                );
                tokio::time::sleep(wait).await;
            }
            RequestError::MigrateToChatId(new) => {
                tracing::info!(
                    from = out.chat.0,
                    to = new.0,
                    "group became a supergroup: following it"
                );
                out.chat = *new;
            }
            RequestError::Api(ApiError::MessageToReplyNotFound) => {
                out.reply_to = None;
            }
            RequestError::Api(ApiError::CantParseEntities(why)) if !plain => {
                tracing::error!(%why, "Telegram refused our HTML; sending as plain text");
                out.html = crate::html::html_to_plain(&out.html);
                plain = true;
            }
            e if is_unreachable_chat(e) => {
                tracing::info!(chat = out.chat.0, error = %e, "chat unreachable (blocked or removed); not sending");
                return Ok(None);
            }
            e if is_transient(e) => {
                let pause = Duration::from_millis(250 << attempt.min(5));
                tracing::warn!(error = %err, ?pause, "network or server error while sending; trying again");
                tokio::time::sleep(pause).await;
            }
            _ => return Err(err),
        }
    }
}

/// Sends several messages in order; the reply and the keyboard go on the first and the last.
pub async fn send_all(
    bot: &Bot,
    pacer: &Pacer,
    chat: ChatId,
    messages: Vec<String>,
    reply_to: Option<MessageId>,
    keyboard: Option<InlineKeyboardMarkup>,
) -> Result<(), RequestError> {
    let last = messages.len().saturating_sub(1);
    let mut chat = chat;
    for (i, html) in messages.into_iter().enumerate() {
        let mut out = Outgoing::new(chat, html);
        if i == 0 {
            out.reply_to = reply_to;
        }
        if i == last {
            out.keyboard = keyboard.clone();
        }
        match send(bot, pacer, out).await? {
            Some(m) => chat = m.chat.id,
            None => return Ok(()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pacer_spaces_messages_per_chat_and_overall() {
        let pacer = Pacer::telegram();
        let t0 = Instant::now();
        let (alice, bob, group) = (ChatId(1), ChatId(2), ChatId(-100));
        let ms = |at: Instant| at.duration_since(t0).as_millis();
        assert_eq!(ms(pacer.book(alice, t0)), 0);
        assert_eq!(ms(pacer.book(bob, t0)), 34, "30 a second overall");
        assert_eq!(
            ms(pacer.book(alice, t0)),
            1000,
            "one a second in a private chat"
        );
        assert_eq!(ms(pacer.book(group, t0)), 1034);
        assert_eq!(ms(pacer.book(group, t0)), 4034, "20 a minute in a group");
        let later = t0 + Duration::from_secs(10);
        assert_eq!(
            pacer.book(alice, later),
            later,
            "an idle chat sends at once"
        );
    }

    #[test]
    fn server_errors_are_transient_refusals_are_not() {
        let transient = [
            RequestError::Api(ApiError::Unknown("Bad Gateway".into())),
            RequestError::Api(ApiError::Unknown("Internal Server Error".into())),
            RequestError::Io(std::sync::Arc::new(std::io::Error::other("reset"))),
        ];
        for e in &transient {
            assert!(is_transient(e), "{e}");
        }
        let final_ = [
            RequestError::Api(ApiError::BotBlocked),
            RequestError::Api(ApiError::Unknown("Bad Request: message is too long".into())),
            RequestError::Api(ApiError::InvalidToken),
        ];
        for e in &final_ {
            assert!(!is_transient(e), "{e}");
        }
    }
}
