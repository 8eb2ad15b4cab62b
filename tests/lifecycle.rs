//! Start-up and shutdown of the real bot, beyond what tests/fake_api.rs covers in-process with
//! long polling:
//!
//! - webhook mode (`citebot::telegram::run` with `WEBHOOK_URL`): the webhook is registered with
//!   the Bot API server (URL and secret), updates posted to the hook with the right secret are
//!   answered, posts without it are refused, and the bot stops cleanly;
//! - the real `citebot serve` binary stops on SIGTERM and on SIGINT with exit code 0, after
//!   its answers are sent and the update offset is confirmed, so that nothing is delivered
//!   twice after a restart;
//! - the real binary, given a token Telegram rejects, exits non-zero with one line of advice
//!   that does not show the token.
//!
//! Everything talks to the fake Bot API server of tests/fake/mod.rs on 127.0.0.1. Every test
//! is bounded in time, and a spawned `citebot` is killed when its test ends, also on failure.

mod fake;

use std::io::{self, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use citebot::config::Config;
use citebot::telegram::Ctx;
use fake::{FakeApi, Fault, TOKEN};
use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::timeout;

const KABULOV: &str = "What did Kabulov say about a US withdrawal?";

/// Every test is bounded: a hang fails the test instead of the CI job.
const LIMIT: Duration = Duration::from_secs(60);

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
    listener.local_addr().unwrap().port()
}

/// The messages delivered to `chat`.
fn sent_to(api: &FakeApi, chat: i64) -> Vec<fake::Call> {
    let mut calls = api.done("sendMessage");
    calls.retain(|c| c.chat_id() == Some(chat));
    calls
}

/// Waits until a message was delivered to `chat`, and returns the first one.
async fn answer(api: &FakeApi, chat: i64) -> fake::Call {
    api.wait_for(
        Duration::from_secs(20),
        &format!("an answer in chat {chat}"),
        |api| !sent_to(api, chat).is_empty(),
    )
    .await;
    sent_to(api, chat).remove(0)
}

// ---------------------------------------------------------------------------------------------
// Webhook mode, in-process.

/// An update with a private text message from user `chat`, as Telegram posts it.
fn update_json(update_id: i64, chat: i64, message_id: i64, text: &str) -> String {
    json!({"update_id": update_id, "message": fake::text_message(chat, message_id, text)})
        .to_string()
}

#[tokio::test]
async fn webhook_mode_registers_the_hook_answers_posts_with_the_secret_and_refuses_others() {
    timeout(LIMIT, async {
        fake::init_logs();
        let api = FakeApi::start().await;
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let hook_url = format!("http://{addr}/hook");
        let vars = [
            ("WEBHOOK_URL", hook_url.clone()),
            ("WEBHOOK_LISTEN", addr.to_string()),
            ("WEBHOOK_SECRET", "s3cret".to_string()),
        ];
        let config = Config::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        })
        .expect("a webhook config");

        let bot = api.bot();
        let ctx = Arc::new(Ctx::new(fake::engine()));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            citebot::telegram::run(bot, ctx, &config, shutdown).await
        });

        // The hook is registered with the Bot API server, then served.
        api.wait_for(Duration::from_secs(10), "setWebhook", |api| {
            !api.calls("setWebhook").is_empty()
        })
        .await;
        let set = api.calls("setWebhook").remove(0);
        assert!(set.ok(), "{set:#?}");
        assert_eq!(
            set.body["url"].as_str(),
            Some(hook_url.as_str()),
            "{set:#?}"
        );
        assert_eq!(
            set.body["secret_token"].as_str(),
            Some("s3cret"),
            "{set:#?}"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).await.is_err() {
            assert!(Instant::now() < deadline, "nothing listens on {addr}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // Posts that do not carry the secret are refused and not answered.
        let wrong = fake::post_update(
            addr,
            "/hook",
            Some("wrong"),
            &update_json(1, 13, 1, KABULOV),
        )
        .await
        .expect("the hook answers");
        assert_eq!(wrong, 401, "a wrong secret");
        let missing = fake::post_update(addr, "/hook", None, &update_json(2, 14, 1, KABULOV))
            .await
            .expect("the hook answers");
        assert_eq!(missing, 401, "no secret");

        // A post with the secret is answered through the Bot API.
        let right = fake::post_update(
            addr,
            "/hook",
            Some("s3cret"),
            &update_json(3, 42, 77, KABULOV),
        )
        .await
        .expect("the hook answers");
        assert_eq!(right, 200);
        let sent = answer(&api, 42).await;
        assert!(sent.text().contains("¶4"), "{}", sent.text());
        assert_eq!(sent.reply_to(), Some(77));
        // Nothing else is on its way.
        tokio::time::sleep(Duration::from_millis(300)).await;

        let _ = stop.send(());
        let result = timeout(Duration::from_secs(15), task)
            .await
            .expect("the bot stops within 15 s")
            .expect("the bot task does not panic");
        assert!(result.is_ok(), "a graceful stop is Ok: {result:?}");

        assert!(sent_to(&api, 13).is_empty() && sent_to(&api, 14).is_empty());
        assert_eq!(api.calls("sendMessage").len(), 1, "one answer");
        assert!(
            api.calls("getUpdates").is_empty(),
            "no long polling in webhook mode"
        );
        // With several replicas behind the URL, one that stops must not switch delivery off
        // for the others.
        assert!(
            api.calls("deleteWebhook").is_empty(),
            "the webhook stays in place after a stop"
        );
    })
    .await
    .expect("within the time limit");
}

// ---------------------------------------------------------------------------------------------
// The real binary.

/// `citebot serve`, running against a fake server; killed when dropped.
struct Serve {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        // Fails only when the process has already been reaped, which is fine.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Starts `citebot serve` with the fake server's URL and token, and no other settings than
    /// the knowledge folder and `RUST_LOG` (`None`: unset, the default filter).
    fn spawn(api: &FakeApi, rust_log: Option<&str>) -> Serve {
        Serve::spawn_with(api, rust_log, &[])
    }

    /// [`Serve::spawn`], with more settings.
    fn spawn_with(api: &FakeApi, rust_log: Option<&str>, vars: &[(&str, &str)]) -> Serve {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_citebot"));
        // A developer's .env (read from the working directory) or environment must not change
        // what the test sees.
        cmd.current_dir(std::env::temp_dir());
        for var in [
            "INDEX_DIR",
            "WEBHOOK_URL",
            "WEBHOOK_LISTEN",
            "WEBHOOK_SECRET",
            "ALLOWED_CHATS",
            "FLOOD_LIMIT",
            "MAX_QUESTION_CHARS",
            "RUST_LOG",
            "RUST_BACKTRACE",
            "NO_COLOR",
            "DATA_DIR",
            "ADMIN_IDS",
        ] {
            cmd.env_remove(var);
        }
        // No record unless a test asks for one (it would land in the temp folder).
        cmd.env("RECORD", "off");
        cmd.env("TELOXIDE_TOKEN", TOKEN)
            .env("TELOXIDE_API_URL", api.url.as_str())
            .env(
                "KNOWLEDGE_DIR",
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"),
            );
        if let Some(filter) = rust_log {
            cmd.env("RUST_LOG", filter);
        }
        cmd.envs(vars.iter().copied());
        cmd.arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("citebot starts");
        let mut pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let reader = std::thread::spawn({
            let stderr = Arc::clone(&stderr);
            move || {
                let mut buf = [0; 4096];
                // Ends when the process (the only writer) has exited.
                while let Ok(n @ 1..) = pipe.read(&mut buf) {
                    let text = String::from_utf8_lossy(&buf[..n]);
                    stderr.lock().unwrap().push_str(&text);
                }
            }
        });
        Serve {
            child,
            stderr,
            reader: Some(reader),
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed: {status}");
    }

    /// Waits for the process to exit, then for its stderr to be read to the end; returns the
    /// exit status and stderr. Panics after `within`.
    async fn exit(&mut self, within: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = self
                .child
                .try_wait()
                .expect("the process can be waited for")
            {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "citebot did not exit within {within:?}; stderr:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        while !self.reader.as_ref().is_none_or(|r| r.is_finished()) {
            assert!(Instant::now() < deadline, "stderr still open after exit");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the stderr reader does not panic");
        }
        let stderr = self.stderr();
        // Shown with --nocapture, or when the test fails.
        eprintln!("citebot exited: {status}; its stderr:\n{stderr}");
        (status, stderr)
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

/// Starts `citebot serve`, has it answer one question, sends it `signal`, and checks that it
/// exits with 0 soon, says why, and confirmed the update. Returns the fake server, for more.
async fn stops_gracefully_on(signal: &str) -> FakeApi {
    let api = FakeApi::start().await;
    let mut serve = Serve::spawn(&api, Some("info"));
    api.wait_for(Duration::from_secs(20), "the first getUpdates", |api| {
        !api.calls("getUpdates").is_empty()
    })
    .await;
    let update = api.push_text(42, 77, KABULOV);
    let sent = answer(&api, 42).await;
    assert!(sent.text().contains("¶4"), "{}", sent.text());

    let t0 = Instant::now();
    serve.signal(signal);
    let (status, stderr) = serve.exit(Duration::from_secs(5)).await;
    let took = t0.elapsed();
    eprintln!("citebot exited {took:?} after SIG{signal}");
    assert_eq!(status.code(), Some(0), "{status}; stderr:\n{stderr}");
    assert!(
        stderr.contains(&format!("SIG{signal} received")),
        "stderr:\n{stderr}"
    );
    assert!(stderr.contains("stopped"), "stderr:\n{stderr}");
    assert!(
        api.confirmed() > update,
        "update {update} confirmed before exiting (offset {})",
        api.confirmed()
    );
    assert_eq!(api.done("sendMessage").len(), 1, "one answer");
    api
}

#[tokio::test]
async fn the_binary_stops_on_sigterm_with_0_and_a_restart_does_not_answer_again() {
    timeout(LIMIT, async {
        let api = stops_gracefully_on("TERM").await;

        // A restart continues after the confirmed update.
        let mut again = Serve::spawn(&api, Some("info"));
        let polls = api.calls("getUpdates").len();
        api.wait_for(
            Duration::from_secs(20),
            "two getUpdates of the restarted bot",
            |api| api.calls("getUpdates").len() >= polls + 2,
        )
        .await;
        let offsets: Vec<_> = api.calls("getUpdates")[polls..]
            .iter()
            .map(|c| c.body["offset"].as_i64())
            .collect();
        again.signal("TERM");
        let (status, stderr) = again.exit(Duration::from_secs(5)).await;
        assert_eq!(status.code(), Some(0), "{status}; stderr:\n{stderr}");
        assert_eq!(
            api.done("sendMessage").len(),
            1,
            "nothing re-delivered and answered again (offsets asked: {offsets:?})"
        );
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn the_binary_stops_on_sigint_with_0() {
    timeout(LIMIT, stops_gracefully_on("INT"))
        .await
        .expect("within the time limit");
}

#[tokio::test]
async fn an_answer_being_sent_when_sigterm_comes_is_still_delivered() {
    timeout(LIMIT, async {
        let api = FakeApi::start().await;
        api.set_send_delay(Duration::from_millis(1_500));
        let mut serve = Serve::spawn(&api, Some("info"));
        let update = api.push_text(42, 77, KABULOV);
        api.wait_for(Duration::from_secs(20), "the answer on its way", |api| {
            !api.calls("sendMessage").is_empty()
        })
        .await;
        serve.signal("TERM");
        let (status, stderr) = serve.exit(Duration::from_secs(10)).await;
        assert_eq!(status.code(), Some(0), "{status}; stderr:\n{stderr}");
        // Had the process exited first, the connection would have closed and the fake would
        // not have recorded the message as delivered.
        assert_eq!(api.done("sendMessage").len(), 1, "delivered before exiting");
        assert!(
            api.confirmed() > update,
            "update {update} confirmed before exiting (offset {})",
            api.confirmed()
        );
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn the_binary_exits_non_zero_with_one_line_of_advice_when_the_token_is_rejected() {
    timeout(LIMIT, async {
        let api = FakeApi::start().await;
        api.fail_next("getMe", [Fault::unauthorized()]);
        // The default log filter: what someone starting the bot sees.
        let mut serve = Serve::spawn(&api, None);
        let (status, stderr) = serve.exit(Duration::from_secs(20)).await;

        assert!(
            status.code().is_some_and(|c| c != 0),
            "{status}; stderr:\n{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
        fake::assert_refused_token_handled(&api, &stderr);
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn a_webhook_address_in_use_is_a_failure_not_a_clean_exit() {
    timeout(LIMIT, async {
        let api = FakeApi::start().await;
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let addr = taken.local_addr().unwrap().to_string();
        let url = format!("http://{addr}/hook");
        let mut serve = Serve::spawn_with(
            &api,
            None,
            &[("WEBHOOK_URL", &url), ("WEBHOOK_LISTEN", &addr)],
        );
        let (status, stderr) = serve.exit(Duration::from_secs(20)).await;
        drop(taken);
        assert!(
            status.code().is_some_and(|c| c != 0),
            "a service manager must see the failure: {status}; stderr:\n{stderr}"
        );
        assert!(stderr.contains(&addr), "the address is named:\n{stderr}");
        assert!(!stderr.contains("panicked"), "no panic message:\n{stderr}");
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn logs_written_to_a_pipe_are_plain_text() {
    timeout(LIMIT, async {
        let api = FakeApi::start().await;
        let mut serve = Serve::spawn(&api, None);
        api.wait_for(Duration::from_secs(20), "the first getUpdates", |api| {
            !api.calls("getUpdates").is_empty()
        })
        .await;
        serve.signal("TERM");
        let (status, stderr) = serve.exit(Duration::from_secs(5)).await;
        assert_eq!(status.code(), Some(0), "{status}; stderr:\n{stderr}");
        assert!(stderr.contains("connected to Telegram"), "{stderr}");
        assert!(!stderr.contains('\x1b'), "escape codes in {stderr:?}");
    })
    .await
    .expect("within the time limit");
}

/// Starts `citebot serve` with `faults` on the Bot API, waits until `ready`, sends SIGTERM
/// and checks the process exits with 0 within 3 s, whatever Telegram does.
async fn stops_within_3_s(
    api: FakeApi,
    faults: impl Fn(&str, u64) -> Option<Fault> + Send + 'static,
    ready: impl Fn(&FakeApi) -> bool,
    what: &str,
) {
    timeout(LIMIT, async {
        api.fail_when(faults);
        let mut serve = Serve::spawn(&api, Some("info"));
        api.wait_for(Duration::from_secs(20), what, ready).await;
        let t0 = Instant::now();
        serve.signal("TERM");
        let (status, stderr) = serve.exit(Duration::from_secs(10)).await;
        let took = t0.elapsed();
        assert_eq!(status.code(), Some(0), "{status}; stderr:\n{stderr}");
        assert!(
            took < Duration::from_secs(3),
            "{what}: exited after {took:?}"
        );
    })
    .await
    .expect("within the time limit")
}

#[tokio::test]
async fn sigterm_during_an_outage_exits_within_3_s() {
    // Real 502s, after each of which teloxide pauses 10 s.
    stops_within_3_s(
        FakeApi::start().await,
        |method, n| (method == "getUpdates" && n >= 2).then(Fault::bad_gateway),
        |api| api.calls("getUpdates").len() >= 2,
        "a getUpdates answered 502",
    )
    .await;
}

#[tokio::test]
async fn sigterm_against_a_server_that_never_answers_exits_within_3_s() {
    stops_within_3_s(
        FakeApi::start().await,
        |method, n| (method == "getUpdates" && n >= 2).then_some(Fault::Hang),
        |api| api.calls("getUpdates").len() >= 2,
        "a getUpdates that hangs",
    )
    .await;
}

#[tokio::test]
async fn sigterm_during_a_long_retry_after_exits_within_3_s() {
    let api = FakeApi::start().await;
    api.push_text(42, 1, KABULOV);
    stops_within_3_s(
        api,
        |method, _| (method == "sendMessage").then(|| Fault::retry_after(60)),
        |api| !api.calls("sendMessage").is_empty(),
        "a sendMessage told to retry after 60 s",
    )
    .await;
}

/// The signal lands during a burst of questions (1,000 from 200 chats, more than the
/// answering threads can take at once): the ones waiting for a thread are let go, and the bot
/// still stops within 3 s.
#[tokio::test]
async fn sigterm_during_a_burst_of_questions_exits_within_3_s() {
    const QUESTIONS: [&str; 4] = [
        KABULOV,
        "Who is Khalifa Haftar?",
        "Why does Moscow talk to the Taliban?",
        "What did Russia get from Egypt?",
    ];
    let api = FakeApi::start().await;
    for i in 0..1_000 {
        api.push_text(
            10_000 + (i % 200),
            1 + i / 200,
            QUESTIONS[i as usize % QUESTIONS.len()],
        );
    }
    stops_within_3_s(
        api,
        |_, _| None,
        |api| api.calls("sendMessage").len() >= 20,
        "the first 20 answers of the burst",
    )
    .await;
}

/// The signal lands while the dispatcher is busy with chatter from 3,000 groups, ten times.
#[tokio::test]
async fn sigterm_under_a_burst_of_group_chatter_always_exits() {
    timeout(Duration::from_secs(120), async {
        for round in 0..10 {
            let api = FakeApi::start().await;
            for g in 0..3_000 {
                let chat = -1_000_000 - g;
                api.push(
                    "message",
                    fake::text_message(chat, 1, "nice weather in the group"),
                );
            }
            let mut serve = Serve::spawn(&api, Some("info"));
            api.wait_for(Duration::from_secs(20), "the first getUpdates", |api| {
                !api.calls("getUpdates").is_empty()
            })
            .await;
            tokio::time::sleep(Duration::from_millis(50 * round)).await;
            let t0 = Instant::now();
            serve.signal("TERM");
            let (status, stderr) = serve.exit(Duration::from_secs(10)).await;
            let took = t0.elapsed();
            assert_eq!(status.code(), Some(0), "round {round}: {status}; {stderr}");
            assert!(took < Duration::from_secs(3), "round {round}: {took:?}");
        }
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn webhook_delete_is_an_explicit_command() {
    let api = FakeApi::start().await;
    let url = api.url.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_citebot"))
            .current_dir(std::env::temp_dir())
            .env("TELOXIDE_TOKEN", TOKEN)
            .env("TELOXIDE_API_URL", url)
            .args(["webhook", "delete"])
            .output()
            .expect("citebot runs")
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(api.calls("deleteWebhook").len(), 1);
}

/// An update teloxide cannot parse is logged by id and kind, never with what was written in
/// it, whether it comes by webhook or by polling.
#[tokio::test]
async fn unparsed_updates_are_logged_without_their_text() {
    const SECRET_WORDS: &str = "my very private question";
    timeout(LIMIT, async {
        // By polling: an update of a kind teloxide does not know.
        let api = FakeApi::start().await;
        api.push("brand_new_kind", json!({"text": SECRET_WORDS}));
        let mut serve = Serve::spawn(&api, None);
        api.wait_for(Duration::from_secs(20), "the update confirmed", |api| {
            api.confirmed() > 1
        })
        .await;
        serve.signal("TERM");
        let (status, stderr) = serve.exit(Duration::from_secs(5)).await;
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains(SECRET_WORDS), "stderr:\n{stderr}");
        assert!(stderr.contains("brand_new_kind"), "stderr:\n{stderr}");

        // By webhook: a body that is not a valid update.
        let api = FakeApi::start().await;
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let url = format!("http://{addr}/hook");
        let mut serve = Serve::spawn_with(
            &api,
            None,
            &[
                ("WEBHOOK_URL", &url),
                ("WEBHOOK_LISTEN", &addr.to_string()),
                ("WEBHOOK_SECRET", "s3cret"),
            ],
        );
        api.wait_for(Duration::from_secs(20), "setWebhook", |api| {
            !api.calls("setWebhook").is_empty()
        })
        .await;
        let body = json!({"update_id": 5, "message": {"text": SECRET_WORDS}}).to_string();
        let mut posted = Err(io::Error::other("not yet"));
        for _ in 0..50 {
            posted = fake::post_update(addr, "/hook", Some("s3cret"), &body).await;
            if posted.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(posted.unwrap(), 200);
        tokio::time::sleep(Duration::from_millis(200)).await;
        serve.signal("TERM");
        let (status, stderr) = serve.exit(Duration::from_secs(5)).await;
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains(SECRET_WORDS), "stderr:\n{stderr}");
        assert!(stderr.contains("update_id 5"), "stderr:\n{stderr}");
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn sighup_reloads_the_knowledge_and_the_record_survives_a_restart() {
    timeout(LIMIT * 2, async {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let knowledge = fake::knowledge_copy();
        let data = tempfile::tempdir().unwrap();
        let vars = [
            ("KNOWLEDGE_DIR", knowledge.path().to_str().unwrap()),
            ("DATA_DIR", data.path().to_str().unwrap()),
            ("RECORD", "on"),
        ];
        let api = FakeApi::start().await;
        let mut serve = Serve::spawn_with(&api, Some("info"), &vars);
        api.wait_for(Duration::from_secs(20), "the first getUpdates", |api| {
            !api.calls("getUpdates").is_empty()
        })
        .await;
        api.push_text(42, 1, KABULOV);
        assert!(answer(&api, 42).await.text().contains("¶4"));

        std::fs::copy(
            root.join("tests/data/library/honeybees-in-winter.txt"),
            knowledge.path().join("honeybees-in-winter.txt"),
        )
        .unwrap();
        serve.signal("HUP");
        let reloaded = Instant::now();
        while !serve.stderr().contains("knowledge reloaded") {
            assert!(
                reloaded.elapsed() < Duration::from_secs(30),
                "no reload after SIGHUP; stderr:\n{}",
                serve.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(serve.stderr().contains("added=1"), "{}", serve.stderr());
        api.push_text(43, 2, "How do bees keep warm in winter?");
        let bees = answer(&api, 43).await;
        assert!(bees.text().contains("shivering"), "{}", bees.text());

        serve.signal("TERM");
        let (status, _) = serve.exit(Duration::from_secs(5)).await;
        assert_eq!(status.code(), Some(0));
        let db = data.path().join(citebot::record::DB_FILE);
        assert_eq!(citebot::record::totals(&db).unwrap(), (2, 0, 2));

        // A restart adds to the same record, with the same keyed ids.
        let mut again = Serve::spawn_with(&api, Some("info"), &vars);
        api.push_text(42, 3, "Recommend a laptop for gaming");
        api.wait_for(
            Duration::from_secs(20),
            "an answer to the third question",
            |api| sent_to(api, 42).len() >= 2,
        )
        .await;
        again.signal("TERM");
        let (status, _) = again.exit(Duration::from_secs(5)).await;
        assert_eq!(status.code(), Some(0));
        assert_eq!(
            citebot::record::totals(&db).unwrap(),
            (3, 0, 2),
            "three questions from two chats"
        );
    })
    .await
    .expect("within the time limit");
}
