//! The words of the passages a search has read, kept for the questions after it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::rank::PassageWords;

/// The words of passages read so far, kept for the next questions up to a budget of words:
/// re-reading a passage costs more than everything else a question does, and the passages
/// that come up once tend to come up again.
pub(super) struct WordCache {
    slots: Vec<OnceLock<Arc<PassageWords>>>,
    room: AtomicUsize,
}

/// About 64 bytes a word: 2 million words is some 130 MB at most.
const CACHED_WORDS: usize = 2_000_000;

impl WordCache {
    pub(super) fn new(passages: usize) -> WordCache {
        WordCache {
            slots: (0..passages).map(|_| OnceLock::new()).collect(),
            room: AtomicUsize::new(CACHED_WORDS),
        }
    }

    pub(super) fn get(&self, id: usize, read: impl FnOnce() -> PassageWords) -> Arc<PassageWords> {
        let Some(slot) = self.slots.get(id) else {
            return Arc::new(read());
        };
        if let Some(words) = slot.get() {
            return Arc::clone(words);
        }
        let words = Arc::new(read());
        let size = words.text.len() + words.context.len();
        let fits = self
            .room
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |room| {
                room.checked_sub(size)
            })
            .is_ok();
        if fits && slot.set(Arc::clone(&words)).is_err() {
            // Another thread cached it first: give the room back.
            self.room.fetch_add(size, Ordering::Relaxed);
        }
        words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_cache_reads_a_passage_once() {
        let cache = WordCache::new(2);
        let mut reads = 0;
        let mut read = || {
            reads += 1;
            PassageWords::default()
        };
        let a = cache.get(1, &mut read);
        let b = cache.get(1, &mut read);
        assert!(Arc::ptr_eq(&a, &b));
        let _ = cache.get(99, &mut read); // Unknown ids are read, not cached.
        assert_eq!(reads, 2);
    }
}
