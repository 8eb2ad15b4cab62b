//! `citebot bench --synthetic N --stand-in-vectors`: the whole question path at sizes whose
//! sentences would take hours to embed on two cores (a million: about 80 minutes for e5 and
//! 40 for MiniLM). Each model's index of the corpus's sentence vectors is written where the
//! engine keeps it, built from synthetic clustered vectors instead of embedded sentences,
//! and tagged as the model's vectors of those very sentences, so the engine reopens it as it
//! would its own. Everything else is real: the knowledge, its word index, the bridge's
//! words, each question embedded by the model and searched in the index, the ranking.
//!
//! What this measures is speed and memory. What meaning finds in such vectors is noise, so
//! the answers' quality at that size is not measured here; the report says so.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::embed::{self, Ivf, Model};
use crate::engine::Options;
use crate::knowledge::Knowledge;

/// Vectors per centre of the synthetic mixture, and their spread: as `--vectors` uses.
const PER_CENTRE: usize = 200;
const SPREAD: f32 = 1.0;

/// What [`write`] did.
#[derive(Debug, Clone)]
pub struct StandIn {
    pub sentences: usize,
    /// Per model: its name, and how long writing its index took (`None`: one was there).
    pub models: Vec<(String, Option<Duration>)>,
}

impl StandIn {
    /// One line for the terminal: what stands in, and what was built.
    pub fn describe(&self) -> String {
        let models: Vec<String> = (self.models.iter())
            .map(|(name, took)| match took {
                Some(took) => format!("{name} built in {:.1} s", took.as_secs_f64()),
                None => format!("{name} kept"),
            })
            .collect();
        format!(
            "stand-in vectors: {} synthetic vectors for the sentences, not embedded ({})",
            self.sentences,
            models.join(", ")
        )
    }
}

/// Writes, for every model of `options`, the index of synthetic vectors standing in for its
/// vectors of every sentence of the knowledge, unless it is there already. The knowledge
/// must be large enough for the engine to use an index (`embed::INDEX_FROM` sentences) and
/// `options` must keep vectors somewhere (`INDEX_DIR` or the cache).
pub fn write(options: &Options, seed: u64) -> anyhow::Result<StandIn> {
    let dir = options.vectors_dir().context(
        "--stand-in-vectors: the vectors need a folder (INDEX_DIR, or CACHE_DIR not off)",
    )?;
    anyhow::ensure!(
        !options.models.is_empty(),
        "--stand-in-vectors: the meaning layer is off (SEMANTIC=off)"
    );
    let knowledge = Knowledge::load_limited(&options.knowledge_dir, options.max_document_mb)?;
    let (texts, _) = embed::sentence_texts(&knowledge);
    anyhow::ensure!(
        texts.len() >= embed::INDEX_FROM,
        "--stand-in-vectors: {} sentences; below {} the engine scans its vectors exactly, \
         so embed them (leave the flag out)",
        texts.len(),
        embed::INDEX_FROM
    );
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut models = Vec::new();
    for (i, model_dir) in options.models.iter().enumerate() {
        let model = Model::shared(model_dir)?;
        let file = dir.join(embed::index_file_name(&model));
        let key = embed::index_key(&model, &texts);
        let took = write_one(&file, key, model.dim, texts.len(), seed ^ i as u64)?;
        models.push((model.name(), took));
    }
    Ok(StandIn {
        sentences: texts.len(),
        models,
    })
}

/// One model's index of `n` synthetic vectors in `file`, tagged `key`: `None` when one built
/// from that key is there already, else how long building and writing it took.
fn write_one(
    file: &Path,
    key: [u8; 32],
    dim: usize,
    n: usize,
    seed: u64,
) -> anyhow::Result<Option<Duration>> {
    if matches!(Ivf::open(file, &key), Ok(Some(kept)) if kept.len() == n) {
        return Ok(None);
    }
    let started = Instant::now();
    let rows = embed::clustered(n, dim, (n / PER_CENTRE).max(8), SPREAD, seed);
    // `open_or_build` builds (the file holds no index of this key) and writes it.
    Ivf::open_or_build(Some(file), key, dim, &rows)?;
    Ok(Some(started.elapsed()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;

    #[test]
    fn the_engine_reopens_the_stand_in_index_as_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let knowledge = dir.path().join("knowledge");
        // About 8 sentences a passage: past the size where the engine uses an index.
        let passages = embed::INDEX_FROM / 8 + 100;
        super::super::write_synthetic_in(&knowledge, passages, 10, 7).unwrap();
        let options = Options {
            models: vec![embed::shipped(embed::ENGLISH_MODEL_DIR)],
            cache_dir: Some(dir.path().join("vectors")),
            ..Options::new(&knowledge)
        };
        let written = write(&options, 1).unwrap();
        assert!(written.sentences >= embed::INDEX_FROM, "{written:?}");
        assert!(written.models[0].1.is_some(), "built: {written:?}");
        // Written once: asked again, it is found.
        assert!(write(&options, 1).unwrap().models[0].1.is_none());

        // The engine embeds nothing: it reads the index as its layer's vectors.
        let engine = Engine::load(&options).unwrap();
        let meaning = engine.meaning();
        assert_eq!(meaning.layers.len(), 1);
        let vectors = &meaning.layers[0].vectors;
        assert_eq!(vectors.len(), written.sentences);
        assert!(vectors.index().is_some(), "held in the index");
        let store = dir.path().join("vectors");
        let embedded = std::fs::read_dir(&store)
            .unwrap()
            .filter_map(Result::ok)
            .any(|f| f.file_name().to_string_lossy().starts_with("vectors"));
        assert!(!embedded, "no sentence was embedded");
    }

    #[test]
    fn a_small_knowledge_or_no_folder_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        super::super::write_synthetic_in(dir.path(), 50, 2, 7).unwrap();
        let options = Options {
            cache_dir: Some(dir.path().join("vectors")),
            ..Options::new(dir.path())
        };
        let small = write(&options, 1).unwrap_err().to_string();
        assert!(small.contains("below 20000"), "{small}");
        let nowhere = Options {
            cache_dir: None,
            ..options
        };
        let nowhere = write(&nowhere, 1).unwrap_err().to_string();
        assert!(nowhere.contains("INDEX_DIR"), "{nowhere}");
    }
}
