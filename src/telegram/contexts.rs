//! Each chat's conversation: the [`Context`] of its last question, per private chat and per
//! user within a group, forgotten after `CONTEXT_TTL` of silence.
//!
//! The store is bounded: past [`MAX_CONVERSATIONS`] the least recently used conversation is
//! dropped first, so any number of chats fits in a fixed amount of memory. It lives in one
//! process; a reply to an answer carries its own context (see
//! [`Context::from_answer`]), which works on any replica and after a restart.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;
use teloxide::types::ChatId;

use super::flood::Sender;
use crate::conversation::Context;

/// How many conversations are remembered at once (a context is a few hundred bytes).
pub const MAX_CONVERSATIONS: usize = 100_000;

/// Whose conversation: a private chat's, or one sender's within a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub chat: ChatId,
    /// `None` in a private chat, where the chat is the person.
    pub sender: Option<Sender>,
}

pub struct Contexts {
    ttl: Duration,
    chats: Mutex<LruCache<Key, (Context, Instant)>>,
}

impl Contexts {
    pub fn new(ttl: Duration, capacity: usize) -> Contexts {
        Contexts {
            ttl,
            chats: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// The conversation's context, unless it expired.
    pub fn get(&self, key: Key, now: Instant) -> Option<Context> {
        let mut chats = self.chats.lock().unwrap_or_else(|p| p.into_inner());
        match chats.get(&key) {
            Some((context, at)) if now.saturating_duration_since(*at) < self.ttl => {
                Some(context.clone())
            }
            Some(_) => {
                chats.pop(&key);
                None
            }
            None => None,
        }
    }

    /// Remembers (or, with `None`, forgets) the conversation's context as of `now`.
    pub fn set(&self, key: Key, context: Option<Context>, now: Instant) {
        let mut chats = self.chats.lock().unwrap_or_else(|p| p.into_inner());
        match context {
            Some(c) => {
                chats.put(key, (c, now));
            }
            None => {
                chats.pop(&key);
            }
        }
    }

    /// Forgets every conversation: after a reload, the passages they point to may be others.
    pub fn clear(&self) {
        self.chats.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    pub fn len(&self) -> usize {
        self.chats.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer_type::AnswerType;
    use teloxide::types::UserId;

    fn context(q: &str) -> Context {
        Context {
            question: q.into(),
            topic: vec![q.into()],
            asks_for: AnswerType::Any,
            passage: None,
        }
    }

    fn key(chat: i64, user: Option<u64>) -> Key {
        Key {
            chat: ChatId(chat),
            sender: user.map(|u| Sender::User(UserId(u))),
        }
    }

    #[test]
    fn contexts_expire_after_the_ttl() {
        let store = Contexts::new(Duration::from_secs(900), 10);
        let t0 = Instant::now();
        store.set(key(1, None), Some(context("a")), t0);
        assert!(store
            .get(key(1, None), t0 + Duration::from_secs(899))
            .is_some());
        assert_eq!(store.get(key(1, None), t0 + Duration::from_secs(900)), None);
        assert!(store.is_empty(), "an expired context is dropped");
    }

    #[test]
    fn users_of_a_group_have_their_own_and_the_oldest_go_first() {
        let store = Contexts::new(Duration::from_secs(900), 3);
        let t0 = Instant::now();
        store.set(key(-5, Some(1)), Some(context("one")), t0);
        store.set(key(-5, Some(2)), Some(context("two")), t0);
        assert_eq!(
            store.get(key(-5, Some(1)), t0).unwrap().question,
            "one",
            "each user of a group has a context of their own"
        );
        for chat in 10..20 {
            store.set(key(chat, None), Some(context("x")), t0);
        }
        assert_eq!(store.len(), 3, "bounded");
        assert_eq!(store.get(key(-5, Some(1)), t0), None, "the oldest dropped");
        store.set(key(19, None), None, t0);
        assert_eq!(store.get(key(19, None), t0), None, "forgotten on /new");
    }
}
