//! Where a conversation's [`Context`] waits for the next message: one per private chat, and
//! one per member of a group, forgotten after `CONTEXT_TTL` of silence.
//!
//! [`ConversationStore`] is small on purpose (get, put, remove, clear) and object-safe, so
//! that the bot holds an `Arc<dyn ConversationStore>` and a store shared between replicas
//! can take the in-memory one's place. Its calls may block (a shared store is a network call
//! away) and may fail; the bot makes them on the blocking pool and answers on without a
//! context when they fail. A reply to an answer carries its own context (see
//! `render::context_of_answer`), which needs no store at all.
//!
//! Expiry is on the wall clock, read from a [`Clock`] that tests set: a context written at
//! one time is forgotten once `ttl` has passed on that clock.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use lru::LruCache;

use super::Context;

/// Whose conversation: a chat's, and within a group one sender's. Plain integers, so that
/// any store can hold it and nothing here depends on Telegram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    /// The chat's id.
    pub chat: i64,
    /// The sender's id in a group (a user's id, or the id of the chat a message was sent
    /// as); `None` in a private chat, where the chat is the person.
    pub sender: Option<i64>,
}

/// Why a store could not do what it was asked (the in-memory one never fails).
#[derive(Debug, thiserror::Error)]
#[error("the conversation store failed: {0}")]
pub struct StoreError(pub String);

/// Where conversations are kept between messages.
pub trait ConversationStore: Send + Sync {
    /// The conversation's context, unless it expired or there is none.
    fn get(&self, key: Key) -> Result<Option<Context>, StoreError>;
    /// Remembers the conversation's context, as of now.
    fn put(&self, key: Key, context: Context) -> Result<(), StoreError>;
    /// Forgets the conversation (`/new`).
    fn remove(&self, key: Key) -> Result<(), StoreError>;
    /// Forgets every conversation: after a reload, the passages they point to may be others.
    fn clear(&self) -> Result<(), StoreError>;
}

/// What time it is, for expiry.
pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// How many conversations the in-memory store remembers at once (a context is a few hundred
/// bytes).
pub const MAX_CONVERSATIONS: usize = 100_000;

/// Conversations in this process's memory: bounded, so that any number of chats fits in a
/// fixed amount of it. Past its capacity the least recently used conversation is dropped
/// first.
pub struct MemoryStore {
    ttl: Duration,
    clock: Arc<dyn Clock>,
    chats: Mutex<LruCache<Key, (Context, SystemTime)>>,
}

impl MemoryStore {
    /// A store forgetting a conversation after `ttl` of silence, holding at most `capacity`.
    pub fn new(ttl: Duration, capacity: usize) -> MemoryStore {
        MemoryStore::with_clock(ttl, capacity, Arc::new(SystemClock))
    }

    /// [`MemoryStore::new`], telling time by `clock`.
    pub fn with_clock(ttl: Duration, capacity: usize, clock: Arc<dyn Clock>) -> MemoryStore {
        MemoryStore {
            ttl,
            clock,
            chats: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// The map; a panic elsewhere while it was held leaves it usable.
    fn chats(&self) -> std::sync::MutexGuard<'_, LruCache<Key, (Context, SystemTime)>> {
        self.chats.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ConversationStore for MemoryStore {
    fn get(&self, key: Key) -> Result<Option<Context>, StoreError> {
        let now = self.clock.now();
        let mut chats = self.chats();
        let fresh = match chats.get(&key) {
            // A clock set back makes a context younger, never older than it is.
            Some((_, at)) => now.duration_since(*at).unwrap_or_default() < self.ttl,
            None => return Ok(None),
        };
        if fresh {
            Ok(chats.get(&key).map(|(context, _)| context.clone()))
        } else {
            chats.pop(&key);
            Ok(None)
        }
    }

    fn put(&self, key: Key, context: Context) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.chats().put(key, (context, now));
        Ok(())
    }

    fn remove(&self, key: Key) -> Result<(), StoreError> {
        self.chats().pop(&key);
        Ok(())
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.chats().clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer_type::AnswerType;

    /// A clock the tests move by hand.
    struct TestClock(Mutex<SystemTime>);

    impl TestClock {
        fn advance(&self, by: Duration) {
            *self.0.lock().unwrap() += by;
        }
    }

    impl Clock for TestClock {
        fn now(&self) -> SystemTime {
            *self.0.lock().unwrap()
        }
    }

    fn context(q: &str) -> Context {
        Context {
            question: q.into(),
            topic: vec![q.into()],
            asks_for: AnswerType::Any,
            passage: None,
        }
    }

    fn key(chat: i64, user: Option<i64>) -> Key {
        Key { chat, sender: user }
    }

    fn store(ttl: Duration, capacity: usize) -> (MemoryStore, Arc<TestClock>) {
        let clock = Arc::new(TestClock(Mutex::new(SystemTime::UNIX_EPOCH)));
        let store = MemoryStore::with_clock(ttl, capacity, clock.clone());
        (store, clock)
    }

    #[test]
    fn contexts_expire_after_the_ttl() {
        let (store, clock) = store(Duration::from_secs(900), 10);
        store.put(key(1, None), context("a")).unwrap();
        clock.advance(Duration::from_secs(899));
        assert!(store.get(key(1, None)).unwrap().is_some());
        clock.advance(Duration::from_secs(1));
        assert_eq!(store.get(key(1, None)).unwrap(), None);
        assert!(store.chats().is_empty(), "an expired context is dropped");
    }

    #[test]
    fn users_of_a_group_have_their_own_and_the_oldest_go_first() {
        let (store, _) = store(Duration::from_secs(900), 3);
        store.put(key(-5, Some(1)), context("one")).unwrap();
        store.put(key(-5, Some(2)), context("two")).unwrap();
        assert_eq!(
            store.get(key(-5, Some(1))).unwrap().unwrap().question,
            "one",
            "each user of a group has a context of their own"
        );
        for chat in 10..20 {
            store.put(key(chat, None), context("x")).unwrap();
        }
        assert_eq!(store.chats().len(), 3, "bounded");
        assert_eq!(
            store.get(key(-5, Some(1))).unwrap(),
            None,
            "the oldest dropped"
        );
        store.remove(key(19, None)).unwrap();
        assert_eq!(store.get(key(19, None)).unwrap(), None, "forgotten on /new");
        store.clear().unwrap();
        assert!(store.chats().is_empty(), "forgotten on a reload");
    }
}
