//! The flood limit: how many questions one sender may ask per minute.
//!
//! Past the limit a sender gets one notice, then silence until the window passes, so that a
//! script or a stuck client cannot keep the bot (and Telegram's rate limits) busy.
//!
//! [`FloodGate`] counts in this process; replicas sharing Redis count together, per sender
//! and clock minute (`replicas`), and fall back on this gate when Redis is away.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use teloxide::types::{ChatId, Message, UserId};

/// Per-sender flood limit: `limit` questions per `window`.
pub struct FloodGate {
    limit: u32,
    window: Duration,
    users: Mutex<HashMap<Sender, (Instant, u32)>>,
}

/// Who sent a message, for the flood limit: the user, or, for a message sent on behalf of a
/// channel or by an anonymous group admin (no `from` that is a person), the chat it was sent
/// as, so that those are limited too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sender {
    User(UserId),
    Chat(ChatId),
}

impl Sender {
    pub fn of(msg: &Message) -> Sender {
        match (&msg.sender_chat, &msg.from) {
            (Some(chat), _) => Sender::Chat(chat.id),
            (None, Some(user)) => Sender::User(user.id),
            (None, None) => Sender::Chat(msg.chat.id),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Just over the limit: say so, once.
    Notice,
    Silent,
}

impl FloodGate {
    pub fn new(limit: u32, window: Duration) -> FloodGate {
        FloodGate {
            limit,
            window,
            users: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, user: Sender, now: Instant) -> Verdict {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        if users.len() > 10_000 {
            users.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = users.entry(user).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        self.verdict(u64::from(entry.1))
    }

    /// The verdict on a sender's `count`-th question of the window: counted here, or by the
    /// replicas together (`replicas::Shared::count_question`).
    pub fn verdict(&self, count: u64) -> Verdict {
        let limit = u64::from(self.limit);
        if count <= limit {
            Verdict::Pass
        } else if count == limit + 1 {
            Verdict::Notice
        } else {
            Verdict::Silent
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flood_gate_passes_then_notices_once_then_silence_until_the_window_passes() {
        let gate = FloodGate::new(3, Duration::from_secs(60));
        let (u, t0) = (Sender::User(UserId(7)), Instant::now());
        let verdicts: Vec<Verdict> = (0..6)
            .map(|i| gate.check(u, t0 + Duration::from_secs(i)))
            .collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Pass,
                Verdict::Pass,
                Verdict::Pass,
                Verdict::Notice,
                Verdict::Silent,
                Verdict::Silent
            ]
        );
        assert_eq!(
            gate.check(Sender::User(UserId(8)), t0),
            Verdict::Pass,
            "other users are not affected"
        );
        assert_eq!(gate.check(u, t0 + Duration::from_secs(61)), Verdict::Pass);
        assert_eq!(
            gate.check(Sender::Chat(ChatId(-100)), t0),
            Verdict::Pass,
            "a channel is a sender of its own"
        );
    }
}
