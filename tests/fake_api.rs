//! End-to-end tests of the real bot (`citebot::telegram::run`, long polling) against a fake
//! Telegram Bot API server on 127.0.0.1 (tests/fake/mod.rs): what goes over the wire, start-up,
//! shutdown, and how the bot copes with Telegram's errors (429, 5xx, 403, 400, 401, dropped
//! connections), and a restart in the middle of a stream of updates. The load test is in
//! tests/fake_api_load.rs.

mod fake;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake::{FakeApi, Fault, RunningBot};
use serde_json::json;
use tokio::time::timeout;

const KABULOV: &str = "What did Kabulov say about a US withdrawal?";

/// Every test is bounded: a hang fails the test instead of the CI job.
const LIMIT: Duration = Duration::from_secs(30);

/// Waits until the bot polls, so that updates pushed afterwards go through long polling.
async fn started(api: &FakeApi) {
    api.wait_for(Duration::from_secs(10), "the first getUpdates", |api| {
        !api.calls("getUpdates").is_empty()
    })
    .await;
}

/// Waits until `n` messages to `chat` were delivered, and returns them.
async fn answers(api: &FakeApi, chat: i64, n: usize) -> Vec<fake::Call> {
    let delivered = |api: &FakeApi| {
        let mut calls = api.done("sendMessage");
        calls.retain(|c| c.chat_id() == Some(chat));
        calls
    };
    api.wait_for(
        Duration::from_secs(20),
        &format!("{n} answers in chat {chat}"),
        |api| delivered(api).len() >= n,
    )
    .await;
    delivered(api)
}

/// Starts the bot, asks `KABULOV` in chat 42 (message 77) while `faults` answer the first
/// `sendMessage` calls, waits for the answer to be delivered in `chat`, and stops the bot.
async fn ask_through_faults(faults: Vec<Fault>, chat: i64) -> (FakeApi, Vec<fake::Call>) {
    let api = FakeApi::start().await;
    api.fail_next("sendMessage", faults);
    let bot = RunningBot::start(&api);
    api.push_text(42, 77, KABULOV);
    let delivered = answers(&api, chat, 1).await;
    // Time for a wrong second answer to show up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    bot.stop().await.unwrap();
    (api, delivered)
}

#[tokio::test]
async fn a_question_gets_a_cited_html_reply_and_its_update_is_confirmed() {
    timeout(LIMIT, async {
        let api = FakeApi::start().await;
        let bot = RunningBot::start(&api);
        started(&api).await;
        let update = api.push_text(42, 77, KABULOV);
        let sent = answers(&api, 42, 1).await;
        // Nothing else is on its way.
        tokio::time::sleep(Duration::from_millis(300)).await;
        bot.stop().await.expect("a graceful stop is Ok");

        let sent = &sent[0];
        assert_eq!(api.done("sendMessage").len(), 1, "one answer");
        assert_eq!(sent.parse_mode(), Some("HTML"));
        assert!(sent.text().starts_with("<blockquote>"), "{}", sent.text());
        assert!(sent.text().contains("<b>Kabulov</b>"), "{}", sent.text());
        assert!(sent.text().contains("¶4"), "{}", sent.text());
        assert_eq!(sent.reply_to(), Some(77));
        assert_eq!(sent.body["link_preview_options"]["is_disabled"], true);
        assert_eq!(sent.buttons(), ["Full paragraph", "Next match", "👍", "👎"]);
        let typing = &api.done("sendChatAction")[0];
        assert_eq!(
            (typing.chat_id(), typing.body["action"].as_str()),
            (Some(42), Some("typing"))
        );
        assert!(typing.at <= sent.at, "typing is shown before the answer");

        let commands = &api.done("setMyCommands")[0];
        let names: Vec<&str> = commands.body["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["command"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ask", "summary", "new", "help", "about", "start"]);
        // The menu in English for everyone, then in Russian for Russian apps.
        let menus = api.done("setMyCommands");
        assert_eq!(menus.len(), 2, "{menus:#?}");
        assert!(menus[0].body.get("language_code").is_none());
        assert_eq!(menus[1].body["language_code"], "ru");
        assert_eq!(
            menus[1].body["commands"][0],
            json!({"command": "ask", "description": "Задать вопрос о статье"})
        );
        assert_eq!(
            menus[0].body["commands"][0]["description"],
            "Ask a question about the article"
        );
        assert!(
            api.confirmed() > update,
            "the bot confirmed update {update} before stopping (offset {})",
            api.confirmed()
        );
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn flood_control_and_a_dropped_connection_are_retried_and_the_answer_sent_once() {
    timeout(LIMIT, async {
        let (api, _) = ask_through_faults(vec![Fault::retry_after(1), Fault::Drop], 42).await;
        let calls = api.calls("sendMessage");
        assert_eq!(calls.len(), 3, "429, dropped, delivered: {calls:#?}");
        assert!(
            calls[1].at - calls[0].at >= Duration::from_secs(1),
            "retry_after is waited out"
        );
        assert_eq!(api.done("sendMessage").len(), 1);
        assert!(calls
            .iter()
            .all(|c| c.text() == calls[0].text() && c.reply_to() == Some(77)));
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn bad_gateway_is_retried_and_the_answer_sent_once() {
    timeout(LIMIT, async {
        // A real 502 status: teloxide-core itself pauses 10 s before reading it.
        let (api, _) =
            ask_through_faults(vec![Fault::retry_after(1), Fault::bad_gateway()], 42).await;
        let calls = api.calls("sendMessage");
        assert_eq!(calls.len(), 3, "429, 502, delivered: {calls:#?}");
        assert_eq!(api.done("sendMessage").len(), 1);
    })
    .await
    .expect("within the time limit");
}

/// Log lines, captured for one test.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// A current-thread runtime: the bot's tasks run on this thread, so the subscriber set for
// this thread sees their logs.
#[tokio::test(flavor = "current_thread")]
async fn a_blocked_chat_is_logged_and_skipped_and_the_rest_of_the_batch_answered() {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    timeout(LIMIT, async {
        let api = FakeApi::start().await;
        api.fail_chat(13, Fault::blocked());
        // Queued before the bot starts: one batch.
        api.push_text(13, 1, KABULOV);
        api.push_text(42, 2, KABULOV);
        api.push_text(13, 3, "Who is Mohammad Atmar?");
        let bot = RunningBot::start(&api);
        answers(&api, 42, 1).await;
        api.wait_for(Duration::from_secs(5), "both questions of chat 13", |api| {
            api.calls("sendMessage")
                .iter()
                .filter(|c| c.chat_id() == Some(13))
                .count()
                >= 2
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        bot.stop().await.unwrap();

        let to_13: Vec<_> = api
            .calls("sendMessage")
            .into_iter()
            .filter(|c| c.chat_id() == Some(13))
            .collect();
        assert_eq!(to_13.len(), 2, "one try per answer, no retries: {to_13:#?}");
        assert!(to_13.iter().all(|c| c.fault == Some(Fault::blocked())));
        assert_eq!(api.done("sendMessage").len(), 1, "chat 42 answered once");
        assert!(api.confirmed() > 3, "the batch was confirmed");
    })
    .await
    .expect("within the time limit");
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.lines()
            .any(|l| l.contains("chat unreachable") && l.contains("chat=13")),
        "{logs}"
    );
    assert!(!logs.contains("handler error"), "{logs}");
}

#[tokio::test]
async fn html_telegram_cannot_parse_is_sent_again_as_plain_text() {
    timeout(LIMIT, async {
        let (api, _) = ask_through_faults(vec![Fault::cant_parse_entities()], 42).await;
        let calls = api.calls("sendMessage");
        assert_eq!(calls.len(), 2, "{calls:#?}");
        assert_eq!(calls[0].parse_mode(), Some("HTML"));
        let plain = &calls[1];
        assert!(plain.ok() && plain.chat_id() == Some(42) && plain.reply_to() == Some(77));
        assert_eq!(plain.parse_mode(), None);
        assert!(plain.text().contains("Kabulov"), "{}", plain.text());
        assert!(plain.text().contains("¶4"), "{}", plain.text());
        for tag in ["<b>", "</b>", "<blockquote>", "<a href"] {
            assert!(!plain.text().contains(tag), "{tag} in {}", plain.text());
        }
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn a_rejected_token_ends_start_up_with_advice_and_without_the_token() {
    timeout(LIMIT, async {
        let api = FakeApi::start().await;
        api.fail_next("getMe", [Fault::unauthorized()]);
        let err = RunningBot::start(&api)
            .join()
            .await
            .expect_err("a rejected token is fatal");
        fake::assert_refused_token_handled(&api, &format!("{err:#} {err:?}"));
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn telegram_failing_at_start_up_is_retried_with_backoff() {
    timeout(LIMIT, async {
        let api = FakeApi::start().await;
        // The 502 body under status 200: the same error for teloxide, without the 10 s pause
        // teloxide-core adds on a 5xx status (tests/fake/mod.rs, Fault::status).
        let down = Fault::bad_gateway().status(200);
        api.fail_next("getMe", [down.clone(), down]);
        let t0 = Instant::now();
        let bot = RunningBot::start(&api);
        started(&api).await;
        api.push_text(42, 77, KABULOV);
        let sent = answers(&api, 42, 1).await;
        bot.stop().await.unwrap();

        assert!(sent[0].text().contains("¶4"));
        let get_me = api.calls("getMe");
        assert!(get_me[..2].iter().all(|c| c.fault.is_some()) && get_me[2].ok());
        let waited = get_me[2].at - get_me[0].at;
        assert!(
            waited >= Duration::from_millis(2_900),
            "1 s then 2 s of backoff, waited {waited:?}"
        );
        assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn inline_queries_offer_cited_passages() {
    timeout(LIMIT, async {
        let api = FakeApi::start().await;
        let bot = RunningBot::start(&api);
        let inline = |id: &str, query: &str| {
            json!({"id": id, "from": fake::user(42), "query": query, "offset": ""})
        };
        api.push("inline_query", inline("q1", KABULOV));
        api.push("inline_query", inline("q2", "  "));
        api.wait_for(Duration::from_secs(10), "two inline answers", |api| {
            api.done("answerInlineQuery").len() == 2
        })
        .await;
        bot.stop().await.unwrap();

        let answers = api.done("answerInlineQuery");
        let answer = answers
            .iter()
            .find(|c| c.body["inline_query_id"] == "q1")
            .unwrap();
        let results = answer.body["results"].as_array().unwrap();
        assert!(!results.is_empty());
        assert_eq!(results[0]["type"], "article");
        let content = &results[0]["input_message_content"];
        assert_eq!(content["parse_mode"], "HTML");
        let text = content["message_text"].as_str().unwrap();
        assert!(text.contains("¶4") && text.contains("<b>Kabulov</b>"), "{text}");
        for r in results {
            let html = r["input_message_content"]["message_text"].as_str().unwrap();
            fake::parse_html(html).unwrap_or_else(|why| panic!("{why}: {html}"));
        }
        let empty = answers
            .iter()
            .find(|c| c.body["inline_query_id"] == "q2")
            .unwrap();
        assert_eq!(empty.body["results"], json!([]));
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn buttons_under_an_answer_work_over_the_wire() {
    timeout(LIMIT, async {
        let api = FakeApi::start().await;
        let bot = RunningBot::start(&api);
        api.push_text(42, 77, KABULOV);
        let answer = answers(&api, 42, 1).await.remove(0);
        let answer_id = answer.result.as_ref().unwrap()["message_id"]
            .as_i64()
            .unwrap();
        // Telegram sends the message the button is under, with the message it replies to.
        let mut message = fake::bot_message(&json!(42), answer_id, answer.text());
        message["reply_to_message"] = fake::text_message(42, 77, KABULOV);
        let press = |id: &str, data: &str| {
            json!({"id": id, "from": fake::user(42), "chat_instance": "ci42",
                   "data": data, "message": message.clone()})
        };
        api.push("callback_query", press("cb1", "f:1:r"));
        let full = answers(&api, 42, 2).await.remove(1);
        api.push("callback_query", press("cb2", "v:1:u:r"));
        api.wait_for(Duration::from_secs(10), "the vote ticked", |api| {
            !api.done("editMessageReplyMarkup").is_empty()
        })
        .await;
        bot.stop().await.unwrap();

        assert!(
            full.text().contains("everything will collapse"),
            "{}",
            full.text()
        );
        assert_eq!(full.reply_to(), Some(answer_id));
        let acks = api.done("answerCallbackQuery");
        let ack_of = |id: &str| {
            acks.iter()
                .find(|c| c.body["callback_query_id"] == id)
                .map(|c| c.body["text"].as_str().unwrap_or("").to_string())
        };
        assert_eq!(ack_of("cb1").as_deref(), Some("Full paragraph"));
        assert!(ack_of("cb2").unwrap().starts_with("Thanks"));
        let edit = &api.done("editMessageReplyMarkup")[0];
        assert_eq!(edit.body["message_id"].as_i64(), Some(answer_id));
        // The vote cast is ticked; the other stays, to change it.
        assert_eq!(
            edit.buttons(),
            ["Full paragraph", "Next match", "👍 ✓", "👎"]
        );
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn a_deleted_question_is_answered_without_the_reply() {
    timeout(LIMIT, async {
        let gone = Fault::error(400, "Bad Request: message to be replied not found");
        let (api, delivered) = ask_through_faults(vec![gone], 42).await;
        assert_eq!(delivered[0].reply_to(), None);
        assert!(delivered[0].text().contains("¶4"));
        let calls = api.calls("sendMessage");
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].reply_to(), Some(77));
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn a_group_that_became_a_supergroup_is_followed() {
    timeout(LIMIT, async {
        let (api, delivered) =
            ask_through_faults(vec![Fault::migrated(-1001234567890)], -1001234567890).await;
        assert!(delivered[0].text().contains("¶4"));
        assert_eq!(api.calls("sendMessage")[0].chat_id(), Some(42));
    })
    .await
    .expect("within the time limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_of_a_stream_loses_and_repeats_nothing() {
    const UPDATES: i64 = 100;
    const CHATS: i64 = 20;
    tokio::time::timeout(Duration::from_secs(60), async {
        let questions = fake::questions();
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
            fake::replies(api).len() >= 30
        })
        .await;
        half_way.send(()).unwrap();
        first.stop().await.expect("a graceful stop is Ok");
        // On a loaded machine the grace period may run out with answers in flight: the bot
        // then confirms what it fetched and stops anyway, and those answers still land.
        // Count the first bot's answers once they have.
        let mut by_first = fake::replies(&api).len();
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = fake::replies(&api).len();
            if now == by_first {
                break;
            }
            by_first = now;
        }
        let confirmed = api.confirmed();
        let polls_of_first = api.calls("getUpdates").len();

        let second = RunningBot::start(&api);
        pusher.await.unwrap();
        api.wait_for(Duration::from_secs(30), "100 answers", |api| {
            fake::replies(api).len() >= UPDATES as usize
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        second.stop().await.expect("a graceful stop is Ok");

        let replies = fake::replies(&api);
        let mut ids: Vec<i64> = replies.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=UPDATES).collect::<Vec<_>>(), "each once");
        // The first bot may still fetch a few of the second half before its stop takes
        // effect, and answers what it fetched: "mid-stream" is that both bots answered.
        assert!(
            (30..UPDATES as usize).contains(&by_first),
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

/// The fake is as strict as Telegram about replies: a sent reply carries the message it
/// answers, one level deep.
#[tokio::test]
async fn a_sent_reply_carries_the_question_it_answers() {
    let api = FakeApi::start().await;
    let bot = fake::RunningBot::start(&api);
    api.push_text(42, 77, "Who is Khalifa Haftar?");
    api.wait_for(Duration::from_secs(20), "the answer", |api| {
        api.count_done("sendMessage") >= 1
    })
    .await;
    let sent = api.done("sendMessage").remove(0);
    let result = sent.result.expect("a sent message");
    assert_eq!(result["reply_to_message"]["message_id"], 77);
    assert_eq!(result["reply_to_message"]["text"], "Who is Khalifa Haftar?");
    assert!(result["reply_to_message"]["reply_to_message"].is_null());
    bot.stop().await.unwrap();
}

/// A reply to an earlier answer is a follow-up of that answer even when the bot that sent
/// it has restarted since (or is another replica): the answer itself carries the context.
#[tokio::test]
async fn a_reply_follow_up_is_understood_right_after_a_restart() {
    timeout(LIMIT, async {
        let api = FakeApi::start().await;
        let bot = RunningBot::start(&api);
        api.push_text(42, 77, "Who is Zamir Kabulov?");
        let first = answers(&api, 42, 1).await.remove(0);
        assert!(first.text().contains("¶4"), "{}", first.text());
        bot.stop().await.unwrap();

        // A new process: no conversation in memory.
        let bot = RunningBot::start(&api);
        let delivered = first
            .result
            .clone()
            .expect("the answer as Telegram returned it");
        let mut reply = fake::text_message(42, 80, "What did he warn about?");
        reply["reply_to_message"] = delivered;
        api.push("message", reply);
        let answer = answers(&api, 42, 2).await.remove(1);
        bot.stop().await.unwrap();

        assert!(
            answer
                .text()
                .starts_with("↪ <i>What did he warn about? (about Zamir Kabulov)</i>"),
            "{}",
            answer.text()
        );
        assert!(answer.text().contains("¶4"), "{}", answer.text());
        assert_eq!(answer.reply_to(), Some(80));
    })
    .await
    .expect("within the time limit");
}

/// An admin sends a file: the bot downloads it (getFile, then the file), adds it to the
/// knowledge folder, reloads, says what it found, and answers from it. A file that cannot
/// be read changes nothing and says why; anyone else's file is not downloaded.
#[tokio::test]
async fn a_file_an_admin_sends_is_added_and_answered_from() {
    timeout(LIMIT * 2, async {
        let api = FakeApi::start().await;
        let knowledge = fake::knowledge_copy();
        let options = citebot::Options::new(knowledge.path());
        let engine = citebot::Engine::load(&options).unwrap();
        let mut ctx = citebot::telegram::ctx::Ctx::new(Arc::new(engine));
        ctx.admins = [5].into_iter().collect();
        ctx.reload_from = Some(options);
        let bot = RunningBot::start_with(&api, ctx);
        started(&api).await;

        let notes = "# How Honeybees Survive the Winter\n\nBy Jane Doe\n\n\
                     Honeybees survive the winter by clustering together inside the hive and \
                     shivering their flight muscles to make heat, which keeps the queen warm.\n";
        api.push_file(5, 10, "bees.md", notes.as_bytes());
        let said = answers(&api, 5, 1).await;
        let said = said[0].text();
        assert!(
            said.contains("Added “How Honeybees Survive the Winter” (Jane Doe): 1 paragraph.")
                && said.contains("Reloaded: 2 documents"),
            "{said}"
        );
        assert!(knowledge.path().join("bees.md").exists());
        api.push_text(5, 11, "How do bees keep warm in winter?");
        let said = answers(&api, 5, 2).await;
        assert!(said[1].text().contains("shivering"), "{}", said[1].text());

        api.push_file(5, 12, "scan.txt", &[0u8, 1, 2, 3, 4, 5, 6, 7].repeat(300));
        let said = answers(&api, 5, 3).await;
        assert!(
            said[2]
                .text()
                .starts_with("Not added, nothing changed:\n<code>scan.txt: is not text"),
            "{}",
            said[2].text()
        );
        assert!(!knowledge.path().join("scan.txt").exists());

        let downloads = api.calls("getFile").len();
        api.push_file(6, 13, "mine.md", notes.as_bytes());
        let said = answers(&api, 6, 1).await;
        assert!(said[0]
            .text()
            .starts_with("Only the bot's admins can add documents"));
        assert_eq!(api.calls("getFile").len(), downloads, "not downloaded");
        bot.stop().await.unwrap();
    })
    .await
    .expect("within the limit");
}
