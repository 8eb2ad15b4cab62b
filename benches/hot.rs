//! The hot path of a question, step by step, on the real article: analysing the question,
//! searching and ranking, cutting the excerpt, and rendering the reply. `cargo bench --bench
//! hot` measures them; `citebot::bench` measures the whole at any corpus size.
//!
//! Each step runs on questions of different shapes, because they take different paths: synonym
//! expansion ("US" also searches "United States", ...), typo correction (a fuzzy walk of the
//! term dictionary), and a question the article does not answer.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

use citebot::answer::{self, Reply};
use citebot::lang::Lang;
use citebot::rank::MAX_EXCERPT_CHARS;
use citebot::render::{self, Style};
use citebot::Engine;

const QUESTIONS: &[(&str, &str)] = &[
    ("plain", "Who is Khalifa Haftar?"),
    ("synonyms", "What did Kabulov say about a US withdrawal?"),
    ("typos", "what did kabulov say abut withdrawl"),
    ("no answer", "What is the capital of France?"),
];

fn engine() -> Engine {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    Engine::load(&citebot::Options::new(dir)).expect("the article loads")
}

fn analyse_and_search(c: &mut Criterion) {
    let engine = engine();
    let mut group = c.benchmark_group("analyse");
    for (shape, q) in QUESTIONS {
        group.bench_with_input(BenchmarkId::from_parameter(shape), q, |b, q| {
            b.iter(|| engine.analyse(black_box(q)))
        });
    }
    group.finish();

    // Search includes the analysis: the difference is retrieval and ranking.
    let mut group = c.benchmark_group("search");
    for (shape, q) in QUESTIONS {
        group.bench_with_input(BenchmarkId::from_parameter(shape), q, |b, q| {
            b.iter(|| engine.search(black_box(q), 3).expect("search"))
        });
    }
    group.finish();

    // The whole question, as the bot asks it.
    let mut group = c.benchmark_group("ask");
    for (shape, q) in QUESTIONS {
        group.bench_with_input(BenchmarkId::from_parameter(shape), q, |b, q| {
            b.iter(|| answer::ask(&engine, black_box(q), 1).expect("ask"))
        });
    }
    group.finish();
}

fn excerpt(c: &mut Criterion) {
    let engine = engine();
    let (_, question) = QUESTIONS[1];
    let results = engine.search(question, 1).expect("search");
    let hit = results.hits.first().expect("the article answers it");
    // The marks as `ask` makes them: sorted and merged, as `excerpt` expects them.
    let reply = answer::explain(&engine, question, &results, 1);
    let full = &reply.answers[0].full;
    let sentences = &engine.passage(hit).sentences[hit.window.clone()];
    let window = sentences[0].start..sentences[sentences.len() - 1].end;
    let whole = 0..full.text.len();

    let mut group = c.benchmark_group("excerpt");
    // The window the ranking chose, as `ask` cuts it: usually short enough to keep whole.
    group.bench_function("best window", |b| {
        b.iter(|| {
            answer::excerpt(
                black_box(&full.text),
                window.clone(),
                &full.marks,
                MAX_EXCERPT_CHARS,
            )
        })
    });
    // The whole paragraph, longer than the limit: the cut around the marked words.
    group.bench_function("whole passage", |b| {
        b.iter(|| {
            answer::excerpt(
                black_box(&full.text),
                whole.clone(),
                &full.marks,
                MAX_EXCERPT_CHARS,
            )
        })
    });
    group.finish();
}

fn render(c: &mut Criterion) {
    let engine = engine();
    let reply: Reply = answer::ask(&engine, QUESTIONS[1].1, 3).expect("ask");
    let first = reply.answers.first().expect("the article answers it");
    let mut group = c.benchmark_group("render");
    group.bench_function("answer html", |b| {
        b.iter(|| render::answer_html(black_box(first), Some(Lang::En)))
    });
    group.bench_function("full passage html", |b| {
        b.iter(|| render::full_html(black_box(first), Some(Lang::En)))
    });
    group.bench_function("reply plain, 3 answers", |b| {
        b.iter(|| render::reply_plain(black_box(&reply), &engine, Style::Stars, Lang::En))
    });
    group.finish();
}

criterion_group! {
    name = hot;
    // Every step takes microseconds: a second per benchmark gives tight intervals, and the
    // whole run stays under a minute. `--quick` and `--measurement-time` still apply.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1));
    targets = analyse_and_search, excerpt, render
}
criterion_main!(hot);
