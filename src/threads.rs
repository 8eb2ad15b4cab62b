//! The cores: how citebot shares them out between one question and many.
//!
//! A question is small work (10 to 15 word pieces through the sentence model, then ranking a
//! few dozen passages). Split across threads that must all be scheduled before it finishes,
//! it waits for idle cores: measured on a 2-core machine with a build running beside it, a
//! question's embedding took 88 ms that way and 6 ms on the thread that asked. So the model
//! runs every matrix product of one question on the calling thread ([`configure`]), and many
//! chats at once are served by answering several questions in parallel, each on its own
//! thread, not by splitting one.
//!
//! Batch work (embedding every sentence of the knowledge) is shared out over one pool of
//! `THREADS` threads ([`pool`]): each thread embeds whole batches, one after another. The bot
//! answers on the same pool, a question per thread: a burst of questions waits in its queue
//! rather than starting a thread each and crowding the cores, and the async threads that
//! receive updates and send replies are never the ones computing.

use std::sync::OnceLock;

/// The pool every batch job and the bot's answering share, sized once by [`configure`] (the
/// cores, when it was never called: tests, benches).
static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();

/// The number of cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Sets how citebot uses the cores: the model's own thread pools down to the calling thread,
/// and the shared pool to `threads` threads (never more than the cores). Call it first thing
/// in `main`, while the process has one thread: it sets environment variables, which candle
/// reads (it has no other setting for its threads), and another thread reading the
/// environment at the same time could see it half written.
pub fn configure(threads: usize) {
    for variable in ["CANDLE_NUM_THREADS", "RAYON_NUM_THREADS"] {
        // Safe Rust in edition 2021, and sound while no other thread reads the environment:
        // the process has one thread here.
        std::env::set_var(variable, "1");
    }
    let _ = POOL.set(build(threads));
}

/// The shared pool.
pub fn pool() -> &'static rayon::ThreadPool {
    POOL.get_or_init(|| build(cores()))
}

fn build(threads: usize) -> rayon::ThreadPool {
    let threads = threads.clamp(1, cores());
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("citebot-work-{i}"))
        .build()
        // Only the operating system refusing a thread ends up here: nothing can run then.
        .unwrap_or_else(|e| panic!("cannot start {threads} worker threads: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_has_a_thread_per_core_at_most() {
        let threads = pool().current_num_threads();
        assert!((1..=cores()).contains(&threads), "{threads}");
        assert_eq!(build(cores() + 10).current_num_threads(), cores());
        assert_eq!(build(0).current_num_threads(), 1);
    }
}
