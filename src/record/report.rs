//! Reading the record back: the report of a period (`citebot report`, `/stats`), the
//! questions nothing answered lately (`/unanswered`), from SQLite here and from PostgreSQL
//! through the same shapes (`super::postgres`).

use super::*;

/// What the record says about a period: what `citebot report` shows and `/stats` sums up.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The start of the period (Unix seconds) and its length in days.
    pub since: i64,
    pub days_covered: u64,
    pub questions: u64,
    pub answered: u64,
    /// The share of questions with no answer (0 when there were none).
    pub unanswered_share: f64,
    /// Every day of the period, oldest first (days with no question included).
    pub days: Vec<Day>,
    /// The most frequent unanswered questions, grouped by their normalised text.
    pub unanswered: Vec<Unanswered>,
    /// The answers voted down most.
    pub voted_down: Vec<VotedDown>,
    /// Votes per passage, most voted first.
    pub votes: Vec<PassageVotes>,
    /// Passages shown as the answer, and the votes on them.
    pub sure: Shown,
    /// Passages shown only as the closest, and the votes on them: voted up often, the bot
    /// could be surer; seldom, the cut points suit the readers.
    pub closest: Shown,
}

/// How often passages were shown with one verdict, and how they were voted on (questions
/// recorded before verdicts were kept are in neither).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Shown {
    pub shown: u64,
    pub up: u64,
    pub down: u64,
}

impl Shown {
    /// The share of votes that were up, when there were any.
    pub fn up_share(&self) -> Option<f64> {
        let votes = self.up + self.down;
        (votes > 0).then(|| self.up as f64 / votes as f64)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Day {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    pub questions: u64,
    pub answered: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Unanswered {
    /// The first wording seen of the group.
    pub question: String,
    pub count: u64,
    /// When it was last asked, `YYYY-MM-DD HH:MM` UTC.
    pub last_asked: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VotedDown {
    pub question: String,
    pub document: Option<String>,
    pub passage: Option<String>,
    pub down: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PassageVotes {
    pub document: Option<String>,
    pub passage: Option<String>,
    pub up: u64,
    pub down: u64,
}

/// An unanswered question as asked, with when.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Recent {
    pub question: String,
    pub asked: String,
}

/// How many rows of each list a report keeps.
const REPORT_ROWS: usize = 10;

/// Opens the record for reading; `None`-like error when there is none yet.
pub(super) fn open_for_reading(path: &Path) -> Result<Connection, RecordError> {
    if !path.exists() {
        return Err(RecordError::Missing(path.to_path_buf()));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| RecordError::Sqlite(path.to_path_buf(), e))?;
    conn.busy_timeout(Duration::from_secs(2))
        .map_err(|e| RecordError::Sqlite(path.to_path_buf(), e))?;
    Ok(conn)
}

impl Report {
    /// The report for the `days` days up to `now`, from the record at `at` (a SQLite
    /// file's path, or a [`Location`]).
    pub fn load(
        at: impl Into<Location>,
        now: SystemTime,
        days: u64,
    ) -> Result<Report, RecordError> {
        let days = days.max(1);
        let today = unix(now).div_euclid(86_400);
        let first_day = today - days as i64 + 1;
        let since = first_day * 86_400;
        let parts = match at.into() {
            Location::Sqlite(path) => read(&path, |conn| {
                Ok(Parts {
                    days: day_counts(conn, since)?,
                    unanswered: unanswered_rows(conn, since)?,
                    voted_down: most_voted_down(conn, since)?,
                    votes: votes_per_passage(conn, since)?,
                    verdicts: verdict_counts(conn, since)?,
                })
            })?,
            Location::Postgres(url) => postgres::report_parts(&url, since, REPORT_ROWS)?,
        };
        Ok(Report::assemble(parts, since, first_day, today, days))
    }

    /// The report from what the database said.
    fn assemble(parts: Parts, since: i64, first_day: i64, today: i64, days: u64) -> Report {
        let days_list = days_of(&parts.days, first_day, today);
        let questions: u64 = days_list.iter().map(|d| d.questions).sum();
        let answered: u64 = days_list.iter().map(|d| d.answered).sum();
        Report {
            since,
            days_covered: days,
            questions,
            answered,
            unanswered_share: if questions == 0 {
                0.0
            } else {
                ((questions - answered) as f64 / questions as f64 * 1e4).round() / 1e4
            },
            days: days_list,
            unanswered: group_unanswered(parts.unanswered),
            voted_down: parts.voted_down,
            votes: parts.votes,
            sure: parts.verdicts.get("answer").copied().unwrap_or_default(),
            closest: parts.verdicts.get("closest").copied().unwrap_or_default(),
        }
    }

    /// Questions per day as a bar of block characters, one per day.
    pub fn sparkline(&self) -> String {
        const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
        let most = self.days.iter().map(|d| d.questions).max().unwrap_or(0);
        self.days
            .iter()
            .map(|d| match d.questions {
                0 => ' ',
                n => BARS[((n * 7).div_ceil(most.max(1)) as usize).min(7)],
            })
            .collect()
    }
}

/// What a report is made of, as either database gives it.
pub(super) struct Parts {
    /// Questions asked and answered per day number (days since 1970-01-01).
    pub(super) days: HashMap<i64, (u64, u64)>,
    /// Unanswered questions and when they were asked, oldest first.
    pub(super) unanswered: Vec<(String, i64)>,
    pub(super) voted_down: Vec<VotedDown>,
    pub(super) votes: Vec<PassageVotes>,
    /// Per verdict ("answer", "closest"): how often it was given and voted on.
    pub(super) verdicts: HashMap<String, Shown>,
}

/// Per verdict since `since`: the questions given it, and the votes on its passages.
pub(super) fn verdict_counts(
    conn: &Connection,
    since: i64,
) -> rusqlite::Result<HashMap<String, Shown>> {
    let mut verdicts: HashMap<String, Shown> = HashMap::new();
    let mut stmt = conn.prepare(
        "SELECT verdict, count(*) FROM questions WHERE at >= ?1 AND verdict IS NOT NULL
         GROUP BY verdict",
    )?;
    for row in stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (verdict, shown): (String, u64) = row?;
        verdicts.entry(verdict).or_default().shown = shown;
    }
    let mut stmt = conn.prepare(
        "SELECT verdict, sum(up), sum(1 - up) FROM votes WHERE at >= ?1 AND verdict IS NOT NULL
         GROUP BY verdict",
    )?;
    for row in stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
        let (verdict, up, down): (String, u64, u64) = row?;
        let counts = verdicts.entry(verdict).or_default();
        (counts.up, counts.down) = (up, down);
    }
    Ok(verdicts)
}

/// Questions asked and answered per day since `since`.
pub(super) fn day_counts(
    conn: &Connection,
    since: i64,
) -> rusqlite::Result<HashMap<i64, (u64, u64)>> {
    let mut counts = HashMap::new();
    let mut stmt = conn.prepare(
        "SELECT at / 86400, count(*), count(passage) FROM questions WHERE at >= ?1
         GROUP BY at / 86400",
    )?;
    for row in stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
        let (day, asked, answered): (i64, u64, u64) = row?;
        counts.insert(day, (asked, answered));
    }
    Ok(counts)
}

/// Every day from `first_day` to `today` (day numbers), days with no question included.
pub(super) fn days_of(counts: &HashMap<i64, (u64, u64)>, first_day: i64, today: i64) -> Vec<Day> {
    (first_day..=today)
        .map(|d| {
            let (questions, answered) = counts.get(&d).copied().unwrap_or_default();
            Day {
                date: date_of(d * 86_400),
                questions,
                answered,
            }
        })
        .collect()
}

/// The unanswered questions asked since `since`, oldest first.
pub(super) fn unanswered_rows(
    conn: &Connection,
    since: i64,
) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT question, at FROM questions
         WHERE at >= ?1 AND passage IS NULL AND question IS NOT NULL ORDER BY at",
    )?;
    let rows = stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// The unanswered questions asked most, most asked first, from `rows` oldest first.
pub(super) fn group_unanswered(rows: Vec<(String, i64)>) -> Vec<Unanswered> {
    // Grouped here rather than in SQL: "Who is Putin?" and "who is putin" are one.
    let mut groups: HashMap<String, Unanswered> = HashMap::new();
    for (question, at) in rows {
        let group = groups
            .entry(normalise(&question))
            .or_insert_with(|| Unanswered {
                question: question.clone(),
                count: 0,
                last_asked: String::new(),
            });
        group.count += 1;
        group.last_asked = time_of(at);
    }
    let mut unanswered: Vec<Unanswered> = groups.into_values().collect();
    unanswered.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.last_asked.cmp(&a.last_asked))
            .then(a.question.cmp(&b.question))
    });
    unanswered.truncate(REPORT_ROWS);
    unanswered
}

/// The answers voted down most since `since`.
pub(super) fn most_voted_down(conn: &Connection, since: i64) -> rusqlite::Result<Vec<VotedDown>> {
    let mut stmt = conn.prepare(
        "SELECT question, document, passage, count(*) AS down FROM votes
         WHERE at >= ?1 AND up = 0 AND question IS NOT NULL
         GROUP BY lower(question), document, passage
         ORDER BY down DESC, max(at) DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![since, REPORT_ROWS as i64], |r| {
        Ok(VotedDown {
            question: r.get(0)?,
            document: r.get(1)?,
            passage: r.get(2)?,
            down: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// The votes on each passage since `since`, most voted first.
pub(super) fn votes_per_passage(
    conn: &Connection,
    since: i64,
) -> rusqlite::Result<Vec<PassageVotes>> {
    let mut stmt = conn.prepare(
        "SELECT document, passage, sum(up), sum(1 - up) FROM votes WHERE at >= ?1
         GROUP BY document, passage ORDER BY count(*) DESC, document, passage LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![since, REPORT_ROWS as i64], |r| {
        Ok(PassageVotes {
            document: r.get(0)?,
            passage: r.get(1)?,
            up: r.get(2)?,
            down: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// The last `n` unanswered questions, newest first.
pub fn recent_unanswered(at: impl Into<Location>, n: usize) -> Result<Vec<Recent>, RecordError> {
    let rows: Vec<(String, i64)> = match at.into() {
        Location::Postgres(url) => postgres::recent_unanswered(&url, n)?,
        Location::Sqlite(path) => read(&path, |conn| {
            let mut stmt = conn.prepare(
                "SELECT question, at FROM questions
                 WHERE passage IS NULL AND question IS NOT NULL ORDER BY at DESC, id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([n as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })?,
    };
    Ok(rows
        .into_iter()
        .map(|(question, at)| Recent {
            question,
            asked: time_of(at),
        })
        .collect())
}

/// How many questions and votes the record holds, and from how many chats: for tests and
/// the operator's sanity.
pub fn totals(at: impl Into<Location>) -> Result<(u64, u64, u64), RecordError> {
    match at.into() {
        Location::Postgres(url) => postgres::totals(&url),
        Location::Sqlite(path) => read(&path, |conn| {
            let count = |sql: &str| -> rusqlite::Result<u64> {
                conn.query_row(sql, [], |r| r.get(0))
                    .optional()
                    .map(Option::unwrap_or_default)
            };
            Ok((
                count("SELECT count(*) FROM questions")?,
                count("SELECT count(*) FROM votes")?,
                count("SELECT count(DISTINCT chat) FROM questions")?,
            ))
        }),
    }
}

/// Opens the record at `path` for reading and runs `query` on it, naming the file in any
/// error.
pub(super) fn read<T>(
    path: &Path,
    query: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> Result<T, RecordError> {
    let conn = open_for_reading(path)?;
    query(&conn).map_err(|e| RecordError::Sqlite(path.to_path_buf(), e))
}

/// Lower case, single spaces, no end punctuation: "Who is Putin?" is "who is putin".
pub(super) fn normalise(question: &str) -> String {
    question
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(['?', '!', '.', '…', ' '])
        .to_lowercase()
}

/// `YYYY-MM-DD` of Unix seconds, UTC.
pub(super) fn date_of(at: i64) -> String {
    let (y, m, d) = civil_from_days(at.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM` of Unix seconds, UTC.
pub(super) fn time_of(at: i64) -> String {
    let secs = at.rem_euclid(86_400);
    format!("{} {:02}:{:02}", date_of(at), secs / 3600, secs % 3600 / 60)
}

/// The civil date of a day number (days since 1970-01-01): Howard Hinnant's algorithm, so
/// that a date needs no time-zone crate.
pub(super) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}
