//! The record of what readers asked: every question (which passage answered it, or none) and
//! every vote, in a SQLite file, so that whoever keeps the knowledge sees what to add to it
//! and which answers mislead (`citebot report`, and `/stats` in Telegram).
//!
//! - **Never in the way of an answer.** The bot hands each event to a channel and goes on;
//!   one writer thread takes them in batches, one transaction each. A full channel drops the
//!   event (and says so in the log) rather than wait. A database that cannot be written
//!   (read-only, disk full, locked) is logged at most once a minute; answering goes on, and
//!   the writer tries again with the next batch.
//! - **Private by default.** Chats and users are stored as keyed hashes (HMAC-SHA256 with a
//!   secret made in the data folder on first run), never their ids. A question's text is
//!   kept only when nothing answered it, or when its answer was voted down: what the
//!   maintainer needs, and nothing else.
//! - **One vote per user per answer**: voting again replaces the vote.
//!
//! The file is `DATA_DIR/citebot.db`, in WAL mode (the report reads while the bot writes),
//! its schema versioned with SQLite's `user_version`. With `DATABASE_URL` the record is in
//! PostgreSQL instead ([`postgres`]: the same tables, written by the same writer), so that
//! replicas of the bot keep one record.
//!
//! A failed write keeps its batch and tries again (50 ms, doubling to 500 ms) while the
//! next events wait in the queue; when the queue is full, new events are dropped and
//! counted as lost (logged once a minute). Stopping the bot gives up on a database that is
//! still failing rather than wait for it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;
use sha2::Sha256;

pub(crate) mod postgres;
mod report;

pub use report::*;

pub use crate::config::ServerUrl;
pub use crate::verdict::Verdict;

/// The database's file name in the data folder.
pub const DB_FILE: &str = "citebot.db";
/// The secret the ids are hashed with, in the data folder.
pub const KEY_FILE: &str = "record.key";
/// Events waiting for the writer; past this, new ones are dropped (a database that stalls
/// must not grow the bot's memory without bound).
const QUEUE: usize = 10_000;
/// The most events written in one transaction.
const BATCH: usize = 500;
/// A failing database is logged at most this often.
const LOG_EVERY: Duration = Duration::from_secs(60);
/// The pauses between tries of a batch that failed: the first, and the longest.
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const LONGEST_PAUSE: Duration = Duration::from_millis(500);

/// Where the record is kept.
#[derive(Debug, Clone)]
pub enum Location {
    /// A SQLite file (`DATA_DIR/citebot.db`).
    Sqlite(PathBuf),
    /// A PostgreSQL database (`DATABASE_URL`).
    Postgres(ServerUrl),
}

impl From<&Path> for Location {
    fn from(path: &Path) -> Location {
        Location::Sqlite(path.to_path_buf())
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Location {
        Location::Sqlite(path.clone())
    }
}

impl From<&Location> for Location {
    fn from(location: &Location) -> Location {
        location.clone()
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => write!(f, "{url:?}"),
        }
    }
}

/// The schema, one step per version: `user_version` says how many have been applied.
const MIGRATIONS: &[&str] = &[
    // 1: questions and votes.
    "CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,            -- Unix seconds
        chat_kind TEXT NOT NULL,        -- private, group, supergroup
        chat TEXT NOT NULL,             -- keyed hash of the chat id
        user TEXT,                      -- keyed hash of the user id
        document TEXT,                  -- the answer's document id, NULL: no answer
        passage TEXT,                   -- its label (¶4), NULL: no answer
        latency_ms REAL NOT NULL,
        context INTEGER NOT NULL,       -- 1: read as a follow-up of the question before
        question TEXT                   -- only when there was no answer
    );
    CREATE INDEX questions_at ON questions (at);
    CREATE TABLE votes (
        chat TEXT NOT NULL,
        message INTEGER NOT NULL,       -- the answer's message id in that chat
        rank INTEGER NOT NULL,          -- which answer of that message (1: the best)
        user TEXT NOT NULL,
        at INTEGER NOT NULL,
        up INTEGER NOT NULL,
        document TEXT,
        passage TEXT,
        question TEXT,                  -- only when voted down
        PRIMARY KEY (chat, message, rank, user)
    );
    CREATE INDEX votes_at ON votes (at);",
    // 2: what the reader was told (answer, closest, none), so that votes on a passage shown
    // only as the closest tell whether the cut points suit the readers. NULL before.
    "ALTER TABLE questions ADD COLUMN verdict TEXT;
    ALTER TABLE votes ADD COLUMN verdict TEXT;",
];

/// Why the record could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0}: {1}")]
    Sqlite(PathBuf, rusqlite::Error),
    #[error("{0}: no record yet (the bot makes it on its first question; RECORD=off makes none)")]
    Missing(PathBuf),
    /// The database's address (without its password) and what went wrong.
    #[error("{0}: {1}")]
    Postgres(String, String),
}

/// A question the bot answered, or could not.
#[derive(Debug, Clone)]
pub struct Asked {
    pub at: SystemTime,
    pub chat_kind: &'static str,
    pub chat: i64,
    pub user: Option<u64>,
    /// The document and passage label of the answer; `None`: nothing answered.
    pub answer: Option<(String, String)>,
    pub latency: Duration,
    /// Read in the context of the conversation.
    pub context: bool,
    /// What the reader was told: a sure answer, the closest passage, or none.
    pub verdict: Verdict,
    /// As asked (kept only when nothing answered).
    pub question: String,
}

/// A vote on an answer.
#[derive(Debug, Clone)]
pub struct Voted {
    pub at: SystemTime,
    pub chat: i64,
    /// The answer's message.
    pub message: i32,
    pub rank: usize,
    pub user: u64,
    pub up: bool,
    /// The answer's document and passage label.
    pub answer: Option<(String, String)>,
    /// Whether the passage voted on was shown as the answer or as the closest.
    pub verdict: Verdict,
    /// The question as answered (kept only when voted down).
    pub question: String,
}

/// What goes to the writer: ids already hashed, text already dropped where it must be.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Question {
        at: i64,
        chat_kind: &'static str,
        chat: String,
        user: Option<String>,
        document: Option<String>,
        passage: Option<String>,
        latency_ms: f64,
        context: bool,
        verdict: &'static str,
        question: Option<String>,
    },
    Vote {
        at: i64,
        chat: String,
        message: i64,
        rank: i64,
        user: String,
        up: bool,
        document: Option<String>,
        passage: Option<String>,
        verdict: &'static str,
        question: Option<String>,
    },
}

/// The bot's side of the record: hands events to the writer thread, never waits for it.
pub struct Recorder {
    sender: Mutex<Option<SyncSender<Event>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    key: Vec<u8>,
    location: Option<Location>,
    /// Set by [`Recorder::close`]: the writer stops retrying a failing database.
    closing: Arc<AtomicBool>,
    /// Events dropped on a full queue since this was last logged, and when it was.
    dropped: AtomicU64,
    dropped_logged: Mutex<Option<Instant>>,
}

impl Recorder {
    /// Records nothing (`RECORD=off`, and the tests that do not look at the record).
    pub fn off() -> Recorder {
        Recorder {
            sender: Mutex::new(None),
            writer: Mutex::new(None),
            key: Vec::new(),
            location: None,
            closing: Arc::new(AtomicBool::new(false)),
            dropped: AtomicU64::new(0),
            dropped_logged: Mutex::new(None),
        }
    }

    /// Records into `data_dir/citebot.db`, made (with the folder and the secret) on first
    /// use. Never fails: a folder that cannot be written is logged, and the bot answers on.
    pub fn start(data_dir: &Path) -> Recorder {
        Recorder::start_at(Location::Sqlite(data_dir.join(DB_FILE)), secret(data_dir))
    }

    /// Records into `location`, hashing ids with `key` (see [`secret`]). Never fails, nor
    /// waits for the database: a database that cannot be reached is logged, and the bot
    /// answers on.
    pub fn start_at(location: Location, key: Vec<u8>) -> Recorder {
        let (sender, receiver) = mpsc::sync_channel(QUEUE);
        let closing = Arc::new(AtomicBool::new(false));
        let writer = std::thread::Builder::new()
            .name("record-writer".into())
            .spawn({
                let (location, closing) = (location.clone(), Arc::clone(&closing));
                move || write_loop(&location, receiver, &closing)
            })
            .ok();
        if writer.is_none() {
            tracing::warn!("could not start the record's writer; recording nothing");
        }
        Recorder {
            sender: Mutex::new(writer.as_ref().map(|_| sender)),
            writer: Mutex::new(writer),
            key,
            location: Some(location),
            closing,
            dropped: AtomicU64::new(0),
            dropped_logged: Mutex::new(None),
        }
    }

    /// The database file, when recording into SQLite.
    pub fn path(&self) -> Option<&Path> {
        match &self.location {
            Some(Location::Sqlite(path)) => Some(path),
            _ => None,
        }
    }

    /// Where the record is kept, when recording.
    pub fn location(&self) -> Option<&Location> {
        self.location.as_ref()
    }

    /// Whether events are recorded.
    pub fn is_on(&self) -> bool {
        self.sender.lock().is_ok_and(|s| s.is_some())
    }

    /// Records a question (its text only when nothing answered it).
    pub fn question(&self, asked: Asked) {
        if !self.is_on() {
            return;
        }
        let (document, passage) = asked.answer.clone().unzip();
        self.send(Event::Question {
            at: unix(asked.at),
            chat_kind: asked.chat_kind,
            chat: self.hash("chat", asked.chat),
            user: asked.user.map(|u| self.hash("user", u as i64)),
            latency_ms: (asked.latency.as_secs_f64() * 1e4).round() / 10.0,
            context: asked.context,
            verdict: asked.verdict.as_str(),
            question: asked.answer.is_none().then_some(asked.question),
            document,
            passage,
        });
    }

    /// Records a vote, replacing the user's earlier vote on that answer (the question's
    /// text only when voted down).
    pub fn vote(&self, voted: Voted) {
        if !self.is_on() {
            return;
        }
        let (document, passage) = voted.answer.unzip();
        self.send(Event::Vote {
            at: unix(voted.at),
            chat: self.hash("chat", voted.chat),
            message: i64::from(voted.message),
            rank: voted.rank as i64,
            user: self.hash("user", voted.user as i64),
            up: voted.up,
            document,
            passage,
            verdict: voted.verdict.as_str(),
            question: (!voted.up).then_some(voted.question),
        });
    }

    fn send(&self, event: Event) {
        let Ok(sender) = self.sender.lock() else {
            return;
        };
        let Some(sender) = sender.as_ref() else {
            return;
        };
        if let Err(TrySendError::Full(_)) = sender.try_send(event) {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            let Ok(mut logged) = self.dropped_logged.lock() else {
                return;
            };
            if logged.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
                tracing::warn!(
                    events_lost = dropped,
                    "the record's queue is full (its database is slow or away); events are dropped (logged once a minute)"
                );
                *logged = Some(Instant::now());
                self.dropped.store(0, Ordering::Relaxed);
            }
        }
    }

    /// A chat's or a user's id as the record keeps it: the same for the same id, telling
    /// nothing of it without the secret.
    fn hash(&self, what: &str, id: i64) -> String {
        keyed_hash(&self.key, what, id)
    }

    /// Writes what is waiting and stops the writer: the record is complete when this
    /// returns. Later events are not recorded.
    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let writer = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.close();
    }
}

/// An id (of a chat, a user, an update) as the record and the replicas' shared keys hold
/// it: HMAC-SHA256 of `what` and the id with `secret`, its first 16 bytes in hex. The same
/// for the same id and secret, telling nothing of the id without the secret.
pub fn keyed_hash(secret: &[u8], what: &str, id: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(what.as_bytes());
    mac.update(&id.to_le_bytes());
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The secret ids are hashed with: `data_dir/record.key`, made on first use. A folder
/// that cannot be written gets a secret for this run only (logged): ids stay hashed.
pub fn secret(data_dir: &Path) -> Vec<u8> {
    load_or_make_key(data_dir).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the record's secret cannot be kept; ids are hashed with one for this run only");
        random_key()
    })
}

fn unix(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn random_key() -> Vec<u8> {
    let mut key = vec![0u8; 32];
    // Without an entropy source there is no secret to keep: the ids are still hashed.
    let _ = getrandom::fill(&mut key);
    key
}

/// The secret in `dir`, made (readable by its owner only) when there is none.
fn load_or_make_key(dir: &Path) -> std::io::Result<Vec<u8>> {
    let path = dir.join(KEY_FILE);
    match std::fs::read(&path) {
        Ok(key) if key.len() >= 32 => return Ok(key),
        Ok(_) => {
            return Err(std::io::Error::other(format!(
                "{} is too short to be a secret; delete it to make a new one",
                path.display()
            )))
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    std::fs::create_dir_all(dir)?;
    let key = random_key();
    // Written whole under a name of this process's own, then linked into place: replicas
    // starting at once on one DATA_DIR never read a key half written.
    let draft = dir.join(format!("{KEY_FILE}.{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    {
        let mut file = options.open(&draft)?;
        std::io::Write::write_all(&mut file, &key)?;
        file.sync_all()?;
    }
    let linked = std::fs::hard_link(&draft, &path);
    let _ = std::fs::remove_file(&draft);
    match linked {
        Ok(()) => Ok(key),
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read(&path),
        Err(e) => Err(e),
    }
}

/// Opens (making it when needed) the database for writing, and brings its schema up to date.
pub fn open_for_writing(path: &Path) -> rusqlite::Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("{}: {e}", dir.display())),
            )
        })?;
    }
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(2))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Applies the migrations the database has not had yet, each in its own transaction.
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// A connection the writer holds: to SQLite or to PostgreSQL.
enum Sink {
    Sqlite(Connection),
    Postgres(Box<::postgres::Client>),
}

impl Sink {
    fn open(location: &Location) -> Result<Sink, String> {
        match location {
            Location::Sqlite(path) => open_for_writing(path)
                .map(Sink::Sqlite)
                .map_err(|e| e.to_string()),
            Location::Postgres(url) => postgres::open_for_writing(url)
                .map(|c| Sink::Postgres(Box::new(c)))
                .map_err(|e| e.to_string()),
        }
    }

    fn write(&mut self, batch: &[Event]) -> Result<(), String> {
        match self {
            Sink::Sqlite(conn) => write_batch(conn, batch).map_err(|e| e.to_string()),
            Sink::Postgres(client) => {
                postgres::write_batch(client, batch).map_err(|e| e.to_string())
            }
        }
    }
}

/// The writer thread: a batch at a time, until every sender is gone and the queue is empty.
/// A batch that cannot be written is kept and tried again, with a fresh connection, while
/// the events after it wait in the queue; once the recorder is closing it is given up.
fn write_loop(location: &Location, events: Receiver<Event>, closing: &AtomicBool) {
    let mut sink: Option<Sink> = None;
    let mut batch: Vec<Event> = Vec::new();
    let mut pause = FIRST_PAUSE;
    let mut failing_since: Option<Instant> = None;
    let mut last_logged: Option<Instant> = None;
    let mut lost = 0usize;
    loop {
        if batch.is_empty() {
            match events.recv() {
                Ok(first) => batch.push(first),
                Err(_) => break,
            }
        }
        let room = BATCH.saturating_sub(batch.len());
        batch.extend(events.try_iter().take(room));
        let written = match sink.as_mut() {
            Some(s) => s.write(&batch),
            None => Sink::open(location).and_then(|mut s| {
                let r = s.write(&batch);
                sink = Some(s);
                r
            }),
        };
        match written {
            Ok(()) => {
                batch.clear();
                pause = FIRST_PAUSE;
                if let Some(since) = failing_since.take() {
                    tracing::info!(
                        at = %location,
                        down_for_s = since.elapsed().as_secs(),
                        events_lost = lost,
                        "the record is written again"
                    );
                    lost = 0;
                    last_logged = None;
                }
            }
            Err(e) => {
                // A fresh connection next time (the database may be back, the disk have room).
                sink = None;
                failing_since.get_or_insert_with(Instant::now);
                let give_up = closing.load(Ordering::SeqCst);
                if give_up {
                    // Stopping, and the database is away: what waits is lost, without a try
                    // each (a connection attempt may take seconds; the stop may not).
                    lost += batch.len() + events.try_iter().count();
                    batch.clear();
                }
                if last_logged.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
                    tracing::warn!(
                        at = %location,
                        error = %e,
                        events_waiting = batch.len(),
                        events_lost = lost,
                        "cannot write the record; answering goes on, the events wait (logged once a minute)"
                    );
                    last_logged = Some(Instant::now());
                }
                if !give_up {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(LONGEST_PAUSE);
                }
            }
        }
    }
    if lost > 0 {
        tracing::warn!(at = %location, events_lost = lost, "stopped with events the record could not take");
    }
}

fn write_batch(conn: &mut Connection, batch: &[Event]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut question = tx.prepare_cached(
            "INSERT INTO questions (at, chat_kind, chat, user, document, passage, latency_ms,
                                    context, verdict, question)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let mut vote = tx.prepare_cached(
            "INSERT INTO votes (chat, message, rank, user, at, up, document, passage, verdict,
                                question)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (chat, message, rank, user) DO UPDATE SET
                at = excluded.at, up = excluded.up, document = excluded.document,
                passage = excluded.passage, verdict = excluded.verdict,
                question = excluded.question",
        )?;
        for event in batch {
            match event {
                Event::Question {
                    at,
                    chat_kind,
                    chat,
                    user,
                    document,
                    passage,
                    latency_ms,
                    context,
                    verdict,
                    question: text,
                } => {
                    question.execute(params![
                        at, chat_kind, chat, user, document, passage, latency_ms, context, verdict,
                        text
                    ])?;
                }
                Event::Vote {
                    at,
                    chat,
                    message,
                    rank,
                    user,
                    up,
                    document,
                    passage,
                    verdict,
                    question: text,
                } => {
                    vote.execute(params![
                        chat, message, rank, user, at, up, document, passage, verdict, text
                    ])?;
                }
            }
        }
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(chat: i64, answer: Option<(&str, &str)>, question: &str, at: u64) -> Asked {
        Asked {
            at: UNIX_EPOCH + Duration::from_secs(at),
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

    #[test]
    fn secrets_are_random() {
        let (a, b) = (random_key(), random_key());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.iter().any(|&x| x != 0));
    }

    #[test]
    fn dates_without_a_time_zone_crate() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(time_of(1_514_851_200 + 3_723), "2018-01-02 01:02");
        assert_eq!(date_of(951_782_400), "2000-02-29");
        assert_eq!(date_of(-86_400), "1969-12-31");
    }

    #[test]
    fn questions_are_grouped_by_their_normalised_text() {
        assert_eq!(normalise("  Who is   Putin? "), "who is putin");
        assert_eq!(normalise("who is putin"), "who is putin");
    }

    #[test]
    fn ids_are_hashed_with_the_kept_secret_and_text_kept_only_when_needed() {
        let dir = tempfile::tempdir().unwrap();
        let day = 20_000 * 86_400;
        {
            let record = Recorder::start(dir.path());
            record.question(asked(42, Some(("doc", "¶4")), "What did Kabulov say?", day));
            record.question(asked(42, None, "Who is Putin?", day + 60));
            record.question(asked(7, None, "who is putin", day + 120));
            record.vote(Voted {
                at: UNIX_EPOCH + Duration::from_secs(day + 200),
                chat: 42,
                message: 10,
                rank: 1,
                user: 42,
                up: false,
                answer: Some(("doc".into(), "¶4".into())),
                verdict: Verdict::Answer,
                question: "What did Kabulov say?".into(),
            });
            record.close();
        }
        let path = dir.path().join(DB_FILE);
        let conn = open_for_reading(&path).unwrap();
        let texts: Vec<Option<String>> = conn
            .prepare("SELECT question FROM questions ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            texts,
            [
                None,
                Some("Who is Putin?".into()),
                Some("who is putin".into())
            ]
        );
        let chats: Vec<String> = conn
            .prepare("SELECT chat FROM questions ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(chats[0], chats[1]);
        assert_ne!(chats[0], chats[2]);
        assert!(chats
            .iter()
            .all(|c| c.len() == 32 && c.bytes().all(|b| b.is_ascii_hexdigit())));
        // The same secret after a restart: the same hashes.
        let again = Recorder::start(dir.path());
        assert_eq!(again.hash("chat", 42), chats[0]);

        let report = Report::load(&path, UNIX_EPOCH + Duration::from_secs(day + 300), 7).unwrap();
        assert_eq!((report.questions, report.answered), (3, 1));
        assert_eq!(report.days.len(), 7);
        assert_eq!(report.days[6].questions, 3);
        assert_eq!(report.unanswered.len(), 1);
        assert_eq!(report.unanswered[0].count, 2);
        assert_eq!(report.voted_down[0].passage.as_deref(), Some("¶4"));
        assert_eq!(report.sparkline(), "      █");
    }

    /// A record made before verdicts were kept gains the column, keeps its rows (their
    /// verdict unknown, so in neither count), and takes new ones with it.
    #[test]
    fn a_record_of_the_first_schema_is_migrated_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        let day = 20_000 * 86_400;
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO questions (at, chat_kind, chat, latency_ms, context, question)
                 VALUES (?1, 'private', 'c', 3.0, 0, 'old')",
                [day],
            )
            .unwrap();
        }
        let record = Recorder::start(dir.path());
        record.question(Asked {
            verdict: Verdict::Closest,
            ..asked(1, None, "What did he warn about?", day + 10)
        });
        record.close();
        let conn = open_for_reading(&path).unwrap();
        let version: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len());
        let report = Report::load(&path, UNIX_EPOCH + Duration::from_secs(day + 60), 1).unwrap();
        assert_eq!(report.questions, 2);
        assert_eq!(report.closest.shown, 1);
        assert_eq!(report.sure.shown, 0);
        assert_eq!(report.closest.up_share(), None);
    }

    #[test]
    fn an_unwritable_record_loses_events_but_never_blocks() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the database file should be: SQLite cannot open it.
        std::fs::create_dir_all(dir.path().join(DB_FILE)).unwrap();
        let record = Recorder::start(dir.path());
        let started = Instant::now();
        for i in 0..2_000 {
            record.question(asked(i, None, "q", 0));
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        record.close();
    }
}
