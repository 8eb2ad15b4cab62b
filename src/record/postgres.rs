//! The record in PostgreSQL (`DATABASE_URL=postgres://...`): the tables of the SQLite
//! record, their migrations, the writer's batches and the report's queries, for replicas
//! that keep one record.
//!
//! The driver is the synchronous `postgres` crate (rust-postgres): the record's writer is
//! a thread of its own, and the report is read by a command or on the blocking pool, so an
//! async pool (sqlx) would only add a runtime to each. SQLite stays on rusqlite; the SQL of
//! the two differs in a few words (`"user"` is reserved here, `BIGSERIAL`, `$1`), which is
//! why each has its own text rather than one string with placeholders rewritten.
//!
//! The schema is versioned in a table `citebot_schema`; replicas starting together take an
//! advisory lock so that each migration runs once. Connections are made with a 1 s
//! timeout and statements cut off after 5 s: nothing here is on an answer's path.

use std::collections::HashMap;
use std::time::Duration;

use ::postgres::{Client, NoTls};

use super::{Event, PassageVotes, RecordError, ServerUrl, Shown, VotedDown};

/// The schema, one step per version.
const MIGRATIONS: &[&str] = &[
    // 1: questions and votes, as in SQLite.
    "CREATE TABLE questions (
        id BIGSERIAL PRIMARY KEY,
        at BIGINT NOT NULL,
        chat_kind TEXT NOT NULL,
        chat TEXT NOT NULL,
        \"user\" TEXT,
        document TEXT,
        passage TEXT,
        latency_ms DOUBLE PRECISION NOT NULL,
        context INTEGER NOT NULL,
        question TEXT
    );
    CREATE INDEX questions_at ON questions (at);
    CREATE TABLE votes (
        chat TEXT NOT NULL,
        message BIGINT NOT NULL,
        rank BIGINT NOT NULL,
        \"user\" TEXT NOT NULL,
        at BIGINT NOT NULL,
        up INTEGER NOT NULL,
        document TEXT,
        passage TEXT,
        question TEXT,
        PRIMARY KEY (chat, message, rank, \"user\")
    );
    CREATE INDEX votes_at ON votes (at);",
    // 2: what the reader was told, as in SQLite.
    "ALTER TABLE questions ADD COLUMN verdict TEXT;
    ALTER TABLE votes ADD COLUMN verdict TEXT;",
    // 3: the knowledge folder's files, for replicas that share them (`replicas::files`):
    // a file's bytes, or NULL once removed; `change` orders the changes.
    "CREATE SEQUENCE knowledge_changes;
    CREATE TABLE knowledge_files (
        name TEXT PRIMARY KEY,
        body BYTEA,
        sha256 TEXT,
        change BIGINT NOT NULL,
        at BIGINT NOT NULL
    );",
];

/// The advisory lock migrations take (any constant of citebot's own).
const MIGRATION_LOCK: i64 = 0x00c1_7eb0_7000_0001;

/// A connection to `url`, with the timeouts above.
pub(crate) fn connect(url: &ServerUrl) -> Result<Client, ::postgres::Error> {
    let mut config: ::postgres::Config = url.expose().parse()?;
    config
        .connect_timeout(Duration::from_secs(1))
        .application_name("citebot")
        .options("-c statement_timeout=5000");
    config.connect(NoTls)
}

/// A connection, the schema brought up to date: the record's writer's, or the shared
/// files'.
pub(crate) fn open_for_writing(url: &ServerUrl) -> Result<Client, ::postgres::Error> {
    let mut client = connect(url)?;
    migrate(&mut client)?;
    Ok(client)
}

/// Applies the migrations the database has not had, under a lock, in one transaction.
pub(crate) fn migrate(client: &mut Client) -> Result<(), ::postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS citebot_schema (version INTEGER NOT NULL)")?;
    let version: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM citebot_schema", &[])?
        .get(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO citebot_schema (version) VALUES ($1)",
            &[&(i as i32 + 1)],
        )?;
    }
    tx.commit()
}

/// Writes `batch` in one transaction.
pub(super) fn write_batch(client: &mut Client, batch: &[Event]) -> Result<(), ::postgres::Error> {
    let mut tx = client.transaction()?;
    let question = tx.prepare(
        "INSERT INTO questions (at, chat_kind, chat, \"user\", document, passage, latency_ms,
                                context, verdict, question)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )?;
    let vote = tx.prepare(
        "INSERT INTO votes (chat, message, rank, \"user\", at, up, document, passage, verdict,
                            question)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (chat, message, rank, \"user\") DO UPDATE SET
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
                let context = i32::from(*context);
                tx.execute(
                    &question,
                    &[
                        at, chat_kind, chat, user, document, passage, latency_ms, &context,
                        verdict, text,
                    ],
                )?;
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
                let up = i32::from(*up);
                tx.execute(
                    &vote,
                    &[
                        chat, message, rank, user, at, &up, document, passage, verdict, text,
                    ],
                )?;
            }
        }
    }
    tx.commit()
}

/// A connection for reading, its errors named by the address (without a password).
fn reader(url: &ServerUrl) -> Result<Client, RecordError> {
    connect(url).map_err(|e| failed(url, e))
}

fn failed(url: &ServerUrl, e: ::postgres::Error) -> RecordError {
    RecordError::Postgres(format!("{url:?}"), e.to_string())
}

/// A count as the report holds it.
fn count(n: i64) -> u64 {
    n.max(0) as u64
}

/// What the report needs of the period since `since`.
pub(super) fn report_parts(
    url: &ServerUrl,
    since: i64,
    rows: usize,
) -> Result<super::Parts, RecordError> {
    let mut client = reader(url)?;
    let mut query = || -> Result<super::Parts, ::postgres::Error> {
        let mut days = HashMap::new();
        for row in client.query(
            "SELECT at / 86400, count(*), count(passage) FROM questions WHERE at >= $1
             GROUP BY at / 86400",
            &[&since],
        )? {
            let (day, asked, answered): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
            days.insert(day, (count(asked), count(answered)));
        }
        let unanswered = client
            .query(
                "SELECT question, at FROM questions
                 WHERE at >= $1 AND passage IS NULL AND question IS NOT NULL ORDER BY at, id",
                &[&since],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        // Grouped by the lowered text as SQLite's query is; PostgreSQL wants the shown
        // wording aggregated too (the first seen, as SQLite tends to give).
        let voted_down = client
            .query(
                "SELECT min(question), document, passage, count(*) AS down FROM votes
                 WHERE at >= $1 AND up = 0 AND question IS NOT NULL
                 GROUP BY lower(question), document, passage
                 ORDER BY down DESC, max(at) DESC LIMIT $2",
                &[&since, &(rows as i64)],
            )?
            .iter()
            .map(|r| VotedDown {
                question: r.get(0),
                document: r.get(1),
                passage: r.get(2),
                down: count(r.get(3)),
            })
            .collect();
        let votes = client
            .query(
                "SELECT document, passage, sum(up), sum(1 - up) FROM votes WHERE at >= $1
                 GROUP BY document, passage ORDER BY count(*) DESC, document, passage LIMIT $2",
                &[&since, &(rows as i64)],
            )?
            .iter()
            .map(|r| PassageVotes {
                document: r.get(0),
                passage: r.get(1),
                up: count(r.get(2)),
                down: count(r.get(3)),
            })
            .collect();
        let mut verdicts: HashMap<String, Shown> = HashMap::new();
        for r in client.query(
            "SELECT verdict, count(*) FROM questions WHERE at >= $1 AND verdict IS NOT NULL
             GROUP BY verdict",
            &[&since],
        )? {
            verdicts.entry(r.get(0)).or_default().shown = count(r.get(1));
        }
        for r in client.query(
            "SELECT verdict, sum(up), sum(1 - up) FROM votes
             WHERE at >= $1 AND verdict IS NOT NULL GROUP BY verdict",
            &[&since],
        )? {
            let counts = verdicts.entry(r.get(0)).or_default();
            (counts.up, counts.down) = (count(r.get(1)), count(r.get(2)));
        }
        Ok(super::Parts {
            days,
            unanswered,
            voted_down,
            votes,
            verdicts,
        })
    };
    query().map_err(|e| missing_or(url, e))
}

/// A database the bot has not written yet has no tables: that is "no record yet".
fn missing_or(url: &ServerUrl, e: ::postgres::Error) -> RecordError {
    if e.code() == Some(&::postgres::error::SqlState::UNDEFINED_TABLE) {
        RecordError::Missing(format!("{url:?}").into())
    } else {
        failed(url, e)
    }
}

/// The last `n` unanswered questions and when they were asked, newest first.
pub(super) fn recent_unanswered(
    url: &ServerUrl,
    n: usize,
) -> Result<Vec<(String, i64)>, RecordError> {
    let mut client = reader(url)?;
    let rows = client
        .query(
            "SELECT question, at FROM questions
             WHERE passage IS NULL AND question IS NOT NULL ORDER BY at DESC, id DESC LIMIT $1",
            &[&(n as i64)],
        )
        .map_err(|e| missing_or(url, e))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Questions, votes, and chats that asked.
pub(super) fn totals(url: &ServerUrl) -> Result<(u64, u64, u64), RecordError> {
    let mut client = reader(url)?;
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM questions), (SELECT count(*) FROM votes),
                    (SELECT count(DISTINCT chat) FROM questions)",
            &[],
        )
        .map_err(|e| missing_or(url, e))?;
    Ok((count(row.get(0)), count(row.get(1)), count(row.get(2))))
}
