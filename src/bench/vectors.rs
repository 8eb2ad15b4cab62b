//! `citebot bench --vectors N`: the meaning layer's vector search at sizes no knowledge at
//! hand reaches (embedding a million sentences takes hours on two cores), on synthetic
//! vectors: for each of two layers (two models, as citebot runs), N unit vectors of 384
//! numbers clustered around random centres (a Gaussian mixture, so that a vector has
//! neighbours and recall means something). They are not sentences of any text: the figures
//! are the search's speed, memory and recall on such vectors, said so in the output.
//!
//! Measured: the index's build time; a question's search, by the exact f32 scan (what
//! citebot does below [`crate::embed::INDEX_FROM`]) and by the index, side by side; recall@10
//! of the index against the exact scan, on questions that are rows moved a little at random;
//! the 8-bit codes' cosine error (a scale per vector against one for all); resident memory
//! with both layers' indexes held; writing them and reading them back. Then, on real
//! vectors: the knowledge at hand (the article) embedded by each model, its questions
//! embedded where questions run (timed), and the recall of an index forced over its few
//! hundred sentences.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::embed::{self, CodeError, Ivf, SentenceVectors};
use crate::engine::{Engine, Options};

/// The width of both models' vectors.
const DIM: usize = 384;
/// Noise around a centre: a vector's cosine with its centre is about 0.7, two of one centre
/// about 0.5, two of different centres about 0 (as related and unrelated sentences are for
/// all-MiniLM-L6-v2).
const SPREAD: f32 = 1.0;
/// Vectors per centre.
const PER_CENTRE: usize = 200;
/// Questions timed per layer.
const QUESTIONS: usize = 200;
/// How far a question is moved from the row it is made from (cosine with it about 0.9).
const MOVE: f32 = 0.5;

/// What `citebot bench --vectors` measured.
#[derive(Debug, Clone)]
pub struct VectorReport {
    pub vectors: usize,
    pub lists: usize,
    pub probes: usize,
    pub centres: usize,
    /// Building each layer's index from its f32 vectors.
    pub build: Vec<Duration>,
    pub exact_p50: Duration,
    pub exact_p99: Duration,
    pub index_p50: Duration,
    pub index_p99: Duration,
    pub recall_at_10: f64,
    pub code_error: CodeError,
    /// Resident memory before the vectors, and with both layers' indexes held.
    pub rss_before: Option<u64>,
    pub rss_held: Option<u64>,
    pub index_bytes: usize,
    pub file_bytes: u64,
    pub save: Duration,
    pub reopen: Duration,
    /// On the knowledge at hand, per model.
    pub real: Vec<RealFigures>,
    pub real_error: Option<String>,
    /// The engine's own work around the index for a question, p99.
    pub bookkeeping: Duration,
}

/// One model on the knowledge at hand.
#[derive(Debug, Clone)]
pub struct RealFigures {
    pub model: String,
    pub sentences: usize,
    pub questions: usize,
    pub lists: usize,
    pub probes: usize,
    pub recall_at_10: f64,
    pub code_error: CodeError,
    /// Embedding a question where questions run (`embed_one`, on the asking thread).
    pub embed_p50: Duration,
    pub embed_p99: Duration,
}

/// Runs the bench at `n` vectors a layer, scanning `probes` lists (default: by size);
/// `options` is the knowledge at hand, for the figures on real vectors.
pub fn run(
    n: usize,
    probes: Option<usize>,
    seed: u64,
    options: &Options,
) -> anyhow::Result<VectorReport> {
    anyhow::ensure!(n >= 100, "--vectors: at least 100");
    let rss_before = super::proc_status_bytes("VmRSS");
    // The models and the knowledge at hand stay loaded through the measurement, so that the
    // memory held is the whole process's, as a bot at this size would hold it.
    let (real, real_error, engine) = match real_figures(options) {
        Ok((real, engine)) => (real, None, Some(engine)),
        Err(e) => (Vec::new(), Some(format!("{e:#}")), None),
    };
    let centres = (n / PER_CENTRE).max(8);
    let mut build = Vec::new();

    // The first layer: built, then measured against its f32 vectors.
    let rows = embed::clustered(n, DIM, centres, SPREAD, seed);
    let code_error = embed::code_error(&rows, DIM, 2000);
    let t = Instant::now();
    let first = Ivf::build(&rows, DIM, key(seed, n, 0), seed)?;
    build.push(t.elapsed());
    let first = match probes {
        Some(p) => first.with_probes(p),
        None => first,
    };
    let exact = SentenceVectors::from_flat(DIM, rows, vec![0, n as u32]);
    let noise = embed::clustered(QUESTIONS, DIM, QUESTIONS, 0.0, seed ^ 0xabcd);
    let (exact_times, index_times, found) = search_times(&exact, &first, &noise);
    drop(exact);

    // The second layer (another model's vectors): built, and held beside the first.
    let rows = embed::clustered(n, DIM, centres, SPREAD, seed.wrapping_add(1));
    let t = Instant::now();
    let second = Ivf::build(&rows, DIM, key(seed, n, 1), seed)?;
    build.push(t.elapsed());
    drop(rows);
    let rss_held = super::proc_status_bytes("VmRSS");
    let index_bytes = first.heap_bytes() + second.heap_bytes();

    let (lists, probes) = (first.lists(), first.probes());
    let (save, file_bytes, reopen) = kept_and_read_back([first, second], seed, n, &noise)?;
    drop(engine);
    let bookkeeping = bookkeeping(n);

    Ok(VectorReport {
        vectors: n,
        lists,
        probes,
        centres,
        build,
        exact_p50: super::percentile(&exact_times, 50.0),
        exact_p99: super::percentile(&exact_times, 99.0),
        index_p50: super::percentile(&index_times, 50.0),
        index_p99: super::percentile(&index_times, 99.0),
        recall_at_10: found as f64 / (QUESTIONS * 10) as f64,
        code_error,
        rss_before,
        rss_held,
        index_bytes,
        file_bytes,
        save,
        reopen,
        real,
        real_error,
        bookkeeping,
    })
}

/// Each question's search by the exact scan of `exact` and by `index`, sorted, and how many
/// of the exact scan's ten best the index found: the questions are rows moved by `noise`.
fn search_times(
    exact: &SentenceVectors,
    index: &Ivf,
    noise: &[f32],
) -> (Vec<Duration>, Vec<Duration>, usize) {
    let n = exact.len();
    let (mut exact_times, mut index_times) = (Vec::new(), Vec::new());
    let mut found = 0usize;
    for i in 0..QUESTIONS {
        let row = (i * 7_919 + 13) % n;
        let q = moved(&exact.row(row), &noise[i * DIM..(i + 1) * DIM]);
        let t = Instant::now();
        let scores = exact.similarities(&q);
        let truth = embed::best_of(&scores, 10);
        exact_times.push(t.elapsed());
        let t = Instant::now();
        let got = black_box(index.nearest(&q, embed::TOP_ROWS));
        index_times.push(t.elapsed());
        found += (truth.iter())
            .filter(|(r, _)| got.iter().take(10).any(|(g, _)| g == r))
            .count();
    }
    exact_times.sort_unstable();
    index_times.sort_unstable();
    (exact_times, index_times, found)
}

/// Both layers' indexes kept in files and read back, as a restart does (checked to answer as
/// before): the time to write them, their size, and the time to read them back.
fn kept_and_read_back(
    layers: [Ivf; 2],
    seed: u64,
    n: usize,
    noise: &[f32],
) -> anyhow::Result<(Duration, u64, Duration)> {
    let dir = std::env::temp_dir().join(format!("citebot-bench-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let files: Vec<PathBuf> = (0..2).map(|i| dir.join(format!("index-{i}.bin"))).collect();
    let t = Instant::now();
    for (layer, file) in layers.iter().zip(&files) {
        layer.save(file)?;
    }
    let save = t.elapsed();
    let file_bytes = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let probes = layers[0].probes();
    let check = moved(&layers[0].row(0), &noise[..DIM]);
    let before = layers[0].nearest(&check, 10);
    drop(layers);
    let t = Instant::now();
    let reopened: Vec<Ivf> = [(0, &files[0]), (1, &files[1])]
        .into_iter()
        .map(|(i, f)| Ivf::open(f, &key(seed, n, i))?.context("the index just kept"))
        .collect::<anyhow::Result<_>>()?;
    let reopen = t.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(
        reopened[0].clone().with_probes(probes).nearest(&check, 10) == before,
        "the index read back answers otherwise"
    );
    Ok((save, file_bytes, reopen))
}

/// What the engine does around the index for one question at `n` sentences (5 a passage):
/// a cosine per sentence, unscored but the index's rows, and the passages nearest in
/// meaning read from them (`Meaning::nearest`), p99 over 50 rounds.
fn bookkeeping(n: usize) -> Duration {
    use crate::retrieve::Meaning;
    let starts: Vec<u32> = (0..=n.div_ceil(5)).map(|p| (p * 5).min(n) as u32).collect();
    let mut times = Vec::new();
    for round in 0..50 {
        let t = Instant::now();
        let mut similarities = vec![Meaning::UNSCORED; n];
        for i in 0..embed::TOP_ROWS {
            similarities[(i * 7_919 + round) % n] = 0.5;
        }
        let meaning = Meaning {
            similarities,
            starts: starts.clone(),
        };
        black_box(meaning.nearest(10));
        times.push(t.elapsed());
    }
    times.sort_unstable();
    super::percentile(&times, 99.0)
}

/// What the synthetic index of layer `layer` is built from.
fn key(seed: u64, n: usize, layer: u64) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(n as u64).to_le_bytes());
    key[16..24].copy_from_slice(&layer.to_le_bytes());
    key
}

/// `row` moved by `MOVE` along `noise` (a random unit vector), at unit length.
fn moved(row: &[f32], noise: &[f32]) -> Vec<f32> {
    let mut q: Vec<f32> = row.iter().zip(noise).map(|(x, n)| x + MOVE * n).collect();
    let norm = q.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    q.iter_mut().for_each(|x| *x /= norm);
    q
}

/// Each model on the knowledge at hand: its sentences' vectors (the cache's, or embedded),
/// its questions embedded where questions run, and an index forced over the sentences.
fn real_figures(options: &Options) -> anyhow::Result<(Vec<RealFigures>, Engine)> {
    let engine = Engine::load(options)?;
    let questions = super::default_questions()?;
    let semantics = engine.meaning();
    anyhow::ensure!(!semantics.layers.is_empty(), "no meaning layer");
    let mut out = Vec::new();
    for layer in &semantics.layers {
        let dim = layer.model.dim;
        let vectors = &layer.vectors;
        let rows: Vec<f32> = (0..vectors.len())
            .flat_map(|r| vectors.row(r).into_owned())
            .collect();
        let index = Ivf::build(&rows, dim, [0; 32], 1)?;
        let mut times = Vec::new();
        let mut found = 0usize;
        let mut asked = 0usize;
        for q in &questions {
            // The English model reads English only.
            if !layer.model.serves(
                crate::lang::Lang::detect(q).unwrap_or_default(),
                crate::lang::Lang::En,
            ) {
                continue;
            }
            let t = Instant::now();
            let v = layer.model.embed_one(q)?;
            times.push(t.elapsed());
            let truth = embed::exact_nearest(&rows, dim, &v, 10);
            let got = index.nearest(&v, 10);
            found += (truth.iter())
                .filter(|(r, _)| got.iter().any(|(g, _)| g == r))
                .count();
            asked += 1;
        }
        times.sort_unstable();
        out.push(RealFigures {
            model: layer.model.name(),
            sentences: vectors.len(),
            questions: asked,
            lists: index.lists(),
            probes: index.probes(),
            recall_at_10: found as f64 / (asked.max(1) * 10.min(vectors.len())) as f64,
            code_error: embed::code_error(&rows, dim, 2000),
            embed_p50: super::percentile(&times, 50.0),
            embed_p99: super::percentile(&times, 99.0),
        });
    }
    drop(semantics);
    Ok((out, engine))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / (1u64 << 20) as f64)
}

impl VectorReport {
    pub fn render(&self) -> String {
        let mut s = String::new();
        let cpu = super::cpu_name();
        let _ = writeln!(
            s,
            "vector search at {} sentences a layer, 2 layers of {DIM} numbers; CPU {cpu}, {} cores",
            self.vectors,
            crate::threads::cores()
        );
        let _ = writeln!(
            s,
            "SYNTHETIC vectors: {} random centres, {PER_CENTRE} unit vectors each (not sentences of any text);",
            self.centres
        );
        let _ = writeln!(
            s,
            "questions: {QUESTIONS} rows moved at random (cosine with the row about 0.9)"
        );
        let _ = writeln!(
            s,
            "index: {} lists, {} probed a question, {} rows rescored",
            self.lists,
            self.probes,
            embed::TOP_ROWS
        );
        let builds: Vec<String> = self
            .build
            .iter()
            .map(|d| format!("{:.1} s", d.as_secs_f64()))
            .collect();
        let _ = writeln!(s, "  build, each layer        {}", builds.join(", "));
        let _ = writeln!(
            s,
            "  search p50 / p99         exact f32 scan {} / {}   index {} / {}",
            ms(self.exact_p50),
            ms(self.exact_p99),
            ms(self.index_p50),
            ms(self.index_p99)
        );
        let _ = writeln!(s, "  recall@10 vs exact       {:.3}", self.recall_at_10);
        let _ = writeln!(
            s,
            "  engine around the index  {} p99 (a cosine per sentence, the nearest passages)",
            ms(self.bookkeeping)
        );
        let e = &self.code_error;
        let _ = writeln!(
            s,
            "  8-bit cosine error       per-vector scale max {:.5} mean {:.5}; one global scale max {:.5} mean {:.5}",
            e.per_vector_max, e.per_vector_mean, e.global_max, e.global_mean
        );
        if let (Some(before), Some(held)) = (self.rss_before, self.rss_held) {
            let _ = writeln!(
                s,
                "  resident memory          {} with both indexes, both models and the knowledge at hand ({} at start; the indexes hold {})",
                mib(held),
                mib(before),
                mib(self.index_bytes as u64)
            );
        }
        let _ = writeln!(
            s,
            "  kept on disk             {} written in {:.2} s, read back in {:.2} s (both layers)",
            mib(self.file_bytes),
            self.save.as_secs_f64(),
            self.reopen.as_secs_f64()
        );
        s + &self.render_real()
    }

    /// The lines of the figures on the knowledge at hand.
    fn render_real(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "real vectors: the knowledge at hand, an index forced over it"
        );
        if let Some(e) = &self.real_error {
            let _ = writeln!(s, "  unavailable: {e}");
        }
        for r in &self.real {
            let _ = writeln!(
                s,
                "  {}: {} sentences, {} lists ({} probed); recall@10 {:.3} on {} questions; 8-bit cosine error max {:.5} (global scale {:.5}); question embedded where questions run p50 {} p99 {}",
                r.model,
                r.sentences,
                r.lists,
                r.probes,
                r.recall_at_10,
                r.questions,
                r.code_error.per_vector_max,
                r.code_error.global_max,
                ms(r.embed_p50),
                ms(r.embed_p99)
            );
        }
        s
    }
}
