//! Replicas that act as one bot, on real servers: Redis for conversations, the flood gate,
//! the updates answered and reloads; PostgreSQL for the record (see src/replicas.rs and
//! src/record/postgres.rs).
//!
//! - In process: two [`Shared`] clients of one Redis see one conversation, one flood count
//!   and one delivery of an update; a Redis that is away costs an answer no more than the
//!   timeout, and its memory takes over; the record in PostgreSQL reads back as SQLite's.
//! - The real binary: two `citebot serve` replicas in webhook mode against the fake Bot API
//!   (tests/fake), the test delivering each update to one of them in turn as a round-robin
//!   proxy would: a conversation followed across them, `/new` for both, one flood gate, one
//!   answer to an update delivered to both, a replica killed mid-conversation, Redis and then
//!   PostgreSQL stopped during a burst, a document an admin sends one replica answered from
//!   by the other (each with a folder of its own), and (ignored by default, run by .ci/run)
//!   2,000 questions from 500 chats answered and recorded once each.
//! - The files replicas share in PostgreSQL, synced into folders: written, replaced,
//!   removed, and nothing else of a folder touched.
//!
//! The servers come from `scripts/test-servers.sh` (tests/servers); without them these tests
//! fail, saying how to start them.

mod fake;
mod servers;

use std::io::{self, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use citebot::conversation::store::{ConversationStore, Key, MemoryStore};
use citebot::conversation::Context;
use citebot::record::{Asked, Location, Recorder, Report, ServerUrl, Verdict, Voted};
use citebot::replicas::files::{SharedFiles, Synced};
use citebot::replicas::{Shared, SharedStore};
use fake::{FakeApi, TOKEN};
use serde_json::json;
use tokio::net::TcpStream;

const SECRET: &[u8] = b"a secret the replicas of a test share, 32 bytes+";

fn context(question: &str) -> Context {
    Context {
        question: question.into(),
        topic: vec!["Zamir Kabulov".into()],
        asks_for: citebot::answer_type::AnswerType::Person,
        passage: Some(3),
    }
}

/// A conversation store on `shared`, as the bot makes one.
fn store(shared: &Arc<Shared>) -> Arc<SharedStore> {
    Arc::new(SharedStore::new(
        Arc::clone(shared),
        MemoryStore::new(Duration::from_secs(900), 100),
        Duration::from_secs(900),
    ))
}

/// Runs `f` on the blocking pool, as the bot calls the store.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_of_one_redis_share_conversations_flood_counts_and_deliveries() {
    let url = servers::redis_url();
    let ns = servers::namespace("shared");
    let a = Arc::new(Shared::new(&url, &ns, SECRET.to_vec()).unwrap());
    let b = Arc::new(Shared::new(&url, &ns, SECRET.to_vec()).unwrap());
    let (sa, sb) = (store(&a), store(&b));
    let key = Key {
        chat: -100,
        sender: Some(7),
    };
    let (sa2, sb2) = (Arc::clone(&sa), Arc::clone(&sb));
    blocking(move || {
        sa2.put(key, context("Who is Zamir Kabulov?")).unwrap();
        assert_eq!(
            sb2.get(key).unwrap(),
            Some(context("Who is Zamir Kabulov?")),
            "what one replica remembers the other reads"
        );
        assert_eq!(
            sb2.get(Key {
                chat: -100,
                sender: Some(8)
            })
            .unwrap(),
            None,
            "another member of the group has a conversation of their own"
        );
        sb2.remove(key).unwrap();
        assert_eq!(sa2.get(key).unwrap(), None, "/new on one is /new on both");
        sa2.put(key, context("again")).unwrap();
        sb2.clear().unwrap();
        assert_eq!(sa2.get(key).unwrap(), None, "a reload forgets them all");
    })
    .await;

    // Nothing personal in the keys.
    let keys = redis_keys(&url, &ns).await;
    assert!(
        keys.iter()
            .all(|k| !k.contains("-100") && !k.contains(":7")),
        "{keys:?}"
    );

    let who = a.hash("user", 42);
    let mut counts = Vec::new();
    for i in 0..6 {
        let replica = if i % 2 == 0 { &a } else { &b };
        counts.push(replica.count_question(&who).await.unwrap());
    }
    assert_eq!(counts, [1, 2, 3, 4, 5, 6], "one count for both replicas");

    assert!(a.first_delivery(1001).await);
    assert!(
        !b.first_delivery(1001).await,
        "the second delivery is refused"
    );
    assert!(!a.first_delivery(1001).await);
    assert!(b.first_delivery(1002).await);

    // Expiry is Redis's own.
    let short = Arc::new(SharedStore::new(
        Arc::clone(&a),
        MemoryStore::new(Duration::from_secs(1), 100),
        Duration::from_secs(1),
    ));
    let s = Arc::clone(&short);
    blocking(move || s.put(key, context("soon gone")).unwrap()).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let s = Arc::clone(&sb);
    assert_eq!(blocking(move || s.get(key).unwrap()).await, None);
}

/// The keys of namespace `ns`, read with redis-cli-like RESP over TCP (KEYS is fine in a test).
async fn redis_keys(url: &str, ns: &str) -> Vec<String> {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("KEYS")
        .arg(format!("citebot:{ns}:*"))
        .query_async(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_is_away_costs_no_more_than_the_timeout_and_memory_takes_over() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let shared = Arc::new(Shared::new(&url, "away", SECRET.to_vec()).unwrap());
    let s = store(&shared);
    let key = Key {
        chat: 5,
        sender: None,
    };
    let started = Instant::now();
    let s2 = Arc::clone(&s);
    let got = blocking(move || {
        s2.put(key, context("remembered in memory")).unwrap();
        s2.get(key).unwrap()
    })
    .await;
    assert_eq!(got, Some(context("remembered in memory")));
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert!(!shared.is_up());
    let started = Instant::now();
    assert_eq!(
        shared.count_question("x").await,
        None,
        "the gate falls back"
    );
    assert!(shared.first_delivery(1).await, "better twice than never");
    assert!(started.elapsed() < Duration::from_millis(200));
}

fn asked(chat: i64, answer: Option<(&str, &str)>, question: &str, at: u64) -> Asked {
    Asked {
        at: std::time::UNIX_EPOCH + Duration::from_secs(at),
        chat_kind: "private",
        chat,
        user: Some(chat as u64),
        answer: answer.map(|(d, p)| (d.to_string(), p.to_string())),
        latency: Duration::from_millis(12),
        context: false,
        verdict: if answer.is_some() {
            Verdict::Answer
        } else {
            Verdict::None
        },
        question: question.to_string(),
    }
}

/// The same events into SQLite and into PostgreSQL: the same report.
#[test]
fn the_record_in_postgres_reads_back_as_in_sqlite() {
    let db = ServerUrl::new(servers::fresh_database("record"));
    let dir = tempfile::tempdir().unwrap();
    let day = 20_000 * 86_400;
    let sqlite = Location::Sqlite(dir.path().join("citebot.db"));
    let postgres = Location::Postgres(db.clone());
    for at in [&sqlite, &postgres] {
        assert!(matches!(
            Report::load(at, std::time::UNIX_EPOCH, 7),
            Err(citebot::record::RecordError::Missing(_))
        ));
        let record = Recorder::start_at(at.clone(), SECRET.to_vec());
        record.question(asked(42, Some(("doc", "¶4")), "What did Kabulov say?", day));
        record.question(asked(42, None, "Who is Putin?", day + 60));
        record.question(asked(7, None, "who is putin", day + 120));
        for up in [true, false] {
            record.vote(Voted {
                at: std::time::UNIX_EPOCH + Duration::from_secs(day + 200),
                chat: 42,
                message: 10,
                rank: 1,
                user: 42,
                up,
                answer: Some(("doc".into(), "¶4".into())),
                verdict: Verdict::Answer,
                question: "What did Kabulov say?".into(),
            });
        }
        // A passage shown as the closest, and voted up: the cut point could have been lower.
        record.question(Asked {
            verdict: Verdict::Closest,
            ..asked(7, None, "What did he warn about?", day + 130)
        });
        record.vote(Voted {
            at: std::time::UNIX_EPOCH + Duration::from_secs(day + 210),
            chat: 7,
            message: 11,
            rank: 1,
            user: 7,
            up: true,
            answer: Some(("doc".into(), "¶9".into())),
            verdict: Verdict::Closest,
            question: "What did he warn about?".into(),
        });
        record.close();
    }
    let now = std::time::UNIX_EPOCH + Duration::from_secs(day + 300);
    let (a, b) = (
        Report::load(&sqlite, now, 7).unwrap(),
        Report::load(&postgres, now, 7).unwrap(),
    );
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&b).unwrap()
    );
    assert_eq!((b.questions, b.answered), (4, 1));
    assert_eq!(b.voted_down[0].down, 1, "voting again replaced the vote");
    let closest = citebot::record::Shown {
        shown: 1,
        up: 1,
        down: 0,
    };
    assert_eq!((b.sure.shown, b.closest), (1, closest));
    assert_eq!(
        citebot::record::totals(&postgres).unwrap(),
        citebot::record::totals(&sqlite).unwrap()
    );
    assert_eq!(
        citebot::record::recent_unanswered(&postgres, 10).unwrap(),
        citebot::record::recent_unanswered(&sqlite, 10).unwrap()
    );
    // A second writer (another replica) migrates nothing twice and adds to the same tables.
    let again = Recorder::start_at(postgres.clone(), SECRET.to_vec());
    again.question(asked(9, None, "third chat", day + 250));
    again.close();
    assert_eq!(citebot::record::totals(&postgres).unwrap(), (5, 2, 3));
}

/// The names of the files in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// One replica shares what an admin added and removed; another's folder follows, and keeps
/// the files only it has.
#[test]
fn shared_files_are_written_replaced_and_removed_in_every_folder() {
    let db = ServerUrl::new(servers::fresh_database("files"));
    let (here, there) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (SharedFiles::new(db.clone()), SharedFiles::new(db.clone()));
    std::fs::write(
        there.path().join("deployed.md"),
        "# Shipped with the replica\n",
    )
    .unwrap();
    std::fs::write(there.path().join("old.md"), "# Deployed, then removed\n").unwrap();
    assert_eq!(
        b.sync(there.path()).unwrap(),
        Synced::default(),
        "nothing shared yet"
    );
    assert!(!b.changed().unwrap());

    // Added on one replica: a document and its sidecar, bytes as they are (a PDF is binary).
    let pdf = [b"%PDF-1.4\n".as_slice(), &[0, 159, 255, 1]].concat();
    std::fs::write(here.path().join("report.pdf"), &pdf).unwrap();
    std::fs::write(here.path().join("report.toml"), "title = \"A report\"\n").unwrap();
    a.put(here.path(), &["report.pdf".into(), "report.toml".into()])
        .unwrap();
    a.remove(&["old.md".into()]).unwrap();
    assert!(b.changed().unwrap());
    let synced = b.sync(there.path()).unwrap();
    assert_eq!(synced.written, ["report.pdf", "report.toml"]);
    assert_eq!(synced.deleted, ["old.md"]);
    assert_eq!(std::fs::read(there.path().join("report.pdf")).unwrap(), pdf);
    assert_eq!(
        files_in(there.path()),
        ["deployed.md", "report.pdf", "report.toml"]
    );
    assert!(!b.changed().unwrap(), "synced to the latest change");
    assert_eq!(
        b.sync(there.path()).unwrap(),
        Synced::default(),
        "nothing twice"
    );

    // Replaced, then removed.
    std::fs::write(here.path().join("report.pdf"), b"%PDF-1.4 second edition").unwrap();
    a.put(here.path(), &["report.pdf".into()]).unwrap();
    assert_eq!(b.sync(there.path()).unwrap().written, ["report.pdf"]);
    assert_eq!(
        std::fs::read(there.path().join("report.pdf")).unwrap(),
        b"%PDF-1.4 second edition"
    );
    a.remove(&["report.pdf".into(), "report.toml".into()])
        .unwrap();
    assert_eq!(
        b.sync(there.path()).unwrap().deleted,
        ["report.pdf", "report.toml"]
    );
    assert_eq!(files_in(there.path()), ["deployed.md"]);

    // A file this replica cannot share is an error, and shares nothing.
    assert!(a.put(here.path(), &["missing.md".into()]).is_err());
    assert!(!b.changed().unwrap());
}

/// A database that does not answer is an error within the connect timeout, not a hang; the
/// folder is left as it is.
#[test]
fn shared_files_without_a_database_fail_fast_and_touch_nothing() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let files = SharedFiles::new(ServerUrl::new(format!(
        "postgres://citebot@127.0.0.1:{port}/none"
    )));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), "# A\n").unwrap();
    let started = Instant::now();
    assert!(files.sync(dir.path()).is_err());
    assert!(files.changed().is_err());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(files_in(dir.path()), ["a.md"]);
}

// ---------------------------------------------------------------------------------------------
// The real binary: two replicas behind one (round-robin) URL.

/// Every test is bounded: a hang fails the test instead of the CI job.
const LIMIT: Duration = Duration::from_secs(120);

/// The binary under test: cargo's, or `CITEBOT_TEST_BIN` (a copy set aside, where several
/// people build into one target folder and one build may replace another's binary).
fn binary() -> String {
    std::env::var("CITEBOT_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_citebot").into())
}

/// One `citebot serve` in webhook mode; killed when dropped.
struct Replica {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the replicas of one test share: the fake Bot API, Redis, PostgreSQL, the secret.
struct Deployment {
    api: FakeApi,
    redis_url: String,
    database_url: String,
    namespace: String,
    data: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Deployment {
    async fn new(test: &str, redis_url: String, database_url: String) -> Deployment {
        let data = tempfile::tempdir().unwrap();
        Deployment {
            api: FakeApi::start().await,
            redis_url,
            database_url,
            namespace: servers::namespace(test),
            data,
            vars: Vec::new(),
        }
    }

    fn with(mut self, name: &str, value: &str) -> Deployment {
        self.vars.push((name.into(), value.into()));
        self
    }

    /// Starts a replica listening on a port of its own.
    fn replica(&self) -> Replica {
        self.replica_with(&[])
    }

    /// [`Deployment::replica`] with settings of its own (its own knowledge folder).
    fn replica_with(&self, own: &[(&str, &Path)]) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut cmd = Command::new(binary());
        cmd.current_dir(std::env::temp_dir());
        for var in [
            "INDEX_DIR",
            "ALLOWED_CHATS",
            "FLOOD_LIMIT",
            "RUST_LOG",
            "ADMIN_IDS",
            "CONTEXT_TTL",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("TELOXIDE_TOKEN", TOKEN)
            .env("TELOXIDE_API_URL", self.api.url.as_str())
            .env(
                "KNOWLEDGE_DIR",
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"),
            )
            // Both replicas behind one public URL; each listens on its own port.
            .env("WEBHOOK_URL", "https://bot.example.org/hook")
            .env("WEBHOOK_LISTEN", addr.to_string())
            .env("WEBHOOK_SECRET", "s3cret")
            .env("REDIS_URL", &self.redis_url)
            .env("REDIS_NAMESPACE", &self.namespace)
            .env("DATABASE_URL", &self.database_url)
            .env("RECORD", "on")
            // The record's secret (record.key) is shared: the replicas hash ids alike.
            .env("DATA_DIR", self.data.path())
            .env("RUST_LOG", "citebot=info,warn")
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .envs(own.iter().copied())
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("citebot starts");
        let mut pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        std::thread::spawn({
            let stderr = Arc::clone(&stderr);
            move || {
                let mut buf = [0; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut buf) {
                    stderr
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        Replica {
            child,
            addr,
            stderr,
        }
    }

    /// The messages delivered to `chat`, their texts.
    fn sent_to(&self, chat: i64) -> Vec<String> {
        self.api
            .done("sendMessage")
            .into_iter()
            .filter(|c| c.chat_id() == Some(chat))
            .map(|c| c.text().to_string())
            .collect()
    }

    /// Waits until `chat` has `n` messages; returns them.
    async fn wait_for(&self, chat: i64, n: usize) -> Vec<String> {
        self.api
            .wait_for(
                Duration::from_secs(30),
                &format!("{n} messages in chat {chat}"),
                |_| self.sent_to(chat).len() >= n,
            )
            .await;
        self.sent_to(chat)
    }
}

impl Replica {
    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until the replica takes webhook posts, its Redis connection made.
    async fn ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(self.addr).await.is_err()
            || !self.stderr().contains("shared through Redis")
        {
            assert!(
                Instant::now() < deadline,
                "the replica did not start, or started without Redis (is {} this branch's \
                 build? another build into the same target folder replaces it):\n{}",
                binary(),
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Posts an update to this replica's webhook, as Telegram (or a proxy) does; the status.
    async fn post(&self, body: &str) -> io::Result<u16> {
        fake::post_update(self.addr, "/hook", Some("s3cret"), body).await
    }

    async fn say(&self, update: i64, chat: i64, text: &str) {
        let body = json!({
            "update_id": update,
            "message": fake::text_message(chat, update, text),
        })
        .to_string();
        assert_eq!(self.post(&body).await.unwrap(), 200);
    }
}

/// The first line of an answer: how a follow-up was read.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_follow_one_conversation_share_new_the_gate_and_each_update() {
    tokio::time::timeout(LIMIT, async {
        let redis = servers::redis_url();
        let db = tokio::task::spawn_blocking(|| servers::fresh_database("replicas"))
            .await
            .unwrap();
        let deployment = Deployment::new("replicas", redis, db)
            .await
            .with("FLOOD_LIMIT", "3");
        let replicas = [deployment.replica(), deployment.replica()];
        for r in &replicas {
            r.ready().await;
        }
        // A round-robin proxy: update n goes to replica n % 2.
        let mut update = 0;
        let mut deliver = async |chat: i64, text: &str| {
            update += 1;
            replicas[update as usize % 2].say(update, chat, text).await;
        };

        // Three turns, alternating replicas, followed in context.
        let chat = 1001;
        deliver(chat, "Who is Zamir Kabulov?").await;
        deployment.wait_for(chat, 1).await;
        deliver(chat, "What did he warn about?").await;
        let said = deployment.wait_for(chat, 2).await;
        assert_eq!(
            first_line(&said[1]),
            "↪ <i>What did he warn about? (about Zamir Kabulov)</i>",
            "{said:?}\n{}\n{}",
            replicas[0].stderr(),
            replicas[1].stderr()
        );
        deliver(chat, "What did he say about a withdrawal?").await;
        let said = deployment.wait_for(chat, 3).await;
        assert!(
            first_line(&said[2]).starts_with("↪") && first_line(&said[2]).contains("Kabulov"),
            "{said:?}"
        );

        // /new on one replica, then a follow-up on the other: read on its own.
        deliver(chat, "/new").await;
        deployment.wait_for(chat, 4).await;
        deliver(chat, "What did he warn about?").await;
        let said = deployment.wait_for(chat, 5).await;
        assert!(!said[4].starts_with("↪"), "{said:?}");

        // The flood gate counts both replicas' questions: FLOOD_LIMIT=3 in all.
        let flooder = 2002;
        for _ in 0..6 {
            deliver(flooder, "Who is Zamir Kabulov?").await;
        }
        let said = deployment.wait_for(flooder, 4).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let said_now = deployment.sent_to(flooder);
        assert_eq!(said_now.len(), 4, "3 answers and one notice: {said:?}");
        assert_eq!(
            said_now
                .iter()
                .filter(|t| t.as_str() == citebot::texts::TOO_FAST.en)
                .count(),
            1
        );

        // One update delivered to both replicas (a retried webhook): answered once.
        let twice = 3003;
        update += 1;
        let body = json!({
            "update_id": update,
            "message": fake::text_message(twice, 1, "Who is Zamir Kabulov?"),
        })
        .to_string();
        let (x, y) = tokio::join!(replicas[0].post(&body), replicas[1].post(&body));
        assert_eq!((x.unwrap(), y.unwrap()), (200, 200));
        deployment.wait_for(twice, 1).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(deployment.sent_to(twice).len(), 1);
    })
    .await
    .expect("within the time limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_conversation_loses_neither_the_conversation_nor_the_record() {
    tokio::time::timeout(LIMIT, async {
        let redis = servers::redis_url();
        let db = tokio::task::spawn_blocking(|| servers::fresh_database("kill"))
            .await
            .unwrap();
        let chat = 4004;
        let deployment = Deployment::new("kill", redis, db.clone())
            .await
            .with("ADMIN_IDS", &chat.to_string());
        let mut a = deployment.replica();
        let b = deployment.replica();
        a.ready().await;
        b.ready().await;
        a.say(1, chat, "Who is Zamir Kabulov?").await;
        deployment.wait_for(chat, 1).await;
        a.say(2, chat, "What did he say about a withdrawal?").await;
        deployment.wait_for(chat, 2).await;
        // The record's writer takes its batch at once: give it a moment, then kill -9.
        tokio::time::sleep(Duration::from_millis(500)).await;
        a.child.kill().unwrap();
        a.child.wait().unwrap();
        b.say(3, chat, "What did he warn about?").await;
        let said = deployment.wait_for(chat, 3).await;
        assert_eq!(
            first_line(&said[2]),
            "↪ <i>What did he warn about? (about Zamir Kabulov)</i>",
            "{said:?}\n{}\n{}",
            a.stderr(),
            b.stderr()
        );
        let location = Location::Postgres(ServerUrl::new(db.clone()));
        let recorded = move || citebot::record::totals(&location).map(|t| t.0).unwrap_or(0);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let n = tokio::task::spawn_blocking(recorded.clone()).await.unwrap();
            if n == 3 {
                break;
            }
            assert!(Instant::now() < deadline, "{n} questions recorded, not 3");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // Both replicas' questions in /stats, and in `citebot report` run anywhere.
        b.say(4, chat, "/stats").await;
        let said = deployment.wait_for(chat, 4).await;
        // A question shown only its closest passage is recorded as not answered.
        let sure = said[..3]
            .iter()
            .filter(|reply| !reply.contains("I'm not sure"))
            .count();
        let totals = format!("3 questions, {sure} answered");
        assert!(said[3].contains(&totals), "{totals}: {}", said[3]);
        let report = Command::new(binary())
            .current_dir(std::env::temp_dir())
            .env("DATABASE_URL", &db)
            .args(["report", "--json"])
            .output()
            .unwrap();
        assert!(report.status.success(), "{report:?}");
        let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
        assert_eq!(report["questions"], 3, "{report}");
    })
    .await
    .expect("within the time limit");
}

/// With `DATABASE_URL`, a document an admin sends one replica is answered from by the
/// other, though each reads a knowledge folder of its own; a replica started afterwards has
/// it from the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_sent_to_one_replica_is_answered_from_by_the_other() {
    tokio::time::timeout(LIMIT, async {
        let redis = servers::redis_url();
        let db = tokio::task::spawn_blocking(|| servers::fresh_database("upload"))
            .await
            .unwrap();
        let deployment = Deployment::new("upload", redis, db)
            .await
            .with("ADMIN_IDS", "5");
        let folders = [(); 3].map(|()| fake::knowledge_copy());
        let a = deployment.replica_with(&[("KNOWLEDGE_DIR", folders[0].path())]);
        let b = deployment.replica_with(&[("KNOWLEDGE_DIR", folders[1].path())]);
        a.ready().await;
        b.ready().await;
        b.logged("listening for reloads", Duration::from_secs(10))
            .await;

        let notes = "# How Honeybees Survive the Winter\n\nBy Jane Doe\n\n\
                     Honeybees survive the winter by clustering together inside the hive and \
                     shivering their flight muscles to make heat, which keeps the queen warm.\n";
        let message = deployment
            .api
            .file_message(5, 10, "bees.md", notes.as_bytes());
        let update = json!({ "update_id": 1, "message": message }).to_string();
        assert_eq!(a.post(&update).await.unwrap(), 200);
        let said = deployment.wait_for(5, 1).await;
        assert!(
            said[0].contains("Added “How Honeybees Survive the Winter”"),
            "{said:?}"
        );
        b.logged("knowledge folder synced", Duration::from_secs(30))
            .await;
        b.logged("knowledge reloaded", Duration::from_secs(60))
            .await;
        assert!(b.stderr().contains("added=1"), "{}", b.stderr());
        assert!(folders[1].path().join("bees.md").exists());

        b.say(2, 77, "How do bees keep warm in winter?").await;
        let said = deployment.wait_for(77, 1).await;
        assert!(said[0].contains("shivering"), "{said:?}");

        let c = deployment.replica_with(&[("KNOWLEDGE_DIR", folders[2].path())]);
        c.ready().await;
        c.say(3, 78, "How do bees keep warm in winter?").await;
        let said = deployment.wait_for(78, 1).await;
        assert!(said[0].contains("shivering"), "{said:?}");
    })
    .await
    .expect("within the time limit");
}

impl Replica {
    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits until the replica's log holds `text`.
    async fn logged(&self, text: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.stderr().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no {text:?} in the log:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_on_one_replica_reloads_every_replica() {
    tokio::time::timeout(LIMIT, async {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let knowledge = fake::knowledge_copy();
        let redis = servers::redis_url();
        let db = tokio::task::spawn_blocking(|| servers::fresh_database("reload"))
            .await
            .unwrap();
        let deployment = Deployment::new("reload", redis, db)
            .await
            .with("KNOWLEDGE_DIR", knowledge.path().to_str().unwrap());
        let (a, b) = (deployment.replica(), deployment.replica());
        a.ready().await;
        b.ready().await;
        b.logged("listening for reloads", Duration::from_secs(10))
            .await;
        std::fs::copy(
            root.join("tests/data/library/honeybees-in-winter.txt"),
            knowledge.path().join("honeybees-in-winter.txt"),
        )
        .unwrap();
        a.signal("HUP");
        a.logged("knowledge reloaded", Duration::from_secs(30))
            .await;
        b.logged(
            "another replica reloaded the knowledge",
            Duration::from_secs(30),
        )
        .await;
        b.logged("knowledge reloaded", Duration::from_secs(30))
            .await;
        assert!(b.stderr().contains("added=1"), "{}", b.stderr());
        assert!(
            !a.stderr().contains("another replica reloaded"),
            "a replica does not reload twice for its own reload"
        );
        b.say(1, 77, "How do bees keep warm in winter?").await;
        let said = deployment.wait_for(77, 1).await;
        assert!(said[0].contains("shivering"), "{said:?}");
    })
    .await
    .expect("within the time limit");
}

/// Delivers `n` questions, `chats` chats asking in turn, to the replicas in turn, `at_once`
/// deliveries in flight; update ids from `first`.
async fn burst(replicas: &[&Replica], first: i64, n: i64, chats: i64, chat0: i64, at_once: usize) {
    let questions = [
        "Who is Zamir Kabulov?",
        "What did Kabulov say about a US withdrawal?",
        "Why does Russia work with the Taliban?",
        "What did he warn about?",
    ];
    let mut pending = tokio::task::JoinSet::new();
    for i in 0..n {
        let update = first + i;
        let chat = chat0 + i % chats;
        let replica = replicas[(update as usize) % replicas.len()];
        let body = json!({
            "update_id": update,
            "message": fake::text_message(chat, update, questions[(i / chats) as usize % 4]),
        })
        .to_string();
        let addr = replica.addr;
        pending.spawn(async move {
            let fake = fake::post_update(addr, "/hook", Some("s3cret"), &body).await;
            assert_eq!(fake.unwrap(), 200);
        });
        while pending.len() >= at_once {
            pending.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(done) = pending.join_next().await {
        done.unwrap();
    }
}

/// Waits until the record in `db` holds `want` questions.
async fn recorded(db: &str, want: u64, within: Duration) {
    let location = Location::Postgres(ServerUrl::new(db));
    let deadline = Instant::now() + within;
    loop {
        let at = location.clone();
        let totals = tokio::task::spawn_blocking(move || citebot::record::totals(&at))
            .await
            .unwrap();
        let n = totals.as_ref().map_or(0, |t| t.0);
        if n == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{totals:?}: not {want} questions recorded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_then_postgres_stopped_during_a_burst_answers_go_on_and_recording_resumes() {
    tokio::time::timeout(LIMIT * 2, async {
        let own = tokio::task::spawn_blocking(servers::OwnServers::start)
            .await
            .unwrap();
        let admin = own.database_url.clone();
        let db = tokio::task::spawn_blocking(move || servers::fresh_database_on(&admin, "outage"))
            .await
            .unwrap();
        let deployment = Deployment::new("outage", own.redis_url.clone(), db.clone()).await;
        let (a, b) = (deployment.replica(), deployment.replica());
        a.ready().await;
        b.ready().await;
        let both = [&a, &b];
        let (chats, chat0) = (10, 5000);
        let answered = |deployment: &Deployment| {
            (chat0..chat0 + chats)
                .map(|c| deployment.sent_to(c).len())
                .sum::<usize>()
        };
        let wait_answers = async |want: usize| {
            deployment
                .api
                .wait_for(Duration::from_secs(60), &format!("{want} answers"), |_| {
                    answered(&deployment) >= want
                })
                .await;
        };
        burst(&both, 1, 20, chats, chat0, 4).await;
        wait_answers(20).await;

        own.set("down", "redis");
        let started = Instant::now();
        burst(&both, 21, 20, chats, chat0, 4).await;
        wait_answers(40).await;
        let without_redis = started.elapsed();

        own.set("down", "postgres");
        burst(&both, 41, 20, chats, chat0, 4).await;
        wait_answers(60).await;
        // Long enough for each writer to try and log.
        tokio::time::sleep(Duration::from_millis(500)).await;

        own.set("up", "redis");
        own.set("up", "postgres");
        // Past the replicas' pause before they try Redis again.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        burst(&both, 61, 20, chats, chat0, 4).await;
        wait_answers(80).await;
        recorded(&db, 80, Duration::from_secs(30)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(answered(&deployment), 80, "each question answered once");

        let logs = a.stderr() + &b.stderr();
        for said in [
            "Redis unreachable",
            "Redis is back",
            "cannot write the record",
            "the record is written again",
        ] {
            assert!(logs.contains(said), "no {said:?} in the logs:\n{logs}");
        }
        // The outage is logged once a minute, not once a question.
        assert!(
            logs.matches("Redis unreachable: this replica").count() <= 2,
            "{logs}"
        );
        assert!(
            without_redis < Duration::from_secs(20),
            "{without_redis:?} for 20 answers without Redis"
        );
    })
    .await
    .expect("within the time limit");
}

/// 2,000 questions from 500 chats over two replicas: each answered once, recorded once.
/// About a minute (Telegram's pace of 30 messages a second per replica); .ci/run runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn two_thousand_questions_from_500_chats_are_answered_and_recorded_once_each() {
    tokio::time::timeout(Duration::from_secs(300), async {
        let redis = servers::redis_url();
        let db = tokio::task::spawn_blocking(|| servers::fresh_database("load"))
            .await
            .unwrap();
        let deployment = Deployment::new("load", redis, db.clone()).await;
        let (a, b) = (deployment.replica(), deployment.replica());
        a.ready().await;
        b.ready().await;
        let (chats, chat0) = (500, 100_000);
        let started = Instant::now();
        burst(&[&a, &b], 1, 2000, chats, chat0, 32).await;
        deployment
            .api
            .wait_for(Duration::from_secs(240), "2,000 answers", |api| {
                api.count_done("sendMessage") >= 2000
            })
            .await;
        let took = started.elapsed();
        recorded(&db, 2000, Duration::from_secs(30)).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        for chat in chat0..chat0 + chats {
            assert_eq!(deployment.sent_to(chat).len(), 4, "chat {chat}");
        }
        let location = Location::Postgres(ServerUrl::new(db));
        let totals = tokio::task::spawn_blocking(move || citebot::record::totals(&location))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(totals, (2000, 0, 500));
        eprintln!("2,000 questions over two replicas in {took:?}");
    })
    .await
    .expect("within the time limit");
}
