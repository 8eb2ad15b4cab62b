//! The command line: `citebot [serve|ask|index|eval|bench]`, its help text and its output.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::answer::{self, Reply};
use crate::config::Config;
use crate::engine::Engine;
use crate::knowledge::PassageKind;
use crate::render::{self, Style};

mod report;
pub use report::report_text;

#[derive(Debug, Parser)]
#[command(
    name = "citebot",
    version,
    about = "Answers questions about a document with a cited excerpt from it, in Telegram or here.",
    after_help = "Settings come from the environment or .env (see .env.example). With no command, citebot serves the bot."
)]
pub struct Cli {
    /// The knowledge folder (documents with a +++ metadata header, and synonyms.txt).
    #[arg(long, global = true, env = "KNOWLEDGE_DIR", value_name = "DIR")]
    pub knowledge: Option<PathBuf>,
    /// Match questions by meaning as well as by words [env: SEMANTIC; default: on].
    #[arg(long, global = true, value_name = "on|off", value_parser = parse_switch)]
    pub semantic: Option<bool>,
    /// One sentence model's folder, for every language [env: EMBEDDING_MODEL; default: models/all-minilm-l6-v2 for English questions about English text, models/multilingual-e5-small for the rest].
    #[arg(long, global = true, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Bold matched words in the terminal: auto (on a terminal, unless NO_COLOR is set),
    /// always or never.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Telegram bot (needs TELOXIDE_TOKEN).
    Serve,
    /// Answer a question, or one question per line of standard input.
    Ask(AskArgs),
    /// Talk to citebot as to the bot: follow-up questions, /more, /full, /new (no token
    /// needed). Off a terminal, one message per line; an empty line starts a new conversation.
    Chat(ChatArgs),
    /// Load and index the knowledge, and show what was found in each document, and how many
    /// lines of it are not passages (headings, credits, paywall text...), by rule.
    Index(IndexArgs),
    /// Add a document (a file, or the page or file at a URL) to the knowledge folder, and
    /// show what was found in it. Restart the bot or send /reload to answer from it.
    Add(AddArgs),
    /// Score a question set: hit@1, hit@3, MRR@3 and out-of-scope rejections.
    Eval(EvalArgs),
    /// Fit the confidence to the tune parts of question sets: print its weights and cut
    /// points as TOML for `eval --tuning`, with the tune questions' decisions at each cut.
    Fit(FitArgs),
    /// Measure start-up, latency per question, throughput and memory.
    Bench(BenchArgs),
    /// What readers asked: questions per day, what nothing answered, what was voted down
    /// (from the record the bot keeps in DATA_DIR).
    Report(ReportArgs),
    /// Manage the webhook: `citebot webhook delete` switches webhook delivery off (a stopping
    /// bot leaves it in place, for the other replicas).
    Webhook {
        #[command(subcommand)]
        action: WebhookAction,
    },
    /// Keep a core busy until the parent process is gone (what `bench --busy` runs).
    #[command(hide = true)]
    Spin,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    /// How marked words look on standard output.
    pub fn style(self) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        match self {
            Color::Always => Style::Ansi,
            Color::Never => Style::Stars,
            Color::Auto if std::io::stdout().is_terminal() && !no_color => Style::Ansi,
            Color::Auto => Style::Stars,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum WebhookAction {
    /// Delete the bot's webhook, for every replica, so that long polling works again.
    Delete,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Questions to time, one per line or as JSON lines {"q": ...}. Default: the public eval
    /// questions, or questions drawn from the synthetic corpus.
    #[arg(long, value_name = "FILE")]
    pub questions: Option<PathBuf>,
    /// Write a synthetic knowledge folder of N passages (about 100 documents) and bench it.
    #[arg(long, value_name = "N", requires = "write")]
    pub synthetic: Option<usize>,
    /// Where to write the synthetic corpus (a folder citebot can index like any other).
    #[arg(long, value_name = "DIR", requires = "synthetic")]
    pub write: Option<PathBuf>,
    /// Spread the synthetic passages over at most this many documents (1: one long
    /// document, about 830 bytes a passage).
    #[arg(long, value_name = "N", default_value_t = crate::bench::MAX_DOCUMENTS, requires = "synthetic")]
    pub documents: usize,
    /// Seed of the synthetic corpus and of the questions drawn from it.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Run N processes that keep a core busy each beside the measurement (started and
    /// stopped by the bench), as on a server shared with a database or a build.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub busy: usize,
    /// Answer K questions at once (each on its own thread, one engine), and print the
    /// questions per second and the latency each saw. Default: the cores.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: Option<u16>,
    /// With --synthetic: stand synthetic vectors in for the sentences' (written once as each
    /// model's index, where the engine keeps it), to time the whole question path at sizes
    /// that take hours to embed. Speed and memory only: what meaning finds in them is noise.
    #[arg(long, requires = "synthetic")]
    pub stand_in_vectors: bool,
    /// Bench the vector search alone at N sentences a layer, two layers: synthetic clustered
    /// vectors (not sentences), the exact scan against the approximate index (time, recall,
    /// memory, reopening), then recall on the knowledge's own vectors.
    #[arg(long, value_name = "N", conflicts_with = "synthetic")]
    pub vectors: Option<usize>,
    /// With --vectors: the lists the index scans per question (default: by size).
    #[arg(long, value_name = "M", requires = "vectors")]
    pub probes: Option<usize>,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// The question, quoted or not (`citebot ask Kabulov withdrawal`). Without it, questions
    /// are read from standard input, one per line, and answered as JSON lines; on a terminal
    /// the chat opens instead.
    #[arg(num_args = 0.., trailing_var_arg = true, allow_hyphen_values = true)]
    pub question: Vec<String>,
    /// Show up to N passages, from 1 to 50.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=50))]
    pub top: u16,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Answer from this document only: its file name without the extension (`citebot
    /// index` lists them). Without it, a question that names a document by a word of its
    /// title ("the bee article") is answered from that one, any other from them all.
    #[arg(long, value_name = "ID")]
    pub doc: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// How far back: a number of days, like 7d or 30d (or 24h; counted in whole days).
    #[arg(long, default_value = "7d", value_parser = parse_days)]
    pub since: u64,
    /// Print the same data as one JSON object, for scripts.
    #[arg(long)]
    pub json: bool,
}

/// `7d`, `30d`, `48h`, `2w`: whole days, at least one (hours are rounded up to whole days).
fn parse_days(v: &str) -> Result<u64, String> {
    use crate::config::{parse_duration, DurationError};
    const DAY: u64 = 86_400;
    let v = v.trim();
    let out_of_range = || format!("{v:?}: expected 1d to 3650d (or h, w)");
    let duration =
        parse_duration(v, &[("d", DAY), ("h", 3600), ("w", 7 * DAY)]).map_err(|e| match e {
            DurationError::NotANumber => format!("{v:?}: expected a number of days, like 7d"),
            DurationError::Unit => out_of_range(),
        })?;
    let days = duration.as_secs().div_ceil(DAY);
    (1..=3650)
        .contains(&days)
        .then_some(days)
        .ok_or_else(out_of_range)
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// List every line that is not a passage, with the rule that dropped it.
    #[arg(long)]
    pub dropped: bool,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// A file (text, Markdown, PDF, HTML, Word) or an http(s) URL.
    pub source: String,
    /// The title, over what the document says.
    #[arg(long)]
    pub title: Option<String>,
    /// The author, over what the document says.
    #[arg(long)]
    pub author: Option<String>,
    /// The date (YYYY-MM-DD), over what the document says.
    #[arg(long)]
    pub date: Option<String>,
    /// Where it lives on the web, for the citation's link (a URL added has its own).
    #[arg(long)]
    pub url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Print one JSON object per message (`ask --json`'s, plus "understood_as").
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Questions, one JSON object per line: {"q": "...", "gold": ["p4"]}.
    pub questions: PathBuf,
    /// Gold passages: a JSON object from each gold key to a snippet of its passage.
    #[arg(long, value_name = "PASSAGES.json")]
    pub gold: PathBuf,
    /// Score only the questions of this split of the set (`tune`, `held_out`).
    #[arg(long, value_name = "NAME")]
    pub split: Option<String>,
    /// Print, for each question, the signals of its best passages as JSON lines instead.
    #[arg(long)]
    pub details: bool,
    /// Rank and decide with these weights and thresholds (TOML; any field of
    /// `rank::Tuning`, the rest at their defaults), for a sweep without recompiling.
    #[arg(long, value_name = "TUNING.toml")]
    pub tuning: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// Question sets and conversation sets; only their `tune` parts are read.
    #[arg(required = true)]
    pub sets: Vec<PathBuf>,
    /// Gold passages: a JSON object from each gold key to a snippet of its passage.
    #[arg(long, value_name = "PASSAGES.json")]
    pub gold: PathBuf,
    /// The L2 penalty on the weights.
    #[arg(long, default_value_t = 1.0)]
    pub l2: f64,
    /// How often a sure answer must be right on the tune parts: `sure` is the lowest cut
    /// point that meets it.
    #[arg(long, default_value_t = 0.95)]
    pub precision: f64,
}

fn parse_switch(v: &str) -> Result<bool, String> {
    crate::config::parse_switch(&v.to_ascii_lowercase()).ok_or_else(|| "expected on or off".into())
}

impl Cli {
    /// Applies the options that override the environment's settings.
    pub fn apply(&self, config: &mut Config) {
        if let Some(dir) = &self.knowledge {
            config.knowledge_dir = dir.clone();
        }
        if let Some(on) = self.semantic {
            config.semantic = on;
        }
        if let Some(dir) = &self.model {
            config.embedding_model = Some(dir.clone());
        }
    }
}

/// Loads the engine the configuration describes.
pub fn engine(config: &Config) -> anyhow::Result<Engine> {
    Ok(Engine::load(&config.engine_options())?)
}

/// Lines longer than this are refused whole (with an error line) rather than read and cut.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// `citebot ask`.
pub fn ask(engine: &Engine, config: &Config, args: &AskArgs, color: Color) -> anyhow::Result<()> {
    let top = usize::from(args.top);
    let limit = config.max_question_chars;
    let doc = match &args.doc {
        Some(id) => Some(document_by_id(engine, id)?),
        None => None,
    };
    let mut out = std::io::stdout().lock();
    if !args.question.is_empty() {
        let question = args.question.join(" ");
        let reply = ask_cut(engine, &question, doc, limit, top)?;
        if args.json {
            writeln!(out, "{}", render::reply_json(&reply, engine))?;
        } else {
            // In the question's language, else the user's (the locale's), else English.
            let lang = crate::texts::reply_language(
                render::asked_in(&reply),
                crate::texts::terminal::locale().as_deref(),
            );
            writeln!(
                out,
                "{}",
                render::reply_plain(&reply, engine, color.style(), lang)
            )?;
        }
        return Ok(());
    }
    if std::io::stdin().is_terminal() {
        // Nobody types JSON lines by hand: a person gets the chat.
        drop(out);
        return crate::chat::run(engine, args.json, color.style(), limit);
    }
    let mut stdin = std::io::stdin().lock();
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        if stdin
            .read_until(b'\n', &mut line)
            .context("reading questions from standard input")?
            == 0
        {
            break;
        }
        number += 1;
        let value = match batch_line(engine, &line, doc, limit, top) {
            Ok(Some(reply)) => render::reply_json(&reply, engine),
            Ok(None) => continue,
            Err(why) => json!({ "line": number, "error": why }),
        };
        writeln!(out, "{value}")?;
    }
    Ok(())
}

/// One line of a batch: a reply, nothing (a blank line), or why the line was refused.
fn batch_line(
    engine: &Engine,
    line: &[u8],
    doc: Option<usize>,
    limit: usize,
    top: usize,
) -> Result<Option<Reply>, String> {
    if line.len() > MAX_LINE_BYTES {
        return Err(format!("the line is over {MAX_LINE_BYTES} bytes"));
    }
    let text = std::str::from_utf8(line).map_err(|_| "the line is not UTF-8".to_string())?;
    let text = text.trim_end_matches(['\n', '\r']);
    if text.trim().is_empty() {
        return Ok(None);
    }
    ask_cut(engine, text, doc, limit, top)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Asks `question` cut to `limit` characters (`MAX_QUESTION_CHARS`); the reply says if it was.
fn ask_cut(
    engine: &Engine,
    question: &str,
    doc: Option<usize>,
    limit: usize,
    top: usize,
) -> Result<Reply, crate::retrieve::SearchError> {
    let (question, cut) = crate::analysis::truncate_chars(question, limit);
    let mut reply = answer::ask_in(engine, question, doc, top)?;
    reply.truncated |= cut;
    Ok(reply)
}

/// The document whose id (file name without the extension) is `id`.
fn document_by_id(engine: &Engine, id: &str) -> anyhow::Result<usize> {
    let docs = &engine.knowledge.documents;
    docs.iter().position(|d| d.id == id).ok_or_else(|| {
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        anyhow::anyhow!(
            "no document {id:?} in the knowledge folder; its documents are: {}",
            ids.join(", ")
        )
    })
}

/// `citebot report`.
pub fn report(config: &Config, args: &ReportArgs) -> anyhow::Result<()> {
    // The bot's record: PostgreSQL's with DATABASE_URL, else the SQLite file in DATA_DIR.
    let at = match &config.database_url {
        Some(url) => crate::record::Location::Postgres(url.clone()),
        None => crate::record::Location::Sqlite(config.data_dir.join(crate::record::DB_FILE)),
    };
    let report = crate::record::Report::load(&at, std::time::SystemTime::now(), args.since)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        write!(out, "{}", report_text(&report))?;
    }
    Ok(())
}

/// `citebot add`.
pub fn add(config: &Config, args: &AddArgs) -> anyhow::Result<()> {
    use crate::intake;
    let max_bytes = config.max_document_mb.saturating_mul(1_000_000);
    let is_url = args.source.starts_with("http://") || args.source.starts_with("https://");
    let (name, bytes) = if is_url {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(intake::fetch(&args.source, max_bytes))?
    } else {
        let path = std::path::Path::new(&args.source);
        let size = std::fs::metadata(path)
            .with_context(|| format!("{}: cannot be read", path.display()))?
            .len();
        anyhow::ensure!(
            size <= max_bytes,
            "{}: {} MB, over the limit of {} MB a document (MAX_DOCUMENT_MB)",
            path.display(),
            size.div_ceil(1_000_000),
            config.max_document_mb
        );
        let bytes =
            std::fs::read(path).with_context(|| format!("{}: cannot be read", path.display()))?;
        (args.source.clone(), bytes)
    };
    let fields = intake::Fields {
        title: args.title.clone(),
        author: args.author.clone(),
        date: args.date.clone(),
        url: args
            .url
            .clone()
            .or_else(|| is_url.then(|| args.source.clone())),
    };
    std::fs::create_dir_all(&config.knowledge_dir)
        .with_context(|| format!("{}: cannot be made", config.knowledge_dir.display()))?;
    let added = intake::add(
        &config.knowledge_dir,
        &name,
        &bytes,
        &fields,
        config.max_document_mb,
    )?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "added {}", added.path.display())?;
    writeln!(out, "  title:    {}", added.title)?;
    writeln!(
        out,
        "  author:   {}",
        added.author.as_deref().unwrap_or("—")
    )?;
    writeln!(out, "  date:     {}", added.date.as_deref().unwrap_or("—"))?;
    writeln!(out, "  language: {}", added.language.code())?;
    writeln!(
        out,
        "  {}; try: citebot ask {:?}",
        plural(added.paragraphs, "paragraph", "paragraphs"),
        added.example
    )?;
    Ok(())
}

/// `citebot index`.
pub fn index(engine: &Engine, args: &IndexArgs) -> anyhow::Result<()> {
    let k = &engine.knowledge;
    let mut out = std::io::stdout().lock();
    for (i, doc) in k.documents.iter().enumerate() {
        let count = |kind| {
            k.passages
                .iter()
                .filter(|p| p.doc == i && p.kind == kind)
                .count()
        };
        writeln!(
            out,
            "{}: “{}” — {}, {}, {}, {}",
            doc.path.display(),
            doc.meta.title,
            plural(count(PassageKind::Paragraph), "paragraph", "paragraphs"),
            plural(count(PassageKind::Caption), "caption", "captions"),
            plural(
                count(PassageKind::AuthorNote),
                "author note",
                "author notes"
            ),
            plural(count(PassageKind::About), "note about it", "notes about it"),
        )?;
        if let Some(line) = dropped_summary(&doc.dropped) {
            writeln!(out, "  {line}")?;
        }
        if args.dropped {
            for d in &doc.dropped {
                writeln!(out, "  {}: {}", d.rule.as_str(), d.text)?;
            }
        }
    }
    writeln!(
        out,
        "{}, {} indexed, {}",
        plural(k.documents.len(), "document", "documents"),
        plural(k.passages.len(), "passage", "passages"),
        plural(engine.synonyms.len(), "synonym entry", "synonym entries"),
    )?;
    if let Some(bridge) = &engine.meaning().bridge {
        writeln!(
            out,
            "{} a question in another language can be read as",
            plural(bridge.len(), "word", "words")
        )?;
    }
    // What was not read fails the command, so that a script notices; the rest is indexed.
    if !k.skipped.is_empty() {
        for s in &k.skipped {
            writeln!(out, "skipped {s}")?;
        }
        anyhow::bail!(
            "{} not read (listed above); the others are indexed",
            plural(k.skipped.len(), "file", "files")
        );
    }
    Ok(())
}

/// "not passages: 4 lines (heading 2, short line 2)", or `None` when every line is one.
fn dropped_summary(dropped: &[crate::knowledge::Dropped]) -> Option<String> {
    if dropped.is_empty() {
        return None;
    }
    let by_rule: Vec<String> = crate::knowledge::DropRule::ALL
        .iter()
        .filter_map(|&rule| {
            let n = dropped.iter().filter(|d| d.rule == rule).count();
            (n > 0).then(|| format!("{} {n}", rule.as_str()))
        })
        .collect();
    Some(format!(
        "not passages: {} ({}; `citebot index --dropped` lists them)",
        plural(dropped.len(), "line", "lines"),
        by_rule.join(", ")
    ))
}

/// "1 paragraph", "2 paragraphs".
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `citebot fit`.
pub fn fit(config: &Config, args: &FitArgs) -> anyhow::Result<()> {
    let engine = engine(config)?;
    let sets: Vec<&std::path::Path> = args.sets.iter().map(PathBuf::as_path).collect();
    let asked = crate::eval::fit::ask_tune_parts(&engine, &sets, &args.gold)?;
    let model = crate::eval::fit::fit(&asked, args.l2, args.precision);
    let section = if engine.is_semantic() {
        "confidence"
    } else {
        "confidence_words_only"
    };
    print!("{}", crate::eval::fit::render(&model, &asked, section));
    Ok(())
}

/// `citebot eval`.
pub fn eval(config: &Config, args: &EvalArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.questions)
        .with_context(|| format!("{}: cannot be read", args.questions.display()))?;
    // A mistyped tuning file is said before the engine takes its time to load.
    let tuning = match &args.tuning {
        Some(path) => crate::rank::Tuning::load(path)?,
        None => crate::rank::Tuning::default(),
    };
    let engine = &engine(config)?.with_tuning(tuning);
    if crate::eval::holds_conversations(&text) {
        return eval_conversations(engine, args, &text);
    }
    let mut set = crate::eval::QuestionSet::load(&args.questions, &args.gold)?;
    if let Some(split) = &args.split {
        set = set.only_split(split);
    }
    if args.details {
        let mut out = std::io::stdout().lock();
        for line in crate::eval::details(engine, &set)? {
            writeln!(out, "{line}")?;
        }
        return Ok(());
    }
    let report = crate::eval::evaluate(engine, &set)?;
    print!("{}", report.render());
    Ok(())
}

/// `citebot eval` on a set of conversations: every turn read in context, then on its own.
fn eval_conversations(engine: &Engine, args: &EvalArgs, text: &str) -> anyhow::Result<()> {
    let mut conversations = crate::eval::parse_conversations(text)
        .with_context(|| args.questions.display().to_string())?;
    if let Some(split) = &args.split {
        conversations.retain(|c| c.split.as_deref() == Some(split));
    }
    let gold = crate::eval::load_gold(&args.gold)?;
    let mut out = std::io::stdout().lock();
    if args.details {
        for line in crate::eval::conversation_details(engine, &conversations, &gold)? {
            writeln!(out, "{line}")?;
        }
        return Ok(());
    }
    let turns: usize = conversations.iter().map(|c| c.turns.len()).sum();
    writeln!(out, "{} conversations, {turns} turns", conversations.len())?;
    for with_context in [true, false] {
        let report =
            crate::eval::evaluate_conversations(engine, &conversations, &gold, with_context)?;
        let how = if with_context {
            "with context (as the bot and `citebot chat` read them):"
        } else {
            "without context (each turn on its own, as `citebot ask`):"
        };
        write!(out, "\n{how}\n{}", report.render())?;
    }
    Ok(())
}

/// `citebot bench`. `process_start` is when the process started, for the time to the first
/// answer; the engine is loaded inside the bench, so that loading is measured.
pub fn bench(
    config: &Config,
    args: &BenchArgs,
    process_start: std::time::Instant,
) -> anyhow::Result<()> {
    use crate::bench;
    if let Some(n) = args.vectors {
        let report = bench::run_vectors(n, args.probes, args.seed, &config.engine_options())?;
        print!("{}", report.render());
        return Ok(());
    }
    let concurrency = args
        .concurrency
        .map_or_else(crate::threads::cores, usize::from);
    // Started before the engine loads: everything the bench measures is measured beside them.
    let busy = bench::Busy::start(args.busy)?;
    let report = match (&args.synthetic, &args.write) {
        (Some(n), Some(dir)) => {
            let info = bench::write_synthetic_in(dir, *n, args.documents, args.seed)?;
            eprintln!(
                "wrote {} passages in {} documents ({} distinct words, {} bytes) to {}",
                info.passages,
                info.documents,
                info.vocabulary,
                info.bytes,
                dir.display()
            );
            let questions = match &args.questions {
                Some(file) => bench::read_questions(file)?,
                None => bench::synthetic_questions(dir, 1000, args.seed)?,
            };
            let options = crate::engine::Options {
                knowledge_dir: dir.clone(),
                ..config.engine_options()
            };
            let stand_in = if args.stand_in_vectors {
                let written = bench::write_stand_in_vectors(&options, args.seed)?;
                eprintln!("{}", written.describe());
                Some(written)
            } else {
                None
            };
            // Writing the corpus (and the stand-in vectors) is not start-up: the clock starts
            // again here.
            let report = bench::run(&options, &questions, std::time::Instant::now(), concurrency)?;
            bench::BenchReport { stand_in, ..report }
        }
        _ => {
            let questions = match &args.questions {
                Some(file) => bench::read_questions(file)?,
                None => bench::default_questions()?,
            };
            bench::run(
                &config.engine_options(),
                &questions,
                process_start,
                concurrency,
            )?
        }
    };
    let report = bench::BenchReport {
        busy: busy.len(),
        ..report
    };
    drop(busy);
    print!("{}", report.render());
    Ok(())
}
