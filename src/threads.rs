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
//! answers at most `THREADS` questions at once, each on a thread of its own off the async
//! threads (see `telegram`): a burst of questions waits its turn rather than crowding the
//! cores, and the threads that receive updates and send replies are never the ones computing.

use std::sync::OnceLock;

/// The pool batch jobs share, sized once by [`configure`] (the cores, when it was never
/// called: tests, benches).
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

/// Runs `f` with rayon's parallel iterators kept on this thread. Candle's softmax and layer
/// norms use them: called from a thread outside any pool, each hands its rows to rayon's
/// global pool and waits, a dozen hand-offs a question, and each wakes a sleeping thread on
/// the other core (measured: a question's answer 5.1 ms that way, 3.4 ms on one thread). So
/// the first time, this thread becomes the one worker of a pool of its own, and everything
/// rayon is asked for here runs here. A thread that already works for a pool (the batch
/// pool) keeps using it: there, splitting the work is the point.
pub fn here<R>(f: impl FnOnce() -> R) -> R {
    thread_local! {
        static OWN_POOL: Option<rayon::ThreadPool> = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .use_current_thread()
            .build()
            .ok();
    }
    OWN_POOL.with(|_| ());
    f()
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

    /// Without `here`, rayon hands these items to its global pool's threads.
    #[test]
    fn parallel_work_asked_for_here_stays_on_this_thread() {
        use rayon::prelude::*;
        std::thread::spawn(|| {
            let me = std::thread::current().id();
            let ran_on: Vec<_> = here(|| {
                (0..1_000)
                    .into_par_iter()
                    .map(|_| std::thread::current().id())
                    .collect()
            });
            assert!(ran_on.iter().all(|&id| id == me));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn the_pool_has_a_thread_per_core_at_most() {
        let threads = pool().current_num_threads();
        assert!((1..=cores()).contains(&threads), "{threads}");
        assert_eq!(build(cores() + 10).current_num_threads(), cores());
        assert_eq!(build(0).current_num_threads(), 1);
    }
}
