//! The real bot under load and across a restart, against the fake Telegram Bot API of
//! tests/fake/mod.rs (issue "citebot under abuse and load"):
//!
//! - 1,000 questions from 200 chats while Telegram answers some calls with 429, 502 or a
//!   dropped connection: each answered exactly once, in order within a chat, in bounded time
//!   and memory.
//! - A stop and a fresh start in the middle of a stream of updates: none lost, none twice.
//!
//! In their own test binary so that the memory measured is this load's alone.

mod fake;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake::{FakeApi, Fault, RunningBot};

/// The questions of the public question set, with whether the article answers them.
fn questions() -> Vec<(String, bool)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/questions.jsonl");
    std::fs::read_to_string(path)
        .expect("the question set")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            let in_scope = !v["gold"].as_array().expect("gold").is_empty();
            (v["q"].as_str().expect("q").to_string(), in_scope)
        })
        .collect()
}

/// This process's resident memory, in KiB.
fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// The delivered answers (first message of each: the one replying to the question), by the
/// question's message_id, in the order Telegram received them.
fn replies(api: &FakeApi) -> Vec<(i64, fake::Call)> {
    api.done("sendMessage")
        .into_iter()
        .filter_map(|c| c.reply_to().map(|id| (id, c)))
        .collect()
}

const NO_ANSWER: &str = "couldn't find an answer";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_questions_from_200_chats_under_faults() {
    const CHATS: i64 = 200;
    const PER_CHAT: i64 = 5;
    let questions = questions();
    let api = FakeApi::start().await;
    // Some of everything, spread over the run. A 502 here is a real HTTP 502, on which
    // teloxide-core pauses 10 s before reading the answer: one on polling (which retries
    // after that and its own backoff), a few on "typing" (which the bot ignores), and a few
    // on sendMessage, which send.rs retries.
    api.fail_when(|method, n| match method {
        "sendMessage" if n % 50 == 0 => Some(Fault::retry_after(1)),
        "sendMessage" if n % 199 == 0 => Some(Fault::Drop),
        "sendMessage" if n % 331 == 0 => Some(Fault::bad_gateway()),
        "getUpdates" if n == 3 => Some(Fault::bad_gateway()),
        "getUpdates" if n == 6 => Some(Fault::Drop),
        "sendChatAction" if n % 300 == 0 => Some(Fault::bad_gateway()),
        _ => None,
    });

    let rss_before = vm_rss_kib();
    // Round-robin: the k-th question of every chat, then the next; message_id = question #.
    let mut asked: HashMap<i64, (i64, usize)> = HashMap::new();
    let mut order: HashMap<i64, Vec<i64>> = HashMap::new();
    for k in 0..PER_CHAT {
        for c in 0..CHATS {
            let i = (k * CHATS + c) as usize;
            let (chat, message_id) = (10_000 + c, i as i64 + 1);
            let q = i % questions.len();
            api.push_text(chat, message_id, &questions[q].0);
            asked.insert(message_id, (chat, q));
            order.entry(chat).or_default().push(message_id);
        }
    }
    let last_update = api.last_update_id();

    let t0 = Instant::now();
    let bot = RunningBot::start(&api);
    let total = asked.len();
    // Paced to Telegram's ~30 messages a second, 1,000 answers take at least 34 s.
    api.wait_for(Duration::from_secs(120), "1,000 answers", |api| {
        api.count_done("sendMessage") >= total
    })
    .await;
    let took = t0.elapsed();
    // Anything sent twice would arrive now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = vm_rss_kib();
    tokio::time::timeout(Duration::from_secs(15), bot.stop())
        .await
        .expect("stops in time")
        .expect("a graceful stop is Ok");

    let replies = replies(&api);
    let mut count: HashMap<i64, usize> = HashMap::new();
    for (id, call) in &replies {
        *count.entry(*id).or_default() += 1;
        let (chat, q) = asked[id];
        assert_eq!(call.chat_id(), Some(chat), "answer to {id} in its chat");
        let (question, in_scope) = &questions[q];
        if !in_scope {
            assert!(
                call.text().contains(NO_ANSWER),
                "{question}: {}",
                call.text()
            );
        }
        assert!(
            !call.text().contains("faster than I can read"),
            "no flood notice"
        );
    }
    let twice: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "answered more than once: {twice:?}");
    let lost: Vec<_> = asked.keys().filter(|id| !count.contains_key(id)).collect();
    assert!(lost.is_empty(), "never answered: {lost:?}");
    for (chat, asked_order) in &order {
        let answered: Vec<i64> = replies
            .iter()
            .filter(|(_, c)| c.chat_id() == Some(*chat))
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(
            &answered, asked_order,
            "answers in chat {chat} in question order"
        );
    }
    let faults = |method: &str| {
        api.calls(method)
            .iter()
            .filter(|c| c.fault.is_some())
            .count()
    };
    let (send_faults, poll_faults) = (faults("sendMessage"), faults("getUpdates"));
    assert!(
        send_faults >= 20 && poll_faults == 2,
        "faults were injected"
    );
    assert!(
        api.confirmed() > last_update,
        "all updates confirmed at stop"
    );
    let grown_mib = rss_after.saturating_sub(rss_before) / 1024;
    println!(
        "{total} answers in {took:.1?}; {send_faults} sendMessage faults, {poll_faults} \
         getUpdates faults; RSS {} MiB -> {} MiB",
        rss_before / 1024,
        rss_after / 1024
    );
    assert!(
        took >= Duration::from_secs(30),
        "paced to Telegram's limit: {took:?}"
    );
    assert!(took < Duration::from_secs(120), "{took:?}");
    assert!(grown_mib < 200, "memory grew by {grown_mib} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_of_a_stream_loses_and_repeats_nothing() {
    const UPDATES: i64 = 100;
    const CHATS: i64 = 20;
    tokio::time::timeout(Duration::from_secs(60), async {
        let questions = questions();
        let api = Arc::new(FakeApi::start().await);
        // Small pages and slow sends, so that the bot is mid-stream when it stops.
        api.set_page(10);
        api.set_send_delay(Duration::from_millis(20));
        // A stream: one update every 10 ms. The second half waits until the first bot is
        // asked to stop, so that the stop certainly comes mid-stream; it then flows on while
        // no bot runs and after the second one started.
        let (half_way, go_on) = tokio::sync::oneshot::channel::<()>();
        let pusher = tokio::spawn({
            let api = Arc::clone(&api);
            let questions: Vec<String> = questions.iter().map(|(q, _)| q.clone()).collect();
            async move {
                let push = |i: i64| {
                    let q = &questions[i as usize % questions.len()];
                    api.push_text(20_000 + i % CHATS, i + 1, q);
                };
                for i in 0..UPDATES / 2 {
                    push(i);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                go_on.await.unwrap();
                for i in UPDATES / 2..UPDATES {
                    push(i);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });

        let first = RunningBot::start(&api);
        api.wait_for(Duration::from_secs(20), "30 answers", |api| {
            replies(api).len() >= 30
        })
        .await;
        half_way.send(()).unwrap();
        first.stop().await.expect("a graceful stop is Ok");
        let by_first = replies(&api).len();
        let confirmed = api.confirmed();
        let polls_of_first = api.calls("getUpdates").len();

        let second = RunningBot::start(&api);
        pusher.await.unwrap();
        api.wait_for(Duration::from_secs(30), "100 answers", |api| {
            replies(api).len() >= UPDATES as usize
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        second.stop().await.expect("a graceful stop is Ok");

        let replies = replies(&api);
        let mut ids: Vec<i64> = replies.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=UPDATES).collect::<Vec<_>>(), "each once");
        assert!(
            (30..=UPDATES as usize / 2).contains(&by_first),
            "the first bot stopped mid-stream ({by_first} answers)"
        );
        // Updates are numbered like the messages: the first bot answered exactly what it had
        // confirmed, and the second started from there.
        let (first_ids, second_ids) = replies.split_at(by_first);
        assert!(first_ids.iter().all(|(id, _)| *id < confirmed));
        assert!(second_ids.iter().all(|(id, _)| *id >= confirmed));
        // The new bot knows no offset (it asks from 0); Telegram's confirmed offset is what
        // makes it resume there.
        let resumed = api.calls("getUpdates")[polls_of_first..]
            .iter()
            .find_map(|c| c.result.as_ref()?.as_array()?.first()?["update_id"].as_i64());
        assert_eq!(resumed, Some(confirmed));
        println!("first bot: {by_first} answers, confirmed offset {confirmed}");
    })
    .await
    .expect("within the time limit");
}
