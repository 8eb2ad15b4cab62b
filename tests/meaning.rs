//! The meaning layer as it loads: the engine answers by words while the sentence vectors are
//! made, each layer joins when its vectors are ready, and a knowledge that changes costs only
//! the embedding of its new sentences.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use citebot::embed::ENGLISH_MODEL_DIR;
use citebot::{Engine, Options};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The seed article, with the models that ship, vectors kept in `cache`.
fn options(cache: &Path) -> Options {
    Options {
        cache_dir: Some(cache.to_path_buf()),
        ..Options::new(root().join("knowledge"))
    }
}

/// The seed article with the models that ship and the default cache, which the other tests
/// fill too: what is timed here is when a layer joins, not how long embedding takes.
fn article() -> Options {
    Options::new(root().join("knowledge"))
}

/// A question in other words than the article's: meaning matters for it.
const QUESTION: &str = "Why would Moscow want to be on speaking terms with the Taliban?";

#[test]
fn a_question_asked_while_vectors_are_made_is_answered_by_words_then_by_meaning_too() {
    let (engine, unfinished) = Engine::load_words(&article()).unwrap();
    assert!(!engine.is_semantic());
    let states = engine.joining_now();
    assert_eq!(
        states.len(),
        2,
        "both shipped models are loading: {states:?}"
    );
    assert!(states.iter().all(|s| !s.ready));

    let before = engine.search(QUESTION, 5).unwrap();
    assert!(!before.hits.is_empty(), "answered by words meanwhile");
    assert!(before.hits.iter().all(|h| h.signals.semantic.is_none()));

    unfinished.finish(&engine, &|| true).unwrap();
    assert!(engine.is_semantic());
    let states = engine.joining_now();
    assert!(
        states.iter().all(|s| s.ready && s.done == s.total),
        "{states:?}"
    );
    let after = engine.search(QUESTION, 5).unwrap();
    assert!(
        after.hits.iter().all(|h| h.signals.semantic.is_some()),
        "every hit is scored by meaning now"
    );
    assert!(
        engine.meaning().bridge.is_some(),
        "the multilingual model brings the bridge"
    );
}

#[test]
fn a_stopped_start_keeps_what_it_made_and_the_next_embeds_only_the_rest() {
    let cache = tempfile::tempdir().unwrap();
    let options = Options {
        models: vec![root().join(ENGLISH_MODEL_DIR)],
        ..options(cache.path())
    };
    let (engine, unfinished) = Engine::load_words(&options).unwrap();
    // Told to stop before its first part: nothing is embedded, and no layer joins.
    unfinished.finish(&engine, &|| false).unwrap();
    assert!(!engine.is_semantic(), "told to stop, no layer joined");
    let (done, total) = engine.joining()[0].sentences();
    assert_eq!(done, 0);
    assert!(
        total > 50,
        "the article's sentences were to be embedded: {total}"
    );

    let engine = Engine::load(&options).unwrap();
    assert!(engine.is_semantic());
    assert_eq!(engine.joining()[0].sentences(), (total, total));
    let again = Engine::load(&options).unwrap();
    assert_eq!(
        again.joining()[0].sentences(),
        (0, 0),
        "all kept from before"
    );
}

#[test]
fn in_the_background_the_layers_join_by_themselves() {
    let engine = Engine::load_in_background(&article()).unwrap();
    assert!(!engine.search(QUESTION, 5).unwrap().hits.is_empty());
    let started = Instant::now();
    while !engine.joining_now().iter().all(|s| s.ready) {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the layers never joined: {:?}",
            engine.joining_now()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(engine.is_semantic());
}

/// 40 synthetic documents, one edited: only its new sentences are embedded, by each model.
#[test]
fn editing_one_document_embeds_only_its_new_sentences() {
    let knowledge = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    let info = citebot::bench::write_synthetic_in(knowledge.path(), 40, 40, 7).unwrap();
    let options = Options {
        index_dir: Some(index.path().to_path_buf()),
        cache_dir: None,
        models: vec![root().join(ENGLISH_MODEL_DIR)],
        ..Options::new(knowledge.path())
    };
    let first = Engine::load(&options).unwrap();
    let (done, total) = first.joining()[0].sentences();
    assert_eq!(done, total);
    assert!(
        total >= info.passages,
        "every sentence embedded once: {total}"
    );
    let vectors = first.meaning().layers[0].vectors.clone();
    let passages = first.knowledge.passages.len();
    drop(first);

    let edited = some_document(knowledge.path());
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str(
        "\n\nThis paragraph was added to the document after it had been indexed once. \
         Its two sentences are the only ones the model has never read before.\n",
    );
    std::fs::write(&edited, text).unwrap();
    let second = Engine::load(&options).unwrap();
    assert_eq!(second.knowledge.passages.len(), passages + 1);
    assert_eq!(
        second.joining()[0].sentences(),
        (2, 2),
        "two new sentences, nothing else"
    );
    // The sentences that did not change keep their vectors.
    let after = second.meaning().layers[0].vectors.clone();
    assert_eq!(after.row(0), vectors.row(0));
    assert_eq!(after.len(), vectors.len() + 2);
}

fn some_document(dir: &Path) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files.pop().expect("a synthetic document")
}

/// The article is far below the size where the vectors are indexed: every layer keeps its
/// f32 vectors and every question scans them all, so its answers are what they always were.
#[test]
fn the_article_is_scanned_exactly_not_through_the_index() {
    let engine = Engine::load(&article()).unwrap();
    let semantics = engine.meaning();
    assert!(!semantics.layers.is_empty());
    for layer in &semantics.layers {
        assert!(layer.vectors.len() < citebot::embed::INDEX_FROM);
        assert!(layer.vectors.index().is_none(), "{}", layer.model.name());
    }
    let meaning = engine.understand(QUESTION).unwrap().unwrap();
    assert!(meaning
        .similarities
        .iter()
        .all(|&s| s != citebot::retrieve::Meaning::UNSCORED));
}

/// The engine over `layers` (the article, its index in memory, no synonyms).
fn engine_over(layers: Vec<citebot::engine::MeaningLayer>) -> Engine {
    let knowledge = citebot::knowledge::Knowledge::load(&root().join("knowledge")).unwrap();
    let index = citebot::index::PassageIndex::in_ram(&knowledge).unwrap();
    Engine::with_index(knowledge, Default::default(), index, layers)
}

/// At size each layer is read through its index, which gives only the question's nearest
/// sentences. Forced here over the article with one list scanned of nine, so that it misses
/// most of them: the passages the words propose are then scored by meaning all the same
/// (their own sentences, from their codes), nothing unscored reaches the ranking, and the
/// answer and every hit's meaning are the exact scan's, within the 8-bit rounding.
#[test]
fn through_the_index_every_ranked_passage_still_has_its_own_meaning() {
    use citebot::embed::{Ivf, SentenceVectors};
    use citebot::engine::MeaningLayer;
    use std::sync::Arc;

    let loaded = Engine::load(&article()).unwrap();
    let semantics = loaded.meaning();
    let exact_layers = (semantics.layers.iter())
        .map(|l| MeaningLayer {
            model: Arc::clone(&l.model),
            vectors: Arc::clone(&l.vectors),
        })
        .collect();
    let indexed_layers = (semantics.layers.iter())
        .map(|l| {
            let v = &l.vectors;
            let rows: Vec<f32> = (0..v.len()).flat_map(|r| v.row(r).into_owned()).collect();
            let ivf = Ivf::build(&rows, l.model.dim, [0; 32], 1)
                .unwrap()
                .with_probes(1);
            MeaningLayer {
                model: Arc::clone(&l.model),
                vectors: Arc::new(SentenceVectors::of_index(
                    Arc::new(ivf),
                    v.starts().to_vec(),
                )),
            }
        })
        .collect();
    let exact = engine_over(exact_layers);
    let indexed = engine_over(indexed_layers);

    let questions = [
        QUESTION,
        "Who is Zamir Kabulov?",
        "What did the Taliban promise about drugs?",
        "Почему Россия говорит с талибами?",
    ];
    let mut missed = 0;
    for q in questions {
        let given = indexed.understand(q).unwrap().unwrap();
        missed += (given.similarities.iter())
            .filter(|&&s| s == citebot::retrieve::Meaning::UNSCORED)
            .count();
        let a = exact.search(q, 10).unwrap();
        let b = indexed.search(q, 10).unwrap();
        assert!(!b.hits.is_empty(), "{q}");
        assert_eq!(a.best, b.best, "{q}");
        for hit in &b.hits {
            let near = hit
                .signals
                .semantic
                .expect("every hit is scored by meaning");
            let same = a.hits.iter().find(|h| h.passage == hit.passage);
            if let Some(same) = same {
                let exact_near = same.signals.semantic.unwrap();
                assert!(
                    (near - exact_near).abs() < 0.02,
                    "{q}: passage {} {near} against {exact_near}",
                    hit.passage
                );
            }
        }
    }
    assert!(missed > 0, "one list of nine leaves sentences out");
}

/// The files a build's folder under `index_dir` holds whose names start with `prefix`.
fn kept_files(index_dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for build in std::fs::read_dir(index_dir).unwrap().flatten() {
        if !build.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(build.path()).unwrap().flatten() {
            if file.file_name().to_string_lossy().starts_with(prefix) {
                found.push(file.path());
            }
        }
    }
    found
}

#[test]
fn what_the_knowledge_alone_decides_is_kept_beside_the_index_and_read_back() {
    let index = tempfile::tempdir().unwrap();
    // The vectors the other tests made, where this engine keeps its own: nothing is
    // embedded again (a record a test is writing meanwhile is dropped, and made again).
    let vectors = index.path().join("vectors");
    std::fs::create_dir_all(&vectors).unwrap();
    if let Some(Ok(cached)) = citebot::embed::default_cache_dir().map(std::fs::read_dir) {
        for file in cached.flatten() {
            let _ = std::fs::copy(file.path(), vectors.join(file.file_name()));
        }
    }
    let options = Options {
        index_dir: Some(index.path().to_path_buf()),
        ..article()
    };
    let first = Engine::load(&options).unwrap();
    let summary = first.summary(0);
    assert!(summary.len() >= 3, "{summary:?}");
    drop(first);
    let summaries = kept_files(index.path(), "citebot-summaries-");
    let [summaries] = &summaries[..] else {
        panic!("one summaries file: {summaries:?}");
    };
    assert_eq!(kept_files(index.path(), "citebot-bridge-words-").len(), 1);

    // Read back, not made again: a kept summary of two of the sentences is the one used.
    let kept = std::fs::read_to_string(summaries).unwrap();
    let mut shorter: serde_json::Value = serde_json::from_str(&kept).unwrap();
    shorter[0].as_array_mut().unwrap().truncate(2);
    std::fs::write(summaries, shorter.to_string()).unwrap();
    assert_eq!(Engine::load(&options).unwrap().summary(0), summary[..2]);

    // A damaged file, or one naming sentences the knowledge does not have, is made again.
    for damaged in ["{not json", r#"[[{"passage":100000,"sentence":0}]]"#] {
        std::fs::write(summaries, damaged).unwrap();
        assert_eq!(Engine::load(&options).unwrap().summary(0), summary);
        assert_eq!(std::fs::read_to_string(summaries).unwrap(), kept);
    }
}
