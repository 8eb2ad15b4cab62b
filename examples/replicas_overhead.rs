//! What Redis and PostgreSQL add to an answer, measured for docs/scaling.md:
//!
//! - the Redis calls the bot makes for one question, in the order it makes them (the
//!   update's guard, the flood count, then on the blocking pool the conversation's read
//!   and write), against the same steps in the process's memory;
//! - what recording a question costs the answer (handing it to the writer's queue), and
//!   how many questions a second the writer puts into PostgreSQL, and into SQLite.
//!
//! ```sh
//! eval "$(scripts/test-servers.sh start)"
//! cargo run --release --example replicas_overhead -- "$CITEBOT_TEST_REDIS_URL" "$CITEBOT_TEST_DATABASE_URL"
//! ```
//!
//! The database URL is an administrator's: the example makes a fresh database beside it.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use citebot::conversation::store::{ConversationStore, Key, MemoryStore};
use citebot::conversation::Context;
use citebot::record::{Asked, Location, Recorder, ServerUrl};
use citebot::replicas::{Shared, SharedStore};
use citebot::telegram::FloodGate;

const ANSWERS: usize = 5_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{what:<44} p50 {:>8.1} µs   p99 {:>8.1} µs   max {:>8.1} µs",
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        times.last().unwrap().as_secs_f64() * 1e6
    );
}

fn context(i: usize) -> Context {
    Context {
        question: format!("What did he warn about? {i}"),
        topic: vec!["Zamir Kabulov".into(), "withdrawal".into()],
        asks_for: citebot::answer_type::AnswerType::Statement,
        passage: Some(3),
    }
}

fn asked(i: usize) -> Asked {
    Asked {
        at: SystemTime::now(),
        chat_kind: "private",
        chat: i as i64,
        user: Some(i as u64),
        answer: (!i.is_multiple_of(5))
            .then(|| ("russias-afghanistan-strategy".into(), "¶4".into())),
        latency: Duration::from_millis(5),
        context: i.is_multiple_of(3),
        verdict: if i.is_multiple_of(5) {
            citebot::record::Verdict::Closest
        } else {
            citebot::record::Verdict::Answer
        },
        question: "What did Kabulov say about a US withdrawal?".into(),
    }
}

/// Questions a second the writer puts into `location`: `rounds` times a full queue.
fn write_rate(location: Location, rounds: usize) -> f64 {
    let per_round = 10_000;
    let started = Instant::now();
    for round in 0..rounds {
        let record = Recorder::start_at(location.clone(), vec![7; 32]);
        for i in 0..per_round {
            record.question(asked(round * per_round + i));
        }
        record.close();
    }
    let total = (rounds * per_round) as f64;
    let (questions, _, _) = citebot::record::totals(&location).expect("the record reads back");
    assert!(questions as f64 >= total, "{questions} written of {total}");
    total / started.elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(redis_url), Some(admin)) = (args.next(), args.next()) else {
        eprintln!("usage: replicas_overhead REDIS_URL DATABASE_URL (an administrator's)");
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    println!("{ANSWERS} answers' worth of calls, one at a time:");
    let (redis_times, memory_times) = runtime.block_on(async {
        let shared = Arc::new(
            Shared::new(
                &redis_url,
                &format!("overhead-{}", std::process::id()),
                vec![7; 32],
            )
            .unwrap(),
        );
        let store = Arc::new(SharedStore::new(
            Arc::clone(&shared),
            MemoryStore::new(Duration::from_secs(900), 1000),
            Duration::from_secs(900),
        ));
        let memory = Arc::new(MemoryStore::new(Duration::from_secs(900), 100_000));
        let gate = FloodGate::new(20, Duration::from_secs(60));
        // Connect and warm up.
        for i in 0..200u32 {
            shared.first_delivery(i).await;
        }
        let mut redis_times = Vec::with_capacity(ANSWERS);
        let mut memory_times = Vec::with_capacity(ANSWERS);
        for i in 0..ANSWERS {
            let key = Key {
                chat: (i % 500) as i64,
                sender: None,
            };
            let started = Instant::now();
            assert!(shared.first_delivery(1_000_000 + i as u32).await);
            shared
                .count_question(&shared.hash("user", (i % 500) as i64))
                .await
                .expect("Redis answers");
            let s = Arc::clone(&store);
            tokio::task::spawn_blocking(move || {
                let _ = s.get(key).unwrap();
                s.put(key, context(i)).unwrap();
            })
            .await
            .unwrap();
            redis_times.push(started.elapsed());

            let started = Instant::now();
            gate.check(
                citebot::telegram::flood::Sender::User(teloxide::types::UserId((i % 500) as u64)),
                Instant::now(),
            );
            let m = Arc::clone(&memory);
            tokio::task::spawn_blocking(move || {
                let _ = m.get(key).unwrap();
                m.put(key, context(i)).unwrap();
            })
            .await
            .unwrap();
            memory_times.push(started.elapsed());
        }
        assert!(shared.is_up(), "Redis stayed up throughout");
        (redis_times, memory_times)
    });
    report("with Redis (guard, count, read, write)", redis_times);
    report("in memory (gate, read, write)", memory_times);

    // Recording: the answer's part, then the writer's rate.
    let database = {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        let name = format!("overhead_{}", std::process::id());
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (base, _) = admin.rsplit_once('/').unwrap();
        format!("{base}/{name}")
    };
    let location = Location::Postgres(ServerUrl::new(database));
    let record = Recorder::start_at(location.clone(), vec![7; 32]);
    let mut handing = Vec::with_capacity(ANSWERS);
    for i in 0..ANSWERS {
        let started = Instant::now();
        record.question(asked(i));
        handing.push(started.elapsed());
        // Slower than the writer, as a bot is: nothing is dropped.
        if i % 500 == 499 {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    record.close();
    report("recording a question (to the queue)", handing);
    let postgres = write_rate(location, 5);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = write_rate(Location::Sqlite(dir.path().join("citebot.db")), 5);
    println!("the writer: {postgres:.0} questions/s into PostgreSQL, {sqlite:.0} into SQLite");
}
