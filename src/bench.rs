//! Measuring citebot at any size: a benchmark of start-up, latency, throughput and memory,
//! on the knowledge given or on a synthetic knowledge folder as large as wanted, with
//! questions drawn from it (the `synthetic` module, whose items are re-exported here).

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::answer;
use crate::engine::Engine;

mod stand_in;
mod synthetic;
mod vectors;

pub use stand_in::{write as write_stand_in_vectors, StandIn};
pub use synthetic::{
    synthetic_questions, write_synthetic_in, SyntheticInfo, MAX_DOCUMENTS, PARAGRAPH_WORDS,
    PSEUDO_WORDS,
};
pub use vectors::{run as run_vectors, RealFigures, VectorReport};

/// Processes that keep a core busy beside a measurement, as a database, a build or another
/// bot would on a shared server: each is this program spinning (`citebot spin`), and all stop
/// when this value is dropped, or when this process dies (a spinner watches its parent).
pub struct Busy(Vec<std::process::Child>);

impl Busy {
    /// Starts `n` spinners.
    pub fn start(n: usize) -> anyhow::Result<Busy> {
        let program = std::env::current_exe().context("finding this program to spin")?;
        let mut busy = Busy(Vec::with_capacity(n));
        for _ in 0..n {
            let child = std::process::Command::new(&program)
                .arg(SPIN)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .spawn()
                .with_context(|| format!("starting {} {SPIN}", program.display()))?;
            busy.0.push(child);
        }
        Ok(busy)
    }

    /// How many are spinning.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The hidden subcommand a [`Busy`] process runs.
pub const SPIN: &str = "spin";

/// Keeps one core busy until the process that started it is gone.
pub fn spin() {
    let parent = std::os::unix::process::parent_id();
    let mut x = 0u64;
    loop {
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(100) {
            for _ in 0..10_000 {
                x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        // Orphans are adopted by another process: ours is gone, and so is the reason to spin.
        if std::os::unix::process::parent_id() != parent {
            return;
        }
    }
}

/// The public eval questions about the article (`tests/data/questions.jsonl`), built into the
/// binary so that `bench` runs anywhere.
pub fn default_questions() -> anyhow::Result<Vec<String>> {
    let questions = crate::eval::parse_questions(include_str!("../tests/data/questions.jsonl"))?;
    Ok(questions.into_iter().map(|q| q.q).collect())
}

/// Questions from a file: one JSON object per line as in the eval set (`{"q": "..."}`), or
/// one plain question per line; blank lines are skipped.
pub fn read_questions(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot be read", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('{') {
            let q: crate::eval::Question = serde_json::from_str(line).with_context(|| {
                format!("{}: line {}: not a question object", path.display(), n + 1)
            })?;
            out.push(q.q);
        } else {
            out.push(line.to_string());
        }
    }
    if out.is_empty() {
        bail!("{}: no questions", path.display());
    }
    Ok(out)
}

/// The measured pass stops after this many answers, once every question was asked...
const MIN_SAMPLES: usize = 1_000;
/// ...or after this long, for large corpora where an answer takes milliseconds.
const TIME_BUDGET: Duration = Duration::from_secs(5);
/// Warming up (caches, allocator, page cache of an index on disk) stops after this long.
const WARM_UP: Duration = Duration::from_secs(2);

/// What [`run`] measured.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub documents: usize,
    pub passages: usize,
    /// Whether the index was on disk (`index_dir`) rather than in memory.
    pub index_on_disk: bool,
    /// Distinct questions, and how many of them got an answer.
    pub questions: usize,
    pub answered: usize,
    /// Loading the knowledge and building (or reopening) the index.
    pub startup: Duration,
    /// From the process start given to [`run`] to the first answer.
    pub first_answer: Duration,
    /// Answers timed one at a time on one thread.
    pub samples: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub qps_one_thread: f64,
    /// Questions answered at once, each on its own thread, all on one engine.
    pub threads: usize,
    pub qps_all_threads: f64,
    /// The latency each of those answers saw.
    pub concurrent_p50: Duration,
    pub concurrent_p99: Duration,
    /// Resident memory once the engine is loaded, and at its peak from loading through
    /// answering on every core, in bytes (Linux only).
    pub rss_after_load: Option<u64>,
    pub peak_rss: Option<u64>,
    /// With an index on disk: loading again with the index already built, plus one answer:
    /// what a restarted replica pays before it can answer.
    pub reopen: Option<Duration>,
    /// Each meaning layer's costs, in order of preference (none: the layer is off).
    pub embedding: Vec<EmbeddingFigures>,
    /// Processes that kept a core busy beside the measurement ([`Busy`]).
    pub busy: usize,
    /// Synthetic vectors stood in for the sentences' (`--stand-in-vectors`).
    pub stand_in: Option<StandIn>,
}

/// What the meaning layer costs.
#[derive(Debug, Clone)]
pub struct EmbeddingFigures {
    /// The model's folder name.
    pub model: String,
    /// How the model's weights are held (8-bit or f32, by what the CPU runs fastest).
    pub precision: crate::bert::Precision,
    /// Sentences of the knowledge embedded afresh (in batches, on every core) per second.
    pub sentences_per_second: f64,
    pub sentences_timed: usize,
    /// Embedding one question, alone.
    pub question_p50: Duration,
    pub question_p99: Duration,
    pub questions_timed: usize,
    /// The sentence vectors in memory, in all and per passage.
    pub vector_bytes: usize,
    pub bytes_per_passage: f64,
}

/// At most this many sentences are embedded again to time the throughput.
const EMBED_SAMPLE: usize = 2_000;

/// Times each meaning layer: embedding sentences in batches, and single questions.
fn measure_embedding(
    engine: &Engine,
    questions: &[String],
) -> anyhow::Result<Vec<EmbeddingFigures>> {
    let semantics = engine.meaning();
    (semantics.layers.iter())
        .map(|layer| measure_layer(engine, layer, questions))
        .collect()
}

fn measure_layer(
    engine: &Engine,
    layer: &crate::engine::MeaningLayer,
    questions: &[String],
) -> anyhow::Result<EmbeddingFigures> {
    let sentences: Vec<&str> = engine
        .knowledge
        .passages
        .iter()
        .flat_map(|p| p.sentences.iter().map(|r| &p.text[r.clone()]))
        .take(EMBED_SAMPLE)
        .collect();
    let t = Instant::now();
    black_box(
        layer
            .model
            .embed(&sentences, &indicatif::ProgressBar::hidden())?,
    );
    let sentences_per_second = sentences.len() as f64 / t.elapsed().as_secs_f64();

    let mut times = Vec::new();
    let started = Instant::now();
    while times.len() < MIN_SAMPLES && started.elapsed() < TIME_BUDGET {
        let q = &questions[times.len() % questions.len()];
        let t = Instant::now();
        black_box(layer.model.embed_one(q)?);
        times.push(t.elapsed());
    }
    times.sort_unstable();
    let vector_bytes = layer.vectors.heap_bytes();
    Ok(EmbeddingFigures {
        model: layer.model.name(),
        precision: layer.model.precision,
        sentences_per_second,
        sentences_timed: sentences.len(),
        question_p50: percentile(&times, 50.0),
        question_p99: percentile(&times, 99.0),
        questions_timed: times.len(),
        vector_bytes,
        bytes_per_passage: vector_bytes as f64 / engine.knowledge.passages.len().max(1) as f64,
    })
}

/// The value at percentile `p` (0 to 100) of sorted values, by the nearest-rank method:
/// the smallest value with at least p% of the values at or below it. Zero when empty.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A field of `/proc/self/status` given in kB (`VmRSS`, `VmHWM`), in bytes.
fn proc_status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        let kb: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
        Some(kb * 1024)
    })
}

/// Resets the peak resident memory (Linux 4.0+), so that the peak is the engine's and not
/// that of whatever the process did before (writing a synthetic corpus, drawing questions).
fn reset_peak_rss() {
    // Not being able to reset only makes the peak an upper bound.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Benchmarks the engine for `knowledge_dir` (index in memory, or under `index_dir`):
/// start-up, time to the first answer since `process_start` (take it first thing in `main`),
/// the latency of each answer on one thread after a warm-up, the throughput on one thread and
/// on every core sharing one engine, and resident memory.
///
/// Every question is asked as the bot asks it (`answer::ask` with one answer). The measured
/// pass goes through the questions, again and again until 1,000 answers or 5 seconds.
pub fn run(
    options: &crate::engine::Options,
    questions: &[String],
    process_start: Instant,
    concurrency: usize,
) -> anyhow::Result<BenchReport> {
    if questions.is_empty() {
        bail!("no questions to benchmark with");
    }
    reset_peak_rss();
    let started = Instant::now();
    let engine = Engine::load(options)?;
    let startup = started.elapsed();
    let rss_after_load = proc_status_bytes("VmRSS");
    black_box(answer::ask(&engine, &questions[0], 1)?);
    let first_answer = process_start.elapsed();

    warm_up(&engine, questions)?;
    let (mut latencies, answered, one_thread) = time_one_thread(&engine, questions)?;
    let samples = latencies.len();
    let threads = concurrency.max(1);
    let (all_threads, mut concurrent) = time_all_threads(&engine, questions, samples, threads)?;
    concurrent.sort_unstable();
    let peak_rss = proc_status_bytes("VmHWM");
    let embedding = measure_embedding(&engine, questions)?;
    let documents = engine.knowledge.documents.len();
    let passages = engine.knowledge.passages.len();

    let reopen = match &options.index_dir {
        Some(_) => {
            // As in a restarted replica, the first engine is gone before the second loads.
            drop(engine);
            Some(time_reopen(options, &questions[0])?)
        }
        None => None,
    };

    latencies.sort_unstable();
    Ok(BenchReport {
        documents,
        passages,
        index_on_disk: options.index_dir.is_some(),
        questions: questions.len(),
        answered,
        startup,
        first_answer,
        samples,
        p50: percentile(&latencies, 50.0),
        p95: percentile(&latencies, 95.0),
        p99: percentile(&latencies, 99.0),
        max: latencies.last().copied().unwrap_or_default(),
        qps_one_thread: samples as f64 / one_thread.as_secs_f64(),
        threads,
        qps_all_threads: samples as f64 / all_threads.as_secs_f64(),
        concurrent_p50: percentile(&concurrent, 50.0),
        concurrent_p99: percentile(&concurrent, 99.0),
        rss_after_load,
        peak_rss,
        reopen,
        embedding,
        busy: 0,
        stand_in: None,
    })
}

/// Asks the questions once each, for at most [`WARM_UP`], so that caches, the allocator and
/// the page cache of an index on disk are warm before anything is timed.
fn warm_up(engine: &Engine, questions: &[String]) -> anyhow::Result<()> {
    let warm_up = Instant::now();
    for q in questions {
        if warm_up.elapsed() > WARM_UP {
            break;
        }
        black_box(answer::ask(engine, q, 1)?);
    }
    Ok(())
}

/// Times answers one at a time on this thread, going through the questions again and again
/// until every one was asked and there are [`MIN_SAMPLES`] answers or [`TIME_BUDGET`] is
/// spent. Returns the latency of each answer in the order asked, how many of the distinct
/// questions got an answer, and the time it all took.
fn time_one_thread(
    engine: &Engine,
    questions: &[String],
) -> anyhow::Result<(Vec<Duration>, usize, Duration)> {
    let mut latencies = Vec::with_capacity(MIN_SAMPLES.max(questions.len()));
    let mut answered = 0;
    let measured = Instant::now();
    loop {
        let i = latencies.len();
        let q = &questions[i % questions.len()];
        let t = Instant::now();
        let reply = black_box(answer::ask(engine, q, 1)?);
        latencies.push(t.elapsed());
        if i < questions.len() && !reply.answers.is_empty() {
            answered += 1;
        }
        let all_asked = latencies.len() >= questions.len();
        if all_asked && (latencies.len() >= MIN_SAMPLES || measured.elapsed() >= TIME_BUDGET) {
            break;
        }
    }
    Ok((latencies, answered, measured.elapsed()))
}

/// Times the same `samples` answers again, shared out among `threads` threads answering at
/// once, all on one engine as the bot's workers share it. Returns the time taken and the
/// latency of each answer.
fn time_all_threads(
    engine: &Engine,
    questions: &[String],
    samples: usize,
    threads: usize,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let parallel = Instant::now();
    let latencies = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || -> anyhow::Result<Vec<Duration>> {
                    let mut latencies = Vec::new();
                    for i in (t..samples).step_by(threads) {
                        let asked = Instant::now();
                        black_box(answer::ask(engine, &questions[i % questions.len()], 1)?);
                        latencies.push(asked.elapsed());
                    }
                    Ok(latencies)
                })
            })
            .collect();
        workers.into_iter().try_fold(Vec::new(), |mut all, w| {
            let latencies = w
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            all.extend(latencies);
            anyhow::Ok(all)
        })
    })?;
    Ok((parallel.elapsed(), latencies))
}

/// Loads the engine again, with its index already built on disk, and answers `question`:
/// what a restarted replica pays before it can answer.
fn time_reopen(options: &crate::engine::Options, question: &str) -> anyhow::Result<Duration> {
    let t = Instant::now();
    let engine = Engine::load(options)?;
    black_box(answer::ask(&engine, question, 1)?);
    Ok(t.elapsed())
}

/// `1.23 s`, `45.6 ms`, `789 µs`.
fn human_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.01 {
        format!("{:.1} ms", s * 1e3)
    } else if s >= 0.001 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

fn human_bytes(bytes: Option<u64>) -> String {
    match bytes {
        Some(b) => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
        None => "not measured (Linux only)".to_string(),
    }
}

impl BenchReport {
    /// The report as a two-column table.
    pub fn render(&self) -> String {
        let mut rows = self.answering_rows();
        let cpu = format!("{} ({} cores)", cpu_name(), crate::threads::cores());
        rows.insert(0, ("CPU".into(), cpu));
        if self.busy > 0 {
            rows.insert(1, ("busy processes beside".into(), self.busy.to_string()));
        }
        if let Some(reopen) = self.reopen {
            rows.push(("reopen + first answer".into(), human_duration(reopen)));
        }
        if self.embedding.is_empty() {
            rows.push(("meaning layer".into(), "off".into()));
        }
        if let Some(stand_in) = &self.stand_in {
            rows.push((
                "sentence vectors".into(),
                format!(
                    "{} synthetic, standing in (speed and memory only: not embedded)",
                    stand_in.sentences
                ),
            ));
        }
        for e in &self.embedding {
            rows.extend(embedding_rows(e));
        }
        let width = rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (key, value) in rows {
            let _ = writeln!(out, "{key:<width$}  {value}");
        }
        out
    }

    /// The rows of the corpus, start-up, latency, throughput and memory.
    fn answering_rows(&self) -> Vec<(String, String)> {
        let index = if self.index_on_disk {
            "on disk"
        } else {
            "in memory"
        };
        vec![
            ("documents".into(), self.documents.to_string()),
            (
                "passages".into(),
                format!("{} (index {index})", self.passages),
            ),
            (
                "questions".into(),
                format!("{} ({} answered)", self.questions, self.answered),
            ),
            (
                "start-up (load + index)".into(),
                human_duration(self.startup),
            ),
            (
                "first answer".into(),
                format!("{} after process start", human_duration(self.first_answer)),
            ),
            (
                "latency p50".into(),
                format!(
                    "{} ({} answers timed)",
                    human_duration(self.p50),
                    self.samples
                ),
            ),
            ("latency p95".into(), human_duration(self.p95)),
            ("latency p99".into(), human_duration(self.p99)),
            ("latency max".into(), human_duration(self.max)),
            (
                "questions/s, 1 thread".into(),
                format!("{:.0}", self.qps_one_thread),
            ),
            (
                format!("questions/s, {} at once", self.threads),
                format!(
                    "{:.0} ({:.2}x one at a time)",
                    self.qps_all_threads,
                    self.qps_all_threads / self.qps_one_thread.max(f64::MIN_POSITIVE)
                ),
            ),
            (
                format!("latency p50, {} at once", self.threads),
                human_duration(self.concurrent_p50),
            ),
            (
                format!("latency p99, {} at once", self.threads),
                human_duration(self.concurrent_p99),
            ),
            ("memory after load".into(), human_bytes(self.rss_after_load)),
            ("peak memory".into(), human_bytes(self.peak_rss)),
        ]
    }
}

/// The CPU's model name, as the kernel gives it ("unknown" elsewhere): every figure depends
/// on it (AMX or not, AVX-512 or not).
pub(crate) fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")?
                    .split(':')
                    .nth(1)
                    .map(|m| m.trim().to_string())
            })
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The rows of one meaning layer's costs, each named with its model.
fn embedding_rows(e: &EmbeddingFigures) -> Vec<(String, String)> {
    let m = &e.model;
    vec![
        (
            format!("{m}: weights"),
            match e.precision {
                crate::bert::Precision::Int8 => "8-bit (AVX-512 VNNI)".into(),
                crate::bert::Precision::F32 => "f32".into(),
                crate::bert::Precision::Bf16 => "bf16 (AMX tiles)".into(),
            },
        ),
        (
            format!("{m}: embedding sentences/s"),
            format!(
                "{:.0} ({} sentences, batched)",
                e.sentences_per_second, e.sentences_timed
            ),
        ),
        (
            format!("{m}: question embedding p50"),
            format!(
                "{} ({} timed)",
                human_duration(e.question_p50),
                e.questions_timed
            ),
        ),
        (
            format!("{m}: question embedding p99"),
            human_duration(e.question_p99),
        ),
        (
            format!("{m}: sentence vectors"),
            format!(
                "{} ({:.0} bytes a passage)",
                human_bytes(Some(e.vector_bytes as u64)),
                e.bytes_per_passage
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn questions_come_from_the_article_too() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let questions = synthetic_questions(&dir, 5, 2).unwrap();
        assert_eq!(questions.len(), 5);
        assert!(default_questions().unwrap().len() >= 30);
    }

    #[test]
    fn question_files_are_json_lines_or_plain_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.txt");
        std::fs::write(&path, "{\"q\": \"Who?\", \"gold\": []}\n\nWhy not?\n").unwrap();
        assert_eq!(read_questions(&path).unwrap(), ["Who?", "Why not?"]);
        std::fs::write(&path, "{broken\n").unwrap();
        assert!(read_questions(&path)
            .unwrap_err()
            .to_string()
            .contains("line 1"));
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let ms = |n: u64| Duration::from_millis(n);
        let values: Vec<Duration> = (1..=100).map(ms).collect();
        assert_eq!(percentile(&values, 50.0), ms(50));
        assert_eq!(percentile(&values, 95.0), ms(95));
        assert_eq!(percentile(&values, 99.0), ms(99));
        assert_eq!(percentile(&values, 100.0), ms(100));
        assert_eq!(percentile(&values, 0.0), ms(1));
        let few = [ms(1), ms(2), ms(3)];
        assert_eq!(percentile(&few, 50.0), ms(2));
        assert_eq!(percentile(&few, 99.0), ms(3));
        assert_eq!(percentile(&[ms(7)], 95.0), ms(7));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn a_small_run_reports_every_number() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let index = tempfile::tempdir().unwrap();
        let questions = default_questions().unwrap()[..3].to_vec();
        let options = crate::Options {
            index_dir: Some(index.path().to_path_buf()),
            ..crate::Options::new(dir)
        };
        let report = run(&options, &questions, Instant::now(), 2).unwrap();
        assert_eq!((report.documents, report.passages), (1, 17));
        assert!(report.samples >= questions.len());
        assert!(report.p50 <= report.p95 && report.p95 <= report.p99 && report.p99 <= report.max);
        assert!(report.reopen.is_some() && report.qps_all_threads > 0.0);
        let table = report.render();
        assert!(table.contains("latency p99") && table.contains("reopen + first answer"));
        assert_eq!(report.embedding.len(), 2, "both shipped models are timed");
        for e in &report.embedding {
            assert!(e.sentences_per_second > 0.0 && e.question_p50 > Duration::ZERO);
            assert!(table.contains(&format!("{}: question embedding p99", e.model)));
        }
        if cfg!(target_os = "linux") {
            assert!(report.peak_rss >= report.rss_after_load && report.rss_after_load.is_some());
        }
    }
}
